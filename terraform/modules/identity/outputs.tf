output "detector_role_arn" {
  description = "ARN of the detector's role (shard and merge pods)."
  value       = aws_iam_role.this["detector"].arn
}

output "ingest_role_arn" {
  description = "ARN of the ingest's role."
  value       = aws_iam_role.this["ingest"].arn
}

output "curation_worker_role_arn" {
  description = "Role of the curation worker's pods."
  value       = aws_iam_role.this["curation-worker"].arn
}

output "gallery_checker_role_arn" {
  description = "ARN of the gallery checker's role."
  value       = aws_iam_role.this["gallery-checker"].arn
}

output "api_role_arn" {
  description = "ARN of the API Lambda's execution role."
  value       = aws_iam_role.this["api"].arn
}

output "policies" {
  description = "Each role's permissions policy (JSON), by component: what tests and reviewers check."
  value       = local.policies
}

output "service_account_annotations" {
  description = "ServiceAccount annotations for the chart, by component: the IRSA role ARN, or none with Pod Identity."
  value = {
    for role in keys(local.pod_roles) : role => var.binding == "irsa" ? { "eks.amazonaws.com/role-arn" = aws_iam_role.this[role].arn } : {}
  }
}
