output "url" {
  description = "URL of the queue (the ingest's or the gallery checker's queueUrl)."
  value       = aws_sqs_queue.uploads.id
}

output "arn" {
  description = "ARN of the queue. It is known only once the queue's policy lets the raw bucket send, so a bucket notification that uses it is created after (S3 checks that it may send)."
  value       = aws_sqs_queue.uploads.arn
  depends_on  = [aws_sqs_queue_policy.uploads, aws_kms_key.queue]
}

output "dead_letter_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.id
}

output "dead_letter_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "kms_key_arn" {
  description = "ARN of the key both queues encrypt with; consumers need kms:Decrypt on it, senders other than S3 kms:GenerateDataKey too."
  value       = aws_kms_key.queue.arn
}
