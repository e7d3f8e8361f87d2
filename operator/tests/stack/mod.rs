//! The local stack as tests and benchmarks use it (under `hack/with-cluster`): the
//! buckets, queues and table that `hack/with-cluster` applied to moto from
//! terraform/examples/local-stack, seeded with test videos and galleries; the chart
//! installed as a user would; helpers to drive it with kubectl and to wait, and to
//! measure processes.
#![allow(dead_code)] // the tests and the benchmarks each use a part

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cameo_detector::cloud::aws::Aws;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::evaluate::Truth;
use cameo_detector::results::ResultsDocument;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};

pub const OPERATOR_NAMESPACE: &str = "cameo-system";
pub const RELEASE: &str = "cameo";
pub const GPU_NODE: &str = "cameo-gpu-0";
/// The names of the local stack `cameo` (terraform/examples/local-stack), which
/// [`seed_aws`] checks against what Terraform applied.
pub const RAW: &str = "cameo-raw";
pub const PROCESSED: &str = "cameo-processed";
pub const TABLE: &str = "MovieEntities";

/// One data stack that `hack/with-cluster` applied to moto (terraform/examples/local-stack),
/// named as its `stacks` output names it.
pub struct Cloud {
    pub raw_bucket: String,
    pub processed_bucket: String,
    pub table: String,
    pub queue_url: String,
    pub dead_letter_url: String,
    /// Told of photos put under `gallery/.cameo/photos/`.
    pub gallery_queue_url: String,
    /// The API's word that a movie's corrections changed, for the curation worker.
    pub curation_queue_url: String,
    /// The origins whose browsers the buckets answer (their CORS rules).
    pub app_origins: Vec<String>,
}

/// Stack `name` from tofu's outputs (`CAMEO_TERRAFORM_OUTPUTS`, set by hack/with-cluster).
pub fn cloud(name: &str) -> Cloud {
    let path = std::env::var_os("CAMEO_TERRAFORM_OUTPUTS")
        .expect("CAMEO_TERRAFORM_OUTPUTS is not set: run under hack/with-cluster, which applies terraform/examples/local-stack to moto");
    let outputs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("tofu's outputs are readable")).expect("tofu output -json");
    let stack = &outputs["stacks"]["value"][name];
    let field = |key: &str| {
        stack[key]
            .as_str()
            .unwrap_or_else(|| panic!("terraform/examples/local-stack has no stack {name} with {key}"))
            .to_string()
    };
    Cloud {
        raw_bucket: field("raw_bucket"),
        processed_bucket: field("processed_bucket"),
        table: field("table"),
        queue_url: field("queue_url"),
        dead_letter_url: field("dead_letter_url"),
        gallery_queue_url: field("gallery_queue_url"),
        curation_queue_url: field("curation_queue_url"),
        app_origins: serde_json::from_value(stack["app_origins"].clone())
            .unwrap_or_else(|e| panic!("terraform/examples/local-stack's stack {name} has no app_origins: {e}")),
    }
}

pub fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program} does not run ({e}): run under hack/with-cluster (make test, make bench)")
        });
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn kubectl(args: &[&str], stdin: Option<&str>) -> Output {
    run("kubectl", args, stdin)
}

pub fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn testdata() -> PathBuf {
    PathBuf::from(std::env::var_os("CAMEO_TESTDATA").expect("CAMEO_TESTDATA is set by hack/with-cluster"))
}

/// A photo `make setup` extracted from a registry package.
pub fn photo(name: &str) -> Vec<u8> {
    let models = PathBuf::from(std::env::var_os("CAMEO_MODELS_DIR").expect("CAMEO_MODELS_DIR is set by make"));
    let path = models.parent().expect("the models folder has a parent").join("photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run make setup", path.display()))
}

/// The ground truth of a synthesised test video.
pub fn truth(video: &str) -> Truth {
    let path = testdata().join(format!("{video}.truth.json"));
    serde_json::from_slice(&std::fs::read(&path).expect("make testdata wrote the truth")).expect("a truth file")
}

/// Creates namespace `name` through the API.
pub async fn create_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: kube::api::ObjectMeta { name: Some(name.into()), ..Default::default() },
        ..Default::default()
    };
    api.create(&PostParams::default(), &namespace).await.expect("the namespace is created");
}

/// Peak and current resident memory of a process, in MB (Linux: /proc/<pid>/status).
pub fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// CPU seconds a process has used (Linux: /proc/<pid>/stat, 10 ms ticks).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// The AWS helpers block on their own runtime, so they run on a thread of their own.
pub fn with_aws<T: Send + 'static>(work: impl FnOnce(&Aws) -> T + Send + 'static) -> T {
    std::thread::spawn(move || work(&Aws::from_env().expect("AWS clients for moto"))).join().expect("AWS work")
}

/// `videos` (from testdata) and the galleries in the buckets Terraform made.
pub fn seed_aws(videos: &'static [&'static str]) {
    let cloud = cloud("cameo");
    assert_eq!(
        [cloud.raw_bucket.as_str(), cloud.processed_bucket.as_str(), cloud.table.as_str()],
        [RAW, PROCESSED, TABLE],
        "the tests' names are those of stack cameo in terraform/examples/local-stack"
    );
    with_aws(move |aws| {
        let dir = testdata();
        for video in videos {
            let bytes = std::fs::read(dir.join(video)).expect("make testdata made the video");
            aws.put(&S3Uri::new(RAW, format!("videos/{video}")), bytes, "video/mp4").unwrap();
        }
        for gallery in ["demo", "cuts"] {
            put_gallery(aws, RAW, gallery);
        }
    });
}

/// The photos of testdata gallery `gallery` under `s3://<bucket>/gallery/<gallery>/`.
pub fn put_gallery(aws: &Aws, bucket: &str, gallery: &str) {
    put_gallery_as(aws, bucket, gallery, gallery);
}

/// The photos of testdata gallery `gallery` under `s3://<bucket>/gallery/<name>/`.
pub fn put_gallery_as(aws: &Aws, bucket: &str, gallery: &str, name: &str) {
    let root = testdata().join("galleries").join(gallery);
    for person in std::fs::read_dir(&root).expect("make testdata made the galleries").flatten() {
        for photo in std::fs::read_dir(person.path()).unwrap().flatten() {
            let key = format!(
                "gallery/{name}/{}/{}",
                person.file_name().to_string_lossy(),
                photo.file_name().to_string_lossy()
            );
            aws.put(&S3Uri::new(bucket, key), std::fs::read(photo.path()).unwrap(), "image/jpeg").unwrap();
        }
    }
}

/// Installs the chart watching `namespaces` (created first), as a user would, with the
/// gallery checker. The GPU node is simulated, so GPU shards run the detector on its CPU
/// (`detector.gpuDevice=cpu`).
pub fn install(namespaces: &[&str]) {
    let bucket = format!("operator.outputBucket={PROCESSED}");
    // The gallery checker keeps the registry's manifest of s3://<raw>/gallery/.
    let queue = format!("galleryChecker.queueUrl={}", cloud("cameo").gallery_queue_url);
    let gallery = format!("galleryChecker.gallery=s3://{RAW}/gallery/");
    let checker = ["galleryChecker.enabled=true", "galleryChecker.waitSeconds=2", &queue, &gallery];
    install_release(RELEASE, OPERATOR_NAMESPACE, namespaces, &[&[bucket.as_str()], &checker[..]].concat());
}

/// Installs the chart as release `release` in `release_namespace`, watching `namespaces`
/// (all created first), with `sets` (`key=value`) on top of the local stack's values.
/// The CRD is cluster-wide: the first release on the cluster installs it and a later one
/// shares it (`crds.install=false`), as two releases on one real cluster would.
pub fn install_release(release: &str, release_namespace: &str, namespaces: &[&str], sets: &[&str]) {
    let processes = [
        "image.operator.repository=cameo-operator",
        "image.detector.repository=cameo-detector",
        "image.ingest.repository=cameo-ingest",
        "image.pullPolicy=IfNotPresent",
    ];
    helm_install(release, release_namespace, namespaces, &[&processes, sets].concat());
}

/// Installs the chart as [`install_release`] does, but with the chart's own image
/// defaults: the images `make images` built, which the node agent pulls from the local
/// registry and runs with podman.
pub fn install_release_from_images(release: &str, release_namespace: &str, namespaces: &[&str], sets: &[&str]) {
    helm_install(release, release_namespace, namespaces, sets);
}

fn helm_install(release: &str, release_namespace: &str, namespaces: &[&str], sets: &[&str]) {
    assert!(
        std::env::var_os("KUBECONFIG").is_some() && std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "KUBECONFIG or AWS_ENDPOINT_URL is not set: run under hack/with-cluster (make test, make bench)"
    );
    for namespace in namespaces.iter().chain([&release_namespace]) {
        ok(kubectl(&["create", "namespace", namespace], None));
    }
    let crd_exists = kubectl(&["get", "crd", "videojobs.cameo.dev"], None).status.success();
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/../charts/cameo");
    let watched = format!("watchNamespaces={{{}}}", namespaces.join(","));
    let crds = format!("crds.install={}", !crd_exists);
    let mut args = vec!["install", release, chart, "--namespace", release_namespace, "--wait", "--timeout", "180s"];
    for set in [
        &watched,
        &crds,
        "operator.maxShards=8",
        "operator.leaderElection.leaseDuration=6s",
        "operator.leaderElection.renewDeadline=4s",
        "operator.leaderElection.renewInterval=1s",
        "detector.gpuDevice=cpu",
    ]
    .into_iter()
    .chain(sets.iter().copied())
    {
        args.extend(["--set", set]);
    }
    ok(run("helm", &args, None));
}

/// The results document a VideoJob wrote to the processed bucket.
pub fn result_document(namespace: &str, name: &str) -> ResultsDocument {
    let key = format!("results/{namespace}/{name}/result.json");
    let bytes = with_aws(move |aws| aws.get(&S3Uri::new(PROCESSED, key)).unwrap()).expect("result.json exists");
    serde_json::from_slice(&bytes).expect("result.json is a results document")
}

/// Applies a VideoJob with kubectl, as users do.
pub fn apply_videojob(namespace: &str, name: &str, spec: serde_json::Value) {
    let manifest = serde_json::json!({"apiVersion": "cameo.dev/v1alpha1", "kind": "VideoJob", "metadata": {"name": name}, "spec": spec});
    ok(kubectl(&["apply", "-n", namespace, "-f", "-"], Some(&manifest.to_string())));
}

/// A VideoJob spec for a video and a gallery seeded by [`seed_aws`].
pub fn spec(video: &str, gallery: &str, shards: i32) -> serde_json::Value {
    serde_json::json!({
        "source": format!("s3://{RAW}/videos/{video}"),
        "gallery": format!("s3://{RAW}/gallery/{gallery}/"),
        "shards": shards,
    })
}

/// Polls `probe` until it returns `Some`, failing with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
