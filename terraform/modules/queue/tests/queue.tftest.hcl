# Only the raw bucket may send; what cannot be handled reaches the dead-letter queue.
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
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:mock"
      id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock"
    }
  }
}

variables {
  name            = "cameo-uploads"
  raw_bucket_name = "cameo-raw"
}

run "only_the_raw_bucket_sends" {
  assert {
    condition = anytrue([
      for s in jsondecode(aws_sqs_queue_policy.uploads.policy).Statement :
      s.Effect == "Allow" && s.Principal.Service == "s3.amazonaws.com" && s.Action == "sqs:SendMessage"
      && s.Condition.ArnEquals["aws:SourceArn"] == "arn:aws:s3:::cameo-raw" && s.Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    ])
    error_message = "S3 may send only for the raw bucket of this account."
  }

  assert {
    condition     = length([for s in jsondecode(aws_sqs_queue_policy.uploads.policy).Statement : s if s.Effect == "Allow"]) == 1
    error_message = "Nothing else is allowed by the queue's policy."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key.queue.policy).Statement :
      s.Principal == { Service = "s3.amazonaws.com" } && contains(s.Action, "kms:GenerateDataKey")
      && s.Condition.ArnEquals["aws:SourceArn"] == "arn:aws:s3:::cameo-raw"
    ])
    error_message = "S3 may use the queue's key for the raw bucket's events (else an encrypted queue never receives one)."
  }

  assert {
    condition     = aws_sqs_queue.uploads.kms_master_key_id == aws_kms_key.queue.arn && aws_sqs_queue.dead_letter.kms_master_key_id == aws_kms_key.queue.arn
    error_message = "Both queues are encrypted with the module's key."
  }
}

run "failures_reach_the_dead_letter_queue" {
  assert {
    condition = jsondecode(aws_sqs_queue.uploads.redrive_policy) == {
      deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
      maxReceiveCount     = 5
    }
    error_message = "After max_receive_count receives a message moves to the dead-letter queue."
  }

  assert {
    condition     = jsonencode(jsondecode(aws_sqs_queue.dead_letter.redrive_allow_policy).sourceQueueArns) == jsonencode(["arn:aws:sqs:eu-west-1:123456789012:cameo-uploads"])
    error_message = "Only the upload queue redrives into the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.uploads.visibility_timeout_seconds >= 60
    error_message = "The default visibility timeout leaves the ingest time to HEAD, create and retry."
  }
}
