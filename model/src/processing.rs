//! Where the analysis of an uploaded video stands: the ingest mirrors the phase of the
//! VideoJob it created into the table (`VIDEO#<video id>` / `STATE`), so the API answers
//! `GET /videos/{id}` without cluster credentials.
//!
//! A state never moves backwards: every item carries an `order` that only grows along a
//! VideoJob's life, and a write with a lower order (a stale watch event, a slower
//! replica) is refused by the table's condition, [`PROCESSING_WRITE_CONDITION`].

use serde::{Deserialize, Serialize};

/// The sort key of a video's processing state.
pub const PROCESSING_SK: &str = "STATE";

/// Writes only what moves forward: a new item, a higher order, or the same order in
/// another phase (a suspended run resumed). Values: `:order`, `:phase`.
pub const PROCESSING_WRITE_CONDITION: &str =
    "attribute_not_exists(pk) OR #order < :order OR (#order = :order AND #phase <> :phase)";

/// Where the analysis stands, in the API's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingState {
    /// The VideoJob exists; no shard runs yet.
    Queued,
    Processing,
    Succeeded,
    Failed,
}

/// The processing state item. Its fields avoid the names of the table's index keys
/// (`entityType`, `name`, `finishedAt`, ...), so it never appears in an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingItem {
    pub pk: String,
    /// Always [`PROCESSING_SK`].
    pub sk: String,
    pub video_id: String,
    pub state: ProcessingState,
    /// The VideoJob's phase, as `kubectl get vj` shows it.
    pub phase: String,
    /// Grows along the VideoJob's life; see [`PROCESSING_WRITE_CONDITION`].
    pub order: u64,
    /// The VideoJob, `<namespace>/<name>`.
    pub video_job: String,
    /// The video's S3 URI.
    pub source: String,
    /// Why it failed, why it cannot run, or what it waits for (a quota, a node, a queue),
    /// in the operator's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub shards_total: u32,
    pub shards_succeeded: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actors_found: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::TableDefinition;

    #[test]
    fn the_item_carries_no_index_key_so_it_stays_out_of_every_index() {
        let item = ProcessingItem {
            pk: "VIDEO#v".into(),
            sk: PROCESSING_SK.into(),
            video_id: "v".into(),
            state: ProcessingState::Succeeded,
            phase: "Succeeded".into(),
            order: 1,
            video_job: "media/v".into(),
            source: "s3://raw/videos/v/a.mp4".into(),
            reason: Some("r".into()),
            shards_total: 1,
            shards_succeeded: 1,
            result_uri: Some("s3://p/r.json".into()),
            actors_found: Some(1),
            started_at: Some("t".into()),
            completed_at: Some("t".into()),
            updated_at: "t".into(),
        };
        let value = serde_json::to_value(item).unwrap();
        let fields: Vec<&String> = value.as_object().unwrap().keys().collect();
        for index in TableDefinition::load().global_secondary_indexes {
            assert!(!fields.contains(&&index.partition_key), "{} would index the state item", index.name);
        }
    }
}
