//! The web app in a real browser (web/tests/app.spec.js: Playwright on Debian's Chromium)
//! against the real local pieces: `cameo-api serve` with the app's files and a
//! development identity, a strict S3 (s3s-fs, which checks every signature) behind the
//! CORS proxy a browser needs, moto's DynamoDB, and a real analysis of the demo video
//! written as the merge writes it. The page uploads a video of several parts, is reloaded
//! mid-way and resumes; here the object is checked byte for byte, and no part S3 had was
//! sent again.

#[path = "support/demo.rs"]
mod demo;
mod support;

use std::path::{Path, PathBuf};

use cameo_detector::cloud::aws::Aws;
use demo::{Analyse, Merged, analysed, write_merged_with};
use serde_json::{Value, json};
use support::app_server::{AppServer, playwright, strict_env};
use support::cors_proxy::CorsProxy;
use support::*;

/// Three parts of 8 MiB (the smallest part): two sent before the reload, one after.
const UPLOAD_BYTES: usize = 20 * 1024 * 1024;
const PART_BYTES: usize = 8 * 1024 * 1024;

/// A video of the test's own bytes (not a film: this one is only uploaded).
fn upload_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..UPLOAD_BYTES).map(|i| ((i * 31 + i / 4096) % 251) as u8).collect();
    let path = dir.join("Les Enfants du paradis.mxf");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// The demo video uploaded through the API, analysed for real and written as the merge
/// writes it (to the strict S3 and moto's table): a video with results for the video page.
async fn analysed_video(s3: &StrictS3, router: &axum::Router, table: &str) -> String {
    let demo = std::fs::read(demo::testdata("demo.mp4")).unwrap();
    let body = json!({"fileName": "demo.mp4", "contentType": "video/mp4", "sizeBytes": demo.len(),
                      "movie": {"title": "The Demo", "year": 2026}});
    let minted = call_as_ana(router, "POST", "/videos", body).await.json();
    let id = minted["videoId"].as_str().unwrap().to_string();
    assert_eq!(put_minted(&minted, demo).await.status, 200);
    let obama = call_as_ana(router, "POST", "/people", json!({"name": "Barack Obama"})).await.json();
    let obama = obama["personId"].as_str().unwrap().to_string();

    let source = format!("s3://{RAW}/videos/{id}/demo.mp4");
    let strict = s3.client().await;
    let (table, written) = (table.to_string(), source.clone());
    tokio::task::spawn_blocking(move || {
        let outputs = analysed(&written, &obama, Analyse::demo(2.0));
        let mut aws = Aws::from_env().expect("AWS clients");
        aws.s3 = strict;
        let to = Merged {
            table: &table,
            bucket: PROCESSED,
            source: &written,
            job: "media/demo-1",
            at: "2026-12-06T09:00:00Z",
        };
        write_merged_with(&aws, &to, &outputs);
    })
    .await
    .expect("the demo is analysed and written");
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_uploads_resumes_lists_shows_and_corrects_a_video_in_a_browser() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = CorsProxy::start(&s3.endpoint, &format!("http://127.0.0.1:{port}")).await;
    let table = table("browser");
    let (router, _) = router(config(&table), s3.client().await).await;
    let video = analysed_video(&s3, &router, &table).await;
    let server =
        AppServer::start(Path::new(env!("CARGO_BIN_EXE_cameo-api")), port, &strict_env(&table, &proxy.endpoint));
    let files = tempfile::tempdir().unwrap();
    let (upload, bytes) = upload_file(files.path());
    playwright(
        "app.spec.js",
        &[
            ("CAMEO_APP_URL", &server.url),
            ("CAMEO_UPLOAD_FILE", upload.to_str().unwrap()),
            ("CAMEO_PART_BYTES", &PART_BYTES.to_string()),
            ("CAMEO_VIDEO_ID", &video),
        ],
    );

    // The page's upload, as S3 holds it: byte for byte the file.
    let uploads = call_as_ana(&router, "GET", "/library", Value::Null).await.json();
    let item = uploads["items"].as_array().unwrap().iter().find(|v| v["fileName"] == "Les Enfants du paradis.mxf");
    let item = item.unwrap_or_else(|| panic!("the page's upload is in the library: {uploads:#}"));
    assert_eq!(item["state"], "uploaded", "{item:#}");
    assert_eq!(item["movie"]["title"], "Les Enfants du paradis");
    assert_eq!(
        item["contentType"], "video/mxf",
        "the type of its extension: a browser gives an MXF file none, or not video/*"
    );
    let id = item["videoId"].as_str().unwrap();
    let key = format!("videos/{id}/Les Enfants du paradis.mxf");
    let stored = s3.client().await.get_object().bucket(RAW).key(&key).send().await.expect("the upload is there");
    let stored = stored.body.collect().await.unwrap().into_bytes();
    assert!(stored.as_ref() == bytes.as_slice(), "the object is the file, byte for byte ({} bytes)", stored.len());

    // Each part went up once: the one held at the reload only after it, none again.
    let parts: Vec<(u32, u16)> = proxy
        .forwarded()
        .iter()
        .filter(|f| f.method == "PUT" && f.path_and_query.contains(&format!("/{id}/")))
        .filter_map(|f| {
            let number = f.path_and_query.split("partNumber=").nth(1)?.split('&').next()?.parse().ok()?;
            Some((number, f.status))
        })
        .collect();
    let mut sent: Vec<u32> = parts.iter().filter(|(_, status)| *status == 200).map(|(n, _)| *n).collect();
    sent.sort();
    assert_eq!(sent, vec![1, 2, 3], "every part once, none sent again: {parts:?}");
}
