//! Late binding, seen in the web app: a face named on one video's page shows under that
//! name on the page of another video where it was unknown, once the real curation worker
//! (late binding on, as the chart runs it) has found it there. On moto's S3 (versioned
//! buckets answering the app's origin, as Terraform's storage module makes them) with the
//! real models; web/tests/late-binding.spec.js drives Debian's Chromium.

#[path = "support/demo.rs"]
mod demo;
#[path = "support/library.rs"]
mod library;
mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cameo_model::table::movie_id;
use demo::Analyse;
use library::library;
use support::app_server::{AppServer, answer_app, playwright};
use support::*;

const A: &str = "s3://cameo-raw/videos/a/film.mp4";
const B: &str = "s3://cameo-raw/videos/b/film.mp4";

#[tokio::test(flavor = "multi_thread")]
async fn a_face_named_on_one_videos_page_shows_named_on_anothers_after_late_binding() {
    let library = Arc::new(library().await);
    library.add(A, "media/a", Analyse::demo(2.0)).await;
    // Other frames of the same faces.
    library.add(B, "media/b", Analyse::demo(1.0)).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let origin = format!("http://127.0.0.1:{port}");
    for bucket in [&library.bucket, &library.raw] {
        answer_app(&moto_s3().await, bucket, &origin).await;
    }
    let server = AppServer::start(
        Path::new(env!("CARGO_BIN_EXE_cameo-api")),
        port,
        &[
            ("CAMEO_RAW_BUCKET", library.raw.clone()),
            ("CAMEO_PROCESSED_BUCKET", library.bucket.clone()),
            ("CAMEO_TABLE", library.table.clone()),
            ("CAMEO_CURATION_QUEUE_URL", library.queue.clone()),
        ],
    );

    // The worker, as the chart runs it: told of each correction through its queue.
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (library, stop) = (library.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                library.work();
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    let run = std::panic::catch_unwind(|| {
        playwright(
            "late-binding.spec.js",
            &[("CAMEO_APP_URL", &server.url), ("CAMEO_VIDEO_A", &movie_id(A)), ("CAMEO_VIDEO_B", &movie_id(B))],
        )
    });
    stop.store(true, Ordering::Relaxed);
    worker.join().expect("the worker ran");
    if let Err(failed) = run {
        std::panic::resume_unwind(failed);
    }
}
