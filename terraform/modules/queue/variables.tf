variable "name" {
  description = "Name of the queue (<deployment>-uploads, <deployment>-gallery); the dead-letter queue is <name>-dlq."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1-76 letters, digits, hyphens or underscores (room for the -dlq suffix)."
  }
}

variable "raw_bucket_name" {
  description = "The only bucket allowed to send to the queue (its s3:ObjectCreated:* events)."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden. The ingest HEADs one object and creates one VideoJob per message, well under a minute even with retries; the gallery checker extends it while it works."
  type        = number
  default     = 120

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be 0-43200."
  }
}

variable "max_receive_count" {
  description = "Receives after which a message its consumer cannot handle moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be 1-1000."
  }
}

variable "dead_letter_retention_seconds" {
  description = "How long messages are kept in the dead-letter queue for someone to look at (the maximum, 14 days, by default)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_retention_seconds >= 60 && var.dead_letter_retention_seconds <= 1209600
    error_message = "dead_letter_retention_seconds must be 60-1209600."
  }
}

variable "restrict_redrive_sources" {
  description = "Let only this queue use its dead-letter queue (its redrive allow policy). Off only for stand-ins that do not keep the attribute (moto)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
