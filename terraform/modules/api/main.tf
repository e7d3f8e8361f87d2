# The HTTP API in front of cameo-api's Lambda. API Gateway authenticates (a JWT
# authorizer on every route, each route requiring its OAuth scope), throttles and logs;
# the Lambda only validates, presigns, records and answers (it never carries video bytes).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  cognito = var.jwt_issuer == null

  # The scopes of the resource server `cameo`: a token carries cameo/<name>. The Lambda
  # checks the same names (README: Scopes), so they are fixed, not variables.
  scope_server = "cameo"
  scope_descriptions = {
    read   = "Read video state, results, people and faces"
    upload = "Upload videos"
    curate = "Change people and their photos, erase videos and people"
  }
  scopes = { for name, _ in local.scope_descriptions : name => "${local.scope_server}/${name}" }

  # Every route the Lambda serves (api/src/routes.rs) and the scopes that grant it (any
  # one of them). API Gateway answers anything else 404 itself.
  route_scopes = {
    "POST /videos"                               = [local.scopes.upload]
    "GET /videos"                                = [local.scopes.read]
    "GET /library"                               = [local.scopes.read]
    "GET /videos/{id}"                           = [local.scopes.read]
    "DELETE /videos/{id}"                        = [local.scopes.curate]
    "POST /videos/{id}/complete"                 = [local.scopes.upload]
    "GET /videos/{id}/upload"                    = [local.scopes.upload]
    "DELETE /videos/{id}/upload"                 = [local.scopes.upload]
    "POST /videos/{id}/analyse"                  = [local.scopes.upload, local.scopes.curate]
    "GET /videos/{id}/result"                    = [local.scopes.read]
    "GET /videos/{id}/faces"                     = [local.scopes.read]
    "GET /videos/{id}/media"                     = [local.scopes.read]
    "GET /videos/{id}/exports"                   = [local.scopes.read]
    "GET /actors/{name}/videos"                  = [local.scopes.read]
    "GET /results/latest"                        = [local.scopes.read]
    "GET /people"                                = [local.scopes.read]
    "POST /people"                               = [local.scopes.curate]
    "GET /people/{personId}"                     = [local.scopes.read]
    "PATCH /people/{personId}"                   = [local.scopes.curate]
    "DELETE /people/{personId}"                  = [local.scopes.curate]
    "POST /people/{personId}/merge"              = [local.scopes.curate]
    "POST /people/{personId}/photos"             = [local.scopes.curate]
    "DELETE /people/{personId}/photos/{photoId}" = [local.scopes.curate]
    "GET /people/{personId}/curation"            = [local.scopes.read]
    "GET /videos/{id}/curation"                  = [local.scopes.read]
    "POST /videos/{id}/curation"                 = [local.scopes.curate]
    "POST /videos/{id}/curation/{seq}/undo"      = [local.scopes.curate]
    "GET /videos/{id}/suggestions"               = [local.scopes.curate]
    "GET /people/{personId}/suggestions"         = [local.scopes.curate]
    "GET /review"                                = [local.scopes.curate]
  }

  # The web app's routes (api/src/webapp.rs): its files and its sign-in settings, the only
  # routes without the authorizer, since a browser loads them before it has a token.
  app_routes = ["GET /", "GET /app", "GET /app/{proxy+}"]

  # Where the hosted sign-in may send the browser back: the app, by default the one the
  # API serves itself (no cycle: the client needs the API's endpoint, the authorizer the
  # client, the API neither).
  app_urls      = length(var.app_urls) > 0 ? var.app_urls : ["${aws_apigatewayv2_api.this.api_endpoint}/app/"]
  domain_prefix = coalesce(var.cognito_domain_prefix, lower(replace(var.name, "_", "-")))

  cognito_domain = local.cognito ? "https://${aws_cognito_user_pool_domain.this[0].domain}.auth.${data.aws_region.current.region}.amazoncognito.com" : null
  # How the app signs in (README: The web app): Cognito's hosted endpoints, or those given
  # for an external provider; none, and the app cannot sign in.
  sign_in = local.cognito ? {
    CAMEO_SIGN_IN_CLIENT_ID     = aws_cognito_user_pool_client.this[0].id
    CAMEO_SIGN_IN_AUTHORIZE_URL = "${local.cognito_domain}/oauth2/authorize"
    CAMEO_SIGN_IN_TOKEN_URL     = "${local.cognito_domain}/oauth2/token"
    CAMEO_SIGN_IN_LOGOUT_URL    = "${local.cognito_domain}/logout"
    } : var.external_sign_in == null ? {} : {
    for name, value in {
      CAMEO_SIGN_IN_CLIENT_ID     = var.external_sign_in.client_id
      CAMEO_SIGN_IN_AUTHORIZE_URL = var.external_sign_in.authorize_url
      CAMEO_SIGN_IN_TOKEN_URL     = var.external_sign_in.token_url
      CAMEO_SIGN_IN_LOGOUT_URL    = var.external_sign_in.logout_url
    } : name => value if value != null
  }

  jwt_issuer   = local.cognito ? "https://${aws_cognito_user_pool.this[0].endpoint}" : var.jwt_issuer
  jwt_audience = local.cognito ? [aws_cognito_user_pool_client.this[0].id] : var.jwt_audience
  log_groups = {
    lambda = "/aws/lambda/${var.name}"
    access = "/aws/apigateway/${var.name}"
  }
}

resource "aws_kms_key" "api" {
  description             = "cameo API ${var.name}: its logs and the Lambda's environment"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "LogsEncryptTheseGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = [
              for group in values(local.log_groups) :
              "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:${group}"
            ]
          }
        }
      },
    ]
  })
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.api.arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117: it calls only S3 and DynamoDB APIs; a VPC would add a NAT or endpoints and no isolation.
  # checkov:skip=CKV_AWS_116: invoked synchronously by API Gateway, which returns the error to the caller; a DLQ would receive nothing.
  # checkov:skip=CKV_AWS_272: code signing needs an AWS Signer profile; the zip's sha256 is pinned by source_code_hash.
  # checkov:skip=CKV_AWS_50: X-Ray needs xray:Put* on "*", which the no-wildcard rule for roles refuses; API Gateway's access logs record every request.
  function_name                  = var.name
  description                    = "cameo upload and results API"
  role                           = var.role_arn
  filename                       = var.lambda_zip
  source_code_hash               = filebase64sha256(var.lambda_zip)
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = ["x86_64"]
  memory_size                    = var.memory_mb
  timeout                        = 29
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = aws_kms_key.api.arn

  environment {
    variables = merge(var.environment, local.sign_in)
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this["lambda"].name
  }

  tags = var.tags
}

resource "aws_cognito_user_pool" "this" {
  count = local.cognito ? 1 : 0

  name                     = var.name
  deletion_protection      = "ACTIVE"
  mfa_configuration        = "OPTIONAL"
  auto_verified_attributes = ["email"]
  username_attributes      = ["email"]

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = true
  }

  software_token_mfa_configuration {
    enabled = true
  }

  tags = var.tags
}

# The scopes the routes require. Cognito puts custom scopes only in access tokens from its
# OAuth 2.0 endpoints (the authorization code grant, with PKCE for this public client),
# never in ID tokens nor in tokens from InitiateAuth (SRP), which carry only
# aws.cognito.signin.user.admin: so the app signs in through the hosted pages and sends
# the ACCESS token. Every user of the pool receives every scope the client allows; to
# give some users fewer, add a pre token generation trigger that narrows them by group.
resource "aws_cognito_resource_server" "this" {
  count = local.cognito ? 1 : 0

  user_pool_id = aws_cognito_user_pool.this[0].id
  identifier   = local.scope_server
  name         = var.name

  dynamic "scope" {
    for_each = local.scope_descriptions
    content {
      scope_name        = scope.key
      scope_description = scope.value
    }
  }
}

# The hosted sign-in pages and the OAuth 2.0 endpoints (/oauth2/authorize, /oauth2/token):
# https://<prefix>.auth.<region>.amazoncognito.com.
resource "aws_cognito_user_pool_domain" "this" {
  count = local.cognito ? 1 : 0

  domain       = local.domain_prefix
  user_pool_id = aws_cognito_user_pool.this[0].id
}

resource "aws_cognito_user_pool_client" "this" {
  count = local.cognito ? 1 : 0

  name                          = var.name
  user_pool_id                  = aws_cognito_user_pool.this[0].id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  # A browser app: the authorization code grant (with PKCE; a public client has no secret
  # to protect the code), the pool's own users only, back to the app's URLs.
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = concat(values(local.scopes), ["openid", "email"])
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = local.app_urls
  logout_urls                          = local.app_urls

  # Short-lived access (what the API reads) and a month of refresh, revoked on sign-out.
  access_token_validity  = 1
  id_token_validity      = 1
  refresh_token_validity = 30
  token_validity_units {
    access_token  = "hours"
    id_token      = "hours"
    refresh_token = "days"
  }

  # The client may allow only scopes the resource server defines.
  depends_on = [aws_cognito_resource_server.this]
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "cameo: upload videos, read who is in them"

  dynamic "cors_configuration" {
    for_each = length(var.cors_allowed_origins) > 0 ? [1] : []
    content {
      allow_origins = var.cors_allowed_origins
      allow_methods = ["GET", "POST", "PATCH", "DELETE"]
      # Writes to a person carry If-Match, and answers their ETag.
      allow_headers  = ["authorization", "content-type", "if-match"]
      expose_headers = ["etag"]
      max_age        = 3600
    }
  }

  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = local.jwt_issuer
    audience = local.jwt_audience
  }
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

# The Lambda's routes, each requiring one of its scopes (local.route_scopes). With CORS on, API
# Gateway answers preflight OPTIONS itself, without authentication.
resource "aws_apigatewayv2_route" "this" {
  for_each = local.route_scopes

  api_id               = aws_apigatewayv2_api.this.id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.jwt.id
  authorization_scopes = each.value
}

# The app's routes, without the authorizer: the app's files and config.json, which say
# nothing about any video or person.
resource "aws_apigatewayv2_route" "app" {
  # checkov:skip=CKV_AWS_309: the app's files and sign-in settings, which a browser loads before it has a token; they say nothing about any video or person.
  for_each = toset(local.app_routes)

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = "NONE"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.this["access"].arn
    format = jsonencode({
      requestId      = "$context.requestId"
      time           = "$context.requestTime"
      caller         = "$context.authorizer.claims.sub"
      ip             = "$context.identity.sourceIp"
      route          = "$context.routeKey"
      status         = "$context.status"
      latencyMs      = "$context.responseLatency"
      integrationErr = "$context.integrationErrorMessage"
      authorizerErr  = "$context.authorizer.error"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowThisHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
