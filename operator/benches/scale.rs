//! `make bench` (under hack/with-cluster): 500 VideoJobs applied at once (three rounds),
//! then 10,000: the time until every one has its Job and the operator's peak memory,
//! beside a bare client creating the same Jobs directly, and the API writes per
//! VideoJob. Prints Markdown.
//!
//! The VideoJobs are suspended, so the measure is the operator's work (watch, reconcile,
//! server-side apply, status), not the pods' start-up.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cameo_operator::config::OperatorConfig;
use cameo_operator::crd::{VideoJob, VideoJobSpec};
use cameo_operator::job::desired_detect_job;
use futures::{StreamExt, stream};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, CustomResourceExt};

#[path = "../tests/stack/mod.rs"]
mod stack;

use stack::{cpu_seconds, create_namespace, memory_mb};

const COUNT: usize = 500;
const ROUNDS: usize = 3;
/// The large round: what a busy shared cluster holds.
const LARGE: usize = 10_000;
/// Requests in flight from the benchmark's own client, for both runs.
const IN_FLIGHT: usize = 32;
/// A round of 500 that takes longer than this is broken, not slow (larger ones, in proportion).
const GIVE_UP: Duration = Duration::from_secs(120);

fn give_up(count: usize) -> Duration {
    GIVE_UP * (count.div_ceil(COUNT) as u32)
}

/// How often to poll for `count` objects: lists of 10,000 are not free for the API server.
fn poll(count: usize) -> Duration {
    Duration::from_millis(50 * count.div_ceil(COUNT) as u64)
}

fn spec(i: usize) -> VideoJobSpec {
    serde_json::from_value(serde_json::json!({
        "source": format!("s3://cameo-raw/videos/{i}/film.mp4"),
        "gallery": "s3://cameo-raw/gallery/",
        "shards": 4,
        "suspend": true,
    }))
    .expect("a valid spec")
}

/// The operator's configuration as its flags give it, for the Jobs the bare client creates.
fn config(namespace: &str) -> OperatorConfig {
    use clap::{Args, FromArgMatches};
    let flags = OperatorConfig::augment_args(clap::Command::new("bench")).get_matches_from([
        "bench",
        &format!("--namespaces={namespace}"),
        "--detector-image=cameo-detector:bench",
        "--output-bucket=cameo-bench",
    ]);
    OperatorConfig::from_arg_matches(&flags).expect("the flags parse")
}

async fn count_jobs(api: &Api<Job>) -> usize {
    api.list_metadata(&ListParams::default()).await.map_or(0, |l| l.items.len())
}

async fn wait_for_jobs(api: &Api<Job>, started: Instant, count: usize) -> Duration {
    loop {
        let jobs = count_jobs(api).await;
        if jobs >= count {
            return started.elapsed();
        }
        assert!(started.elapsed() < give_up(count), "only {jobs} of {count} Jobs after {:?}", give_up(count));
        tokio::time::sleep(poll(count)).await;
    }
}

async fn create_videojobs(api: &Api<VideoJob>, count: usize) {
    stream::iter(0..count)
        .for_each_concurrent(IN_FLIGHT, |i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &VideoJob::new(&format!("film-{i}"), spec(i)))
                    .await
                    .expect("created");
            }
        })
        .await;
}

struct Operator(Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU seconds used so far by the control plane's processes (etcd, kube-apiserver,
/// kube-controller-manager, kube-scheduler), whose PIDs hack/cluster records.
fn control_plane_cpu() -> f64 {
    let dir = std::env::var("CAMEO_CLUSTER_DIR").expect("run under hack/with-cluster (make bench)");
    let pids = std::fs::read_to_string(format!("{dir}/pids")).expect("the control plane's PIDs");
    pids.split_whitespace().filter_map(|pid| pid.parse().ok()).map(cpu_seconds).sum()
}

/// The API server's count of write requests so far, by verb and resource, from its
/// `apiserver_request_total` metric.
async fn write_requests(client: &Client) -> BTreeMap<String, f64> {
    let request = hyper::Request::get("/metrics").body(Vec::new()).expect("a request");
    let text = client.request_text(request).await.expect("the API server's metrics");
    let mut counts = BTreeMap::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("apiserver_request_total{")) {
        let Some((labels, value)) = line.rsplit_once("} ") else { continue };
        let label = |name: &str| {
            labels.split("\",").find_map(|l| l.strip_prefix(name)?.strip_prefix("=\"")).map(|v| v.trim_end_matches('"'))
        };
        let (Some(verb), Some(resource), Ok(value)) = (label("verb"), label("resource"), value.parse::<f64>()) else {
            continue;
        };
        if matches!(verb, "POST" | "APPLY" | "PATCH" | "PUT" | "DELETE") {
            let subresource =
                label("subresource").filter(|s| !s.is_empty()).map(|s| format!("/{s}")).unwrap_or_default();
            *counts.entry(format!("{verb} {resource}{subresource}")).or_insert(0.0) += value;
        }
    }
    counts
}

struct Round {
    baseline: f64,
    baseline_control_plane_cpu: f64,
    apply_floor: f64,
    with_operator: f64,
    applied: f64,
    all_status: f64,
    peak_mb: f64,
    idle_mb: f64,
    operator_cpu: f64,
    operator_control_plane_cpu: f64,
    /// Write requests per VideoJob the API server served while the operator worked.
    writes_per_videojob: BTreeMap<String, f64>,
}

async fn round(client: &Client, n: usize, count: usize) -> Round {
    // 1. A bare client creates the Jobs the operator would create.
    let baseline_ns = format!("bench-{n}-baseline");
    create_namespace(client, &baseline_ns).await;
    let baseline_jobs: Api<Job> = Api::namespaced(client.clone(), &baseline_ns);
    let base_config = config(&baseline_ns);
    let jobs: Vec<Job> = (0..count)
        .map(|i| {
            let mut vj = VideoJob::new(&format!("film-{i}"), spec(i));
            vj.metadata.namespace = Some(baseline_ns.clone());
            let mut job = desired_detect_job(&vj, &base_config);
            job.metadata.owner_references = None;
            job
        })
        .collect();
    let cpu_before = control_plane_cpu();
    let started = Instant::now();
    stream::iter(jobs)
        .for_each_concurrent(IN_FLIGHT, |job| {
            let api = baseline_jobs.clone();
            async move {
                api.create(&PostParams::default(), &job).await.expect("the Job is created");
            }
        })
        .await;
    let baseline = wait_for_jobs(&baseline_jobs, started, count).await;
    let baseline_control_plane_cpu = control_plane_cpu() - cpu_before;

    // 2. The floor: applying the VideoJobs with no operator running.
    let floor_ns = format!("bench-{n}-apply-only");
    create_namespace(client, &floor_ns).await;
    let started = Instant::now();
    create_videojobs(&Api::namespaced(client.clone(), &floor_ns), count).await;
    let apply_floor = started.elapsed();

    // 3. The operator, as its own process, and the VideoJobs applied at once.
    let operator_ns = format!("bench-{n}-operator");
    create_namespace(client, &operator_ns).await;
    let operator = Operator(
        Command::new(env!("CARGO_BIN_EXE_cameo-operator"))
            .args(["run", &format!("--namespaces={operator_ns}"), "--detector-image=cameo-detector:bench"])
            .args(["--output-bucket=cameo-bench", "--http-address=127.0.0.1:0", "--log-format=json"])
            .env("POD_NAMESPACE", &operator_ns)
            .env("POD_NAME", "bench")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the operator starts"),
    );
    let pid = operator.0.id();
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client.clone(), &operator_ns);
    let starting = Instant::now();
    while leases.get_opt("cameo-operator").await.ok().flatten().is_none() {
        assert!(starting.elapsed() < GIVE_UP, "the operator took no lease in {GIVE_UP:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, idle_mb) = memory_mb(pid);
    let cpu_before = cpu_seconds(pid);
    let control_plane_before = control_plane_cpu();
    let writes_before = write_requests(client).await;

    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), &operator_ns);
    let operator_jobs: Api<Job> = Api::namespaced(client.clone(), &operator_ns);
    let started = Instant::now();
    create_videojobs(&videojobs, count).await;
    let applied = started.elapsed();
    let with_operator = wait_for_jobs(&operator_jobs, started, count).await;
    loop {
        let list = videojobs.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
        let written = list.iter().filter(|vj| vj.status.as_ref().is_some_and(|s| s.job_name.is_some())).count();
        if written >= count {
            break;
        }
        assert!(started.elapsed() < give_up(count), "only {written} of {count} statuses written");
        tokio::time::sleep(poll(count) * 4).await;
    }
    let all_status = started.elapsed();
    let (peak_mb, _) = memory_mb(pid);
    let operator_cpu = cpu_seconds(pid) - cpu_before;
    let operator_control_plane_cpu = control_plane_cpu() - control_plane_before;
    let writes_per_videojob = write_requests(client)
        .await
        .into_iter()
        .map(|(key, after)| (key.clone(), (after - writes_before.get(&key).unwrap_or(&0.0)) / count as f64))
        .filter(|(_, per)| *per >= 0.01)
        .collect();
    drop(operator);
    Round {
        baseline: baseline.as_secs_f64(),
        baseline_control_plane_cpu,
        apply_floor: apply_floor.as_secs_f64(),
        with_operator: with_operator.as_secs_f64(),
        applied: applied.as_secs_f64(),
        all_status: all_status.as_secs_f64(),
        peak_mb,
        idle_mb,
        operator_cpu,
        operator_control_plane_cpu,
        writes_per_videojob,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    assert!(std::env::var_os("KUBECONFIG").is_some(), "run under hack/with-cluster (make bench)");
    let client = Client::try_default().await.expect("a client from KUBECONFIG");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch("videojobs.cameo.dev", &PatchParams::apply("cameo-bench").force(), &Patch::Apply(VideoJob::crd()))
        .await
        .expect("the CRD applies");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let rounds: Vec<Round> = {
        let mut rounds = Vec::new();
        for n in 0..ROUNDS {
            rounds.push(round(&client, n, COUNT).await);
        }
        rounds
    };
    report(COUNT, &rounds);
    let large = round(&client, ROUNDS, LARGE).await;
    report(LARGE, std::slice::from_ref(&large));
}

/// Prints the medians of `rounds` of `count` VideoJobs as Markdown.
fn report(count: usize, rounds: &[Round]) {
    let of = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let (baseline, floor, with_operator) = (of(|r| r.baseline), of(|r| r.apply_floor), of(|r| r.with_operator));
    let ratios: Vec<String> = rounds.iter().map(|r| format!("{:.2}x", r.with_operator / r.baseline)).collect();

    println!("# cameo-operator benchmark: {count} VideoJobs at once\n");
    println!(
        "Local control plane (etcd, kube-apiserver v1.37.2) sharing this machine's cores with the operator and the"
    );
    println!("client; {IN_FLIGHT} requests in flight from the client; median of {} rounds.\n", rounds.len());
    println!("| | time | ratio to the bare client |");
    println!("|---|---|---|");
    println!("| bare client creating the {count} Jobs | {baseline:.2} s | 1.00x |");
    println!("| applying {count} VideoJobs, no operator (the floor) | {floor:.2} s | {:.2}x |", floor / baseline);
    println!(
        "| applying {count} VideoJobs until the operator has created every Job | {with_operator:.2} s (applying: {:.2} s) | **{:.2}x** (rounds: {}) |",
        of(|r| r.applied),
        with_operator / baseline,
        ratios.join(", ")
    );
    println!(
        "| ... until every VideoJob status is written | {:.2} s | {:.2}x |\n",
        of(|r| r.all_status),
        of(|r| r.all_status) / baseline
    );
    println!(
        "Operator: **{:.1} MB peak memory** (VmHWM, worst round {:.1} MB), {:.1} MB idle; {:.2} CPU seconds for {count} VideoJobs.",
        of(|r| r.peak_mb),
        rounds.iter().map(|r| r.peak_mb).fold(0.0, f64::max),
        of(|r| r.idle_mb),
        of(|r| r.operator_cpu)
    );
    let (base_cpu, operator_cpu) = (of(|r| r.baseline_control_plane_cpu), of(|r| r.operator_control_plane_cpu));
    println!(
        "Control plane (etcd, API server, controllers): {base_cpu:.2} CPU seconds to serve the bare client, \
         {operator_cpu:.2} ({:.1}x) to serve the VideoJobs' creation and the operator (Job creates, status, Events, watches).",
        operator_cpu / base_cpu
    );
    let last = rounds.last().expect("a round");
    println!(
        "\nWrites the API server served per VideoJob in the last round (the client's, the operator's, the controllers'):\n"
    );
    println!("| request | per VideoJob |\n|---|---|");
    for (request, per) in &last.writes_per_videojob {
        println!("| {request} | {per:.2} |");
    }
    println!();
}
