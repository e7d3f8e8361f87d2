//! Late binding on real analyses: four videos analysed with the real models (the demo at
//! two sampling rates, turned by its display matrix, and mirrored), written to moto as
//! the merge writes them, corrected through the API, with the real curation worker
//! scanning the index of unknown faces. No video is decoded after the analyses.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, VersioningConfiguration,
};
use axum::Router;
use cameo_detector::cloud::checker::GalleryChecker;
use cameo_detector::cloud::curator::Curator;
use cameo_detector::cloud::learner::Learning;
use cameo_detector::cloud::s3::S3Uri;
use cameo_model::curation::track_ids;
use cameo_model::people::PhotoSource;
use cameo_model::results::ResultsDocument;
use cameo_model::table::movie_id;
use cameo_model::unknown_index::INDEX_PREFIX;
use serde_json::{Value, json};
use support::demo::{Analyse, Merged, Outputs, analysed, group, names, unknown_at, write_merged};
use support::*;

const A: &str = "s3://cameo-raw/videos/a/film.mp4";
const B: &str = "s3://cameo-raw/videos/b/film.mp4";
const C: &str = "s3://cameo-raw/videos/c/film.mp4";
const D: &str = "s3://cameo-raw/videos/d/film.mp4";

/// Biden is on screen from 9 s, Hopper from 14 s; neither is in the demo gallery.
const BIDEN_AT: f64 = 9.0;
const HOPPER_AT: f64 = 14.0;

struct Library {
    router: Router,
    table: String,
    queue: String,
    bucket: String,
    raw: String,
    obama: String,
}

async fn library() -> Library {
    let table = table("binding");
    let s3 = moto_s3().await;
    let bucket = format!("binding-{}", uuid::Uuid::new_v4().simple());
    let raw = format!("binding-raw-{}", uuid::Uuid::new_v4().simple());
    let region = std::env::var("AWS_REGION").expect("AWS_REGION is set by make test");
    let here =
        CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region.as_str()));
    for bucket in [&bucket, &raw] {
        s3.create_bucket().bucket(bucket).create_bucket_configuration(here.clone().build()).send().await.unwrap();
        let versioned = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
        s3.put_bucket_versioning().bucket(bucket).versioning_configuration(versioned).send().await.unwrap();
    }
    let name = format!("binding-{}", uuid::Uuid::new_v4().simple());
    let queue = moto_sqs().await.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
    let config = cameo_api::config::Config {
        processed_bucket: bucket.clone(),
        raw_bucket: raw.clone(),
        curation_queue_url: Some(queue.clone()),
        ..config(&table)
    };
    let (router, _) = router(config, s3).await;
    let obama = call(&router, event("POST", "/people", "", Some(r#"{"name": "Barack Obama"}"#), Some("ana"))).await;
    let obama = obama.json()["personId"].as_str().unwrap().to_string();
    Library { router, table, queue, bucket, raw, obama }
}

impl Library {
    /// Analyses a video as VideoJob `job` and writes what its merge writes.
    async fn add(&self, source: &'static str, job: &str, how: Analyse) -> Outputs {
        let obama = self.obama.clone();
        let outputs = tokio::task::spawn_blocking(move || analysed(source, &obama, how)).await.unwrap();
        let to = Merged { table: &self.table, bucket: &self.bucket, source, job, at: "2026-12-05T10:00:00Z" };
        write_merged(&to, &outputs);
        outputs
    }

    async fn call(&self, method: &str, path: &str, body: Value, version: Option<u64>) -> Answer {
        let body = (!body.is_null()).then(|| body.to_string());
        let tag = version.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
        let event = scoped_event(method, path, "", body.as_deref(), Some(("ana", &ALL_SCOPES)), &headers);
        call(&self.router, event).await
    }

    /// A video's audit trail.
    async fn log(&self, source: &str) -> Value {
        let answer = self.call("GET", &format!("/videos/{}/curation", movie_id(source)), Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// One action of an editor's, on the video as it stands; expected accepted.
    async fn act(&self, source: &str, body: Value) -> Value {
        let version = self.log(source).await["version"].as_u64().unwrap();
        let path = format!("/videos/{}/curation", movie_id(source));
        let answer = self.call("POST", &path, body.clone(), Some(version)).await;
        assert_eq!(answer.status, 202, "{body}: {}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    async fn undo(&self, source: &str, seq: u64) {
        let version = self.log(source).await["version"].as_u64().unwrap();
        let path = format!("/videos/{}/curation/{seq}/undo", movie_id(source));
        let answer = self.call("POST", &path, Value::Null, Some(version)).await;
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    }

    async fn result(&self, source: &str) -> ResultsDocument {
        let answer = self.call("GET", &format!("/videos/{}/result", movie_id(source)), Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        serde_json::from_slice(&answer.body).unwrap()
    }

    /// Drains the curation queue with the real worker, late binding on.
    fn work(&self) {
        let (table, queue, raw, bucket) =
            (self.table.clone(), self.queue.clone(), self.raw.clone(), self.bucket.clone());
        with_moto(move |aws| {
            let learning = Learning {
                index: S3Uri::new(&bucket, INDEX_PREFIX),
                cache: S3Uri::new(&bucket, "cache/gallery/"),
                models: Mutex::new(models().1),
            };
            let curator = Curator {
                aws,
                table,
                gallery: Some(S3Uri::new(&raw, "gallery/")),
                gallery_queue_url: None,
                teaches: true,
                learning: Some(&learning),
            };
            curator.serve(&queue, Duration::ZERO, true).expect("the worker drains the queue");
        })
    }

    /// Gives a person a photo through the API, and has the real gallery checker check it
    /// and write the manifest.
    async fn give_photo(&self, person_id: &str, jpeg: Vec<u8>) {
        let person = self.call("GET", &format!("/people/{person_id}"), Value::Null, None).await.json();
        let version = person["version"].as_u64().unwrap();
        let request = json!({"contentType": "image/jpeg", "sizeBytes": jpeg.len()});
        let minted = self.call("POST", &format!("/people/{person_id}/photos"), request, Some(version)).await;
        assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
        let minted = minted.json();
        let headers: Vec<(String, String)> =
            serde_json::from_value::<std::collections::BTreeMap<String, String>>(minted["upload"]["headers"].clone())
                .unwrap()
                .into_iter()
                .collect();
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let put = http("PUT", minted["upload"]["url"].as_str().unwrap(), &pairs, jpeg).await;
        assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
        let (table, raw, bucket, person_id) =
            (self.table.clone(), self.raw.clone(), self.bucket.clone(), person_id.to_string());
        with_moto(move |aws| {
            let checker = GalleryChecker {
                aws,
                table: table.clone(),
                gallery: S3Uri::new(&raw, "gallery/"),
                cache: S3Uri::new(&bucket, "cache/gallery/"),
                max_photo_bytes: 10 << 20,
            };
            let (_runtime, mut models) = models();
            for photo in aws.photos(&table, &person_id).unwrap() {
                checker.check_photo(&photo.key, &mut models).unwrap();
            }
            checker.rebuild_manifest().unwrap();
        });
    }

    /// The movies a person has photos from.
    fn photo_sources(&self, person_id: &str) -> Vec<Option<String>> {
        let (table, person_id) = (self.table.clone(), person_id.to_string());
        with_moto(move |aws| {
            let photos = aws.photos(&table, &person_id).unwrap();
            photos.iter().filter(|p| p.source == PhotoSource::Video).map(|p| p.movie_id.clone()).collect()
        })
    }
}

/// Whether `name` holds exactly the tracks of the cluster analysed at `seconds`.
fn holds(document: &ResultsDocument, name: &str, analysed: &ResultsDocument, seconds: f64) -> bool {
    let named = document.people.iter().find(|g| g.name == name);
    named.is_some_and(|g| track_ids(g) == track_ids(unknown_at(analysed, seconds)))
}

/// The actions cameo made in a video: (what, the cause's movie and number).
fn system_actions(log: &Value) -> Vec<(String, String, u64)> {
    let actions = log["actions"].as_array().unwrap().iter().filter(|a| a["by"]["id"] == "cameo:late-binding");
    actions
        .map(|a| {
            let cause = &a["cause"];
            (
                a["action"].as_str().unwrap().into(),
                cause["movieId"].as_str().unwrap().into(),
                cause["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_name_given_once_is_found_in_every_past_video_and_undone_with_its_cause() {
    let library = library().await;
    let a = library.add(A, "media/a", Analyse::demo(2.0)).await.document;
    // Other frames, a display matrix turning the picture, a mirror image.
    let b = library.add(B, "media/b", Analyse::demo(1.0)).await.document;
    let c = library.add(C, "media/c", Analyse { video: "demo_rotate90.mp4", ..Analyse::demo(2.0) }).await.document;
    let d =
        library.add(D, "media/d", Analyse { video: "demo_flip_horizontal.mp4", ..Analyse::demo(2.0) }).await.document;
    let a_id = movie_id(A);

    // Naming Biden in A names him in B, C and D, where he was unknown: cameo's actions,
    // each citing A's.
    let biden_a = unknown_at(&a, BIDEN_AT).id.clone();
    let named = library.act(A, json!({"action": "name", "clusterId": biden_a, "name": "Joe Biden"})).await;
    let biden = named["change"]["person"]["personId"].as_str().unwrap().to_string();
    library.work();
    for (source, analysed) in [(B, &b), (C, &c), (D, &d)] {
        let now = library.result(source).await;
        assert!(holds(&now, "Joe Biden", analysed, BIDEN_AT), "{source}: {:#?}", names(&now));
        assert_eq!(group(&now, "Joe Biden").person_id.as_deref(), Some(biden.as_str()));
        assert_eq!(system_actions(&library.log(source).await), [("name".to_string(), a_id.clone(), 1)], "{source}");
    }
    // Only a person's naming gives the person photos; cameo's relabels give none.
    let sources = library.photo_sources(&biden);
    assert!(!sources.is_empty() && sources.iter().all(|s| s.as_deref() == Some(a_id.as_str())), "{sources:?}");

    // In D, an editor says it is not him: his rejected example covers D's (mirrored) face.
    let d_biden = group(&library.result(D).await, "Joe Biden").id.clone();
    library.act(D, json!({"action": "reject", "clusterId": d_biden})).await;
    library.work();

    // Undoing A's naming takes back what it caused in B and C; D's relabel was touched
    // by a person since, and stays as they left it.
    library.undo(A, 1).await;
    library.work();
    for (source, analysed) in [(B, &b), (C, &c)] {
        let now = library.result(source).await;
        assert_eq!(
            now.people.iter().map(|p| &p.name).collect::<Vec<_>>(),
            analysed.people.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        assert_eq!(track_ids(unknown_at(&now, BIDEN_AT)), track_ids(unknown_at(analysed, BIDEN_AT)), "{source}");
        let log = library.log(source).await;
        assert_eq!(system_actions(&log), [("name".into(), a_id.clone(), 1), ("undo".into(), a_id.clone(), 2)]);
    }
    let d_log = library.log(D).await;
    assert_eq!(system_actions(&d_log), [("name".to_string(), a_id.clone(), 1)]);
    assert!(library.result(D).await.people.iter().all(|p| p.name != "Joe Biden"));

    // Named again: B and C again, not D, where the rejected example covers the face.
    library.act(A, json!({"action": "name", "clusterId": biden_a, "personId": biden})).await;
    library.work();
    for (source, analysed) in [(B, &b), (C, &c)] {
        assert!(holds(&library.result(source).await, "Joe Biden", analysed, BIDEN_AT), "{source}");
    }
    let d_now = library.result(D).await;
    assert!(d_now.people.iter().all(|p| p.name != "Joe Biden"), "{:#?}", names(&d_now));
    assert_eq!(system_actions(&library.log(D).await).len(), 1);

    // A stranger close to two people stays unknown: another person's photo shows A's
    // Hopper, so naming Hopper in A gives Grace Hopper no lead (the margin) in B or C.
    let created = library.call("POST", "/people", json!({"name": "Hopper's Double"}), None).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let double = created.json()["personId"].as_str().unwrap().to_string();
    let hopper_a = unknown_at(&a, HOPPER_AT);
    let key = format!("results/media/a/{}", hopper_a.thumbnail.as_deref().expect("Hopper has a thumbnail"));
    let thumbnail = {
        let (bucket, key) = (library.bucket.clone(), key.clone());
        with_moto(move |aws| aws.get(&S3Uri::new(&bucket, key)).unwrap().expect("the crop is there"))
    };
    library.give_photo(&double, thumbnail).await;
    let hopper = library.act(A, json!({"action": "name", "clusterId": hopper_a.id, "name": "Grace Hopper"})).await;
    assert_eq!(hopper["after"][0]["name"], "Grace Hopper");
    library.work();
    for (source, analysed) in [(B, &b), (C, &c)] {
        let now = library.result(source).await;
        assert!(now.people.iter().all(|p| p.name != "Grace Hopper"), "{source}: {:#?}", names(&now));
        assert_eq!(track_ids(unknown_at(&now, HOPPER_AT)), track_ids(unknown_at(analysed, HOPPER_AT)), "{source}");
    }
}
