variable "endpoint" {
  description = "URL of the AWS stand-in (moto) every service is sent to, e.g. http://127.0.0.1:5000."
  type        = string

  validation {
    condition     = can(regex("^http://127\\.0\\.0\\.1:[0-9]+$", var.endpoint))
    error_message = "endpoint must be http://127.0.0.1:<port>: this example only ever talks to a local stand-in."
  }
}

variable "region" {
  description = "Region the stand-in answers for."
  type        = string
  default     = "eu-west-1"
}

variable "stacks" {
  description = "The data stacks the local tests use, by name: buckets <name>-raw and <name>-processed, queues <name>-uploads and <name>-gallery, roles <name>-*. `cameo` serves the operator's tests, `flow` the upload-to-results tests (a short visibility timeout and few receives, so dead letters arrive quickly); both talk plain HTTP to moto, so they go without the TLS-only policy, which `tls` keeps for a test that moto refuses plain HTTP under it."
  type = map(object({
    table                      = string
    visibility_timeout_seconds = number
    max_receive_count          = number
    require_tls                = bool
  }))
  default = {
    cameo = { table = "MovieEntities", visibility_timeout_seconds = 120, max_receive_count = 5, require_tls = false }
    flow  = { table = "FlowEntities", visibility_timeout_seconds = 5, max_receive_count = 3, require_tls = false }
    tls   = { table = "TlsEntities", visibility_timeout_seconds = 120, max_receive_count = 5, require_tls = true }
  }
}
