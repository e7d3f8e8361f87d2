//! `make bench`: late binding at scale on the local stack (moto's S3, DynamoDB and SQS).
//! 1,000 analysed videos with 20 unknown clusters each, whose embeddings are real crops'
//! (the demo analysed at 2 and 1 frames a second: Biden, Hopper and the six strangers of
//! the group photo); Biden is unknown in 100 of them, which are whole analyses (document,
//! analysis, items), the other 900 index entries only. A person names Biden in one video
//! through the API; the real curation worker relabels every video where he is unknown.
//! Measured: the time until it has (the worker in its own process, `CAMEO_DETECTOR_BIN`),
//! against a bare client making the same S3 and DynamoDB requests with none of the work
//! between them; the worker's CPU time and peak memory; the survey for suggestions alone,
//! and the review queue's grouping at its worst; and how a scan of the index (index only)
//! grows from 1,000 to 10,000 videos.
//! Run under `hack/with-cluster` (for moto); prints Markdown.

#[path = "../tests/support/demo.rs"]
mod demo;
#[path = "../tests/support/library.rs"]
mod library;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use cameo_detector::cloud::aws::Aws;
use cameo_detector::cloud::s3::S3Uri;
use cameo_detector::cloud::survey::REVIEW_LIMIT;
use cameo_detector::cloud::unknown_index::UnknownIndex;
use cameo_detector::embed::Embedding;
use cameo_detector::identify::{EnrolledPerson, MatchConfig};
use cameo_detector::late_binding::bound_to;
use cameo_detector::suggest::by_likeness;
use cameo_model::table::{movie_id, movie_pk_of_id};
use cameo_model::unknown_index::{INDEX_PREFIX, IndexEntry, Segment, entries_of, shard_of};
use demo::{Analyse, Merged, Outputs, analysed, testdata, unknown_at, write_merged};
use library::{Library, library};
use serde_json::json;
use support::*;

const VIDEOS: usize = 1_000;
const MATCHING: usize = 100;
const CLUSTERS: usize = 20;
const BIDEN_AT: f64 = 9.0;
const RULE: MatchConfig = MatchConfig { threshold: 0.363, margin: 0.05 };

/// Runs the real worker (`cameo-detector curation-worker --once`) until the queue is
/// empty: its wall seconds, CPU seconds and peak resident MiB.
fn run_worker(library: &Library) -> (f64, f64, f64) {
    let binary = std::env::var_os("CAMEO_DETECTOR_BIN")
        .expect("CAMEO_DETECTOR_BIN names the detector built with --features cloud (make bench sets it)");
    let start = Instant::now();
    #[allow(clippy::zombie_processes)] // wait4 below waits for it
    let child = std::process::Command::new(binary)
        .args(["curation-worker", "--once", "--wait-seconds=0", "--device=cpu"])
        .args(["--queue-url", &library.queue, "--table", &library.table])
        .args(["--gallery", &format!("s3://{}/gallery/", library.raw), "--output-bucket", &library.bucket])
        .spawn()
        .expect("the worker runs");
    // wait4 answers this child's own usage (getrusage's would be every child's).
    // SAFETY: wait4 only writes the status and the struct it is given.
    let (status, usage) = unsafe {
        let (mut status, mut usage): (libc::c_int, libc::rusage) = (0, std::mem::zeroed());
        libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        (status, usage)
    };
    let wall = start.elapsed().as_secs_f64();
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the worker failed: {status}");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (wall, seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss as f64 / 1024.0)
}

/// Real unknown clusters that are not Biden, to fill videos with.
fn strangers(analyses: &[&Outputs]) -> Vec<IndexEntry> {
    let mut pool = Vec::new();
    for (n, outputs) in analyses.iter().enumerate() {
        let biden = unknown_at(&outputs.document, BIDEN_AT).id.clone();
        let segment = entries_of(&outputs.analysis, &outputs.templates, "pool", &format!("media/pool-{n}"));
        pool.extend(segment.entries.into_iter().filter(|e| e.cluster_id != biden));
    }
    pool
}

/// `count` entries of a movie, taken round the pool, each a cluster of its own.
fn filler(pool: &[IndexEntry], movie: &str, job: &str, count: usize, start: usize) -> Vec<IndexEntry> {
    (0..count)
        .map(|i| IndexEntry {
            movie_id: movie.into(),
            job: job.into(),
            cluster_id: format!("filler-{i}"),
            tracks: vec![format!("t-filler-{i}")],
            ..pool[(start + i) % pool.len()].clone()
        })
        .collect()
}

/// Writes an index of `videos` videos of strangers under `root`, packed by shard.
fn write_index(aws: &Aws, root: &S3Uri, recognizer: &str, pool: &[IndexEntry], videos: usize) -> f64 {
    let mut shards: BTreeMap<String, Vec<IndexEntry>> = BTreeMap::new();
    for v in 0..videos {
        let movie = format!("{:020x}", (v as u128 + 1) * 0x9e37_79b9_7f4a_7c15);
        shards.entry(shard_of(&movie)).or_default().extend(filler(pool, &movie, "media/x", CLUSTERS, v));
    }
    let mut bytes = 0;
    for (shard, entries) in shards {
        let packed = Segment { recognizer: recognizer.into(), entries }.encode();
        bytes += packed.len();
        let uri = S3Uri::new(&root.bucket, format!("{}{shard}/packed.bin", root.key));
        aws.put(&uri, packed, "application/octet-stream").unwrap();
    }
    bytes as f64 / (1 << 20) as f64
}

/// Seconds to scan an index for a person as the worker does (list, read the shards a
/// batch at a time, hold each live entry to the rule): (reading, matching) apart.
fn scan(aws: &Aws, root: &S3Uri, gallery: &[EnrolledPerson]) -> (f64, f64, usize) {
    let index = UnknownIndex { aws, root: root.clone() };
    let (mut computing, mut entries) = (0.0, 0);
    let start = Instant::now();
    index
        .scan(|read| {
            let matching = Instant::now();
            entries += read.entries.len();
            std::hint::black_box(bound_to(read.live(), gallery, 0, &RULE));
            computing += matching.elapsed().as_secs_f64();
            Ok(())
        })
        .unwrap();
    (start.elapsed().as_secs_f64() - computing, computing, entries)
}

/// Seconds to group `count` clusters of five crops that are all strangers to each other
/// (near-orthogonal unit vectors: every cluster starts a group of its own); the review
/// queue's worst case.
fn worst_review(count: usize) -> (usize, f64) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64: a fixed sequence, the same on every machine.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    let clusters: Vec<Vec<Embedding>> = (0..count)
        .map(|_| {
            (0..5)
                .map(|_| {
                    let v: Vec<f32> = (0..128).map(|_| next()).collect();
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    Embedding(v.into_iter().map(|x| x / norm).collect())
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    let groups = by_likeness(&clusters, &RULE);
    (groups.len(), start.elapsed().as_secs_f64())
}

/// The worker's requests for one relabelled movie, made bare: the movie partition, head,
/// ledger and analysis as often as it reads them, the ledger's and the items'
/// transactions, the document and the shard's tombstones.
fn bare_relabel(aws: &Aws, table: &str, bucket: &str, movie: &str, job: &str) {
    let pk = movie_pk_of_id(movie);
    let analysis = S3Uri::new(bucket, format!("results/{job}/analysis.json"));
    let curation = format!("CURATION#{movie}");
    let query = |pk: &str| {
        let request = aws.dynamodb.query().table_name(table).key_condition_expression("pk = :pk");
        aws.block_on(request.expression_attribute_values(":pk", AttributeValue::S(pk.into())).send()).unwrap();
    };
    let get_head = || {
        let key =
            [("pk", curation.as_str()), ("sk", "HEAD")].map(|(k, v)| (k.to_string(), AttributeValue::S(v.into())));
        aws.block_on(aws.dynamodb.get_item().table_name(table).set_key(Some(key.into())).send()).unwrap();
    };
    let transact = |puts: usize| {
        let writes = (0..puts)
            .map(|i| {
                let item = [("pk", format!("BARE#{movie}")), ("sk", format!("{i}")), ("body", "x".repeat(400))]
                    .map(|(k, v)| (k.to_string(), AttributeValue::S(v)));
                let put = Put::builder().table_name(table).set_item(Some(item.into())).build().unwrap();
                TransactWriteItem::builder().put(put).build()
            })
            .collect();
        aws.block_on(aws.dynamodb.transact_write_items().set_transact_items(Some(writes)).send()).unwrap();
    };
    let tombstones = S3Uri::new(bucket, format!("bare/{}/tombstones.json", shard_of(movie)));
    for _ in 0..3 {
        query(&pk);
        query(&curation);
        aws.get(&analysis).unwrap();
    }
    get_head();
    get_head();
    transact(4);
    let document = aws.get(&S3Uri::new(bucket, format!("results/{job}/result.json"))).unwrap().unwrap();
    aws.put(&S3Uri::new(bucket, format!("bare/{job}/result.json")), document, "application/json").unwrap();
    transact(3);
    aws.get(&tombstones).unwrap();
    aws.put(&tombstones, b"{}".to_vec(), "application/json").unwrap();
}

#[tokio::main]
async fn main() {
    let library = library().await;
    let a = library.add("s3://cameo-raw/videos/a/film.mp4", "media/a", Analyse::demo(2.0)).await;
    let obama = library.obama.clone();
    let other_frames = "s3://cameo-raw/videos/pool/film.mp4";
    let b = tokio::task::spawn_blocking(move || analysed(other_frames, &obama, Analyse::demo(1.0))).await.unwrap();
    let pool = strangers(&[&a, &b]);
    let recognizer = a.templates.recognizer.sha256.clone();
    let root = S3Uri::new(&library.bucket, INDEX_PREFIX);

    // 100 whole analyses where Biden is unknown, 900 videos of strangers; then packed, as
    // the worker keeps the index.
    let matching: Vec<(String, String)> =
        (0..MATCHING).map(|i| (format!("s3://cameo-raw/videos/m{i:04}/film.mp4"), format!("media/m{i:04}"))).collect();
    let set_up = Instant::now();
    for (source, job) in &matching {
        let to = Merged { table: &library.table, bucket: &library.bucket, source, job, at: "2026-12-05T10:00:00Z" };
        write_merged(&to, &b);
    }
    let filled = {
        let (root, pool, recognizer, matching, b_analysis, b_templates) =
            (root.clone(), pool.clone(), recognizer.clone(), matching.clone(), b.analysis.clone(), b.templates.clone());
        with_moto(move |aws| {
            let index = UnknownIndex { aws, root: root.clone() };
            for (i, (source, job)) in matching.iter().enumerate() {
                let movie = movie_id(source);
                let mut segment = entries_of(&b_analysis, &b_templates, &movie, job);
                let missing = CLUSTERS.saturating_sub(segment.entries.len());
                segment.entries.extend(filler(&pool, &movie, job, missing, i));
                index.add(&movie, job, &segment).unwrap();
            }
            let others = write_index(aws, &S3Uri::new(&root.bucket, "others/"), &recognizer, &pool, VIDEOS - MATCHING);
            // The strangers' shards join the library's index, packed.
            for (shard, added) in index.shards().unwrap() {
                let mut read = index.read(&shard, &added).unwrap();
                let theirs = S3Uri::new(&root.bucket, format!("others/{shard}/packed.bin"));
                if let Some(bytes) = aws.get(&theirs).unwrap() {
                    read.entries.extend(Segment::decode(&bytes).unwrap().entries);
                }
                index.pack(read).unwrap();
            }
            for key in aws.list(&S3Uri::new(&root.bucket, "others/")).unwrap() {
                let shard = key.trim_start_matches("others/").split('/').next().unwrap_or_default().to_string();
                if aws.list(&S3Uri::new(&root.bucket, format!("{}{shard}/", root.key))).unwrap().is_empty() {
                    let bytes = aws.get(&S3Uri::new(&root.bucket, key.clone())).unwrap().unwrap();
                    aws.put(&S3Uri::new(&root.bucket, format!("{}{shard}/packed.bin", root.key)), bytes, "").unwrap();
                }
            }
            others
        })
    };
    let set_up = set_up.elapsed().as_secs_f64();

    // The same requests as the worker's below, bare (first: moto slows as the table grows).
    let bare = {
        let (table, bucket, root, matching) =
            (library.table.clone(), library.bucket.clone(), root.clone(), matching.clone());
        with_moto(move |aws| {
            let start = Instant::now();
            let index = UnknownIndex { aws, root };
            for (shard, added) in index.shards().unwrap() {
                std::hint::black_box(index.read(&shard, &added).unwrap());
            }
            for (source, job) in &matching {
                bare_relabel(aws, &table, &bucket, &movie_id(source), job);
            }
            start.elapsed().as_secs_f64()
        })
    };

    // The worker with nothing queued: it surveys the index for suggestions (Obama has a
    // photo, so every cluster is held against a person too).
    library.give_photo(&library.obama, std::fs::read(testdata("galleries/demo/Barack Obama/obama.jpg")).unwrap()).await;
    let (survey, survey_cpu, survey_peak) = run_worker(&library);

    // A person names Biden in A; the worker relabels (then surveys again: the named
    // clusters left the index).
    let biden = unknown_at(&a.document, BIDEN_AT).id.clone();
    library
        .act("s3://cameo-raw/videos/a/film.mp4", json!({"action": "name", "clusterId": biden, "name": "Joe Biden"}))
        .await;
    let (worker, cpu, peak) = run_worker(&library);
    let mut relabelled = 0;
    for (source, _) in &matching {
        let now = library.result(source).await;
        relabelled += usize::from(now.people.iter().any(|p| p.name == "Joe Biden"));
    }
    assert_eq!(relabelled, MATCHING, "every video where Biden was unknown is relabelled");

    // Scan growth, index only: 1,000 and 10,000 videos of strangers.
    let gallery = vec![EnrolledPerson::new(
        "Joe Biden",
        a.templates
            .groups
            .iter()
            .find(|g| g.id == biden)
            .map(|g| g.embeddings.iter().map(|e| Embedding(e.embedding.clone())).collect())
            .unwrap_or_default(),
    )];
    let growth = {
        let (bucket, pool, recognizer) = (library.bucket.clone(), pool.clone(), recognizer.clone());
        with_moto(move |aws| {
            [1_000, 10_000]
                .map(|videos| {
                    let root = S3Uri::new(&bucket, format!("scale-{videos}/{INDEX_PREFIX}"));
                    let size = write_index(aws, &root, &recognizer, &pool, videos);
                    let start = Instant::now();
                    let (reading, computing, entries) = scan(aws, &root, &gallery);
                    (videos, entries, size, start.elapsed().as_secs_f64(), reading, computing)
                })
                .to_vec()
        })
    };

    println!("## Late binding ({VIDEOS} videos x {CLUSTERS} unknown clusters, real crops; moto)\n");
    println!("Set up (100 analyses written, {:.0} MiB of strangers' index packed): {set_up:.1} s\n", filled);
    println!("| | seconds |\n|---|---|");
    println!("| worker: name Biden in one video until all {MATCHING} others are relabelled | {worker:.2} |");
    println!("| bare client: the same S3 and DynamoDB requests | {bare:.2} |");
    println!("| ratio (goal at most 1.5) | {:.2} |", worker / bare);
    println!("\nWorker (its own process, models loaded): {cpu:.2} CPU seconds; peak resident memory {peak:.0} MiB\n");
    println!(
        "Survey for suggestions alone (queue empty, the same index): {survey:.2} s wall, {survey_cpu:.2} CPU \
         seconds, peak {survey_peak:.0} MiB; the worker's time above includes one\n"
    );
    let (distinct, grouping) = worst_review(REVIEW_LIMIT);
    println!("Review queue grouping, {distinct} clusters of distinct strangers (its worst case): {grouping:.2} s\n");
    println!(
        "| videos (index only) | clusters | index MiB | scan s | reading s | matching s |\n|---|---|---|---|---|---|"
    );
    for (videos, entries, size, total, reading, computing) in growth {
        println!("| {videos} | {entries} | {size:.0} | {total:.2} | {reading:.2} | {computing:.2} |");
    }
}
