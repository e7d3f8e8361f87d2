//! The table side: watches the VideoJobs the ingest created (by label) and writes each
//! one's state to the table as `VIDEO#<video id>` / `STATE`, for the API. Writes are
//! conditional on moving forward (see `cameo_model::processing`), so replicas, restarts
//! and stale watch events can repeat them harmlessly; a failed write is retried.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_model::processing::{PROCESSING_SK, PROCESSING_WRITE_CONDITION, ProcessingItem, ProcessingState};
use cameo_model::table::video_pk;
use cameo_operator::crd::{Phase, VideoJob};
use cameo_operator::status::{ACCEPTED, FAILED, WAITING};
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::videojob::{ANALYSIS_RUN_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, VIDEO_ID_LABEL};

/// A run's orders lie above every order of the runs before it: a video analysed again
/// goes back to queued, and the old VideoJob's late events can never overwrite the new.
const ORDERS_PER_RUN: u64 = 100_000;

/// How far along its life a phase is; the state's `order` is built from it.
fn phase_rank(phase: Phase) -> u64 {
    match phase {
        Phase::Pending => 0,
        // An invalid spec waits for a fix, after which the VideoJob runs on.
        Phase::Invalid => 1,
        Phase::Detecting | Phase::Suspended => 2,
        Phase::Merging => 3,
        Phase::Succeeded | Phase::Failed => 4,
    }
}

fn state_of(phase: Phase) -> ProcessingState {
    match phase {
        Phase::Pending => ProcessingState::Queued,
        Phase::Detecting | Phase::Suspended | Phase::Merging => ProcessingState::Processing,
        Phase::Succeeded => ProcessingState::Succeeded,
        Phase::Failed | Phase::Invalid => ProcessingState::Failed,
    }
}

/// The state item of a VideoJob the ingest created; `None` for one without a video id.
pub fn processing_item(vj: &VideoJob, now: jiff::Timestamp) -> Option<ProcessingItem> {
    let video_id = vj.labels().get(VIDEO_ID_LABEL)?.clone();
    let status = vj.status.clone().unwrap_or_default();
    let condition = |type_: &str| status.conditions.iter().find(|c| c.type_ == type_);
    let reason = match status.phase {
        Phase::Failed => condition(FAILED).map(|c| c.message.clone()),
        Phase::Invalid => condition(ACCEPTED).map(|c| c.message.clone()),
        // Why it does not run yet: a quota, no node that fits, a queue.
        _ => condition(WAITING).filter(|c| c.status == "True").map(|c| c.message.clone()),
    };
    let succeeded = u64::try_from(status.shards.succeeded).unwrap_or(0).min(9_999);
    let run: u64 = vj.annotations().get(ANALYSIS_RUN_ANNOTATION).and_then(|r| r.parse().ok()).unwrap_or(0);
    let result = status.result.as_ref().filter(|_| status.phase == Phase::Succeeded);
    Some(ProcessingItem {
        pk: video_pk(&video_id),
        sk: PROCESSING_SK.into(),
        video_id,
        state: state_of(status.phase),
        phase: status.phase.as_str().into(),
        order: run * ORDERS_PER_RUN + phase_rank(status.phase) * 10_000 + succeeded,
        video_job: format!("{}/{}", vj.namespace().unwrap_or_default(), vj.name_any()),
        source: vj.spec.source.clone(),
        reason: reason.filter(|r| !r.is_empty()),
        shards_total: u32::try_from(status.shards.total).unwrap_or(0),
        shards_succeeded: succeeded as u32,
        result_uri: result.map(|r| r.uri.clone()),
        actors_found: result.map(|r| u32::try_from(r.actors_found).unwrap_or(0)),
        started_at: status.start_time.map(|t| t.0.to_string()),
        completed_at: status.completion_time.map(|t| t.0.to_string()),
        updated_at: now.to_string(),
    })
}

pub struct Mirror {
    pub videojobs: Api<VideoJob>,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    pub metrics: Arc<Metrics>,
}

/// A retry of failed writes this often.
const RETRY_EVERY: Duration = Duration::from_secs(5);

impl Mirror {
    /// Mirrors until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY}");
        let events = watcher(self.videojobs.clone(), watcher::Config::default().labels(&selector))
            .default_backoff()
            .applied_objects();
        let mut events = std::pin::pin!(events);
        // What this replica last wrote of each VideoJob (a small entry per VideoJob seen,
        // so repeated watch events cost no write), and those whose write failed.
        let mut written: HashMap<String, (u64, String)> = HashMap::new();
        let mut failed: HashMap<String, VideoJob> = HashMap::new();
        let mut retry = tokio::time::interval(RETRY_EVERY);
        loop {
            let batch: Vec<VideoJob> = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                event = events.next() => match event {
                    Some(Ok(vj)) => vec![vj],
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "watching VideoJobs");
                        continue;
                    }
                    None => return,
                },
                _ = retry.tick() => failed.drain().map(|(_, vj)| vj).collect(),
            };
            for vj in batch {
                let Some(item) = processing_item(&vj, jiff::Timestamp::now()) else { continue };
                let key = item.video_job.clone();
                if written.get(&key).is_some_and(|(order, phase)| *order == item.order && *phase == item.phase) {
                    continue;
                }
                match self.write(&item).await {
                    Ok(()) => {
                        written.insert(key, (item.order, item.phase));
                    }
                    Err(e) => {
                        self.metrics.error("state_write");
                        tracing::warn!(videojob = key, error = e, "cannot write the state; will retry");
                        failed.insert(key, vj);
                    }
                }
            }
        }
    }

    /// A conditional put: a state that is not newer than the table's is refused, which
    /// counts as done.
    async fn write(&self, item: &ProcessingItem) -> Result<(), String> {
        let attributes = serde_dynamo::to_item(item).map_err(|e| e.to_string())?;
        let put = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes))
            .condition_expression(PROCESSING_WRITE_CONDITION)
            .expression_attribute_names("#order", "order")
            .expression_attribute_names("#phase", "phase")
            .expression_attribute_values(":order", AttributeValue::N(item.order.to_string()))
            .expression_attribute_values(":phase", AttributeValue::S(item.phase.clone()))
            .send()
            .await;
        match put {
            Ok(_) => {
                self.metrics.state_write("written");
                Ok(())
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                self.metrics.state_write("stale");
                Ok(())
            }
            Err(e) => Err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cameo_operator::crd::{ResultSummary, ShardCounts, VideoJobSpec, VideoJobStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
    use kube::api::ObjectMeta;

    fn videojob(phase: Phase, succeeded: i32, conditions: Vec<Condition>) -> VideoJob {
        VideoJob {
            metadata: ObjectMeta {
                name: Some("v1-abc".into()),
                namespace: Some("media".into()),
                labels: Some([(VIDEO_ID_LABEL.to_string(), "v1".to_string())].into()),
                ..ObjectMeta::default()
            },
            spec: VideoJobSpec::new("s3://raw/videos/v1/a.mp4".into(), "s3://raw/g/".into()),
            status: Some(VideoJobStatus {
                phase,
                conditions,
                shards: ShardCounts { total: 2, succeeded, failed: 0, active: 0 },
                result: Some(ResultSummary {
                    uri: "s3://p/r.json".into(),
                    actors_found: 1,
                    ..ResultSummary::default()
                }),
                ..VideoJobStatus::default()
            }),
        }
    }

    fn condition(type_: &str, message: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: "True".into(),
            reason: "R".into(),
            message: message.into(),
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH),
            observed_generation: Some(1),
        }
    }

    fn order(phase: Phase, succeeded: i32) -> u64 {
        processing_item(&videojob(phase, succeeded, vec![]), jiff::Timestamp::now()).unwrap().order
    }

    #[test]
    fn the_order_only_grows_along_a_videojobs_life() {
        let life = [
            order(Phase::Pending, 0),
            order(Phase::Invalid, 0),
            order(Phase::Detecting, 0),
            order(Phase::Detecting, 1),
            order(Phase::Merging, 2),
            order(Phase::Succeeded, 2),
        ];
        assert!(life.windows(2).all(|w| w[0] < w[1]), "{life:?}");
        // Suspending and resuming are the same step: either may follow the other.
        assert_eq!(order(Phase::Suspended, 1), order(Phase::Detecting, 1));
        assert_eq!(order(Phase::Failed, 0), order(Phase::Succeeded, 0));
    }

    #[test]
    fn an_analysis_asked_again_starts_above_every_order_of_the_one_before() {
        let mut again = videojob(Phase::Pending, 0, vec![]);
        again.metadata.annotations = Some([(ANALYSIS_RUN_ANNOTATION.to_string(), "1".to_string())].into());
        let first_done = order(Phase::Succeeded, 9_999);
        let queued_again = processing_item(&again, jiff::Timestamp::now()).unwrap();
        assert!(queued_again.order > first_done, "{} <= {first_done}", queued_again.order);
        assert_eq!(queued_again.state, ProcessingState::Queued);
    }

    #[test]
    fn a_failure_carries_its_reason_and_a_success_its_result() {
        let failed = videojob(Phase::Failed, 0, vec![condition(FAILED, "s3://raw/videos/v1/a.mp4 is not a video")]);
        let item = processing_item(&failed, jiff::Timestamp::now()).unwrap();
        assert_eq!(
            (item.state, item.reason.as_deref()),
            (ProcessingState::Failed, Some("s3://raw/videos/v1/a.mp4 is not a video"))
        );
        assert_eq!((item.pk.as_str(), item.video_job.as_str(), item.result_uri), ("VIDEO#v1", "media/v1-abc", None));

        let invalid = videojob(Phase::Invalid, 0, vec![condition(ACCEPTED, "spec.shards is 99")]);
        let item = processing_item(&invalid, jiff::Timestamp::now()).unwrap();
        assert_eq!((item.state, item.reason.as_deref()), (ProcessingState::Failed, Some("spec.shards is 99")));

        let waiting = videojob(Phase::Pending, 0, vec![condition(WAITING, "0/3 nodes are available")]);
        let item = processing_item(&waiting, jiff::Timestamp::now()).unwrap();
        assert_eq!((item.state, item.reason.as_deref()), (ProcessingState::Queued, Some("0/3 nodes are available")));

        let item = processing_item(&videojob(Phase::Succeeded, 2, vec![]), jiff::Timestamp::now()).unwrap();
        assert_eq!((item.state, item.actors_found, item.reason), (ProcessingState::Succeeded, Some(1), None));
        assert_eq!(item.result_uri.as_deref(), Some("s3://p/r.json"));
    }

    #[test]
    fn a_videojob_without_a_video_id_is_not_mirrored() {
        let mut vj = videojob(Phase::Pending, 0, vec![]);
        vj.metadata.labels = None;
        assert!(processing_item(&vj, jiff::Timestamp::now()).is_none());
    }
}
