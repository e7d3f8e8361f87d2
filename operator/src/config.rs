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

    /// Container image of the detector that shard pods run.
    #[arg(long, env = "CAMEO_DETECTOR_IMAGE")]
    pub detector_image: String,

    /// ServiceAccount of the shard pods (it carries the detector's cloud identity).
    #[arg(long, env = "CAMEO_DETECTOR_SERVICE_ACCOUNT", default_value = "cameo-detector")]
    pub detector_service_account: String,

    /// Node labels GPU shard pods must run on, `key=value`, comma-separated.
    #[arg(long, env = "CAMEO_GPU_NODE_SELECTOR", value_delimiter = ',', default_value = "nvidia.com/gpu.present=true", value_parser = parse_label)]
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
}

impl OperatorConfig {
    pub fn gpu_node_selector(&self) -> BTreeMap<String, String> {
        self.gpu_node_selector.iter().filter(|(key, _)| !key.is_empty()).cloned().collect()
    }
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
    /// This replica's identity in the Lease.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// A leader that has not renewed for this long is replaced.
    #[arg(long, env = "CAMEO_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// How often the leader renews, and others retry.
    #[arg(long, env = "CAMEO_LEASE_RENEW", default_value = "5s", value_parser = parse_duration)]
    pub renew_interval: Duration,
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

/// `15s`, `500ms`, `2m` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 15s, 500ms or 2m");
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let value: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3h").is_err());
    }
}
