//! The VideoJob of an uploaded object, built purely from the event and the object's
//! metadata. Its name is derived from bucket, key, version (or ETag) and run: every
//! delivery of one upload names the same VideoJob, so a duplicate finds it already there;
//! an analysis asked for again (a higher run) names a new one.

use std::collections::BTreeMap;

use cameo_model::upload::{
    META_DIRECTOR, META_GENRE, META_TITLE, META_UPLOADED_BY, META_YEAR, decode_value, video_id_of_key,
};
use cameo_operator::crd::{Movie, Sampling, ShardResources, VideoJob, VideoJobSpec};
use kube::api::ObjectMeta;
use sha2::{Digest, Sha256};

use crate::config::IngestConfig;
use cameo_model::s3_event::ObjectCreated;

/// Labels every VideoJob the ingest creates, so it mirrors only its own.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "cameo-ingest";
/// The upload's video id (the API's), as a label.
pub const VIDEO_ID_LABEL: &str = "cameo.dev/video-id";
pub const UPLOADED_BY_ANNOTATION: &str = "cameo.dev/uploaded-by";
pub const OBJECT_VERSION_ANNOTATION: &str = "cameo.dev/object-version";
/// Which analysis of the upload the VideoJob is (absent: the first, run 0).
pub const ANALYSIS_RUN_ANNOTATION: &str = "cameo.dev/analysis-run";

/// An uploaded object: the event's identity and the object's own metadata (from HEAD).
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub bucket: String,
    pub key: String,
    /// The version id, else the ETag: what tells one upload of a key from the next.
    pub version: String,
    pub size_bytes: u64,
    /// User metadata, without the `x-amz-meta-` prefix, as stored (percent-encoded).
    pub metadata: BTreeMap<String, String>,
    /// Which analysis of it: 0 for the upload's own event, more when asked for again.
    pub run: u32,
}

/// Why an object gets no VideoJob; its message is left for the dead-letter queue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Skipped {
    #[error("{key:?} is not under {prefix:?}")]
    OutsidePrefix { key: String, prefix: String },
    #[error("{0:?} is not videos/<video id>/<file name>")]
    NotAnUpload(String),
    #[error("the event names neither a version nor an ETag for {0:?}")]
    NoVersion(String),
}

impl Skipped {
    pub fn metric_label(&self) -> &'static str {
        match self {
            Skipped::OutsidePrefix { .. } => "outside_prefix",
            Skipped::NotAnUpload(_) => "not_an_upload",
            Skipped::NoVersion(_) => "no_version",
        }
    }
}

/// The video id of an object the ingest should analyse.
pub fn video_id<'a>(key: &'a str, prefix: &str) -> Result<&'a str, Skipped> {
    if !key.starts_with(prefix) {
        return Err(Skipped::OutsidePrefix { key: key.into(), prefix: prefix.into() });
    }
    video_id_of_key(key).ok_or_else(|| Skipped::NotAnUpload(key.into()))
}

/// What tells one upload of a key from the next: the version id, else the ETag.
pub fn version_of(object: &ObjectCreated) -> Result<String, Skipped> {
    object.version_id.clone().or_else(|| object.etag.clone()).ok_or_else(|| Skipped::NoVersion(object.key.clone()))
}

/// `<video id, as a DNS label>-<hash of bucket, key, version and run>`: at most 51
/// characters. Every name of one video starts alike, so all its analyses can be found
/// (and erased) by that prefix.
pub fn videojob_name(video_id: &str, bucket: &str, key: &str, version: &str, run: u32) -> String {
    let mut readable: String = video_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(40)
        .collect();
    readable = readable.trim_matches('-').to_string();
    if readable.is_empty() {
        readable = "video".into();
    }
    // Run 0 hashes as names always did, so a redelivered old event finds its VideoJob.
    let identity = match run {
        0 => format!("{bucket}\n{key}\n{version}"),
        run => format!("{bucket}\n{key}\n{version}\n{run}"),
    };
    let digest = Sha256::digest(identity.as_bytes());
    format!("{readable}-{}", &format!("{digest:x}")[..10])
}

/// A label value: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn label_value(value: &str) -> String {
    let value: String =
        value.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).take(63).collect();
    value.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// Shards: fixed, or one per `bytes_per_shard` of the video, within `max_shards`.
pub fn shards_for(size_bytes: u64, config: &IngestConfig) -> i32 {
    match config.bytes_per_shard {
        Some(per_shard) => {
            i32::try_from(size_bytes.div_ceil(per_shard)).unwrap_or(i32::MAX).clamp(1, config.max_shards)
        }
        None => config.shards,
    }
}

/// The movie as the uploader described it; fields that do not decode, or fail the
/// VideoJob's own limits, are left out rather than failing the upload.
pub fn movie(metadata: &BTreeMap<String, String>) -> Option<Movie> {
    let field = |name: &str, max: usize| {
        metadata.get(name).and_then(|v| decode_value(v)).filter(|v| !v.is_empty() && v.chars().count() <= max)
    };
    let year = field(META_YEAR, 4).and_then(|y| y.parse().ok()).filter(|y| (1870..=2200).contains(y));
    let movie = Movie {
        title: field(META_TITLE, 512),
        genre: field(META_GENRE, 128),
        director: field(META_DIRECTOR, 256),
        year,
    };
    (movie != Movie::default()).then_some(movie)
}

pub fn desired_videojob(upload: &Upload, video_id: &str, config: &IngestConfig) -> VideoJob {
    let name = videojob_name(video_id, &upload.bucket, &upload.key, &upload.version, upload.run);
    let mut annotations = BTreeMap::from([(OBJECT_VERSION_ANNOTATION.to_string(), upload.version.clone())]);
    if upload.run > 0 {
        annotations.insert(ANALYSIS_RUN_ANNOTATION.into(), upload.run.to_string());
    }
    if let Some(uploader) = upload.metadata.get(META_UPLOADED_BY).and_then(|v| decode_value(v)) {
        annotations.insert(UPLOADED_BY_ANNOTATION.into(), uploader);
    }
    // The key's id: the one the API answers for.
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (VIDEO_ID_LABEL.to_string(), label_value(video_id)),
    ]);
    let spec = VideoJobSpec {
        movie: movie(&upload.metadata),
        sampling: config.sampling_fps.map_or_else(Sampling::default, |fps| Sampling { fps }),
        shards: shards_for(upload.size_bytes, config),
        resources: ShardResources { gpu: config.gpu, ..ShardResources::default() },
        ..VideoJobSpec::new(format!("s3://{}/{}", upload.bucket, upload.key), config.gallery.clone())
    };
    VideoJob {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(config.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        config: IngestConfig,
    }

    fn config(extra: &[&str]) -> IngestConfig {
        let base = ["ingest", "--queue-url", "http://q", "--namespace", "media", "--gallery", "s3://raw/gallery/"];
        Flags::parse_from(base.iter().chain(extra)).config
    }

    fn upload(metadata: &[(&str, &str)]) -> Upload {
        Upload {
            bucket: "raw".into(),
            key: "videos/0f3a/My Film.mp4".into(),
            version: "\"etag-1\"".into(),
            size_bytes: 3 << 30,
            metadata: metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            run: 0,
        }
    }

    #[test]
    fn one_upload_has_one_name_and_another_upload_of_the_key_another() {
        let name = videojob_name("0f3a", "raw", "videos/0f3a/a.mp4", "etag-1", 0);
        assert_eq!(name, videojob_name("0f3a", "raw", "videos/0f3a/a.mp4", "etag-1", 0));
        assert_ne!(name, videojob_name("0f3a", "raw", "videos/0f3a/a.mp4", "etag-2", 0));
        assert_ne!(name, videojob_name("0f3a", "raw2", "videos/0f3a/a.mp4", "etag-1", 0));
        assert!(name.starts_with("0f3a-"), "{name}");
        // Names made before runs existed stay the same, so a late duplicate finds its
        // VideoJob: sha256("raw\nvideos/0f3a/a.mp4\netag-1"), computed apart (Python's hashlib).
        assert_eq!(name, "0f3a-b680ec16cb");
        let again = videojob_name("0f3a", "raw", "videos/0f3a/a.mp4", "etag-1", 1);
        assert_ne!(name, again);
        assert_ne!(again, videojob_name("0f3a", "raw", "videos/0f3a/a.mp4", "etag-1", 2));
        assert!(again.starts_with("0f3a-"), "{again}");
    }

    #[test]
    fn names_and_labels_are_valid_for_any_video_id() {
        let dns = |s: &str| {
            s.len() <= 63
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        for id in ["0f3a9c", "Ünïcødé Film!", "---", &"x".repeat(300), "a.b_c"] {
            let name = videojob_name(id, "raw", "k", "v", 7);
            assert!(dns(&name), "{id:?} -> {name:?}");
            let label = label_value(id);
            assert!(label.len() <= 63 && !label.starts_with(['-', '.', '_']), "{id:?} -> {label:?}");
        }
    }

    #[test]
    fn only_uploads_under_the_prefix_are_analysed() {
        assert_eq!(video_id("videos/0f3a/a.mp4", "videos/"), Ok("0f3a"));
        assert_eq!(video_id("gallery/Ada/1.jpg", "videos/").unwrap_err().metric_label(), "outside_prefix");
        assert_eq!(video_id("videos/a.mp4", "videos/").unwrap_err().metric_label(), "not_an_upload");
        assert_eq!(video_id("videos/0f3a/sub/a.mp4", "videos/").unwrap_err().metric_label(), "not_an_upload");
        let object = |version_id: Option<&str>, etag: Option<&str>| ObjectCreated {
            bucket: "raw".into(),
            key: "videos/0f3a/a.mp4".into(),
            size: None,
            etag: etag.map(str::to_string),
            version_id: version_id.map(str::to_string),
            run: 0,
        };
        assert_eq!(version_of(&object(Some("v2"), Some("e"))), Ok("v2".to_string()));
        assert_eq!(version_of(&object(None, Some("e"))), Ok("e".to_string()));
        assert_eq!(version_of(&object(None, None)).unwrap_err().metric_label(), "no_version");
    }

    #[test]
    fn shards_follow_the_size_within_the_limit_or_stay_fixed() {
        assert_eq!(shards_for(10 << 30, &config(&[])), 1);
        assert_eq!(shards_for(10 << 30, &config(&["--shards", "4"])), 4);
        let by_size = config(&["--bytes-per-shard", "1073741824", "--max-shards", "8"]);
        assert_eq!(shards_for(1, &by_size), 1);
        assert_eq!(shards_for(3 << 30, &by_size), 3);
        assert_eq!(shards_for((3 << 30) + 1, &by_size), 4);
        assert_eq!(shards_for(100 << 30, &by_size), 8);
        assert!(config(&["--bytes-per-shard", "0"]).check().is_err());
        assert!(config(&["--shards", "9", "--max-shards", "8"]).check().is_err());
        assert!(config(&[]).check().is_ok());
    }

    #[test]
    fn the_videojob_carries_the_uploaders_metadata_and_the_configured_defaults() {
        let metadata = [
            ("video-id", "0f3a"),
            ("uploaded-by", "jwt:https%3A//idp|ada"),
            ("title", "Am%C3%A9lie"),
            ("year", "2001"),
            ("genre", "%FF"),
        ];
        let config = config(&["--sampling-fps", "4", "--gpu", "false", "--bytes-per-shard", "1073741824"]);
        let vj = desired_videojob(&upload(&metadata), "0f3a", &config);
        assert_eq!(vj.metadata.namespace.as_deref(), Some("media"));
        assert_eq!(vj.metadata.labels.as_ref().unwrap()[VIDEO_ID_LABEL], "0f3a");
        assert_eq!(vj.metadata.labels.as_ref().unwrap()[MANAGED_BY_LABEL], MANAGED_BY);
        assert_eq!(vj.metadata.annotations.as_ref().unwrap()[UPLOADED_BY_ANNOTATION], "jwt:https://idp|ada");
        assert_eq!(vj.spec.source, "s3://raw/videos/0f3a/My Film.mp4");
        assert_eq!(vj.spec.gallery, "s3://raw/gallery/");
        let movie = vj.spec.movie.unwrap();
        assert_eq!((movie.title.as_deref(), movie.year, movie.genre), (Some("Amélie"), Some(2001), None));
        assert_eq!((vj.spec.sampling.fps, vj.spec.shards, vj.spec.resources.gpu), (4.0, 3, false));
        assert!(desired_videojob(&upload(&[]), "0f3a", &config).spec.movie.is_none());
        assert!(!vj.metadata.annotations.as_ref().unwrap().contains_key(ANALYSIS_RUN_ANNOTATION));
        let again = desired_videojob(&Upload { run: 2, ..upload(&metadata) }, "0f3a", &config);
        assert_eq!(again.metadata.annotations.as_ref().unwrap()[ANALYSIS_RUN_ANNOTATION], "2");
        assert_ne!(again.metadata.name, vj.metadata.name);
    }
}
