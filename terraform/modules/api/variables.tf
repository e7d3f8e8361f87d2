variable "name" {
  description = "Name of the HTTP API and of its Lambda function."
  type        = string
  default     = "cameo-api"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, hyphens or underscores (a Lambda function name)."
  }
}

variable "lambda_zip" {
  description = "Path of the API's Lambda zip (`make lambda` writes $CAMEO_CACHE/target/lambda/cameo-api/bootstrap.zip)."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip, ".zip")
    error_message = "lambda_zip must be the path of a .zip file."
  }
}

variable "role_arn" {
  description = "ARN of the Lambda's execution role (the identity module's api_role_arn)."
  type        = string
}

variable "environment" {
  description = "The Lambda's configuration (CAMEO_RAW_BUCKET, CAMEO_PROCESSED_BUCKET, CAMEO_TABLE, ...; README: The API)."
  type        = map(string)
}

variable "jwt_issuer" {
  description = "Issuer (iss) of the JWTs the API accepts, e.g. https://login.example.com/. Null creates a Cognito user pool and uses it."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_issuer == null || startswith(coalesce(var.jwt_issuer, "-"), "https://")
    error_message = "jwt_issuer must be an https:// URL."
  }
}

variable "jwt_audience" {
  description = "Audiences (aud, or Cognito's client id) the API accepts. Required with jwt_issuer; with Cognito, the pool's app client."
  type        = list(string)
  default     = []

  validation {
    condition     = var.jwt_issuer == null || length(var.jwt_audience) > 0
    error_message = "jwt_issuer needs at least one jwt_audience."
  }
}

variable "external_sign_in" {
  description = "With jwt_issuer only: the public OAuth 2.0 client the web app signs in with (authorisation code flow with PKCE, redirect URI <API endpoint>/app/) and the provider's endpoints; its access tokens must carry the cameo/* scopes. Null: the app cannot sign in (the API works as before)."
  type = object({
    client_id     = string
    authorize_url = string
    token_url     = string
    logout_url    = optional(string)
  })
  default = null

  validation {
    condition     = var.external_sign_in == null || alltrue([for u in compact([try(var.external_sign_in.authorize_url, null), try(var.external_sign_in.token_url, null), try(var.external_sign_in.logout_url, null)]) : startswith(u, "https://")])
    error_message = "external_sign_in's URLs must be https://."
  }

  validation {
    condition     = var.external_sign_in == null || var.jwt_issuer != null
    error_message = "external_sign_in is for an external jwt_issuer; with Cognito the module sets sign-in itself."
  }
}

variable "app_urls" {
  description = "Cognito only: the app's URLs the hosted sign-in may return to after signing in or out (the client's callback and logout URLs). Empty: the app the API serves, <API endpoint>/app/."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.app_urls) <= 100 && alltrue([for u in var.app_urls : can(regex("^https://[^/?#*\\s]+(/[^#*\\s]*)?$", u))])
    error_message = "app_urls must be at most 100 https:// URLs without a fragment or a wildcard."
  }
}

variable "cognito_domain_prefix" {
  description = "Cognito only: prefix of the hosted sign-in domain, https://<prefix>.auth.<region>.amazoncognito.com; unique in the region among all accounts. Null: the API's name."
  type        = string
  default     = null

  validation {
    condition     = var.cognito_domain_prefix == null || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.cognito_domain_prefix, "-"))) && !can(regex("aws|amazon|cognito", coalesce(var.cognito_domain_prefix, "-"))))
    error_message = "cognito_domain_prefix must be 1-63 lowercase letters, digits or inner hyphens, without aws, amazon or cognito in it."
  }
}

variable "cors_allowed_origins" {
  description = "Origins of browser front ends that call the API. Empty: no CORS."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "Each CORS origin is scheme://host[:port], with no path and no wildcard."
  }
}

variable "throttling_rate_limit" {
  description = "Steady requests per second the API accepts (all routes); above, 429."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  description = "Requests the API accepts in a burst above the steady rate."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive."
  }
}

variable "log_retention_days" {
  description = "Days the API's access logs and the Lambda's logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "memory_mb" {
  description = "The Lambda's memory (and so its CPU share)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be 128-10240."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the Lambda; -1 leaves it unreserved."
  type        = number
  default     = 50

  validation {
    condition     = var.reserved_concurrency == -1 || var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be -1 or at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
