output "repository_urls" {
  description = "Repository URL of each image, by image name (cameo-operator, cameo-detector, cameo-ingest)."
  value       = { for image, repo in aws_ecr_repository.this : image => repo.repository_url }
}

output "repository_arns" {
  description = "Repository ARN of each image, by image name."
  value       = { for image, repo in aws_ecr_repository.this : image => repo.arn }
}

output "registry" {
  description = "The registry host (<account>.dkr.ecr.<region>.amazonaws.com), for docker/podman login."
  value       = length(aws_ecr_repository.this) > 0 ? split("/", values(aws_ecr_repository.this)[0].repository_url)[0] : null
}

output "kms_key_arn" {
  description = "ARN of the key the repositories encrypt with."
  value       = aws_kms_key.images.arn
}
