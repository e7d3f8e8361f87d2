# The two buckets: raw (uploads under videos/, the gallery under gallery/) and processed
# (results/, logs/, cache/). Private, SSE-KMS with bucket keys, versioned, TLS only.

locals {
  buckets = {
    raw       = var.raw_bucket_name
    processed = var.processed_bucket_name
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "buckets" {
  description             = "cameo buckets (${var.raw_bucket_name}, ${var.processed_bucket_name})"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  # The account administers the key; roles get use of it through their own IAM policies.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
  tags = var.tags
}

resource "aws_kms_alias" "buckets" {
  name          = "alias/${var.raw_bucket_name}-buckets"
  target_key_id = aws_kms_key.buckets.key_id
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: server access logs cannot be delivered to an SSE-KMS bucket; audit S3 with CloudTrail data events.
  # checkov:skip=CKV_AWS_144: one region by design: results can be made again from the videos, and versioning keeps what is overwritten.
  # checkov:skip=CKV2_AWS_62: the raw bucket's events go to the upload and gallery queues (aws_s3_bucket_notification.uploads); nothing consumes the processed bucket's.
  # checkov:skip=CKV2_AWS_61: both have lifecycle rules (aws_s3_bucket_lifecycle_configuration.raw and .processed), which checkov cannot follow through for_each.
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.buckets.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = var.require_tls ? local.buckets : {}

  bucket = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "raw" {
  bucket = aws_s3_bucket.this["raw"].id

  rule {
    id     = "abort-incomplete-uploads-and-expire-old-versions"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_upload_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "processed" {
  bucket = aws_s3_bucket.this["processed"].id

  # The shards' candidate face crops: the merge picks the winners within the job's life,
  # and a day is the shortest expiration S3 has.
  rule {
    id     = "expire-candidate-face-crops"
    status = "Enabled"
    filter {
      prefix = "candidates/"
    }
    expiration {
      days = 1
    }
  }

  rule {
    id     = "abort-incomplete-uploads-and-expire-old-versions"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_upload_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
  }

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {
      prefix = "logs/"
    }
    expiration {
      days = var.log_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# The app's origins (the API's own URL among them) reach the buckets through presigned
# URLs. GET and HEAD: a <video> seeks with Range, and the app reads the length, range and
# ETag of what came back. S3 answers with the first rule whose method matches.
locals {
  cors_read_rule = {
    allowed_methods = ["GET", "HEAD"]
    allowed_headers = ["range"]
    expose_headers  = ["Accept-Ranges", "Content-Length", "Content-Range", "ETag"]
    max_age_seconds = 3600
  }
}

# Raw: playback of the videos, and the uploads' PUTs, whose parts' ETags complete a
# multipart upload.
resource "aws_s3_bucket_cors_configuration" "raw" {
  count = length(var.cors_allowed_origins) > 0 ? 1 : 0

  bucket = aws_s3_bucket.this["raw"].id
  cors_rule {
    id              = "read"
    allowed_methods = local.cors_read_rule.allowed_methods
    allowed_origins = var.cors_allowed_origins
    allowed_headers = local.cors_read_rule.allowed_headers
    expose_headers  = local.cors_read_rule.expose_headers
    max_age_seconds = local.cors_read_rule.max_age_seconds
  }
  cors_rule {
    id              = "upload"
    allowed_methods = ["PUT"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

# Processed: browsers only read it (results over 4 MiB, which the API answers with a
# redirect here; face crops; subtitles).
resource "aws_s3_bucket_cors_configuration" "processed" {
  count = length(var.cors_allowed_origins) > 0 ? 1 : 0

  bucket = aws_s3_bucket.this["processed"].id
  cors_rule {
    id              = "read"
    allowed_methods = local.cors_read_rule.allowed_methods
    allowed_origins = var.cors_allowed_origins
    allowed_headers = local.cors_read_rule.allowed_headers
    expose_headers  = local.cors_read_rule.expose_headers
    max_age_seconds = local.cors_read_rule.max_age_seconds
  }
}

# PUT, POST and CompleteMultipartUpload are all ObjectCreated. A bucket has one
# notification configuration, so both queues are here: videos to the ingest, photos put
# through the API to the gallery checker (nothing else under gallery/: the manifest the
# checker writes there must not wake it again).
resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.this["raw"].id

  queue {
    id            = "videos-to-ingest"
    queue_arn     = var.upload_queue_arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "videos/"
  }

  queue {
    id            = "photos-to-gallery-checker"
    queue_arn     = var.gallery_queue_arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "gallery/.cameo/photos/"
  }
}
