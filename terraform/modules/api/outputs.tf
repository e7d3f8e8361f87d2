output "url" {
  description = "Base URL of the API (POST {url}/videos, ...)."
  value       = aws_apigatewayv2_stage.default.invoke_url
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
