variable "schema_file" {
  description = "The table's definition, shared with the code and its tests. Keys and indexes come only from here."
  type        = string
  default     = null
}

variable "name" {
  description = "Table name; null takes the schema file's tableName (MovieEntities)."
  type        = string
  default     = null

  validation {
    condition     = var.name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 letters, digits, underscores, hyphens or dots."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the table (keep true outside throwaway stacks)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
