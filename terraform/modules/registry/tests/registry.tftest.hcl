# One repository per image: immutable tags, scanned, encrypted with our key, pruned.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
}

run "repositories_are_immutable_scanned_and_encrypted" {
  assert {
    condition     = toset(keys(aws_ecr_repository.this)) == toset(["cameo-operator", "cameo-detector", "cameo-ingest"])
    error_message = "A repository for each image cameo ships."
  }

  assert {
    condition = alltrue([
      for r in aws_ecr_repository.this :
      r.image_tag_mutability == "IMMUTABLE" && one(r.image_scanning_configuration).scan_on_push
      && one(r.encryption_configuration).encryption_type == "KMS" && one(r.encryption_configuration).kms_key == aws_kms_key.images.arn
    ])
    error_message = "Tags are immutable, every push is scanned, images are encrypted with the module's key."
  }

  assert {
    condition = alltrue([
      for p in aws_ecr_lifecycle_policy.this : length(jsondecode(p.policy).rules) == 2
    ])
    error_message = "Untagged images expire and old tagged ones are pruned."
  }
}
