variable "name" {
  description = "Name of the EKS cluster."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,37}$", var.name))
    error_message = "name must start with a letter or digit and have at most 38 letters, digits, hyphens or underscores (node group and role names are built from it)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and the node groups."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.35."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the control plane's interfaces and of every node, in at least two AZs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets (two AZs)."
  }
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs that may reach the Kubernetes API's public endpoint (kubectl, helm, CI). Empty: private endpoint only, reachable from inside the VPC."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "endpoint_public_access_cidrs must be CIDRs, and not 0.0.0.0/0: name the networks that administer the cluster."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster-admin by an EKS access entry (who runs `make deploy`). There is no aws-auth ConfigMap."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "admin_principal_arns must be IAM role or user ARNs."
  }
}

variable "system_instance_types" {
  description = "Instance types of the system node group (the operator, the ingest, CoreDNS, the autoscaler)."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "system_node_count" {
  description = "Size range of the system node group; two nodes keep both replicas of the operator and the ingest apart."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = { min = 2, desired = 2, max = 4 }

  validation {
    condition     = var.system_node_count.min >= 1 && var.system_node_count.min <= var.system_node_count.desired && var.system_node_count.desired <= var.system_node_count.max
    error_message = "system_node_count needs 1 <= min <= desired <= max."
  }
}

variable "gpu_instance_types" {
  description = "Instance types of the GPU node group (one NVIDIA GPU each by default: g5.xlarge is an A10G, g6.xlarge an L4)."
  type        = list(string)
  default     = ["g6.xlarge", "g5.xlarge"]
}

variable "gpu_capacity_type" {
  description = "ON_DEMAND or SPOT for the GPU nodes (shards are retried, so spot is viable for batch work)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.gpu_capacity_type)
    error_message = "gpu_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "gpu_max_nodes" {
  description = "Most GPU nodes the autoscaler may start. The group rests at zero."
  type        = number
  default     = 4

  validation {
    condition     = var.gpu_max_nodes >= 1
    error_message = "gpu_max_nodes must be at least 1."
  }
}

variable "gpus_per_node" {
  description = "GPUs of each GPU instance type, told to the cluster autoscaler so it can scale up from zero."
  type        = number
  default     = 1

  validation {
    condition     = var.gpus_per_node >= 1
    error_message = "gpus_per_node must be at least 1."
  }
}

variable "gpu_node_labels" {
  description = "Labels every GPU node carries from boot, beside cameo.dev/pool=gpu; the chart's detector.gpuNodeSelector must be a subset (the root module passes the chart's default)."
  type        = map(string)
  default     = {}
}

variable "gpu_taint_key" {
  description = "Key of the NoSchedule taint on GPU nodes; the chart's detector.gpuTaintKey tolerates it."
  type        = string
  default     = "nvidia.com/gpu"
}

variable "node_volume_gib" {
  description = "Root volume of each node (gp3, encrypted). Detector images with CUDA are several GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.node_volume_gib >= 20
    error_message = "node_volume_gib must be at least 20."
  }
}

variable "log_retention_days" {
  description = "Days the control plane's logs (the audit log among them) are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
