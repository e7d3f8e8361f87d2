//! The job mode, run by the operator's pods: `run` analyses one shard of a video in S3,
//! `merge` joins the shards and writes the results to S3 and DynamoDB; and the gallery
//! checker (`gallery-checker`, `gallery-import`), which checks the registry's photos and
//! keeps its manifest; and the curation worker (`curation-worker`), which rewrites
//! results as people correct them and names a face people named once in every video where
//! it is unknown (late binding, from the index of unknown faces the merge adds to), and
//! surveys that index for suggestions people can name from. Built
//! with the `cloud` feature, so that the local `detect` does not compile the AWS SDKs.

pub mod aws;
pub mod candidates;
pub mod checker;
pub mod commands;
pub mod curator;
pub mod evidence;
pub mod gallery;
pub mod learner;
pub mod merge;
pub mod photo_learning;
pub mod registry;
pub mod s3;
pub mod shard;
pub mod survey;
pub mod table;
pub mod track_maps;
pub mod unknown_index;

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where Kubernetes reads a container's termination message; `TERMINATION_MESSAGE_PATH`
/// overrides it (for runs outside a container).
const TERMINATION_LOG: &str = "/dev/termination-log";

/// Writes the termination message: a one-line summary, or the error. Best effort.
pub fn write_termination_message(message: &str) {
    let path = std::env::var("TERMINATION_MESSAGE_PATH").unwrap_or_else(|_| TERMINATION_LOG.to_string());
    if let Err(e) = std::fs::write(&path, message) {
        tracing::debug!("no termination message written to {path}: {e}");
    }
}

/// A copy of everything logged, uploaded beside the results when the run ends.
#[derive(Clone, Default)]
pub struct LogCopy(Arc<Mutex<Vec<u8>>>);

impl LogCopy {
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().map(|log| log.clone()).unwrap_or_default()
    }
}

/// Writes to stderr and to the copy.
pub struct TeeWriter(LogCopy);

impl Write for TeeWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = (self.0).0.lock() {
            log.extend_from_slice(bytes);
        }
        std::io::stderr().write_all(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCopy {
    type Writer = TeeWriter;

    fn make_writer(&'a self) -> Self::Writer {
        TeeWriter(self.clone())
    }
}
