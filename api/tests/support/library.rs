//! A library of analysed videos for the late-binding test and bench: real analyses
//! written to moto as the merge writes them, corrected through the API, with the real
//! curation worker (late binding on) and the real gallery checker. Declared beside
//! `support` and `demo`.
#![allow(dead_code)] // each test file uses a part

use std::time::Duration;

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, VersioningConfiguration,
};
use axum::Router;
use cameo_detector::cloud::curator::Curator;
use cameo_detector::cloud::learner::Learning;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::cloud::shard::JobOutput;
use cameo_model::people::PhotoSource;
use cameo_model::results::ResultsDocument;
use cameo_model::table::movie_id;
use serde_json::{Value, json};

use crate::demo::{Analyse, Merged, Outputs, analysed, checker, write_merged};
use crate::support::*;

pub struct Library {
    pub router: Router,
    pub table: String,
    pub queue: String,
    pub bucket: String,
    pub raw: String,
    pub obama: String,
}

pub async fn library() -> Library {
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
    pub async fn add(&self, source: &'static str, job: &str, how: Analyse) -> Outputs {
        let obama = self.obama.clone();
        let outputs = tokio::task::spawn_blocking(move || analysed(source, &obama, how)).await.unwrap();
        let to = Merged { table: &self.table, bucket: &self.bucket, source, job, at: "2026-12-05T10:00:00Z" };
        write_merged(&to, &outputs);
        outputs
    }

    pub async fn call(&self, method: &str, path: &str, body: Value, version: Option<u64>) -> Answer {
        let body = (!body.is_null()).then(|| body.to_string());
        let tag = version.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
        let event = scoped_event(method, path, "", body.as_deref(), Some(("ana", &ALL_SCOPES)), &headers);
        call(&self.router, event).await
    }

    /// A video's audit trail.
    pub async fn log(&self, source: &str) -> Value {
        let answer = self.call("GET", &format!("/videos/{}/curation", movie_id(source)), Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// One action of an editor's, on the video as it stands; expected accepted.
    pub async fn act(&self, source: &str, body: Value) -> Value {
        let version = self.log(source).await["version"].as_u64().unwrap();
        let path = format!("/videos/{}/curation", movie_id(source));
        let answer = self.call("POST", &path, body.clone(), Some(version)).await;
        assert_eq!(answer.status, 202, "{body}: {}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    pub async fn undo(&self, source: &str, seq: u64) {
        let version = self.log(source).await["version"].as_u64().unwrap();
        let path = format!("/videos/{}/curation/{seq}/undo", movie_id(source));
        let answer = self.call("POST", &path, Value::Null, Some(version)).await;
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    }

    /// A GET that must answer 200, as JSON.
    pub async fn get(&self, path: &str) -> Value {
        let answer = self.call("GET", path, Value::Null, None).await;
        assert_eq!(answer.status, 200, "{path}: {}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// The whole review queue, a page of two groups at a time.
    pub async fn review(&self) -> Vec<Value> {
        let mut groups = Vec::new();
        let mut path = "/review?limit=2".to_string();
        loop {
            let page = self.get(&path).await;
            groups.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => path = format!("/review?limit=2&next={next}"),
                None => return groups,
            }
        }
    }

    pub async fn result(&self, source: &str) -> ResultsDocument {
        let answer = self.call("GET", &format!("/videos/{}/result", movie_id(source)), Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        serde_json::from_slice(&answer.body).unwrap()
    }

    /// Drains the curation queue with the real worker, late binding on.
    pub fn work(&self) {
        let (table, queue, raw, bucket) =
            (self.table.clone(), self.queue.clone(), self.raw.clone(), self.bucket.clone());
        with_moto(move |aws| {
            let learning = Learning::of(&JobOutput::new(&bucket, "", ""), models().1);
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

    /// Creates a person through the API; their id.
    pub async fn create_person(&self, name: &str) -> String {
        let created = self.call("POST", "/people", json!({"name": name}), None).await;
        assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
        created.json()["personId"].as_str().unwrap().to_string()
    }

    /// The JPEG of a group's thumbnail in the results of `job`.
    pub fn thumbnail(&self, job: &str, group: &cameo_model::results::PersonAppearances) -> Vec<u8> {
        let path = group.thumbnail.as_deref().unwrap_or_else(|| panic!("{} has a thumbnail", group.id));
        let (bucket, key) = (self.bucket.clone(), format!("results/{job}/{path}"));
        with_moto(move |aws| aws.get(&S3Uri::new(&bucket, key)).unwrap().expect("the crop is there"))
    }

    /// Gives a person a photo through the API, and has the real gallery checker check it
    /// and write the manifest.
    pub async fn give_photo(&self, person_id: &str, jpeg: Vec<u8>) {
        let person = self.call("GET", &format!("/people/{person_id}"), Value::Null, None).await.json();
        let version = person["version"].as_u64().unwrap();
        let request = json!({"contentType": "image/jpeg", "sizeBytes": jpeg.len()});
        let minted = self.call("POST", &format!("/people/{person_id}/photos"), request, Some(version)).await;
        assert_eq!(minted.status, 201, "{}", String::from_utf8_lossy(&minted.body));
        let minted = minted.json();
        let put = put_minted(&minted, jpeg).await;
        assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
        self.check(Some(person_id.to_string()));
    }

    /// Has the real gallery checker check every person's photos and rewrite the manifest,
    /// as it does when the worker tells it that photos were given.
    pub fn check_gallery(&self) {
        self.check(None);
    }

    /// Checks one person's photos (`None`: everyone's), then rewrites the manifest.
    fn check(&self, person_id: Option<String>) {
        let (table, raw, bucket) = (self.table.clone(), self.raw.clone(), self.bucket.clone());
        with_moto(move |aws| {
            let checker = checker(aws, &table, &raw, &bucket);
            let (_runtime, mut models) = models();
            let people = match person_id {
                Some(id) => vec![id],
                None => aws.people(&table).unwrap().into_iter().map(|p| p.person_id).collect(),
            };
            for photo in people.iter().flat_map(|id| aws.photos(&table, id).unwrap()) {
                checker.check_photo(&photo.key, &mut models).unwrap();
            }
            checker.rebuild_manifest().unwrap();
        });
    }

    /// The movies a person has photos from.
    pub fn photo_sources(&self, person_id: &str) -> Vec<Option<String>> {
        let (table, person_id) = (self.table.clone(), person_id.to_string());
        with_moto(move |aws| {
            let photos = aws.photos(&table, &person_id).unwrap();
            photos.iter().filter(|p| p.source == PhotoSource::Video).map(|p| p.movie_id.clone()).collect()
        })
    }
}
