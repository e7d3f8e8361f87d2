//! Build step: the batch/v1 Job that runs a VideoJob's shards, as a pure function.
//!
//! One Indexed Job per VideoJob: completions = shards, parallelism = maxParallelShards,
//! each pod analyses shard `JOB_COMPLETION_INDEX`. A detector exit code 2 (bad input)
//! fails the whole Job at once; pod disruptions (node drained, spot reclaimed) are
//! retried without counting against the shard's backoff limit.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{
    Job, JobSpec, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EnvVar, PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements,
    SeccompProfile, SecurityContext, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{Resource, ResourceExt};
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
    args.extend(output_args(vj, config));
    let pod = pod_template(
        config,
        args,
        ResourceRequirements { requests: Some(requests), limits: Some(limits), ..Default::default() },
    );
    let pod = PodSpec {
        node_selector: (!node_selector.is_empty()).then_some(node_selector),
        tolerations: (!tolerations.is_empty()).then_some(tolerations),
        ..pod
    };
    job(
        vj,
        Stage::Detect,
        pod,
        JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(spec.shards),
            parallelism: Some(parallelism(vj)),
            backoff_limit_per_index: Some(spec.backoff_limit_per_shard),
            // A Job with per-index backoff still needs an overall limit: one per retry of every shard.
            backoff_limit: Some(spec.shards.saturating_mul(spec.backoff_limit_per_shard + 1)),
            active_deadline_seconds: spec.active_deadline_seconds,
            suspend: Some(spec.suspend),
            ..JobSpec::default()
        },
    )
}

/// The Job that joins the shards' results: S3 and DynamoDB, no GPU.
pub fn desired_merge_job(vj: &VideoJob, config: &OperatorConfig) -> Job {
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
        ])),
        limits: Some(BTreeMap::from([("memory".to_string(), Quantity("1Gi".into()))])),
        ..Default::default()
    };
    job(
        vj,
        Stage::Merge,
        pod_template(config, args, resources),
        JobSpec {
            completions: Some(1),
            parallelism: Some(1),
            backoff_limit: Some(2),
            active_deadline_seconds: spec.active_deadline_seconds,
            ..JobSpec::default()
        },
    )
}

/// How many shards run at once: `maxParallelShards`, at most `shards`.
pub fn parallelism(vj: &VideoJob) -> i32 {
    vj.spec.max_parallel_shards.unwrap_or(vj.spec.shards).min(vj.spec.shards)
}

fn labels(vj: &VideoJob) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "cameo-detector".to_string()),
        ("app.kubernetes.io/managed-by".to_string(), MANAGED_BY.to_string()),
        (VIDEOJOB_LABEL.to_string(), label_value(&vj.name_any(), "")),
    ])
}

fn job(vj: &VideoJob, stage: Stage, pod: PodSpec, spec: JobSpec) -> Job {
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&vj.name_any(), stage)),
            namespace: vj.namespace(),
            labels: Some(labels(vj)),
            owner_references: vj.controller_owner_ref(&()).map(|r| vec![r]),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            pod_failure_policy: Some(pod_failure_policy()),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels(vj)), ..ObjectMeta::default() }),
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

/// The pod both stages run: the detector image, non-root, no Kubernetes credentials.
fn pod_template(config: &OperatorConfig, args: Vec<String>, resources: ResourceRequirements) -> PodSpec {
    let env = config
        .detector_env
        .iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| EnvVar { name: name.clone(), value: Some(value.clone()), value_from: None })
        .collect::<Vec<_>>();
    PodSpec {
        restart_policy: Some("Never".into()),
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
            image: Some(config.detector_image.clone()),
            args: Some(args),
            env: (!env.is_empty()).then_some(env),
            resources: Some(resources),
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
        assert_eq!(pod.node_selector.as_ref().unwrap()["nvidia.com/gpu.present"], "true");
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
        let job = desired_merge_job(&vj, &config());
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
