//! `cameo-ingest`: the one bridge between AWS and the cluster.
//!
//! In: S3 upload events from SQS (parsed by `cameo_model::s3_event`) become VideoJobs with deterministic
//! names ([`videojob`], pure), so a duplicate delivery finds its VideoJob already there;
//! [`receive`] deletes a message only once its VideoJob exists. Out: [`mirror`] writes
//! the state of the VideoJobs it made to the table, never backwards, for the API to read.
//! Around them: configuration ([`config`]), AWS clients ([`aws`]), metrics ([`metrics`]).

pub mod aws;
pub mod config;
pub mod metrics;
pub mod mirror;
pub mod receive;
pub mod videojob;
