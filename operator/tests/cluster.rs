//! The operator on a real control plane (etcd, kube-apiserver with RBAC, the controller
//! manager's Job controller and garbage collector, kube-scheduler), installed with the
//! Helm chart and run as pods by the node agent: run these with `hack/with-cluster`
//! (`make test` does).
//!
//! Shard pods run `operator/tests/fixtures/fake-detector.sh`, a stand-in that follows
//! the detector's contract (exit codes, termination message) without analysing video.

use std::io::{Read, Write};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cameo_operator::crd::{Phase, VideoJob};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;

const OPERATOR_NAMESPACE: &str = "cameo-system";
const RELEASE: &str = "cameo";
/// Each test has a namespace of its own, all watched by the one operator installed.
const NAMESPACES: [&str; 7] =
    ["vj-run", "vj-bad", "vj-invalid", "vj-suspend", "vj-failover", "vj-delete", "vj-admission"];
const GPU_NODE: &str = "cameo-gpu-0";
const TIMEOUT: Duration = Duration::from_secs(120);

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} does not run ({e}): run these tests with hack/with-cluster (make test)"));
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn kubectl(args: &[&str], stdin: Option<&str>) -> Output {
    run("kubectl", args, stdin)
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Installs the chart once for all tests, as a user would.
fn installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        assert!(
            std::env::var_os("KUBECONFIG").is_some(),
            "KUBECONFIG is not set: run these tests with hack/with-cluster (make test does)"
        );
        for namespace in NAMESPACES.iter().chain([&OPERATOR_NAMESPACE]) {
            ok(kubectl(&["create", "namespace", namespace], None));
        }
        let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/../charts/cameo");
        let namespaces = format!("watchNamespaces={{{}}}", NAMESPACES.join(","));
        ok(run(
            "helm",
            &[
                "install",
                RELEASE,
                chart,
                "--namespace",
                OPERATOR_NAMESPACE,
                "--wait",
                "--timeout",
                "180s",
                "--set",
                "image.operator.repository=cameo-operator",
                "--set",
                "image.detector.repository=cameo-detector",
                "--set",
                "image.pullPolicy=IfNotPresent",
                "--set",
                &namespaces,
                "--set",
                "operator.outputBucket=cameo-test-results",
                "--set",
                "operator.maxShards=8",
                "--set",
                "operator.leaderElection.leaseDuration=6s",
                "--set",
                "operator.leaderElection.renewInterval=2s",
            ],
            None,
        ));
    });
}

/// One test at a time: they share the operator, and one of them kills its leader.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A client for a test that holds the cluster to itself while the guard lives.
async fn client() -> (Client, tokio::sync::MutexGuard<'static, ()>) {
    let guard = SERIAL.lock().await;
    installed();
    (Client::try_default().await.expect("a client from KUBECONFIG"), guard)
}

/// Polls `probe` until it returns `Some`, failing with `what` after the timeout.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn apply_videojob(namespace: &str, name: &str, spec: serde_json::Value) {
    let manifest =
        json!({"apiVersion": "cameo.dev/v1alpha1", "kind": "VideoJob", "metadata": {"name": name}, "spec": spec});
    ok(kubectl(&["apply", "-n", namespace, "-f", "-"], Some(&manifest.to_string())));
}

fn spec(source: &str, shards: i32) -> serde_json::Value {
    json!({"source": source, "gallery": "s3://cameo-raw/gallery/", "shards": shards})
}

async fn wait_for_phase(api: &Api<VideoJob>, name: &str, phase: Phase) -> VideoJob {
    eventually(&format!("{name} to reach {phase:?}"), || async {
        api.get_opt(name).await.ok().flatten().filter(|vj| vj.status.as_ref().is_some_and(|s| s.phase == phase))
    })
    .await
}

fn condition<'a>(vj: &'a VideoJob, type_: &str) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    vj.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == type_)).expect("condition present")
}

async fn leader(client: &Client) -> String {
    let leases: Api<Lease> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    eventually("a leader", || async {
        leases.get_opt(RELEASE).await.ok().flatten().and_then(|l| l.spec?.holder_identity).filter(|h| !h.is_empty())
    })
    .await
}

/// GET over plain HTTP/1.0 (the operator's pods listen on their loopback pod IPs).
fn http_get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connects to the operator pod");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    body
}

fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{metrics}"))
}

async fn leader_metrics(client: &Client) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    let leader = pods.get(&leader(client).await).await.unwrap();
    let ip = leader.status.and_then(|s| s.pod_ip).expect("the leader has a pod IP");
    http_get(&format!("{ip}:8080"), "/metrics")
}

#[tokio::test]
async fn helm_installs_two_replicas_one_leading_under_least_privilege_rbac() {
    let (client, _serial) = client().await;
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    let deployment = deployments.get(RELEASE).await.unwrap();
    assert_eq!(deployment.status.and_then(|s| s.available_replicas), Some(2));

    let pods: Api<Pod> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    let operator_pods =
        pods.list(&ListParams::default().labels("app.kubernetes.io/name=cameo-operator")).await.unwrap();
    let names: Vec<String> = operator_pods.items.iter().map(|p| p.name_any()).collect();
    assert!(names.contains(&leader(&client).await), "the lease holder is one of {names:?}");
    for pod in &operator_pods.items {
        assert_eq!(pod.spec.as_ref().and_then(|s| s.service_account_name.as_deref()), Some(RELEASE));
    }

    let account = format!("--as=system:serviceaccount:{OPERATOR_NAMESPACE}:{RELEASE}");
    let can = |verb: &str, resource: &str, namespace: &str| {
        let out = kubectl(&["auth", "can-i", verb, resource, "-n", namespace, &account], None);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    };
    assert!(can("create", "jobs.batch", "vj-run") && can("watch", "videojobs.cameo.dev", "vj-run"));
    assert!(!can("patch", "videojobs.cameo.dev", "vj-run"), "the operator writes status, never a spec");
    let status = kubectl(
        &["auth", "can-i", "patch", "videojobs.cameo.dev", "--subresource=status", "-n", "vj-run", &account],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&status.stdout).trim(), "yes");
    assert!(!can("create", "jobs.batch", "default"), "no rights outside the watched namespaces");
    assert!(
        !can("get", "secrets", "vj-run") && !can("create", "pods", "vj-run") && !can("delete", "jobs.batch", "vj-run")
    );
    assert!(!can("list", "nodes", "vj-run"));

    let health =
        http_get(&format!("{}:8080", pods.get(&names[0]).await.unwrap().status.unwrap().pod_ip.unwrap()), "/healthz");
    assert!(health.starts_with("HTTP/1.0 200") && health.ends_with("ok\n"), "{health}");
}

#[tokio::test]
async fn a_videojob_runs_its_shards_on_the_gpu_node_and_succeeds() {
    let (client, _serial) = client().await;
    let namespace = "vj-run";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let mut spec = spec("s3://cameo-raw/videos/casablanca/film.mp4", 3);
    spec["maxParallelShards"] = json!(2);
    spec["movie"] = json!({"title": "Casablanca", "year": 1942});
    apply_videojob(namespace, "casablanca", spec);

    let job = eventually("the Job", || async { jobs.get_opt("casablanca-detect").await.ok().flatten() }).await;
    let job_spec = job.spec.unwrap();
    assert_eq!((job_spec.completions, job_spec.parallelism), (Some(3), Some(2)));
    let pod_spec = job_spec.template.spec.unwrap();
    let container = &pod_spec.containers[0];
    assert_eq!(container.resources.as_ref().unwrap().limits.as_ref().unwrap()["nvidia.com/gpu"].0, "1");
    assert_eq!(pod_spec.tolerations.unwrap()[0].key.as_deref(), Some("nvidia.com/gpu"));
    assert_eq!(job.metadata.owner_references.unwrap()[0].kind, "VideoJob");

    let vj = wait_for_phase(&videojobs, "casablanca", Phase::Succeeded).await;
    let status = vj.status.clone().unwrap();
    assert_eq!((status.shards.total, status.shards.succeeded, status.shards.failed), (3, 3, 0));
    assert_eq!(status.observed_generation, Some(1));
    assert!(status.start_time.is_some() && status.completion_time.is_some());
    let complete = condition(&vj, "Complete");
    assert_eq!((complete.status.as_str(), complete.observed_generation), ("True", Some(1)));

    // The real scheduler put every shard on the GPU node, none on the CPU node.
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let shard_pods = pods.list(&ListParams::default().labels("cameo.dev/videojob=casablanca")).await.unwrap();
    assert_eq!(shard_pods.items.len(), 3);
    for pod in &shard_pods.items {
        assert_eq!(pod.spec.as_ref().and_then(|s| s.node_name.as_deref()), Some(GPU_NODE));
    }

    // Printer columns and events, as `kubectl get` and `kubectl describe` show them.
    let table = ok(kubectl(&["get", "vj", "casablanca", "-n", namespace], None));
    assert!(
        table.contains("PHASE") && table.contains("PROGRESS") && table.contains("Succeeded") && table.contains("3/3"),
        "{table}"
    );
    let events =
        ok(kubectl(&["get", "events.events.k8s.io", "-n", namespace, "-o", "jsonpath={.items[*].reason}"], None));
    assert!(events.contains("Succeeded"), "events: {events}");

    let metrics = leader_metrics(&client).await;
    assert!(metric(&metrics, "cameo_operator_reconciles_total") >= 2.0);
    assert!(metrics.contains("cameo_operator_videojobs{phase=\"Succeeded\"}"), "{metrics}");
}

#[tokio::test]
async fn a_shard_exiting_2_fails_the_videojob_at_once_without_retries() {
    let (client, _serial) = client().await;
    let namespace = "vj-bad";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let mut spec = spec("s3://cameo-raw/videos/bad-input/notes.txt", 2);
    spec["maxParallelShards"] = json!(1);
    spec["backoffLimitPerShard"] = json!(3);
    apply_videojob(namespace, "notes", spec);

    let vj = wait_for_phase(&videojobs, "notes", Phase::Failed).await;
    let failed = condition(&vj, "Failed");
    assert_eq!((failed.status.as_str(), failed.reason.as_str()), ("True", "PodFailurePolicy"));
    assert!(failed.message.contains("exit code 2"), "{}", failed.message);

    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let shard_pods = pods.list(&ListParams::default().labels("cameo.dev/videojob=notes")).await.unwrap();
    assert_eq!(shard_pods.items.len(), 1, "one pod ran, none was retried and the other shard never started");
    let terminated = shard_pods.items[0].status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0]
        .state
        .as_ref()
        .unwrap()
        .terminated
        .clone()
        .unwrap();
    assert_eq!(terminated.exit_code, 2);
    assert!(terminated.message.unwrap_or_default().contains("not a readable video container"));
}

#[tokio::test]
async fn invalid_videojobs_are_rejected_at_admission() {
    let _serial = client().await;
    let namespace = "vj-admission";
    let rejected = |name: &str, spec: serde_json::Value| {
        let manifest =
            json!({"apiVersion": "cameo.dev/v1alpha1", "kind": "VideoJob", "metadata": {"name": name}, "spec": spec});
        let out = kubectl(&["apply", "-n", namespace, "-f", "-"], Some(&manifest.to_string()));
        assert!(!out.status.success(), "{name} was admitted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(rejected("http", spec("https://example.com/film.mp4", 1)).contains("spec.source"));
    let mut too_parallel = spec("s3://cameo-raw/v.mp4", 2);
    too_parallel["maxParallelShards"] = json!(3);
    assert!(rejected("parallel", too_parallel).contains("spec.maxParallelShards cannot exceed spec.shards"));
    let mut threshold = spec("s3://cameo-raw/v.mp4", 1);
    threshold["matchThreshold"] = json!(1.5);
    assert!(rejected("threshold", threshold).contains("matchThreshold"));

    // The source is immutable once set.
    apply_videojob(namespace, "fixed", spec("s3://cameo-raw/videos/slow/a.mp4", 1));
    let message = rejected("fixed", spec("s3://cameo-raw/videos/slow/b.mp4", 1));
    assert!(message.contains("spec.source is immutable"), "{message}");
}

#[tokio::test]
async fn a_spec_the_operator_cannot_run_waits_as_a_condition_until_fixed() {
    let (client, _serial) = client().await;
    let namespace = "vj-invalid";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    apply_videojob(namespace, "huge", spec("s3://cameo-raw/videos/huge/film.mp4", 20));

    let vj = wait_for_phase(&videojobs, "huge", Phase::Invalid).await;
    let accepted = condition(&vj, "Accepted");
    assert_eq!((accepted.status.as_str(), accepted.reason.as_str()), ("False", "TooManyShards"));
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    assert!(jobs.get_opt("huge-detect").await.unwrap().is_none());

    // No hot loop: the operator waits for a change.
    let before = metric(&leader_metrics(&client).await, "cameo_operator_reconciles_total");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = metric(&leader_metrics(&client).await, "cameo_operator_reconciles_total");
    assert!(after - before < 3.0, "{} reconciles in 5 s while nothing changed", after - before);

    apply_videojob(namespace, "huge", spec("s3://cameo-raw/videos/huge/film.mp4", 2));
    let vj = wait_for_phase(&videojobs, "huge", Phase::Succeeded).await;
    assert_eq!(condition(&vj, "Accepted").status, "True");
    assert_eq!(vj.status.unwrap().observed_generation, Some(2));
}

#[tokio::test]
async fn a_suspended_videojob_runs_nothing_until_resumed() {
    let (client, _serial) = client().await;
    let namespace = "vj-suspend";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let mut suspended = spec("s3://cameo-raw/videos/later/film.mp4", 2);
    suspended["suspend"] = json!(true);
    apply_videojob(namespace, "later", suspended);

    wait_for_phase(&videojobs, "later", Phase::Suspended).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(pods.list(&ListParams::default()).await.unwrap().items.is_empty(), "a suspended VideoJob started pods");

    let resume = json!({"spec": {"suspend": false}});
    videojobs.patch("later", &PatchParams::default(), &Patch::Merge(&resume)).await.unwrap();
    let vj = wait_for_phase(&videojobs, "later", Phase::Succeeded).await;
    assert_eq!(condition(&vj, "Suspended").status, "False");
}

#[tokio::test]
async fn killing_the_leader_hands_over_to_the_other_replica_and_work_continues() {
    let (client, _serial) = client().await;
    let old_leader = leader(&client).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    // A forced delete: the process is killed, the lease is not released.
    pods.delete(&old_leader, &DeleteParams { grace_period_seconds: Some(0), ..DeleteParams::default() }).await.unwrap();

    let new_leader = eventually("a new leader", || {
        let client = client.clone();
        let old_leader = old_leader.clone();
        async move { Some(leader(&client).await).filter(|l| *l != old_leader) }
    })
    .await;
    assert_ne!(new_leader, old_leader);

    let namespace = "vj-failover";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    apply_videojob(namespace, "after-failover", spec("s3://cameo-raw/videos/after/film.mp4", 1));
    wait_for_phase(&videojobs, "after-failover", Phase::Succeeded).await;
}

#[tokio::test]
async fn deleting_a_videojob_removes_its_jobs_and_pods() {
    let (client, _serial) = client().await;
    let namespace = "vj-delete";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    apply_videojob(namespace, "long", spec("s3://cameo-raw/videos/slow/film.mp4", 2));
    eventually("running shard pods", || async {
        let list = pods.list(&ListParams::default().labels("cameo.dev/videojob=long")).await.ok()?;
        let running =
            list.items.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")).count();
        (running == 2).then_some(())
    })
    .await;

    videojobs.delete("long", &DeleteParams::default()).await.unwrap();
    eventually("the Job and its pods to be gone", || async {
        let job = jobs.get_opt("long-detect").await.ok()?;
        let left = pods.list(&ListParams::default().labels("cameo.dev/videojob=long")).await.ok()?.items.len();
        (job.is_none() && left == 0).then_some(())
    })
    .await;

    // ttlSecondsAfterFinished: a finished VideoJob deletes itself.
    let mut short_lived = spec("s3://cameo-raw/videos/short/film.mp4", 1);
    short_lived["ttlSecondsAfterFinished"] = json!(2);
    apply_videojob(namespace, "short-lived", short_lived);
    wait_for_phase(&videojobs, "short-lived", Phase::Succeeded).await;
    eventually("the finished VideoJob to expire", || async {
        videojobs.get_opt("short-lived").await.ok()?.is_none().then_some(())
    })
    .await;
}
