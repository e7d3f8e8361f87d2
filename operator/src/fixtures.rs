//! Objects for unit tests of the pure steps.

use crate::config::OperatorConfig;
use crate::crd::{VideoJob, VideoJobSpec};

pub fn config() -> OperatorConfig {
    OperatorConfig {
        namespaces: vec!["media".into()],
        detector_image: "registry.example/cameo-detector:1.0".into(),
        detector_image_pull_policy: "IfNotPresent".into(),
        detector_gpu_image: None,
        detector_service_account: "cameo-detector".into(),
        gpu_node_selector: vec![],
        gpu_device: "cuda".into(),
        gpu_taint_key: "nvidia.com/gpu".into(),
        output_bucket: "cameo-processed".into(),
        results_table: "MovieEntities".into(),
        max_shards: 64,
        detector_env: vec![("AWS_REGION".into(), "eu-west-1".into())],
        queue_name: String::new(),
        priority_class_name: String::new(),
        pod_labels: vec![],
        pod_annotations: vec![],
        do_not_disrupt: true,
        job_ttl: std::time::Duration::from_secs(3600),
        shard_scratch: "2Gi".into(),
        concurrency: 8,
        reconcile_timeout: std::time::Duration::from_secs(30),
    }
}

/// A spec as the API server returns it, defaults filled in.
pub fn spec() -> VideoJobSpec {
    serde_json::from_value(serde_json::json!({
        "source": "s3://cameo-raw/videos/42/film.mp4",
        "gallery": "s3://cameo-raw/gallery/",
        "shards": 4,
    }))
    .expect("a valid spec")
}

pub fn videojob(name: &str, spec: VideoJobSpec) -> VideoJob {
    let mut vj = VideoJob::new(name, spec);
    vj.metadata.namespace = Some("media".into());
    vj.metadata.uid = Some("0b7c5a52-8c1a-4d5e-9f00-000000000001".into());
    vj.metadata.generation = Some(1);
    vj
}
