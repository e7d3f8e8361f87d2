//! `make bench` (under hack/with-cluster): a 10-minute 1080p video through the whole
//! cloud path on the local stack, in 1 shard and in 4: wall time from `kubectl apply` to
//! `Succeeded`, the speedup, and where the time went: the detector's analysis (the
//! slowest shard), the shard pods' other work (models, gallery, S3), the merge, and the
//! rest (scheduling, reconciles, pod start-up). Prints Markdown.

#[path = "../tests/stack/mod.rs"]
mod stack;

use std::process::Command;
use std::time::{Duration, Instant};

use cameo_operator::crd::{Phase, VideoJob};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use stack::{apply_videojob, spec, testdata};

const NAMESPACE: &str = "bench-cloud";
const VIDEO: &str = "bench_10min.mp4";

/// Ten copies of the one-minute bench clip, joined without re-encoding.
fn ten_minute_video() {
    let dir = testdata();
    if dir.join(VIDEO).exists() {
        return;
    }
    let list = dir.join("bench_10min.txt");
    std::fs::write(&list, "file 'bench_1080p.mp4'\n".repeat(10)).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i"])
        .arg(&list)
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(dir.join(VIDEO))
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg could not join the clips");
}

struct Run {
    wall: f64,
    /// Per shard pod: seconds running, seconds of analysis (from its termination message).
    shards: Vec<(f64, f64)>,
    merge: f64,
}

fn seconds_between(pod: &Pod) -> f64 {
    let terminated = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c[0].state.as_ref())
        .and_then(|s| s.terminated.clone());
    match terminated.and_then(|t| Some((t.started_at?.0, t.finished_at?.0))) {
        Some((start, end)) => (end - start).total(jiff::Unit::Second).unwrap_or(0.0),
        None => 0.0,
    }
}

fn analysed_seconds(pod: &Pod) -> f64 {
    let message = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c[0].state.as_ref()?.terminated.as_ref()?.message.clone())
        .unwrap_or_default();
    message
        .split("analysed in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn run(client: &Client, shards: i32) -> Run {
    let name = format!("ten-minutes-{shards}");
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), NAMESPACE);
    let started = Instant::now();
    apply_videojob(NAMESPACE, &name, spec(VIDEO, "cuts", shards));
    let finished = stack::eventually(&format!("{name} to finish"), Duration::from_secs(1800), || async {
        let vj = videojobs.get_opt(&name).await.ok().flatten()?;
        vj.status.filter(|s| s.phase.is_finished())
    })
    .await;
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(finished.phase, Phase::Succeeded, "{:#?}", finished.conditions);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let list = pods.list(&ListParams::default().labels(&format!("cameo.dev/videojob={name}"))).await.unwrap().items;
    let shard_pods = list.iter().filter(|p| p.name_any().contains("-detect-"));
    let merge = list.iter().filter(|p| p.name_any().contains("-merge-")).map(seconds_between).sum();
    Run { wall, shards: shard_pods.map(|p| (seconds_between(p), analysed_seconds(p))).collect(), merge }
}

#[tokio::main]
async fn main() {
    ten_minute_video();
    tokio::task::spawn_blocking(|| {
        stack::seed_aws(&[VIDEO]);
        stack::install(&[NAMESPACE]);
    })
    .await
    .unwrap();
    let client = Client::try_default().await.expect("a client from KUBECONFIG");
    let one = run(&client, 1).await;
    let four = run(&client, 4).await;

    println!("# cameo cloud path benchmark: a 10-minute 1080p video\n");
    println!(
        "Local stack on this machine ({} cores shared by the control plane, moto, the operator and the",
        num_cores()
    );
    println!("detector pods; the GPU node is simulated, so shards run on CPU). From `kubectl apply` to `Succeeded`.\n");
    println!(
        "| shards | wall | speedup | slowest shard's analysis | shard pods' other work | merge | scheduling, reconciles, start-up | outside the detector's analysis |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (shards, run) in [(1, &one), (4, &four)] {
        let (pod, analysis) =
            run.shards.iter().copied().fold((0.0, 0.0), |(p, a), (rp, ra)| (f64::max(p, rp), f64::max(a, ra)));
        let rest = (run.wall - pod - run.merge).max(0.0);
        println!(
            "| {shards} | {:.1} s | {:.2}x | {analysis:.1} s | {:.1} s | {:.1} s | {rest:.1} s | {:.0}% |",
            run.wall,
            one.wall / run.wall,
            (pod - analysis).max(0.0),
            run.merge,
            100.0 * (run.wall - analysis) / run.wall
        );
    }
    println!(
        "\nPer shard, 4 shards (running, analysing): {:?}",
        four.shards.iter().map(|(p, a)| format!("{p:.1} s, {a:.1} s")).collect::<Vec<_>>()
    );
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
