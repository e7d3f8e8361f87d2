//! The library a web app lists: every video uploaded through the API, newest first, in
//! each state it can be in (the upload records' index, the ingest's processing states as
//! it writes them, the merge's items), filtered by state and day, a page at a time.

mod support;

use cameo_detector::cloud::table::{Provenance, items};
use cameo_model::processing::{PROCESSING_SK, ProcessingItem, ProcessingState};
use cameo_model::table::video_pk;
use serde_json::{Value, json};
use support::*;

/// Mints an upload of `name` and, unless `bytes` is `None`, PUTs them; its video id.
async fn upload(router: &axum::Router, name: &str, bytes: Option<usize>) -> String {
    let body = json!({"fileName": name, "contentType": "video/mp4", "sizeBytes": bytes.unwrap_or(1024),
                      "movie": {"title": name, "genre": "Documentary"}});
    let minted = call_as_ana(router, "POST", "/videos", body).await.json();
    if let Some(size) = bytes {
        assert_eq!(put_minted(&minted, vec![7; size]).await.status, 200);
    }
    minted["videoId"].as_str().unwrap().to_string()
}

/// The processing state the ingest writes for a video's VideoJob.
async fn processing(table: &str, id: &str, name: &str, state: ProcessingState, reason: Option<&str>) {
    let item = ProcessingItem {
        pk: video_pk(id),
        sk: PROCESSING_SK.into(),
        video_id: id.into(),
        state,
        phase: format!("{state:?}"),
        order: 1,
        video_job: format!("media/{id}"),
        source: format!("s3://{RAW}/videos/{id}/{name}"),
        reason: reason.map(str::to_string),
        shards_total: 2,
        shards_succeeded: 0,
        result_uri: None,
        actors_found: None,
        started_at: None,
        completed_at: None,
        updated_at: "2026-12-06T10:00:00Z".into(),
    };
    let item = serde_dynamo::to_item(&item).unwrap();
    moto_dynamodb().await.put_item().table_name(table).set_item(Some(item)).send().await.unwrap();
}

/// Every page of `path` (which has a `?`), `limit` at a time: the videos' (id, state).
async fn every_page(router: &axum::Router, path: &str, limit: usize) -> Vec<(String, String)> {
    let mut listed = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let token = next.as_deref().map(|t| format!("&next={t}")).unwrap_or_default();
        let page = call_as_ana(router, "GET", &format!("{path}&limit={limit}{token}"), Value::Null).await;
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let page = page.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{page:#}");
        listed
            .extend(items.iter().map(|v| (v["videoId"].as_str().unwrap().into(), v["state"].as_str().unwrap().into())));
        match page["next"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => return listed,
        }
    }
}

#[tokio::test]
async fn the_library_lists_every_video_in_every_state_newest_first() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let table = table("library");
    let (router, _) = router(config(&table), s3.client().await).await;

    // One video in each state, oldest first (each a millisecond or more after the last).
    let waiting = upload(&router, "waiting.mp4", None).await;
    let uploaded = upload(&router, "uploaded.mp4", Some(1024)).await;
    let queued = upload(&router, "queued.mp4", Some(1024)).await;
    processing(&table, &queued, "queued.mp4", ProcessingState::Queued, None).await;
    let running = upload(&router, "running.mp4", Some(1024)).await;
    processing(&table, &running, "running.mp4", ProcessingState::Processing, None).await;
    let failed = upload(&router, "failed.mp4", Some(1024)).await;
    let why = "the video cannot be decoded: moov atom not found";
    processing(&table, &failed, "failed.mp4", ProcessingState::Failed, Some(why)).await;
    let done = upload(&router, "done.mp4", Some(1024)).await;
    let source = format!("s3://{RAW}/videos/{done}/done.mp4");
    let result = results_document(&source, json!({"title": "done.mp4"}), &[("Barack Obama", 3.0, 0.0)], 0);
    with_moto(move |aws| {
        let provenance = Provenance {
            source: &source,
            job: "media/done",
            result_uri: &format!("s3://{PROCESSED}/results/media/done/result.json"),
            processed_at: "2026-12-06T10:00:00Z".parse().unwrap(),
            finished_at: "2026-12-06T10:03:00Z".parse().unwrap(),
        };
        aws.write_items(&table, items(&result, &provenance)).unwrap();
    });

    let expected: Vec<(String, String)> = [
        (&done, "succeeded"),
        (&failed, "failed"),
        (&running, "processing"),
        (&queued, "queued"),
        (&uploaded, "uploaded"),
        (&waiting, "awaiting_upload"),
    ]
    .into_iter()
    .map(|(id, state)| (id.clone(), state.to_string()))
    .collect();
    let all = call_as_ana(&router, "GET", "/library", Value::Null).await.json();
    let listed: Vec<(String, String)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["videoId"].as_str().unwrap().into(), v["state"].as_str().unwrap().into()))
        .collect();
    assert_eq!(listed, expected);
    let failure = all["items"].as_array().unwrap().iter().find(|v| v["videoId"] == failed.as_str()).unwrap();
    assert_eq!(failure["processing"]["reason"], why, "a failed video says why");

    // Pages follow each other with nothing skipped or repeated, filtered or not.
    assert_eq!(every_page(&router, "/library?", 4).await, expected);
    let today = all["items"][0]["createdAt"].as_str().unwrap()[..10].to_string();
    assert_eq!(every_page(&router, &format!("/library?day={today}"), 5).await, expected);
    assert_eq!(every_page(&router, "/library?day=2001-01-01", 5).await, []);
    for (id, state) in &expected {
        let only = every_page(&router, &format!("/library?state={state}"), 1).await;
        assert_eq!(only, [(id.clone(), state.clone())], "{state}");
    }
    let bad = call_as_ana(&router, "GET", "/library?state=finished", Value::Null).await;
    assert_eq!((bad.status.as_u16(), bad.error().as_str()), (400, "invalid_query"));
    let bad = call_as_ana(&router, "GET", "/library?day=6/12/2026", Value::Null).await;
    assert_eq!(bad.status, 400);
}
