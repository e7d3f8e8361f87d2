# A queue of the raw bucket's events and its consumer, with a dead-letter queue for what
# the consumer cannot handle: the upload events for the ingest, and the gallery photos
# (and the API's rebuild and erase requests) for the gallery checker. Encrypted with a key
# S3 may use: S3 encrypts what it sends, so a queue on an AWS-managed key would never
# receive an event. Other senders (the API) are allowed by their own IAM policies.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  raw_bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.raw_bucket_name}"
  account_id     = data.aws_caller_identity.current.account_id
  uploads_arn    = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.region}:${local.account_id}:${var.name}"
  # Only S3 acting for the raw bucket of this account (no confused deputy).
  from_raw_bucket = {
    ArnEquals    = { "aws:SourceArn" = local.raw_bucket_arn }
    StringEquals = { "aws:SourceAccount" = local.account_id }
  }
}

resource "aws_kms_key" "queue" {
  description             = "cameo S3 events (${var.name})"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "RawBucketEncryptsEvents"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = local.from_raw_bucket
      },
    ]
  })
  tags = var.tags
}

resource "aws_kms_alias" "queue" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.queue.key_id
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = var.dead_letter_retention_seconds
  kms_master_key_id         = aws_kms_key.queue.arn
  # Only the upload queue may move messages here (its ARN is built, as the queue
  # itself names this one in its redrive policy).
  redrive_allow_policy = var.restrict_redrive_sources ? jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.uploads_arn]
  }) : null
  tags = var.tags
}

resource "aws_sqs_queue" "uploads" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  # Long polling is the ingest's; a queue default keeps other consumers cheap too.
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.queue.arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_sqs_queue_policy" "uploads" {
  queue_url = aws_sqs_queue.uploads.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "RawBucketSends"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.uploads.arn
        Condition = local.from_raw_bucket
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.uploads.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}
