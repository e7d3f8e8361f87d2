//! Late binding on real analyses: four videos analysed with the real models (the demo at
//! two sampling rates, turned by its display matrix, and mirrored), written to moto as
//! the merge writes them, corrected through the API, with the real curation worker
//! scanning the index of unknown faces. No video is decoded after the analyses.

#[path = "support/demo.rs"]
mod demo;
#[path = "support/library.rs"]
mod library;
mod support;

use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::cloud::unknown_index::UnknownIndex;
use cameo_model::curation::track_ids;
use cameo_model::results::ResultsDocument;
use cameo_model::table::movie_id;
use cameo_model::unknown_index::{INDEX_PREFIX, shard_of};
use demo::{Analyse, group, names, unknown_at};
use library::library;
use serde_json::{Value, json};
use support::*;

const A: &str = "s3://cameo-raw/videos/a/film.mp4";
const B: &str = "s3://cameo-raw/videos/b/film.mp4";
const C: &str = "s3://cameo-raw/videos/c/film.mp4";
const D: &str = "s3://cameo-raw/videos/d/film.mp4";

/// Biden is on screen from 9 s, Hopper from 14 s; neither is in the demo gallery.
const BIDEN_AT: f64 = 9.0;
const HOPPER_AT: f64 = 14.0;

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

    // Erasing a video takes its unknown faces out of the index (the API cannot read it;
    // the worker is told).
    let erased = library.call("DELETE", &format!("/videos/{}", movie_id(B)), Value::Null, None).await;
    assert_eq!(erased.status, 200, "{}", String::from_utf8_lossy(&erased.body));
    library.work();
    let (bucket, b_id) = (library.bucket.clone(), movie_id(B));
    let left = with_moto(move |aws| {
        let index = UnknownIndex { aws, root: S3Uri::new(&bucket, INDEX_PREFIX) };
        let shards = index.shards().unwrap();
        let added = shards.get(&shard_of(&b_id)).cloned().unwrap_or_default();
        let read = index.read(&shard_of(&b_id), &added).unwrap();
        let entries = read.entries.iter().filter(|e| e.movie_id == b_id).count();
        // Not merely hidden: no version of its segment, nor of a packed segment that held it.
        let versions = aws.block_on(aws.s3.list_object_versions().bucket(&bucket).prefix(INDEX_PREFIX).send()).unwrap();
        let kept = versions.versions().iter().filter_map(|v| v.key()).filter(|key| {
            key.contains(&b_id) || (key.ends_with("packed.bin") && key.contains(&format!("/{}/", shard_of(&b_id))))
        });
        (entries, kept.count())
    });
    assert_eq!(left, (0, 1), "B's entries are gone, every version: its shard keeps one packed segment, without it");
}
