//! A video is analysed against one gallery: every shard enrols the registry's manifest as
//! it was when the VideoJob was created, however it changes while the shards run; and a
//! photo whose bytes changed since they were checked is not used; with the manifest come
//! the faces people rejected as each person. On moto's versioned S3
//! with the real models and photos.
#![cfg(feature = "cloud")]

mod support;

use std::time::Duration;

use cameo_detector::cloud::aws::Aws;
use cameo_detector::cloud::gallery::enrol;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::gallery::content_hash;
use cameo_model::people::{
    GalleryManifest, MANIFEST_VERSION, ManifestPerson, ManifestPhoto, ManifestRejected, manifest_key, photo_key,
};
use cameo_model::templates::{CropEmbedding, GroupTemplates, TEMPLATES_VERSION, TemplatesDocument};
use support::{load_image, load_models, photo};

const OBAMA: &str = "0ba0a000000000000000000000000001";
const BIDEN: &str = "b1de0000000000000000000000000002";

fn person(id: &str, name: &str, photos: &[(&str, &[u8])]) -> ManifestPerson {
    ManifestPerson {
        id: id.into(),
        name: name.into(),
        photos: photos
            .iter()
            .map(|(key, bytes)| ManifestPhoto { key: key.to_string(), sha256: content_hash(bytes) })
            .collect(),
        rejected: vec![],
    }
}

fn put(aws: &Aws, bucket: &str, key: &str, bytes: Vec<u8>) {
    aws.put(&S3Uri::new(bucket, key), bytes, "application/octet-stream").expect("written to moto");
}

/// Waits until the clock is in a later whole second than now.
fn next_second() -> jiff::Timestamp {
    let now = jiff::Timestamp::now().as_second();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let later = jiff::Timestamp::now();
        if later.as_second() > now {
            return later;
        }
    }
}

#[test]
fn every_shard_enrols_the_manifest_current_when_the_job_was_created() {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: this test needs moto; run it under hack/with-cluster (make test)"
    );
    let aws = Aws::from_env().expect("AWS clients for moto");
    let bucket = format!("pin-{}-{}", std::process::id(), jiff::Timestamp::now().subsec_nanosecond());
    aws.create_bucket(&bucket).unwrap();
    let versioning = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    aws.block_on(aws.s3.put_bucket_versioning().bucket(&bucket).versioning_configuration(versioning).send())
        .expect("versioning on");
    let read = |name: &str| std::fs::read(photo(name)).expect("a test photo");
    let (obama, obama2, biden) = (read("obama.jpg"), read("obama2.jpg"), read("biden.jpg"));
    let keys = [
        photo_key("gallery/", OBAMA, "00000000000000000000000000000001", "jpg"),
        photo_key("gallery/", OBAMA, "00000000000000000000000000000002", "jpg"),
        photo_key("gallery/", BIDEN, "00000000000000000000000000000003", "jpg"),
    ];
    for (key, bytes) in keys.iter().zip([&obama, &obama2, &biden]) {
        put(&aws, &bucket, key, bytes.clone());
    }
    let manifest =
        |people| serde_json::to_vec(&GalleryManifest { schema_version: MANIFEST_VERSION.into(), people }).unwrap();
    let gallery = S3Uri::new(&bucket, "gallery/");
    let manifest_key = manifest_key("gallery/");

    let (_runtime, mut models) = load_models();
    // A face people said is not Obama (Biden's), as the curation worker keeps it, and a
    // second whose bytes changed after it was listed.
    let (_, not_him) = models.faces_in_image(&load_image(&photo("biden.jpg"))).unwrap().remove(0);
    let recognizer = models.fp32_recognizer_info().unwrap_or_else(|| models.recognizer_info());
    let examples = TemplatesDocument {
        schema_version: TEMPLATES_VERSION.into(),
        recognizer,
        groups: vec![GroupTemplates {
            id: "rejected".into(),
            name: "Barack Obama".into(),
            known: true,
            faces: 1,
            embeddings: vec![CropEmbedding { crop: "faces/c1/face-1.jpg".into(), embedding: not_him.0 }],
        }],
    };
    let examples = serde_json::to_vec(&examples).unwrap();
    let rejected =
        |key: &str, bytes: &[u8]| ManifestRejected { uri: format!("s3://{bucket}/{key}"), sha256: content_hash(bytes) };
    let listed = [rejected("templates/rejected/a.json", &examples), rejected("templates/rejected/b.json", &examples)];
    put(&aws, &bucket, "templates/rejected/a.json", examples.clone());
    put(&aws, &bucket, "templates/rejected/b.json", b"changed".to_vec());

    put(&aws, &bucket, &manifest_key, manifest(vec![person(OBAMA, "Barack Obama", &[(&keys[0], &obama)])]));
    let created = next_second();
    // While the shards run the registry moves on: Biden joins, a photo of Obama is
    // listed with bytes other than those at its key, and people reject faces as his.
    let mut obama_now = person(OBAMA, "Barack Obama", &[(&keys[0], &obama), (&keys[1], b"other bytes")]);
    obama_now.rejected = listed.to_vec();
    put(&aws, &bucket, &manifest_key, manifest(vec![obama_now, person(BIDEN, "Joe Biden", &[(&keys[2], &biden)])]));
    let later = next_second();

    let cache = S3Uri::new(&bucket, "cache/gallery/");
    let shard = |at, models: &mut cameo_detector::models::Models| {
        enrol(&gallery, Some(at), cache.clone(), &aws, models).expect("enrolled")
    };
    let first = shard(created, &mut models);
    let second = shard(created, &mut models);
    let names = |g: &cameo_detector::gallery::Gallery| g.people.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first), vec!["Barack Obama"]);
    assert_eq!(first.manifest_version, second.manifest_version, "two shards, one gallery");
    assert_eq!(first.summary().person_ids.get("Barack Obama").map(String::as_str), Some(OBAMA));
    assert!(first.people[0].rejected.is_empty(), "no rejections when the job was created");

    let next_job = shard(later, &mut models);
    assert_ne!(next_job.manifest_version, first.manifest_version);
    assert_eq!(names(&next_job), vec!["Barack Obama", "Joe Biden"]);
    assert_eq!(next_job.people[0].embeddings.len(), 1, "the changed photo is not used");
    assert_eq!(next_job.people[0].rejected.len(), 1, "the changed examples are not used");
    assert!(next_job.people[1].rejected.is_empty());
    let skipped: Vec<&str> = next_job.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(skipped, vec!["the photo changed since it was checked", "it changed since the manifest listed it"]);

    let unpinned = enrol(&gallery, None, cache.clone(), &aws, &mut models).expect("enrolled");
    assert!(
        unpinned.people.is_empty() && unpinned.manifest_version.is_none(),
        "no pin: the folders, and there are none"
    );
}
