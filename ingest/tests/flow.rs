//! From upload to results with no kubectl, on the local stack (run with
//! `hack/with-cluster`; `make test` does): moto's S3 sends the raw bucket's
//! `s3:ObjectCreated:*` events under `videos/` to an SQS queue with a dead-letter queue,
//! all made by Terraform (terraform/examples/local-stack, stack `flow`); the chart is
//! installed with the ingest enabled (two replicas), the curation worker and the operator,
//! run as pods by the node agent; the API's router answers API Gateway events in this
//! process, as its Lambda would. A user's calls go to the API only; kubectl and the metrics are read to
//! check what happened behind it.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_api::config::Config;
use cameo_detector::evaluate::mismatches;
use cameo_detector::results::ResultsDocument;
use cameo_ingest::videojob::VIDEO_ID_LABEL;
use cameo_operator::crd::VideoJob;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use support::{MIB, call_as_ana, http};

mod queues;
#[path = "../../operator/tests/stack/mod.rs"]
mod stack;
#[path = "../../api/tests/support/mod.rs"]
mod support;

/// The data stack terraform/examples/local-stack applied for these tests: the buckets,
/// the table, the upload queue with its dead-letter queue (after 3 receives, with a 5 s
/// visibility timeout) and the raw bucket's notification of uploads under videos/.
const CLOUD: &str = "flow";
const RELEASE: &str = "flow";
const RELEASE_NAMESPACE: &str = "flow-system";
/// Where the ingest creates VideoJobs.
const NAMESPACE: &str = "flow";
const TIMEOUT: Duration = Duration::from_secs(300);
const INGEST_PODS: &str = "app.kubernetes.io/name=cameo-ingest";

/// The gallery in the raw bucket Terraform made; the chart installed, pointed at that stack.
fn installed() -> &'static stack::Cloud {
    static CLOUD_STACK: OnceLock<stack::Cloud> = OnceLock::new();
    CLOUD_STACK.get_or_init(|| {
        let cloud = stack::cloud(CLOUD);
        let raw = cloud.raw_bucket.clone();
        stack::with_aws(move |aws| stack::put_gallery(aws, &raw, "demo"));
        let sets = [
            format!("operator.outputBucket={}", cloud.processed_bucket),
            format!("operator.resultsTable={}", cloud.table),
            "replicaCount=1".into(),
            "ingest.enabled=true".into(),
            format!("ingest.queueUrl={}", cloud.queue_url),
            format!("ingest.gallery=s3://{}/gallery/demo/", cloud.raw_bucket),
            "ingest.waitSeconds=2".into(),
            // The demo (530 KiB) in two shards, so their overlap is decoded; small files in one.
            "ingest.bytesPerShard=300000".into(),
            "curationWorker.enabled=true".into(),
            format!("curationWorker.queueUrl={}", cloud.curation_queue_url),
            "curationWorker.waitSeconds=2".into(),
        ];
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        stack::install_release(RELEASE, RELEASE_NAMESPACE, &[NAMESPACE], &sets);
        cloud
    })
}

/// One test at a time: they share the ingest, the queue and its metrics.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Stack {
    client: Client,
    aws: cameo_ingest::aws::Clients,
    cloud: &'static stack::Cloud,
    router: axum::Router,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

/// The API's configuration on the stack; uploads up to `single_put_max_bytes` take one PUT.
fn api_config(cloud: &stack::Cloud, single_put_max_bytes: u64) -> Config {
    Config {
        raw_bucket: cloud.raw_bucket.clone(),
        processed_bucket: cloud.processed_bucket.clone(),
        table: cloud.table.clone(),
        single_put_max_bytes,
        max_upload_bytes: 1024 * MIB,
        upload_url_ttl_seconds: 3600,
        inline_result_max_bytes: 4 * MIB,
        result_url_ttl_seconds: 300,
        media_url_ttl_seconds: 900,
        gallery_prefix: "gallery/".into(),
        suggestions_prefix: "suggestions/".into(),
        gallery_queue_url: None,
        curation_queue_url: Some(cloud.curation_queue_url.clone()),
        max_photo_bytes: 10 * MIB,
        ingest_queue_url: Some(cloud.queue_url.clone()),
        app_dir: None,
        sign_in: Default::default(),
    }
}

/// The stack for one test; uploads up to `single_put_max_bytes` take one PUT.
async fn stack(single_put_max_bytes: u64) -> Stack {
    let serial = SERIAL.lock().await;
    let cloud = tokio::task::spawn_blocking(installed).await.expect("the stack is set up");
    let (router, _) = support::router(api_config(cloud, single_put_max_bytes), support::moto_s3().await).await;
    Stack {
        client: Client::try_default().await.expect("a client from KUBECONFIG"),
        aws: cameo_ingest::aws::clients().await.expect("AWS clients for moto"),
        cloud,
        router,
        _serial: serial,
    }
}

impl Stack {
    /// `POST /videos`, then the bytes through the minted URL(s), as a client does.
    async fn upload(&self, file_name: &str, bytes: &[u8], movie: Value) -> String {
        let body = json!({"fileName": file_name, "contentType": "video/mp4", "sizeBytes": bytes.len(), "movie": movie});
        let minted = call_as_ana(&self.router, "POST", "/videos", body).await;
        assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
        let minted = minted.json();
        let id = minted["videoId"].as_str().unwrap().to_string();
        let upload = &minted["upload"];
        if upload["method"] == "PUT" {
            let put = support::put_minted(&minted, bytes.to_vec()).await;
            assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
            return id;
        }
        let part_size = upload["partSizeBytes"].as_u64().unwrap() as usize;
        let mut parts = Vec::new();
        for part in upload["parts"].as_array().unwrap() {
            let number = part["partNumber"].as_u64().unwrap() as usize;
            let chunk = bytes[(number - 1) * part_size..(number * part_size).min(bytes.len())].to_vec();
            let put = http("PUT", part["url"].as_str().unwrap(), &[], chunk).await;
            assert_eq!(put.status, 200, "part {number}: {}", String::from_utf8_lossy(&put.body));
            parts.push(json!({"partNumber": number, "etag": put.headers["etag"].to_str().unwrap()}));
        }
        let done = call_as_ana(&self.router, "POST", &format!("/videos/{id}/complete"), json!({"parts": parts})).await;
        assert_eq!(done.status, 200, "{}", String::from_utf8_lossy(&done.body));
        id
    }

    async fn get(&self, path: &str) -> Value {
        let answer = call_as_ana(&self.router, "GET", path, Value::Null).await;
        assert_eq!(answer.status, 200, "GET {path}: {}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// Polls `GET /videos/{id}` until it says `state`; fails at once on another final state.
    async fn wait_for_state(&self, id: &str, state: &str) -> Value {
        self.wait_for(id, &format!("state {state}"), |view| view["state"] == state).await
    }

    /// Polls `GET /videos/{id}` until `done` holds; fails at once when the video reached
    /// a final state without it.
    async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        let mut finished_since = None;
        loop {
            let view = self.get(&format!("/videos/{id}")).await;
            if done(&view) {
                return view;
            }
            let state = view["state"].as_str().unwrap_or_default();
            // The state item may trail the results by a moment, not longer.
            let finished = ["succeeded", "failed", "aborted", "expired"].contains(&state);
            if !finished {
                finished_since = None;
            }
            let stuck = finished && finished_since.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(30);
            if stuck || Instant::now() > deadline {
                let cluster = stack::kubectl(&["get", "vj,jobs,pods", "-n", NAMESPACE, "-o", "wide"], None);
                panic!("video {id} never had {what}: {view:#}\n{}", String::from_utf8_lossy(&cluster.stdout));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn videojobs_of(&self, id: &str) -> Vec<VideoJob> {
        let api: Api<VideoJob> = Api::namespaced(self.client.clone(), NAMESPACE);
        api.list(&ListParams::default().labels(&format!("{VIDEO_ID_LABEL}={id}"))).await.unwrap().items
    }

    async fn all_videojobs(&self) -> Vec<VideoJob> {
        let api: Api<VideoJob> = Api::namespaced(self.client.clone(), NAMESPACE);
        api.list(&ListParams::default()).await.unwrap().items
    }

    /// A metric summed over the ingest replicas.
    async fn ingest_metric(&self, name: &str) -> f64 {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), RELEASE_NAMESPACE);
        let mut total = 0.0;
        for pod in pods.list(&ListParams::default().labels(INGEST_PODS)).await.unwrap() {
            let Some(ip) = pod.status.and_then(|s| s.pod_ip) else { continue };
            let metrics = http("GET", &format!("http://{ip}:8080/metrics"), &[], Vec::new()).await;
            let text = String::from_utf8_lossy(&metrics.body).into_owned();
            total += text
                .lines()
                .filter(|l| l.starts_with(name) && !l.starts_with('#'))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>();
        }
        total
    }

    /// Waits until the upload queue holds no message, visible or in flight.
    async fn queue_drained(&self) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let (visible, in_flight) = queues::message_counts(&self.aws, &self.cloud.queue_url).await;
            let left = visible + in_flight;
            if left == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "the upload queue still holds {left} messages");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn send(&self, body: &str) {
        self.aws.sqs.send_message().queue_url(&self.cloud.queue_url).message_body(body).send().await.unwrap();
    }

    /// Every body in the dead-letter queue, until `wanted` are all there.
    async fn dead_letters_holding(&self, wanted: &[&str]) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        let mut bodies = Vec::new();
        while !wanted.iter().all(|w| bodies.iter().any(|b: &String| b.contains(w))) {
            assert!(Instant::now() < deadline, "the dead letters hold {bodies:#?}, not all of {wanted:?}");
            let received = self
                .aws
                .sqs
                .receive_message()
                .queue_url(&self.cloud.dead_letter_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(600)
                .send()
                .await
                .unwrap();
            bodies.extend(received.messages.unwrap_or_default().into_iter().filter_map(|m| m.body));
        }
        bodies
    }
}

fn testdata_video(name: &str) -> Vec<u8> {
    std::fs::read(stack::testdata().join(name)).expect("make testdata made the video")
}

/// The demo's people, in the results document and in `GET /videos/{id}`.
fn check_results(id: &str, view: &Value, document: &ResultsDocument) {
    let problems = mismatches(document, &stack::truth("demo"), &["Barack Obama", "Eileen Collins", "Tom Hanks"]);
    assert!(problems.is_empty(), "{problems:#?}");
    let people: Vec<&str> =
        view["summary"]["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(people, ["Barack Obama"], "{view:#}");
    assert!(document.video.source.contains(id), "{}", document.video.source);
}

#[tokio::test]
async fn an_upload_through_the_api_is_analysed_and_answered_with_no_kubectl() {
    let stack = stack(100 * MIB).await;
    let movie = json!({"title": "Flow Demo", "genre": "Documentary", "director": "A. Synth", "year": 2026});
    let id = stack.upload("demo film.mp4", &testdata_video("demo.mp4"), movie).await;

    stack.wait_for_state(&id, "succeeded").await;
    let view = stack.wait_for(&id, "its VideoJob's success", |v| v["processing"]["phase"] == "Succeeded").await;
    let document: ResultsDocument = serde_json::from_value(stack.get(&format!("/videos/{id}/result")).await).unwrap();
    check_results(&id, &view, &document);
    assert_eq!(document.movie.as_ref().and_then(|m| m.title.as_deref()), Some("Flow Demo"), "the signed metadata");
    // Each frame counted once, though the shards decode past their boundaries.
    assert!(document.video.frames_analysed <= 50, "24 s at 2 fps: {}", document.video.frames_analysed);

    let obama = stack.get("/actors/Barack%20Obama/videos").await;
    assert!(obama["items"].as_array().unwrap().iter().any(|v| v["videoId"] == id.as_str()), "{obama:#}");
    let latest = stack.get("/results/latest").await;
    assert_eq!(latest["movie"]["title"], "Flow Demo", "the newest result is this one");
    assert_eq!(stack.videojobs_of(&id).await.len(), 1);

    // Everyone's face, as presigned GETs a browser can load, and by the movie id too.
    let faces = stack.get(&format!("/videos/{id}/faces?role=thumbnail&limit=100")).await;
    let thumbnails = faces["items"].as_array().unwrap();
    assert_eq!(thumbnails.len(), document.people.len() + document.unknown.len(), "{faces:#}");
    let jpeg = http("GET", thumbnails[0]["url"].as_str().unwrap(), &[], vec![]).await;
    assert_eq!(jpeg.status, 200);
    assert!(jpeg.body.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
    let source = format!("s3://{}/videos/{id}/demo film.mp4", stack.cloud.raw_bucket);
    let movie_id = cameo_model::table::movie_id(&source);
    let by_movie = stack.get(&format!("/videos/{movie_id}/faces?role=thumbnail&limit=1")).await;
    assert_eq!(by_movie["items"][0]["path"], thumbnails[0]["path"]);
    assert!(by_movie["next"].is_string(), "a page at a time");
    // An export, as a download named after the movie.
    let vtt = call_as_ana(&stack.router, "GET", &format!("/videos/{id}/result?format=vtt"), Value::Null).await;
    assert_eq!(vtt.status, 200);
    assert_eq!(vtt.headers["content-type"], "text/vtt; charset=utf-8");
    assert!(vtt.headers["content-disposition"].to_str().unwrap().contains("filename=\"Flow Demo.vtt\""));
    assert!(String::from_utf8_lossy(&vtt.body).contains("Barack Obama"));

    // Corrected: the face nobody knew at 9 s is named, at once in the video's own answers,
    // and within seconds in the queries, as the curation worker in the cluster rewrites
    // the results document and the items.
    let biden = document.unknown.iter().find(|g| (g.first_seen_seconds - 9.0).abs() < 0.6).expect("a face at 9 s");
    let body = json!({"action": "name", "clusterId": biden.id, "name": "Joe Biden"}).to_string();
    let path = format!("/videos/{id}/curation");
    let event = support::scoped_event(
        "POST",
        &path,
        "",
        Some(&body),
        Some(("ana", &support::ALL_SCOPES)),
        &[("if-match", "\"0\"")],
    );
    let named = support::call(&stack.router, event).await;
    assert_eq!(named.status, 202, "{}", String::from_utf8_lossy(&named.body));
    let now: ResultsDocument = serde_json::from_value(stack.get(&format!("/videos/{id}/result")).await).unwrap();
    assert!(now.people.iter().any(|p| p.name == "Joe Biden"), "read your own writes");
    let started = Instant::now();
    loop {
        let biden = stack.get("/actors/Joe%20Biden/videos").await;
        if biden["items"].as_array().unwrap().iter().any(|v| v["videoId"] == id.as_str()) {
            break;
        }
        assert!(started.elapsed() < TIMEOUT, "the curation worker never rewrote the items: {biden:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let job = view["processing"]["videoJob"].as_str().unwrap().to_string();
    let stored = stack::with_aws({
        let (bucket, key) = (stack.cloud.processed_bucket.clone(), format!("results/{job}/result.json"));
        move |aws| aws.get(&cameo_detector::cloud::s3::S3Uri::new(&bucket, key)).unwrap().unwrap()
    });
    let stored: ResultsDocument = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored.curation.map(|c| c.version), Some(1), "the worker wrote the corrected document");
    assert_eq!(stored.people, now.people, "the one the API answered at once");

    // Analysed again: a new VideoJob whose state replaces the old one's, and whose results
    // come with the correction replayed; asking again while it runs is refused.
    let asked = call_as_ana(&stack.router, "POST", &format!("/videos/{id}/analyse"), Value::Null).await;
    assert_eq!(asked.status, 202, "{}", String::from_utf8_lossy(&asked.body));
    assert_eq!(asked.json()["analysisRun"], 1);
    let rerun = stack
        .wait_for(&id, "a second analysis", |v| {
            v["processing"]["videoJob"] != job.as_str() && v["state"] != "succeeded"
        })
        .await;
    assert!(["queued", "processing"].contains(&rerun["state"].as_str().unwrap()), "{rerun:#}");
    let busy = call_as_ana(&stack.router, "POST", &format!("/videos/{id}/analyse"), Value::Null).await;
    assert_eq!((busy.status.as_u16(), busy.error().as_str()), (409, "conflict"), "one analysis at a time");
    let second = stack
        .wait_for(&id, "the second analysis's success", |v| {
            v["state"] == "succeeded"
                && v["processing"]["phase"] == "Succeeded"
                && v["processing"]["videoJob"] != job.as_str()
        })
        .await;
    assert_eq!(stack.videojobs_of(&id).await.len(), 2, "one VideoJob per analysis");
    let again: ResultsDocument = serde_json::from_value(stack.get(&format!("/videos/{id}/result")).await).unwrap();
    assert!(again.people.iter().any(|p| p.name == "Joe Biden"), "the correction, replayed on the new analysis");
    let second_job = second["processing"]["videoJob"].as_str().unwrap().to_string();

    // Erased: the video, its results (of both analyses), faces, templates, logs, items and
    // corrections, every version.
    let erased = call_as_ana(&stack.router, "DELETE", &format!("/videos/{id}"), Value::Null).await;
    assert_eq!(erased.status, 200, "{}", String::from_utf8_lossy(&erased.body));
    for job in [&job, &second_job] {
        let left = left_of(&stack, &id, job, &source).await;
        assert!(left.is_empty(), "left of {job} after erasure: {left:#?}");
    }
    let gone = call_as_ana(&stack.router, "GET", &format!("/videos/{id}/result"), Value::Null).await;
    assert_eq!(gone.status, 404);
    let again = call_as_ana(&stack.router, "DELETE", &format!("/videos/{id}"), Value::Null).await;
    assert_eq!(again.status, 404, "erased once");
}

/// What is left of a video anywhere: every object version and delete marker under its
/// prefixes in both buckets, and every item of its partitions but the erasure's tombstone
/// (which holds the video id alone).
async fn left_of(stack: &Stack, id: &str, job: &str, source: &str) -> Vec<String> {
    let s3 = &stack.aws.s3;
    let (raw, processed) = (&stack.cloud.raw_bucket, &stack.cloud.processed_bucket);
    let mut left = Vec::new();
    let prefixes = [
        (raw, format!("videos/{id}/")),
        (processed, format!("results/{job}/")),
        (processed, format!("candidates/{job}/")),
        (processed, format!("logs/{job}/")),
        (processed, format!("templates/{job}")),
    ];
    for (bucket, prefix) in prefixes {
        let page = s3.list_object_versions().bucket(bucket).prefix(&prefix).send().await.unwrap();
        let versions = page.versions().iter().filter_map(|v| v.key());
        let markers = page.delete_markers().iter().filter_map(|m| m.key());
        left.extend(versions.chain(markers).map(|key| format!("s3://{bucket}/{key}")));
    }
    let movie_id = cameo_model::table::movie_id(source);
    let partitions = [
        cameo_model::table::movie_pk(source),
        cameo_model::table::video_pk(id),
        cameo_model::curation::ledger::curation_pk(&movie_id),
    ];
    for pk in partitions {
        let query = stack.aws.dynamodb.query().table_name(&stack.cloud.table).key_condition_expression("pk = :pk");
        let items = query.expression_attribute_values(":pk", AttributeValue::S(pk)).send().await.unwrap();
        for item in items.items() {
            let tombstone = item.contains_key("erased") && item.len() == 4;
            if !tombstone {
                left.push(format!("{item:?}"));
            }
        }
    }
    left
}

/// The web app on its own origin (the API's router over HTTP with a development identity,
/// as `cameo-api serve --dev-identity` runs it), in Chromium: the demo uploaded through
/// the page, and the library open beside it following the video through its analysis.
#[tokio::test]
async fn the_web_app_follows_an_upload_through_its_analysis_without_a_reload() {
    let stack = stack(100 * MIB).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let config = Config { app_dir: Some(support::app_server::web().join("app")), ..api_config(stack.cloud, 100 * MIB) };
    let shared = cameo_api::aws::shared_config().await;
    let app = std::sync::Arc::new(cameo_api::app::App {
        config,
        s3: support::moto_s3().await,
        dynamodb: aws_sdk_dynamodb::Client::new(&shared),
        sqs: aws_sdk_sqs::Client::new(&shared),
        dev_identity: cameo_api::identity::Caller::new("ana@example.com".into(), cameo_api::identity::Scope::ALL),
    });
    let server = tokio::spawn(async move { axum::serve(listener, cameo_api::routes::router(app)).await });
    support::app_server::answer_app(&stack.aws.s3, &stack.cloud.raw_bucket, &origin).await;

    let video = stack::testdata().join("demo.mp4");
    let run = tokio::task::spawn_blocking(move || {
        support::app_server::playwright(
            "flow.spec.js",
            &[("CAMEO_APP_URL", origin.as_str()), ("CAMEO_VIDEO_FILE", video.to_str().unwrap())],
        )
    })
    .await;
    server.abort();
    run.expect("the browser test ran");
}

#[tokio::test]
async fn a_multipart_upload_takes_the_same_path_and_its_second_event_is_a_duplicate() {
    // Above 100 KiB a multipart upload, which moto announces twice (Put, then
    // CompleteMultipartUpload) where S3 announces it once: a free duplicate delivery.
    let stack = stack(100 * 1024).await;
    let duplicates_before = stack.ingest_metric("cameo_ingest_duplicates_total").await;
    let id = stack.upload("demo.mp4", &testdata_video("demo.mp4"), json!({"title": "Flow Parts"})).await;

    stack.wait_for_state(&id, "succeeded").await;
    let view = stack.wait_for(&id, "its VideoJob's success", |v| v["processing"]["phase"] == "Succeeded").await;
    let document: ResultsDocument = serde_json::from_value(stack.get(&format!("/videos/{id}/result")).await).unwrap();
    check_results(&id, &view, &document);
    assert_eq!(stack.videojobs_of(&id).await.len(), 1, "two events, one VideoJob");
    stack.queue_drained().await;
    let duplicates = stack.ingest_metric("cameo_ingest_duplicates_total").await - duplicates_before;
    assert!(duplicates >= 1.0, "the second event found the VideoJob there: {duplicates}");
}

#[tokio::test]
async fn the_same_event_delivered_again_and_to_both_replicas_makes_one_videojob() {
    let stack = stack(100 * MIB).await;
    let id = "0123456789abcdef0123456789abcdef";
    let key = format!("videos/{id}/twice.mp4");
    let bytes = vec![0u8; 1000];
    let raw = &stack.cloud.raw_bucket;
    let put = stack.aws.s3.put_object().bucket(raw).key(&key).body(bytes.into()).send().await.unwrap();
    let etag = put.e_tag().unwrap().trim_matches('"').to_string();
    // The event S3 sent, delivered four more times: both replicas get some of them.
    let event = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": raw}, "object": {"key": key, "eTag": etag, "size": 1}}}]})
    .to_string();
    let before = stack.ingest_metric("cameo_ingest_duplicates_total").await;
    for _ in 0..4 {
        stack.send(&event).await;
    }
    stack.queue_drained().await;

    let videojobs = stack.videojobs_of(id).await;
    assert_eq!(videojobs.len(), 1, "{:?}", videojobs.iter().map(|v| v.name_any()).collect::<Vec<_>>());
    let duplicates = stack.ingest_metric("cameo_ingest_duplicates_total").await - before;
    assert!(duplicates >= 4.0, "every delivery after the first is a duplicate: {duplicates}");
}

#[tokio::test]
async fn malformed_messages_and_objects_outside_videos_create_nothing_and_reach_the_dead_letters() {
    let stack = stack(100 * MIB).await;
    stack.queue_drained().await;
    let before: Vec<String> = stack.all_videojobs().await.iter().map(|v| v.name_any()).collect();
    stack.send("this is not an S3 event: cameo-garbage").await;
    // The notification covers videos/ only, so an object elsewhere sends nothing...
    let raw = &stack.cloud.raw_bucket;
    stack.aws.s3.put_object().bucket(raw).key("elsewhere/stray.mp4").body(vec![1; 64].into()).send().await.unwrap();
    // ...but a queue fed by a wider notification would carry its event.
    let stray = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": raw}, "object": {"key": "elsewhere/stray.mp4", "eTag": "e", "size": 64}}}]});
    stack.send(&stray.to_string()).await;

    let dead = stack.dead_letters_holding(&["cameo-garbage", "stray.mp4"]).await;
    assert!(dead.iter().all(|b| !b.contains("s3:TestEvent")), "the test event is no work, not a dead letter");
    stack.queue_drained().await;
    let after: Vec<String> = stack.all_videojobs().await.iter().map(|v| v.name_any()).collect();
    assert_eq!(after, before, "nothing was created");
    assert!(stack.ingest_metric("cameo_ingest_malformed_total{reason=\"not_an_event\"}").await >= 1.0);
    assert!(stack.ingest_metric("cameo_ingest_malformed_total{reason=\"outside_prefix\"}").await >= 1.0);
}

#[tokio::test]
async fn a_non_video_fails_at_once_and_the_api_says_why() {
    let stack = stack(100 * MIB).await;
    let notes = b"minutes of the meeting, not a film\n".repeat(200);
    let id = stack.upload("minutes.mp4", &notes, json!({})).await;

    let view = stack.wait_for_state(&id, "failed").await;
    let reason = view["processing"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("minutes.mp4"), "the reason names the video: {view:#}");
    assert_eq!(view["processing"]["phase"], "Failed");
    assert!(view.get("summary").is_none());
}

#[tokio::test]
async fn the_ingest_killed_in_the_middle_of_a_batch_leaves_one_videojob_per_upload() {
    let stack = stack(100 * MIB).await;
    let bytes = b"not a film either\n".repeat(100);
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(stack.upload(&format!("batch-{i}.mp4"), &bytes, json!({})).await);
        if i == 9 {
            // Both replicas, at once and without a grace period, while events arrive.
            stack::ok(stack::kubectl(
                &[
                    "delete",
                    "pod",
                    "-n",
                    RELEASE_NAMESPACE,
                    "-l",
                    INGEST_PODS,
                    "--grace-period=0",
                    "--force",
                    "--wait=false",
                ],
                None,
            ));
        }
    }
    stack.queue_drained().await;
    for id in &ids {
        let deadline = Instant::now() + TIMEOUT;
        while stack.videojobs_of(id).await.is_empty() {
            assert!(Instant::now() < deadline, "upload {id} never got its VideoJob");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(stack.videojobs_of(id).await.len(), 1, "upload {id}");
    }
    let pods: Api<Pod> = Api::namespaced(stack.client.clone(), RELEASE_NAMESPACE);
    let running = pods.list(&ListParams::default().labels(INGEST_PODS)).await.unwrap().items;
    assert!(running.iter().all(|p| p.metadata.deletion_timestamp.is_none()), "the replicas were replaced");
}

#[tokio::test]
async fn the_ingest_may_create_list_and_watch_videojobs_in_its_namespace_and_nothing_else() {
    let _stack = stack(100 * MIB).await;
    let account = format!("--as=system:serviceaccount:{RELEASE_NAMESPACE}:{RELEASE}-cameo-ingest");
    let can = |verb: &str, resource: &str, namespace: &str| {
        let out = stack::kubectl(&["auth", "can-i", verb, resource, "-n", namespace, &account], None);
        String::from_utf8_lossy(&out.stdout).trim() == "yes"
    };
    for verb in ["create", "list", "watch"] {
        assert!(can(verb, "videojobs.cameo.dev", NAMESPACE), "{verb} VideoJobs in {NAMESPACE}");
    }
    for verb in ["update", "patch", "delete", "get"] {
        assert!(!can(verb, "videojobs.cameo.dev", NAMESPACE), "{verb} VideoJobs");
    }
    assert!(!can("create", "videojobs.cameo.dev", "default"), "no rights outside its namespace");
    assert!(
        !can("create", "jobs.batch", NAMESPACE) && !can("get", "secrets", NAMESPACE) && !can("list", "pods", NAMESPACE)
    );
}
