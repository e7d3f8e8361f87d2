# The GPU node group rests at zero and the autoscaler can scale it up from zero; nodes
# are locked down (IMDSv2, encrypted disks, no SSH); access is by access entries only.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      arn                   = "arn:aws:eks:eu-west-1:123456789012:cluster/cameo"
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC" }] }]
      certificate_authority = [{ data = "LS0t" }]
    }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_eks_node_group" {
    defaults = {
      arn       = "arn:aws:eks:eu-west-1:123456789012:nodegroup/cameo/mock/0"
      resources = [{ autoscaling_groups = [{ name = "eks-group-asg" }], remote_access_security_group_id = "" }]
    }
  }
}

variables {
  name                         = "cameo"
  subnet_ids                   = ["subnet-a", "subnet-b"]
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  admin_principal_arns         = ["arn:aws:iam::123456789012:role/platform"]
}

run "gpu_group_scales_from_zero_with_the_charts_label_and_taint" {
  assert {
    condition     = aws_eks_node_group.this["gpu"].scaling_config[0].min_size == 0 && aws_eks_node_group.this["gpu"].scaling_config[0].desired_size == 0
    error_message = "The GPU group rests at zero."
  }

  assert {
    condition     = aws_eks_node_group.this["gpu"].ami_type == "AL2023_x86_64_NVIDIA"
    error_message = "GPU nodes boot the NVIDIA AMI (driver and container toolkit)."
  }

  # The chart's defaults: detector.gpuNodeSelector and detector.gpuTaintKey.
  assert {
    condition = alltrue([
      for k, v in yamldecode(file("../../../charts/cameo/values.yaml")).detector.gpuNodeSelector :
      lookup(aws_eks_node_group.this["gpu"].labels, k, null) == v
    ])
    error_message = "GPU nodes carry the chart's gpuNodeSelector labels from boot (feature discovery would add them too late to scale from zero)."
  }

  assert {
    condition = anytrue([
      for t in aws_eks_node_group.this["gpu"].taint :
      t.key == yamldecode(file("../../../charts/cameo/values.yaml")).detector.gpuTaintKey && t.effect == "NO_SCHEDULE"
    ])
    error_message = "GPU nodes carry the taint the chart tolerates."
  }

  assert {
    condition = (
      { for t in aws_autoscaling_group_tag.gpu_node_template : one(t.tag).key => one(t.tag).value } == {
        "k8s.io/cluster-autoscaler/node-template/label/cameo.dev/pool"     = "gpu"
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"     = "true:NoSchedule"
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu" = "1"
      }
    )
    error_message = "The GPU group's ASG tells the autoscaler its labels, taint and GPU count."
  }

  assert {
    condition     = alltrue([for t in aws_autoscaling_group_tag.gpu_node_template : t.autoscaling_group_name == "eks-group-asg"])
    error_message = "The tags go on the GPU group's own ASG."
  }
}

run "nodes_are_locked_down" {
  assert {
    condition = alltrue([
      for lt in aws_launch_template.node :
      one(lt.metadata_options).http_tokens == "required" && one(lt.metadata_options).http_put_response_hop_limit == 1
    ])
    error_message = "IMDSv2 only, and out of pods' reach (hop limit 1)."
  }

  assert {
    condition     = alltrue([for lt in aws_launch_template.node : one(one(lt.block_device_mappings).ebs).encrypted == "true"])
    error_message = "Node volumes are encrypted."
  }

  assert {
    condition     = alltrue([for g in aws_eks_node_group.this : length(g.remote_access) == 0]) && alltrue([for lt in aws_launch_template.node : lt.key_name == null])
    error_message = "No SSH: no remote access and no key pair."
  }
}

run "control_plane_is_private_encrypted_and_access_entries_only" {
  assert {
    condition     = one(aws_eks_cluster.this.access_config).authentication_mode == "API" && !one(aws_eks_cluster.this.access_config).bootstrap_cluster_creator_admin_permissions
    error_message = "Access entries only (no aws-auth ConfigMap), and no implicit admin for the creator."
  }

  assert {
    condition     = one(aws_eks_cluster.this.vpc_config).endpoint_private_access && one(aws_eks_cluster.this.vpc_config).public_access_cidrs == toset(["203.0.113.0/24"])
    error_message = "The public endpoint is open to the given CIDRs only."
  }

  assert {
    condition     = one(aws_eks_cluster.this.encryption_config).resources == toset(["secrets"])
    error_message = "Secrets are encrypted with KMS."
  }

  assert {
    condition     = toset(keys(aws_eks_addon.this)) == toset(["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"])
    error_message = "The four add-ons, Pod Identity's agent among them."
  }
}

run "private_endpoint_only_without_cidrs" {
  variables {
    endpoint_public_access_cidrs = []
  }

  assert {
    condition     = !one(aws_eks_cluster.this.vpc_config).endpoint_public_access
    error_message = "No CIDRs: no public endpoint."
  }
}

run "refuses_an_api_open_to_the_world" {
  command = plan

  variables {
    endpoint_public_access_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.endpoint_public_access_cidrs]
}
