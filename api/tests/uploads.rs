//! Uploads against a strict S3 (s3s-fs checks every signature): what a minted URL allows,
//! what it refuses, multipart uploads completed, resumed and aborted, and the requests refused
//! before anything is created. Requests reach the router as API Gateway v2 events.

mod support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use support::*;

fn upload(file_name: &str, size: usize) -> Value {
    json!({"fileName": file_name, "contentType": "video/mp4", "sizeBytes": size,
           "movie": {"title": "Amélie", "genre": "Comedy", "director": "Jean-Pierre Jeunet", "year": 2001}})
}

fn headers(minted: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(minted["upload"]["headers"].clone()).unwrap()
}

fn pairs(headers: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Bytes that differ from part to part, so a misplaced part changes the object.
fn video_bytes(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn a_minted_put_stores_the_video_with_its_signed_metadata_and_refuses_any_change() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let (router, _) = router(config(&table("put")), s3.client().await).await;
    let bytes = video_bytes(70_000);

    let minted = call_as_ana(&router, "POST", "/videos", upload("Amélie.mp4", bytes.len())).await;
    assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
    let minted = minted.json();
    assert_eq!(minted["upload"]["method"], "PUT");
    let id = minted["videoId"].as_str().unwrap();
    assert_eq!(minted["key"], format!("videos/{id}/Amélie.mp4"));
    let url = minted["upload"]["url"].as_str().unwrap();
    let signed = headers(&minted);
    assert_eq!(signed.get("content-type").map(String::as_str), Some("video/mp4"));

    // Changes a client might try: each is refused and stores nothing.
    let mut other_type = signed.clone();
    other_type.insert("content-type".into(), "video/quicktime".into());
    let mut other_title = signed.clone();
    other_title.insert("x-amz-meta-title".into(), "Something else".into());
    let other_key = url.replacen("Am%C3%A9lie.mp4", "other.mp4", 1);
    assert_ne!(other_key, url, "the key is in the URL's path");
    let signature_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = url.to_string();
    let flipped = if &url[signature_at..=signature_at] == "0" { "1" } else { "0" };
    tampered.replace_range(signature_at..=signature_at, flipped);
    let shorter = bytes[..bytes.len() - 1].to_vec();
    for (what, url, headers, body) in [
        ("another key", other_key.as_str(), pairs(&signed), bytes.clone()),
        ("another content type", url, pairs(&other_type), bytes.clone()),
        ("other metadata", url, pairs(&other_title), bytes.clone()),
        ("another length", url, pairs(&signed), shorter),
        ("a changed signature", tampered.as_str(), pairs(&signed), bytes.clone()),
        ("no metadata headers", url, vec![("content-type", "video/mp4")], bytes.clone()),
    ] {
        let answer = http("PUT", url, &headers, body).await;
        assert_eq!(answer.status, 403, "{what}: {}", String::from_utf8_lossy(&answer.body));
    }
    assert_eq!(s3.files(RAW), Vec::<String>::new(), "refused uploads store nothing");

    let put = http("PUT", url, &pairs(&signed), bytes.clone()).await;
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    let key = format!("videos/{id}/Amélie.mp4");
    let stored = s3.client().await.get_object().bucket(RAW).key(&key).send().await.expect("the video is stored");
    assert_eq!(stored.content_type(), Some("video/mp4"));
    let metadata = stored.metadata().cloned().unwrap_or_default();
    assert_eq!(metadata.get("title").map(String::as_str), Some("Am%C3%A9lie"));
    assert_eq!(metadata.get("year").map(String::as_str), Some("2001"));
    assert_eq!(metadata.get("video-id").map(String::as_str), Some(id));
    assert_eq!(metadata.get("uploaded-by").map(String::as_str), Some("jwt:https://idp.example.com|ana"));
    assert_eq!(stored.body.collect().await.unwrap().into_bytes().to_vec(), bytes);

    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "uploaded");
    assert_eq!(state["movie"]["title"], "Amélie");
    assert_eq!(state["sizeBytes"], 70_000);
}

#[tokio::test]
async fn an_expired_url_is_refused() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let mut config = config(&table("expiry"));
    config.upload_url_ttl_seconds = 1;
    let (router, _) = router(config, s3.client().await).await;
    let minted = call_as_ana(&router, "POST", "/videos", upload("late.mp4", 1000)).await.json();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let signed = headers(&minted);
    let answer = http("PUT", minted["upload"]["url"].as_str().unwrap(), &pairs(&signed), video_bytes(1000)).await;
    assert_eq!(answer.status, 403, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(s3.files(RAW), Vec::<String>::new());
    let state =
        call_as_ana(&router, "GET", &format!("/videos/{}", minted["videoId"].as_str().unwrap()), Value::Null).await;
    assert_eq!(state.json()["state"], "expired");
}

#[tokio::test]
async fn a_multipart_upload_completes_byte_identical_and_an_aborted_one_leaves_nothing() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let mut config = config(&table("multipart"));
    config.single_put_max_bytes = MIB;
    let (router, _) = router(config, s3.client().await).await;
    // Three parts: two of the 8 MiB minimum and a short last one.
    let bytes = video_bytes((16 * MIB + 12345) as usize);

    let minted = call_as_ana(&router, "POST", "/videos", upload("long take.mkv", bytes.len())).await;
    assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
    let minted = minted.json();
    assert_eq!(minted["upload"]["method"], "multipart");
    let id = minted["videoId"].as_str().unwrap().to_string();
    let parts = minted["upload"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    let part_size = minted["upload"]["partSizeBytes"].as_u64().unwrap() as usize;
    assert_eq!(part_size as u64, 8 * MIB);

    // Parts may go up in any order.
    let mut etags = vec![String::new(); parts.len()];
    for part in parts.iter().rev() {
        let number = part["partNumber"].as_u64().unwrap() as usize;
        let chunk = bytes[(number - 1) * part_size..(number * part_size).min(bytes.len())].to_vec();
        assert_eq!(chunk.len() as u64, part["sizeBytes"].as_u64().unwrap());
        let put = http("PUT", part["url"].as_str().unwrap(), &[], chunk).await;
        assert_eq!(put.status, 200, "part {number}: {}", String::from_utf8_lossy(&put.body));
        etags[number - 1] = put.headers["etag"].to_str().unwrap().to_string();
    }
    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "awaiting_upload", "parts alone are not a video");

    // Only the uploader may complete it, and only with every part.
    let complete = format!("/videos/{id}/complete");
    let all: Vec<Value> = etags.iter().enumerate().map(|(i, e)| json!({"partNumber": i + 1, "etag": e})).collect();
    let stranger =
        call(&router, event("POST", &complete, "", Some(&json!({"parts": all}).to_string()), Some("bob"))).await;
    assert_eq!(stranger.status, 403);
    let missing = call_as_ana(&router, "POST", &complete, json!({"parts": all[..2]})).await;
    assert_eq!((missing.status.as_u16(), missing.error().as_str()), (400, "invalid_parts"));

    let done = call_as_ana(&router, "POST", &complete, json!({"parts": all})).await;
    assert_eq!(done.status, 200, "{}", String::from_utf8_lossy(&done.body));
    let key = format!("videos/{id}/long take.mkv");
    let stored = s3.client().await.get_object().bucket(RAW).key(&key).send().await.unwrap();
    assert_eq!(stored.content_type(), Some("video/mp4"));
    assert_eq!(stored.metadata().and_then(|m| m.get("genre")).map(String::as_str), Some("Comedy"));
    assert!(stored.body.collect().await.unwrap().into_bytes().to_vec() == bytes, "the object is byte-identical");
    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "uploaded");
    let again = call_as_ana(&router, "POST", &complete, json!({"parts": all})).await;
    assert_eq!(again.status, 409, "a completed upload cannot be completed twice");

    // Abort: a part is up, then the upload is abandoned.
    let minted = call_as_ana(&router, "POST", "/videos", upload("abandoned.mp4", bytes.len())).await.json();
    let aborted_id = minted["videoId"].as_str().unwrap();
    let first = &minted["upload"]["parts"][0];
    let put = http("PUT", first["url"].as_str().unwrap(), &[], bytes[..part_size].to_vec()).await;
    assert_eq!(put.status, 200);
    assert!(s3.files(RAW).iter().any(|f| f.starts_with(".upload")), "the part is held while the upload is open");
    let abort = call_as_ana(&router, "DELETE", &format!("/videos/{aborted_id}/upload"), Value::Null).await;
    assert_eq!(abort.status, 200, "{}", String::from_utf8_lossy(&abort.body));
    assert_eq!(s3.files(RAW), vec![format!("{RAW}/{key}")], "only the completed video is left");
    let part_url = minted["upload"]["parts"][1]["url"].as_str().unwrap();
    let upload_id = part_url.split("uploadId=").nth(1).and_then(|rest| rest.split('&').next()).unwrap();
    let key = format!("videos/{aborted_id}/abandoned.mp4");
    let parts = s3.client().await.list_parts().bucket(RAW).key(&key).upload_id(upload_id).send().await;
    assert!(parts.is_ok_and(|p| p.parts().is_empty()), "no part of the aborted upload is left on S3");
    let state = call_as_ana(&router, "GET", &format!("/videos/{aborted_id}"), Value::Null).await.json();
    assert_eq!(state["state"], "aborted");
}

#[tokio::test]
async fn a_multipart_upload_resumes_after_its_urls_expired_without_a_held_part_sent_again() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    // One router mints URLs that expire at once, the other lasting ones (one table, one S3).
    let mut hasty = config(&table("resume"));
    (hasty.single_put_max_bytes, hasty.upload_url_ttl_seconds) = (MIB, 1);
    let lasting = cameo_api::config::Config { upload_url_ttl_seconds: 3600, ..hasty.clone() };
    let (hasty, _) = router(hasty, s3.client().await).await;
    let (router, _) = router(lasting, s3.client().await).await;
    let bytes = video_bytes((16 * MIB + 12345) as usize);
    let part_size = (8 * MIB) as usize;
    let chunk = |number: usize| bytes[(number - 1) * part_size..(number * part_size).min(bytes.len())].to_vec();
    let unquoted = |etag: &str| etag.trim_matches('"').to_string();

    // Part 1 goes up; the URLs expire before the others do (an expired URL is refused:
    // `an_expired_url_is_refused`).
    let minted = call_as_ana(&hasty, "POST", "/videos", upload("reel.mov", bytes.len())).await.json();
    let id = minted["videoId"].as_str().unwrap().to_string();
    let parts = minted["upload"]["parts"].as_array().unwrap().clone();
    let first = http("PUT", parts[0]["url"].as_str().unwrap(), &[], chunk(1)).await;
    assert_eq!(first.status, 200, "{}", String::from_utf8_lossy(&first.body));
    let first_etag = unquoted(first.headers["etag"].to_str().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "expired");

    // Only the uploader resumes it: S3's part 1 is held, parts 2 and 3 get fresh URLs.
    let path = format!("/videos/{id}/upload");
    let stranger = call(&router, event("GET", &path, "", None, Some("bob"))).await;
    assert_eq!(stranger.status, 403);
    let resumed = call_as_ana(&router, "GET", &path, Value::Null).await;
    assert_eq!(resumed.status, 200, "{}", String::from_utf8_lossy(&resumed.body));
    let resumed = resumed.json();
    let held = resumed["uploaded"].as_array().unwrap();
    assert_eq!(held.len(), 1, "{resumed:#}");
    assert_eq!((held[0]["partNumber"].as_u64(), held[0]["sizeBytes"].as_u64()), (Some(1), Some(part_size as u64)));
    // S3 lists each part's ETag; s3s-fs 0.14.1 lists none, and the client's own serves.
    assert!(held[0]["etag"].as_str().is_none_or(|etag| unquoted(etag) == first_etag), "{held:?}");
    let missing: Vec<u64> =
        resumed["parts"].as_array().unwrap().iter().map(|p| p["partNumber"].as_u64().unwrap()).collect();
    assert_eq!(missing, [2, 3], "only the parts S3 lacks are asked for");
    let state = call_as_ana(&router, "GET", &format!("/videos/{id}"), Value::Null).await.json();
    assert_eq!(state["state"], "awaiting_upload", "its URLs work again");

    let mut all = vec![json!({"partNumber": 1, "etag": first_etag})];
    for part in resumed["parts"].as_array().unwrap() {
        let number = part["partNumber"].as_u64().unwrap() as usize;
        let put = http("PUT", part["url"].as_str().unwrap(), &[], chunk(number)).await;
        assert_eq!(put.status, 200, "part {number}: {}", String::from_utf8_lossy(&put.body));
        all.push(json!({"partNumber": number, "etag": put.headers["etag"].to_str().unwrap()}));
    }
    let done = call_as_ana(&router, "POST", &format!("/videos/{id}/complete"), json!({"parts": all})).await;
    assert_eq!(done.status, 200, "{}", String::from_utf8_lossy(&done.body));
    let stored = s3.client().await.get_object().bucket(RAW).key(format!("videos/{id}/reel.mov")).send().await.unwrap();
    assert!(stored.body.collect().await.unwrap().into_bytes().to_vec() == bytes, "the object is byte-identical");
    let again = call_as_ana(&router, "GET", &path, Value::Null).await;
    assert_eq!(again.status, 409, "a completed upload has nothing to resume");
}

#[tokio::test]
async fn hostile_and_malformed_requests_get_their_status_and_create_nothing() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let table = table("hostile");
    let (router, _) = router(config(&table), s3.client().await).await;
    let base = |file_name: &str| json!({"fileName": file_name, "contentType": "video/mp4", "sizeBytes": 1000});
    let with = |field: &str, value: Value| {
        let mut body = base("film.mp4");
        body[field] = value;
        body.to_string()
    };
    let movie = |movie: Value| with("movie", movie);
    let big_body = json!({"fileName": "a.mp4", "contentType": "video/mp4", "sizeBytes": 1, "pad": "x".repeat(300_000)});
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        ("traversal", base("../../etc/passwd.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("encoded traversal", base("..%2F..%2Fx.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("fully encoded traversal", base("%2e%2e%2fx.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("a slash", base("a/b.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("a backslash", base("a\\b.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("NUL", base("x\u{0}.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("a newline", base("x\n.mp4").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("bidi override", base("film\u{202e}4pm.exe").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("300-byte name", base(&format!("{}.mp4", "a".repeat(296))).to_string(), Some("ana"), 400, "invalid_file_name"),
        (".exe", base("setup.exe").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("no extension", base("film").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("empty name", base("").to_string(), Some("ana"), 400, "invalid_file_name"),
        ("size 0", with("sizeBytes", json!(0)), Some("ana"), 400, "invalid_size"),
        ("negative size", with("sizeBytes", json!(-5)), Some("ana"), 400, "invalid_json"),
        ("size over the limit", with("sizeBytes", json!(60u64 << 30)), Some("ana"), 413, "too_large"),
        ("wrong content type", with("contentType", json!("image/png")), Some("ana"), 400, "invalid_content_type"),
        (
            "content type with parameters",
            with("contentType", json!("video/mp4; x=1")),
            Some("ana"),
            400,
            "invalid_content_type",
        ),
        ("bad JSON", "{\"fileName\": ".into(), Some("ana"), 400, "invalid_json"),
        ("not an object", "[1, 2]".into(), Some("ana"), 400, "invalid_json"),
        ("unknown field", with("owner", json!("root")), Some("ana"), 400, "invalid_json"),
        (
            "missing field",
            json!({"fileName": "a.mp4", "contentType": "video/mp4"}).to_string(),
            Some("ana"),
            400,
            "invalid_json",
        ),
        ("year 99999", movie(json!({"year": 99999})), Some("ana"), 400, "invalid_movie"),
        ("unknown movie field", movie(json!({"rating": 5})), Some("ana"), 400, "invalid_json"),
        ("title too long", movie(json!({"title": "t".repeat(300)})), Some("ana"), 400, "invalid_movie"),
        ("control in the director", movie(json!({"director": "a\u{7}b"})), Some("ana"), 400, "invalid_movie"),
        ("body too large", big_body.to_string(), Some("ana"), 413, "too_large"),
        ("missing identity", base("film.mp4").to_string(), None, 401, "unauthenticated"),
    ];
    assert!(cases.len() >= 20);
    for (what, body, caller, status, code) in cases {
        let answer = call(&router, event("POST", "/videos", "", Some(&body), caller)).await;
        assert_eq!(answer.status.as_u16(), status, "{what}: {}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.error(), code, "{what}");
        assert!(!answer.json()["message"].as_str().unwrap_or_default().is_empty(), "{what}: a message says why");
    }
    // Paths and methods that are not the API's.
    for (what, method, path, status) in [
        ("a video id that is not ours", "GET", "/videos/..%2F..%2Fetc", 404),
        ("an unknown video", "GET", "/videos/0123456789abcdef0123456789abcdef", 404),
        ("no such route", "GET", "/admin", 404),
        ("a wrong method", "PUT", "/videos", 405),
    ] {
        let answer = call(&router, event(method, path, "", None, Some("ana"))).await;
        assert_eq!(answer.status.as_u16(), status, "{what}: {}", String::from_utf8_lossy(&answer.body));
    }
    assert_eq!(s3.files(RAW), Vec::<String>::new(), "nothing is created on S3");
    let items = moto_dynamodb().await.scan().table_name(&table).send().await.unwrap();
    assert_eq!(items.count, 0, "nothing is recorded");
}
