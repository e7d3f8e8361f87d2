variable "name" {
  description = "Name of the VPC; subnets and gateways are named after it."
  type        = string
}

variable "cidr" {
  description = "The VPC's IPv4 range. Each AZ gets a private quarter of it for nodes and pods (vpc-cni gives pods VPC addresses); the last quarter holds the small public subnets of the NAT."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) <= 20
    error_message = "cidr must be an IPv4 CIDR of /20 or larger."
  }
}

variable "availability_zones" {
  description = "Two or three AZs of the region (EKS needs subnets in at least two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 or 3 distinct AZs."
  }
}

variable "nat_per_az" {
  description = "One NAT gateway per AZ (survives an AZ outage, costs one NAT each) instead of one shared."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs (rejected traffic) are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "cluster_name" {
  description = "EKS cluster that uses these subnets (tags them for its load balancers); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
