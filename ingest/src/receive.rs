//! The queue side: long-polls SQS, turns each upload event into its VideoJob, and
//! deletes a message only once every VideoJob it names exists. A transient failure leaves
//! the message to come back after its visibility timeout; one that cannot be understood
//! is left for the queue's redrive policy to move to the dead-letter queue.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use cameo_operator::crd::VideoJob;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

use crate::config::IngestConfig;
use crate::metrics::Metrics;
use crate::videojob::{Upload, desired_videojob, version_of, video_id};
use cameo_model::s3_event::{Notice, ObjectCreated, parse};

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Every upload it names has its VideoJob: delete the message.
    Done,
    /// Cannot be understood or is not ours: left for the dead-letter queue.
    Left(String),
    /// A transient failure: the message comes back.
    Retry(String),
}

pub struct Receiver {
    pub config: IngestConfig,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub videojobs: Api<VideoJob>,
    pub metrics: Arc<Metrics>,
}

impl Receiver {
    /// Receives until `stop` turns true; the messages in hand are finished first.
    pub async fn run(self: Arc<Self>, stop: watch::Receiver<bool>) {
        let loops = (0..self.config.receivers).map(|_| self.clone().receive_loop(stop.clone()));
        futures::future::join_all(loops).await;
    }

    async fn receive_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(500);
        while !*stop.borrow() {
            let received = tokio::select! {
                received = self.receive() => received,
                _ = stop.wait_for(|s| *s) => break,
            };
            let messages = match received {
                Ok(messages) => {
                    backoff = Duration::from_millis(500);
                    messages
                }
                Err(e) => {
                    self.metrics.error("receive");
                    tracing::warn!(error = %e, retry_in = ?backoff, "cannot receive from the queue");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            let handled = futures::future::join_all(messages.iter().map(|m| self.settle(m))).await;
            let done: Vec<&Message> = messages.iter().zip(handled).filter(|(_, done)| *done).map(|(m, _)| m).collect();
            self.delete(&done).await;
        }
    }

    async fn receive(&self) -> Result<Vec<Message>, String> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.config.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(self.config.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        let messages = received.messages.unwrap_or_default();
        self.metrics.messages_received.inc_by(messages.len() as u64);
        let now = jiff::Timestamp::now().as_millisecond();
        for message in &messages {
            let sent = message.attributes().and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp));
            if let Some(sent) = sent.and_then(|s| s.parse::<i64>().ok()) {
                self.metrics.queue_lag.observe((now - sent).max(0) as f64 / 1000.0);
            }
        }
        Ok(messages)
    }

    /// Handles one message; true when it is done with and may be deleted.
    async fn settle(&self, message: &Message) -> bool {
        let id = message.message_id().unwrap_or_default();
        match self.handle(message.body().unwrap_or_default()).await {
            Outcome::Done => true,
            Outcome::Left(reason) => {
                tracing::warn!(message = id, reason, "left for the dead-letter queue");
                false
            }
            Outcome::Retry(reason) => {
                tracing::warn!(message = id, reason, "will be retried");
                false
            }
        }
    }

    /// Deletes handled messages, one request for a receive's worth. One that cannot be
    /// deleted comes back and finds its VideoJob there.
    async fn delete(&self, messages: &[&Message]) {
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            return;
        }
        let count = entries.len();
        let deleted =
            self.sqs.delete_message_batch().queue_url(&self.config.queue_url).set_entries(Some(entries)).send().await;
        match deleted {
            Ok(answer) => {
                let failed = answer.failed().len();
                self.metrics.messages_deleted.inc_by((count - failed.min(count)) as u64);
                for failure in answer.failed() {
                    self.metrics.error("delete");
                    tracing::warn!(entry = failure.id(), code = failure.code(), "cannot delete a handled message");
                }
            }
            Err(e) => {
                self.metrics.error("delete");
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "cannot delete handled messages");
            }
        }
    }

    async fn handle(&self, body: &str) -> Outcome {
        let objects = match parse(body) {
            Ok(Notice::Test) => {
                self.metrics.test_events.inc();
                return Outcome::Done;
            }
            Ok(Notice::Created(objects)) => objects,
            Err(malformed) => {
                self.metrics.malformed(malformed.metric_label());
                return Outcome::Left(malformed.to_string());
            }
        };
        // S3 sends one record per message; should there be more, each must be handled.
        for object in objects {
            match self.ingest(&object).await {
                Outcome::Done => {}
                other => return other,
            }
        }
        Outcome::Done
    }

    /// Makes sure the VideoJob of one created object exists.
    async fn ingest(&self, object: &ObjectCreated) -> Outcome {
        let identity = video_id(&object.key, &self.config.prefix).and_then(|id| Ok((id, version_of(object)?)));
        let (id, version) = match identity {
            Ok(identity) => identity,
            Err(skipped) => {
                self.metrics.malformed(skipped.metric_label());
                return Outcome::Left(skipped.to_string());
            }
        };
        let head = self
            .s3
            .head_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .send()
            .await;
        let head = match head {
            Ok(head) => head,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {
                self.metrics.malformed("object_missing");
                return Outcome::Left(format!("s3://{}/{} no longer exists", object.bucket, object.key));
            }
            Err(e) => {
                self.metrics.error("head");
                return Outcome::Retry(format!(
                    "HEAD s3://{}/{}: {}",
                    object.bucket,
                    object.key,
                    aws_sdk_s3::error::DisplayErrorContext(e)
                ));
            }
        };
        let upload = Upload {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            version,
            size_bytes: head.content_length().map_or(object.size.unwrap_or(0), |l| l.max(0) as u64),
            metadata: head.metadata().cloned().unwrap_or_default().into_iter().collect(),
            run: object.run,
        };
        let videojob = desired_videojob(&upload, id, &self.config);
        let name = videojob.metadata.name.clone().unwrap_or_default();
        match self.videojobs.create(&PostParams::default(), &videojob).await {
            Ok(_) => {
                self.metrics.videojobs_created.inc();
                tracing::info!(videojob = name, source = videojob.spec.source, "created");
                Outcome::Done
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                self.metrics.duplicates.inc();
                tracing::info!(videojob = name, "already exists: a duplicate delivery");
                Outcome::Done
            }
            // Admission refused it (CEL rules): it will never be accepted as it is.
            Err(kube::Error::Api(e)) if e.code == 400 || e.code == 422 => {
                self.metrics.malformed("rejected_by_admission");
                Outcome::Left(format!("the VideoJob {name} was refused: {}", e.message))
            }
            Err(e) => {
                self.metrics.error("create");
                Outcome::Retry(format!("creating the VideoJob {name}: {e}"))
            }
        }
    }
}

/// The entries of one `DeleteMessageBatch` request (at most 10, as a receive returns).
pub fn delete_entries(messages: &[&Message]) -> Vec<DeleteMessageBatchRequestEntry> {
    messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let entry = DeleteMessageBatchRequestEntry::builder().id(i.to_string());
            entry.set_receipt_handle(m.receipt_handle.clone()).build().ok()
        })
        .collect()
}
