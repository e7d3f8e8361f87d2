//! The API's test stack: a strict S3 (s3s-fs, which checks SigV4 and presigned URLs) on
//! 127.0.0.1, moto's DynamoDB (from `hack/with-cluster`) with a table of the test's own,
//! the router called with real API Gateway HTTP API (payload 2.0) events, and a plain
//! HTTP client for the presigned URLs.
#![allow(dead_code)] // each test file uses a part

pub mod app_server;
pub mod cors_proxy;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{Credentials, Region};
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use cameo_api::app::App;
use cameo_api::config::Config;
use cameo_detector::cloud::aws::Aws;
use cameo_detector::detect::DetectorConfig;
use cameo_detector::models::Models;
use cameo_detector::runtime::{DeviceRequest, Runtime};
use cameo_model::results::ResultsDocument;
use cameo_model::table::TableDefinition;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const RAW: &str = "cameo-raw";
pub const PROCESSED: &str = "cameo-processed";
const ACCESS_KEY: &str = "cameo-strict";
const SECRET_KEY: &str = "cameo-strict-secret";
pub const MIB: u64 = 1024 * 1024;

/// s3s-fs on a free loopback port, stopped (by PID) when dropped.
pub struct StrictS3 {
    child: Child,
    pub endpoint: String,
    pub root: tempfile::TempDir,
}

impl StrictS3 {
    pub fn start() -> StrictS3 {
        let binary = std::env::var_os("CAMEO_S3S_FS")
            .map(PathBuf::from)
            .expect("CAMEO_S3S_FS names the s3s-fs binary: run the tests with `make test` (hack/setup.sh installs it)");
        assert!(binary.exists(), "{} is missing: run `make setup`", binary.display());
        let root = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", ACCESS_KEY])
            .args(["--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not listen on 127.0.0.1:{port} within 15 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        StrictS3 { child, endpoint: format!("http://127.0.0.1:{port}"), root }
    }

    pub async fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&cameo_api::aws::shared_config().await)
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests"));
        cameo_api::aws::s3_client(config, true)
    }

    /// The raw and processed buckets.
    pub async fn create_buckets(&self) {
        let s3 = self.client().await;
        for bucket in [RAW, PROCESSED] {
            s3.create_bucket().bucket(bucket).send().await.expect("bucket created on s3s-fs");
        }
    }

    /// Every file s3s-fs holds for `bucket`, and every multipart upload in progress.
    pub fn files(&self, bucket: &str) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.root.path().join(bucket), self.root.path(), &mut files);
        // Multipart state lives at the root: `.upload-<id>.json`, `.upload_id-<id>.part-<n>`.
        for entry in std::fs::read_dir(self.root.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".upload") {
                files.push(name);
            }
        }
        files.sort();
        files
    }
}

impl Drop for StrictS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The detector's blocking AWS helpers (on moto) run on a thread of their own.
pub fn with_moto<T: Send + 'static>(work: impl FnOnce(&Aws) -> T + Send + 'static) -> T {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: the API tests need moto; run them under hack/with-cluster (make test)"
    );
    std::thread::spawn(move || work(&Aws::from_env().expect("AWS clients for moto"))).join().expect("AWS work")
}

/// The real models, from where `make test` put them.
pub fn models() -> (Runtime, Models) {
    let library = std::env::var_os("ORT_DYLIB_PATH").expect("ORT_DYLIB_PATH is set by make test");
    let dir = std::env::var_os("CAMEO_MODELS_DIR").expect("CAMEO_MODELS_DIR is set by make test");
    let runtime = Runtime::new(std::path::Path::new(&library), DeviceRequest::Cpu, 1).expect("ONNX Runtime loads");
    let models = Models::load(&runtime, std::path::Path::new(&dir), DetectorConfig::default(), None).expect("models");
    (runtime, models)
}

/// A fresh MovieEntities table on moto, named for the test.
pub fn table(name: &str) -> String {
    let table = format!("api-{name}-{}", uuid::Uuid::new_v4().simple());
    let created = table.clone();
    with_moto(move |aws| aws.create_table(&TableDefinition::load(), &created).expect("table created"));
    table
}

pub fn config(table: &str) -> Config {
    Config {
        raw_bucket: RAW.into(),
        processed_bucket: PROCESSED.into(),
        table: table.into(),
        single_put_max_bytes: 100 * MIB,
        max_upload_bytes: 50 * 1024 * MIB,
        upload_url_ttl_seconds: 3600,
        inline_result_max_bytes: 4 * MIB,
        result_url_ttl_seconds: 300,
        media_url_ttl_seconds: 900,
        gallery_prefix: "gallery/".into(),
        suggestions_prefix: "suggestions/".into(),
        gallery_queue_url: None,
        curation_queue_url: None,
        max_photo_bytes: 10 * MIB,
        ingest_queue_url: None,
        app_dir: None,
        sign_in: Default::default(),
    }
}

/// moto's DynamoDB, from the environment `hack/with-cluster` sets.
pub async fn moto_dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&cameo_api::aws::shared_config().await)
}

/// moto's SQS.
pub async fn moto_sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&cameo_api::aws::shared_config().await)
}

/// moto's S3, addressed by path.
pub async fn moto_s3() -> aws_sdk_s3::Client {
    let shared = cameo_api::aws::shared_config().await;
    cameo_api::aws::s3_client(aws_sdk_s3::config::Builder::from(&shared), true)
}

/// The router on `s3` and moto's DynamoDB, with no development identity: callers are
/// whoever the API Gateway event names.
pub async fn router(config: Config, s3: aws_sdk_s3::Client) -> (Router, Arc<App>) {
    // The API's logs (its upstream errors in full) show with a failing test's output.
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("cameo_api=debug").try_init();
    let shared = cameo_api::aws::shared_config().await;
    let app = Arc::new(App {
        config,
        s3,
        dynamodb: aws_sdk_dynamodb::Client::new(&shared),
        sqs: aws_sdk_sqs::Client::new(&shared),
        dev_identity: None,
    });
    (cameo_api::routes::router(app.clone()), app)
}

/// Every scope a token can carry.
pub const ALL_SCOPES: [&str; 3] = ["cameo/read", "cameo/upload", "cameo/curate"];

/// An API Gateway HTTP API event (payload format 2.0) as API Gateway sends it, with a JWT
/// authorizer's claims when `subject` is given, holding every scope.
pub fn event(method: &str, path: &str, query: &str, body: Option<&str>, subject: Option<&str>) -> String {
    scoped_event(method, path, query, body, subject.map(|s| (s, &ALL_SCOPES[..])), &[])
}

/// An event from `caller` (subject, scopes) with extra headers.
pub fn scoped_event(
    method: &str,
    path: &str,
    query: &str,
    body: Option<&str>,
    caller: Option<(&str, &[&str])>,
    headers: &[(&str, &str)],
) -> String {
    let authorizer = caller.map(|(sub, scopes)| {
        serde_json::json!({"jwt": {"claims": {"sub": sub, "iss": "https://idp.example.com", "aud": "cameo"}, "scopes": scopes}})
    });
    let mut context = serde_json::json!({
        "accountId": "123456789012", "apiId": "cameo", "domainName": "api.example.com", "domainPrefix": "api",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.7", "userAgent": "cameo-tests"},
        "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "02/Dec/2026:10:00:00 +0000",
        "timeEpoch": 1_796_205_600_000_i64
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    let mut all_headers =
        serde_json::json!({"content-type": "application/json", "host": "api.example.com", "user-agent": "cameo-tests"});
    for (name, value) in headers {
        all_headers[*name] = serde_json::Value::String(value.to_string());
    }
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error` code of an error answer.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends an API Gateway event through the router, as the Lambda runtime would.
pub async fn call(router: &Router, event: String) -> Answer {
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway v2 event");
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer { status: parts.status, headers: parts.headers, body: body.collect().await.unwrap().to_bytes().to_vec() }
}

/// A request from the caller `ana`, with a JSON body unless it is null.
pub async fn call_as_ana(router: &Router, method: &str, path: &str, body: serde_json::Value) -> Answer {
    let body = (!body.is_null()).then(|| body.to_string());
    call(router, event(method, path, "", body.as_deref(), Some("ana"))).await
}

/// A plain HTTP request to a presigned URL; the Content-Length is the body's own.
pub async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("content-length")) {
        request = request.header(*name, *value);
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).unwrap();
    let response = client.request(request).await.expect("the strict S3 answers");
    let (parts, body) = response.into_parts();
    Answer { status: parts.status, headers: parts.headers, body: body.collect().await.unwrap().to_bytes().to_vec() }
}

/// PUTs `body` to an upload the API minted for one PUT (`minted["upload"]`: its URL, with
/// exactly the headers it signed), as a client does.
pub async fn put_minted(minted: &serde_json::Value, body: Vec<u8>) -> Answer {
    let headers: std::collections::BTreeMap<String, String> =
        serde_json::from_value(minted["upload"]["headers"].clone()).expect("the minted upload's headers");
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    http("PUT", minted["upload"]["url"].as_str().expect("the minted upload's URL"), &headers, body).await
}

/// A results document as the merge writes it: the enrolled `people` (name, screen time,
/// first seen) and `unknown` strangers, each on screen once.
pub fn results_document(
    source: &str,
    movie: serde_json::Value,
    people: &[(&str, f64, f64)],
    unknown: usize,
) -> ResultsDocument {
    let person = |(name, seconds, first): (String, f64, f64)| {
        serde_json::json!({"name": name, "screenTimeSeconds": seconds, "firstSeenSeconds": first, "confidence": 0.7,
            "appearances": [{"startSeconds": first, "endSeconds": first + seconds, "confidence": 0.7, "faces": 9,
                             "sample": {"seconds": first, "bbox": {"x": 100.0, "y": 80.0, "width": 64.0, "height": 64.0}}}]})
    };
    let known = people.iter().map(|&(name, seconds, first)| person((name.to_string(), seconds, first)));
    let strangers = (1..=unknown).map(|i| person((format!("unknown-{i}"), 2.0, i as f64)));
    let model = serde_json::json!({"name": "m", "sha256": "0"});
    serde_json::from_value(serde_json::json!({
        "schemaVersion": "cameo.dev/results/v1",
        "video": {"source": source, "durationSeconds": 24.0, "width": 1280, "height": 720, "frameRate": 25.0,
                  "codec": "h264", "sampledFps": 2.0, "framesDecoded": 600, "framesAnalysed": 48, "facesDetected": 61},
        "movie": movie,
        "models": {"detector": model, "recognizer": model, "executionProvider": "cpu"},
        "parameters": {"matchThreshold": 0.363, "matchMargin": 0.05, "minFaceSizePx": 27.0,
                       "detectionScoreThreshold": 0.8, "gapToleranceSeconds": 1.5, "linkSimilarity": 0.45},
        "people": known.collect::<Vec<_>>(),
        "unknown": strangers.collect::<Vec<_>>()
    }))
    .expect("a results document")
}
