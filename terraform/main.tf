# cameo on AWS: the network, EKS with a GPU node group that rests at zero, the buckets,
# the upload and gallery queues, the table, the image repositories, the upload and results
# API, and a role per component. `make deploy` applies this, pushes the images and
# installs the chart with the `helm_values` output.

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ app = "cameo", "app.kubernetes.io/part-of" = "cameo" }, var.tags)
  }
}

data "aws_caller_identity" "current" {}
data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394: only the first three names are used, and a new zone sorts after them; availability_zones pins them outright.
  state = "available"
}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  azs              = coalesce(var.availability_zones, slice(data.aws_availability_zones.available.names, 0, 3))
  raw_bucket       = coalesce(var.raw_bucket_name, "${var.name}-raw-${local.account_id}-${var.region}")
  processed_bucket = coalesce(var.processed_bucket_name, "${var.name}-processed-${local.account_id}-${var.region}")
  api_name         = "${var.name}-api"
  # The chart's ServiceAccount names for release "cameo" (its full name is the release
  # name when that contains the chart's name).
  detector_service_account        = "cameo-detector"
  ingest_service_account          = "cameo-ingest"
  gallery_checker_service_account = "cameo-gallery-checker"
  curation_worker_service_account = "cameo-curation-worker"
  # What the chart's shard pods select and tolerate by default (its values.yaml), so
  # the two cannot drift: GPU nodes carry those labels from boot.
  chart_detector  = yamldecode(file("${path.module}/../charts/cameo/values.yaml")).detector
  gpu_node_labels = local.chart_detector.gpuNodeSelector
  gpu_taint_key   = local.chart_detector.gpuTaintKey
}

module "network" {
  source = "./modules/network"

  name               = var.name
  cidr               = var.vpc_cidr
  availability_zones = local.azs
  nat_per_az         = var.nat_per_az
  cluster_name       = var.name
}

module "cluster" {
  source = "./modules/cluster"

  name                         = var.name
  kubernetes_version           = var.kubernetes_version
  subnet_ids                   = module.network.private_subnet_ids
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  admin_principal_arns         = var.admin_principal_arns
  system_instance_types        = var.system_instance_types
  gpu_instance_types           = var.gpu_instance_types
  gpus_per_node                = var.gpus_per_node
  gpu_capacity_type            = var.gpu_capacity_type
  gpu_max_nodes                = var.gpu_max_nodes
  gpu_node_labels              = local.gpu_node_labels
  gpu_taint_key                = local.gpu_taint_key
}

module "queue" {
  source = "./modules/queue"

  name            = "${var.name}-uploads"
  raw_bucket_name = local.raw_bucket
}

# Photos put through the API (the raw bucket's events under gallery/.cameo/photos/) and the
# API's rebuild and erase requests, for the gallery checker.
module "gallery_queue" {
  source = "./modules/queue"

  name            = "${var.name}-gallery"
  raw_bucket_name = local.raw_bucket
  # A photo is checked in seconds; the checker extends the timeout for longer work.
  visibility_timeout_seconds = 300
}

# The API's word that a movie's corrections changed, for the curation worker (no bucket
# notification targets it).
module "curation_queue" {
  source = "./modules/queue"

  name            = "${var.name}-curation"
  raw_bucket_name = local.raw_bucket
}

module "storage" {
  source = "./modules/storage"

  raw_bucket_name       = local.raw_bucket
  processed_bucket_name = local.processed_bucket
  # The app the API serves (its own origin) always reaches the buckets. No distinct(): its
  # length would be unknown until the API exists, and count needs it at plan; the
  # provider keeps the origins as a set, so a repeat is dropped.
  cors_allowed_origins = concat([module.api.endpoint], var.cors_allowed_origins)
  upload_queue_arn     = module.queue.arn
  gallery_queue_arn    = module.gallery_queue.arn
  force_destroy        = !var.protect_data
}

module "table" {
  source = "./modules/table"

  deletion_protection = var.protect_data
}

module "registry" {
  source = "./modules/registry"

  name_prefix  = var.name
  force_delete = !var.protect_data
}

# IRSA needs the cluster's OIDC provider; Pod Identity needs nothing more.
resource "aws_iam_openid_connect_provider" "cluster" {
  count = var.identity_binding == "irsa" ? 1 : 0

  url            = module.cluster.oidc_issuer
  client_id_list = ["sts.amazonaws.com"]
}

module "identity" {
  source = "./modules/identity"

  name_prefix                = var.name
  raw_bucket_arn             = module.storage.raw_bucket_arn
  processed_bucket_arn       = module.storage.processed_bucket_arn
  bucket_kms_key_arn         = module.storage.kms_key_arn
  table_arn                  = module.table.arn
  table_kms_key_arn          = module.table.kms_key_arn
  queue_arn                  = module.queue.arn
  queue_kms_key_arn          = module.queue.kms_key_arn
  gallery_queue_arn          = module.gallery_queue.arn
  gallery_queue_kms_key_arn  = module.gallery_queue.kms_key_arn
  curation_queue_arn         = module.curation_queue.arn
  curation_queue_kms_key_arn = module.curation_queue.kms_key_arn
  api_function_name          = local.api_name
  binding                    = var.identity_binding
  cluster_name               = module.cluster.name
  oidc_provider_arn          = var.identity_binding == "irsa" ? aws_iam_openid_connect_provider.cluster[0].arn : null
  detector_service_accounts = [
    for namespace in var.watch_namespaces : { namespace = namespace, name = local.detector_service_account }
  ]
  ingest_service_account          = { namespace = var.release_namespace, name = local.ingest_service_account }
  gallery_checker_service_account = { namespace = var.release_namespace, name = local.gallery_checker_service_account }
  curation_worker_service_account = { namespace = var.release_namespace, name = local.curation_worker_service_account }
}

module "api" {
  source = "./modules/api"

  name                  = local.api_name
  lambda_zip            = var.lambda_zip
  role_arn              = module.identity.api_role_arn
  jwt_issuer            = var.jwt_issuer
  jwt_audience          = var.jwt_audience
  app_urls              = var.app_urls
  cognito_domain_prefix = var.cognito_domain_prefix
  external_sign_in      = var.external_sign_in
  cors_allowed_origins  = var.cors_allowed_origins
  environment = {
    CAMEO_RAW_BUCKET         = module.storage.raw_bucket
    CAMEO_PROCESSED_BUCKET   = module.storage.processed_bucket
    CAMEO_TABLE              = module.table.name
    CAMEO_GALLERY_QUEUE_URL  = module.gallery_queue.url
    CAMEO_CURATION_QUEUE_URL = module.curation_queue.url
    CAMEO_INGEST_QUEUE_URL   = module.queue.url
  }
}
