# The buckets' security and the notifications of uploads and photos, on a mock provider (no AWS).
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
}

variables {
  raw_bucket_name       = "cameo-raw-test"
  processed_bucket_name = "cameo-processed-test"
  upload_queue_arn      = "arn:aws:sqs:eu-west-1:123456789012:cameo-uploads"
  gallery_queue_arn     = "arn:aws:sqs:eu-west-1:123456789012:cameo-gallery"
  cors_allowed_origins  = ["https://app.example.com"]
}

run "buckets_are_private_encrypted_and_tls_only" {
  assert {
    condition = alltrue([
      for block in aws_s3_bucket_public_access_block.this :
      block.block_public_acls && block.block_public_policy && block.ignore_public_acls && block.restrict_public_buckets
    ])
    error_message = "Every bucket blocks all public access."
  }

  assert {
    condition     = length(aws_s3_bucket_policy.this) == 2
    error_message = "Both buckets have a policy."
  }

  assert {
    condition = alltrue([
      for key, policy in aws_s3_bucket_policy.this : anytrue([
        for s in jsondecode(policy.policy).Statement :
        s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" && s.Condition.Bool["aws:SecureTransport"] == "false"
        && contains(s.Resource, aws_s3_bucket.this[key].arn) && contains(s.Resource, "${aws_s3_bucket.this[key].arn}/*")
      ])
    ])
    error_message = "Every bucket's policy denies any request not over TLS, on the bucket and its objects."
  }

  assert {
    condition = alltrue([
      for sse in aws_s3_bucket_server_side_encryption_configuration.this : alltrue([
        for rule in sse.rule : rule.bucket_key_enabled && one(rule.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
      ])
    ])
    error_message = "Every bucket encrypts with SSE-KMS and a bucket key."
  }

  assert {
    condition     = alltrue([for v in aws_s3_bucket_versioning.this : one(v.versioning_configuration).status == "Enabled"])
    error_message = "Every bucket is versioned."
  }

  assert {
    condition     = alltrue([for o in aws_s3_bucket_ownership_controls.this : one(o.rule).object_ownership == "BucketOwnerEnforced"])
    error_message = "ACLs are disabled on every bucket."
  }
}

run "uploads_notify_their_queues_by_prefix_only" {
  assert {
    condition = jsonencode({
      for q in aws_s3_bucket_notification.uploads.queue : q.filter_prefix => { queue = q.queue_arn, events = sort(tolist(q.events)), suffix = q.filter_suffix }
      }) == jsonencode({
      "gallery/.cameo/photos/" = { queue = var.gallery_queue_arn, events = ["s3:ObjectCreated:*"], suffix = null }
      "videos/"                = { queue = var.upload_queue_arn, events = ["s3:ObjectCreated:*"], suffix = null }
    })
    error_message = "Every s3:ObjectCreated:* event under videos/ (PUT, POST and multipart) goes to the upload queue, under gallery/.cameo/photos/ to the gallery queue, and nothing else (not the manifest the checker writes)."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.uploads.queue) == 2 && length(aws_s3_bucket_notification.uploads.topic) == 0 && length(aws_s3_bucket_notification.uploads.lambda_function) == 0
    error_message = "Two queue notifications, nothing else."
  }

  assert {
    condition     = aws_s3_bucket_notification.uploads.bucket == aws_s3_bucket.this["raw"].id
    error_message = "The notification is on the raw bucket."
  }
}

run "lifecycle_aborts_uploads_and_expires_logs" {
  assert {
    condition = alltrue([
      for lc in [aws_s3_bucket_lifecycle_configuration.raw, aws_s3_bucket_lifecycle_configuration.processed] :
      anytrue([for r in lc.rule : length(r.abort_incomplete_multipart_upload) == 1 && length(r.noncurrent_version_expiration) == 1])
    ])
    error_message = "Both buckets abort incomplete multipart uploads and expire old versions."
  }

  assert {
    condition = anytrue([
      for r in aws_s3_bucket_lifecycle_configuration.processed.rule :
      one(r.filter).prefix == "logs/" && one(r.expiration).days == 90
    ])
    error_message = "Logs expire after log_retention_days."
  }
}

run "browsers_may_upload_play_and_read_results" {
  variables {
    cors_allowed_origins = ["https://app.example.com", "https://abc123.execute-api.eu-west-1.amazonaws.com"]
  }

  assert {
    condition = jsonencode({
      for rule in aws_s3_bucket_cors_configuration.raw[0].cors_rule : join(",", sort(tolist(rule.allowed_methods))) => {
        origins = sort(tolist(rule.allowed_origins)), headers = sort(tolist(rule.allowed_headers)), expose = sort(tolist(rule.expose_headers))
      }
      }) == jsonencode({
      "GET,HEAD" = {
        origins = ["https://abc123.execute-api.eu-west-1.amazonaws.com", "https://app.example.com"]
        headers = ["range"]
        expose  = ["Accept-Ranges", "Content-Length", "Content-Range", "ETag"]
      }
      "PUT" = {
        origins = ["https://abc123.execute-api.eu-west-1.amazonaws.com", "https://app.example.com"]
        headers = ["*"]
        expose  = ["ETag"]
      }
    })
    error_message = "The raw bucket lets the configured origins PUT (reading each part's ETag) and GET or HEAD with Range (reading Content-Range, Accept-Ranges, Content-Length and ETag), nothing more."
  }

  assert {
    condition = jsonencode({
      for rule in aws_s3_bucket_cors_configuration.processed[0].cors_rule : join(",", sort(tolist(rule.allowed_methods))) => {
        origins = sort(tolist(rule.allowed_origins)), headers = sort(tolist(rule.allowed_headers)), expose = sort(tolist(rule.expose_headers))
      }
      }) == jsonencode({
      "GET,HEAD" = {
        origins = ["https://abc123.execute-api.eu-west-1.amazonaws.com", "https://app.example.com"]
        headers = ["range"]
        expose  = ["Accept-Ranges", "Content-Length", "Content-Range", "ETag"]
      }
    })
    error_message = "The processed bucket lets the configured origins GET or HEAD with Range only, reading Content-Range, Accept-Ranges, Content-Length and ETag."
  }

  assert {
    condition = alltrue([
      for rule in flatten([for c in concat(aws_s3_bucket_cors_configuration.raw, aws_s3_bucket_cors_configuration.processed) : tolist(c.cors_rule)]) :
      length(setsubtract(rule.allowed_methods, ["GET", "HEAD", "PUT"])) == 0 && alltrue([for o in rule.allowed_origins : !strcontains(o, "*")])
    ])
    error_message = "No CORS rule allows DELETE, POST or any method but GET, HEAD and PUT, nor a wildcard origin."
  }

  assert {
    condition     = aws_s3_bucket_cors_configuration.raw[0].bucket == aws_s3_bucket.this["raw"].id && aws_s3_bucket_cors_configuration.processed[0].bucket == aws_s3_bucket.this["processed"].id
    error_message = "Each CORS configuration is on its own bucket."
  }
}

run "no_cors_without_origins" {
  variables {
    cors_allowed_origins = []
  }

  assert {
    condition     = length(aws_s3_bucket_cors_configuration.raw) == 0 && length(aws_s3_bucket_cors_configuration.processed) == 0
    error_message = "Without origins neither bucket has a CORS rule."
  }
}

run "refuses_a_wildcard_origin_and_a_bad_bucket_name" {
  command = plan

  variables {
    raw_bucket_name      = "Cameo_Raw"
    cors_allowed_origins = ["*"]
  }

  expect_failures = [var.raw_bucket_name, var.cors_allowed_origins]
}
