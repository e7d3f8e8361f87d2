//! Prometheus metrics: reconciles, errors by cause, reconcile durations, VideoJobs per phase.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use kube::runtime::reflector::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::crd::{Phase, VideoJob};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub phase: String,
}

pub struct Metrics {
    registry: Registry,
    pub reconciles: Counter,
    pub errors: Family<ErrorLabels, Counter>,
    pub duration: Histogram,
    pub videojobs: Family<PhaseLabels, Gauge>,
    pub is_leader: Gauge,
    /// The controllers' caches, which the per-phase gauge is counted from.
    stores: Mutex<Vec<Store<VideoJob>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cameo_operator");
        let reconciles = Counter::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let videojobs = Family::<PhaseLabels, Gauge>::default();
        let is_leader = Gauge::default();
        registry.register("reconciles", "VideoJob reconciliations", reconciles.clone());
        registry.register("reconcile_errors", "Failed reconciliations by cause", errors.clone());
        registry.register("reconcile_duration_seconds", "Time per reconciliation", duration.clone());
        registry.register("videojobs", "VideoJobs per phase", videojobs.clone());
        registry.register("leader", "1 while this replica is the leader", is_leader.clone());
        Metrics { registry, reconciles, errors, duration, videojobs, is_leader, stores: Mutex::default() }
    }
}

impl Metrics {
    /// Times one reconciliation; the duration is recorded when the guard drops.
    pub fn reconcile_started(&self) -> ReconcileTimer<'_> {
        self.reconciles.inc();
        ReconcileTimer { started: Instant::now(), histogram: &self.duration }
    }

    pub fn reconcile_failed(&self, error: &crate::controller::Error) {
        self.errors.get_or_create(&ErrorLabels { error: error.metric_label().into() }).inc();
    }

    pub fn add_store(&self, store: Store<VideoJob>) {
        if let Ok(mut stores) = self.stores.lock() {
            stores.push(store);
        }
    }

    /// The text exposition, with the per-phase gauge counted afresh from the caches.
    pub fn render(&self) -> String {
        let stores = self.stores.lock().map(|s| s.clone()).unwrap_or_default();
        let mut counts = [0i64; Phase::ALL.len()];
        for vj in stores.iter().flat_map(|s| s.state()) {
            let phase = vj.status.as_ref().map(|s| s.phase).unwrap_or_default();
            if let Some(i) = Phase::ALL.iter().position(|p| *p == phase) {
                counts[i] += 1;
            }
        }
        for (phase, count) in Phase::ALL.iter().zip(counts) {
            self.videojobs.get_or_create(&PhaseLabels { phase: phase.as_str().into() }).set(count);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

pub struct ReconcileTimer<'a> {
    started: Instant,
    histogram: &'a Histogram,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

pub type SharedMetrics = Arc<Metrics>;
