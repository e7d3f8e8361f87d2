variable "name_prefix" {
  description = "Repositories are <name_prefix>/<image>, e.g. cameo/cameo-detector."
  type        = string
  default     = "cameo"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", var.name_prefix))
    error_message = "name_prefix must be lowercase letters and digits, separated by single dots, hyphens or underscores."
  }
}

variable "images" {
  description = "The images cameo ships, one repository each."
  type        = set(string)
  default     = ["cameo-operator", "cameo-detector", "cameo-ingest"]
}

variable "keep_tagged_images" {
  description = "Most recent tagged images kept per repository; older ones expire (Helm rollbacks need a few)."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_tagged_images >= 1
    error_message = "keep_tagged_images must be at least 1."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (superseded layers of multi-arch pushes, failed pushes) expire."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "force_delete" {
  description = "Let `destroy` delete repositories that still hold images. Keep false outside throwaway stacks."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
