//! The `VideoJob` custom resource (`cameo.dev/v1alpha1`, short name `vj`).
//!
//! CEL rules reject invalid specs at admission; `crds/videojob.yaml` is generated
//! from these types (`cameo-operator crd`) and a test fails when it drifts.

use std::collections::BTreeMap;

// What the merge reports is defined once, in the shared model, and imported.
pub use cameo_model::summary::{ActorSummary, ResultSummary};

use k8s_openapi::api::core::v1::Toleration;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// S3 URIs: `s3://` and a valid bucket name, then an optional key.
const S3_URI: &str = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$";

/// What to analyse, against whom, and how to run it.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "cameo.dev",
    version = "v1alpha1",
    kind = "VideoJob",
    namespaced,
    status = "VideoJobStatus",
    shortname = "vj",
    category = "cameo",
    doc = "A video to analyse: which known people appear in it, and when",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.reason", description = "Why it is in its phase: waiting, failed or invalid"),
    printcolumn(name = "Progress", type_ = "string", json_path = ".status.progress", description = "Shards done of total"),
    printcolumn(name = "Actors", type_ = "integer", json_path = ".status.result.actorsFound", description = "Known people found"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("!has(self.spec.maxParallelShards) || self.spec.maxParallelShards <= self.spec.shards").message("spec.maxParallelShards cannot exceed spec.shards"),
    validation = Rule::new("self.spec.shards == oldSelf.spec.shards || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.shards is immutable once the VideoJob is accepted"),
    // What the shards' pods were started with cannot change under them: these fields are
    // fixed once the VideoJob is accepted (its Jobs exist), instead of ignored silently.
    validation = Rule::new("self.spec.matchThreshold == oldSelf.spec.matchThreshold || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.matchThreshold is immutable once the VideoJob is accepted"),
    validation = Rule::new("self.spec.sampling == oldSelf.spec.sampling || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.sampling is immutable once the VideoJob is accepted"),
    validation = Rule::new("(has(self.spec.minFaceSize) == has(oldSelf.spec.minFaceSize) && (!has(self.spec.minFaceSize) || self.spec.minFaceSize == oldSelf.spec.minFaceSize)) || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.minFaceSize is immutable once the VideoJob is accepted"),
    validation = Rule::new("(has(self.spec.movie) == has(oldSelf.spec.movie) && (!has(self.spec.movie) || self.spec.movie == oldSelf.spec.movie)) || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.movie is immutable once the VideoJob is accepted"),
    validation = Rule::new("(has(self.spec.queueName) == has(oldSelf.spec.queueName) && (!has(self.spec.queueName) || self.spec.queueName == oldSelf.spec.queueName)) || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.queueName is immutable once the VideoJob is accepted"),
    validation = Rule::new("(has(self.spec.priorityClassName) == has(oldSelf.spec.priorityClassName) && (!has(self.spec.priorityClassName) || self.spec.priorityClassName == oldSelf.spec.priorityClassName)) || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.priorityClassName is immutable once the VideoJob is accepted"),
    validation = Rule::new("(has(self.spec.podLabels) == has(oldSelf.spec.podLabels) && (!has(self.spec.podLabels) || self.spec.podLabels == oldSelf.spec.podLabels)) || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.podLabels is immutable once the VideoJob is accepted"),
    validation = Rule::new("(has(self.spec.podAnnotations) == has(oldSelf.spec.podAnnotations) && (!has(self.spec.podAnnotations) || self.spec.podAnnotations == oldSelf.spec.podAnnotations)) || !has(oldSelf.status) || oldSelf.status.phase == 'Invalid'").message("spec.podAnnotations is immutable once the VideoJob is accepted"),
)]
#[serde(rename_all = "camelCase")]
pub struct VideoJobSpec {
    /// The video, as an S3 URI: `s3://bucket/videos/<id>/film.mp4`. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.source is immutable"))]
    #[schemars(regex(pattern = S3_URI), length(max = 1024))]
    pub source: String,

    /// The gallery of known people, an S3 prefix of per-person photo folders:
    /// `s3://bucket/gallery/` holding `<Person Name>/*.jpg`. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.gallery is immutable"))]
    #[schemars(regex(pattern = S3_URI), length(max = 1024))]
    pub gallery: String,

    /// What the video is, stored with the results. Immutable once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie: Option<Movie>,

    #[serde(default)]
    pub sampling: Sampling,

    /// Minimum cosine similarity to name a face (0-1). Immutable once accepted.
    #[serde(default = "default_match_threshold")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub match_threshold: f64,

    /// Smallest face to find, box height in frame pixels; default 40 per 1080 lines.
    /// Immutable once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 8, max = 2160))]
    pub min_face_size: Option<i32>,

    /// Pieces of the video analysed in parallel, each by one pod. Immutable once the
    /// VideoJob has been accepted.
    #[serde(default = "default_shards")]
    #[schemars(range(min = 1, max = 1000))]
    pub shards: i32,

    /// At most this many shards run at once; default all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_parallel_shards: Option<i32>,

    /// Where results go; defaults come from the operator's configuration. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.output is immutable"))]
    pub output: Option<Output>,

    /// What each shard's pod runs on. Immutable.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.resources is immutable"))]
    pub resources: ShardResources,

    /// Node labels the shard pods must run on, replacing the operator's default (none:
    /// the `nvidia.com/gpu` request already steers GPU shards to GPU nodes). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.nodeSelector is immutable"))]
    pub node_selector: Option<BTreeMap<String, String>>,

    /// Replaces the operator's default tolerations (the GPU taint) for the shard pods. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.tolerations is immutable"))]
    pub tolerations: Option<Vec<Toleration>>,

    /// Retries of a failed shard before the VideoJob fails. Bad input (exit code 2) is never retried.
    #[serde(default = "default_backoff_limit_per_shard")]
    #[schemars(range(min = 0, max = 10))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.backoffLimitPerShard is immutable"))]
    pub backoff_limit_per_shard: i32,

    /// The whole analysis (shards and merge) fails after this many seconds, counted from
    /// the start of the shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub active_deadline_seconds: Option<i64>,

    /// Delete the VideoJob (and its Jobs and pods) this long after it finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub ttl_seconds_after_finished: Option<i32>,

    /// Pause the analysis (running shards are stopped) until set back to false. A queue
    /// (Kueue) may also hold the Jobs suspended until it admits them; that is its choice.
    #[serde(default)]
    pub suspend: bool,

    /// The Kueue LocalQueue the Jobs are submitted to (`kueue.x-k8s.io/queue-name`),
    /// replacing the operator's default. Immutable once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"))]
    pub queue_name: Option<String>,

    /// PriorityClass of the shard and merge pods, replacing the operator's default.
    /// Immutable once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"))]
    pub priority_class_name: Option<String>,

    /// Labels added to the Jobs and their pods (cost centres, policy selectors), over the
    /// operator's defaults. Keys of cameo's own and Kubernetes' Job labels are refused.
    /// Immutable once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub pod_labels: Option<BTreeMap<String, String>>,

    /// Annotations added to the Jobs and their pods, over the operator's defaults.
    /// Immutable once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub pod_annotations: Option<BTreeMap<String, String>>,
}

impl VideoJobSpec {
    /// A spec of these two fields and every default, as `kubectl apply` of them gives.
    pub fn new(source: String, gallery: String) -> Self {
        VideoJobSpec {
            source,
            gallery,
            movie: None,
            sampling: Sampling::default(),
            match_threshold: default_match_threshold(),
            min_face_size: None,
            shards: default_shards(),
            max_parallel_shards: None,
            output: None,
            resources: ShardResources::default(),
            node_selector: None,
            tolerations: None,
            backoff_limit_per_shard: default_backoff_limit_per_shard(),
            active_deadline_seconds: None,
            ttl_seconds_after_finished: None,
            suspend: false,
            queue_name: None,
            priority_class_name: None,
            pod_labels: None,
            pod_annotations: None,
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Movie {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub genre: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub director: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1870, max = 2200))]
    pub year: Option<i32>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sampling {
    /// Frames analysed per second of video.
    #[serde(default = "default_fps")]
    #[schemars(range(min = 0.05, max = 30.0))]
    pub fps: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { fps: default_fps() }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// S3 bucket for results and logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: Option<String>,
    /// Key prefix inside the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub prefix: Option<String>,
    /// DynamoDB table for the queryable entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]{3,255}$"))]
    pub table: Option<String>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShardResources {
    /// Run on a GPU node (one GPU per shard); false runs on CPU nodes.
    #[serde(default = "default_true")]
    pub gpu: bool,
    /// CPU request per shard, e.g. `2` or `1500m`.
    #[serde(default = "default_cpu")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?m?$"))]
    pub cpu: String,
    /// Memory request and limit per shard, e.g. `4Gi`.
    #[serde(default = "default_memory")]
    #[schemars(regex(pattern = r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$"))]
    pub memory: String,
}

impl Default for ShardResources {
    fn default() -> Self {
        ShardResources { gpu: true, cpu: default_cpu(), memory: default_memory() }
    }
}

fn default_match_threshold() -> f64 {
    0.363
}
fn default_shards() -> i32 {
    1
}
fn default_backoff_limit_per_shard() -> i32 {
    2
}
fn default_fps() -> f64 {
    2.0
}
fn default_true() -> bool {
    true
}
fn default_cpu() -> String {
    "2".into()
}
fn default_memory() -> String {
    "4Gi".into()
}

/// Where a VideoJob stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, schemars::JsonSchema)]
pub enum Phase {
    /// Accepted; shards not yet running.
    #[default]
    Pending,
    /// Shards are analysing the video.
    Detecting,
    /// All shards done; their results are being joined.
    Merging,
    Succeeded,
    Failed,
    /// Paused by `spec.suspend`.
    Suspended,
    /// The spec cannot run as it is; waiting for a change.
    Invalid,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Detecting => "Detecting",
            Phase::Merging => "Merging",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Suspended => "Suspended",
            Phase::Invalid => "Invalid",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }

    pub const ALL: [Phase; 7] = [
        Phase::Pending,
        Phase::Detecting,
        Phase::Merging,
        Phase::Succeeded,
        Phase::Failed,
        Phase::Suspended,
        Phase::Invalid,
    ];
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoJobStatus {
    #[serde(default)]
    pub phase: Phase,
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Why the VideoJob is in its phase, as a CamelCase reason: what it waits for
    /// (`Queued`, `Unschedulable`, `JobRejected`, `PodCreationFailed`), why it failed or
    /// is invalid; empty while it simply runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Standard conditions: Accepted, Waiting, Suspended, Complete, Failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub shards: ShardCounts,
    /// Shards succeeded of total, e.g. `3/8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// The batch/v1 Job running the shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Who appears in the video (filled when the analysis succeeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultSummary>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShardCounts {
    pub total: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub active: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    /// `make crds` writes both files from the Rust types.
    #[test]
    fn the_committed_crds_are_generated_from_the_rust_types() {
        let generated = serde_yaml::to_string(&VideoJob::crd()).unwrap();
        for path in ["../crds/videojob.yaml", "../charts/cameo/files/videojob.crd.yaml"] {
            let committed =
                std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
            assert!(committed == generated, "{path} is stale: run `make crds`");
        }
    }

    #[test]
    fn defaults_fill_an_empty_spec() {
        let spec: VideoJobSpec =
            serde_json::from_value(serde_json::json!({"source": "s3://b/v.mp4", "gallery": "s3://b/g/"})).unwrap();
        assert_eq!((spec.shards, spec.sampling.fps, spec.match_threshold), (1, 2.0, 0.363));
        assert!(spec.resources.gpu && !spec.suspend);
        assert_eq!(VideoJobSpec::new("s3://b/v.mp4".into(), "s3://b/g/".into()), spec);
    }
}
