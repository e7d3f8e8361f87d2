output "name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "ARN of the table (its indexes are <arn>/index/*)."
  value       = aws_dynamodb_table.this.arn
}

output "kms_key_arn" {
  description = "ARN of the key the table encrypts with; its readers and writers need kms:Decrypt (and writers kms:GenerateDataKey)."
  value       = aws_kms_key.table.arn
}
