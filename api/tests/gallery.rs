//! Photos count only once checked, and galleries filled by hand keep naming the same
//! people: people and photos through the API, the photos PUT to moto's S3, whose
//! notification reaches the gallery queue Terraform made (terraform/examples/local-stack),
//! drained by the real gallery checker with the real models; its verdicts read back
//! through the API, its manifest enrolled as a shard enrols it.

#[path = "../../operator/tests/stack/mod.rs"]
mod stack;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use cameo_detector::cloud::aws::Aws;
use cameo_detector::cloud::checker::{GalleryChecker, Imported};
use cameo_detector::cloud::gallery::enrol;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::gallery::Gallery;
use cameo_detector::models::Models;
use cameo_model::people::{GalleryManifest, manifest_key};
use serde_json::{Value, json};
use support::*;

/// Who a gallery enrols, with how many usable photos each.
fn enrolled(gallery: &Gallery) -> BTreeMap<String, usize> {
    gallery.people.iter().map(|p| (p.name.clone(), p.embeddings.len())).collect()
}

/// Runs `work` with the checker of stack `cloud`'s gallery, on a thread of its own.
fn with_checker<T: Send + 'static>(
    cloud: &stack::Cloud,
    work: impl FnOnce(&GalleryChecker, &mut Models) -> T + Send + 'static,
) -> T {
    let (raw, processed, table) = (cloud.raw_bucket.clone(), cloud.processed_bucket.clone(), cloud.table.clone());
    std::thread::spawn(move || {
        let aws = Aws::from_env().expect("AWS clients for moto");
        let checker = GalleryChecker {
            aws: &aws,
            table,
            gallery: S3Uri::new(&raw, "gallery/"),
            cache: S3Uri::new(&processed, "cache/gallery/"),
            max_photo_bytes: 50 << 20,
        };
        let (_runtime, mut models) = models();
        work(&checker, &mut models)
    })
    .join()
    .expect("the checker's work")
}

async fn call_with(router: &axum::Router, method: &str, path: &str, body: Value, version: Option<u64>) -> Answer {
    let body = (!body.is_null()).then(|| body.to_string());
    let tag = version.map(|v| format!("\"{v}\""));
    let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
    call(router, scoped_event(method, path, "", body.as_deref(), Some(("ana", &ALL_SCOPES[..])), &headers)).await
}

#[tokio::test]
async fn photos_count_once_checked_and_a_hand_filled_gallery_is_imported_naming_the_same_people() {
    let cloud = stack::cloud("flow");
    let raw = cloud.raw_bucket.clone();
    // A gallery filled by hand, as before the registry: what VideoJobs enrolled so far.
    let before = {
        let raw = raw.clone();
        let cache = S3Uri::new(&cloud.processed_bucket, "cache/gallery/");
        stack::with_aws(move |aws| {
            for (key, photo) in
                [("gallery/Joe Biden/biden.jpg", "biden.jpg"), ("gallery/Tom Hanks/hanks.png", "tom_hanks.png")]
            {
                aws.put(&S3Uri::new(&raw, key), stack::photo(photo), "image/jpeg").unwrap();
            }
            let (_runtime, mut models) = models();
            enrolled(&enrol(&S3Uri::new(&raw, "gallery/"), None, cache, aws, &mut models).unwrap())
        })
    };
    assert_eq!(before, BTreeMap::from([("Joe Biden".into(), 1), ("Tom Hanks".into(), 1)]));

    let mut config = config(&cloud.table);
    (config.raw_bucket, config.processed_bucket) = (raw.clone(), cloud.processed_bucket.clone());
    config.gallery_queue_url = Some(cloud.gallery_queue_url.clone());
    let (router, _) = router(config, moto_s3().await).await;
    let created = call_with(&router, "POST", "/people", json!({"name": "Barack Obama"}), None).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let obama = created.json()["personId"].as_str().unwrap().to_string();
    let mut version = 1;
    let mut photo_ids = BTreeMap::new();
    for (what, bytes, content_type) in [
        ("usable", stack::photo("obama.jpg"), "image/jpeg"),
        ("group", stack::photo("friends.jpg"), "image/jpeg"),
        ("nobody", stack::photo("coffee.png"), "image/png"),
        ("garbage", b"these bytes are no image".to_vec(), "image/jpeg"),
    ] {
        let request = json!({"contentType": content_type, "sizeBytes": bytes.len()});
        let minted = call_with(&router, "POST", &format!("/people/{obama}/photos"), request, Some(version)).await;
        assert_eq!(minted.status, 201, "{what}: {}", String::from_utf8_lossy(&minted.body));
        let minted = minted.json();
        version = minted["version"].as_u64().unwrap();
        let put = put_minted(&minted, bytes).await;
        assert_eq!(put.status, 200, "{what}");
        photo_ids.insert(minted["photoId"].as_str().unwrap().to_string(), what);
    }
    let pending = call_with(&router, "GET", &format!("/people/{obama}"), Value::Null, None).await.json();
    assert!(pending["photos"].as_array().unwrap().iter().all(|p| p["status"] == "pending"), "{pending:#}");

    // The checker drains the queue: it imports the hand-filled folders on first use (no
    // manifest yet), checks the uploads S3 told it of, and writes the manifest.
    let queue = cloud.gallery_queue_url.clone();
    with_checker(&cloud, move |checker, models| checker.serve(&queue, Duration::from_secs(1), true, models).unwrap());
    let checked = call_with(&router, "GET", &format!("/people/{obama}"), Value::Null, None).await.json();
    let verdicts: BTreeMap<&str, (String, String)> = checked["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let what = photo_ids[p["photoId"].as_str().unwrap()];
            (what, (p["status"].as_str().unwrap().to_string(), p["reason"].as_str().unwrap_or_default().to_string()))
        })
        .collect();
    assert_eq!(verdicts["usable"], ("usable".to_string(), String::new()), "{verdicts:#?}");
    assert!(verdicts["group"].1.contains("faces found"), "{verdicts:#?}");
    assert!(verdicts["nobody"].1.contains("no face found"), "{verdicts:#?}");
    assert!(verdicts["garbage"].1.contains("not a readable image"), "{verdicts:#?}");
    assert!(verdicts.values().filter(|(status, _)| status == "rejected").count() == 3, "{verdicts:#?}");

    let people = call_with(&router, "GET", "/people", Value::Null, None).await.json();
    let listed: BTreeMap<&str, u64> = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["photos"]["usable"].as_u64().unwrap()))
        .collect();
    assert_eq!(listed, BTreeMap::from([("Barack Obama", 1), ("Joe Biden", 1), ("Tom Hanks", 1)]));

    // A job created now enrols the manifest: the same people as the folders named, and
    // the one usable upload, each with their registry id.
    let manifest_uri = S3Uri::new(&raw, manifest_key("gallery/"));
    let cache = S3Uri::new(&cloud.processed_bucket, "cache/gallery/");
    let (after, manifest) = {
        let (raw, cache) = (raw.clone(), cache.clone());
        stack::with_aws(move |aws| {
            let manifest: GalleryManifest = serde_json::from_slice(&aws.get(&manifest_uri).unwrap().unwrap()).unwrap();
            let (_runtime, mut models) = models();
            let created = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
            (enrol(&S3Uri::new(&raw, "gallery/"), Some(created), cache, aws, &mut models).unwrap(), manifest)
        })
    };
    let mut expected = before.clone();
    expected.insert("Barack Obama".into(), 1);
    assert_eq!(enrolled(&after), expected);
    assert!(after.manifest_version.is_some());
    assert_eq!(after.person_ids.get("Barack Obama"), Some(&obama));
    assert_eq!(manifest.people.iter().map(|p| p.photos.len()).sum::<usize>(), 3, "usable photos only");

    // Importing again adds nothing.
    let again = with_checker(&cloud, |checker, models| checker.import(models).unwrap());
    assert_eq!(again, Imported::default());

    // Erasing Obama erases his photos' cached verdicts too, and the manifest drops him.
    let erased = call_with(&router, "DELETE", &format!("/people/{obama}"), Value::Null, Some(version)).await;
    assert_eq!(erased.status, 200, "{}", String::from_utf8_lossy(&erased.body));
    let queue = cloud.gallery_queue_url.clone();
    with_checker(&cloud, move |checker, models| checker.serve(&queue, Duration::from_secs(1), true, models).unwrap());
    let hashes: Vec<String> = manifest
        .people
        .iter()
        .filter(|p| p.id == obama)
        .flat_map(|p| p.photos.iter().map(|f| f.sha256.clone()))
        .collect();
    assert_eq!(hashes.len(), 1);
    let (left, manifest) = stack::with_aws(move |aws| {
        let left = aws.list(&S3Uri::new(&cache.bucket, format!("{}{}/", cache.key, hashes[0]))).unwrap();
        let manifest: GalleryManifest =
            serde_json::from_slice(&aws.get(&S3Uri::new(&raw, manifest_key("gallery/"))).unwrap().unwrap()).unwrap();
        (left, manifest)
    });
    assert!(left.is_empty(), "the erased photo's verdicts are gone: {left:?}");
    assert_eq!(manifest.people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().len(), 2);
    assert!(manifest.people.iter().all(|p| p.id != obama));
}
