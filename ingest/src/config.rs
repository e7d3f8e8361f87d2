//! What the ingest reads, where it creates VideoJobs and with which defaults: flags or
//! the environment (`CAMEO_*`, set by the Helm chart).

use std::net::SocketAddr;

use clap::Args;

/// SQS long polls wait at most 20 s and return at most 10 messages.
const SQS_MAX_WAIT_SECONDS: i32 = 20;

#[derive(Debug, Clone, Args)]
pub struct IngestConfig {
    /// The SQS queue fed by the raw bucket's `s3:ObjectCreated:*` notifications.
    #[arg(long, env = "CAMEO_QUEUE_URL")]
    pub queue_url: String,

    /// The namespace VideoJobs are created in (one the operator watches).
    #[arg(long, env = "CAMEO_NAMESPACE")]
    pub namespace: String,

    /// Only objects under this key prefix are videos to analyse.
    #[arg(long, env = "CAMEO_PREFIX", default_value = cameo_model::upload::VIDEO_PREFIX)]
    pub prefix: String,

    /// The gallery of known people every VideoJob is matched against (`s3://bucket/prefix/`).
    #[arg(long, env = "CAMEO_GALLERY")]
    pub gallery: String,

    /// The table the processing state is written to.
    #[arg(long, env = "CAMEO_TABLE", default_value = "MovieEntities")]
    pub table: String,

    /// Frames analysed per second of video; the VideoJob default when unset.
    #[arg(long, env = "CAMEO_SAMPLING_FPS")]
    pub sampling_fps: Option<f64>,

    /// Shards per VideoJob when `--bytes-per-shard` is not set.
    #[arg(long, env = "CAMEO_SHARDS", default_value_t = 1)]
    pub shards: i32,

    /// Shards follow the video's size: one per this many bytes, up to `--max-shards`.
    #[arg(long, env = "CAMEO_BYTES_PER_SHARD")]
    pub bytes_per_shard: Option<u64>,

    /// Most shards a VideoJob gets (keep it within the operator's own limit).
    #[arg(long, env = "CAMEO_MAX_SHARDS", default_value_t = 16)]
    pub max_shards: i32,

    /// Run shards on GPU nodes; false runs them on CPU nodes.
    #[arg(long, env = "CAMEO_GPU", default_value_t = true, action = clap::ArgAction::Set)]
    pub gpu: bool,

    /// Seconds a receive waits for messages (SQS long polling, at most 20).
    #[arg(long, env = "CAMEO_WAIT_SECONDS", default_value_t = SQS_MAX_WAIT_SECONDS)]
    pub wait_seconds: i32,

    /// Receive loops running at once; each handles the up to 10 messages of its receive
    /// together, so one loop's handling overlaps another's long poll.
    #[arg(long, env = "CAMEO_RECEIVERS", default_value_t = 2)]
    pub receivers: usize,

    /// Address of `/metrics`, `/healthz` and `/readyz`.
    #[arg(long, env = "CAMEO_HTTP_ADDRESS", default_value = "0.0.0.0:8080")]
    pub http_address: SocketAddr,
}

impl IngestConfig {
    /// Says which setting is wrong, so a bad deployment fails at start-up.
    pub fn check(&self) -> Result<(), String> {
        if self.queue_url.is_empty() {
            return Err("the queue URL is not set".into());
        }
        if self.namespace.is_empty() {
            return Err("the VideoJob namespace is not set".into());
        }
        if !self.gallery.starts_with("s3://") {
            return Err(format!("the gallery must be an s3:// URI, not {:?}", self.gallery));
        }
        if !(1..=1000).contains(&self.max_shards) || !(1..=self.max_shards).contains(&self.shards) {
            return Err(format!(
                "shards must be in 1..=max shards (1..=1000), not {} of {}",
                self.shards, self.max_shards
            ));
        }
        if self.bytes_per_shard == Some(0) {
            return Err("bytes per shard must be positive".into());
        }
        if self.sampling_fps.is_some_and(|fps| !(0.05..=30.0).contains(&fps)) {
            return Err("the sampling rate must be in 0.05..=30 frames per second".into());
        }
        if !(0..=SQS_MAX_WAIT_SECONDS).contains(&self.wait_seconds) {
            return Err(format!("the receive wait must be in 0..={SQS_MAX_WAIT_SECONDS} s"));
        }
        if !(1..=16).contains(&self.receivers) {
            return Err(format!("the receive loops must be 1..=16, not {}", self.receivers));
        }
        Ok(())
    }
}
