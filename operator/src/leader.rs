//! Leader election on a coordination.k8s.io Lease, so that of several replicas exactly
//! one reconciles. Updates use the Lease's resourceVersion: of two replicas racing for
//! an expired Lease, the API server lets one win.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};

use crate::config::LeaderConfig;

pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    lease_duration: Duration,
    renew_interval: Duration,
}

/// What an attempt to acquire or renew found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// This replica holds the Lease until at least one lease duration from now.
    Leading,
    /// Another replica holds an unexpired Lease.
    Following,
}

impl LeaderElector {
    pub fn new(client: Client, config: &LeaderConfig, identity: String) -> Self {
        LeaderElector {
            api: Api::namespaced(client, &config.lease_namespace),
            name: config.lease_name.clone(),
            identity,
            lease_duration: config.lease_duration,
            renew_interval: config.renew_interval,
        }
    }

    /// Waits until this replica leads.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Leading) => return,
                Ok(Attempt::Following) => {}
                Err(e) => tracing::warn!("leader election: {e}"),
            }
            tokio::time::sleep(self.renew_interval).await;
        }
    }

    /// Renews the Lease for as long as possible; returns when leadership is lost, that is
    /// when no renewal has succeeded for a lease duration (another replica may take over then).
    pub async fn hold(&self) {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.renew_interval).await;
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Leading) => last_renewal = tokio::time::Instant::now(),
                Ok(Attempt::Following) => {
                    tracing::error!("leader election: another replica took the lease");
                    return;
                }
                Err(e) => tracing::warn!("leader election: renewal failed: {e}"),
            }
            // Stop a little before the lease runs out, so two replicas never both act.
            if last_renewal.elapsed() + self.renew_interval >= self.lease_duration {
                tracing::error!("leader election: could not renew the lease in time");
                return;
            }
        }
    }

    /// Gives the Lease up (on graceful shutdown), so a standby replica takes over at once.
    pub async fn release(&self) {
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
        let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
        let next = match holder {
            Some(h) if h == self.identity => {
                let acquired = spec.acquire_time.map_or(now, |t| t.0);
                self.held_spec(acquired, spec.lease_transitions.unwrap_or(0), now)
            }
            Some(_) if !expired(&spec, now) => return Ok(Attempt::Following),
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

/// Whether a Lease's holder has failed to renew within its lease duration.
pub fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else { return true };
    let duration = jiff::SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
    renewed.0 + duration < now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_a_lease_duration_after_its_last_renewal() {
        let renewed: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let spec = LeaseSpec {
            holder_identity: Some("a".into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(renewed)),
            ..LeaseSpec::default()
        };
        assert!(!expired(&spec, "2026-11-28T10:00:14Z".parse().unwrap()));
        assert!(expired(&spec, "2026-11-28T10:00:16Z".parse().unwrap()));
        assert!(expired(&LeaseSpec::default(), renewed));
    }
}
