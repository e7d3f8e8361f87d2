//! The statuses this operator wrote that its cache may not have seen yet.
//!
//! A reconcile reads the VideoJob from the watch cache, which lags behind our own status
//! writes; a second reconcile soon after the first (a Job event, say) would compare the
//! new status with the stale one and write it, and its Event, again. Remembering what we
//! wrote on top of which resourceVersion tells a stale cached copy from a current one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::ResourceExt;

use crate::crd::{VideoJob, VideoJobStatus};

/// Longer than any watch takes to deliver our own write; older entries are dropped.
const KEEP: Duration = Duration::from_secs(300);

struct Written {
    /// The resourceVersion of the VideoJob the status was computed from.
    base: String,
    status: VideoJobStatus,
    at: Instant,
}

#[derive(Default)]
pub struct WrittenStatuses(Mutex<HashMap<String, Written>>);

impl WrittenStatuses {
    /// The VideoJob's current status: the one we wrote if `vj` is the copy we wrote it on
    /// (the cache has not caught up), else the cached one.
    pub fn current(&self, vj: &VideoJob) -> VideoJobStatus {
        let mut written = self.0.lock().expect("not poisoned");
        let key = key(vj);
        match (written.get(&key), vj.resource_version()) {
            (Some(w), Some(version)) if w.base == version => w.status.clone(),
            (Some(_), _) => {
                // The cache has caught up: what we wrote is no longer needed (at 10,000
                // VideoJobs, keeping it for minutes is memory).
                written.remove(&key);
                vj.status.clone().unwrap_or_default()
            }
            (None, _) => vj.status.clone().unwrap_or_default(),
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.0.lock().expect("not poisoned").is_empty()
    }

    /// Records that `status` was written on top of `vj`.
    pub fn record(&self, vj: &VideoJob, status: &VideoJobStatus) {
        let Some(base) = vj.resource_version() else { return };
        let mut written = self.0.lock().expect("not poisoned");
        written.retain(|_, w| w.at.elapsed() < KEEP);
        written.insert(key(vj), Written { base, status: status.clone(), at: Instant::now() });
    }
}

/// What identifies a VideoJob across its copies: its uid (a new VideoJob of the same
/// name is another one).
pub fn key(vj: &VideoJob) -> String {
    vj.uid().unwrap_or_else(|| format!("{}/{}", vj.namespace().unwrap_or_default(), vj.name_any()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::Phase;
    use crate::fixtures::{spec, videojob};

    fn with_version(version: &str, phase: Option<Phase>) -> VideoJob {
        let mut vj = videojob("film", spec());
        vj.metadata.resource_version = Some(version.into());
        vj.status = phase.map(|phase| VideoJobStatus { phase, ..VideoJobStatus::default() });
        vj
    }

    #[test]
    fn a_stale_copy_reads_as_what_was_written_and_a_newer_one_as_itself() {
        let written = WrittenStatuses::default();
        let stale = with_version("10", None);
        written.record(&stale, &VideoJobStatus { phase: Phase::Detecting, ..VideoJobStatus::default() });

        assert_eq!(written.current(&stale).phase, Phase::Detecting);
        // The cache caught up (or someone else wrote since): the cached copy is the truth.
        let newer = with_version("11", Some(Phase::Suspended));
        assert_eq!(written.current(&newer).phase, Phase::Suspended);
        assert!(written.is_empty(), "forgotten once the cache caught up");
    }

    #[test]
    fn nothing_written_reads_as_the_cached_status() {
        let vj = with_version("10", Some(Phase::Merging));
        assert_eq!(WrittenStatuses::default().current(&vj).phase, Phase::Merging);
    }
}
