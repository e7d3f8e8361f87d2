# The whole deployment on a mock provider: the chart's values agree with the cluster and
# the API is authenticated, throttled and logged. Run by hack/check-terraform, which
# passes -var lambda_zip=<an empty zip> (the file is hashed, never read by a mock).
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
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:mock"
      id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock/invocations"
    }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:mock"
      api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
    }
  }
  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/mock"
      repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mock"
    }
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
  region                       = "eu-west-1"
  availability_zones           = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  admin_principal_arns         = ["arn:aws:iam::123456789012:role/platform"]
  watch_namespaces             = ["media", "trailers"]
}

run "helm_values_match_the_cluster" {
  assert {
    condition = alltrue([
      for k, v in output.helm_values.detector.gpuNodeSelector : lookup(module.cluster.node_groups.gpu.labels, k, null) == v
    ])
    error_message = "The detector's node selector is satisfied by the GPU group's labels."
  }

  assert {
    condition     = anytrue([for t in module.cluster.node_groups.gpu.taints : t.key == output.helm_values.detector.gpuTaintKey && t.effect == "NO_SCHEDULE"])
    error_message = "The detector tolerates the GPU group's taint."
  }

  assert {
    condition     = module.cluster.node_groups.gpu.min == 0
    error_message = "The GPU group rests at zero."
  }

  assert {
    condition = (
      output.helm_values.ingest.queueUrl == module.queue.url
      && output.helm_values.ingest.gallery == "s3://${module.storage.raw_bucket}/gallery/"
      && output.helm_values.operator.outputBucket == module.storage.processed_bucket
      && output.helm_values.operator.resultsTable == module.table.name
      && output.helm_values.ingest.table == module.table.name
      && output.helm_values.ingest.namespace == "media"
      && jsonencode(output.helm_values.watchNamespaces) == jsonencode(["media", "trailers"])
    )
    error_message = "The chart is pointed at the buckets, queue and table this stack made."
  }

  assert {
    condition = (
      output.helm_values.galleryChecker.queueUrl == module.gallery_queue.url
      && output.helm_values.galleryChecker.gallery == output.helm_values.ingest.gallery
      && output.helm_values.galleryChecker.serviceAccount.name == "cameo-gallery-checker"
      && output.roles.gallery_checker == module.identity.gallery_checker_role_arn
    )
    error_message = "The gallery checker is pointed at the gallery queue and the gallery, as its role's ServiceAccount."
  }

  assert {
    condition = (
      output.helm_values.curationWorker.queueUrl == module.curation_queue.url
      && output.helm_values.curationWorker.serviceAccount.name == "cameo-curation-worker"
      && output.roles.curation_worker == module.identity.curation_worker_role_arn
    )
    error_message = "The curation worker is pointed at the curation queue, as its role's ServiceAccount."
  }

  assert {
    condition = alltrue([
      for section in ["detector", "ingest", "galleryChecker", "curationWorker"] : length(output.helm_values[section].serviceAccount.annotations) == 0
    ])
    error_message = "With Pod Identity the ServiceAccounts need no annotation."
  }
}

run "helm_values_name_only_keys_the_chart_has" {
  assert {
    condition = alltrue(flatten([
      for section, values in output.helm_values : [
        for key in try(keys(values), []) :
        contains(keys(yamldecode(file("../charts/cameo/values.yaml"))[section]), key)
      ] if can(yamldecode(file("../charts/cameo/values.yaml"))[section])
    ])) && alltrue([for section in keys(output.helm_values) : can(yamldecode(file("../charts/cameo/values.yaml"))[section])])
    error_message = "Every key of helm_values (two levels deep) is one of charts/cameo/values.yaml."
  }
}

run "the_api_requires_scopes_and_tells_the_gallery_checker" {
  assert {
    condition = length(output.api_auth.route_scopes) == 30 && alltrue([
      for route, scopes in output.api_auth.route_scopes : length(scopes) > 0 && alltrue([for s in scopes : contains(values(output.api_auth.scopes), s)])
    ])
    error_message = "Every route of the API requires one of its scopes."
  }

  assert {
    condition     = output.api_auth.cognito_domain == "https://cameo-api.auth.eu-west-1.amazoncognito.com"
    error_message = "Without an issuer, Cognito's hosted sign-in is named after the API."
  }

  assert {
    condition     = module.api.function_name == "cameo-api" && contains(keys(output.api_auth.route_scopes), "POST /videos/{id}/analyse")
    error_message = "The API may have a video analysed again."
  }
}

run "buckets_follow_the_account_and_region" {
  assert {
    condition     = module.storage.raw_bucket == "cameo-raw-123456789012-eu-west-1" && module.storage.processed_bucket == "cameo-processed-123456789012-eu-west-1"
    error_message = "Default bucket names are unique per account and region."
  }
}

run "the_app_the_api_serves_reaches_the_buckets" {
  assert {
    condition = (
      module.api.endpoint == "https://abc123.execute-api.eu-west-1.amazonaws.com"
      && length(module.storage.cors_rules.raw) == 2 && length(module.storage.cors_rules.processed) == 1
      && alltrue([for rule in concat(module.storage.cors_rules.raw, module.storage.cors_rules.processed) : rule.allowed_origins == toset([module.api.endpoint])])
    )
    error_message = "Without other origins, both buckets' CORS rules name the API's own origin (scheme://host, no stage path), and only it."
  }
}

run "other_front_ends_reach_the_buckets_beside_the_app" {
  variables {
    cors_allowed_origins = ["https://viewer.example.com", "https://abc123.execute-api.eu-west-1.amazonaws.com"]
  }

  assert {
    condition = alltrue([
      for rule in concat(module.storage.cors_rules.raw, module.storage.cors_rules.processed) :
      rule.allowed_origins == toset([module.api.endpoint, "https://viewer.example.com"])
    ])
    error_message = "Both buckets' CORS rules name the API's origin and the configured ones, each once."
  }
}

run "irsa_annotates_the_service_accounts" {
  variables {
    identity_binding = "irsa"
  }

  assert {
    condition     = output.helm_values.detector.serviceAccount.annotations["eks.amazonaws.com/role-arn"] == module.identity.detector_role_arn
    error_message = "With IRSA the detector's ServiceAccount names its role."
  }

  assert {
    condition     = output.helm_values.galleryChecker.serviceAccount.annotations["eks.amazonaws.com/role-arn"] == module.identity.gallery_checker_role_arn
    error_message = "With IRSA the gallery checker's ServiceAccount names its role."
  }
}

run "refuses_a_deployment_nobody_can_administer" {
  command = plan

  variables {
    admin_principal_arns = []
  }

  expect_failures = [var.admin_principal_arns]
}
