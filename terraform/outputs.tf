output "api_url" {
  description = "Base URL of the upload and results API."
  value       = module.api.url
}

output "api_auth" {
  description = "What the API's JWT authorizer accepts, the scope each route requires (in the access token's scope claim), and the Cognito pool with its hosted sign-in, when one was created."
  value = {
    issuer               = module.api.jwt_issuer
    audience             = module.api.jwt_audience
    scopes               = module.api.scopes
    route_scopes         = module.api.route_scopes
    cognito_user_pool_id = module.api.cognito_user_pool_id
    cognito_domain       = module.api.cognito_domain
    app_urls             = module.api.app_urls
  }
}

output "cluster_name" {
  description = "Name of the EKS cluster (`aws eks update-kubeconfig --name ...`)."
  value       = module.cluster.name
}

output "region" {
  description = "Region of the deployment."
  value       = var.region
}

output "release_namespace" {
  description = "Namespace the chart is installed in."
  value       = var.release_namespace
}

output "image_repositories" {
  description = "ECR repository URL of each image, by image name."
  value       = module.registry.repository_urls
}

output "registry" {
  description = "The ECR registry host (for `podman login`)."
  value       = module.registry.registry
}

output "roles" {
  description = "Each component's role ARN (bound to its ServiceAccounts by Pod Identity, or named in their IRSA annotations)."
  value = {
    detector        = module.identity.detector_role_arn
    ingest          = module.identity.ingest_role_arn
    gallery_checker = module.identity.gallery_checker_role_arn
    curation_worker = module.identity.curation_worker_role_arn
    api             = module.identity.api_role_arn
  }
}

output "curation_queue_url" {
  description = "URL of the curation queue: the API's word that a movie's corrections changed, for the curation worker."
  value       = module.curation_queue.url
}

output "gallery_queue_url" {
  description = "URL of the gallery queue: photos put through the API, and the API's rebuild and erase requests, for the gallery checker."
  value       = module.gallery_queue.url
}

output "autoscaler_role_arn" {
  description = "Role of the cluster autoscaler (`make deploy` installs it as kube-system/cluster-autoscaler)."
  value       = module.cluster.autoscaler_role_arn
}

output "helm_values" {
  description = "Values for charts/cameo: `tofu output -json helm_values > values.json; helm upgrade --install cameo charts/cameo -f values.json`."
  value = {
    image = {
      operator = { repository = module.registry.repository_urls["cameo-operator"] }
      detector = { repository = module.registry.repository_urls["cameo-detector"] }
      ingest   = { repository = module.registry.repository_urls["cameo-ingest"] }
    }
    watchNamespaces = var.watch_namespaces
    operator = {
      outputBucket = module.storage.processed_bucket
      resultsTable = module.table.name
    }
    detector = {
      serviceAccount  = { name = local.detector_service_account, annotations = module.identity.service_account_annotations.detector }
      gpuNodeSelector = local.gpu_node_labels
      gpuTaintKey     = local.gpu_taint_key
      env             = { AWS_REGION = var.region }
    }
    ingest = {
      enabled        = true
      queueUrl       = module.queue.url
      gallery        = "s3://${module.storage.raw_bucket}/gallery/"
      namespace      = var.watch_namespaces[0]
      table          = module.table.name
      serviceAccount = { name = local.ingest_service_account, annotations = module.identity.service_account_annotations.ingest }
      env            = { AWS_REGION = var.region }
    }
    galleryChecker = {
      enabled        = true
      queueUrl       = module.gallery_queue.url
      gallery        = "s3://${module.storage.raw_bucket}/gallery/"
      serviceAccount = { name = local.gallery_checker_service_account, annotations = module.identity.service_account_annotations["gallery-checker"] }
      env            = { AWS_REGION = var.region }
    }
    curationWorker = {
      enabled        = true
      queueUrl       = module.curation_queue.url
      serviceAccount = { name = local.curation_worker_service_account, annotations = module.identity.service_account_annotations["curation-worker"] }
      env            = { AWS_REGION = var.region }
    }
  }
}
