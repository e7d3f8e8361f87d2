//! A video played from the API's answer: the presigned GET that `GET /videos/{id}/media`
//! answers serves a player's Range requests (206) from a strict S3 (s3s-fs checks every
//! signature).

mod support;

use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn a_video_plays_from_its_media_url_with_range_requests() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let (router, _) = router(config(&table("media")), s3.client().await).await;
    let bytes: Vec<u8> = (0..50_000).map(|i| (i * 7 % 253) as u8).collect();
    let body = json!({"fileName": "clip.mp4", "contentType": "video/mp4", "sizeBytes": bytes.len(),
                      "movie": {"title": "Clip"}});
    let minted = call_as_ana(&router, "POST", "/videos", body).await.json();
    let id = minted["videoId"].as_str().unwrap().to_string();
    let media = format!("/videos/{id}/media");
    let early = call_as_ana(&router, "GET", &media, Value::Null).await;
    assert_eq!(early.status, 409, "nothing to play before the upload arrives");

    assert_eq!(put_minted(&minted, bytes.clone()).await.status, 200);

    let answer = call_as_ana(&router, "GET", &media, Value::Null).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let answer = answer.json();
    assert_eq!(answer["contentType"], "video/mp4");
    let url = answer["url"].as_str().unwrap();
    let part = http("GET", url, &[("range", "bytes=1000-1999")], Vec::new()).await;
    assert_eq!(part.status, 206, "{}", String::from_utf8_lossy(&part.body));
    assert!(part.body == bytes[1000..2000], "the range asked for");
    let whole = http("GET", url, &[], Vec::new()).await;
    assert!(whole.status == 200 && whole.body == bytes, "the whole video");
    let stranger = call(&router, event("GET", &media, "", None, None)).await;
    assert_eq!(stranger.status, 401, "no URL without a caller");
}
