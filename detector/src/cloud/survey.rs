//! Suggestions, the curation worker's third job: it surveys the index of unknown faces
//! against the gallery (its newest manifest) whenever either changed, and writes what the
//! API answers ([`cameo_model::suggestions`]): each unknown cluster's closest people, each
//! person's near misses, and the review queue of unknown clusters grouped by likeness.
//!
//! A survey reads every shard once and compares each live cluster's crops with every
//! person ([`crate::suggest`]): at 1,000 videos of 20 clusters, seconds on one core; the
//! review queue groups the most seen [`REVIEW_LIMIT`] clusters only, since grouping is
//! quadratic in them. Objects are written only when their content changed, and their old
//! versions are erased (a survey names videos, and an erased one must leave no trace).

use std::collections::BTreeMap;

use cameo_model::people::manifest_key;
use cameo_model::suggestions::{
    Candidate, ClusterRef, ClusterSuggestions, NearMiss, ReviewGroup, SUGGESTIONS_SCHEMA_VERSION, SURVEY_KEY, Survey,
    VideoSuggestions, video_suggestions_key,
};
use cameo_model::unknown_index::IndexEntry;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::curator::Curator;
use super::gallery::gallery_prefix;
use super::learner::Learning;
use super::s3::S3Uri;
use super::unknown_index::UnknownIndex;
use crate::embed::Embedding;
use crate::error::{Error, Result};
use crate::gallery::Gallery;
use crate::pipeline::PipelineConfig;
use crate::suggest::{Standing, by_likeness, standings};

/// The people suggested for one cluster.
pub const MAX_CANDIDATES: usize = 3;
/// The near misses kept for one person.
pub const MAX_NEAR_MISSES: usize = 50;
/// The unknown clusters, the most seen first, that the review queue groups.
pub const REVIEW_LIMIT: usize = 2_000;

/// A cluster kept for the review queue: its crops and its best candidates.
struct Reviewable {
    cluster: ClusterRef,
    crops: Vec<Embedding>,
    candidates: Vec<Candidate>,
}

impl Curator<'_> {
    /// Surveys the index against the gallery when either changed since the last survey;
    /// returns the survey written, `None` when nothing had changed.
    pub fn survey(&self, learning: &Learning) -> Result<Option<Survey>> {
        let fingerprint = self.fingerprint(learning)?;
        let mut surveyed = learning.surveyed.lock().map_err(|_| Error::Inference("the survey is poisoned".into()))?;
        if surveyed.as_deref() == Some(fingerprint.as_str()) {
            return Ok(None);
        }
        let survey_uri = self.suggestion_uri(learning, SURVEY_KEY);
        let last: Option<Survey> = match self.aws.get(&survey_uri)? {
            Some(bytes) => serde_json::from_slice(&bytes).ok(),
            None => None,
        };
        if last.as_ref().is_some_and(|l| l.fingerprint == fingerprint) {
            *surveyed = Some(fingerprint);
            return Ok(None);
        }
        let survey =
            self.survey_now(learning, fingerprint.clone(), last.map(|l| l.video_shards).unwrap_or_default())?;
        let json = serde_json::to_vec(&survey).map_err(|e| Error::Inference(e.to_string()))?;
        self.aws.put(&survey_uri, json, "application/json")?;
        self.aws.erase_old_versions(&survey_uri)?;
        tracing::info!(clusters = survey.clusters, groups = survey.review.len(), "suggestions surveyed");
        *surveyed = Some(fingerprint);
        Ok(Some(survey))
    }

    /// What a survey is made of: the index's objects, the gallery manifest, the recogniser.
    fn fingerprint(&self, learning: &Learning) -> Result<String> {
        let mut hash = Sha256::new();
        hash.update(learning.recognizer());
        for (key, etag) in self.aws.list_stamped(&learning.index)? {
            hash.update(format!("\n{key} {etag}"));
        }
        if let Some(gallery) = &self.gallery {
            let manifest = S3Uri::new(&gallery.bucket, manifest_key(&gallery_prefix(gallery)));
            hash.update(format!("\nmanifest {}", self.aws.stamp(&manifest)?.unwrap_or_default()));
        }
        Ok(format!("{:x}", hash.finalize()))
    }

    fn suggestion_uri(&self, learning: &Learning, key: &str) -> S3Uri {
        S3Uri::new(&learning.suggestions.bucket, format!("{}{key}", learning.suggestions.key))
    }

    fn survey_now(
        &self,
        learning: &Learning,
        fingerprint: String,
        written: BTreeMap<String, String>,
    ) -> Result<Survey> {
        let gallery = self.newest_gallery(learning)?;
        let rule = PipelineConfig::default().matching;
        let recognizer = learning.recognizer();
        let index = UnknownIndex { aws: self.aws, root: learning.index.clone() };
        let computed_at = Timestamp::now().to_string();
        let mut survey = Survey {
            schema_version: SUGGESTIONS_SCHEMA_VERSION.into(),
            computed_at: computed_at.clone(),
            fingerprint,
            clusters: 0,
            reviewed: 0,
            near_misses: BTreeMap::new(),
            review: Vec::new(),
            video_shards: BTreeMap::new(),
        };
        let mut reviewable: Vec<Reviewable> = Vec::new();
        index.scan(|read| {
            if !read.entries.is_empty() && read.recognizer != recognizer {
                tracing::warn!(shard = read.name, "the index shard is of another recogniser: analyse its videos again");
                return Ok(());
            }
            let mut movies: BTreeMap<String, Vec<ClusterSuggestions>> = BTreeMap::new();
            for entry in read.live() {
                survey.clusters += 1;
                let crops: Vec<Embedding> = entry.embeddings.iter().map(|e| Embedding(e.clone())).collect();
                let found = standings(&crops, &gallery.people, &rule);
                let cluster = cluster_of(entry);
                for standing in found.iter().filter(|s| !s.passes()) {
                    let Some(id) = person_id(&gallery, standing) else { continue };
                    let miss = NearMiss {
                        cluster: cluster.clone(),
                        similarity: standing.similarity,
                        votes: standing.votes,
                        crops: standing.crops,
                    };
                    let misses = survey.near_misses.entry(id).or_default();
                    misses.push(miss);
                    if misses.len() >= 2 * MAX_NEAR_MISSES {
                        keep_closest(misses);
                    }
                }
                let candidates: Vec<Candidate> =
                    found.iter().take(MAX_CANDIDATES).map(|s| candidate(&gallery, s)).collect();
                if !candidates.is_empty() {
                    let suggestions = ClusterSuggestions { cluster: cluster.clone(), candidates: candidates.clone() };
                    movies.entry(entry.movie_id.clone()).or_default().push(suggestions);
                }
                reviewable.push(Reviewable { cluster, crops, candidates });
                if reviewable.len() >= 2 * REVIEW_LIMIT {
                    keep_most_seen(&mut reviewable);
                }
            }
            if !movies.is_empty() {
                let shard = read.name;
                let hash = self.write_video_suggestions(learning, &shard, movies, &computed_at, written.get(&shard))?;
                survey.video_shards.insert(shard, hash);
            }
            Ok(())
        })?;
        for shard in written.keys().filter(|s| !survey.video_shards.contains_key(*s)) {
            self.aws.erase_versions(&self.suggestion_uri(learning, &video_suggestions_key(shard)))?;
        }
        for misses in survey.near_misses.values_mut() {
            keep_closest(misses);
        }
        keep_most_seen(&mut reviewable);
        survey.reviewed = reviewable.len();
        survey.review = review_queue(reviewable, &rule);
        Ok(survey)
    }

    /// Writes a shard's videos' suggestions unless they are those written last (`hash`);
    /// returns their hash.
    fn write_video_suggestions(
        &self,
        learning: &Learning,
        shard: &str,
        movies: BTreeMap<String, Vec<ClusterSuggestions>>,
        computed_at: &str,
        written: Option<&String>,
    ) -> Result<String> {
        let content = serde_json::to_vec(&movies).map_err(|e| Error::Inference(e.to_string()))?;
        let hash = format!("{:x}", Sha256::digest(&content));
        if written != Some(&hash) {
            let document = VideoSuggestions {
                schema_version: SUGGESTIONS_SCHEMA_VERSION.into(),
                computed_at: computed_at.into(),
                movies,
            };
            let json = serde_json::to_vec(&document).map_err(|e| Error::Inference(e.to_string()))?;
            let uri = self.suggestion_uri(learning, &video_suggestions_key(shard));
            self.aws.put(&uri, json, "application/json")?;
            self.aws.erase_old_versions(&uri)?;
        }
        Ok(hash)
    }
}

fn cluster_of(entry: &IndexEntry) -> ClusterRef {
    ClusterRef {
        movie_id: entry.movie_id.clone(),
        job: entry.job.clone(),
        cluster_id: entry.cluster_id.clone(),
        screen_time_seconds: entry.screen_time_seconds,
    }
}

fn person_id(gallery: &Gallery, standing: &Standing) -> Option<String> {
    gallery.person_ids.get(&gallery.people[standing.person].name).cloned()
}

fn candidate(gallery: &Gallery, standing: &Standing) -> Candidate {
    Candidate {
        person_id: person_id(gallery, standing),
        name: gallery.people[standing.person].name.clone(),
        similarity: standing.similarity,
        votes: standing.votes,
        crops: standing.crops,
    }
}

/// The [`MAX_NEAR_MISSES`] closest, closest first.
fn keep_closest(misses: &mut Vec<NearMiss>) {
    misses.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    misses.truncate(MAX_NEAR_MISSES);
}

/// The [`REVIEW_LIMIT`] most seen, the most seen first (ties in a fixed order).
fn keep_most_seen(clusters: &mut Vec<Reviewable>) {
    clusters.sort_by(|a, b| {
        let (a, b) = (&a.cluster, &b.cluster);
        b.screen_time_seconds
            .total_cmp(&a.screen_time_seconds)
            .then_with(|| (&a.movie_id, &a.job, &a.cluster_id).cmp(&(&b.movie_id, &b.job, &b.cluster_id)))
    });
    clusters.truncate(REVIEW_LIMIT);
}

/// The clusters (the most seen first) grouped by likeness, the most seen groups first;
/// each group suggests its first cluster's candidates.
fn review_queue(clusters: Vec<Reviewable>, rule: &crate::identify::MatchConfig) -> Vec<ReviewGroup> {
    let places = {
        let crops: Vec<&[Embedding]> = clusters.iter().map(|c| c.crops.as_slice()).collect();
        by_likeness(&crops, rule)
    };
    let mut slots: Vec<Option<Reviewable>> = clusters.into_iter().map(Some).collect();
    let mut groups: Vec<ReviewGroup> = places
        .into_iter()
        .map(|places| {
            let members: Vec<Reviewable> = places.iter().filter_map(|p| slots[*p].take()).collect();
            ReviewGroup {
                screen_time_seconds: members.iter().map(|m| m.cluster.screen_time_seconds).sum(),
                candidates: members.first().map(|m| m.candidates.clone()).unwrap_or_default(),
                clusters: members.into_iter().map(|m| m.cluster).collect(),
            }
        })
        .collect();
    // Stable: groups as seen equal keep the order of their most seen cluster.
    groups.sort_by(|a, b| b.screen_time_seconds.total_cmp(&a.screen_time_seconds));
    groups
}
