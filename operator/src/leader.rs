//! Leader election on a coordination.k8s.io Lease, so that of several replicas exactly
//! one reconciles, as client-go does it:
//! - updates use the Lease's resourceVersion: of two replicas racing for an expired
//!   Lease, the API server lets one win;
//! - a standby judges expiry by its own clock: the holder's record must stay unchanged
//!   for a lease duration after the standby first saw it (clocks of nodes differ);
//! - every attempt is bounded, and the leader stops acting once it has not renewed for
//!   the renew deadline by its own monotonic clock, which is shorter than the lease
//!   duration: it stops before any standby may start. [`LeaderGuard`] is what every write
//!   checks, so even a process frozen and resumed past its deadline writes nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::time::Instant;

use crate::config::LeaderConfig;
use crate::health::Health;

/// Until when this replica may act as the leader, by its own monotonic clock.
#[derive(Clone, Default)]
pub struct LeaderGuard(Arc<Mutex<Option<Instant>>>);

impl LeaderGuard {
    pub fn is_leading(&self) -> bool {
        self.0.lock().expect("not poisoned").is_some_and(|until| Instant::now() < until)
    }

    fn lead_until(&self, until: Instant) {
        *self.0.lock().expect("not poisoned") = Some(until);
    }

    fn until(&self) -> Option<Instant> {
        *self.0.lock().expect("not poisoned")
    }

    fn stop(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}

/// The holder's record as a standby saw it, and when (by the standby's clock).
#[derive(Debug, Clone, PartialEq)]
struct Record {
    holder: Option<String>,
    renew_time: Option<Timestamp>,
    lease_duration_seconds: Option<i32>,
}

#[derive(Default)]
struct Observation {
    record: Option<Record>,
    since: Option<Instant>,
}

impl Observation {
    /// Notes `record` as seen at `now`; whether it has stood unchanged for its lease
    /// duration since this replica first saw it.
    fn expired(&mut self, record: Record, now: Instant) -> bool {
        if self.record.as_ref() != Some(&record) {
            self.record = Some(record);
            self.since = Some(now);
            return false;
        }
        let duration =
            Duration::from_secs(self.record.as_ref().and_then(|r| r.lease_duration_seconds).unwrap_or(0).max(0) as u64);
        self.since.is_some_and(|since| now.duration_since(since) > duration)
    }
}

pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    renew_interval: Duration,
    observation: Mutex<Observation>,
    guard: LeaderGuard,
    health: Arc<Health>,
}

/// What an attempt to acquire or renew found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// This replica holds the Lease.
    Leading,
    /// Another replica holds an unexpired Lease.
    Following,
}

impl LeaderElector {
    pub fn new(client: Client, config: &LeaderConfig, identity: String, health: Arc<Health>) -> Self {
        LeaderElector {
            api: Api::namespaced(client, &config.lease_namespace),
            name: config.lease_name.clone(),
            identity,
            lease_duration: config.lease_duration,
            renew_deadline: config.renew_deadline,
            renew_interval: config.renew_interval,
            observation: Mutex::default(),
            guard: LeaderGuard::default(),
            health,
        }
    }

    /// What writes check: whether this replica still leads.
    pub fn guard(&self) -> LeaderGuard {
        self.guard.clone()
    }

    /// Waits until this replica leads.
    pub async fn acquire(&self) {
        loop {
            let started = Instant::now();
            match self.bounded_attempt(self.renew_deadline).await {
                Some(Attempt::Leading) => {
                    self.guard.lead_until(started + self.renew_deadline);
                    return;
                }
                Some(Attempt::Following) | None => {}
            }
            tokio::time::sleep(self.renew_interval).await;
        }
    }

    /// Renews the Lease for as long as possible; returns when leadership is lost: another
    /// replica took the Lease, or no renewal succeeded within the renew deadline.
    pub async fn hold(&self) {
        loop {
            tokio::time::sleep(self.renew_interval).await;
            let started = Instant::now();
            let Some(left) = self.guard.until().and_then(|until| until.checked_duration_since(started)) else {
                tracing::error!("leader election: the renew deadline passed before a renewal could be tried");
                break;
            };
            match self.bounded_attempt(left).await {
                Some(Attempt::Leading) => self.guard.lead_until(started + self.renew_deadline),
                Some(Attempt::Following) => {
                    tracing::error!("leader election: another replica took the lease");
                    break;
                }
                None => {}
            }
            if !self.guard.is_leading() {
                tracing::error!("leader election: could not renew the lease within the renew deadline");
                break;
            }
        }
        self.guard.stop();
    }

    /// One attempt, given up after `limit`; `None` when it failed or timed out.
    async fn bounded_attempt(&self, limit: Duration) -> Option<Attempt> {
        let attempt = tokio::time::timeout(limit, self.try_acquire_or_renew()).await;
        self.health.election_attempted();
        match attempt {
            Ok(Ok(attempt)) => Some(attempt),
            Ok(Err(e)) => {
                tracing::warn!("leader election: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("leader election: no answer within {limit:?}");
                None
            }
        }
    }

    /// Gives the Lease up (on graceful shutdown), so a standby replica takes over at once.
    pub async fn release(&self) {
        self.guard.stop();
        let release = async {
            let Ok(Some(mut lease)) = self.api.get_opt(&self.name).await else { return };
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(&self.identity) {
                return;
            }
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            if let Err(e) = self.api.replace(&self.name, &PostParams::default(), &lease).await {
                tracing::warn!("leader election: could not release the lease: {e}");
            }
        };
        if tokio::time::timeout(self.renew_deadline, release).await.is_err() {
            tracing::warn!("leader election: releasing the lease timed out");
        }
    }

    pub async fn try_acquire_or_renew(&self) -> Result<Attempt, kube::Error> {
        let now = Timestamp::now();
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.name.clone()), ..ObjectMeta::default() },
                spec: Some(self.held_spec(now, 0, now)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Leading),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(Attempt::Following),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let record = Record {
            holder: holder.clone(),
            renew_time: spec.renew_time.as_ref().or(spec.acquire_time.as_ref()).map(|t| t.0),
            lease_duration_seconds: spec.lease_duration_seconds,
        };
        let expired = self.observation.lock().expect("not poisoned").expired(record, Instant::now());
        let next = match holder {
            Some(h) if h == self.identity => {
                let acquired = spec.acquire_time.map_or(now, |t| t.0);
                self.held_spec(acquired, spec.lease_transitions.unwrap_or(0), now)
            }
            Some(_) if !expired => return Ok(Attempt::Following),
            _ => self.held_spec(now, spec.lease_transitions.unwrap_or(0) + 1, now),
        };
        lease.spec = Some(next);
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(Attempt::Leading),
            // Someone else wrote the Lease since we read it.
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Attempt::Following),
            Err(e) => Err(e),
        }
    }

    fn held_spec(&self, acquired: Timestamp, transitions: i32, now: Timestamp) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.lease_duration.as_secs().max(1) as i32),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(holder: &str, renewed: &str) -> Record {
        Record {
            holder: Some(holder.into()),
            renew_time: Some(renewed.parse().unwrap()),
            lease_duration_seconds: Some(15),
        }
    }

    #[test]
    fn a_lease_expires_a_lease_duration_after_this_replica_saw_it_change() {
        let mut seen = Observation::default();
        let start = Instant::now();
        // The holder's clock is far behind: its renew time says nothing to us.
        let first = record("a", "2020-01-01T00:00:00Z");
        assert!(!seen.expired(first.clone(), start), "first sight starts the clock");
        assert!(!seen.expired(first.clone(), start + Duration::from_secs(14)));
        assert!(seen.expired(first.clone(), start + Duration::from_secs(16)));

        // A renewal seen (the record changed) starts the clock again.
        let renewed = record("a", "2020-01-01T00:00:05Z");
        assert!(!seen.expired(renewed.clone(), start + Duration::from_secs(17)));
        assert!(!seen.expired(renewed.clone(), start + Duration::from_secs(31)));
        assert!(seen.expired(renewed, start + Duration::from_secs(33)));
    }

    #[test]
    fn the_guard_lets_the_leader_act_only_until_its_deadline() {
        let guard = LeaderGuard::default();
        assert!(!guard.is_leading());
        guard.lead_until(Instant::now() + Duration::from_secs(10));
        assert!(guard.is_leading());
        guard.lead_until(Instant::now() - Duration::from_millis(1));
        assert!(!guard.is_leading(), "past the renew deadline nothing may be written");
        guard.lead_until(Instant::now() + Duration::from_secs(10));
        guard.stop();
        assert!(!guard.is_leading());
    }
}
