//! Liveness: what `/healthz` judges. The election loop records each attempt (each is
//! bounded, and they come every renew interval); reconciles record their start and end
//! (each is bounded by the reconcile timeout). Either falling far behind means the
//! process is wedged, and the kubelet should restart it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Health {
    /// An election attempt later than this is overdue.
    election_limit: Duration,
    /// A reconcile running longer than this is stuck.
    reconcile_limit: Duration,
    last_election: Mutex<Instant>,
    running: Mutex<BTreeMap<u64, Instant>>,
    next_id: AtomicU64,
}

impl Health {
    pub fn new(election_limit: Duration, reconcile_limit: Duration) -> Self {
        Health {
            election_limit,
            reconcile_limit,
            last_election: Mutex::new(Instant::now()),
            running: Mutex::default(),
            next_id: AtomicU64::new(0),
        }
    }

    pub fn election_attempted(&self) {
        *self.last_election.lock().expect("not poisoned") = Instant::now();
    }

    /// Records a reconcile as running until the returned guard drops.
    pub fn reconcile_started(&self) -> Running<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.running.lock().expect("not poisoned").insert(id, Instant::now());
        Running { health: self, id }
    }

    /// Why the process is wedged at `now`, if it is.
    pub fn wedged(&self, now: Instant) -> Option<String> {
        let last_election = *self.last_election.lock().expect("not poisoned");
        let oldest = self.running.lock().expect("not poisoned").values().min().copied();
        judge(now, last_election, oldest, self.election_limit, self.reconcile_limit)
    }
}

pub struct Running<'a> {
    health: &'a Health,
    id: u64,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.health.running.lock().expect("not poisoned").remove(&self.id);
    }
}

fn judge(
    now: Instant,
    last_election: Instant,
    oldest_reconcile: Option<Instant>,
    election_limit: Duration,
    reconcile_limit: Duration,
) -> Option<String> {
    let since_election = now.saturating_duration_since(last_election);
    if since_election > election_limit {
        return Some(format!("no leader election attempt for {since_election:?}"));
    }
    let running = oldest_reconcile.map(|started| now.saturating_duration_since(started))?;
    (running > reconcile_limit).then(|| format!("a reconcile has been running for {running:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stalled_election_or_a_stuck_reconcile_is_wedged() {
        let start = Instant::now();
        let s = Duration::from_secs;
        let judge_at = |now: u64, election: u64, reconcile: Option<u64>| {
            judge(start + s(now), start + s(election), reconcile.map(|r| start + s(r)), s(30), s(60))
        };
        assert_eq!(judge_at(10, 8, None), None);
        assert_eq!(judge_at(100, 95, Some(60)), None, "a reconcile within its limit");
        assert!(judge_at(100, 60, None).unwrap().contains("election"));
        assert!(judge_at(100, 95, Some(30)).unwrap().contains("reconcile"));
    }

    #[test]
    fn finished_reconciles_are_forgotten() {
        let health = Health::new(Duration::from_secs(30), Duration::ZERO);
        drop(health.reconcile_started());
        assert_eq!(health.wedged(Instant::now() + Duration::from_millis(1)), None);
        let _running = health.reconcile_started();
        assert!(health.wedged(Instant::now() + Duration::from_millis(1)).is_some());
    }
}
