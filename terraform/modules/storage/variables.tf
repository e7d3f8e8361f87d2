variable "raw_bucket_name" {
  description = "Name of the bucket that receives uploads (videos/) and holds the gallery (gallery/)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.raw_bucket_name)) && !strcontains(var.raw_bucket_name, "..")
    error_message = "raw_bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "processed_bucket_name" {
  description = "Name of the bucket the detector writes: results/, logs/ and cache/."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.processed_bucket_name)) && !strcontains(var.processed_bucket_name, "..")
    error_message = "processed_bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "cors_allowed_origins" {
  description = "Origins (scheme://host[:port]) whose browsers may use presigned URLs: PUT uploads to the raw bucket (reading each part's ETag), GET and HEAD videos from it (with Range, for playback) and results, crops and subtitles from the processed bucket. Never DELETE or POST. Empty: no CORS rule on either bucket."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "Each CORS origin is scheme://host[:port], with no path and no wildcard."
  }
}

variable "upload_queue_arn" {
  description = "ARN of the SQS queue that receives the raw bucket's s3:ObjectCreated:* events under videos/. Its policy must already let the bucket send (the queue module's output carries that dependency)."
  type        = string
}

variable "gallery_queue_arn" {
  description = "ARN of the SQS queue that receives the raw bucket's s3:ObjectCreated:* events under gallery/.cameo/photos/ (photos put through the API). Its policy must already let the bucket send, as for upload_queue_arn."
  type        = string
}

variable "log_retention_days" {
  description = "Days after which detector logs (logs/) in the processed bucket expire."
  type        = number
  default     = 90

  validation {
    condition     = var.log_retention_days >= 1
    error_message = "log_retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object's old version is kept before it expires."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "abort_incomplete_upload_days" {
  description = "Days after which an unfinished multipart upload is aborted and its parts removed."
  type        = number
  default     = 2

  validation {
    condition     = var.abort_incomplete_upload_days >= 1
    error_message = "abort_incomplete_upload_days must be at least 1."
  }
}

variable "require_tls" {
  description = "Deny every request not made over TLS (the buckets' policy). Off only for a stand-in served over plain HTTP on loopback (moto enforces bucket policies)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let `destroy` delete buckets that still hold objects. Keep false outside throwaway stacks."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
