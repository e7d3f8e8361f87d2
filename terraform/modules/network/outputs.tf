output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (nodes), one per AZ."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (the NAT gateways only), one per AZ."
  value       = aws_subnet.public[*].id
}

output "nat_public_ips" {
  description = "Public addresses the nodes' outbound traffic leaves from (for allow-lists)."
  value       = aws_eip.nat[*].public_ip
}
