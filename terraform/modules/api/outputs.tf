output "url" {
  description = "Base URL of the API (POST {url}/videos, ...)."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "endpoint" {
  description = "The API's origin, scheme://host with no stage path: where the app it serves runs (<endpoint>/app/), so a CORS origin for the buckets."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "function_name" {
  description = "Name of the API's Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "jwt_issuer" {
  description = "Issuer the API's JWT authorizer accepts."
  value       = local.jwt_issuer
}

output "jwt_audience" {
  description = "Audiences the API's JWT authorizer accepts."
  value       = local.jwt_audience
}

output "cognito_user_pool_id" {
  description = "ID of the Cognito user pool created when no jwt_issuer was given (users are added by an administrator); null otherwise."
  value       = local.cognito ? aws_cognito_user_pool.this[0].id : null
}

output "scopes" {
  description = "The OAuth scopes the routes require, by short name (read, upload, curate => cameo/<name>)."
  value       = local.scopes
}

output "route_scopes" {
  description = "The scopes that grant each route (any one of them), by route key (\"GET /people\" => [\"cameo/read\"])."
  value       = local.route_scopes
}

output "cognito_domain" {
  description = "Base URL of the Cognito hosted sign-in and OAuth 2.0 endpoints (<domain>/oauth2/authorize, <domain>/oauth2/token) when a pool was created; null otherwise."
  value       = local.cognito_domain
}

output "app_urls" {
  description = "URLs the Cognito hosted sign-in returns to (the app client's callback and logout URLs); null without a pool."
  value       = local.cognito ? local.app_urls : null
}
