# The data side of cameo (buckets, queues and notifications, table, repositories, roles)
# applied to moto on 127.0.0.1: `hack/with-cluster` applies this before the local-stack
# tests, which read every name from its outputs, so code and Terraform use one set of
# names. The network, EKS and the API need real AWS (or the Lambda zip) and are checked by
# `tofu test` with a mock provider instead.

provider "aws" {
  region                      = var.region
  access_key                  = "cameo-test"
  secret_key                  = "cameo-test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    dynamodb = var.endpoint
    ecr      = var.endpoint
    eks      = var.endpoint
    iam      = var.endpoint
    kms      = var.endpoint
    s3       = var.endpoint
    sqs      = var.endpoint
    sts      = var.endpoint
  }
}

module "queue" {
  source   = "../../modules/queue"
  for_each = var.stacks

  name                       = "${each.key}-uploads"
  raw_bucket_name            = "${each.key}-raw"
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  max_receive_count          = each.value.max_receive_count
  # moto does not keep a RedriveAllowPolicy, so the provider would wait for it forever.
  restrict_redrive_sources = false
}

module "gallery_queue" {
  source   = "../../modules/queue"
  for_each = var.stacks

  name                       = "${each.key}-gallery"
  raw_bucket_name            = "${each.key}-raw"
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  max_receive_count          = each.value.max_receive_count
  restrict_redrive_sources   = false
}

module "curation_queue" {
  source   = "../../modules/queue"
  for_each = var.stacks

  name                       = "${each.key}-curation"
  raw_bucket_name            = "${each.key}-raw"
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  max_receive_count          = each.value.max_receive_count
  restrict_redrive_sources   = false
}

module "storage" {
  source   = "../../modules/storage"
  for_each = var.stacks

  raw_bucket_name       = "${each.key}-raw"
  processed_bucket_name = "${each.key}-processed"
  upload_queue_arn      = module.queue[each.key].arn
  gallery_queue_arn     = module.gallery_queue[each.key].arn
  # moto answers a preflight from a bucket's last CORS rule whatever the method (raw:
  # the upload rule, in the provider's set order) and echoes any Origin on other requests.
  cors_allowed_origins = ["http://127.0.0.1:8080"]
  require_tls          = each.value.require_tls
  force_destroy        = true
}

module "table" {
  source   = "../../modules/table"
  for_each = var.stacks

  name                = each.value.table
  deletion_protection = false
}

module "registry" {
  source = "../../modules/registry"

  force_delete = true
}

# IRSA, because moto has no Pod Identity: the roles' trust names a cluster's OIDC issuer.
resource "aws_iam_openid_connect_provider" "local" {
  url             = "https://oidc.eks.${var.region}.amazonaws.com/id/CAMEOLOCAL"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
}

module "identity" {
  source   = "../../modules/identity"
  for_each = var.stacks

  name_prefix                = each.key
  raw_bucket_arn             = module.storage[each.key].raw_bucket_arn
  processed_bucket_arn       = module.storage[each.key].processed_bucket_arn
  bucket_kms_key_arn         = module.storage[each.key].kms_key_arn
  table_arn                  = module.table[each.key].arn
  table_kms_key_arn          = module.table[each.key].kms_key_arn
  queue_arn                  = module.queue[each.key].arn
  queue_kms_key_arn          = module.queue[each.key].kms_key_arn
  gallery_queue_arn          = module.gallery_queue[each.key].arn
  gallery_queue_kms_key_arn  = module.gallery_queue[each.key].kms_key_arn
  curation_queue_arn         = module.curation_queue[each.key].arn
  curation_queue_kms_key_arn = module.curation_queue[each.key].kms_key_arn
  api_function_name          = "${each.key}-api"
  binding                    = "irsa"
  oidc_provider_arn          = aws_iam_openid_connect_provider.local.arn
}
