//! Prometheus metrics of the ingest: messages in, VideoJobs out, what was skipped and
//! why, errors by stage, state writes, and how long messages waited in the queue.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

pub struct Metrics {
    registry: Registry,
    pub messages_received: Counter,
    pub messages_deleted: Counter,
    pub test_events: Counter,
    pub videojobs_created: Counter,
    /// A VideoJob of that name already existed: a duplicate delivery, or another replica.
    pub duplicates: Counter,
    /// Messages or records left for the dead-letter queue, by cause.
    pub malformed: Family<ReasonLabels, Counter>,
    /// Transient failures (the message comes back), by stage.
    pub errors: Family<StageLabels, Counter>,
    /// State items written, or refused as not newer (`stale`).
    pub state_writes: Family<OutcomeLabels, Counter>,
    /// Seconds from a message's arrival in the queue to its first receive here.
    pub queue_lag: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cameo_ingest");
        let metrics = Metrics {
            messages_received: Counter::default(),
            messages_deleted: Counter::default(),
            test_events: Counter::default(),
            videojobs_created: Counter::default(),
            duplicates: Counter::default(),
            malformed: Family::default(),
            errors: Family::default(),
            state_writes: Family::default(),
            queue_lag: Histogram::new(exponential_buckets(0.05, 2.0, 14)),
            registry: Registry::default(),
        };
        registry.register("messages_received", "Messages received from the queue", metrics.messages_received.clone());
        registry.register("messages_deleted", "Messages deleted once handled", metrics.messages_deleted.clone());
        registry.register("test_events", "s3:TestEvent messages ignored", metrics.test_events.clone());
        registry.register("videojobs_created", "VideoJobs created", metrics.videojobs_created.clone());
        registry.register("duplicates", "Uploads whose VideoJob already existed", metrics.duplicates.clone());
        registry.register("malformed", "Messages left for the dead-letter queue, by cause", metrics.malformed.clone());
        registry.register("errors", "Transient failures by stage; the message comes back", metrics.errors.clone());
        registry.register("state_writes", "Processing state writes by outcome", metrics.state_writes.clone());
        registry.register("queue_lag_seconds", "Time messages waited in the queue", metrics.queue_lag.clone());
        Metrics { registry, ..metrics }
    }
}

impl Metrics {
    pub fn malformed(&self, reason: &str) {
        self.malformed.get_or_create(&ReasonLabels { reason: reason.into() }).inc();
    }

    pub fn error(&self, stage: &str) {
        self.errors.get_or_create(&StageLabels { stage: stage.into() }).inc();
    }

    pub fn state_write(&self, outcome: &str) {
        self.state_writes.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
