//! The registry of people through the API, against a strict S3 (s3s-fs checks every
//! signature) and moto's DynamoDB and SQS: every route with and without its scope, names
//! that are unique however they are cased, renames that merge, versions that stop two
//! editors overwriting each other, and photo uploads that take only what was signed.

mod support;

use std::collections::BTreeMap;

use axum::Router;
use cameo_api::identity::Scope;
use cameo_api::routes::ROUTES;
use serde_json::{Value, json};
use support::*;

const PERSON: &str = "0123456789abcdef0123456789abcdef";
const PHOTO: &str = "fedcba9876543210fedcba9876543210";
const VIDEO: &str = "00112233445566778899aabbccddeeff";

/// A request from `ana` holding every scope, with `If-Match` when `version` is given.
async fn call_with(router: &Router, method: &str, path: &str, body: Value, version: Option<&str>) -> Answer {
    let body = (!body.is_null()).then(|| body.to_string());
    let tag = version.map(|v| format!("\"{v}\""));
    let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
    call(router, scoped_event(method, path, "", body.as_deref(), Some(("ana", &ALL_SCOPES[..])), &headers)).await
}

async fn create(router: &Router, name: &str) -> Value {
    let created = call_with(router, "POST", "/people", json!({"name": name}), None).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.headers["etag"], "\"1\"");
    created.json()
}

fn id(person: &Value) -> String {
    person["personId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_route_needs_its_scope_and_no_other_grants_it() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let (router, _) = router(config(&table("scopes")), s3.client().await).await;
    for &(method, route, granting) in ROUTES {
        let path = route
            .replace("{id}", VIDEO)
            .replace("{name}", "Ada")
            .replace("{personId}", PERSON)
            .replace("{photoId}", PHOTO)
            .replace("{seq}", "1");
        let others: Vec<&str> = Scope::ALL.iter().filter(|s| !granting.contains(s)).map(|s| s.as_str()).collect();
        let refused = call(&router, scoped_event(method, &path, "", Some("{}"), Some(("ana", &others)), &[])).await;
        assert_eq!(
            (refused.status.as_u16(), refused.error().as_str()),
            (403, "insufficient_scope"),
            "{method} {route} without {granting:?}"
        );
        // Each scope that grants it grants it alone.
        for needed in granting {
            let allowed =
                call(&router, scoped_event(method, &path, "", Some("{}"), Some(("ana", &[needed.as_str()])), &[]))
                    .await;
            assert!(
                ![401, 403, 404, 405].contains(&allowed.status.as_u16()) || allowed.error() == "not_found",
                "{method} {route} with {}: {} {}",
                needed.as_str(),
                allowed.status,
                String::from_utf8_lossy(&allowed.body)
            );
            assert_ne!(allowed.error(), "insufficient_scope", "{method} {route}");
        }
        let anonymous = call(&router, event(method, &path, "", None, None)).await;
        assert_eq!(anonymous.status, 401, "{method} {route}");
    }
    let unrouted = call(&router, scoped_event("GET", "/nowhere", "", None, Some(("ana", &[])), &[])).await;
    assert_eq!(unrouted.status, 404, "an unknown route is answered as such, whatever the scopes");
}

#[tokio::test]
async fn names_are_unique_however_cased_renames_need_the_version_and_renaming_to_a_held_name_merges() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let (router, _) = router(config(&table("names")), s3.client().await).await;

    let ada = create(&router, "  Ada Lovelace ").await;
    assert_eq!(ada["name"], "Ada Lovelace", "trimmed");
    let taken = call_with(&router, "POST", "/people", json!({"name": "ADA LOVELACE"}), None).await;
    assert_eq!(taken.status, 409);
    assert!(taken.json()["message"].as_str().unwrap().contains(&id(&ada)), "the refusal names who holds it");
    for hostile in ["", "   ", "Ada\u{202e}ecalevol", "Ada\u{0}", &"x".repeat(129)] {
        let refused = call_with(&router, "POST", "/people", json!({"name": hostile}), None).await;
        assert_eq!((refused.status.as_u16(), refused.error().as_str()), (400, "invalid_name"), "{hostile:?}");
    }
    let extra = call_with(&router, "POST", "/people", json!({"name": "Bo", "admin": true}), None).await;
    assert_eq!(extra.error(), "invalid_json", "unknown fields are refused");

    let path = format!("/people/{}", id(&ada));
    let unversioned = call_with(&router, "PATCH", &path, json!({"name": "Ada King"}), None).await;
    assert_eq!(unversioned.status, 428);
    let renamed = call_with(&router, "PATCH", &path, json!({"name": "Ada King"}), Some("1")).await;
    assert_eq!(renamed.status, 200, "{}", String::from_utf8_lossy(&renamed.body));
    assert_eq!(
        (renamed.json()["name"].as_str(), renamed.headers["etag"].to_str().unwrap()),
        (Some("Ada King"), "\"2\"")
    );
    let stale = call_with(&router, "PATCH", &path, json!({"name": "Countess"}), Some("1")).await;
    assert_eq!(stale.status, 412, "a write based on an old read is refused");

    // The old name is free again; giving its new holder Ada's name merges them into Ada.
    let other = create(&router, "ada lovelace").await;
    let merged =
        call_with(&router, "PATCH", &format!("/people/{}", id(&other)), json!({"name": "ada king"}), Some("1")).await;
    assert_eq!(merged.status, 200, "{}", String::from_utf8_lossy(&merged.body));
    assert_eq!(id(&merged.json()), id(&ada), "the answer is the person they became");
    assert_eq!(merged.json()["name"], "Ada King");
    let gone = call_with(&router, "GET", &format!("/people/{}", id(&other)), Value::Null, None).await;
    assert_eq!(gone.status, 404);
    assert!(gone.json()["message"].as_str().unwrap().contains(&format!("merged into person {}", id(&ada))));
    let free = call_with(&router, "POST", "/people", json!({"name": "Ada Lovelace"}), None).await;
    assert_eq!(free.status, 201, "the merged person's name is released");

    let listed = call_with(&router, "GET", "/people", Value::Null, None).await.json();
    let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Ada King", "Ada Lovelace"], "by name, the merged one gone");
}

#[tokio::test]
async fn a_photo_upload_takes_only_the_signed_type_and_length_and_a_merge_or_erasure_carries_the_photos() {
    let s3 = StrictS3::start();
    s3.create_buckets().await;
    let sqs = moto_sqs().await;
    let name = format!("gallery-{}", uuid::Uuid::new_v4().simple());
    let queue = sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
    let mut config = config(&table("photos"));
    config.gallery_queue_url = Some(queue.clone());
    let (router, _) = router(config, s3.client().await).await;
    let bea = create(&router, "Bea").await;
    let photos = format!("/people/{}/photos", id(&bea));

    for (request, status) in [
        (json!({"contentType": "image/svg+xml", "sizeBytes": 10}), 400),
        (json!({"contentType": "image/jpeg", "sizeBytes": 0}), 400),
        (json!({"contentType": "image/jpeg", "sizeBytes": 11 * MIB}), 413),
    ] {
        let refused = call_with(&router, "POST", &photos, request.clone(), Some("1")).await;
        assert_eq!(refused.status, status, "{request}");
    }
    let photo = b"\xff\xd8\xff\xe0 not really a jpeg, the checker decides that".to_vec();
    let minted =
        call_with(&router, "POST", &photos, json!({"contentType": "image/jpeg", "sizeBytes": photo.len()}), Some("1"))
            .await;
    assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
    assert_eq!(minted.headers["etag"], "\"2\"");
    let minted = minted.json();
    let url = minted["upload"]["url"].as_str().unwrap();
    let signed: BTreeMap<String, String> = serde_json::from_value(minted["upload"]["headers"].clone()).unwrap();
    let pairs: Vec<(&str, &str)> = signed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(signed.get("content-type").map(String::as_str), Some("image/jpeg"));

    let mut as_html = pairs.clone();
    as_html.retain(|(k, _)| *k != "content-type");
    as_html.push(("content-type", "text/html"));
    let longer = [photo.clone(), b"more".to_vec()].concat();
    let other_key = url.replacen(&id(&bea), PERSON, 1);
    for (what, url, headers, body) in [
        ("another type", url, as_html, photo.clone()),
        ("another length", url, pairs.clone(), longer),
        ("another key", other_key.as_str(), pairs.clone(), photo.clone()),
    ] {
        let refused = http("PUT", url, &headers, body).await;
        assert_eq!(refused.status, 403, "{what}");
    }
    assert!(s3.files(RAW).iter().all(|f| !f.contains(".cameo")), "nothing refused was stored: {:?}", s3.files(RAW));
    let stored = http("PUT", url, &pairs, photo.clone()).await;
    assert_eq!(stored.status, 200);

    let seen = call_with(&router, "GET", &format!("/people/{}", id(&bea)), Value::Null, None).await.json();
    assert_eq!(seen["photos"][0]["status"], "pending", "not counted until the checker sees it");
    assert_eq!(seen["photos"][0]["source"], "upload");
    let shown = http("GET", seen["photos"][0]["url"].as_str().unwrap(), &[], Vec::new()).await;
    assert_eq!(shown.body, photo, "its URL shows the photo");

    // Bea joins Cy: her photo goes with her.
    let cy = create(&router, "Cy").await;
    let merge = format!("/people/{}/merge", id(&cy));
    let stale = call_with(&router, "POST", &merge, json!({"personId": id(&bea)}), Some("7")).await;
    assert_eq!(stale.status, 412);
    let merged = call_with(&router, "POST", &merge, json!({"personId": id(&bea)}), Some("1")).await;
    assert_eq!(merged.status, 200, "{}", String::from_utf8_lossy(&merged.body));
    let merged = merged.json();
    assert_eq!(merged["photos"].as_array().unwrap().len(), 1);
    assert_eq!(merged["version"], 2);

    // Erasing Cy erases the photo, every version, and frees the name.
    let erase = call_with(&router, "DELETE", &format!("/people/{}", id(&cy)), Value::Null, Some("2")).await;
    assert_eq!(erase.status, 200, "{}", String::from_utf8_lossy(&erase.body));
    assert!(s3.files(RAW).iter().all(|f| !f.contains(".cameo")), "{:?}", s3.files(RAW));
    assert_eq!(call_with(&router, "GET", &format!("/people/{}", id(&cy)), Value::Null, None).await.status, 404);
    create(&router, "Cy").await;

    let answer = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    let told: Vec<String> = answer.messages().iter().filter_map(|m| m.body.clone()).collect();
    assert!(told.len() >= 2, "the checker was told of the merge and the erasure: {told:?}");
    assert!(told.iter().all(|m| m.contains("\"rebuild\":true")), "{told:?}");
}
