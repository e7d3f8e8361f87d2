//! Queues on moto: the benchmark makes a queue per round and notifies it of its bucket's
//! `s3:ObjectCreated:*` events (moto then sends a test event); the flow tests, whose
//! queue Terraform made, count its messages.
#![allow(dead_code)] // the tests and the benchmark each use a part

use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
use aws_sdk_sqs::types::QueueAttributeName;
use cameo_ingest::aws::Clients;

/// Creates queue `name` with `attributes`; its URL and ARN.
pub async fn create_queue(aws: &Clients, name: &str, attributes: &[(QueueAttributeName, String)]) -> (String, String) {
    let mut create = aws.sqs.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        create = create.attributes(attribute.clone(), value);
    }
    let url = create.send().await.expect("the queue is created").queue_url.expect("a queue URL");
    let attributes = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("the queue's attributes")
        .attributes
        .unwrap_or_default();
    let arn = attributes[&QueueAttributeName::QueueArn].clone();
    (url, arn)
}

/// Messages in the queue: `(visible, in flight)`, as SQS approximates them.
pub async fn message_counts(aws: &Clients, url: &str) -> (u64, u64) {
    let attributes = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("the queue's attributes")
        .attributes
        .unwrap_or_default();
    let count = |name| attributes.get(&name).and_then(|v: &String| v.parse::<u64>().ok()).unwrap_or(0);
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// The bucket's object-created events go to the queue `arn` (and to no other).
pub async fn notify(aws: &Clients, bucket: &str, arn: &str) {
    let notification =
        QueueConfiguration::builder().queue_arn(arn).events(Event::from("s3:ObjectCreated:*")).build().unwrap();
    aws.s3
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(notification).build())
        .send()
        .await
        .expect("the bucket notifies the queue");
}
