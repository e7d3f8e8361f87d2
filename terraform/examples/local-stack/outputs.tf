output "stacks" {
  description = "Names and URLs of each stack's resources, by stack: what the local tests use."
  value = {
    for name, _ in var.stacks : name => {
      raw_bucket              = module.storage[name].raw_bucket
      processed_bucket        = module.storage[name].processed_bucket
      table                   = module.table[name].name
      queue_url               = module.queue[name].url
      dead_letter_url         = module.queue[name].dead_letter_url
      gallery_queue_url       = module.gallery_queue[name].url
      gallery_dead_letter_url = module.gallery_queue[name].dead_letter_url
      curation_queue_url      = module.curation_queue[name].url
      app_origins             = sort(distinct(flatten([for rule in module.storage[name].cors_rules.processed : tolist(rule.allowed_origins)])))
      roles = {
        detector        = module.identity[name].detector_role_arn
        ingest          = module.identity[name].ingest_role_arn
        gallery_checker = module.identity[name].gallery_checker_role_arn
        curation_worker = module.identity[name].curation_worker_role_arn
        api             = module.identity[name].api_role_arn
      }
    }
  }
}

output "image_repositories" {
  description = "ECR repository URL of each image."
  value       = module.registry.repository_urls
}
