//! The `run` and `merge` commands: arguments in, results in S3 and DynamoDB out, the log
//! uploaded beside them and a summary (or the error) as the termination message; and the
//! gallery checker's `gallery-checker` and `gallery-import`; the `curation-worker`.

use std::time::Duration;

use super::aws::Aws;
use super::checker::GalleryChecker;
use super::curator::Curator;
use super::learner::Learning;
use super::merge::{MergeJob, run_merge};
use super::s3::S3Uri;
use super::shard::{JobOutput, ShardJob, open_shard_video, run_shard};
use super::{LogCopy, write_termination_message};
use crate::cli::{CurationWorkerArgs, GalleryArgs, GalleryCheckerArgs, MergeArgs, RunArgs, RuntimeArgs};
use crate::detect::DetectorConfig;
use crate::error::{Error, Result};
use crate::models::{Models, Precision};
use crate::results::Movie;

fn s3_uri(value: &str, what: &str) -> Result<S3Uri> {
    S3Uri::parse(value).ok_or_else(|| Error::Config(format!("--{what} must be an s3://bucket/key URI, not {value:?}")))
}

/// Runs one shard; the outcome becomes the termination message either way.
pub fn run(args: RunArgs, log: &LogCopy) -> Result<()> {
    let output = JobOutput::new(&args.output.output_bucket, &args.output.output_prefix, &args.output.job);
    let aws = Aws::from_env()?;
    let outcome = (|| {
        let source = s3_uri(&args.source, "source")?;
        let gallery = s3_uri(&args.gallery, "gallery")?;
        let gallery_as_of = args
            .gallery_as_of
            .as_deref()
            .map(|t| {
                t.parse().map_err(|e| Error::Config(format!("--gallery-as-of {t:?} is not an RFC 3339 time: {e}")))
            })
            .transpose()?;
        let mut config = args.analysis.pipeline_config()?;
        let video = open_shard_video(&source, args.shard, args.shards, args.max_video_bytes, &aws)?;
        let (runtime, mut models) = Models::from_args(&args.runtime, config.detector)?;
        config.decoder_threads = args.runtime.decoder_threads_for(runtime.device());
        let job = ShardJob {
            video,
            gallery: &gallery,
            gallery_as_of,
            shard: args.shard,
            shards: args.shards,
            output: &output,
            config,
            execution_provider: runtime.device().name(),
        };
        run_shard(&job, &aws, &mut models)
    })();
    finish(outcome, &aws, &output, &format!("shard-{}", args.shard), log)
}

/// Merges the shards; the summary (JSON, for the operator) becomes the termination message.
pub fn merge(args: MergeArgs, log: &LogCopy) -> Result<()> {
    let output = JobOutput::new(&args.output.output_bucket, &args.output.output_prefix, &args.output.job);
    let aws = Aws::from_env()?;
    let outcome = (|| {
        let processed_at = args.processed_at.parse().map_err(|e| {
            Error::Config(format!("--processed-at {:?} is not an RFC 3339 time: {e}", args.processed_at))
        })?;
        let movie = Movie {
            title: args.movie_title.clone(),
            genre: args.movie_genre.clone(),
            director: args.movie_director.clone(),
            year: args.movie_year,
        };
        let job = MergeJob {
            source: &args.source,
            shards: args.shards,
            output: &output,
            table: &args.table,
            movie: (movie != Movie::default()).then_some(movie),
            processed_at,
        };
        let (_runtime, mut models) = Models::from_args(&args.runtime, DetectorConfig::default())?;
        run_merge(&job, &aws, &mut models)
    })();
    finish(outcome, &aws, &output, "merge", log)
}

/// Serves the gallery queue until stopped (or, with `--once`, until it is empty).
pub fn gallery_checker(args: GalleryCheckerArgs) -> Result<()> {
    let aws = Aws::from_env()?;
    let checker = checker(&args.gallery, &aws)?;
    let (_runtime, mut models) = Models::from_args(&args.gallery.runtime, DetectorConfig::default())?;
    checker.serve(&args.queue_url, Duration::from_secs(args.wait_seconds), args.once, &mut models)
}

/// Imports a gallery filled by hand and writes the manifest.
pub fn gallery_import(args: GalleryArgs) -> Result<()> {
    let aws = Aws::from_env()?;
    let checker = checker(&args, &aws)?;
    let (_runtime, mut models) = Models::from_args(&args.runtime, DetectorConfig::default())?;
    let imported = checker.import(&mut models)?;
    checker.rebuild_manifest()?;
    tracing::info!(people = imported.people, photos = imported.photos, gallery = %checker.gallery, "imported");
    Ok(())
}

/// Serves the curation queue until stopped (or, with `--once`, until it is empty).
pub fn curation_worker(args: CurationWorkerArgs) -> Result<()> {
    let aws = Aws::from_env()?;
    let gallery = args.gallery.as_deref().map(|g| s3_uri(g, "gallery")).transpose()?;
    let learning = match &args.output_bucket {
        Some(bucket) => {
            let output = JobOutput::new(bucket, &args.output_prefix, "");
            // The fp32 recogniser alone: every stored embedding is fp32.
            let runtime = RuntimeArgs { precision: Some(Precision::Fp32), ..args.runtime };
            let (_runtime, models) = Models::from_args(&runtime, DetectorConfig::default())?;
            Some(Learning::of(&output, models))
        }
        None => None,
    };
    let curator = Curator {
        aws: &aws,
        table: args.table,
        gallery,
        gallery_queue_url: args.gallery_queue_url,
        teaches: true,
        learning: learning.as_ref(),
    };
    curator.serve(&args.queue_url, Duration::from_secs(args.wait_seconds), args.once)
}

fn checker<'a>(args: &GalleryArgs, aws: &'a Aws) -> Result<GalleryChecker<'a>> {
    let cache = JobOutput::new(&args.output_bucket, &args.output_prefix, "").gallery_cache();
    Ok(GalleryChecker {
        aws,
        table: args.table.clone(),
        gallery: s3_uri(&args.gallery, "gallery")?,
        cache,
        max_photo_bytes: args.max_photo_bytes,
    })
}

/// Uploads the log to `logs/<job>/<name>.log` and writes the termination message.
fn finish(outcome: Result<String>, aws: &Aws, output: &JobOutput, name: &str, log: &LogCopy) -> Result<()> {
    let message = match &outcome {
        Ok(summary) => summary.clone(),
        Err(e) => format!("error (exit code {}): {e}", e.exit_code() as u8),
    };
    match &outcome {
        Ok(_) => tracing::info!("{message}"),
        Err(e) => tracing::error!(exit_code = e.exit_code() as u8, "{e}"),
    }
    if let Err(e) = aws.put(&output.log(name), log.contents(), "text/plain; charset=utf-8") {
        tracing::warn!("cannot upload the log: {e}");
    }
    write_termination_message(&message);
    outcome.map(|_| ())
}
