output "raw_bucket" {
  description = "Name of the raw bucket (videos/, gallery/)."
  value       = aws_s3_bucket.this["raw"].bucket
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  value       = aws_s3_bucket.this["raw"].arn
}

output "processed_bucket" {
  description = "Name of the processed bucket (results/, logs/, cache/)."
  value       = aws_s3_bucket.this["processed"].bucket
}

output "processed_bucket_arn" {
  description = "ARN of the processed bucket."
  value       = aws_s3_bucket.this["processed"].arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key both buckets encrypt with; readers and writers need kms:Decrypt / kms:GenerateDataKey on it."
  value       = aws_kms_key.buckets.arn
}

output "cors_rules" {
  description = "Each bucket's CORS rules, by bucket (raw, processed): methods, origins, headers; empty lists without origins."
  value = {
    raw       = flatten([for c in aws_s3_bucket_cors_configuration.raw : tolist(c.cors_rule)])
    processed = flatten([for c in aws_s3_bucket_cors_configuration.processed : tolist(c.cors_rule)])
  }
}
