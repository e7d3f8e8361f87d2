//! The table's questions against moto's DynamoDB, holding items written by the detector's
//! real merge code: videos by genre, director and day, an actor's videos, the latest
//! result, a page at a time with nothing skipped or repeated.

mod support;

use std::collections::BTreeSet;

use cameo_detector::cloud::table::{Provenance, items};
use serde_json::{Value, json};
use support::*;

const MOVIES: usize = 250;

fn video_id(i: usize) -> String {
    format!("{i:032x}")
}

/// Every item of every page of `path?query`, `limit` at a time.
async fn all_pages(router: &axum::Router, path: &str, query: &str, limit: usize) -> Vec<Value> {
    let (mut items, mut next) = (Vec::new(), None::<String>);
    for _ in 0..=MOVIES {
        let mut q = format!("{query}{}limit={limit}", if query.is_empty() { "" } else { "&" });
        if let Some(token) = &next {
            q.push_str(&format!("&next={token}"));
        }
        let answer = call(router, event("GET", path, &q, None, Some("ana"))).await;
        assert_eq!(answer.status, 200, "{path}?{q}: {}", String::from_utf8_lossy(&answer.body));
        let page = answer.json();
        let page_items = page["items"].as_array().unwrap();
        assert!(page_items.len() <= limit);
        items.extend(page_items.iter().cloned());
        match page["next"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => return items,
        }
    }
    panic!("{path}?{query} never ended")
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["videoId"].as_str().unwrap().to_string()).collect()
}

fn expected(filter: impl Fn(usize) -> bool) -> BTreeSet<String> {
    (0..MOVIES).filter(|&i| filter(i)).map(video_id).collect()
}

/// Every id once: as many ids as distinct ids, and the distinct ones are `expected`.
fn each_once(found: Vec<String>, expected: BTreeSet<String>, what: &str) {
    let distinct: BTreeSet<String> = found.iter().cloned().collect();
    assert_eq!(found.len(), distinct.len(), "{what}: an item was repeated");
    assert_eq!(distinct, expected, "{what}: the wrong items, or some skipped");
}

#[tokio::test]
async fn the_indexes_answer_a_page_at_a_time_and_never_skip_or_repeat() {
    let table = table("queries");
    let processed = format!("api-results-{}", uuid::Uuid::new_v4().simple());
    let mut config = config(&table);
    config.processed_bucket = processed.clone();
    let written = (table.clone(), processed.clone());
    with_moto(move |aws| {
        let (table, processed) = written;
        aws.create_bucket(&processed).unwrap();
        for i in 0..MOVIES {
            let source = format!("s3://{RAW}/videos/{}/film-{i}.mp4", video_id(i));
            let mut people = vec![("Ada Lovelace", 4.0, 1.0)];
            if i % 5 == 0 {
                people.push(("Grace Hopper", 3.0, 2.0));
            }
            let genre = if i % 2 == 0 { "Drama" } else { "Comedy" };
            let director = if i % 3 == 0 { "Agnès Varda" } else { "Chris Marker" };
            let movie = json!({"title": format!("Film {i}"), "genre": genre, "director": director});
            let document = results_document(&source, movie, &people, 0);
            let day = if i < 100 { "2026-11-30" } else { "2026-12-01" };
            let uri = format!("s3://{processed}/results/media/film-{i}/result.json");
            let provenance = Provenance {
                source: &source,
                job: &format!("media/film-{i}"),
                result_uri: &uri,
                processed_at: format!("{day}T{:02}:{:02}:00Z", i / 60 % 24, i % 60).parse().unwrap(),
                // Film 137 finished last, though it was not the last submitted.
                finished_at: format!("2026-12-02T{:02}:00:00Z", if i == 137 { 23 } else { i % 23 }).parse().unwrap(),
            };
            aws.write_items(&table, items(&document, &provenance)).unwrap();
            if i == 137 {
                let json = serde_json::to_vec(&document).unwrap();
                let uri = cameo_detector::cloud::s3::S3Uri::new(&processed, "results/media/film-137/result.json");
                aws.put(&uri, json, "application/json").unwrap();
            }
        }
    });
    let (router, _) = router(config, moto_s3().await).await;

    let ada = all_pages(&router, "/actors/Ada%20Lovelace/videos", "", 7).await;
    each_once(ids(&ada), expected(|_| true), "Ada Lovelace's videos");
    assert_eq!(ada[0]["screenTimeSeconds"], 4.0);
    let grace = all_pages(&router, "/actors/Grace%20Hopper/videos", "", 7).await;
    each_once(ids(&grace), expected(|i| i % 5 == 0), "Grace Hopper's videos");
    let nobody = all_pages(&router, "/actors/Nobody/videos", "", 7).await;
    assert!(nobody.is_empty());

    let drama = all_pages(&router, "/videos", "genre=Drama", 7).await;
    each_once(ids(&drama), expected(|i| i % 2 == 0), "Drama");
    let newest_first: Vec<&str> = drama.iter().map(|v| v["processedAt"].as_str().unwrap()).collect();
    assert!(newest_first.windows(2).all(|w| w[0] >= w[1]), "a genre lists its newest videos first");
    let varda = all_pages(&router, "/videos", "director=Agn%C3%A8s%20Varda", 7).await;
    each_once(ids(&varda), expected(|i| i % 3 == 0), "Agnès Varda");
    let day = all_pages(&router, "/videos", "processedDay=2026-11-30", 7).await;
    each_once(ids(&day), expected(|i| i < 100), "2026-11-30");
    let all = all_pages(&router, "/videos", "", 100).await;
    each_once(ids(&all), expected(|_| true), "all videos");

    let latest = call(&router, event("GET", "/results/latest", "", None, Some("ana"))).await;
    assert_eq!(latest.status, 200, "{}", String::from_utf8_lossy(&latest.body));
    assert_eq!(latest.json()["movie"]["title"], "Film 137");

    // A token answers only the query it came from; bad paging and filters are refused.
    let first = call(&router, event("GET", "/videos", "genre=Drama&limit=7", None, Some("ana"))).await.json();
    let token = first["next"].as_str().unwrap();
    let forged = {
        use base64::Engine;
        let token = json!({"q": "byGenre=Drama", "k": {"pk": "MOVIE#x"}}).to_string();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    };
    for (query, code) in [
        (format!("genre=Comedy&next={token}"), "invalid_page_token"),
        (format!("genre=Drama&next={forged}"), "invalid_page_token"),
        ("genre=Drama&next=%%%".to_string(), "invalid_page_token"),
        ("genre=Drama&limit=0".to_string(), "invalid_limit"),
        ("genre=Drama&limit=1000".to_string(), "invalid_limit"),
        ("genre=Drama&director=X".to_string(), "invalid_query"),
        ("processedDay=yesterday".to_string(), "invalid_query"),
        ("colour=blue".to_string(), "invalid_query"),
    ] {
        let answer = call(&router, event("GET", "/videos", &query, None, Some("ana"))).await;
        assert_eq!((answer.status.as_u16(), answer.error()), (400, code.to_string()), "{query}");
    }
    let anonymous = call(&router, event("GET", "/videos", "genre=Drama", None, None)).await;
    assert_eq!(anonymous.status, 401, "queries need an identity too");
}
