//! Operator configuration, from flags or the environment (the Helm chart sets both).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct OperatorConfig {
    /// Namespaces whose VideoJobs this operator runs, comma-separated; empty for all
    /// namespaces (which needs cluster-wide RBAC).
    #[arg(long, env = "CAMEO_NAMESPACES", value_delimiter = ',', default_value = "")]
    pub namespaces: Vec<String>,

    /// Container image of the detector that CPU shards and the merge run.
    #[arg(long, env = "CAMEO_DETECTOR_IMAGE")]
    pub detector_image: String,

    /// Container image of the detector that GPU shards run (its CUDA variant); default
    /// the detector image.
    #[arg(long, env = "CAMEO_DETECTOR_GPU_IMAGE")]
    pub detector_gpu_image: Option<String>,

    /// When the kubelet pulls the detector image for shard and merge pods (the chart's
    /// `image.pullPolicy`, as for its own pods).
    #[arg(long, env = "CAMEO_DETECTOR_IMAGE_PULL_POLICY", default_value = "IfNotPresent",
          value_parser = ["Always", "IfNotPresent", "Never"])]
    pub detector_image_pull_policy: String,

    /// ServiceAccount of the shard pods (it carries the detector's cloud identity).
    #[arg(long, env = "CAMEO_DETECTOR_SERVICE_ACCOUNT", default_value = "cameo-detector")]
    pub detector_service_account: String,

    /// Node labels GPU shard pods must run on, `key=value`, comma-separated. Default none:
    /// the `nvidia.com/gpu` request steers them, and a label that only appears after a node
    /// boots (feature discovery) would keep autoscalers from adding a node for them.
    #[arg(long, env = "CAMEO_GPU_NODE_SELECTOR", value_delimiter = ',', default_value = "", value_parser = parse_label)]
    pub gpu_node_selector: Vec<(String, String)>,

    /// What GPU shards ask the detector for (`--device`): cuda fails loudly on a node
    /// without a usable GPU; auto falls back to CPU; cpu where GPUs are only simulated.
    #[arg(long, env = "CAMEO_GPU_DEVICE", default_value = "cuda", value_parser = ["cuda", "auto", "cpu"])]
    pub gpu_device: String,

    /// Taint key of GPU nodes, tolerated by GPU shard pods (any value, effect NoSchedule).
    #[arg(long, env = "CAMEO_GPU_TAINT_KEY", default_value = "nvidia.com/gpu")]
    pub gpu_taint_key: String,

    /// Default results bucket when a VideoJob names none.
    #[arg(long, env = "CAMEO_OUTPUT_BUCKET", default_value = "")]
    pub output_bucket: String,

    /// Default DynamoDB table when a VideoJob names none.
    #[arg(long, env = "CAMEO_RESULTS_TABLE", default_value = "MovieEntities")]
    pub results_table: String,

    /// Most shards one VideoJob may ask for.
    #[arg(long, env = "CAMEO_MAX_SHARDS", default_value_t = 64)]
    pub max_shards: i32,

    /// Extra environment for shard pods, `NAME=value`, comma-separated (AWS_REGION, endpoints).
    #[arg(long, env = "CAMEO_DETECTOR_ENV", value_delimiter = ',', default_value = "", value_parser = parse_env)]
    pub detector_env: Vec<(String, String)>,

    /// Default Kueue LocalQueue of the Jobs (`kueue.x-k8s.io/queue-name`); empty for none.
    #[arg(long, env = "CAMEO_QUEUE_NAME", default_value = "")]
    pub queue_name: String,

    /// Default PriorityClass of the shard and merge pods; empty for the cluster's default.
    #[arg(long, env = "CAMEO_PRIORITY_CLASS_NAME", default_value = "")]
    pub priority_class_name: String,

    /// Labels of every Job and pod, `key=value`, comma-separated.
    #[arg(long, env = "CAMEO_POD_LABELS", value_delimiter = ',', default_value = "", value_parser = parse_label)]
    pub pod_labels: Vec<(String, String)>,

    /// Annotations of every Job and pod, `key=value`, comma-separated.
    #[arg(long, env = "CAMEO_POD_ANNOTATIONS", value_delimiter = ',', default_value = "", value_parser = parse_label)]
    pub pod_annotations: Vec<(String, String)>,

    /// Annotate shard pods `karpenter.sh/do-not-disrupt`, so node consolidation does not
    /// restart hours of GPU work (drains and spot reclaims still do, and are retried).
    #[arg(long, env = "CAMEO_DO_NOT_DISRUPT", default_value_t = true, action = clap::ArgAction::Set)]
    pub do_not_disrupt: bool,

    /// Finished Jobs (and their pods) are deleted this long after they finish; the
    /// VideoJob's status keeps the summary.
    #[arg(long, env = "CAMEO_JOB_TTL", default_value = "1h", value_parser = parse_duration)]
    pub job_ttl: Duration,

    /// Scratch space of each shard pod: its `/tmp` (the root filesystem is read-only) and
    /// its ephemeral-storage request.
    #[arg(long, env = "CAMEO_SHARD_SCRATCH", default_value = "2Gi")]
    pub shard_scratch: String,

    /// VideoJobs reconciled at once, per watched namespace.
    #[arg(long, env = "CAMEO_CONCURRENCY", default_value_t = 8)]
    pub concurrency: u16,

    /// A reconcile (every API call in it) that takes longer is abandoned and retried.
    #[arg(long, env = "CAMEO_RECONCILE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub reconcile_timeout: Duration,
}

impl OperatorConfig {
    /// The detector image a shard runs: the CUDA variant on GPU nodes.
    pub fn shard_image(&self, gpu: bool) -> &str {
        match (&self.detector_gpu_image, gpu) {
            (Some(image), true) if !image.is_empty() => image,
            _ => &self.detector_image,
        }
    }

    pub fn gpu_node_selector(&self) -> BTreeMap<String, String> {
        pairs(&self.gpu_node_selector)
    }

    pub fn pod_labels(&self) -> BTreeMap<String, String> {
        pairs(&self.pod_labels)
    }

    pub fn pod_annotations(&self) -> BTreeMap<String, String> {
        pairs(&self.pod_annotations)
    }
}

fn pairs(list: &[(String, String)]) -> BTreeMap<String, String> {
    list.iter().filter(|(key, _)| !key.is_empty()).cloned().collect()
}

/// How this replica competes for leadership.
#[derive(Debug, Clone, Args)]
pub struct LeaderConfig {
    /// Namespace of the leader Lease (the operator's own).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// Name of the leader Lease.
    #[arg(long, env = "CAMEO_LEASE_NAME", default_value = "cameo-operator")]
    pub lease_name: String,
    /// This replica's name (its pod's); the Lease holds it with a suffix of this process.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// A leader that has not renewed for this long, as a standby observes it, is replaced.
    #[arg(long, env = "CAMEO_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// The leader stops acting when it has not renewed for this long (by its own clock):
    /// shorter than the lease duration, so it stops before a standby may start.
    #[arg(long, env = "CAMEO_LEASE_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub renew_deadline: Duration,
    /// How often the leader renews, and others retry.
    #[arg(long, env = "CAMEO_LEASE_RENEW", default_value = "2s", value_parser = parse_duration)]
    pub renew_interval: Duration,
}

impl LeaderConfig {
    /// This process's identity in the Lease and in its Events: `<pod>_<process>`. A
    /// container restarted in the same pod is a new process that must wait for the lease
    /// like any other, and what each process wrote stays told apart.
    pub fn process_identity(&self) -> String {
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let pod: String = self.identity.as_deref().unwrap_or("cameo-operator").chars().take(100).collect();
        format!("{pod}_{:x}{:x}", std::process::id(), started.subsec_nanos())
    }

    /// The settings' order, as client-go requires it: renew interval < renew deadline <
    /// lease duration, with a renewal attempt's worth of margin at each step.
    pub fn validate(&self) -> Result<(), String> {
        let (duration, deadline, interval) = (self.lease_duration, self.renew_deadline, self.renew_interval);
        if interval.is_zero() || interval >= deadline {
            return Err(format!(
                "the lease renew interval ({interval:?}) must be shorter than its renew deadline ({deadline:?})"
            ));
        }
        if deadline >= duration {
            return Err(format!(
                "the lease renew deadline ({deadline:?}) must be shorter than its duration ({duration:?})"
            ));
        }
        if duration.as_secs() < 1 || duration.subsec_nanos() != 0 {
            return Err(format!("the lease duration ({duration:?}) must be whole seconds, at least 1"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address for /metrics, /healthz and /readyz.
    #[arg(long, env = "CAMEO_HTTP_ADDRESS", default_value = "0.0.0.0:8080")]
    pub http_address: SocketAddr,
}

/// `key=value`; an empty string (an empty list from the environment) is skipped later.
fn parse_label(s: &str) -> Result<(String, String), String> {
    if s.is_empty() {
        return Ok((String::new(), String::new()));
    }
    let (key, value) = s.split_once('=').ok_or_else(|| format!("{s:?} is not key=value"))?;
    Ok((key.to_string(), value.to_string()))
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    parse_label(s)
}

/// `15s`, `500ms`, `2m`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 15s, 500ms, 2m or 1h");
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let value: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leader(duration: u64, deadline: u64, interval: u64) -> LeaderConfig {
        LeaderConfig {
            lease_namespace: "cameo".into(),
            lease_name: "cameo".into(),
            identity: None,
            lease_duration: Duration::from_secs(duration),
            renew_deadline: Duration::from_secs(deadline),
            renew_interval: Duration::from_secs(interval),
        }
    }

    #[test]
    fn each_process_has_an_identity_of_its_own_that_names_its_pod() {
        let config = LeaderConfig { identity: Some("cameo-7d9f-abcde".into()), ..leader(15, 10, 2) };
        let identity = config.process_identity();
        assert_eq!(identity.split_once('_').map(|(pod, _)| pod), Some("cameo-7d9f-abcde"));
        assert!(identity.len() <= 128, "the Event API's limit for reportingInstance");
    }

    #[test]
    fn lease_settings_must_leave_the_leader_time_to_stop_before_a_standby_starts() {
        assert_eq!(leader(15, 10, 2).validate(), Ok(()));
        assert!(leader(15, 15, 2).validate().unwrap_err().contains("renew deadline"));
        assert!(leader(15, 10, 10).validate().unwrap_err().contains("renew interval"));
        assert!(leader(15, 20, 5).validate().is_err());
        assert!(leader(15, 10, 0).validate().is_err());
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("3d").is_err());
    }
}
