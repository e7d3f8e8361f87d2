//! `make bench`: the API's latency in process (the router called with API Gateway v2
//! events, as the Lambda runtime calls it) on moto: minting a single PUT, minting a
//! multipart upload of 1,000 parts, and a GSI query; the Lambda zip's size; and the
//! binary's start-up time to its first answered request. Run under `hack/with-cluster`
//! (for moto); prints Markdown.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use cameo_detector::cloud::table::{Provenance, items};
use serde_json::json;
use support::*;

/// p50 and p99 of `rounds` timed calls of `work`, in milliseconds.
async fn latency<F, Fut>(rounds: usize, mut work: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        work().await;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn seed_movies(table: &str, count: usize) {
    let table = table.to_string();
    with_moto(move |aws| {
        for i in 0..count {
            let source = format!("s3://{RAW}/videos/{i:032x}/film.mp4");
            let document = results_document(&source, json!({"title": format!("Film {i}"), "genre": "Drama"}), &[], 0);
            let provenance = Provenance {
                source: &source,
                job: "media/x",
                result_uri: "s3://cameo-processed/results/media/x/result.json",
                processed_at: "2026-12-01T10:00:00Z".parse().unwrap(),
                finished_at: "2026-12-01T10:01:00Z".parse().unwrap(),
            };
            aws.write_items(&table, items(&document, &provenance)).unwrap();
        }
    });
}

/// Seconds from spawning `cameo-api serve` to its first answered `POST /videos`.
async fn start_up(table: &str) -> f64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cameo-api"))
        .env("CAMEO_RAW_BUCKET", RAW)
        .env("CAMEO_PROCESSED_BUCKET", PROCESSED)
        .env("CAMEO_TABLE", table)
        .args(["serve", "--listen", &listen, "--dev-identity", "bench"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let body = json!({"fileName": "a.mp4", "contentType": "video/mp4", "sizeBytes": 10}).to_string();
    let url = format!("http://{listen}/videos");
    loop {
        assert!(start.elapsed() < Duration::from_secs(20), "cameo-api serve never answered");
        if std::net::TcpStream::connect(&listen).is_ok()
            && http("POST", &url, &[], body.clone().into()).await.status == 201
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    seconds
}

#[tokio::main]
async fn main() {
    let table = table("bench");
    let s3 = moto_s3().await;
    let raw = format!("api-bench-{}", uuid::Uuid::new_v4().simple());
    let created = raw.clone();
    with_moto(move |aws| aws.create_bucket(&created).unwrap());
    let mut single = config(&table);
    single.raw_bucket = raw;
    let mut multipart = single.clone();
    multipart.single_put_max_bytes = MIB;
    let (single, _) = router(single, s3.clone()).await;
    let (parts, _) = router(multipart, s3).await;

    let put = json!({"fileName": "film.mp4", "contentType": "video/mp4", "sizeBytes": 50 * MIB}).to_string();
    let (put_p50, put_p99) = latency(300, || async {
        assert_eq!(call(&single, event("POST", "/videos", "", Some(&put), Some("bench"))).await.status, 201);
    })
    .await;
    let thousand = json!({"fileName": "film.mp4", "contentType": "video/mp4", "sizeBytes": 1000 * 8 * MIB}).to_string();
    let answer = call(&parts, event("POST", "/videos", "", Some(&thousand), Some("bench"))).await;
    assert_eq!(answer.json()["upload"]["parts"].as_array().map(Vec::len), Some(1000));
    let response_bytes = answer.body.len();
    let (parts_p50, parts_p99) = latency(30, || async {
        assert_eq!(call(&parts, event("POST", "/videos", "", Some(&thousand), Some("bench"))).await.status, 201);
    })
    .await;

    seed_movies(&table, 250);
    let (query_p50, query_p99) = latency(300, || async {
        let answer = call(&single, event("GET", "/videos", "genre=Drama&limit=25", None, Some("bench"))).await;
        assert_eq!(answer.json()["items"].as_array().map(Vec::len), Some(25));
    })
    .await;

    let mut starts: Vec<f64> = Vec::new();
    for _ in 0..10 {
        starts.push(start_up(&table).await);
    }
    starts.sort_by(f64::total_cmp);

    let zip = std::env::var_os("CAMEO_LAMBDA_ZIP").map(std::path::PathBuf::from);
    let zip_size = zip.as_ref().and_then(|z| std::fs::metadata(z).ok()).map(|m| m.len());

    println!("## cameo-api (in process, moto on 127.0.0.1)\n");
    println!("| request | p50 | p99 |\n|---|---|---|");
    println!("| POST /videos, single PUT (300 calls) | {put_p50:.2} ms | {put_p99:.2} ms |");
    println!(
        "| POST /videos, multipart of 1,000 parts (30 calls; {response_bytes} bytes answered) | {parts_p50:.2} ms | {parts_p99:.2} ms |"
    );
    println!("| GET /videos?genre=…&limit=25 on 250 movies (300 calls) | {query_p50:.2} ms | {query_p99:.2} ms |");
    println!();
    println!(
        "Start-up to the first answered POST /videos (`cameo-api serve`, median of 10): {:.0} ms",
        starts[5] * 1000.0
    );
    match zip_size {
        Some(bytes) => println!("Lambda zip (`make lambda`): {:.2} MiB", bytes as f64 / MIB as f64),
        None => println!("Lambda zip: not built (CAMEO_LAMBDA_ZIP unset or missing; `make lambda` builds it)"),
    }
}
