//! Late binding on real analyses: four videos analysed with the real models (the demo at
//! two sampling rates, turned by its display matrix, and mirrored), written to moto as
//! the merge writes them, corrected through the API and given people's photos, with the
//! real gallery checker and the real curation worker scanning the index of unknown faces
//! (for a naming, for photos and a merge) and surveying it for suggestions. No video is
//! decoded after the analyses.

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

/// The actions cameo made in a video: (what, its cause).
fn system_actions(log: &Value) -> Vec<(String, Value)> {
    let actions = log["actions"].as_array().unwrap().iter().filter(|a| a["by"]["id"] == "cameo:late-binding");
    actions.map(|a| (a["action"].as_str().unwrap().into(), a["cause"].clone())).collect()
}

/// Where an unknown cluster was first seen: its movie, the time, the centre of its face.
type Sighting = (String, f64, (f64, f64));

/// A person's action as a cause.
fn action(movie_id: &str, seq: u64) -> Value {
    json!({"movieId": movie_id, "seq": seq})
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
        assert_eq!(system_actions(&library.log(source).await), [("name".to_string(), action(&a_id, 1))], "{source}");
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
        assert_eq!(system_actions(&log), [("name".into(), action(&a_id, 1)), ("undo".into(), action(&a_id, 2))]);
    }
    let d_log = library.log(D).await;
    assert_eq!(system_actions(&d_log), [("name".to_string(), action(&a_id, 1))]);
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

    // Photos teach too, and a stranger close to two people stays unknown: two people are
    // given a photo of Hopper each at once (A's crop and C's), so neither leads the other
    // by the margin in any video, and Hopper stays unknown everywhere.
    let grace = library.create_person("Grace Hopper").await;
    let double = library.create_person("Hopper's Double").await;
    library.give_photo(&grace, library.thumbnail("media/c", unknown_at(&c, HOPPER_AT))).await;
    library.give_photo(&double, library.thumbnail("media/a", unknown_at(&a, HOPPER_AT))).await;
    library.work();
    for (source, analysed) in [(A, &a), (B, &b), (C, &c), (D, &d)] {
        let now = library.result(source).await;
        assert!(now.people.iter().all(|p| !p.name.contains("Hopper")), "{source}: {:#?}", names(&now));
        assert_eq!(track_ids(unknown_at(&now, HOPPER_AT)), track_ids(unknown_at(analysed, HOPPER_AT)), "{source}");
    }

    // Suggestions, surveyed by the worker once the checker has taken in Hopper's crops:
    // B's Hopper stays unknown, with both people suggested and neither passing the rule;
    // for Grace Hopper, B's and C's clusters are the nearest misses.
    library.check_gallery();
    library.work();
    for (source, analysed) in [(B, &b), (C, &c)] {
        let cluster = unknown_at(analysed, HOPPER_AT).id.clone();
        let suggested = library.get(&format!("/videos/{}/suggestions", movie_id(source))).await;
        let found = suggested["clusters"].as_array().unwrap().iter().find(|c| c["clusterId"] == cluster.as_str());
        let candidates = found.unwrap_or_else(|| panic!("{source}: no suggestions for Hopper in {suggested:#}"));
        let candidates = candidates["candidates"].as_array().unwrap();
        let suggested_names: Vec<&str> = candidates.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert!(
            suggested_names.contains(&"Grace Hopper") && suggested_names.contains(&"Hopper's Double"),
            "{candidates:#?}"
        );
        let passing = |c: &&Value| c["votes"].as_u64().unwrap() * 2 > c["crops"].as_u64().unwrap();
        assert!(!candidates.iter().any(|c| passing(&c)), "{source}: {candidates:#?}");
        let near = library.get(&format!("/people/{grace}/suggestions")).await;
        let missed = near["items"].as_array().unwrap();
        let hit =
            missed.iter().any(|m| m["movieId"] == movie_id(source).as_str() && m["clusterId"] == cluster.as_str());
        assert!(hit, "{source}: {near:#}");
    }
    // The review queue: every unknown cluster of the four videos once, grouped by likeness,
    // the most seen groups first. The six strangers share the screen from 5 s; the four
    // videos show each at one place (turned and mirrored back for display), so a group
    // holds one stranger when its clusters were first seen at one time and place, at
    // most one per video.
    let queue = library.review().await;
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut sightings: Vec<Vec<Sighting>> = Vec::new();
    for group in &queue {
        let mut seen = Vec::new();
        for cluster in group["clusters"].as_array().unwrap() {
            let movie = cluster["movieId"].as_str().unwrap().to_string();
            let id = cluster["clusterId"].as_str().unwrap().to_string();
            let source = [A, B, C, D].into_iter().find(|s| movie_id(s) == movie).expect("one of the four");
            let now = library.result(source).await;
            let found = now.unknown.iter().find(|g| g.id == id);
            let found = found.unwrap_or_else(|| panic!("{id} is not unknown in {source}"));
            let bbox = &found.appearances[0].sample.bbox;
            let centre = (bbox.x as f64 + bbox.width as f64 / 2.0, bbox.y as f64 + bbox.height as f64 / 2.0);
            seen.push((movie.clone(), found.first_seen_seconds, centre));
            listed.push((movie, id));
        }
        sightings.push(seen);
    }
    let times: Vec<f64> = queue.iter().map(|g| g["screenTimeSeconds"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    for seen in &sightings {
        let (_, at, (x, y)) = &seen[0];
        let one = seen.iter().all(|(_, t, (u, v))| (t - at).abs() < 1.0 && (u - x).hypot(v - y) < 64.0);
        let mut movies: Vec<&String> = seen.iter().map(|(m, _, _)| m).collect();
        movies.sort();
        movies.dedup();
        assert!(one && movies.len() == seen.len(), "one group, two strangers: {sightings:?}");
    }
    let mut unknown_now = Vec::new();
    for source in [A, B, C, D] {
        let now = library.result(source).await;
        unknown_now.extend(now.unknown.iter().map(|g| (movie_id(source), g.id.clone())));
    }
    listed.sort();
    unknown_now.sort();
    assert_eq!(listed, unknown_now, "the queue holds every unknown cluster, once");
    let strangers = sightings.iter().filter(|seen| seen.len() == 4 && (seen[0].1 - 5.0).abs() < 0.6).count();
    assert_eq!(strangers, 6, "each stranger of the crowd is one group across the four videos: {sightings:?}");
    let hopper_group = sightings.iter().find(|seen| seen.iter().any(|(_, t, _)| (t - HOPPER_AT).abs() < 0.6));
    assert_eq!(hopper_group.map(Vec::len), Some(4), "the four videos' Hopper are one group: {sightings:?}");

    // A merge teaches: the double was Hopper all along. Merged into Grace Hopper, their
    // photo joins hers, and Hopper is named after her in the videos, citing the photo.
    let version = library.get(&format!("/people/{grace}")).await["version"].as_u64().unwrap();
    let merged =
        library.call("POST", &format!("/people/{grace}/merge"), json!({"personId": double}), Some(version)).await;
    assert_eq!(merged.status, 200, "{}", String::from_utf8_lossy(&merged.body));
    library.check_gallery();
    library.work();
    for (source, analysed) in [(A, &a), (B, &b), (C, &c)] {
        let now = library.result(source).await;
        assert!(holds(&now, "Grace Hopper", analysed, HOPPER_AT), "{source}: {:#?}", names(&now));
        let causes: Vec<Value> = system_actions(&library.log(source).await).into_iter().map(|(_, c)| c).collect();
        let photo = causes.iter().find(|c| c["personId"] == grace.as_str());
        assert!(photo.is_some_and(|c| c["photos"].as_array().is_some_and(|p| p.len() == 1)), "{source}: {causes:?}");
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
    let queue = library.review().await;
    let movies: Vec<&str> =
        queue.iter().flat_map(|g| g["clusters"].as_array().unwrap()).map(|c| c["movieId"].as_str().unwrap()).collect();
    assert!(!movies.is_empty() && !movies.contains(&movie_id(B).as_str()), "{movies:?}");
}
