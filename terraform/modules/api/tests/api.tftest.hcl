# Every route is authenticated by the JWT authorizer; the API is throttled and logged.
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
    defaults = { execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:mock" }
  }
}

variables {
  role_arn    = "arn:aws:iam::123456789012:role/cameo-api"
  environment = { CAMEO_RAW_BUCKET = "raw", CAMEO_PROCESSED_BUCKET = "processed", CAMEO_TABLE = "MovieEntities" }
}

run "every_route_needs_a_jwt" {
  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "JWT" && r.authorizer_id == aws_apigatewayv2_authorizer.jwt.id])
    error_message = "Every route is behind the JWT authorizer."
  }

  assert {
    condition     = length(aws_apigatewayv2_route.this) == 8 && !contains(keys(aws_apigatewayv2_route.this), "$default")
    error_message = "Only the API's own routes exist: nothing else reaches the Lambda."
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
