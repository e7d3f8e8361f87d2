# Every route is authenticated by the JWT authorizer and requires its one scope; the API is
# throttled and logged.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock/invocations"
    }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:mock"
      api_endpoint  = "https://mock.execute-api.eu-west-1.amazonaws.com"
    }
  }
}

variables {
  role_arn    = "arn:aws:iam::123456789012:role/cameo-api"
  environment = { CAMEO_RAW_BUCKET = "raw", CAMEO_PROCESSED_BUCKET = "processed", CAMEO_TABLE = "MovieEntities" }
}

run "every_route_needs_a_jwt_and_its_scope" {
  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "JWT" && r.authorizer_id == aws_apigatewayv2_authorizer.jwt.id && length(r.authorization_scopes) >= 1])
    error_message = "Every route is behind the JWT authorizer and requires a scope."
  }

  # Written out by hand, so a route added to the Lambda, or a scope changed, shows here.
  assert {
    condition = jsonencode({ for key, r in aws_apigatewayv2_route.this : key => sort(tolist(r.authorization_scopes)) }) == jsonencode({
      "POST /videos"                               = ["cameo/upload"]
      "GET /videos"                                = ["cameo/read"]
      "GET /library"                               = ["cameo/read"]
      "GET /videos/{id}"                           = ["cameo/read"]
      "DELETE /videos/{id}"                        = ["cameo/curate"]
      "POST /videos/{id}/complete"                 = ["cameo/upload"]
      "GET /videos/{id}/upload"                    = ["cameo/upload"]
      "DELETE /videos/{id}/upload"                 = ["cameo/upload"]
      "POST /videos/{id}/analyse"                  = ["cameo/curate", "cameo/upload"]
      "GET /videos/{id}/result"                    = ["cameo/read"]
      "GET /videos/{id}/faces"                     = ["cameo/read"]
      "GET /videos/{id}/media"                     = ["cameo/read"]
      "GET /videos/{id}/exports"                   = ["cameo/read"]
      "GET /actors/{name}/videos"                  = ["cameo/read"]
      "GET /results/latest"                        = ["cameo/read"]
      "GET /people"                                = ["cameo/read"]
      "POST /people"                               = ["cameo/curate"]
      "GET /people/{personId}"                     = ["cameo/read"]
      "PATCH /people/{personId}"                   = ["cameo/curate"]
      "DELETE /people/{personId}"                  = ["cameo/curate"]
      "POST /people/{personId}/merge"              = ["cameo/curate"]
      "POST /people/{personId}/photos"             = ["cameo/curate"]
      "DELETE /people/{personId}/photos/{photoId}" = ["cameo/curate"]
      "GET /people/{personId}/curation"            = ["cameo/read"]
      "GET /videos/{id}/curation"                  = ["cameo/read"]
      "POST /videos/{id}/curation"                 = ["cameo/curate"]
      "POST /videos/{id}/curation/{seq}/undo"      = ["cameo/curate"]
      "GET /videos/{id}/suggestions"               = ["cameo/curate"]
      "GET /people/{personId}/suggestions"         = ["cameo/curate"]
      "GET /review"                                = ["cameo/curate"]
    })
    error_message = "Each route of the Lambda exists with its scope: read for state, results, people, faces and corrections, upload for uploads, curate for people, photos, corrections, suggestions and erasing."
  }

  assert {
    condition     = alltrue([for key, r in aws_apigatewayv2_route.this : r.route_key == key]) && !contains(keys(aws_apigatewayv2_route.this), "$default")
    error_message = "Only the API's own routes exist: nothing else reaches the Lambda."
  }

  # Every route of the API, the app's included, by how it is authorised: the unauthenticated
  # ones are exactly the app's files and settings.
  assert {
    condition = sort([
      for r in concat(values(aws_apigatewayv2_route.this), values(aws_apigatewayv2_route.app)) : r.route_key if r.authorization_type != "JWT"
    ]) == sort(["GET /", "GET /app", "GET /app/{proxy+}"])
    error_message = "Only the web app's routes (/, /app, /app/{proxy+}) are reachable without a token."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.app : r.authorization_type == "NONE" && r.authorizer_id == null && length(coalesce(r.authorization_scopes, [])) == 0 && r.target == "integrations/${aws_apigatewayv2_integration.lambda.id}"])
    error_message = "The app's routes go to the Lambda, with no authorizer and no scope."
  }

  assert {
    condition     = jsonencode(output.scopes) == jsonencode({ curate = "cameo/curate", read = "cameo/read", upload = "cameo/upload" }) && jsonencode({ for key, scopes in output.route_scopes : key => sort(scopes) }) == jsonencode({ for key, r in aws_apigatewayv2_route.this : key => sort(tolist(r.authorization_scopes)) })
    error_message = "The module says which scopes exist and which route needs which."
  }

  assert {
    condition     = aws_cognito_user_pool.this[0].admin_create_user_config[0].allow_admin_create_user_only
    error_message = "Without an issuer, a Cognito pool whose users only an administrator creates."
  }

  assert {
    condition     = one(aws_apigatewayv2_authorizer.jwt.jwt_configuration).audience == toset([aws_cognito_user_pool_client.this[0].id])
    error_message = "Cognito's tokens are accepted for its app client only."
  }
}

run "cognito_issues_the_scopes_by_the_code_flow" {
  assert {
    condition = (
      aws_cognito_resource_server.this[0].identifier == "cameo"
      && jsonencode(sort([for s in aws_cognito_resource_server.this[0].scope : s.scope_name])) == jsonencode(["curate", "read", "upload"])
    )
    error_message = "The resource server cameo defines read, upload and curate."
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this[0].allowed_oauth_flows_user_pool_client
      && aws_cognito_user_pool_client.this[0].allowed_oauth_flows == toset(["code"])
      && aws_cognito_user_pool_client.this[0].allowed_oauth_scopes == toset(["cameo/read", "cameo/upload", "cameo/curate", "openid", "email"])
      && aws_cognito_user_pool_client.this[0].supported_identity_providers == toset(["COGNITO"])
      && !aws_cognito_user_pool_client.this[0].generate_secret
    )
    error_message = "A public client signs the pool's users in by the authorization code grant and may be given every scope."
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this[0].callback_urls == toset(["https://mock.execute-api.eu-west-1.amazonaws.com/app/"])
      && aws_cognito_user_pool_client.this[0].logout_urls == toset(["https://mock.execute-api.eu-west-1.amazonaws.com/app/"])
    )
    error_message = "Without app_urls, sign-in returns to the app the API serves."
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this[0].access_token_validity == 1
      && aws_cognito_user_pool_client.this[0].refresh_token_validity == 30
      && one(aws_cognito_user_pool_client.this[0].token_validity_units).access_token == "hours"
      && one(aws_cognito_user_pool_client.this[0].token_validity_units).refresh_token == "days"
    )
    error_message = "Access tokens last an hour, refresh tokens 30 days."
  }

  assert {
    condition     = aws_cognito_user_pool_domain.this[0].domain == "cameo-api" && output.cognito_domain == "https://cameo-api.auth.eu-west-1.amazoncognito.com"
    error_message = "The hosted sign-in domain is named after the API by default."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["CAMEO_SIGN_IN_CLIENT_ID"] == aws_cognito_user_pool_client.this[0].id
      && aws_lambda_function.this.environment[0].variables["CAMEO_SIGN_IN_AUTHORIZE_URL"] == "https://cameo-api.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
      && aws_lambda_function.this.environment[0].variables["CAMEO_SIGN_IN_TOKEN_URL"] == "https://cameo-api.auth.eu-west-1.amazoncognito.com/oauth2/token"
      && aws_lambda_function.this.environment[0].variables["CAMEO_SIGN_IN_LOGOUT_URL"] == "https://cameo-api.auth.eu-west-1.amazoncognito.com/logout"
      && aws_lambda_function.this.environment[0].variables["CAMEO_RAW_BUCKET"] == "raw"
    )
    error_message = "The Lambda tells the app (GET /app/config.json) Cognito's client and endpoints, beside the rest of its configuration."
  }

  assert {
    condition = (
      one(aws_apigatewayv2_api.this.cors_configuration) == null
    )
    error_message = "No CORS without origins."
  }
}

run "the_app_may_live_elsewhere" {
  variables {
    app_urls              = ["https://app.example.com/", "https://app.example.com/signed-out"]
    cognito_domain_prefix = "cameo-example"
    cors_allowed_origins  = ["https://app.example.com"]
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this[0].callback_urls == toset(["https://app.example.com/", "https://app.example.com/signed-out"])
      && aws_cognito_user_pool_domain.this[0].domain == "cameo-example"
    )
    error_message = "Given app URLs and domain prefix are used."
  }

  assert {
    condition = (
      contains(one(aws_apigatewayv2_api.this.cors_configuration).allow_methods, "PATCH")
      && contains(one(aws_apigatewayv2_api.this.cors_configuration).allow_headers, "if-match")
      && contains(one(aws_apigatewayv2_api.this.cors_configuration).expose_headers, "etag")
    )
    error_message = "A browser may PATCH with If-Match and read the ETag."
  }
}

run "refuses_an_http_app_url" {
  command = plan

  variables {
    app_urls = ["http://app.example.com/"]
  }

  expect_failures = [var.app_urls]
}

run "refuses_a_reserved_domain_prefix" {
  command = plan

  variables {
    cognito_domain_prefix = "my-cognito"
  }

  expect_failures = [var.cognito_domain_prefix]
}

run "throttled_and_logged" {
  assert {
    condition     = one(aws_apigatewayv2_stage.default.default_route_settings).throttling_rate_limit == 50 && one(aws_apigatewayv2_stage.default.default_route_settings).throttling_burst_limit == 100
    error_message = "Throttled by default."
  }

  assert {
    condition     = one(aws_apigatewayv2_stage.default.access_log_settings).destination_arn == aws_cloudwatch_log_group.this["access"].arn
    error_message = "Access logs go to their own group."
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 365 && g.kms_key_id == aws_kms_key.api.arn])
    error_message = "Logs are kept a year, encrypted."
  }
}

run "an_own_issuer_replaces_cognito" {
  variables {
    jwt_issuer   = "https://login.example.com/"
    jwt_audience = ["cameo"]
  }

  assert {
    condition     = length(aws_cognito_user_pool.this) == 0 && one(aws_apigatewayv2_authorizer.jwt.jwt_configuration).issuer == "https://login.example.com/"
    error_message = "A given issuer is used, and no Cognito pool is made."
  }

  assert {
    condition     = length(aws_cognito_resource_server.this) == 0 && length(aws_cognito_user_pool_domain.this) == 0 && output.cognito_domain == null
    error_message = "Nor a resource server or a domain: the issuer issues the scopes."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : length(r.authorization_scopes) >= 1])
    error_message = "Routes require their scopes from any issuer."
  }

  assert {
    condition     = length([for name, _ in aws_lambda_function.this.environment[0].variables : name if startswith(name, "CAMEO_SIGN_IN_")]) == 0
    error_message = "Without external_sign_in the app is told no way to sign in."
  }
}

run "an_own_issuer_signs_the_app_in" {
  variables {
    jwt_issuer   = "https://login.example.com/"
    jwt_audience = ["cameo"]
    external_sign_in = {
      client_id     = "cameo-app"
      authorize_url = "https://login.example.com/authorize"
      token_url     = "https://login.example.com/token"
    }
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["CAMEO_SIGN_IN_CLIENT_ID"] == "cameo-app"
      && aws_lambda_function.this.environment[0].variables["CAMEO_SIGN_IN_TOKEN_URL"] == "https://login.example.com/token"
      && !contains(keys(aws_lambda_function.this.environment[0].variables), "CAMEO_SIGN_IN_LOGOUT_URL")
    )
    error_message = "An external provider's client and endpoints reach the app; an unset sign-out URL is left out."
  }
}

run "refuses_external_sign_in_with_cognito" {
  command = plan

  variables {
    external_sign_in = {
      client_id     = "cameo-app"
      authorize_url = "https://login.example.com/authorize"
      token_url     = "https://login.example.com/token"
    }
  }

  expect_failures = [var.external_sign_in]
}

run "refuses_an_http_sign_in_url" {
  command = plan

  variables {
    jwt_issuer   = "https://login.example.com/"
    jwt_audience = ["cameo"]
    external_sign_in = {
      client_id     = "cameo-app"
      authorize_url = "http://login.example.com/authorize"
      token_url     = "https://login.example.com/token"
    }
  }

  expect_failures = [var.external_sign_in]
}

run "refuses_an_http_issuer" {
  command = plan

  variables {
    jwt_issuer   = "http://login.example.com/"
    jwt_audience = ["cameo"]
  }

  expect_failures = [var.jwt_issuer]
}

run "refuses_an_issuer_without_audience" {
  command = plan

  variables {
    jwt_issuer = "https://login.example.com/"
  }

  expect_failures = [var.jwt_audience]
}
