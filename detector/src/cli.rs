//! Command-line interface of `cameo-detector`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::detect::DetectorConfig;
use crate::identify::MatchConfig;
use crate::models::Precision;
use crate::pipeline::PipelineConfig;
use crate::runtime::{Device, DeviceRequest};

#[derive(Debug, Parser)]
#[command(name = "cameo-detector", version, about = "Find which people appear in a video, and when")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format: text for terminals, json for log collectors; auto picks by whether stderr is a terminal.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, env = "CAMEO_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a local video file against a gallery folder.
    Detect(Box<DetectArgs>),
    /// Analyse one shard of a video in S3 (what a VideoJob's shard pods run).
    #[cfg(feature = "cloud")]
    Run(Box<RunArgs>),
    /// Join a VideoJob's shards; write the results to S3 and DynamoDB.
    #[cfg(feature = "cloud")]
    Merge(Box<MergeArgs>),
    /// Check the registry's gallery photos as they arrive and keep the gallery manifest
    /// (what the gallery checker's Deployment runs).
    #[cfg(feature = "cloud")]
    GalleryChecker(Box<GalleryCheckerArgs>),
    /// Import a gallery filled by hand (`<gallery>/<Person Name>/*.jpg`) into the
    /// registry, check its photos and write the manifest.
    #[cfg(feature = "cloud")]
    GalleryImport(Box<GalleryArgs>),
    /// Rewrite corrected results as people correct them (what the curation worker's
    /// Deployment runs).
    #[cfg(feature = "cloud")]
    CurationWorker(Box<CurationWorkerArgs>),
    /// Print the JSON Schema of the results document.
    Schema,
}

/// Where a VideoJob's outputs go.
#[cfg(feature = "cloud")]
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Bucket for results, logs and the embedding cache.
    #[arg(long)]
    pub output_bucket: String,
    /// Key prefix inside the bucket.
    #[arg(long, default_value = "")]
    pub output_prefix: String,
    /// The VideoJob, `<namespace>/<name>`: outputs go under `results/<job>/`.
    #[arg(long)]
    pub job: String,
}

#[cfg(feature = "cloud")]
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The video, `s3://bucket/key`.
    #[arg(long)]
    pub source: String,
    /// The gallery, `s3://bucket/prefix/`: the registry's manifest under `.cameo/` or, until
    /// there is one, `<Person Name>/<photo>` folders.
    #[arg(long)]
    pub gallery: String,
    /// When the VideoJob was created (RFC 3339): the manifest version current then is
    /// enrolled, by every shard alike. Without it, the gallery folders as they are.
    #[arg(long)]
    pub gallery_as_of: Option<String>,
    /// How many shards the video is split into.
    #[arg(long, default_value_t = 1)]
    pub shards: usize,
    /// This shard, from 0 (Indexed Jobs set JOB_COMPLETION_INDEX).
    #[arg(long, env = "JOB_COMPLETION_INDEX")]
    pub shard: usize,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Videos larger than this many bytes are refused as bad input.
    #[arg(long, default_value_t = 100 << 30)]
    pub max_video_bytes: u64,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// The registry's gallery and where its photos' verdicts go.
#[cfg(feature = "cloud")]
#[derive(Debug, Args)]
pub struct GalleryArgs {
    /// The gallery, `s3://bucket/prefix/`: its manifest and uploaded photos are under `.cameo/`.
    #[arg(long, env = "CAMEO_GALLERY")]
    pub gallery: String,
    /// The MovieEntities DynamoDB table, which holds the registry.
    #[arg(long, env = "CAMEO_RESULTS_TABLE", default_value = "MovieEntities")]
    pub table: String,
    /// The bucket of the verdict cache the shards read (the VideoJobs' output bucket).
    #[arg(long, env = "CAMEO_OUTPUT_BUCKET")]
    pub output_bucket: String,
    /// Key prefix inside that bucket.
    #[arg(long, default_value = "")]
    pub output_prefix: String,
    /// Photos larger than this many bytes are rejected unread.
    #[arg(long, default_value_t = 50 << 20)]
    pub max_photo_bytes: u64,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[cfg(feature = "cloud")]
#[derive(Debug, Args)]
pub struct GalleryCheckerArgs {
    /// The gallery queue: photos arriving, and the API's word that the registry changed.
    #[arg(long, env = "CAMEO_GALLERY_QUEUE_URL")]
    pub queue_url: String,
    /// Seconds a receive waits for messages (SQS long polling).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=20))]
    pub wait_seconds: u64,
    /// Stop once the queue is empty (tests, and draining it by hand).
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub gallery: GalleryArgs,
}

#[cfg(feature = "cloud")]
#[derive(Debug, Args)]
pub struct CurationWorkerArgs {
    /// The curation queue: the API's word that a movie's corrections changed.
    #[arg(long, env = "CAMEO_CURATION_QUEUE_URL")]
    pub queue_url: String,
    /// The MovieEntities DynamoDB table, which holds the results and the curation ledger.
    #[arg(long, env = "CAMEO_RESULTS_TABLE", default_value = "MovieEntities")]
    pub table: String,
    /// The gallery, `s3://bucket/prefix/`: a cluster named after a person gives them its
    /// crops as photos there (under `.cameo/photos/`). Unset, naming adds no photos.
    #[arg(long, env = "CAMEO_GALLERY")]
    pub gallery: Option<String>,
    /// The gallery checker's queue, told when corrections change the gallery's evidence.
    #[arg(long, env = "CAMEO_GALLERY_QUEUE_URL")]
    pub gallery_queue_url: Option<String>,
    /// The VideoJobs' output bucket, which holds the index of unknown faces and the
    /// gallery's verdict cache: with it, a name given in one video relabels every other
    /// video where that face is unknown (late binding; it loads the fp32 recogniser).
    #[arg(long, env = "CAMEO_OUTPUT_BUCKET")]
    pub output_bucket: Option<String>,
    /// Key prefix inside that bucket.
    #[arg(long, default_value = "")]
    pub output_prefix: String,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Seconds a receive waits for messages (SQS long polling).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=20))]
    pub wait_seconds: u64,
    /// Stop once the queue is empty (tests, and draining it by hand).
    #[arg(long)]
    pub once: bool,
}

#[cfg(feature = "cloud")]
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The video, `s3://bucket/key` (it names the movie in the table).
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub shards: usize,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The MovieEntities DynamoDB table.
    #[arg(long, env = "CAMEO_RESULTS_TABLE", default_value = "MovieEntities")]
    pub table: String,
    /// When the VideoJob was submitted (RFC 3339): reruns of it write the same items.
    #[arg(long)]
    pub processed_at: String,
    #[arg(long)]
    pub movie_title: Option<String>,
    #[arg(long)]
    pub movie_genre: Option<String>,
    #[arg(long)]
    pub movie_director: Option<String>,
    #[arg(long)]
    pub movie_year: Option<i32>,
    /// The models embed each group's chosen faces for its templates.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The video file.
    #[arg(long)]
    pub video: PathBuf,

    /// Gallery folder: one sub-folder per person, named after them, holding their photos.
    #[arg(long)]
    pub gallery: PathBuf,

    /// Fail (exit 2) when a gallery photo cannot be used or nobody is enrolled, instead of
    /// skipping such photos and analysing the video with the rest.
    #[arg(long)]
    pub strict_gallery: bool,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Write the results document (JSON) to this file, or to stdout with `-`.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Write the faces of each person and unknown face (JPEG crops) and their templates
    /// (fp32 embeddings) to this folder, which the document refers to [default: beside
    /// --json, `<name>.faces`; none with `--json -`].
    #[arg(long)]
    pub faces: Option<PathBuf>,

    /// Write the results in an editor's format too: vtt (WebVTT), csv or edl (CMX3600).
    /// Repeatable.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"], action = clap::ArgAction::Append)]
    pub export: Vec<String>,

    /// Write a self-contained HTML report: the video in a player, the people with their
    /// faces, a timeline that seeks the player.
    #[arg(long)]
    pub report: Option<PathBuf>,

    /// Draw a PNG with one lane per person over time.
    #[arg(long)]
    pub timeline: Option<PathBuf>,

    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// How a video is analysed.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Frames analysed per second of video.
    #[arg(long, default_value_t = PipelineConfig::DEFAULT_FPS)]
    pub fps: f64,

    /// Minimum cosine similarity between a face and a gallery photo to name it.
    #[arg(long, default_value_t = PipelineConfig::DEFAULT_THRESHOLD)]
    pub threshold: f32,

    /// Minimum lead of the best match over the runner-up.
    #[arg(long, default_value_t = PipelineConfig::DEFAULT_MARGIN)]
    pub margin: f32,

    /// Minimum face detection score (0-1).
    #[arg(long, default_value_t = DetectorConfig::default().score_threshold)]
    pub detection_threshold: f32,

    /// Smallest face to find (box height in frame pixels) [default: 40 per 1080 lines].
    #[arg(long)]
    pub min_face_size: Option<f32>,
}

impl AnalysisArgs {
    /// The pipeline's configuration, checked.
    pub fn pipeline_config(&self) -> crate::error::Result<PipelineConfig> {
        let config = PipelineConfig {
            fps: self.fps,
            min_face_px: self.min_face_size,
            matching: MatchConfig { threshold: self.threshold, margin: self.margin },
            detector: DetectorConfig { score_threshold: self.detection_threshold, ..DetectorConfig::default() },
            ..PipelineConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

/// Where the models and ONNX Runtime are, and what to run them on.
#[derive(Debug, Args)]
pub struct RuntimeArgs {
    /// Execution device.
    #[arg(long, value_enum, default_value_t = DeviceRequest::Auto)]
    pub device: DeviceRequest,

    /// Folder holding yunet.onnx, sface.onnx and sface_int8.onnx, as `make setup` prepares
    /// them [default: ~/.cache/cameo/models].
    #[arg(long, env = "CAMEO_MODELS_DIR")]
    pub models: Option<PathBuf>,

    /// The recogniser's precision [default: int8 on CPU, where it is faster; fp32 on CUDA].
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,

    /// ONNX Runtime shared library.
    #[arg(long, env = "ORT_DYLIB_PATH", default_value = "libonnxruntime.so")]
    pub onnxruntime: PathBuf,

    /// Where gallery embeddings are cached [default: ~/.cache/cameo/embeddings].
    #[arg(long, env = "CAMEO_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// CPU threads per model. Decoding, detection and embedding already run in parallel,
    /// so 1 suits machines with few cores.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,

    /// FFmpeg decoder threads, 0 for one per core [default: 1 on CPU, where inference
    /// needs the other cores; 0 with CUDA].
    #[arg(long)]
    pub decoder_threads: Option<usize>,
}

impl DetectArgs {
    /// The faces folder: `--faces`, or `<name>.faces` beside a `--json` file.
    pub fn faces_dir(&self) -> Option<PathBuf> {
        match (&self.faces, &self.json) {
            (Some(dir), _) => Some(dir.clone()),
            (None, Some(json)) if json.as_os_str() != "-" => Some(json.with_extension("faces")),
            _ => None,
        }
    }

    /// The `--export` pairs, checked.
    pub fn exports(&self) -> crate::error::Result<Vec<(crate::exports::Format, PathBuf)>> {
        self.export
            .chunks(2)
            .map(|pair| {
                let format = pair[0].parse().map_err(crate::error::Error::Config)?;
                Ok((format, PathBuf::from(&pair[1])))
            })
            .collect()
    }
}

impl RuntimeArgs {
    /// `--decoder-threads`, or the default for the device inference runs on.
    pub fn decoder_threads_for(&self, device: Device) -> usize {
        self.decoder_threads.unwrap_or(device.decoder_threads())
    }
}

/// `$XDG_CACHE_HOME/cameo` or `~/.cache/cameo`, where `make setup` puts models and caches.
pub fn cache_root() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache"));
    xdg.or(home).map(|dir| dir.join("cameo"))
}
