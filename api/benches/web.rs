//! `make bench`: the web app in Debian's Chromium (web/tests/bench.spec.js) against
//! `cameo-api serve`, s3s-fs behind the CORS proxy and moto: the time until a video's page
//! is usable (the page's own performance measure, `cameo:video`) for a three-hour film
//! with 200 people and 10,000 appearances; and the page's upload throughput beside plain
//! parallel PUTs of the same parts to the same S3. Run under `hack/with-cluster` (for
//! moto); prints Markdown.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;

use cameo_detector::cloud::aws::Aws;
use cameo_detector::cloud::merge::put_results;
use cameo_detector::cloud::shard::JobOutput;
use cameo_detector::cloud::table::{Provenance, items};
use cameo_model::results::ResultsDocument;
use cameo_model::table::movie_id;
use serde_json::json;
use support::app_server::{AppServer, playwright, strict_env};
use support::cors_proxy::CorsProxy;
use support::*;

const HOURS: f64 = 3.0;
const PEOPLE: usize = 200;
const APPEARANCES: usize = 10_000;
/// The upload measured: 16 parts of 8 MiB.
const UPLOAD_BYTES: usize = 128 * 1024 * 1024;

/// A three-hour film's results: 150 known people and 50 unknown faces, 50 appearances
/// each, spread over the film.
fn film(source: &str) -> ResultsDocument {
    let known: Vec<(String, f64, f64)> = (0..150).map(|i| (format!("Person {i:03}"), 0.0, 0.0)).collect();
    let known: Vec<(&str, f64, f64)> = known.iter().map(|(n, s, f)| (n.as_str(), *s, *f)).collect();
    let mut document = results_document(source, json!({"title": "Three Hours"}), &known, PEOPLE - known.len());
    let duration = HOURS * 3600.0;
    document.video.duration_seconds = duration;
    let each = APPEARANCES / PEOPLE;
    for (p, group) in document.people.iter_mut().chain(document.unknown.iter_mut()).enumerate() {
        let template = group.appearances[0].clone();
        group.appearances = (0..each)
            .map(|a| {
                let start = ((a * PEOPLE + p) as f64 * duration / APPEARANCES as f64).floor();
                let mut appearance = template.clone();
                appearance.start_seconds = start;
                appearance.end_seconds = start + 4.0;
                appearance.sample.seconds = start;
                appearance
            })
            .collect();
        group.first_seen_seconds = group.appearances[0].start_seconds;
        group.screen_time_seconds = 4.0 * each as f64;
        group.id = format!("g{p}");
    }
    document
}

#[tokio::main]
async fn main() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = CorsProxy::start(&s3.endpoint, &format!("http://127.0.0.1:{port}")).await;
    let table = table("web-bench");
    let source = format!("s3://{RAW}/videos/{:032x}/three-hours.mp4", 7);
    let document = film(&source);
    let json_bytes = serde_json::to_vec(&document).unwrap().len();
    let (strict, written, table_name) = (s3.client().await, source.clone(), table.clone());
    tokio::task::spawn_blocking(move || {
        let mut aws = Aws::from_env().expect("AWS clients");
        aws.s3 = strict;
        put_results(&aws, &JobOutput::new(PROCESSED, "", "media/three-hours"), &document).unwrap();
        let provenance = Provenance {
            source: &written,
            job: "media/three-hours",
            result_uri: &format!("s3://{PROCESSED}/results/media/three-hours/result.json"),
            processed_at: "2026-12-06T09:00:00Z".parse().unwrap(),
            finished_at: "2026-12-06T09:00:00Z".parse().unwrap(),
        };
        aws.write_items(&table_name, items(&document, &provenance)).unwrap();
    })
    .await
    .unwrap();
    let server =
        AppServer::start(Path::new(env!("CARGO_BIN_EXE_cameo-api")), port, &strict_env(&table, &proxy.endpoint));
    let files = tempfile::tempdir().unwrap();
    let upload = files.path().join("bench.mp4");
    std::fs::write(&upload, vec![7u8; UPLOAD_BYTES]).unwrap();

    let run = playwright(
        "bench.spec.js",
        &[
            ("CAMEO_APP_URL", &server.url),
            ("CAMEO_BENCH_MOVIE", &movie_id(&source)),
            ("CAMEO_UPLOAD_FILE", upload.to_str().unwrap()),
            ("CAMEO_UPLOAD_BYTES", &UPLOAD_BYTES.to_string()),
        ],
    );
    let said = String::from_utf8_lossy(&run.stdout);
    let line = said.lines().find_map(|l| l.trim().strip_prefix("cameo-bench ")).expect("the bench printed its numbers");
    let numbers: serde_json::Value = serde_json::from_str(line).unwrap();
    let ms = |key: &str| numbers[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let page = median(ms("videoPageMs"));
    let app = median(ms("appUploadMs"));
    let plain = median(ms("plainUploadMs"));
    let mib = UPLOAD_BYTES as f64 / (1024.0 * 1024.0);
    println!("## The web app (Debian's Chromium; s3s-fs behind the CORS proxy, on this machine)\n");
    println!("| measure | value |\n|---|---|");
    println!(
        "| video page usable, 3 h film, {PEOPLE} people, {APPEARANCES} appearances ({:.1} MB of results), median of 3 | {page:.0} ms |",
        json_bytes as f64 / 1e6
    );
    println!(
        "| upload through the page, {mib:.0} MiB in 8 MiB parts, 4 at once, median of 3 | {app:.0} ms ({:.0} MiB/s) |",
        mib / (app / 1000.0)
    );
    println!(
        "| plain parallel PUTs of the same parts (fetch, 4 at once), median of 3 | {plain:.0} ms ({:.0} MiB/s) |",
        mib / (plain / 1000.0)
    );
    println!("| the page's upload against plain PUTs | {:.2}x the time (goal: within 1.10x) |", app / plain);
}
