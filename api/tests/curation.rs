//! Correcting a result through the API, on a real analysis (the demo video against the
//! demo gallery, with the real models), moto's S3, DynamoDB and SQS, and the real
//! curation worker: name, reject, reassign, dismiss, split and undo each, with the video's
//! own answers showing every action at once and the worker's document, items and queries
//! agreeing once it has run; two editors racing; the audit per video and per person.

#[path = "support/demo.rs"]
mod demo;
mod support;

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use axum::Router;
use cameo_detector::cloud::curator::{Applied, Curator};
use cameo_detector::cloud::s3::S3Uri;
use cameo_model::curation::track_ids;
use cameo_model::people::{PhotoSource, PhotoStatus};
use cameo_model::results::ResultsDocument;
use cameo_model::table::{EntityType, movie_id};
use cameo_model::templates::TemplatesDocument;
use demo::{Analyse, Merged, Outputs, analysed, checker, group, names, unknown_at, write_merged};
use serde_json::{Value, json};
use support::*;

const JOB: &str = "media/demo";

/// The demo video analysed against the demo gallery (Obama, Collins, Hanks; Biden and
/// Hopper are unknown there), written to moto as the merge writes it.
struct Video {
    router: Router,
    table: String,
    queue: String,
    gallery_queue: String,
    bucket: String,
    raw: String,
    movie_id: String,
    /// Obama's id in the registry.
    obama: String,
}

const SOURCE: &str = "s3://cameo-raw/videos/demo/demo.mp4";

async fn video() -> Video {
    let table = table("curation");
    let s3 = moto_s3().await;
    let bucket = format!("curation-{}", uuid::Uuid::new_v4().simple());
    let raw = format!("curation-raw-{}", uuid::Uuid::new_v4().simple());
    let region = std::env::var("AWS_REGION").expect("AWS_REGION is set by make test");
    let here =
        CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region.as_str()));
    for bucket in [&bucket, &raw] {
        let create = s3.create_bucket().bucket(bucket).create_bucket_configuration(here.clone().build());
        create.send().await.expect("a bucket");
    }
    let new_queue = |name: &str| {
        let name = format!("{name}-{}", uuid::Uuid::new_v4().simple());
        async move { moto_sqs().await.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap() }
    };
    let (queue, gallery_queue) = (new_queue("curation").await, new_queue("gallery").await);
    let config = cameo_api::config::Config {
        processed_bucket: bucket.clone(),
        raw_bucket: raw.clone(),
        curation_queue_url: Some(queue.clone()),
        ..config(&table)
    };
    let (router, _) = router(config, s3.clone()).await;
    let obama = call(&router, event("POST", "/people", "", Some(r#"{"name": "Barack Obama"}"#), Some("ana"))).await;
    let obama = obama.json()["personId"].as_str().unwrap().to_string();
    let video = Video { router, table, queue, gallery_queue, bucket, raw, movie_id: movie_id(SOURCE), obama };
    video.analyse(JOB, "2026-12-05T10:00:00Z", Analyse::demo(2.0)).await;
    video
}

impl Video {
    /// Analyses the demo as VideoJob `job` submitted at `at` and writes what its merge
    /// writes: outputs, then items.
    async fn analyse(&self, job: &str, at: &str, how: Analyse) -> Outputs {
        let obama = self.obama.clone();
        let outputs = tokio::task::spawn_blocking(move || analysed(SOURCE, &obama, how)).await.unwrap();
        let to = Merged { table: &self.table, bucket: &self.bucket, source: SOURCE, job, at };
        write_merged(&to, &outputs);
        outputs
    }

    async fn call(&self, method: &str, path: &str, body: Value, version: Option<u64>) -> Answer {
        self.call_as("ana", &ALL_SCOPES, method, path, body, version).await
    }

    async fn call_as(
        &self,
        who: &str,
        scopes: &[&str],
        method: &str,
        path: &str,
        body: Value,
        version: Option<u64>,
    ) -> Answer {
        let body = (!body.is_null()).then(|| body.to_string());
        let tag = version.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
        let event = scoped_event(method, path, "", body.as_deref(), Some((who, scopes)), &headers);
        call(&self.router, event).await
    }

    /// The result as the video's own `GET` answers it now.
    async fn result(&self) -> ResultsDocument {
        let answer = self.call("GET", &format!("/videos/{}/result", self.movie_id), Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        serde_json::from_slice(&answer.body).unwrap()
    }

    async fn exports(&self) -> Value {
        let answer = self.call("GET", &format!("/videos/{}/exports", self.movie_id), Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// An export fetched by its presigned URL, as a browser would.
    async fn export_body(&self, exports: &Value, format: &str) -> String {
        let export = exports["exports"].as_array().unwrap().iter().find(|e| e["format"] == format).unwrap();
        let fetched = http("GET", export["url"].as_str().unwrap(), &[], Vec::new()).await;
        assert_eq!(fetched.status, 200, "{}", String::from_utf8_lossy(&fetched.body));
        assert_eq!(fetched.headers["content-type"], export["contentType"].as_str().unwrap());
        assert!(fetched.headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
        String::from_utf8(fetched.body).unwrap()
    }

    /// One action, expected accepted; returns its number (the new version).
    async fn act(&self, version: u64, body: Value) -> Value {
        let answer =
            self.call("POST", &format!("/videos/{}/curation", self.movie_id), body.clone(), Some(version)).await;
        assert_eq!(answer.status, 202, "{body}: {}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.headers["etag"], format!("\"{}\"", version + 1));
        answer.json()
    }

    async fn undo(&self, version: u64, seq: u64) -> Value {
        let path = format!("/videos/{}/curation/{seq}/undo", self.movie_id);
        let answer = self.call("POST", &path, Value::Null, Some(version)).await;
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        answer.json()
    }

    /// Drains the curation queue with the real worker.
    fn work(&self) -> Applied {
        let (table, queue, movie_id) = (self.table.clone(), self.queue.clone(), self.movie_id.clone());
        let gallery_queue_url = Some(self.gallery_queue.clone());
        let gallery = Some(S3Uri::new(&self.raw, "gallery/"));
        with_moto(move |aws| {
            let curator = Curator { aws, table, gallery, gallery_queue_url, teaches: true, learning: None };
            curator.serve(&queue, std::time::Duration::ZERO, true).expect("the worker drains the queue");
            curator.apply(&movie_id).expect("nothing left to apply")
        })
    }

    /// The rejected examples kept of a person from this movie: (correction, examples,
    /// whether their object is there).
    fn rejected(&self, person_id: &str) -> Vec<(u64, usize, bool)> {
        let (table, person_id, movie_id) = (self.table.clone(), person_id.to_string(), self.movie_id.clone());
        with_moto(move |aws| {
            let kept = aws.rejected(&table, &person_id, Some(&movie_id)).unwrap();
            let there = |uri: &str| aws.object_size(&S3Uri::parse(uri).unwrap()).unwrap().is_some();
            kept.iter().map(|k| (k.seq, k.examples, there(&k.uri))).collect()
        })
    }

    /// A person's photos from this movie: (correction, status, whether their object is there).
    fn photos_from_here(&self, person_id: &str) -> Vec<(Option<u64>, PhotoStatus, bool)> {
        let (table, person_id, raw) = (self.table.clone(), person_id.to_string(), self.raw.clone());
        let movie_id = self.movie_id.clone();
        with_moto(move |aws| {
            let photos = aws.photos(&table, &person_id).unwrap();
            let from_here =
                photos.iter().filter(|p| p.source == PhotoSource::Video && p.movie_id == Some(movie_id.clone()));
            let there = |key: &str| aws.object_size(&S3Uri::new(&raw, key)).unwrap().is_some();
            from_here.map(|p| (p.action, p.status, there(&p.key))).collect()
        })
    }

    /// The real gallery checker looks at a person's pending photos, as S3's notice makes it.
    fn check_photos(&self, person_id: &str) -> Vec<PhotoStatus> {
        let (table, person_id, raw, bucket) =
            (self.table.clone(), person_id.to_string(), self.raw.clone(), self.bucket.clone());
        with_moto(move |aws| {
            let checker = checker(aws, &table, &raw, &bucket);
            let (_runtime, mut models) = models();
            let photos = aws.photos(&table, &person_id).unwrap();
            photos.iter().map(|p| checker.check_photo(&p.key, &mut models).unwrap().expect("checked")).collect()
        })
    }

    /// How many messages the gallery checker's queue holds, taking them.
    async fn gallery_told(&self) -> usize {
        let received = moto_sqs().await.receive_message().queue_url(&self.gallery_queue).max_number_of_messages(10);
        received.send().await.unwrap().messages.unwrap_or_default().len()
    }

    /// The movie's entity items, as the queries read them.
    fn items(&self) -> Vec<(EntityType, String)> {
        let (table, pk) = (self.table.clone(), cameo_model::table::movie_pk_of_id(&self.movie_id));
        let mut items: Vec<(EntityType, String)> = with_moto(move |aws| aws.movie_partition(&table, &pk).unwrap().1)
            .into_iter()
            .map(|e| (e.entity_type, e.name))
            .collect();
        items.sort_by(|a, b| a.1.cmp(&b.1));
        items
    }
}

fn video_tracks(document: &ResultsDocument) -> Vec<&String> {
    let all = document.people.iter().chain(&document.unknown);
    all.flat_map(|g| g.appearances.iter().flat_map(|a| &a.track_ids)).collect()
}

#[tokio::test]
async fn corrections_show_at_once_reach_the_table_through_the_worker_and_undo() {
    let video = video().await;
    let analysed = video.result().await;
    let log = video.call("GET", &format!("/videos/{}/curation", video.movie_id), Value::Null, None).await;
    assert_eq!((log.status.as_u16(), log.headers["etag"].to_str().unwrap()), (200, "\"0\""));
    assert_eq!(log.json()["actions"], json!([]));

    // The exports the merge wrote, presigned: a cue per appearance.
    let exports = video.exports().await;
    assert_eq!(exports["upToDate"], true);
    let formats: Vec<&str> =
        exports["exports"].as_array().unwrap().iter().map(|e| e["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["vtt", "csv", "edl"]);
    let vtt = video.export_body(&exports, "vtt").await;
    let appearances: usize = analysed.people.iter().chain(&analysed.unknown).map(|g| g.appearances.len()).sum();
    assert_eq!(vtt.matches(" --> ").count(), appearances, "{vtt}");
    assert!(!vtt.contains("Joe Biden"));

    // Without If-Match, nothing; without the scope, nothing.
    let biden = unknown_at(&analysed, 9.0).id.clone();
    let name_biden = json!({"action": "name", "clusterId": biden, "name": "Joe Biden"});
    let path = format!("/videos/{}/curation", video.movie_id);
    let unguarded = video.call("POST", &path, name_biden.clone(), None).await;
    assert_eq!(unguarded.status, 428);
    let reader = video.call_as("rui", &["cameo/read"], "POST", &path, name_biden.clone(), Some(0)).await;
    assert_eq!((reader.status.as_u16(), reader.error().as_str()), (403, "insufficient_scope"));

    // One face is one person at a time: Obama is on screen with the cluster first seen at 9 s.
    let clash = json!({"action": "name", "clusterId": biden, "name": "Barack Obama"});
    let refused = video.call("POST", &path, clash, Some(0)).await;
    assert_eq!((refused.status.as_u16(), refused.error().as_str()), (409, "on_screen_together"));

    // Name: the cluster becomes a new person of the registry, at once in the video's answers.
    let named = video.act(0, name_biden).await;
    assert_eq!(named["by"]["displayName"], "ana");
    assert_eq!(named["before"][0]["kind"], "unknown");
    assert_eq!(named["after"][0]["name"], "Joe Biden");
    let person_id = named["change"]["person"]["personId"].as_str().unwrap().to_string();
    let now = video.result().await;
    assert_eq!(now.curation.map(|c| c.version), Some(1));
    assert_eq!(group(&now, "Joe Biden").person_id.as_deref(), Some(person_id.as_str()));
    assert_eq!(now.unknown.len(), analysed.unknown.len() - 1);
    let summary = video.call("GET", &format!("/people/{person_id}"), Value::Null, None).await.json();
    assert_eq!(summary["name"], "Joe Biden");

    // Only an unknown cluster is named; a named one is reassigned.
    let hopper = unknown_at(&now, 14.0).id.clone();
    let renamed = json!({"action": "name", "clusterId": group(&now, "Joe Biden").id, "name": "Grace Hopper"});
    let refused = video.call("POST", &path, renamed, Some(1)).await;
    assert_eq!((refused.status.as_u16(), refused.error().as_str()), (409, "not_unknown"));

    // Two editors race on one cluster: the first wins, the second read version 1 too.
    let first = video.call("POST", &path, json!({"action": "dismiss", "clusterId": hopper}), Some(1)).await;
    let second =
        video.call_as("bo", &ALL_SCOPES, "POST", &path, json!({"action": "split", "clusterId": hopper}), Some(1)).await;
    assert_eq!(first.status, 202, "{}", String::from_utf8_lossy(&first.body));
    assert_eq!((second.status.as_u16(), second.error().as_str()), (412, "precondition_failed"));
    let now = video.result().await;
    assert!(now.unknown.iter().all(|g| g.id != hopper));
    assert_eq!(now.dismissed.len(), 1);

    assert_eq!(video.exports().await["upToDate"], false, "corrections the worker has not written into the files");

    // The worker writes what the API answered: the document, the items, the queries.
    assert!(matches!(video.work(), Applied::UpToDate(2)));
    let exports = video.exports().await;
    assert_eq!(exports["upToDate"], true);
    let vtt = video.export_body(&exports, "vtt").await;
    let answered = video.call("GET", &format!("/videos/{}/result?format=vtt", video.movie_id), Value::Null, None).await;
    assert_eq!(vtt.as_bytes(), answered.body.as_slice(), "the file the worker wrote is the API's answer");
    assert!(vtt.contains("Joe Biden"));
    // Naming gave Biden the cluster's crops as photos (source: this video), checked like any.
    let given = video.photos_from_here(&person_id);
    assert!(!given.is_empty() && given.iter().all(|p| *p == (Some(1), PhotoStatus::Pending, true)), "{given:?}");
    assert_eq!(video.gallery_told().await, 1);
    let verdicts = video.check_photos(&person_id);
    assert_eq!(verdicts, vec![PhotoStatus::Usable; given.len()], "a face seen well makes usable photos");
    assert!(video.photos_from_here(&person_id).iter().all(|(_, status, _)| *status != PhotoStatus::Pending));
    let stored = video.result().await;
    assert_eq!(stored, now, "the worker's document is the one the API replayed");
    let listed = video.call("GET", "/actors/Joe%20Biden/videos", Value::Null, None).await.json();
    assert_eq!(listed["items"][0]["movieId"], video.movie_id.as_str(), "{listed}");
    let items = video.items();
    assert!(items.contains(&(EntityType::Actor, "Joe Biden".into())), "{items:?}");
    let unknown_items = items.iter().filter(|(kind, _)| *kind == EntityType::Unknown).count();
    assert_eq!(unknown_items, stored.unknown.len(), "dismissed clusters have no item");

    // Reject the whole of Obama: one new cluster of all his tracks; split one track off.
    let obama = group(&stored, "Barack Obama").clone();
    let rejected = video.act(2, json!({"action": "reject", "clusterId": obama.id})).await;
    let cluster = rejected["after"][0]["id"].as_str().unwrap().to_string();
    let now = video.result().await;
    assert!(now.people.iter().all(|p| p.name != "Barack Obama"), "{:#?}", names(&now));
    let rejected_group = now.unknown.iter().find(|g| g.id == cluster).expect("one new cluster");
    assert_eq!(track_ids(rejected_group), track_ids(&obama));
    let last = obama.appearances.last().unwrap().track_ids.clone();
    let split = video.act(3, json!({"action": "split", "clusterId": cluster, "trackIds": last})).await;
    assert_eq!(split["after"].as_array().unwrap().len(), 1);
    let now = video.result().await;
    assert_eq!(now.unknown.len(), stored.unknown.len() + 2, "{:#?}", names(&now));

    // Reassign: Biden's appearance moves to a person named by id, in one call.
    let ada = video.call("POST", "/people", json!({"name": "Ada Lovelace"}), None).await.json();
    let ada_id = ada["personId"].as_str().unwrap();
    let biden_group = group(&now, "Joe Biden").id.clone();
    video.act(4, json!({"action": "reassign", "clusterId": biden_group, "personId": ada_id})).await;
    let now = video.result().await;
    assert!(now.people.iter().all(|p| p.name != "Joe Biden"));
    assert_eq!(group(&now, "Ada Lovelace").person_id.as_deref(), Some(ada_id));

    // "Not this person" sticks: the worker keeps the rejected faces of Obama (all of his
    // tracks) and of Biden (the reassigned one) as their rejected examples, from the
    // video's templates, and tells the gallery checker to list them in the manifest.
    assert_eq!(video.work(), Applied::UpToDate(5));
    let (obama_kept, biden_kept) = (video.rejected(&video.obama), video.rejected(&person_id));
    assert!(matches!(obama_kept[..], [(3, examples, true)] if examples >= 3), "{obama_kept:?}");
    assert!(matches!(biden_kept[..], [(5, examples, true)] if examples >= 1), "{biden_kept:?}");
    assert_eq!(video.gallery_told().await, 1);

    // Undo each, newest first, back to the analysis.
    for (version, seq) in [(5, 5), (6, 4), (7, 3), (8, 2), (9, 1)] {
        let undone = video.undo(version, seq).await;
        assert_eq!(undone["undoes"], seq);
    }
    let again = video.call("POST", &format!("/videos/{}/curation/1/undo", video.movie_id), Value::Null, Some(10)).await;
    assert_eq!((again.status.as_u16(), again.error().as_str()), (409, "already_undone"));
    let restored = video.result().await;
    assert_eq!(
        ResultsDocument { curation: None, ..restored.clone() },
        analysed,
        "undoing everything restores the analysis"
    );
    assert!(matches!(video.work(), Applied::UpToDate(10)));
    assert_eq!(video.result().await, restored);
    assert_eq!((video.rejected(&video.obama), video.rejected(&person_id)), (vec![], vec![]), "undone, taken back");
    assert_eq!(video.photos_from_here(&person_id), vec![], "the named crops too");
    assert_eq!(video.gallery_told().await, 1);
    let erased = moto_s3().await.list_objects_v2().bucket(&video.bucket).prefix("templates/rejected/").send().await;
    assert_eq!(erased.unwrap().key_count(), Some(0), "their objects are erased");
    let photos = moto_s3().await.list_object_versions().bucket(&video.raw).prefix("gallery/").send().await.unwrap();
    assert!(photos.versions().is_empty(), "every version of the photos is erased");
    let listed = video.call("GET", "/actors/Joe%20Biden/videos", Value::Null, None).await.json();
    assert_eq!(listed["items"], json!([]), "{listed}");
    let obama_again = video.call("GET", "/actors/Barack%20Obama/videos", Value::Null, None).await.json();
    assert_eq!(obama_again["items"][0]["movieId"], video.movie_id.as_str());

    // The audit: per video, every action with who and what; per person, theirs.
    let log = video.call("GET", &path, Value::Null, None).await;
    assert_eq!(log.headers["etag"], "\"10\"");
    let log = log.json();
    let kinds: Vec<&str> = log["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["name", "dismiss", "reject", "split", "reassign", "undo", "undo", "undo", "undo", "undo"]);
    assert_eq!(log["actions"][0]["undoneBy"], 10);
    assert_eq!(log["actions"][1]["by"]["displayName"], "ana");
    let theirs = video.call("GET", &format!("/people/{person_id}/curation"), Value::Null, None).await.json();
    let seqs: Vec<u64> = theirs["actions"].as_array().unwrap().iter().map(|a| a["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [10, 6, 5, 1], "{theirs}");
}

#[tokio::test]
async fn corrections_survive_a_reanalysis_of_the_video_found_again_by_their_faces() {
    let video = video().await;
    let analysed = video.result().await;
    let path = format!("/videos/{}/curation", video.movie_id);
    let biden = unknown_at(&analysed, 9.0).id.clone();
    let stranger = unknown_at(&analysed, 5.0).id.clone();
    let far_face = group(&analysed, "Barack Obama").appearances.last().unwrap().track_ids.clone();
    video.act(0, json!({"action": "name", "clusterId": biden, "name": "Joe Biden"})).await;
    video.act(1, json!({"action": "dismiss", "clusterId": stranger})).await;
    let obama = group(&analysed, "Barack Obama").id.clone();
    video.act(2, json!({"action": "reject", "clusterId": obama, "trackIds": far_face})).await;
    assert_eq!(video.work(), Applied::UpToDate(3));
    let (kept, _) = with_moto({
        let (table, obama, movie_id) = (video.table.clone(), video.obama.clone(), video.movie_id.clone());
        move |aws| (aws.rejected(&table, &obama, Some(&movie_id)).unwrap(), ())
    });
    assert_eq!(kept.len(), 1);

    // The video is analysed again, at another rate, as shards enrol the manifest: Obama
    // comes with the faces people said are not him.
    let examples = with_moto(move |aws| aws.get(&S3Uri::parse(&kept[0].uri).unwrap()).unwrap().unwrap());
    let examples: TemplatesDocument = serde_json::from_slice(&examples).unwrap();
    let not_obama = examples.groups.into_iter().flat_map(|g| g.embeddings).map(|e| e.embedding).collect();
    // At 2.5 frames a second the faces that come on screen at 5 s and 9 s are first seen
    // at 5.2 s and 9.2 s: their tracks have new ids.
    let again =
        video.analyse("media/demo-again", "2026-12-05T11:00:00Z", Analyse { not_obama, ..Analyse::demo(2.5) }).await;
    assert_ne!(again.document.video.frames_analysed, analysed.video.frames_analysed, "another sampling");
    let old_ids: Vec<&String> = video_tracks(&analysed);
    let same = again.analysis.tracks.iter().filter(|t| old_ids.contains(&&t.id)).count();
    assert!(same < again.analysis.tracks.len(), "some tracks have new ids");
    let detected = &again.document;
    assert!(
        detected.people.iter().all(|p| p.appearances.iter().all(|a| a.start_seconds < 19.0)),
        "the rejected face is not named by the analysis itself: {:#?}",
        names(detected)
    );

    // The merge replays the corrections: the tracks are found again by their faces.
    let replayed = with_moto({
        let (table, movie_id) = (video.table.clone(), video.movie_id.clone());
        move |aws| Curator::replaying(aws, &table).apply(&movie_id).unwrap()
    });
    assert_eq!(replayed, Applied::Curated { version: 3, skipped: vec![] });
    let now = video.result().await;
    assert_eq!(now.video.frames_analysed, again.document.video.frames_analysed, "the new analysis, curated");
    let joe = group(&now, "Joe Biden");
    assert!((joe.first_seen_seconds - 9.0).abs() < 0.6, "{:#?}", names(&now));
    assert_eq!(now.dismissed.len(), 1);
    assert!((now.dismissed[0].first_seen_seconds - 5.0).abs() < 0.6);
    let listed = video.call("GET", "/actors/Joe%20Biden/videos", Value::Null, None).await.json();
    assert_eq!(listed["items"][0]["movieId"], video.movie_id.as_str());
    let log = video.call("GET", &path, Value::Null, None).await.json();
    assert!(log["actions"].as_array().unwrap().iter().all(|a| a.get("noLongerApplies").is_none()), "{log}");
    assert_eq!(log["lost"], Value::Null, "every corrected track was found again: {log}");

    // A correction made now is of the new analysis, and undoing an old one still works.
    let undone = video.undo(3, 1).await;
    assert_eq!(undone["undoes"], 1);
    assert!(video.result().await.people.iter().all(|p| p.name != "Joe Biden"));

    // Erasing Obama erases the faces people rejected as his, every version.
    let person = video.call("GET", &format!("/people/{}", video.obama), Value::Null, None).await;
    let version = person.json()["version"].as_u64().unwrap();
    let erased = video.call("DELETE", &format!("/people/{}", video.obama), Value::Null, Some(version)).await;
    assert_eq!(erased.status, 200, "{}", String::from_utf8_lossy(&erased.body));
    assert_eq!(video.rejected(&video.obama), vec![]);
    let left = moto_s3().await.list_object_versions().bucket(&video.bucket).prefix("templates/rejected/").send().await;
    assert!(left.unwrap().versions().is_empty(), "the examples' objects are erased");
}
