# Nodes are private; S3 and DynamoDB traffic skips the NAT; one NAT unless asked for more.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
}

variables {
  name               = "cameo"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

run "private_nodes_and_gateway_endpoints" {
  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch]) && alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "No subnet hands out public addresses."
  }

  assert {
    condition     = length(distinct([for s in aws_subnet.private : s.availability_zone])) == 3
    error_message = "One private subnet per AZ."
  }

  assert {
    condition = alltrue([
      for e in aws_vpc_endpoint.gateway : e.vpc_endpoint_type == "Gateway" && e.route_table_ids == toset(aws_route_table.private[*].id)
    ]) && jsonencode(sort(keys(aws_vpc_endpoint.gateway))) == jsonencode(["dynamodb", "s3"])
    error_message = "S3 and DynamoDB gateway endpoints serve every private route table, so video reads do not pay NAT."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(distinct([for r in aws_route.private_nat : r.nat_gateway_id])) == 1
    error_message = "One NAT gateway by default, shared by the AZs."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group allows nothing."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "REJECT"
    error_message = "Rejected traffic is logged."
  }
}

run "a_nat_per_az_when_asked" {
  variables {
    nat_per_az = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 3
    error_message = "One NAT gateway per AZ."
  }
}

run "refuses_a_single_az" {
  command = plan

  variables {
    availability_zones = ["eu-west-1a"]
  }

  expect_failures = [var.availability_zones]
}
