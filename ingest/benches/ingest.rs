//! `make bench` (under hack/with-cluster): 1,000 uploads announced by moto's S3 through
//! SQS, the time until the ingest has made their 1,000 VideoJobs, beside a bare client
//! creating the same 1,000 VideoJobs; duplicates made (must be none); the ingest's
//! memory and CPU. Prints Markdown.
//!
//! No operator runs: the measure is the ingest's own work (receive, HEAD, create,
//! delete, and the state items it writes for the new VideoJobs).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_ingest::aws::Clients;
use cameo_ingest::config::IngestConfig;
use cameo_ingest::receive::delete_entries;
use cameo_ingest::videojob::{Upload, desired_videojob};
use cameo_model::s3_event::{Notice, parse};
use cameo_model::table::TableDefinition;
use cameo_model::upload::object_metadata;
use cameo_operator::crd::VideoJob;
use futures::{StreamExt, stream};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, CustomResourceExt};

#[path = "../tests/queues/mod.rs"]
mod queues;
#[path = "../../operator/tests/stack/mod.rs"]
mod stack;

use stack::{cpu_seconds, create_namespace, memory_mb};

const COUNT: usize = 1000;
const ROUNDS: usize = 3;
/// The ingest's default: two receive loops of up to 10 messages each.
const RECEIVERS: usize = 2;
/// The bare client gets as many requests in flight as the ingest can have.
const IN_FLIGHT: usize = RECEIVERS * 10;
const BUCKET: &str = "bench-raw";
const TABLE: &str = "BenchEntities";
const GALLERY: &str = "s3://bench-raw/gallery/";
/// A round that takes longer than this is broken, not slow.
const GIVE_UP: Duration = Duration::from_secs(600);

fn video_id(round: usize, i: usize) -> String {
    format!("{round:02}{i:030x}")
}

fn key(round: usize, i: usize) -> String {
    format!("videos/{}/film {i}.mp4", video_id(round, i))
}

async fn count_videojobs(api: &Api<VideoJob>) -> usize {
    api.list_metadata(&ListParams::default()).await.map_or(0, |l| l.items.len())
}

async fn wait_for_videojobs(api: &Api<VideoJob>, started: Instant) -> Duration {
    loop {
        let found = count_videojobs(api).await;
        if found >= COUNT {
            return started.elapsed();
        }
        assert!(started.elapsed() < GIVE_UP, "only {found} of {COUNT} VideoJobs after {GIVE_UP:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A queue of its own, the bucket notifying it, and uploads `round` in the bucket: the
/// queue then holds their events.
async fn announce_uploads(aws: &Clients, round: usize) -> String {
    let (url, arn) = queues::create_queue(aws, &format!("bench-uploads-{round}"), &[]).await;
    queues::notify(aws, BUCKET, &arn).await;
    stream::iter(0..COUNT)
        .for_each_concurrent(16, |i| async move {
            let movie = cameo_model::results::Movie { title: Some(format!("Film {i}")), ..Default::default() };
            let mut put = aws.s3.put_object().bucket(BUCKET).key(key(round, i)).body(vec![0u8; 1024].into());
            for (name, value) in object_metadata(&video_id(round, i), "jwt:bench|ana", &movie) {
                put = put.metadata(name, value);
            }
            put.send().await.expect("the upload is stored");
        })
        .await;
    // The events, and the test event of the new notification, are in the queue.
    let started = Instant::now();
    loop {
        let (queued, _) = queues::message_counts(aws, &url).await;
        if queued > COUNT as u64 {
            return url;
        }
        assert!(started.elapsed() < GIVE_UP, "only {queued} events queued for {COUNT} uploads");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The AWS calls the ingest makes for the events in `queue`, by a bare client: receive
/// 10, HEAD each object, write a state item each, delete the 10; `RECEIVERS` loops at once.
/// The floor moto sets under the ingest.
async fn aws_floor(aws: &Clients, queue: &str) -> Duration {
    let started = Instant::now();
    // Keys handled: a message can come back (a visibility timeout ran out), as to the ingest.
    let handled = std::sync::Mutex::new(std::collections::HashSet::new());
    let receive_loop = || async {
        while handled.lock().unwrap().len() < COUNT {
            assert!(started.elapsed() < GIVE_UP, "the floor's receive loop stalled");
            let receive = aws.sqs.receive_message().queue_url(queue).max_number_of_messages(10);
            // A long poll, as the ingest's: an empty receive waits rather than spins.
            let received = receive.wait_time_seconds(1).send().await.unwrap();
            let messages = received.messages.unwrap_or_default();
            let heads = messages.iter().filter_map(|m| {
                let Ok(Notice::Created(objects)) = parse(m.body()?) else { return None };
                let object = objects.into_iter().next()?;
                let handled = &handled;
                Some(async move {
                    aws.s3.head_object().bucket(&object.bucket).key(&object.key).send().await.expect("HEAD");
                    let item = [
                        ("pk".to_string(), AttributeValue::S(format!("VIDEO#{}", object.key))),
                        ("sk".to_string(), AttributeValue::S("STATE".into())),
                        ("order".to_string(), AttributeValue::N("0".into())),
                    ];
                    let put = aws
                        .dynamodb
                        .put_item()
                        .table_name(TABLE)
                        .set_item(Some(item.into()))
                        .condition_expression("attribute_not_exists(pk)")
                        .send()
                        .await;
                    if let Err(e) = put {
                        let written = e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception());
                        assert!(written, "the state item: {e:?}");
                    }
                    handled.lock().unwrap().insert(object.key);
                })
            });
            futures::future::join_all(heads).await;
            let entries = delete_entries(&messages.iter().collect::<Vec<_>>());
            if !entries.is_empty() {
                aws.sqs.delete_message_batch().queue_url(queue).set_entries(Some(entries)).send().await.unwrap();
            }
        }
    };
    futures::future::join_all((0..RECEIVERS).map(|_| receive_loop())).await;
    started.elapsed()
}

struct Ingest(Child);

impl Drop for Ingest {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The moto server's process (the one `AWS_ENDPOINT_URL` names), from /proc.
fn moto_pid() -> Option<u32> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok()?;
    let port = endpoint.rsplit(':').next()?.to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<String> = cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        (args.iter().any(|a| a.ends_with("moto_server")) && args.contains(&port)).then_some(pid)
    })
}

struct Round {
    baseline: f64,
    floor: f64,
    ingest: f64,
    moto_cpu: f64,
    videojobs: usize,
    distinct_uploads: usize,
    peak_mb: f64,
    cpu: f64,
}

async fn round(client: &Client, aws: &Clients, n: usize) -> Round {
    // Uploads 10 + n for the floor, n for the ingest: keys of their own.
    let floor_queue = announce_uploads(aws, 10 + n).await;
    let floor = aws_floor(aws, &floor_queue).await;
    let queue = announce_uploads(aws, n).await;

    // 1. A bare client creates the VideoJobs the ingest would create.
    let baseline_ns = format!("bench-{n}-baseline");
    create_namespace(client, &baseline_ns).await;
    let config = IngestConfig {
        queue_url: queue.clone(),
        namespace: baseline_ns.clone(),
        prefix: "videos/".into(),
        gallery: GALLERY.into(),
        table: TABLE.into(),
        sampling_fps: None,
        shards: 1,
        bytes_per_shard: None,
        max_shards: 16,
        gpu: true,
        wait_seconds: 20,
        receivers: RECEIVERS,
        http_address: "127.0.0.1:0".parse().unwrap(),
    };
    let videojobs: Vec<VideoJob> = (0..COUNT)
        .map(|i| {
            let movie = cameo_model::results::Movie { title: Some(format!("Film {i}")), ..Default::default() };
            let upload = Upload {
                bucket: BUCKET.into(),
                key: key(n, i),
                version: format!("etag-{i}"),
                size_bytes: 1024,
                metadata: object_metadata(&video_id(n, i), "jwt:bench|ana", &movie),
                run: 0,
            };
            desired_videojob(&upload, &video_id(n, i), &config)
        })
        .collect();
    let baseline_api: Api<VideoJob> = Api::namespaced(client.clone(), &baseline_ns);
    let started = Instant::now();
    stream::iter(videojobs)
        .for_each_concurrent(IN_FLIGHT, |vj| {
            let api = baseline_api.clone();
            async move {
                api.create(&PostParams::default(), &vj).await.expect("the VideoJob is created");
            }
        })
        .await;
    let baseline = wait_for_videojobs(&baseline_api, started).await;

    // 2. The ingest, as its own process, on the queue of 1,000 events.
    let ingest_ns = format!("bench-{n}-ingest");
    create_namespace(client, &ingest_ns).await;
    let moto = moto_pid().expect("the moto server's process");
    let moto_before = cpu_seconds(moto);
    let started = Instant::now();
    let ingest = Ingest(
        Command::new(env!("CARGO_BIN_EXE_cameo-ingest"))
            .args(["--queue-url", &queue, "--namespace", &ingest_ns, "--gallery", GALLERY, "--table", TABLE])
            .args(["--http-address", "127.0.0.1:0", "--log-format", "json", "--receivers", &RECEIVERS.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the ingest starts"),
    );
    let pid = ingest.0.id();
    let ingest_api: Api<VideoJob> = Api::namespaced(client.clone(), &ingest_ns);
    let ingest_time = wait_for_videojobs(&ingest_api, started).await;
    // Let it finish deleting and writing states, then look for duplicates.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (peak_mb, cpu, moto_cpu) = (memory_mb(pid).0, cpu_seconds(pid), cpu_seconds(moto) - moto_before);
    drop(ingest);
    let made = ingest_api.list(&ListParams::default()).await.expect("the VideoJobs list").items;
    let mut sources: Vec<&str> = made.iter().map(|vj| vj.spec.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    Round {
        baseline: baseline.as_secs_f64(),
        floor: floor.as_secs_f64(),
        ingest: ingest_time.as_secs_f64(),
        moto_cpu,
        videojobs: made.len(),
        distinct_uploads: sources.len(),
        peak_mb,
        cpu,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    assert!(
        std::env::var_os("KUBECONFIG").is_some() && std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "run under hack/with-cluster (make bench)"
    );
    let client = Client::try_default().await.expect("a client from KUBECONFIG");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch("videojobs.cameo.dev", &PatchParams::apply("cameo-bench").force(), &Patch::Apply(VideoJob::crd()))
        .await
        .expect("the CRD applies");
    let aws = cameo_ingest::aws::clients().await.expect("AWS clients for moto");
    // The detector's blocking helpers create them, on a thread of their own.
    std::thread::spawn(|| {
        let aws = cameo_detector::cloud::aws::Aws::from_env().expect("AWS clients for moto");
        aws.create_bucket(BUCKET).expect("the bucket is created");
        aws.create_table(&TableDefinition::load(), TABLE).expect("the table is created");
    })
    .join()
    .expect("bucket and table");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut rounds = Vec::new();
    for n in 0..ROUNDS {
        rounds.push(round(&client, &aws, n).await);
    }
    let of = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let (baseline, floor, ingest) = (of(|r| r.baseline), of(|r| r.floor), of(|r| r.ingest));
    let duplicates: usize = rounds.iter().map(|r| r.videojobs - r.distinct_uploads).sum();
    let missing: usize = rounds.iter().map(|r| COUNT - r.distinct_uploads.min(COUNT)).sum();

    println!("# cameo-ingest benchmark: {COUNT} upload events in the queue\n");
    println!("moto (S3 notifications into SQS, DynamoDB) and a local control plane (kube-apiserver v1.37.2) share");
    println!(
        "this machine's cores with the ingest; {RECEIVERS} receive loops of 10 messages; median of {ROUNDS} rounds.\n"
    );
    println!("| | time | per second | ratio to the two bare clients together |");
    println!("|---|---|---|---|");
    let bare = baseline + floor;
    println!("| bare client creating {COUNT} VideoJobs | {baseline:.1} s | {:.0} | |", COUNT as f64 / baseline);
    println!(
        "| bare client making the ingest's AWS calls on moto (receive, HEAD, state item, delete) | {floor:.1} s | {:.0} | |",
        COUNT as f64 / floor
    );
    println!(
        "| ingest: {COUNT} events to {COUNT} VideoJobs | {ingest:.1} s | {:.0} | {:.2}x |",
        COUNT as f64 / ingest,
        ingest / bare
    );
    println!();
    println!("| ingest | median | rounds |");
    println!("|---|---|---|");
    let each = |f: fn(&Round) -> f64, unit: &str| {
        rounds.iter().map(|r| format!("{:.1}{unit}", f(r))).collect::<Vec<_>>().join(", ")
    };
    println!("| peak memory (VmHWM) | {:.0} MB | {} |", of(|r| r.peak_mb), each(|r| r.peak_mb, " MB"));
    println!("| CPU | {:.1} s | {} |", of(|r| r.cpu), each(|r| r.cpu, " s"));
    println!(
        "| moto's CPU meanwhile (S3, SQS, DynamoDB) | {:.1} s | {} |",
        of(|r| r.moto_cpu),
        each(|r| r.moto_cpu, " s")
    );
    println!("| duplicate VideoJobs | {duplicates} | |");
    println!("| uploads without a VideoJob | {missing} | |");
    assert_eq!(duplicates + missing, 0, "every upload must have exactly one VideoJob");
}
