//! `cameo-detector run`: one shard of a VideoJob. Shard i of N analyses its part of the
//! video, read from S3 with ranged requests, plus a little on either side so tracks
//! crossing the boundary keep their context, and writes its tracks to
//! `results/<job>/shards/<i>.json`: with the sightings of the overlap too, by which the
//! merge joins a track cut by the boundary to its other half, and with exact (fp32)
//! evidence for such tracks, so the merge can name the joined track on all of it.

use serde::{Deserialize, Serialize};

use super::aws::Aws;
use super::candidates::CandidateCrops;
use super::gallery::enrol;
use super::s3::S3Uri;
use crate::error::{Error, Result};
use crate::identify::IdentifiedTrack;
use crate::models::Models;
use crate::pipeline::{PipelineConfig, analyse_tracks};
use crate::results::{GallerySummary, ModelsUsed, Parameters, VideoSummary};
use crate::video::{Span, TimeRange, VideoReader, VideoSource};

pub const SHARD_SCHEMA_VERSION: &str = "cameo.dev/shard/v2";

/// Seconds decoded beyond each side of a shard's own part: more than the gap a track
/// bridges, so a person crossing the boundary is one track on both sides.
pub const OVERLAP_SECONDS: f64 = 3.0;

/// Where a job's outputs go in the processed bucket.
#[derive(Debug, Clone)]
pub struct JobOutput {
    pub bucket: String,
    /// Key prefix, empty or ending in `/`.
    pub prefix: String,
    /// `<namespace>/<name>` of the VideoJob.
    pub job: String,
}

impl JobOutput {
    pub fn new(bucket: &str, prefix: &str, job: &str) -> Self {
        let prefix = match prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        JobOutput { bucket: bucket.into(), prefix, job: job.trim_matches('/').into() }
    }

    /// The outputs of `job`, from where its results document is.
    pub fn of_result(result: &S3Uri, job: &str) -> Option<Self> {
        let prefix = result.key.strip_suffix(&format!("results/{job}/result.json"))?;
        Some(JobOutput::new(&result.bucket, prefix, job))
    }

    /// A person's rejected examples from one correction of a movie.
    pub fn rejected(&self, person_id: &str, movie_id: &str, seq: u64) -> S3Uri {
        S3Uri::new(
            &self.bucket,
            format!("{}{}", self.prefix, cameo_model::people::rejected_key(person_id, movie_id, seq)),
        )
    }

    pub fn shard(&self, index: usize) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}results/{}/shards/{index}.json", self.prefix, self.job))
    }

    pub fn result(&self) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}results/{}/result.json", self.prefix, self.job))
    }

    /// The results in an editor's format, beside the results document.
    pub fn export(&self, format: cameo_model::exports::Format) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}results/{}/{}", self.prefix, self.job, format.path()))
    }

    /// What curation starts from, beside the results document (no embeddings).
    pub fn analysis(&self) -> S3Uri {
        S3Uri::new(
            &self.bucket,
            format!("{}results/{}/{}", self.prefix, self.job, cameo_model::curation::ANALYSIS_FILE),
        )
    }

    /// A shard's candidate face crops (`candidates/` expires by a lifecycle rule).
    pub fn candidates(&self, index: usize) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}candidates/{}/{index}.json", self.prefix, self.job))
    }

    /// The folder the results document refers to its face crops in (`faces/...`).
    pub fn results_folder(&self) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}results/{}/", self.prefix, self.job))
    }

    /// The groups' face templates: biometric data, under a prefix of their own that the
    /// API cannot read.
    pub fn templates(&self) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}templates/{}.json", self.prefix, self.job))
    }

    pub fn log(&self, name: &str) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}logs/{}/{name}.log", self.prefix, self.job))
    }

    /// The index of unknown faces (biometric data, like the templates).
    pub fn unknown_index(&self) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}{}", self.prefix, cameo_model::unknown_index::INDEX_PREFIX))
    }

    /// What the curation worker suggests for naming unknown faces (the API reads it).
    pub fn suggestions(&self) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}{}", self.prefix, cameo_model::suggestions::SUGGESTIONS_PREFIX))
    }

    /// Gallery photos' verdicts (embedding, or why the photo is skipped) by content hash.
    pub fn gallery_cache(&self) -> S3Uri {
        S3Uri::new(&self.bucket, format!("{}cache/gallery/", self.prefix))
    }
}

/// What one shard found: its own part of the video and the tracks seen in all it decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardDocument {
    pub schema_version: String,
    pub job: String,
    pub shard: usize,
    pub shards: usize,
    pub start_seconds: f64,
    /// `null` for the last shard, which runs to the end of the video.
    pub end_seconds: Option<f64>,
    pub video: VideoSummary,
    pub models: ModelsUsed,
    pub parameters: Parameters,
    pub gallery: GallerySummary,
    /// Every track seen, with its sightings in the overlap beyond the shard's own part.
    pub tracks: Vec<IdentifiedTrack>,
}

/// The part shard `index` of `shards` owns, and the part it decodes (with overlap).
pub fn shard_ranges(duration: f64, index: usize, shards: usize) -> (TimeRange, TimeRange) {
    let length = duration / shards as f64;
    let start = length * index as f64;
    // The last shard also takes anything past the declared duration.
    let end = if index + 1 == shards { f64::INFINITY } else { length * (index + 1) as f64 };
    let owned = TimeRange { start, end };
    let decoded = TimeRange { start: (start - OVERLAP_SECONDS).max(0.0), end: end + OVERLAP_SECONDS };
    (owned, decoded)
}

/// The tracks as a shard's own part has them: only sightings in it; tracks keep the
/// identity (and template) they got from all their sightings.
pub fn owned_tracks(tracks: Vec<IdentifiedTrack>, owned: TimeRange) -> Vec<IdentifiedTrack> {
    tracks
        .into_iter()
        .filter_map(|mut track| {
            track.sightings.retain(|s| owned.contains(s.seconds));
            (!track.sightings.is_empty()).then_some(track)
        })
        .collect()
}

/// A shard's part of the video: the part it reports and counts, and the part it decodes
/// (with the overlap; `None`: all of it).
pub struct ShardVideo {
    pub source: VideoSource,
    pub owned: TimeRange,
    pub span: Option<Span>,
}

/// Checks the video and finds shard `shard`'s part of it: cheap, so bad input fails here,
/// before any model is loaded. Videos over `max_video_bytes` are refused as bad input.
pub fn open_shard_video(
    source: &S3Uri,
    shard: usize,
    shards: usize,
    max_video_bytes: u64,
    aws: &Aws,
) -> Result<ShardVideo> {
    if shards == 0 || shard >= shards {
        return Err(Error::Config(format!("shard {shard} of {shards} does not exist")));
    }
    let size = aws.video_size(source)?;
    if size == 0 {
        return Err(Error::bad_video(source, "the object is empty"));
    }
    if size > max_video_bytes {
        return Err(Error::bad_video(source, format!("{size} bytes is over the limit of {max_video_bytes}")));
    }
    let video = VideoSource::Url { url: aws.presigned_get(source)?, name: source.to_string() };
    let info = VideoReader::open(&video, 1)?.info().clone();
    let (owned, span) = match (info.duration_seconds, shards) {
        (_, 1) => (TimeRange::ALL, None),
        (Some(duration), _) => {
            let (owned, decoded) = shard_ranges(duration, shard, shards);
            (owned, Some(Span { decoded, counted: owned }))
        }
        (None, _) => {
            return Err(Error::bad_video(source, "its duration is unknown, so it cannot be split into shards"));
        }
    };
    Ok(ShardVideo { source: video, owned, span })
}

/// What a shard asks of the pipeline.
pub struct ShardJob<'a> {
    pub video: ShardVideo,
    pub gallery: &'a S3Uri,
    /// When the VideoJob was created: the gallery manifest current then is enrolled.
    pub gallery_as_of: Option<jiff::Timestamp>,
    pub shard: usize,
    pub shards: usize,
    pub output: &'a JobOutput,
    pub config: PipelineConfig,
    pub execution_provider: &'a str,
}

/// Runs one shard end to end; returns the one-line summary for the termination message.
pub fn run_shard(job: &ShardJob, aws: &Aws, models: &mut Models) -> Result<String> {
    let (video, owned, span) = (&job.video.source, job.video.owned, job.video.span);
    let gallery = enrol(job.gallery, job.gallery_as_of, job.output.gallery_cache(), aws, models)?;
    gallery.warn(&job.gallery.to_string());
    let summary = gallery.summary();
    tracing::info!(
        people = summary.people,
        photos = summary.photos,
        skipped = summary.skipped.len(),
        manifest = summary.manifest_version.as_deref().unwrap_or("none: a gallery folder"),
        shard = job.shard,
        "gallery enrolled"
    );

    let progress = indicatif::ProgressBar::hidden();
    let analysis = analyse_tracks(video, span, models, &gallery, &job.config, job.execution_provider, &progress)?;
    let analysed_in = analysis.timings.wall.as_secs_f64();
    let document = ShardDocument {
        schema_version: SHARD_SCHEMA_VERSION.into(),
        job: job.output.job.clone(),
        shard: job.shard,
        shards: job.shards,
        start_seconds: owned.start,
        end_seconds: owned.end.is_finite().then_some(owned.end),
        video: analysis.video,
        models: analysis.models,
        parameters: analysis.parameters,
        gallery: analysis.gallery,
        tracks: analysis.tracks,
    };
    let candidates = CandidateCrops::of(&document.tracks, &analysis.crops);
    let json = serde_json::to_vec(&candidates).map_err(|e| Error::Inference(e.to_string()))?;
    aws.put(&job.output.candidates(job.shard), json, "application/json")?;
    let json = serde_json::to_vec(&document).map_err(|e| Error::Inference(e.to_string()))?;
    aws.put(&job.output.shard(job.shard), json, "application/json")?;

    let own = owned_tracks(document.tracks.clone(), owned);
    let mut names: Vec<&str> = own.iter().filter_map(|t| t.person.as_deref()).collect();
    names.sort_unstable();
    names.dedup();
    let unknown = own.iter().filter(|t| t.person.is_none()).count();
    Ok(format!(
        "shard {}/{}: {:.0} s to {}, {} frames analysed in {analysed_in:.1} s, {} tracks, {} unknown; found: {}",
        job.shard + 1,
        job.shards,
        owned.start,
        document.end_seconds.map_or("the end".to_string(), |e| format!("{e:.0} s")),
        document.video.frames_analysed,
        own.len(),
        unknown,
        if names.is_empty() { "nobody known".to_string() } else { names.join(", ") }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Embedding;
    use crate::geometry::BBox;
    use crate::identify::{Evidence, Sighting};

    #[test]
    fn shards_split_the_video_evenly_with_overlap_and_the_last_runs_to_the_end() {
        let (owned, decoded) = shard_ranges(120.0, 1, 4);
        assert_eq!(owned, TimeRange { start: 30.0, end: 60.0 });
        assert_eq!(decoded, TimeRange { start: 27.0, end: 63.0 });
        let (first, first_decoded) = shard_ranges(120.0, 0, 4);
        assert_eq!((first.start, first_decoded.start), (0.0, 0.0));
        let (last, _) = shard_ranges(120.0, 3, 4);
        assert_eq!((last.start, last.end), (90.0, f64::INFINITY));
    }

    #[test]
    fn a_shard_reports_only_the_sightings_of_its_own_part() {
        let sighting = |seconds| Sighting { seconds, bbox: BBox::default(), score: 0.9, similarity: 0.7 };
        let track = |seconds: &[f64]| IdentifiedTrack {
            person: Some("Ada".into()),
            evidence: Evidence { faces: vec![] },
            template: Embedding(vec![1.0]),
            sightings: seconds.iter().map(|&s| sighting(s)).collect(),
        };
        let owned = TimeRange { start: 30.0, end: 60.0 };
        let kept = owned_tracks(vec![track(&[28.0, 29.5, 30.0, 31.0]), track(&[61.0, 62.0])], owned);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].sightings.iter().map(|s| s.seconds).collect::<Vec<_>>(), vec![30.0, 31.0]);
    }

    #[test]
    fn outputs_live_under_the_prefix_and_the_job() {
        let output = JobOutput::new("processed", "/tenant-a/", "media/casablanca");
        assert_eq!(output.shard(3).to_string(), "s3://processed/tenant-a/results/media/casablanca/shards/3.json");
        assert_eq!(output.result().key, "tenant-a/results/media/casablanca/result.json");
        assert_eq!(JobOutput::new("p", "", "ns/x").log("shard-0").key, "logs/ns/x/shard-0.log");
    }
}
