//! What the curation worker suggests, from the index of unknown faces and the gallery,
//! for people to name faster: for each unknown cluster, the people it comes closest to
//! ([`VideoSuggestions`], one object per index shard); for each person, the unknown
//! clusters across all videos that come closest without passing the rule; and a review
//! queue of unknown clusters across videos, near-duplicates of one stranger grouped, the
//! most seen first ([`Survey`]).
//!
//! They hold scores and ids, no embeddings: the API reads them (under
//! [`SUGGESTIONS_PREFIX`]), never the index. The worker writes them again whenever the
//! index or the gallery changed since, so a cluster named since leaves them on its next
//! survey; `computedAt` says how fresh they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const SUGGESTIONS_SCHEMA_VERSION: &str = "cameo.dev/suggestions/v1";

/// The suggestions' prefix under the processed bucket's prefix.
pub const SUGGESTIONS_PREFIX: &str = "suggestions/";

/// The survey (people's near misses and the review queue), under the prefix.
pub const SURVEY_KEY: &str = "survey.json";

/// The candidates of the unknown clusters of one index shard's videos, under the prefix.
pub fn video_suggestions_key(shard: &str) -> String {
    format!("videos/{shard}.json")
}

/// A person an unknown cluster comes close to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// `None` for a person the registry does not know (a gallery folder's).
    pub person_id: Option<String>,
    pub name: String,
    /// The mean, over the cluster's crops, of each crop's similarity to the person's
    /// closest evidence.
    pub similarity: f32,
    /// The crops the detector's rule names after the person (a majority names the cluster).
    pub votes: usize,
    pub crops: usize,
}

/// An unknown cluster of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRef {
    pub movie_id: String,
    /// The VideoJob whose analysis it is of: only the movie's current job's count.
    pub job: String,
    pub cluster_id: String,
    pub screen_time_seconds: f64,
}

/// An unknown cluster with the people it comes closest to, closest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSuggestions {
    #[serde(flatten)]
    pub cluster: ClusterRef,
    pub candidates: Vec<Candidate>,
}

/// The unknown clusters of one shard's videos that come close to somebody, by movie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoSuggestions {
    pub schema_version: String,
    pub computed_at: String,
    pub movies: BTreeMap<String, Vec<ClusterSuggestions>>,
}

/// An unknown cluster that comes close to a person without passing the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NearMiss {
    #[serde(flatten)]
    pub cluster: ClusterRef,
    pub similarity: f32,
    pub votes: usize,
    pub crops: usize,
}

/// Unknown clusters of one stranger (by likeness), across videos, the most seen first,
/// with the people its first cluster comes closest to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewGroup {
    pub screen_time_seconds: f64,
    pub clusters: Vec<ClusterRef>,
    pub candidates: Vec<Candidate>,
}

/// What one survey of the index against the gallery found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Survey {
    pub schema_version: String,
    pub computed_at: String,
    /// What it was computed from (the index's and the gallery manifest's objects): a
    /// survey is made again only when this changed.
    pub fingerprint: String,
    /// The unknown clusters surveyed.
    pub clusters: usize,
    /// Those in the review queue (the most seen, up to a limit).
    pub reviewed: usize,
    /// By person id, closest first.
    pub near_misses: BTreeMap<String, Vec<NearMiss>>,
    /// Groups, the most seen first.
    pub review: Vec<ReviewGroup>,
    /// The sha256 of each shard's [`VideoSuggestions`] as written (it is written again
    /// only when it changed).
    pub video_shards: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_reads_flat_in_json() {
        let cluster = ClusterRef {
            movie_id: "ab12".into(),
            job: "media/a".into(),
            cluster_id: "unknown-1".into(),
            screen_time_seconds: 4.5,
        };
        let miss = NearMiss { cluster, similarity: 0.3, votes: 1, crops: 5 };
        let json = serde_json::to_value(&miss).unwrap();
        assert_eq!(json["movieId"], "ab12");
        assert_eq!(json["clusterId"], "unknown-1");
        assert_eq!(serde_json::from_value::<NearMiss>(json).unwrap(), miss);
        assert_eq!(video_suggestions_key("0f"), "videos/0f.json");
    }
}
