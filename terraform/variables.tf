variable "name" {
  description = "Name of the deployment: the cluster, the queue, the API and the roles are named after it."
  type        = string
  default     = "cameo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of everything."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "availability_zones" {
  description = "Two or three AZs for the VPC and the nodes; null takes the region's first three."
  type        = list(string)
  default     = null
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "nat_per_az" {
  description = "One NAT gateway per AZ instead of one shared (resilient to an AZ outage; about $33 a month each)."
  type        = bool
  default     = false
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of EKS."
  type        = string
  default     = "1.35"
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs that may reach the Kubernetes API's public endpoint (where `make deploy` runs). Empty: private endpoint only."
  type        = list(string)
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster-admin by access entries: at least whoever runs `make deploy`."
  type        = list(string)

  validation {
    condition     = length(var.admin_principal_arns) > 0
    error_message = "admin_principal_arns must name at least one role or user, or nobody can install the chart."
  }
}

variable "system_instance_types" {
  description = "Instance types of the system node group."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "gpu_instance_types" {
  description = "Instance types of the GPU node group (one GPU each unless gpus_per_node says otherwise)."
  type        = list(string)
  default     = ["g6.xlarge", "g5.xlarge"]
}

variable "gpus_per_node" {
  description = "GPUs of each GPU instance type (for the autoscaler's scale-up from zero)."
  type        = number
  default     = 1
}

variable "gpu_capacity_type" {
  description = "ON_DEMAND or SPOT for GPU nodes."
  type        = string
  default     = "ON_DEMAND"
}

variable "gpu_max_nodes" {
  description = "Most GPU nodes at once; the group rests at zero."
  type        = number
  default     = 4
}

variable "raw_bucket_name" {
  description = "Name of the raw bucket (uploads, gallery); null: <name>-raw-<account>-<region>."
  type        = string
  default     = null
}

variable "processed_bucket_name" {
  description = "Name of the processed bucket (results, logs, cache); null: <name>-processed-<account>-<region>."
  type        = string
  default     = null
}

variable "cors_allowed_origins" {
  description = "Origins of other browser front ends: they may call the API, PUT uploads to and play videos from the raw bucket, and read results from the processed bucket. The API's own origin (the app it serves) always has the buckets' CORS. Empty: the API has no CORS, the buckets only the API's origin."
  type        = list(string)
  default     = []
}

variable "lambda_zip" {
  description = "The API's Lambda zip, from `make lambda`."
  type        = string
}

variable "jwt_issuer" {
  description = "Issuer of the JWTs the API accepts (your identity provider); null creates a Cognito user pool."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Audiences the API accepts (required with jwt_issuer)."
  type        = list(string)
  default     = []
}

variable "app_urls" {
  description = "With the Cognito pool (no jwt_issuer): the app's https URLs its hosted sign-in may return to (callback and logout URLs). Empty: the app the API serves, <API endpoint>/app/."
  type        = list(string)
  default     = []
}

variable "cognito_domain_prefix" {
  description = "With the Cognito pool (no jwt_issuer): prefix of its hosted sign-in domain, https://<prefix>.auth.<region>.amazoncognito.com, unique in the region among all accounts. Null: the API's name (<name>-api)."
  type        = string
  default     = null
}

variable "external_sign_in" {
  description = "With jwt_issuer only: the public OAuth 2.0 client the web app signs in with (code flow with PKCE, redirect URI <API endpoint>/app/) and its provider's endpoints. Null: the app cannot sign in (the API works as before)."
  type = object({
    client_id     = string
    authorize_url = string
    token_url     = string
    logout_url    = optional(string)
  })
  default = null
}

variable "identity_binding" {
  description = "How cameo's pods get their AWS roles: pod_identity (default) or irsa."
  type        = string
  default     = "pod_identity"

  validation {
    condition     = contains(["pod_identity", "irsa"], var.identity_binding)
    error_message = "identity_binding must be pod_identity or irsa."
  }
}

variable "release_namespace" {
  description = "Namespace of the Helm release (the operator and the ingest)."
  type        = string
  default     = "cameo-system"
}

variable "watch_namespaces" {
  description = "Namespaces whose VideoJobs run (the chart's watchNamespaces); the ingest creates its VideoJobs in the first. Each gets the detector's ServiceAccount and its role binding."
  type        = list(string)
  default     = ["media"]

  validation {
    condition     = length(var.watch_namespaces) > 0 && alltrue([for n in var.watch_namespaces : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", n))])
    error_message = "watch_namespaces must list at least one namespace name (DNS labels)."
  }
}

variable "protect_data" {
  description = "Deletion protection on the table and no force-destroy on buckets and repositories. Turn off only for a throwaway stack."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource (with app = cameo)."
  type        = map(string)
  default     = {}
}
