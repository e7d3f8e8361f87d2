output "name" {
  description = "Name of the cluster."
  value       = aws_eks_cluster.this.name
}

output "arn" {
  description = "ARN of the cluster."
  value       = aws_eks_cluster.this.arn
}

output "endpoint" {
  description = "URL of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "certificate_authority" {
  description = "The API's CA certificate (base64 PEM)."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "oidc_issuer" {
  description = "The cluster's OIDC issuer URL (for IRSA)."
  value       = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

output "node_groups" {
  description = "Each node group's name, labels, taints and size range."
  value = {
    for key, group in aws_eks_node_group.this : key => {
      name           = group.node_group_name
      labels         = group.labels
      taints         = [for t in group.taint : { key = t.key, value = t.value, effect = t.effect }]
      min            = group.scaling_config[0].min_size
      max            = group.scaling_config[0].max_size
      ami            = group.ami_type
      instance_types = group.instance_types
    }
  }
}

output "gpu_node_template_tags" {
  description = "The cluster-autoscaler node-template tags on the GPU group's ASG."
  value       = local.gpu_node_template_tags
}

output "autoscaler_role_arn" {
  description = "ARN of the cluster autoscaler's role (Pod Identity, kube-system/cluster-autoscaler)."
  value       = aws_iam_role.autoscaler.arn
}
