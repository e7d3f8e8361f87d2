//! cameo end to end on the local stack (run with `hack/with-cluster`; `make test` does):
//! a real control plane (etcd, kube-apiserver with RBAC, the controller manager's Job
//! controller and garbage collector, kube-scheduler), the operator installed with the
//! Helm chart and run as pods by the node agent, the real detector in the shard and
//! merge pods, and moto standing in for S3 and DynamoDB.
//!
//! The GPU node is simulated (no GPU here), so the chart is installed with
//! `detector.gpuDevice=cpu`: shards land on the GPU node and run on its CPU.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::evaluate::mismatches;
use cameo_model::people::{
    GalleryManifest, PersonItem, PersonName, PhotoItem, PhotoSource, PhotoStatus, manifest_key, photo_key,
};
use cameo_model::table::movie_id;
use cameo_operator::crd::{Phase, VideoJob, VideoJobSpec};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use stack::{
    GPU_NODE, OPERATOR_NAMESPACE, PROCESSED, RAW, RELEASE, TABLE, apply_videojob, kubectl, ok, photo, result_document,
    spec, truth, with_aws,
};

mod stack;

/// Each test has a namespace of its own, all watched by the one operator installed.
const NAMESPACES: [&str; 14] = [
    "vj-run",
    "vj-bad",
    "vj-invalid",
    "vj-suspend",
    "vj-burst",
    "vj-failover",
    "vj-delete",
    "vj-admission",
    "vj-rerun",
    "vj-queue",
    "vj-quota",
    "vj-frozen",
    "vj-gallery",
    "vj-registry",
];
const TIMEOUT: Duration = Duration::from_secs(240);

/// Seeds moto and installs the chart once for all tests.
fn installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        stack::seed_aws(&["demo.mp4", "cuts.mp4", "bench_1080p.mp4"]);
        with_aws(|aws| {
            let notes = b"minutes of the meeting\n".repeat(100);
            aws.put(&S3Uri::new(RAW, "videos/notes.txt"), notes, "text/plain").unwrap();
        });
        stack::install(&NAMESPACES);
    });
}

/// One test at a time: they share the operator, and one of them kills its leader.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A client for a test that holds the cluster to itself while the guard lives.
async fn client() -> (Client, tokio::sync::MutexGuard<'static, ()>) {
    let guard = SERIAL.lock().await;
    tokio::task::spawn_blocking(installed).await.expect("the stack is set up");
    (Client::try_default().await.expect("a client from KUBECONFIG"), guard)
}

async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    stack::eventually(what, TIMEOUT, probe).await
}

async fn wait_for_phase(api: &Api<VideoJob>, name: &str, phase: Phase) -> VideoJob {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let found = api.get_opt(name).await.ok().flatten();
        let current = found.as_ref().and_then(|vj| vj.status.as_ref()).map(|s| s.phase);
        if let (Some(vj), Some(now)) = (&found, current)
            && (now == phase || now.is_finished())
        {
            let status = vj.status.clone().unwrap_or_default();
            assert_eq!(now, phase, "{name} ended {now:?}: {:#?}", status.conditions);
            return vj.clone();
        }
        if Instant::now() > deadline {
            let namespace = api.namespace().unwrap_or_default();
            let jobs = kubectl(&["get", "jobs,pods", "-n", namespace, "-o", "wide"], None);
            panic!(
                "timed out waiting for {name} to reach {phase:?}; it is {:?}\n{}",
                found.map(|vj| vj.status),
                String::from_utf8_lossy(&jobs.stdout)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn condition<'a>(vj: &'a VideoJob, type_: &str) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    vj.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == type_)).expect("condition present")
}

/// The Lease holder: the leading process, `<pod>_<process>`.
async fn leader(client: &Client) -> String {
    let leases: Api<Lease> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    eventually("a leader", || async {
        leases.get_opt(RELEASE).await.ok().flatten().and_then(|l| l.spec?.holder_identity).filter(|h| !h.is_empty())
    })
    .await
}

/// The leading process's pod.
async fn leader_pod(client: &Client) -> String {
    let identity = leader(client).await;
    identity.split_once('_').map_or(identity.clone(), |(pod, _)| pod.to_string())
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
    let leader = pods.get(&leader_pod(client).await).await.unwrap();
    let ip = leader.status.and_then(|s| s.pod_ip).expect("the leader has a pod IP");
    http_get(&format!("{ip}:8080"), "/metrics")
}

type Item = std::collections::HashMap<String, AttributeValue>;

/// The table's items for one video.
fn movie_items(video: &str) -> Vec<Item> {
    let pk = format!("MOVIE#{}", movie_id(&format!("s3://{RAW}/videos/{video}")));
    with_aws(move |aws| {
        let query = aws.dynamodb.query().table_name(TABLE).key_condition_expression("pk = :pk");
        let out = aws.block_on(query.expression_attribute_values(":pk", AttributeValue::S(pk)).send()).unwrap();
        out.items().to_vec()
    })
}

fn text(item: &Item, key: &str) -> String {
    item.get(key).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// The titles of the movies a GSI query finds (entity items name their movie).
fn query_index(index: &'static str, key: &'static str, value: &str) -> BTreeSet<String> {
    let value = value.to_string();
    with_aws(move |aws| {
        let query = aws
            .dynamodb
            .query()
            .table_name(TABLE)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", AttributeValue::S(value));
        let out = aws.block_on(query.send()).unwrap();
        out.items().iter().map(|i| text(i, "movieTitle").max(text(i, "title"))).collect()
    })
}

#[test]
fn the_buckets_terraform_made_refuse_plain_http_under_their_tls_only_policy() {
    // Stacks tls and cameo differ only in require_tls (terraform/examples/local-stack), and
    // moto evaluates bucket policies: the refusal is the policy's doing.
    let guarded = stack::cloud("tls");
    let open = stack::cloud("cameo");
    let put = |bucket: String| {
        with_aws(move |aws| {
            aws.put(&S3Uri::new(&bucket, "probe/plain-http.bin"), vec![0; 16], "application/octet-stream")
        })
    };
    for bucket in [guarded.raw_bucket, guarded.processed_bucket] {
        assert!(put(bucket.clone()).is_err(), "a plain-HTTP PUT to {bucket} was accepted");
    }
    put(open.raw_bucket).expect("a bucket without the policy takes the same PUT");
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
    assert!(names.contains(&leader_pod(&client).await), "the lease holder is one of {names:?}");
    for pod in &operator_pods.items {
        assert_eq!(pod.spec.as_ref().and_then(|s| s.service_account_name.as_deref()), Some(RELEASE));
    }

    let account = format!("--as=system:serviceaccount:{OPERATOR_NAMESPACE}:{RELEASE}");
    let can = |verb: &str, resource: &str, namespace: &str| {
        let out = kubectl(&["auth", "can-i", verb, resource, "-n", namespace, &account], None);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    };
    assert!(can("create", "jobs.batch", "vj-run") && can("watch", "videojobs.cameo.dev", "vj-run"));
    let status = kubectl(
        &["auth", "can-i", "patch", "videojobs.cameo.dev", "--subresource=status", "-n", "vj-run", &account],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&status.stdout).trim(), "yes");
    assert!(!can("patch", "videojobs.cameo.dev", "vj-run"), "the operator writes status, never a spec");
    assert!(!can("create", "jobs.batch", "default"), "no rights outside the watched namespaces");
    assert!(
        !can("get", "secrets", "vj-run") && !can("create", "pods", "vj-run") && !can("delete", "jobs.batch", "vj-run")
    );
    assert!(!can("list", "nodes", "vj-run"));

    let ip = pods.get(&names[0]).await.unwrap().status.unwrap().pod_ip.unwrap();
    let health = http_get(&format!("{ip}:8080"), "/healthz");
    assert!(health.starts_with("HTTP/1.0 200") && health.ends_with("ok\n"), "{health}");
}

#[tokio::test]
async fn a_sharded_videojob_on_the_gpu_node_writes_results_that_match_the_ground_truth() {
    let (client, _serial) = client().await;
    let namespace = "vj-run";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    // Two shards of the 24 s demo split at 12 s, inside Obama's appearance from 9 to 14 s.
    let mut demo = spec("demo.mp4", "demo", 2);
    demo["movie"] = json!({"title": "Demo", "genre": "Documentary", "director": "A. Synth", "year": 2026});
    apply_videojob(namespace, "demo", demo);

    let job = eventually("the shards' Job", || async { jobs.get_opt("demo-detect").await.ok().flatten() }).await;
    let pod_spec = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod_spec.containers[0].resources.as_ref().unwrap().limits.as_ref().unwrap()["nvidia.com/gpu"].0, "1");
    assert_eq!(pod_spec.tolerations.unwrap()[0].key.as_deref(), Some("nvidia.com/gpu"));

    let vj = wait_for_phase(&videojobs, "demo", Phase::Succeeded).await;
    let status = vj.status.clone().unwrap();
    assert_eq!((status.shards.total, status.shards.succeeded), (2, 2));
    assert_eq!(condition(&vj, "Complete").observed_generation, Some(1));
    let summary = status.result.expect("the merge's summary");
    assert_eq!(summary.uri, format!("s3://{PROCESSED}/results/{namespace}/demo/result.json"));
    assert_eq!(summary.actors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), vec!["Barack Obama"]);

    // The real scheduler put every shard on the GPU node; the merge ran on the CPU node.
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let all = pods.list(&ListParams::default().labels("cameo.dev/videojob=demo")).await.unwrap().items;
    let node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
    let shard_nodes: Vec<String> = all.iter().filter(|p| p.name_any().starts_with("demo-detect")).map(node).collect();
    assert_eq!(shard_nodes, vec![GPU_NODE.to_string(); 2]);
    assert!(all.iter().filter(|p| p.name_any().starts_with("demo-merge")).all(|p| node(p) != GPU_NODE));

    // The results document in S3 matches the ground truth, the boundary included.
    let document = result_document(namespace, "demo");
    let problems = mismatches(&document, &truth("demo"), &["Barack Obama", "Eileen Collins", "Tom Hanks"]);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(document.people[0].appearances.iter().any(|a| a.start_seconds < 12.0 && a.end_seconds > 12.0));
    assert_faces_written(namespace, "demo", &document);

    // One table item for the movie and one per person found, no more.
    let items = movie_items("demo.mp4");
    let sks: BTreeSet<String> = items.iter().map(|i| text(i, "sk")).collect();
    assert_eq!(sks.len(), items.len(), "no duplicate items");
    assert_eq!(items.len(), 1 + document.people.len() + document.unknown.len());
    assert!(sks.contains("MOVIE") && sks.contains("ACTOR#Barack Obama"));

    let table = ok(kubectl(&["get", "vj", "demo", "-n", namespace], None));
    assert!(table.contains("Succeeded") && table.contains("2/2"), "{table}");
    let events =
        ok(kubectl(&["get", "events.events.k8s.io", "-n", namespace, "-o", "jsonpath={.items[*].reason}"], None));
    assert!(events.contains("Merging") && events.contains("Succeeded"), "events: {events}");
    // One Event per transition: a reconcile on a cached copy older than our own status
    // write publishes nothing again.
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("demo"))
        .filter(|e| e.reporting_controller.as_deref() == Some("cameo-operator"))
        .filter_map(|e| e.reason)
        .collect();
    let all = reasons.len();
    reasons.sort();
    reasons.dedup();
    assert_eq!(reasons.len(), all, "a transition announced twice: {reasons:?}");
    let metrics = leader_metrics(&client).await;
    assert!(metrics.contains("cameo_operator_videojobs{phase=\"Succeeded\"}"), "{metrics}");
    let logs = with_aws(|aws| aws.get(&S3Uri::new(PROCESSED, "logs/vj-run/demo/shard-1.log")).unwrap());
    assert!(logs.is_some_and(|l| !l.is_empty()), "each shard's log is uploaded");
}

#[tokio::test]
async fn photos_added_to_the_gallery_that_cannot_be_used_are_skipped_and_said_in_the_status() {
    let (client, _serial) = client().await;
    let namespace = "vj-gallery";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    with_aws(|aws| stack::put_gallery_as(aws, RAW, "demo", "growing"));
    apply_videojob(namespace, "before", spec("demo.mp4", "growing", 2));
    let before = wait_for_phase(&videojobs, "before", Phase::Succeeded).await;
    assert_eq!(before.status.and_then(|s| s.result).map(|r| r.gallery_skipped), Some(0));
    let names = |name: &str| result_document(namespace, name).people.into_iter().map(|p| p.name).collect::<Vec<_>>();
    let found_before = names("before");
    assert_eq!(found_before, vec!["Barack Obama"]);

    // Someone adds a group photo and an empty file to the gallery.
    let friends = photo("friends.jpg");
    with_aws(move |aws| {
        aws.put(&S3Uri::new(RAW, "gallery/growing/The Friends/cast.jpg"), friends, "image/jpeg").unwrap();
        aws.put(&S3Uri::new(RAW, "gallery/growing/Barack Obama/empty.jpg"), vec![], "image/jpeg").unwrap();
        // A photo deleted between listing and reading is the photo's problem, not the video's.
        let gone = aws.gallery_photo("Nobody", &S3Uri::new(RAW, "gallery/growing/Nobody/gone.jpg")).unwrap();
        assert!(gone.bytes.is_err_and(|why| why.contains("deleted after the gallery was listed")));
    });
    apply_videojob(namespace, "after", spec("demo.mp4", "growing", 2));
    let after = wait_for_phase(&videojobs, "after", Phase::Succeeded).await;
    assert_eq!(names("after"), found_before, "the same people are named");
    assert_eq!(after.status.as_ref().and_then(|s| s.result.as_ref()).map(|r| r.gallery_skipped), Some(2));
    let complete = condition(&after, "Complete");
    assert!(complete.message.contains("2 gallery photos were skipped"), "{}", complete.message);
    let skipped = result_document(namespace, "after").gallery.expect("the results say what the gallery was").skipped;
    let reason = |key: &str| {
        let location = format!("s3://{RAW}/gallery/growing/{key}");
        skipped.iter().find(|s| s.location == location).map(|s| s.reason.clone()).unwrap_or_default()
    };
    assert!(reason("The Friends/cast.jpg").contains("6 faces found"), "{skipped:#?}");
    assert!(reason("Barack Obama/empty.jpg").contains("not a readable image"), "{skipped:#?}");
}

#[tokio::test]
async fn a_photo_given_to_a_person_is_checked_in_the_cluster_and_names_them_with_their_id() {
    let (client, _serial) = client().await;
    let namespace = "vj-registry";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let (person_id, photo_id) = ("0ba0a000000000000000000000000042", "0ba0a0000000000000000000000000f1");
    let key = photo_key("gallery/", person_id, photo_id, "jpg");
    let obama = photo("obama.jpg");
    let uploaded = key.clone();
    with_aws(move |aws| {
        let now = jiff::Timestamp::now().to_string();
        let name = PersonName::parse("Barack Obama").unwrap();
        assert!(aws.add_person(TABLE, &PersonItem::new(person_id, &name, "tests", &now)).unwrap());
        let photo = PhotoItem {
            content_type: Some("image/jpeg".into()),
            size_bytes: Some(obama.len() as u64),
            ..PhotoItem::pending(person_id, photo_id, uploaded.clone(), PhotoSource::Upload, "tests", &now)
        };
        assert!(aws.add_photo(TABLE, &photo).unwrap());
        // As the API's presigned PUT would: S3 tells the gallery queue, the checker's pod looks.
        aws.put(&S3Uri::new(RAW, uploaded), obama, "image/jpeg").unwrap();
    });
    eventually("the gallery checker to find the photo usable and write the manifest", || async {
        let manifest = with_aws(|aws| aws.get(&S3Uri::new(RAW, manifest_key("gallery/"))).unwrap())?;
        let manifest: GalleryManifest = serde_json::from_slice(&manifest).unwrap();
        let listed = manifest.people.iter().any(|p| p.id == person_id && p.photos.iter().any(|f| f.key == key));
        let status = with_aws(|aws| aws.photos(TABLE, person_id).unwrap())[0].status;
        (listed && status == PhotoStatus::Usable).then_some(())
    })
    .await;
    // The job is created in a later second than the manifest, so it pins it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let spec = serde_json::json!({"source": format!("s3://{RAW}/videos/demo.mp4"), "gallery": format!("s3://{RAW}/gallery/"), "shards": 2});
    apply_videojob(namespace, "registry", spec);
    wait_for_phase(&videojobs, "registry", Phase::Succeeded).await;
    let document = result_document(namespace, "registry");
    let named: Vec<(String, Option<String>)> = document.people.into_iter().map(|p| (p.name, p.person_id)).collect();
    assert_eq!(named, vec![("Barack Obama".to_string(), Some(person_id.to_string()))]);
    let gallery = document.gallery.expect("the results say what the gallery was");
    assert!(gallery.manifest_version.is_some(), "both shards enrolled the manifest: {gallery:?}");
}

#[tokio::test]
async fn a_non_video_and_a_missing_object_fail_at_once_naming_the_object() {
    let (client, _serial) = client().await;
    let namespace = "vj-bad";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    for (name, video, reason) in [
        ("notes", "notes.txt", "not a readable video container"),
        ("missing", "missing.mp4", "the object does not exist"),
    ] {
        let mut bad = spec(video, "demo", 2);
        bad["maxParallelShards"] = json!(1);
        bad["backoffLimitPerShard"] = json!(3);
        apply_videojob(namespace, name, bad);
        let vj = wait_for_phase(&videojobs, name, Phase::Failed).await;
        let failed = condition(&vj, "Failed");
        assert_eq!(failed.reason, "PodFailurePolicy");
        assert!(
            failed.message.contains(&format!("s3://{RAW}/videos/{video}")) && failed.message.contains(reason),
            "{}",
            failed.message
        );

        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let shard_pods = pods.list(&ListParams::default().labels(&format!("cameo.dev/videojob={name}"))).await.unwrap();
        assert_eq!(shard_pods.items.len(), 1, "one pod ran, none was retried and the other shard never started");
    }
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
    let mut http = spec("demo.mp4", "demo", 1);
    http["source"] = json!("https://example.com/film.mp4");
    assert!(rejected("http", http).contains("spec.source"));
    let mut too_parallel = spec("demo.mp4", "demo", 2);
    too_parallel["maxParallelShards"] = json!(3);
    assert!(rejected("parallel", too_parallel).contains("spec.maxParallelShards cannot exceed spec.shards"));
    let mut threshold = spec("demo.mp4", "demo", 1);
    threshold["matchThreshold"] = json!(1.5);
    assert!(rejected("threshold", threshold).contains("matchThreshold"));

    let mut reserved = spec("demo.mp4", "demo", 1);
    reserved["queueName"] = json!("Not A Queue");
    assert!(rejected("reserved", reserved).contains("spec.queueName"));

    // The source is immutable once set; what the pods were started with, once accepted.
    let mut fixed = spec("demo.mp4", "demo", 1);
    fixed["suspend"] = json!(true);
    apply_videojob(namespace, "fixed", fixed.clone());
    let mut moved = fixed.clone();
    moved["source"] = json!(format!("s3://{RAW}/videos/cuts.mp4"));
    let message = rejected("fixed", moved);
    assert!(message.contains("spec.source is immutable"), "{message}");
    let client = Client::try_default().await.unwrap();
    wait_for_phase(&Api::<VideoJob>::namespaced(client, namespace), "fixed", Phase::Suspended).await;
    for (field, value, name) in [
        ("matchThreshold", json!(0.5), "spec.matchThreshold"),
        ("sampling", json!({"fps": 5}), "spec.sampling"),
        ("minFaceSize", json!(24), "spec.minFaceSize"),
        ("movie", json!({"title": "Renamed"}), "spec.movie"),
    ] {
        let mut changed = fixed.clone();
        changed[field] = value;
        let message = rejected("fixed", changed);
        assert!(message.contains(&format!("{name} is immutable once the VideoJob is accepted")), "{message}");
    }
    // What follows the Job may change: suspend.
    fixed["suspend"] = json!(false);
    fixed["maxParallelShards"] = json!(1);
    apply_videojob(namespace, "fixed", fixed);
}

#[tokio::test]
async fn a_spec_the_operator_cannot_run_waits_as_a_condition_until_fixed() {
    let (client, _serial) = client().await;
    let namespace = "vj-invalid";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    apply_videojob(namespace, "huge", spec("demo.mp4", "demo", 20));

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

    apply_videojob(namespace, "huge", spec("demo.mp4", "demo", 2));
    let vj = wait_for_phase(&videojobs, "huge", Phase::Succeeded).await;
    assert_eq!(condition(&vj, "Accepted").status, "True");
    assert_eq!(vj.status.unwrap().observed_generation, Some(2));
}

#[tokio::test]
async fn a_suspended_videojob_runs_nothing_until_resumed() {
    let (client, _serial) = client().await;
    let namespace = "vj-suspend";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let mut suspended = spec("demo.mp4", "demo", 2);
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
async fn a_burst_of_videojobs_announces_each_transition_once() {
    let (client, _serial) = client().await;
    let namespace = "vj-burst";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    // Suspended, so nothing runs: what is tested is the operator under a burst, where
    // Job events reach it before its own status writes reach its cache.
    let mut suspended = spec("demo.mp4", "demo", 2);
    suspended["suspend"] = json!(true);
    let suspended: VideoJobSpec = serde_json::from_value(suspended).unwrap();
    const BURST: usize = 60;
    futures::future::join_all((0..BURST).map(|i| {
        let videojob = VideoJob::new(&format!("burst-{i}"), suspended.clone());
        let videojobs = videojobs.clone();
        async move { videojobs.create(&PostParams::default(), &videojob).await.unwrap() }
    }))
    .await;
    eventually("every VideoJob Suspended", || async {
        let list = videojobs.list(&ListParams::default()).await.ok()?.items;
        let suspended = list.iter().filter(|vj| vj.status.as_ref().is_some_and(|s| s.phase == Phase::Suspended));
        (suspended.count() == BURST).then_some(())
    })
    .await;
    // Give a late duplicate time to show.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let events = events.list(&ListParams::default()).await.unwrap().items;
    let about_videojobs: Vec<&Event> =
        events.iter().filter(|e| e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("VideoJob")).collect();
    let announced: BTreeSet<Option<String>> =
        about_videojobs.iter().map(|e| e.regarding.as_ref().and_then(|r| r.name.clone())).collect();
    assert_eq!(announced.len(), BURST, "an Event for every VideoJob");
    assert_eq!(about_videojobs.len(), BURST, "one Event per VideoJob (its one transition, to Suspended)");
}

#[tokio::test]
async fn killing_the_leader_hands_over_to_the_other_replica_and_work_continues() {
    let (client, _serial) = client().await;
    let old_leader = leader(&client).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    // A forced delete: the process is killed, the lease is not released.
    pods.delete(&leader_pod(&client).await, &DeleteParams { grace_period_seconds: Some(0), ..DeleteParams::default() })
        .await
        .unwrap();

    eventually("a new leader", || {
        let client = client.clone();
        let old_leader = old_leader.clone();
        async move { Some(leader(&client).await).filter(|l| *l != old_leader) }
    })
    .await;

    let namespace = "vj-failover";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    apply_videojob(namespace, "after-failover", spec("demo.mp4", "demo", 1));
    wait_for_phase(&videojobs, "after-failover", Phase::Succeeded).await;
}

#[tokio::test]
async fn a_shard_killed_mid_run_is_retried_and_the_results_hold_no_duplicates() {
    let (client, _serial) = client().await;
    let namespace = "vj-delete";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let mut bench = spec("bench_1080p.mp4", "cuts", 2);
    bench["movie"] = json!({"title": "Bench", "genre": "Drama", "director": "B. Editor"});
    apply_videojob(namespace, "bench", bench);
    let victim = eventually("a running shard", || async {
        let list = pods.list(&ListParams::default().labels("cameo.dev/videojob=bench")).await.ok()?;
        list.items.into_iter().find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    })
    .await;
    pods.delete(&victim.name_any(), &DeleteParams::default()).await.unwrap();

    let vj = wait_for_phase(&videojobs, "bench", Phase::Succeeded).await;
    let job = jobs.get("bench-detect").await.unwrap();
    assert!(
        job.status.and_then(|s| s.failed).unwrap_or(0) >= 1,
        "the killed shard counted as a failure and was retried"
    );
    assert_eq!(vj.status.unwrap().shards.succeeded, 2);
    let document = result_document(namespace, "bench");
    let names: Vec<&str> = document.people.iter().map(|p| p.name.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "a person appears once: {names:?}");
    assert!(mismatches(&document, &truth("bench_1080p"), &["Barack Obama", "Joe Biden"]).is_empty());
    let items = movie_items("bench_1080p.mp4");
    assert_eq!(items.len(), 1 + document.people.len() + document.unknown.len());

    // Deleting a VideoJob removes its Jobs and pods (while they run, too).
    apply_videojob(namespace, "long", spec("bench_1080p.mp4", "cuts", 2));
    eventually("running shard pods", || async {
        let list = pods.list(&ListParams::default().labels("cameo.dev/videojob=long")).await.ok()?;
        let running =
            list.items.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"));
        (running.count() == 2).then_some(())
    })
    .await;
    videojobs.delete("long", &DeleteParams::default()).await.unwrap();
    eventually("the Job and its pods to be gone", || async {
        let job = jobs.get_opt("long-detect").await.ok()?;
        let left = pods.list(&ListParams::default().labels("cameo.dev/videojob=long")).await.ok()?.items.len();
        (job.is_none() && left == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rerunning_a_videojob_rewrites_the_same_items_and_every_index_answers() {
    let (client, _serial) = client().await;
    let namespace = "vj-rerun";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let mut cuts = spec("cuts.mp4", "cuts", 2);
    cuts["movie"] = json!({"title": "Cuts", "genre": "Thriller", "director": "C. Cutter", "year": 2025});
    cuts["ttlSecondsAfterFinished"] = json!(8);
    apply_videojob(namespace, "cuts", cuts.clone());
    wait_for_phase(&videojobs, "cuts", Phase::Succeeded).await;
    let first = movie_items("cuts.mp4");
    let first_document = result_document(namespace, "cuts");
    // ttlSecondsAfterFinished: the finished VideoJob deletes itself.
    eventually("the finished VideoJob to expire", || async {
        videojobs.get_opt("cuts").await.ok()?.is_none().then_some(())
    })
    .await;

    apply_videojob(namespace, "cuts", cuts);
    wait_for_phase(&videojobs, "cuts", Phase::Succeeded).await;
    let second = movie_items("cuts.mp4");
    let without_time = |items: &[Item]| {
        let mut items: Vec<Vec<(String, String)>> = items
            .iter()
            .map(|i| {
                let mut fields: Vec<(String, String)> = i
                    .iter()
                    // The movie's version counts its writes: the rerun's is the next.
                    .filter(|(k, _)| !k.starts_with("processed") && *k != "finishedAt" && *k != "version")
                    .map(|(k, v)| (k.clone(), format!("{v:?}")))
                    .collect();
                fields.sort();
                fields
            })
            .collect();
        items.sort();
        items
    };
    assert_eq!(without_time(&second), without_time(&first), "the rerun wrote the same items (but its submission time)");
    let version = |items: &[Item]| items.iter().find_map(|i| i.get("version")?.as_n().ok()?.parse::<u64>().ok());
    assert_eq!(version(&second), version(&first).map(|v| v + 1), "one version past the first run's");
    // The same groups by the same ids, and their faces replaced in place.
    let second_document = result_document(namespace, "cuts");
    let ids = |d: &cameo_model::results::ResultsDocument| -> Vec<String> {
        d.people.iter().chain(&d.unknown).map(|g| g.id.clone()).collect()
    };
    assert_eq!(ids(&second_document), ids(&first_document));
    assert_faces_written(namespace, "cuts", &second_document);

    // Every index answers its question across the movies these tests analysed.
    let titles = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
    assert_eq!(query_index("byGenre", "genre", "Thriller"), titles(&["Cuts"]));
    assert_eq!(query_index("byDirector", "director", "C. Cutter"), titles(&["Cuts"]));
    let today = jiff::Timestamp::now().to_string()[..10].to_string();
    assert!(query_index("byProcessedDay", "processedDay", &today).contains("Cuts"));
    assert!(query_index("byActor", "actorName", "Joe Biden").contains("Cuts"));
    assert!(
        !query_index("byActor", "actorName", "Joe Biden").contains("Demo"),
        "Biden is not enrolled in Demo's gallery"
    );
    assert!(query_index("byActor", "actorName", "Barack Obama").is_superset(&titles(&["Cuts"])));
    let actors = with_aws(|aws| {
        let query = aws
            .dynamodb
            .query()
            .table_name(TABLE)
            .index_name("byEntityType")
            .key_condition_expression("entityType = :t");
        let out =
            aws.block_on(query.expression_attribute_values(":t", AttributeValue::S("ACTOR".into())).send()).unwrap();
        out.items().iter().map(|i| text(i, "name")).collect::<BTreeSet<String>>()
    });
    assert!(actors.contains("Barack Obama") && actors.contains("Joe Biden"), "{actors:?}");
}

/// The merge wrote every face crop the document refers to beside it, from the candidates
/// of both shards, and nothing else there; and the groups' templates.
fn assert_faces_written(namespace: &str, name: &str, document: &cameo_model::results::ResultsDocument) {
    let folder = format!("results/{namespace}/{name}/");
    let groups: Vec<_> = document.people.iter().chain(&document.unknown).collect();
    let mut referred: BTreeSet<String> = BTreeSet::new();
    for group in &groups {
        assert!(!group.crops.is_empty() && group.thumbnail.as_ref() == group.crops.first(), "{}", group.name);
        referred.extend(group.crops.iter().map(|path| format!("{folder}{path}")));
        referred.extend(group.appearances.iter().map(|a| format!("{folder}{}", a.crop.as_ref().expect("a crop"))));
    }
    let listed = format!("{folder}faces/");
    let written: BTreeSet<String> =
        with_aws(move |aws| aws.list(&S3Uri::new(PROCESSED, listed)).unwrap()).into_iter().collect();
    assert_eq!(written, referred, "the faces written are exactly those the document refers to");
    // Of two shards, the first decodes half the video and 3 s more: a face after that came
    // from the second shard's candidates.
    let second_shard_only = document.video.duration_seconds / 2.0 + 3.0;
    assert!(groups.iter().flat_map(|g| &g.appearances).any(|a| a.start_seconds > second_shard_only));
    let key = format!("templates/{namespace}/{name}.json");
    let templates = with_aws(move |aws| aws.get(&S3Uri::new(PROCESSED, key)).unwrap()).expect("the templates");
    let templates: cameo_model::templates::TemplatesDocument = serde_json::from_slice(&templates).unwrap();
    let ids: Vec<&String> = groups.iter().map(|g| &g.id).collect();
    assert_eq!(templates.groups.iter().map(|g| &g.id).collect::<Vec<_>>(), ids);
    assert!(templates.groups.iter().all(|g| !g.embeddings.is_empty() && g.embeddings[0].embedding.len() == 128));
}

/// The pods of one of a VideoJob's Jobs.
async fn job_pods(pods: &Api<Pod>, job: &str) -> Vec<Pod> {
    let selector = format!("batch.kubernetes.io/job-name={job}");
    pods.list(&ListParams::default().labels(&selector)).await.map(|l| l.items).unwrap_or_default()
}

async fn wait_for_waiting(api: &Api<VideoJob>, name: &str, reason: &str) -> VideoJob {
    eventually(&format!("{name} waiting with reason {reason}"), || async {
        let vj = api.get_opt(name).await.ok().flatten()?;
        let status = vj.status.as_ref()?;
        let waiting = status.conditions.iter().find(|c| c.type_ == "Waiting")?;
        (waiting.status == "True" && waiting.reason == reason && status.reason.as_deref() == Some(reason)).then_some(vj)
    })
    .await
}

/// The reasons of the Warning Events about `name`, as `kubectl get events` lists them.
fn warnings(namespace: &str, name: &str) -> String {
    let selector = format!("involvedObject.name={name},type=Warning");
    ok(kubectl(
        &["get", "events", "-n", namespace, "--field-selector", &selector, "-o", "jsonpath={.items[*].reason}"],
        None,
    ))
}

/// A Job's suspend, written the way Kueue writes it: another field manager, a merge patch.
async fn queue_sets_suspend(jobs: &Api<Job>, name: &str, suspend: bool) {
    let params = PatchParams { field_manager: Some("kueue-admission".into()), ..PatchParams::default() };
    jobs.patch(name, &params, &Patch::Merge(json!({"spec": {"suspend": suspend}}))).await.unwrap();
}

async fn job_suspended(jobs: &Api<Job>, name: &str) -> bool {
    jobs.get(name).await.unwrap().spec.and_then(|s| s.suspend).unwrap_or(false)
}

#[tokio::test]
async fn a_queue_that_suspends_and_resumes_the_job_is_left_alone_and_the_user_still_pauses_it() {
    let (client, _serial) = client().await;
    let namespace = "vj-queue";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    // No node has this label: the pods stay Pending, so the Job never finishes under the test.
    let mut queued = spec("demo.mp4", "demo", 1);
    queued["nodeSelector"] = json!({"cameo.dev/pool": "h100"});
    queued["queueName"] = json!("team-a");
    queued["podLabels"] = json!({"cost-centre": "media-42"});
    queued["podAnnotations"] = json!({"example.com/owner": "media"});
    apply_videojob(namespace, "queued", queued);

    // The scheduler's reason reaches the VideoJob, its reason column and an Event.
    let vj = wait_for_waiting(&videojobs, "queued", "Unschedulable").await;
    let message = &condition(&vj, "Waiting").message;
    assert!(message.contains("didn't match Pod's node affinity/selector"), "{message}");
    let table = ok(kubectl(&["get", "vj", "queued", "-n", namespace], None));
    assert!(table.contains("REASON") && table.contains("Unschedulable"), "{table}");
    let job = jobs.get("queued-detect").await.unwrap();
    assert_eq!(job.labels()["kueue.x-k8s.io/queue-name"], "team-a");
    let template = job.spec.unwrap().template.metadata.unwrap();
    assert_eq!(template.labels.unwrap()["cost-centre"], "media-42");
    let annotations = template.annotations.unwrap();
    assert_eq!(
        (annotations["example.com/owner"].as_str(), annotations["karpenter.sh/do-not-disrupt"].as_str()),
        ("media", "true")
    );

    // The queue preempts: the Job is suspended by another manager, and stays so.
    queue_sets_suspend(&jobs, "queued-detect", true).await;
    wait_for_waiting(&videojobs, "queued", "Queued").await;
    eventually("the preempted shard pod to go", || async {
        job_pods(&pods, "queued-detect").await.is_empty().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(job_suspended(&jobs, "queued-detect").await, "the operator took back the queue's suspend");

    // The queue admits it again: the operator leaves that alone too.
    queue_sets_suspend(&jobs, "queued-detect", false).await;
    wait_for_waiting(&videojobs, "queued", "Unschedulable").await;
    assert!(!job_suspended(&jobs, "queued-detect").await);

    // The user pauses and resumes the VideoJob: both reach the Job.
    let patch = |suspend: bool| json!({"spec": {"suspend": suspend}});
    videojobs.patch("queued", &PatchParams::default(), &Patch::Merge(patch(true))).await.unwrap();
    wait_for_phase(&videojobs, "queued", Phase::Suspended).await;
    assert!(job_suspended(&jobs, "queued-detect").await, "the user's suspend reached the Job");
    videojobs.patch("queued", &PatchParams::default(), &Patch::Merge(patch(false))).await.unwrap();
    eventually("the user's resume to reach the Job", || async {
        (!job_suspended(&jobs, "queued-detect").await).then_some(())
    })
    .await;
    let events = warnings(namespace, "queued");
    assert!(events.contains("Unschedulable") && events.contains("Queued"), "events: {events}");
    videojobs.delete("queued", &DeleteParams::default()).await.unwrap();
}

#[tokio::test]
async fn quotas_that_refuse_the_job_or_its_pods_are_said_in_the_status_until_lifted() {
    let (client, _serial) = client().await;
    let namespace = "vj-quota";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let quotas: Api<k8s_openapi::api::core::v1::ResourceQuota> = Api::namespaced(client.clone(), namespace);
    let quota = |name: &str, hard: serde_json::Value| {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"hard": hard}})).unwrap()
    };
    let counted = |name: &'static str| {
        let quotas = quotas.clone();
        async move {
            eventually("the quota's usage to be counted", || async {
                quotas.get(name).await.ok()?.status?.used.map(|_| ())
            })
            .await
        }
    };
    quotas.create(&PostParams::default(), &quota("no-jobs", json!({"count/jobs.batch": "0"}))).await.unwrap();
    counted("no-jobs").await;
    apply_videojob(namespace, "capped", spec("demo.mp4", "demo", 1));

    let vj = wait_for_waiting(&videojobs, "capped", "JobRejected").await;
    let message = &condition(&vj, "Waiting").message;
    assert!(message.contains("exceeded quota") && message.contains("count/jobs.batch"), "{message}");
    assert_eq!(vj.status.as_ref().unwrap().phase, Phase::Pending);

    // Jobs allowed, pods not: the Job controller's refusal reaches the VideoJob.
    quotas.create(&PostParams::default(), &quota("no-pods", json!({"pods": "0"}))).await.unwrap();
    counted("no-pods").await;
    quotas.delete("no-jobs", &DeleteParams::default()).await.unwrap();
    eventually("the Job, once the quota is lifted", || async { jobs.get_opt("capped-detect").await.ok().flatten() })
        .await;
    let vj = wait_for_waiting(&videojobs, "capped", "PodCreationFailed").await;
    let message = &condition(&vj, "Waiting").message;
    assert!(message.contains("exceeded quota") && message.contains("pods"), "{message}");
    let events = warnings(namespace, "capped");
    assert!(events.contains("JobRejected") && events.contains("PodCreationFailed"), "events: {events}");
    videojobs.delete("capped", &DeleteParams::default()).await.unwrap();
    quotas.delete("no-pods", &DeleteParams::default()).await.unwrap();
}

/// The PID of the operator process running pod `name` (the node agent runs pods as
/// local processes, each with its pod's POD_NAME).
fn operator_pid(name: &str) -> i32 {
    let wanted = format!("POD_NAME={name}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains("cameo-operator")
                && environ.split(|b| *b == 0).any(|var| var == wanted.as_bytes())
        })
        .unwrap_or_else(|| panic!("no operator process for pod {name}"))
}

fn signal(pid: i32, signal: &str) {
    ok(stack::run("kill", &[&format!("-{signal}"), &pid.to_string()], None));
}

#[tokio::test]
async fn a_frozen_leader_stops_before_the_standby_starts_and_writes_nothing_when_it_wakes() {
    let (client, _serial) = client().await;
    let namespace = "vj-frozen";
    let videojobs: Api<VideoJob> = Api::namespaced(client.clone(), namespace);
    let frozen = leader(&client).await;
    let pid = operator_pid(&leader_pod(&client).await);
    // SIGSTOP: a hung process, as a stalled node or a long pause makes one; its lease is
    // neither renewed nor released. The chart here: lease 6 s, renew deadline 4 s,
    // renewals every second.
    let stopped = Instant::now();
    signal(pid, "STOP");
    let mut later = spec("demo.mp4", "demo", 1);
    later["suspend"] = json!(true);
    apply_videojob(namespace, "while-frozen", later);
    // Wake it between its renew deadline (at most 4 s after its last renewal) and the
    // earliest the standby may lead (6 s after it last saw the lease change, at least 5 s
    // from now): its watch brings this VideoJob, which nobody has reconciled yet, and its
    // lease is still its own on the server. It must write nothing, and exit.
    tokio::time::sleep(Duration::from_millis(4500).saturating_sub(stopped.elapsed())).await;
    signal(pid, "CONT");
    // The standby, or the frozen pod's restarted container (a new process), leads next.
    let next = eventually("another process to lead", || {
        let (client, frozen) = (client.clone(), frozen.clone());
        async move { Some(leader(&client).await).filter(|l| *l != frozen) }
    })
    .await;
    eventually("the woken leader to exit", || async {
        (!std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")))
        .then_some(())
    })
    .await;
    wait_for_phase(&videojobs, "while-frozen", Phase::Suspended).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let writers: BTreeSet<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("while-frozen"))
        .filter_map(|e| e.reporting_instance.clone())
        .collect();
    assert_eq!(writers, BTreeSet::from([next.clone()]), "only the new leader wrote about the VideoJob");
    assert_eq!(leader(&client).await, next, "the woken process did not take the lease back");
    videojobs.delete("while-frozen", &DeleteParams::default()).await.unwrap();
}
