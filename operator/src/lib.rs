//! cameo's Kubernetes operator: runs `VideoJob`s as Indexed batch/v1 Jobs of detector pods.
//!
//! Reconcile is a pipeline of named steps, most of them pure functions tested without
//! a cluster: [`validate`] -> [`job`] (desired Job) -> apply -> [`status`] -> write, in
//! [`controller`], which remembers its own status writes ([`written`]). Around it: the
//! CRD types ([`crd`]), leader election ([`leader`]), metrics, liveness and the HTTP endpoints
//! ([`metrics`], [`health`], [`server`]), logging and signals ([`process`]).

pub mod backoff;
pub mod config;
pub mod controller;
pub mod crd;
pub mod events;
pub mod health;
pub mod job;
pub mod leader;
pub mod metrics;
pub mod process;
pub mod server;
pub mod status;
pub mod validate;
pub mod written;

#[cfg(test)]
mod fixtures;
