variable "name_prefix" {
  description = "Roles are <name_prefix>-detector, <name_prefix>-ingest, <name_prefix>-gallery-checker, <name_prefix>-curation-worker and <name_prefix>-api."
  type        = string
  default     = "cameo"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,48}$", var.name_prefix))
    error_message = "name_prefix must be 1-48 characters valid in an IAM role name (room for -gallery-checker)."
  }
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket: the detector reads videos/ and gallery/, the ingest HEADs videos/, the gallery checker reads gallery/ and writes its manifest, the API presigns under videos/ and gallery/.cameo/photos/."
  type        = string
}

variable "processed_bucket_arn" {
  description = "ARN of the processed bucket: the detector writes results/, logs/ and cache/, the gallery checker cache/gallery/, the API reads results/."
  type        = string
}

variable "bucket_kms_key_arn" {
  description = "ARN of the KMS key both buckets encrypt with."
  type        = string
}

variable "table_arn" {
  description = "ARN of the MovieEntities table."
  type        = string
}

variable "table_kms_key_arn" {
  description = "ARN of the KMS key the table encrypts with."
  type        = string
}

variable "queue_arn" {
  description = "ARN of the upload-events queue the ingest reads."
  type        = string
}

variable "queue_kms_key_arn" {
  description = "ARN of the KMS key the queue encrypts with."
  type        = string
}

variable "gallery_queue_arn" {
  description = "ARN of the gallery queue: the gallery checker consumes it, the API sends to it."
  type        = string
}

variable "gallery_queue_kms_key_arn" {
  description = "ARN of the KMS key the gallery queue encrypts with."
  type        = string
}

variable "curation_queue_arn" {
  description = "ARN of the curation queue: the curation worker consumes it, the API sends to it."
  type        = string
}

variable "curation_queue_kms_key_arn" {
  description = "ARN of the KMS key the curation queue encrypts with."
  type        = string
}

variable "api_function_name" {
  description = "Name of the API's Lambda function (its role may write only that function's log group)."
  type        = string
}

variable "binding" {
  description = "How pods get their roles: pod_identity (EKS Pod Identity associations), irsa (an OIDC provider and ServiceAccount annotations), or none (roles only; bind them yourself)."
  type        = string
  default     = "pod_identity"

  validation {
    condition     = contains(["pod_identity", "irsa", "none"], var.binding)
    error_message = "binding must be pod_identity, irsa or none."
  }
}

variable "cluster_name" {
  description = "EKS cluster whose pods assume the detector, ingest and gallery checker roles (needed by pod_identity; scopes the trust to that cluster)."
  type        = string
  default     = null

  validation {
    condition     = var.binding != "pod_identity" || var.cluster_name != null
    error_message = "binding = pod_identity needs cluster_name."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (irsa only)."
  type        = string
  default     = null

  validation {
    condition     = var.binding != "irsa" || var.oidc_provider_arn != null
    error_message = "binding = irsa needs oidc_provider_arn."
  }
}

variable "detector_service_accounts" {
  description = "ServiceAccounts the detector's shard pods run as: the chart creates detector.serviceAccount.name (cameo-detector) in each watched namespace."
  type = list(object({
    namespace = string
    name      = string
  }))
  default = [{ namespace = "cameo", name = "cameo-detector" }]
}

variable "ingest_service_account" {
  description = "The ingest's ServiceAccount: <release full name>-ingest in the release namespace (cameo-ingest in cameo-system for release cameo)."
  type = object({
    namespace = string
    name      = string
  })
  default = { namespace = "cameo-system", name = "cameo-ingest" }
}

variable "gallery_checker_service_account" {
  description = "The gallery checker's ServiceAccount: <release full name>-gallery-checker in the release namespace (cameo-gallery-checker in cameo-system for release cameo)."
  type = object({
    namespace = string
    name      = string
  })
  default = { namespace = "cameo-system", name = "cameo-gallery-checker" }
}

variable "curation_worker_service_account" {
  description = "The curation worker's ServiceAccount: <release full name>-curation-worker in the release namespace (cameo-curation-worker in cameo-system for release cameo)."
  type = object({
    namespace = string
    name      = string
  })
  default = { namespace = "cameo-system", name = "cameo-curation-worker" }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
