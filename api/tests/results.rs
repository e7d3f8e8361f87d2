//! A video from upload to results as a client sees it through the API: minted, PUT to a
//! strict S3, analysed (the detector's real merge code writes the items and the results
//! document), then its state, its summary, its results inline and by redirect, and the
//! queries that find it.

mod support;

use cameo_detector::cloud::table::{Provenance, items};
use cameo_model::results::ResultsDocument;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn an_uploaded_video_reports_its_state_summary_and_results_inline_or_by_redirect() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let table = table("results");
    let (router, _) = router(config(&table), s3.client().await).await;

    let body = json!({"fileName": "demo.mp4", "contentType": "video/mp4", "sizeBytes": 4096,
                      "movie": {"title": "Demo", "genre": "Documentary"}});
    let minted = call_as_ana(&router, "POST", "/videos", body).await.json();
    let id = minted["videoId"].as_str().unwrap().to_string();
    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "awaiting_upload");
    let none_yet = call_as_ana(&router, "GET", &format!("/videos/{id}/result"), Value::Null).await;
    assert_eq!(none_yet.status, 404);

    assert_eq!(put_minted(&minted, vec![7; 4096]).await.status, 200);
    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "uploaded");
    assert!(state.get("summary").is_none());

    // The analysis, as the merge Job finishes it: the results document, then the items.
    let source = format!("s3://{RAW}/videos/{id}/demo.mp4");
    let movie = json!({"title": "Demo", "genre": "Documentary"});
    let result = results_document(&source, movie, &[("Barack Obama", 13.9, 0.0), ("Joe Biden", 3.0, 14.0)], 1);
    let json = serde_json::to_vec_pretty(&result).unwrap();
    let result_key = "results/media/demo/result.json";
    s3.client().await.put_object().bucket(PROCESSED).key(result_key).body(json.clone().into()).send().await.unwrap();
    let written = (table.clone(), source.clone(), result.clone());
    with_moto(move |aws| {
        let (table, source, result) = written;
        let provenance = Provenance {
            source: &source,
            job: "media/demo",
            result_uri: &format!("s3://{PROCESSED}/{result_key}"),
            processed_at: "2026-12-02T10:00:00Z".parse().unwrap(),
            finished_at: "2026-12-02T10:03:00Z".parse().unwrap(),
        };
        aws.write_items(&table, items(&result, &provenance)).unwrap();
    });

    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "succeeded");
    let summary = &state["summary"];
    let people: Vec<(&str, f64)> = summary["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["screenTimeSeconds"].as_f64().unwrap()))
        .collect();
    assert_eq!(people, [("Barack Obama", 13.9), ("Joe Biden", 3.0)]);
    assert_eq!(summary["unknownPeople"], 1);
    assert_eq!(summary["finishedAt"], "2026-12-02T10:03:00Z");

    let inline = call_as_ana(&router, "GET", &format!("/videos/{id}/result"), Value::Null).await;
    assert_eq!(inline.status, 200);
    assert_eq!(inline.headers["content-type"], "application/json");
    let served: ResultsDocument = serde_json::from_slice(&inline.body).unwrap();
    assert_eq!(served, result);
    let latest = call_as_ana(&router, "GET", "/results/latest", Value::Null).await;
    assert_eq!(serde_json::from_slice::<ResultsDocument>(&latest.body).unwrap(), result);

    let obama = call(&router, event("GET", "/actors/Barack%20Obama/videos", "", None, Some("ana"))).await.json();
    assert_eq!(obama["items"][0]["videoId"], id);
    assert_eq!(obama["items"][0]["title"], "Demo");
    let documentaries = call(&router, event("GET", "/videos", "genre=Documentary", None, Some("ana"))).await.json();
    assert_eq!(documentaries["items"][0]["videoId"], id);

    // Larger than a Lambda response may be: a redirect to a presigned GET the strict S3 honours.
    let mut small = config(&table);
    small.inline_result_max_bytes = 100;
    let (router, _) = support::router(small, s3.client().await).await;
    let redirect = call_as_ana(&router, "GET", &format!("/videos/{id}/result"), Value::Null).await;
    assert_eq!(redirect.status, 303);
    let location = redirect.headers["location"].to_str().unwrap();
    let fetched = http("GET", location, &[], Vec::new()).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, json);
    let other = location.replacen("result.json", "shards/0.json", 1);
    assert_eq!(http("GET", &other, &[], Vec::new()).await.status, 403, "the URL reads that document only");
}
