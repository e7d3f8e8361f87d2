//! Build step: the batch/v1 Jobs that run a VideoJob, as pure functions.
//!
//! One Indexed Job per VideoJob: completions = shards, parallelism = maxParallelShards,
//! each pod analyses shard `JOB_COMPLETION_INDEX`. A detector exit code 2 (bad input)
//! fails the whole Job at once, and so does a shard out of retries (`maxFailedIndexes:
//! 0`); pod disruptions (node drained, spot reclaimed) are retried without counting
//! against the shard's backoff limit. After creation the operator changes only the
//! fields that follow the VideoJob ([`Followed`]), and only when the VideoJob changed
//! them: a queue (Kueue) that suspends and resumes the Job is left alone.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{
    Job, JobSpec, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, PodSecurityContext, PodSpec, PodTemplateSpec,
    ResourceRequirements, SeccompProfile, SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{Resource, ResourceExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::OperatorConfig;
use crate::crd::VideoJob;
use crate::validate::output_bucket;

/// The detector's documented exit code for input no retry can fix.
pub const EXIT_BAD_INPUT: i32 = 2;
pub const CONTAINER_NAME: &str = "detector";
const MANAGED_BY: &str = "cameo-operator";
/// Label on Jobs and pods naming their VideoJob.
pub const VIDEOJOB_LABEL: &str = "cameo.dev/videojob";
/// Kueue's label naming the LocalQueue a Job is submitted to.
pub const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";
/// Karpenter leaves nodes running pods annotated so alone when it consolidates.
pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";
/// Annotation of a Job: the [`Followed`] fields as the operator last wrote them.
pub const FOLLOWED_ANNOTATION: &str = "cameo.dev/followed-spec";
/// Scratch space of the merge pod's `/tmp`.
const MERGE_SCRATCH: &str = "512Mi";

/// The Job fields that follow the VideoJob after the Job exists. Its pod template is
/// immutable; these may change.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Followed {
    pub suspend: bool,
    pub parallelism: i32,
    pub active_deadline_seconds: Option<i64>,
}

impl Followed {
    /// What the shards' Job should follow of `vj`.
    pub fn of(vj: &VideoJob) -> Self {
        Followed {
            suspend: vj.spec.suspend,
            parallelism: parallelism(vj),
            active_deadline_seconds: vj.spec.active_deadline_seconds,
        }
    }

    /// What the operator last wrote on `job`; for a Job without the annotation, the
    /// Job's own values.
    pub fn last_written(job: &Job) -> Self {
        let annotation = job.annotations().get(FOLLOWED_ANNOTATION);
        annotation.and_then(|a| serde_json::from_str(a).ok()).unwrap_or_else(|| {
            let spec = job.spec.as_ref();
            Followed {
                suspend: spec.and_then(|s| s.suspend).unwrap_or(false),
                parallelism: spec.and_then(|s| s.parallelism).unwrap_or(1),
                active_deadline_seconds: spec.and_then(|s| s.active_deadline_seconds),
            }
        })
    }

    fn annotation(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }
}

/// The merge patch that brings `job` up to date with `vj`: only the fields the VideoJob
/// changed since the operator last wrote them, so a value someone else set (Kueue's
/// `suspend`, a partial admission's `parallelism`) stands until the user changes theirs.
/// `None`: nothing to write.
pub fn follow_update(job: &Job, vj: &VideoJob) -> Option<serde_json::Value> {
    let (last, wanted) = (Followed::last_written(job), Followed::of(vj));
    if last == wanted {
        return None;
    }
    let mut spec = serde_json::Map::new();
    if last.suspend != wanted.suspend {
        spec.insert("suspend".into(), wanted.suspend.into());
    }
    if last.parallelism != wanted.parallelism {
        spec.insert("parallelism".into(), wanted.parallelism.into());
    }
    if last.active_deadline_seconds != wanted.active_deadline_seconds {
        spec.insert("activeDeadlineSeconds".into(), serde_json::json!(wanted.active_deadline_seconds));
    }
    Some(serde_json::json!({
        "metadata": { "annotations": { FOLLOWED_ANNOTATION: wanted.annotation() } },
        "spec": spec,
    }))
}

/// What a Job does for its VideoJob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The shards: one pod per piece of the video, on GPU nodes.
    Detect,
    /// Joins the shards' results once they all succeeded; one pod, on a CPU node.
    Merge,
}

impl Stage {
    fn suffix(self) -> &'static str {
        match self {
            Stage::Detect => "-detect",
            Stage::Merge => "-merge",
        }
    }
}

/// A Job's name: `<videojob>-detect` or `-merge`, shortened as a label value (the Job
/// controller labels its pods with it).
pub fn job_name(videojob: &str, stage: Stage) -> String {
    label_value(videojob, stage.suffix())
}

/// `name` and `suffix`, or a truncated name, a hash and `suffix` when that would exceed
/// the 63 characters a label value may have (a VideoJob's name may have 253).
fn label_value(name: &str, suffix: &str) -> String {
    if name.len() + suffix.len() <= 63 {
        return format!("{name}{suffix}");
    }
    let hash = format!("{:x}", Sha256::digest(name.as_bytes()));
    let head: String = name.chars().take(63 - suffix.len() - 9).collect();
    format!("{}-{}{suffix}", head.trim_end_matches(['-', '.']), &hash[..8])
}

/// The Indexed Job of a (validated) VideoJob's shards.
pub fn desired_detect_job(vj: &VideoJob, config: &OperatorConfig) -> Job {
    let spec = &vj.spec;
    let (node_selector, tolerations) = placement(vj, config);
    let resources = &spec.resources;
    let mut requests = BTreeMap::from([
        ("cpu".to_string(), Quantity(resources.cpu.clone())),
        ("memory".to_string(), Quantity(resources.memory.clone())),
        ("ephemeral-storage".to_string(), Quantity(config.shard_scratch.clone())),
    ]);
    let mut limits = BTreeMap::from([("memory".to_string(), Quantity(resources.memory.clone()))]);
    if resources.gpu {
        requests.insert("nvidia.com/gpu".into(), Quantity("1".into()));
        limits.insert("nvidia.com/gpu".into(), Quantity("1".into()));
    }
    let mut args = vec![
        "run".to_string(),
        format!("--source={}", spec.source),
        format!("--gallery={}", spec.gallery),
        format!("--shards={}", spec.shards),
        format!("--fps={}", spec.sampling.fps),
        format!("--threshold={}", spec.match_threshold),
        format!("--device={}", if resources.gpu { config.gpu_device.as_str() } else { "cpu" }),
    ];
    if let Some(px) = spec.min_face_size {
        args.push(format!("--min-face-size={px}"));
    }
    // Every shard enrols the gallery manifest current when the VideoJob was created.
    if let Some(created) = &vj.metadata.creation_timestamp {
        args.push(format!("--gallery-as-of={}", created.0));
    }
    args.extend(output_args(vj, config));
    let pod = pod_template(
        vj,
        config,
        config.shard_image(resources.gpu),
        args,
        ResourceRequirements { requests: Some(requests), limits: Some(limits), ..Default::default() },
        &config.shard_scratch,
    );
    let pod = PodSpec {
        node_selector: (!node_selector.is_empty()).then_some(node_selector),
        tolerations: (!tolerations.is_empty()).then_some(tolerations),
        ..pod
    };
    let mut pod_annotations = BTreeMap::new();
    if config.do_not_disrupt {
        pod_annotations.insert(DO_NOT_DISRUPT.to_string(), "true".to_string());
    }
    let followed = Followed::of(vj);
    job(
        vj,
        config,
        Stage::Detect,
        pod,
        pod_annotations,
        JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(spec.shards),
            parallelism: Some(followed.parallelism),
            backoff_limit_per_index: Some(spec.backoff_limit_per_shard),
            // A shard out of retries fails the analysis at once: the others would be wasted.
            max_failed_indexes: Some(0),
            // A Job with per-index backoff still needs an overall limit: one per retry of every shard.
            backoff_limit: Some(spec.shards.saturating_mul(spec.backoff_limit_per_shard + 1)),
            active_deadline_seconds: followed.active_deadline_seconds,
            suspend: Some(followed.suspend),
            ..JobSpec::default()
        },
    )
}

/// The Job that joins the shards' results: S3 and DynamoDB, no GPU. `deadline`: the
/// seconds left of the VideoJob's `activeDeadlineSeconds`, if it has one.
pub fn desired_merge_job(vj: &VideoJob, config: &OperatorConfig, deadline: Option<i64>) -> Job {
    let spec = &vj.spec;
    let submitted = vj.metadata.creation_timestamp.as_ref().map_or_else(|| jiff::Timestamp::UNIX_EPOCH, |t| t.0);
    let output = spec.output.clone().unwrap_or_default();
    let mut args = vec![
        "merge".to_string(),
        format!("--source={}", spec.source),
        format!("--shards={}", spec.shards),
        format!("--table={}", output.table.unwrap_or_else(|| config.results_table.clone())),
        // Reruns of one VideoJob write the same table items.
        format!("--processed-at={submitted}"),
    ];
    if let Some(movie) = &spec.movie {
        for (flag, value) in [("title", &movie.title), ("genre", &movie.genre), ("director", &movie.director)] {
            if let Some(value) = value {
                args.push(format!("--movie-{flag}={value}"));
            }
        }
        if let Some(year) = movie.year {
            args.push(format!("--movie-year={year}"));
        }
    }
    args.extend(output_args(vj, config));
    let resources = ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity("250m".into())),
            ("memory".to_string(), Quantity("512Mi".into())),
            ("ephemeral-storage".to_string(), Quantity(MERGE_SCRATCH.into())),
        ])),
        limits: Some(BTreeMap::from([("memory".to_string(), Quantity("1Gi".into()))])),
        ..Default::default()
    };
    job(
        vj,
        config,
        Stage::Merge,
        pod_template(vj, config, &config.detector_image, args, resources, MERGE_SCRATCH),
        BTreeMap::new(),
        JobSpec {
            completions: Some(1),
            parallelism: Some(1),
            backoff_limit: Some(2),
            // Whatever is left of the analysis' deadline, at least a second: a merge
            // started past it fails with DeadlineExceeded.
            active_deadline_seconds: deadline.map(|d| d.max(1)),
            ..JobSpec::default()
        },
    )
}

/// Seconds left of `vj`'s `activeDeadlineSeconds` at `now`, counted from `started` (the
/// shards' start); `None` without a deadline.
pub fn deadline_left(vj: &VideoJob, started: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<i64> {
    let total = vj.spec.active_deadline_seconds?;
    let spent = started.map_or(0, |s| now.duration_since(s).as_secs());
    Some(total - spent)
}

/// How many shards run at once: `maxParallelShards`, at most `shards`.
pub fn parallelism(vj: &VideoJob) -> i32 {
    vj.spec.max_parallel_shards.unwrap_or(vj.spec.shards).min(vj.spec.shards)
}

/// cameo's own labels of a VideoJob's Jobs and pods; the platform's and the VideoJob's
/// may not replace them (validation refuses such keys).
fn own_labels(vj: &VideoJob) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "cameo-detector".to_string()),
        ("app.kubernetes.io/managed-by".to_string(), MANAGED_BY.to_string()),
        (VIDEOJOB_LABEL.to_string(), label_value(&vj.name_any(), "")),
    ])
}

/// The operator's defaults, then the VideoJob's, then `own`.
fn merged(
    defaults: BTreeMap<String, String>,
    videojob: &Option<BTreeMap<String, String>>,
    own: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut all = defaults;
    all.extend(videojob.clone().unwrap_or_default());
    all.extend(own);
    all
}

fn job(
    vj: &VideoJob,
    config: &OperatorConfig,
    stage: Stage,
    pod: PodSpec,
    stage_pod_annotations: BTreeMap<String, String>,
    spec: JobSpec,
) -> Job {
    let pod_labels = merged(config.pod_labels(), &vj.spec.pod_labels, own_labels(vj));
    let annotations = merged(config.pod_annotations(), &vj.spec.pod_annotations, BTreeMap::new());
    let mut job_labels = pod_labels.clone();
    let queue = vj.spec.queue_name.clone().unwrap_or_else(|| config.queue_name.clone());
    if !queue.is_empty() {
        job_labels.insert(QUEUE_LABEL.to_string(), queue);
    }
    let mut job_annotations = annotations.clone();
    if stage == Stage::Detect {
        job_annotations.insert(FOLLOWED_ANNOTATION.to_string(), Followed::of(vj).annotation());
    }
    let mut pod_annotations = annotations;
    pod_annotations.extend(stage_pod_annotations);
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&vj.name_any(), stage)),
            namespace: vj.namespace(),
            labels: Some(job_labels),
            annotations: (!job_annotations.is_empty()).then_some(job_annotations),
            owner_references: vj.controller_owner_ref(&()).map(|r| vec![r]),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            pod_failure_policy: Some(pod_failure_policy()),
            // Said outright: a replacement pod starts only once the old one is gone, so
            // two pods never write one shard's results.
            pod_replacement_policy: Some("Failed".into()),
            ttl_seconds_after_finished: Some(i32::try_from(config.job_ttl.as_secs()).unwrap_or(i32::MAX)),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: (!pod_annotations.is_empty()).then_some(pod_annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..spec
        }),
        status: None,
    }
}

fn output_args(vj: &VideoJob, config: &OperatorConfig) -> Vec<String> {
    let output = vj.spec.output.clone().unwrap_or_default();
    vec![
        format!("--output-bucket={}", output_bucket(&vj.spec, config).unwrap_or_default()),
        format!("--output-prefix={}", output.prefix.unwrap_or_default()),
        format!("--job={}/{}", vj.namespace().unwrap_or_default(), vj.name_any()),
    ]
}

/// The pod both stages run: the detector image, non-root, no Kubernetes credentials, a
/// read-only root with `scratch` of `/tmp`.
fn pod_template(
    vj: &VideoJob,
    config: &OperatorConfig,
    image: &str,
    args: Vec<String>,
    resources: ResourceRequirements,
    scratch: &str,
) -> PodSpec {
    let env = config
        .detector_env
        .iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| EnvVar { name: name.clone(), value: Some(value.clone()), value_from: None })
        .collect::<Vec<_>>();
    let priority_class = vj.spec.priority_class_name.clone().unwrap_or_else(|| config.priority_class_name.clone());
    PodSpec {
        restart_policy: Some("Never".into()),
        priority_class_name: (!priority_class.is_empty()).then_some(priority_class),
        volumes: Some(vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource { size_limit: Some(Quantity(scratch.into())), ..Default::default() }),
            ..Volume::default()
        }]),
        service_account_name: Some(config.detector_service_account.clone()),
        // The detector needs no Kubernetes API access; its cloud identity
        // (IRSA / Pod Identity) is injected separately.
        automount_service_account_token: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(65532),
            run_as_group: Some(65532),
            fs_group: Some(65532),
            seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
            ..PodSecurityContext::default()
        }),
        containers: vec![Container {
            name: CONTAINER_NAME.into(),
            image: Some(image.to_string()),
            image_pull_policy: Some(config.detector_image_pull_policy.clone()),
            args: Some(args),
            env: (!env.is_empty()).then_some(env),
            resources: Some(resources),
            volume_mounts: Some(vec![VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..VolumeMount::default()
            }]),
            // The detector writes a one-line summary there; on a crash the log tail stands in.
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                run_as_non_root: Some(true),
                capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
                ..SecurityContext::default()
            }),
            ..Container::default()
        }],
        ..PodSpec::default()
    }
}

fn pod_failure_policy() -> PodFailurePolicy {
    PodFailurePolicy {
        rules: vec![
            PodFailurePolicyRule {
                action: "FailJob".into(),
                on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                    container_name: Some(CONTAINER_NAME.into()),
                    operator: "In".into(),
                    values: vec![EXIT_BAD_INPUT],
                }),
                on_pod_conditions: None,
            },
            PodFailurePolicyRule {
                action: "Ignore".into(),
                on_exit_codes: None,
                on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                    type_: "DisruptionTarget".into(),
                    status: Some("True".into()),
                }]),
            },
        ],
    }
}

/// Node selector and tolerations: the VideoJob's overrides, else GPU nodes for GPU shards.
fn placement(vj: &VideoJob, config: &OperatorConfig) -> (BTreeMap<String, String>, Vec<Toleration>) {
    let gpu = vj.spec.resources.gpu;
    let selector =
        vj.spec.node_selector.clone().unwrap_or_else(|| if gpu { config.gpu_node_selector() } else { BTreeMap::new() });
    let tolerations = vj.spec.tolerations.clone().unwrap_or_else(|| {
        if gpu {
            vec![Toleration {
                key: Some(config.gpu_taint_key.clone()),
                operator: Some("Exists".into()),
                effect: Some("NoSchedule".into()),
                ..Toleration::default()
            }]
        } else {
            Vec::new()
        }
    });
    (selector, tolerations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::VideoJobSpec;
    use crate::fixtures::{config, spec, videojob};

    fn pod_spec(job: &Job) -> &PodSpec {
        job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
    }

    #[test]
    fn every_shard_enrols_the_gallery_as_of_the_videojobs_creation() {
        let mut vj = videojob("casablanca", spec());
        let args = |vj: &VideoJob| pod_spec(&desired_detect_job(vj, &config())).containers[0].args.clone().unwrap();
        assert!(!args(&vj).iter().any(|a| a.starts_with("--gallery-as-of")), "not created yet: nothing to pin");
        vj.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time("2026-11-28T10:00:00Z".parse().unwrap()));
        assert!(args(&vj).contains(&"--gallery-as-of=2026-11-28T10:00:00Z".to_string()));
    }

    #[test]
    fn a_gpu_videojob_becomes_an_indexed_job_on_gpu_nodes_owned_by_the_videojob() {
        let vj = videojob("casablanca", VideoJobSpec { max_parallel_shards: Some(2), ..spec() });
        let job = desired_detect_job(&vj, &config());
        let job_spec = job.spec.as_ref().unwrap();
        assert_eq!(job.metadata.name.as_deref(), Some("casablanca-detect"));
        assert_eq!(job_spec.completion_mode.as_deref(), Some("Indexed"));
        assert_eq!((job_spec.completions, job_spec.parallelism), (Some(4), Some(2)));
        assert_eq!(job_spec.backoff_limit_per_index, Some(2));
        let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.controller),
            ("VideoJob", "casablanca", Some(true))
        );

        let pod = pod_spec(&job);
        // No node selector by default: the GPU request steers the pod, and autoscalers can
        // add a node for it.
        assert!(pod.node_selector.is_none());
        let toleration = &pod.tolerations.as_ref().unwrap()[0];
        assert_eq!(
            (toleration.key.as_deref(), toleration.effect.as_deref()),
            (Some("nvidia.com/gpu"), Some("NoSchedule"))
        );
        let container = &pod.containers[0];
        assert_eq!(container.resources.as_ref().unwrap().limits.as_ref().unwrap()["nvidia.com/gpu"].0, "1");
        assert!(container.args.as_ref().unwrap().contains(&"--device=cuda".to_string()));
        assert_eq!(pod.service_account_name.as_deref(), Some("cameo-detector"));
        assert_eq!(pod.automount_service_account_token, Some(false));
    }

    #[test]
    fn one_dead_shard_stops_the_others_and_finished_jobs_expire() {
        let job = desired_detect_job(&videojob("x", spec()), &config());
        let job_spec = job.spec.as_ref().unwrap();
        assert_eq!(job_spec.max_failed_indexes, Some(0));
        assert_eq!(job_spec.pod_replacement_policy.as_deref(), Some("Failed"));
        assert_eq!(job_spec.ttl_seconds_after_finished, Some(3600));
        let merge = desired_merge_job(&videojob("x", spec()), &config(), None);
        assert_eq!(merge.spec.unwrap().ttl_seconds_after_finished, Some(3600));
    }

    #[test]
    fn shard_pods_have_a_scratch_tmp_and_ask_for_its_storage_and_karpenter_leaves_them_alone() {
        let job = desired_detect_job(&videojob("x", spec()), &config());
        let pod = pod_spec(&job);
        let volume = &pod.volumes.as_ref().unwrap()[0];
        assert_eq!(volume.empty_dir.as_ref().unwrap().size_limit, Some(Quantity("2Gi".into())));
        let container = &pod.containers[0];
        let mount = &container.volume_mounts.as_ref().unwrap()[0];
        assert_eq!((mount.name.as_str(), mount.mount_path.as_str()), (volume.name.as_str(), "/tmp"));
        assert_eq!(container.resources.as_ref().unwrap().requests.as_ref().unwrap()["ephemeral-storage"].0, "2Gi");
        let template = job.spec.as_ref().unwrap().template.metadata.as_ref().unwrap();
        assert_eq!(template.annotations.as_ref().unwrap()[DO_NOT_DISRUPT], "true");

        let merge = desired_merge_job(&videojob("x", spec()), &config(), None);
        assert!(merge.spec.as_ref().unwrap().template.metadata.as_ref().unwrap().annotations.is_none());
        let off = OperatorConfig { do_not_disrupt: false, ..config() };
        let job = desired_detect_job(&videojob("x", spec()), &off);
        assert!(job.spec.unwrap().template.metadata.unwrap().annotations.is_none());
    }

    #[test]
    fn the_platforms_queue_priority_labels_and_annotations_pass_through_and_the_videojob_overrides_them() {
        let platform = OperatorConfig {
            queue_name: "gpu-shared".into(),
            priority_class_name: "batch-low".into(),
            pod_labels: vec![("team".into(), "platform".into()), ("cost-centre".into(), "42".into())],
            pod_annotations: vec![("example.com/owner".into(), "media".into())],
            ..config()
        };
        let job = desired_detect_job(&videojob("x", spec()), &platform);
        assert_eq!(job.metadata.labels.as_ref().unwrap()[QUEUE_LABEL], "gpu-shared");
        let template = job.spec.as_ref().unwrap().template.metadata.clone().unwrap();
        assert!(!template.labels.as_ref().unwrap().contains_key(QUEUE_LABEL), "the queue names the Job, not its pods");
        assert_eq!(template.labels.as_ref().unwrap()["team"], "platform");
        assert_eq!(template.annotations.as_ref().unwrap()["example.com/owner"], "media");
        assert_eq!(pod_spec(&job).priority_class_name.as_deref(), Some("batch-low"));

        let own = VideoJobSpec {
            queue_name: Some("team-a".into()),
            priority_class_name: Some("interactive".into()),
            pod_labels: Some(BTreeMap::from([("team".into(), "a".into())])),
            ..spec()
        };
        for job in [
            desired_detect_job(&videojob("x", own.clone()), &platform),
            desired_merge_job(&videojob("x", own), &platform, None),
        ] {
            let labels = job.metadata.labels.as_ref().unwrap();
            assert_eq!((labels[QUEUE_LABEL].as_str(), labels["team"].as_str()), ("team-a", "a"));
            assert_eq!((labels["cost-centre"].as_str(), labels[VIDEOJOB_LABEL].as_str()), ("42", "x"));
            assert_eq!(pod_spec(&job).priority_class_name.as_deref(), Some("interactive"));
        }
    }

    fn existing(vj: &VideoJob) -> Job {
        desired_detect_job(vj, &config())
    }

    #[test]
    fn an_existing_job_follows_only_what_the_videojob_changed() {
        let vj = videojob("x", spec());
        let mut job = existing(&vj);
        assert_eq!(follow_update(&job, &vj), None);

        // A queue suspends the Job (and later resumes it): nothing of the VideoJob changed.
        job.spec.as_mut().unwrap().suspend = Some(true);
        assert_eq!(follow_update(&job, &vj), None, "the queue's choice stands");

        // The user pauses the VideoJob: suspend, and only suspend, is written.
        let paused = videojob("x", VideoJobSpec { suspend: true, ..spec() });
        let patch = follow_update(&job, &paused).expect("a change");
        assert_eq!(patch["spec"], serde_json::json!({"suspend": true}));
        let written: Followed =
            serde_json::from_str(patch["metadata"]["annotations"][FOLLOWED_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(written, Followed::of(&paused));

        let wider =
            videojob("x", VideoJobSpec { max_parallel_shards: Some(2), active_deadline_seconds: Some(60), ..spec() });
        let patch = follow_update(&existing(&vj), &wider).expect("a change");
        assert_eq!(patch["spec"], serde_json::json!({"parallelism": 2, "activeDeadlineSeconds": 60}));

        // A Job without the annotation is compared with its own values.
        let mut bare = existing(&vj);
        bare.metadata.annotations = None;
        assert_eq!(follow_update(&bare, &vj), None);
        assert_eq!(follow_update(&bare, &paused).unwrap()["spec"], serde_json::json!({"suspend": true}));
    }

    #[test]
    fn one_deadline_covers_the_shards_and_the_merge() {
        let vj = videojob("x", VideoJobSpec { active_deadline_seconds: Some(600), ..spec() });
        let started: jiff::Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let now: jiff::Timestamp = "2026-11-28T10:08:20Z".parse().unwrap();
        assert_eq!(deadline_left(&vj, Some(started), now), Some(100));
        assert_eq!(deadline_left(&videojob("x", spec()), Some(started), now), None);
        let merge = desired_merge_job(&vj, &config(), deadline_left(&vj, Some(started), now));
        assert_eq!(merge.spec.unwrap().active_deadline_seconds, Some(100));
        let late = desired_merge_job(&vj, &config(), Some(-5));
        assert_eq!(late.spec.unwrap().active_deadline_seconds, Some(1), "past the deadline the merge fails at once");
    }

    #[test]
    fn exit_code_2_fails_the_job_and_disruptions_are_ignored() {
        let job = desired_detect_job(&videojob("x", spec()), &config());
        let rules = &job.spec.unwrap().pod_failure_policy.unwrap().rules;
        assert_eq!(rules[0].action, "FailJob");
        assert_eq!(rules[0].on_exit_codes.as_ref().unwrap().values, vec![EXIT_BAD_INPUT]);
        assert_eq!(rules[1].action, "Ignore");
        assert_eq!(rules[1].on_pod_conditions.as_ref().unwrap()[0].type_, "DisruptionTarget");
    }

    #[test]
    fn a_cpu_videojob_runs_without_gpu_resources_selector_or_toleration() {
        let mut cpu = spec();
        cpu.resources.gpu = false;
        let job = desired_detect_job(&videojob("x", cpu), &config());
        let pod = pod_spec(&job);
        assert!(pod.node_selector.is_none() && pod.tolerations.is_none());
        assert!(!pod.containers[0].resources.as_ref().unwrap().limits.as_ref().unwrap().contains_key("nvidia.com/gpu"));
    }

    #[test]
    fn overrides_replace_the_default_placement() {
        let custom = VideoJobSpec {
            node_selector: Some(BTreeMap::from([("pool".into(), "a10g".into())])),
            tolerations: Some(vec![]),
            ..spec()
        };
        let job = desired_detect_job(&videojob("x", custom), &config());
        let pod = pod_spec(&job);
        assert_eq!(pod.node_selector.as_ref().unwrap().len(), 1);
        assert!(pod.tolerations.is_none());
    }

    #[test]
    fn shard_and_merge_pods_pull_the_detector_image_as_the_chart_says() {
        let always = OperatorConfig {
            detector_image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cameo-detector@sha256:0123".into(),
            detector_image_pull_policy: "Always".into(),
            ..config()
        };
        let vj = videojob("x", spec());
        for job in [desired_detect_job(&vj, &always), desired_merge_job(&vj, &always, None)] {
            let container = &pod_spec(&job).containers[0];
            assert_eq!(container.image, Some(always.detector_image.clone()));
            assert_eq!(container.image_pull_policy.as_deref(), Some("Always"));
        }
    }

    #[test]
    fn gpu_shards_run_the_cuda_image_and_cpu_shards_and_the_merge_the_cpu_one() {
        let config =
            OperatorConfig { detector_gpu_image: Some("registry.example/cameo-detector:1.0-cuda".into()), ..config() };
        let gpu = videojob("x", spec());
        let mut cpu_spec = spec();
        cpu_spec.resources.gpu = false;
        let cpu = videojob("y", cpu_spec);
        let image = |job: &Job| pod_spec(job).containers[0].image.clone().unwrap();
        assert_eq!(image(&desired_detect_job(&gpu, &config)), "registry.example/cameo-detector:1.0-cuda");
        assert_eq!(image(&desired_detect_job(&cpu, &config)), config.detector_image);
        assert_eq!(image(&desired_merge_job(&gpu, &config, None)), config.detector_image);
        // Without a CUDA image, GPU shards run the one detector image.
        let single = OperatorConfig { detector_gpu_image: None, ..config.clone() };
        assert_eq!(image(&desired_detect_job(&gpu, &single)), config.detector_image);
    }

    #[test]
    fn containers_run_as_non_root_with_a_read_only_root_and_no_capabilities() {
        let job = desired_detect_job(&videojob("x", spec()), &config());
        let security = pod_spec(&job).containers[0].security_context.clone().unwrap();
        assert_eq!(security.read_only_root_filesystem, Some(true));
        assert_eq!(security.allow_privilege_escalation, Some(false));
        assert_eq!(security.capabilities.unwrap().drop, Some(vec!["ALL".to_string()]));
    }

    #[test]
    fn the_merge_job_runs_once_on_a_cpu_node_with_the_movie_and_submission_time() {
        let mut vj = videojob(
            "casablanca",
            VideoJobSpec {
                movie: Some(crate::crd::Movie {
                    title: Some("Casablanca".into()),
                    year: Some(1942),
                    ..Default::default()
                }),
                ..spec()
            },
        );
        vj.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time("2026-11-28T10:00:00Z".parse().unwrap()));
        let job = desired_merge_job(&vj, &config(), None);
        assert_eq!(job.metadata.name.as_deref(), Some("casablanca-merge"));
        let spec = job.spec.as_ref().unwrap();
        assert_eq!((spec.completions, spec.completion_mode.as_deref()), (Some(1), None));
        let pod = pod_spec(&job);
        assert!(pod.node_selector.is_none() && pod.tolerations.is_none());
        let args = pod.containers[0].args.clone().unwrap();
        assert_eq!(args[0], "merge");
        for expected in [
            "--shards=4",
            "--movie-title=Casablanca",
            "--movie-year=1942",
            "--processed-at=2026-11-28T10:00:00Z",
            "--job=media/casablanca",
        ] {
            assert!(args.contains(&expected.to_string()), "{expected} in {args:?}");
        }
        assert!(!pod.containers[0].resources.as_ref().unwrap().limits.as_ref().unwrap().contains_key("nvidia.com/gpu"));
    }

    #[test]
    fn long_names_are_shortened_deterministically_within_63_characters() {
        let long = "a".repeat(80);
        let name = job_name(&long, Stage::Detect);
        assert!(name.len() <= 63, "{name}");
        assert_eq!(name, job_name(&long, Stage::Detect));
        assert_ne!(name, job_name(&"a".repeat(81), Stage::Detect));
        assert_eq!(job_name("short", Stage::Detect), "short-detect");
        assert_eq!(job_name("short", Stage::Merge), "short-merge");

        // The VideoJob label of a Job and its pods, for names up to the 253 characters allowed.
        let longest = videojob(&"b".repeat(253), spec());
        let label = &desired_detect_job(&longest, &config()).metadata.labels.unwrap()[VIDEOJOB_LABEL];
        assert!(label.len() <= 63, "{label}");
        let short = desired_detect_job(&videojob("casablanca", spec()), &config());
        assert_eq!(short.metadata.labels.unwrap()[VIDEOJOB_LABEL], "casablanca");
    }
}
