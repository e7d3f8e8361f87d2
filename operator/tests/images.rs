//! cameo from its container images on the local stack (run with `hack/with-cluster`
//! after `make images`; `make test` does both): the chart installed with its own image
//! defaults, so the node agent pulls the operator and the detector from the local
//! registry on 127.0.0.1:5000 and runs them with podman, as users, with read-only roots
//! and the pods' limits; and the detector image itself beside the host binary.
//!
//! The GPU node is simulated, so GPU shards run the CUDA image on its CPU
//! (`detector.gpuDevice=cpu`); the CUDA image's `--device cuda` must fail loudly here.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use cameo_detector::evaluate::mismatches;
use cameo_detector::results::ResultsDocument;
use cameo_operator::crd::{Phase, VideoJob};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Client, ResourceExt};
use stack::{PROCESSED, apply_videojob, eventually, result_document, spec, testdata, truth};

mod stack;

const RELEASE: &str = "cameo-images";
const RELEASE_NAMESPACE: &str = "cameo-images-system";
const NAMESPACE: &str = "vj-images";
const REGISTRY: &str = "127.0.0.1:5000/cameo";
const TIMEOUT: Duration = Duration::from_secs(300);

/// The tag `make images` gave this commit's images (hack/with-cluster exports it).
fn tag() -> String {
    std::env::var("CAMEO_IMAGE_TAG")
        .expect("CAMEO_IMAGE_TAG is not set: run under hack/with-cluster after make images (make test does)")
}

fn image(repository: &str, suffix: &str) -> String {
    format!("{REGISTRY}/{repository}:{}{suffix}", tag())
}

/// Seeds moto and installs the chart from its images once for all tests.
fn installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        stack::seed_aws(&["demo.mp4"]);
        let operator_tag = format!("image.operator.tag={}", tag());
        let detector_tag = format!("image.detector.tag={}", tag());
        let bucket = format!("operator.outputBucket={PROCESSED}");
        stack::install_release_from_images(
            RELEASE,
            RELEASE_NAMESPACE,
            &[NAMESPACE],
            &[&operator_tag, &detector_tag, &bucket],
        );
    });
}

/// One test at a time: one of them deletes the leader.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn client() -> (Client, tokio::sync::MutexGuard<'static, ()>) {
    let guard = SERIAL.lock().await;
    tokio::task::spawn_blocking(installed).await.expect("the stack is set up");
    (Client::try_default().await.expect("KUBECONFIG from hack/with-cluster"), guard)
}

/// What a pod's container reports having run: its image and the image's digest.
fn image_of(pod: &Pod) -> (String, String) {
    let status = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref()).and_then(|s| s.first());
    status.map(|s| (s.image.clone(), s.image_id.clone())).unwrap_or_default()
}

async fn lease_holder(client: &Client) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), RELEASE_NAMESPACE);
    let holder = leases.get_opt(RELEASE).await.ok().flatten()?.spec?.holder_identity?;
    let pod = holder.split_once('_').map_or(holder.as_str(), |(pod, _)| pod).to_string();
    (!pod.is_empty()).then_some(pod)
}

#[tokio::test]
async fn helm_installs_the_operator_from_its_image_and_leadership_moves_when_the_leader_goes() {
    let (client, _serial) = client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), RELEASE_NAMESPACE);
    let deployment = deployments.get(RELEASE).await.unwrap();
    assert_eq!(deployment.status.and_then(|s| s.available_replicas), Some(2));

    let pods: Api<Pod> = Api::namespaced(client.clone(), RELEASE_NAMESPACE);
    let operators = pods.list(&ListParams::default().labels("app.kubernetes.io/name=cameo-operator")).await.unwrap();
    assert_eq!(operators.items.len(), 2);
    for pod in &operators.items {
        let (image, id) = image_of(pod);
        assert_eq!(image, self::image("cameo-operator", ""), "the chart's default repository");
        assert!(id.starts_with(&format!("{REGISTRY}/cameo-operator@sha256:")), "pulled from the registry: {id:?}");
    }

    let leader = eventually("a leader", TIMEOUT, || lease_holder(&client)).await;
    let names: Vec<String> = operators.items.iter().map(|p| p.name_any()).collect();
    assert!(names.contains(&leader), "the lease holder {leader} is one of {names:?}");
    // The leader's container gets SIGTERM through podman and releases the lease; the
    // standby, or the pod that replaces the leader, takes over.
    pods.delete(&leader, &DeleteParams::default()).await.unwrap();
    let next = eventually("another leader", TIMEOUT, || async {
        lease_holder(&client).await.filter(|holder| holder != &leader)
    })
    .await;
    // Its container stopped, so the agent let the pod go.
    eventually("the old leader's pod to go", TIMEOUT, || async {
        pods.get_opt(&leader).await.ok()?.is_none().then_some(())
    })
    .await;
    let running = pods.list(&ListParams::default().labels("app.kubernetes.io/name=cameo-operator")).await.unwrap();
    let running: Vec<String> = running.items.iter().map(|p| p.name_any()).collect();
    assert!(running.contains(&next), "the new leader {next} is one of the operator's pods {running:?}");
}

#[tokio::test]
async fn a_sharded_videojob_runs_from_the_detector_images_and_matches_the_ground_truth() {
    let (client, _serial) = client().await;
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), NAMESPACE);
    // Two shards of the 24 s demo split at 12 s, inside Obama's appearance from 9 to 14 s.
    apply_videojob(NAMESPACE, "demo", spec("demo.mp4", "demo", 2));
    let vj = eventually("the VideoJob to finish", TIMEOUT, || async {
        let vj = videojobs.get("demo").await.ok()?;
        let phase = vj.status.as_ref().map(|s| s.phase)?;
        (phase == Phase::Succeeded || phase == Phase::Failed).then_some(vj)
    })
    .await;
    let status = vj.status.clone().unwrap();
    assert_eq!(status.phase, Phase::Succeeded, "{status:#?}");
    assert_eq!((status.shards.total, status.shards.succeeded), (2, 2));

    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let all = pods.list(&ListParams::default().labels("cameo.dev/videojob=demo")).await.unwrap().items;
    let shards: Vec<&Pod> = all.iter().filter(|p| p.name_any().starts_with("demo-detect")).collect();
    let merges: Vec<&Pod> = all.iter().filter(|p| p.name_any().starts_with("demo-merge")).collect();
    assert_eq!((shards.len(), merges.len()), (2, 1), "{:?}", all.iter().map(|p| p.name_any()).collect::<Vec<_>>());
    for (pods, expected) in [(&shards, image("cameo-detector", "-cuda")), (&merges, image("cameo-detector", ""))] {
        for pod in pods {
            let (image, id) = image_of(pod);
            assert_eq!(image, expected, "{}", pod.name_any());
            assert!(id.starts_with(&format!("{REGISTRY}/cameo-detector@sha256:")), "pulled from the registry: {id:?}");
        }
    }

    let document = result_document(NAMESPACE, "demo");
    let problems = mismatches(&document, &truth("demo"), &["Barack Obama", "Eileen Collins", "Tom Hanks"]);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(document.people[0].appearances.iter().any(|a| a.start_seconds < 12.0 && a.end_seconds > 12.0));
}

/// `podman run` as the operator's pods run the detector: the pods' user, a read-only root.
const RUN_AS_A_POD: [&str; 5] = ["run", "--rm", "--read-only", "--read-only-tmpfs=false", "--user=65532:65532"];

/// The detector's `detect` on the demo: in its image (read-only root, the pods' user,
/// /tmp the only place to write), or as the host binary.
fn detect(in_image: Option<&str>, out: &std::path::Path) -> ResultsDocument {
    let data = testdata();
    let output = match in_image {
        Some(image) => Command::new("podman")
            .args(RUN_AS_A_POD)
            .arg(format!("--volume={}:/data:ro", data.display()))
            .arg(format!("--volume={}:/tmp:rw", out.display()))
            .args([
                image,
                "detect",
                "--video=/data/demo.mp4",
                "--gallery=/data/galleries/demo",
                "--json=/tmp/demo.json",
            ])
            .output(),
        None => Command::new(host_binary())
            .arg("detect")
            .arg(format!("--video={}", data.join("demo.mp4").display()))
            .arg(format!("--gallery={}", data.join("galleries/demo").display()))
            .arg(format!("--json={}", out.join("demo.json").display()))
            .output(),
    }
    .expect("podman and the detector run");
    assert!(output.status.success(), "{in_image:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&std::fs::read(out.join("demo.json")).unwrap()).expect("a results document")
}

/// The detector binary beside this test's (hack/with-cluster builds both).
fn host_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let binary = exe.parent().and_then(|deps| deps.parent()).unwrap().join("cameo-detector");
    assert!(binary.exists(), "no detector binary at {}: run under hack/with-cluster", binary.display());
    binary
}

/// A fresh folder the image's user (65532) may write.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cameo-images-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    dir
}

/// Who appears when, without what differs by run (timings, paths, the model's file).
fn appearances(document: &ResultsDocument) -> Vec<(String, Vec<(f64, f64)>)> {
    document
        .people
        .iter()
        .chain(&document.unknown)
        .map(|p| (p.name.clone(), p.appearances.iter().map(|a| (a.start_seconds, a.end_seconds)).collect()))
        .collect()
}

#[test]
fn the_detector_image_finds_the_same_people_at_the_same_times_as_the_host_binary() {
    let (host, image) = (scratch("host"), scratch("image"));
    let on_host = detect(None, &host);
    let in_image = detect(Some(&self::image("cameo-detector", "")), &image);
    assert!(!on_host.people.is_empty(), "the demo names someone");
    assert_eq!(appearances(&in_image), appearances(&on_host));
    assert_eq!((in_image.video.width, in_image.video.height), (on_host.video.width, on_host.video.height));
    assert_eq!(in_image.models, on_host.models, "the same models, in the same precision");
    for dir in [host, image] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn the_cuda_image_refuses_device_cuda_without_a_gpu_and_says_why() {
    let output = Command::new("podman")
        .args(RUN_AS_A_POD)
        .arg(format!("--volume={}:/data:ro", testdata().display()))
        .args([&image("cameo-detector", "-cuda"), "detect", "--device=cuda", "--video=/data/demo.mp4"])
        .args(["--gallery=/data/galleries/demo"])
        .output()
        .expect("podman runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 3: a configuration error (cameo-detector --help), not a crash or a silent CPU run.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("--device cuda"), "{stderr}");
    // What is missing is the node's part, the driver, not the image's.
    assert!(stderr.contains("libcuda.so.1"), "{stderr}");
    let linked = Command::new("podman")
        .args(["run", "--rm", "--entrypoint=/usr/bin/ldd", &image("cameo-detector", "-cuda")])
        .arg("/opt/cameo/lib/libonnxruntime_providers_cuda.so")
        .output()
        .expect("podman runs");
    let linked = String::from_utf8_lossy(&linked.stdout);
    let missing: Vec<&str> = linked.lines().filter(|l| l.contains("not found")).map(str::trim).collect();
    assert_eq!(
        missing,
        ["libcuda.so.1 => not found"],
        "ONNX Runtime's CUDA provider links everything but the driver:\n{linked}"
    );
    for library in ["libcublasLt.so.13", "libcublas.so.13", "libcudart.so.13", "libcurand.so.10"] {
        assert!(linked.contains(&format!("{library} => /opt/cameo/lib/{library}")), "{library}:\n{linked}");
    }
}
