//! `cameo-detector merge`: joins the shards of a VideoJob into one results document,
//! written to `results/<job>/result.json` in one request (a reader never sees part of
//! it), and into the MovieEntities table.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::aws::Aws;
use super::shard::{JobOutput, SHARD_SCHEMA_VERSION, ShardDocument};
use super::table::{Provenance, items};
use crate::error::{Error, Result};
use crate::pipeline::results_document;
use crate::results::{Movie, ResultsDocument, VideoSummary};

/// Joins shard documents: every shard's tracks, identified people by name across shard
/// boundaries (a person on screen across one stays one appearance), and unknown faces
/// grouped over the whole video.
pub fn merge_shards(mut shards: Vec<ShardDocument>, movie: Option<Movie>) -> Result<ResultsDocument> {
    shards.sort_by_key(|s| s.shard);
    let expected = shards.first().map_or(0, |s| s.shards);
    let complete =
        shards.len() == expected && shards.iter().enumerate().all(|(i, s)| s.shard == i && s.shards == expected);
    if expected == 0 || !complete {
        return Err(Error::Inference(format!(
            "the shard documents do not form a whole: {} of {expected}",
            shards.len()
        )));
    }
    if let Some(other) = shards.iter().find(|s| s.schema_version != SHARD_SCHEMA_VERSION) {
        return Err(Error::Inference(format!("shard {} has schema {}", other.shard, other.schema_version)));
    }
    let first = &shards[0];
    let video = VideoSummary {
        frames_decoded: shards.iter().map(|s| s.video.frames_decoded).sum(),
        frames_analysed: shards.iter().map(|s| s.video.frames_analysed).sum(),
        faces_detected: shards.iter().map(|s| s.video.faces_detected).sum(),
        ..first.video.clone()
    };
    let (models, parameters) = (first.models.clone(), first.parameters.clone());
    let tracks: Vec<_> = shards.into_iter().flat_map(|s| s.tracks).collect();
    Ok(results_document(video, models, parameters, movie, &tracks))
}

/// What the operator reads from the merge pod's termination message (at most 4 KiB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeSummary {
    pub uri: String,
    pub actors_found: usize,
    /// The people with the most screen time, as many as fit.
    pub actors: Vec<ActorSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorSummary {
    pub name: String,
    pub screen_time_seconds: f64,
    pub appearances: usize,
    pub first_seen_seconds: f64,
    pub confidence: f64,
}

/// Termination messages are cut at 4096 bytes; stay well inside.
const SUMMARY_LIMIT: usize = 3500;

pub fn summary(result: &ResultsDocument, uri: &str) -> String {
    let mut people: Vec<_> = result.people.iter().collect();
    people.sort_by(|a, b| b.screen_time_seconds.total_cmp(&a.screen_time_seconds));
    let mut summary = MergeSummary { uri: uri.into(), actors_found: result.people.len(), actors: Vec::new() };
    for person in people {
        summary.actors.push(ActorSummary {
            name: person.name.clone(),
            screen_time_seconds: (person.screen_time_seconds * 10.0).round() / 10.0,
            appearances: person.appearances.len(),
            first_seen_seconds: (person.first_seen_seconds * 10.0).round() / 10.0,
            confidence: (f64::from(person.confidence) * 1000.0).round() / 1000.0,
        });
        if serde_json::to_string(&summary).map_or(0, |s| s.len()) > SUMMARY_LIMIT {
            summary.actors.pop();
            break;
        }
    }
    serde_json::to_string(&summary).unwrap_or_default()
}

pub struct MergeJob<'a> {
    pub source: &'a str,
    pub shards: usize,
    pub output: &'a JobOutput,
    pub table: &'a str,
    pub movie: Option<Movie>,
    pub processed_at: Timestamp,
}

/// Reads every shard, writes the result and the table items; returns the summary.
pub fn run_merge(job: &MergeJob, aws: &Aws) -> Result<String> {
    let mut documents = Vec::with_capacity(job.shards);
    for index in 0..job.shards {
        let uri = job.output.shard(index);
        let bytes =
            aws.get(&uri)?.ok_or_else(|| Error::Inference(format!("shard {index} wrote no results at {uri}")))?;
        let document: ShardDocument = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Inference(format!("{uri} is not a shard document: {e}")))?;
        documents.push(document);
    }
    let result = merge_shards(documents, job.movie.clone())?;
    let uri = job.output.result();
    let json = serde_json::to_vec_pretty(&result).map_err(|e| Error::Inference(e.to_string()))?;
    aws.put(&uri, json, "application/json")?;
    let provenance = Provenance {
        source: job.source,
        job: &job.output.job,
        result_uri: &uri.to_string(),
        processed_at: job.processed_at,
        finished_at: Timestamp::now(),
    };
    aws.write_items(job.table, items(&result, &provenance))?;
    tracing::info!(result = %uri, people = result.people.len(), unknown = result.unknown.len(), "merged");
    Ok(summary(&result, &uri.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{models, parameters, person, results, unit, video};
    use crate::geometry::BBox;
    use crate::identify::{IdentifiedTrack, Sighting};

    fn track(person: Option<&str>, seconds: std::ops::Range<u32>, angle: f32) -> IdentifiedTrack {
        IdentifiedTrack {
            person: person.map(str::to_string),
            template: unit(angle),
            sightings: seconds
                .map(|s| Sighting { seconds: f64::from(s) / 2.0, bbox: BBox::default(), score: 0.9, similarity: 0.7 })
                .collect(),
        }
    }

    fn shard(index: usize, tracks: Vec<IdentifiedTrack>) -> ShardDocument {
        ShardDocument {
            schema_version: SHARD_SCHEMA_VERSION.into(),
            job: "media/x".into(),
            shard: index,
            shards: 2,
            start_seconds: 30.0 * index as f64,
            end_seconds: (index == 0).then_some(30.0),
            video: video(60.0),
            models: models(),
            parameters: parameters(),
            tracks,
        }
    }

    #[test]
    fn a_person_on_screen_across_a_shard_boundary_is_one_appearance() {
        // Ada from 20 s to 40 s: 20-30 s in shard 0, 30-40 s in shard 1 (sightings every 0.5 s).
        let merged = merge_shards(
            vec![shard(1, vec![track(Some("Ada"), 60..80, 0.0)]), shard(0, vec![track(Some("Ada"), 40..60, 0.0)])],
            None,
        )
        .unwrap();
        let ada = &merged.people[0];
        assert_eq!(ada.appearances.len(), 1);
        assert_eq!((ada.appearances[0].start_seconds, ada.appearances[0].end_seconds), (20.0, 40.0));
        assert_eq!((merged.video.frames_analysed, merged.video.faces_detected), (120, 20));
    }

    #[test]
    fn an_unknown_face_in_two_shards_is_one_cluster() {
        let merged = merge_shards(
            vec![shard(0, vec![track(None, 10..20, 90.0)]), shard(1, vec![track(None, 100..110, 92.0)])],
            None,
        )
        .unwrap();
        assert_eq!(merged.unknown.len(), 1);
        assert_eq!(merged.unknown[0].appearances.len(), 2);
    }

    #[test]
    fn a_missing_shard_is_an_error() {
        assert!(merge_shards(vec![shard(0, vec![])], None).is_err());
    }

    #[test]
    fn the_summary_fits_a_termination_message_and_counts_everyone() {
        let people = (0..500)
            .map(|i| person(&format!("A person with a rather long name number {i}"), &[(0.0, f64::from(i))]))
            .collect();
        let result = results(people, vec![]);
        let text = summary(&result, "s3://p/results/x/result.json");
        assert!(text.len() <= SUMMARY_LIMIT, "{}", text.len());
        let parsed: MergeSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.actors_found, 500);
        assert_eq!(parsed.actors[0].screen_time_seconds, 499.0);
    }
}
