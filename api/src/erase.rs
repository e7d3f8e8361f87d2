//! `DELETE /videos/{id}`: erases a video and everything cameo made of it: the uploaded
//! video, its results (the document, the shards' documents, the face crops), the shards'
//! candidate crops, its face templates, its logs, its table items and the corrections
//! people made to it; the curation worker is told, and takes its unknown faces out of the
//! index late binding scans (a prefix this API cannot read). Both buckets keep
//! old versions, so every version goes, not just the current one.
//!
//! What stays: the VideoJob, until its `ttlSecondsAfterFinished`; gallery photos a person
//! was given from this video (they are the gallery's, not the video's); and, for an
//! upload, a tombstone holding its id alone, which stops the ingest (whose VideoJob may
//! outlive the video) from ever writing its state again.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use cameo_model::curation::ledger::curation_pk;
use cameo_model::processing::{PROCESSING_SK, ProcessingState};
use cameo_model::table::{movie_id, movie_pk, movie_pk_of_id, video_pk};
use cameo_model::upload::video_id_of_key;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::aws::key_in;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::validate::VideoRef;

/// The attribute of an erased video's tombstone.
pub const ERASED: &str = "erased";

/// What an erasure removes: every object under these prefixes, and every item of these
/// partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// (bucket, key prefix).
    pub prefixes: Vec<(String, String)>,
    pub partitions: Vec<String>,
}

/// What `DELETE /videos/{id}` answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Erased {
    pub movie_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_id: Option<String>,
    /// Object versions and delete markers removed.
    pub objects: usize,
    pub items: usize,
    /// What was not erased, and why.
    pub kept: Vec<String>,
}

/// The erasure of the video at `source`: its upload `video_id` (if it came through this
/// API) and its VideoJob `job` (`<namespace>/<name>`, if it was analysed).
pub fn erasure(config: &Config, source: &str, video_id: Option<&str>, job: Option<&str>) -> Erasure {
    let mut prefixes = Vec::new();
    if let Some(key) = key_in(source, &config.raw_bucket) {
        // An upload's folder; a video put there by hand, only itself.
        let prefix = match video_id_of_key(key) {
            Some(id) => format!("videos/{id}/"),
            None => key.to_string(),
        };
        prefixes.push((config.raw_bucket.clone(), prefix));
    }
    if let Some(job) = job {
        let processed = |prefix: String| (config.processed_bucket.clone(), prefix);
        // Every analysis of an upload, not only the latest: the ingest names each
        // `<namespace>/<video id>-<hash>` (a video analysed again has several).
        let every_run = video_id.and_then(|id| {
            let (namespace, name) = job.split_once('/')?;
            name.starts_with(&format!("{id}-")).then(|| format!("{namespace}/{id}-"))
        });
        match every_run {
            Some(runs) => prefixes.extend(
                ["results", "candidates", "logs", "templates"].map(|folder| processed(format!("{folder}/{runs}"))),
            ),
            None => prefixes.extend([
                processed(format!("results/{job}/")),
                processed(format!("candidates/{job}/")),
                processed(format!("logs/{job}/")),
                processed(format!("templates/{job}.json")),
            ]),
        }
    }
    // Its items, and the corrections people made to it (their audit trail).
    let mut partitions = vec![movie_pk(source), curation_pk(&movie_id(source))];
    partitions.extend(video_id.map(video_pk));
    Erasure { prefixes, partitions }
}

impl App {
    pub async fn erase_video(&self, video: &VideoRef) -> ApiResult<Erased> {
        let (source, video_id, job, processing) = match video {
            VideoRef::Upload(id) => {
                let (record, processing) = self.video_items(id).await?;
                let (movie, _) = self.movie_of(&record.source()).await?;
                let job = movie.map(|m| m.job).or_else(|| processing.as_ref().map(|p| p.video_job.clone()));
                (record.source(), Some(id.clone()), job, processing)
            }
            VideoRef::Movie(id) => {
                let (movie, _) = self.movie_partition(movie_pk_of_id(id)).await?;
                let movie = movie.ok_or_else(|| ApiError::NotFound(format!("no movie {id}")))?;
                let video_id = key_in(&movie.source, &self.config.raw_bucket).and_then(video_id_of_key);
                let video_id = video_id.map(str::to_string);
                let processing = match &video_id {
                    Some(id) => self.video_items(id).await.ok().and_then(|(_, p)| p),
                    None => None,
                };
                (movie.source, video_id, Some(movie.job), processing)
            }
        };
        if processing.as_ref().is_some_and(|p| matches!(p.state, ProcessingState::Queued | ProcessingState::Processing))
        {
            return Err(ApiError::Conflict(
                "the video is being analysed: erase it once its analysis has finished or failed (or delete its VideoJob)"
                    .into(),
            ));
        }
        let plan = erasure(&self.config, &source, video_id.as_deref(), job.as_deref());
        let mut objects = 0;
        for (bucket, prefix) in &plan.prefixes {
            objects += self.erase_prefix(bucket, prefix).await?;
        }
        let mut items = 0;
        for partition in &plan.partitions {
            items += self.erase_partition(partition).await?;
        }
        if let Some(id) = &video_id {
            self.leave_tombstone(id).await?;
        }
        // Its unknown faces in the index of the curation worker, which alone may read it.
        let movie_id = cameo_model::table::movie_id(&source);
        self.curation_queued(&movie_id, 0).await;
        tracing::info!(source, objects, items, "video erased");
        let mut kept = vec!["gallery photos given to a person from this video".to_string()];
        if video_id.is_some() {
            kept.push("a tombstone holding the video id alone, so that its state is never written again".into());
        }
        if let Some(job) = job {
            kept.insert(0, format!("the VideoJob {job}, until its ttlSecondsAfterFinished"));
        }
        Ok(Erased { movie_id, video_id, objects, items, kept })
    }

    /// Deletes every version of every object under `prefix` (and every delete marker);
    /// on a store without versioning, every object.
    async fn erase_prefix(&self, bucket: &str, prefix: &str) -> ApiResult<usize> {
        self.erase_listed(bucket, prefix, |_| true).await
    }

    /// Deletes every version of the object `key` (and its delete markers).
    pub(crate) async fn erase_object(&self, bucket: &str, key: &str) -> ApiResult<usize> {
        self.erase_listed(bucket, key, |listed| listed == key).await
    }

    /// Deletes every version under `prefix` whose key passes `erase`, a page at a time.
    async fn erase_listed(&self, bucket: &str, prefix: &str, erase: impl Fn(&str) -> bool) -> ApiResult<usize> {
        let mut erased = 0;
        loop {
            let mut targets = match self.versions(bucket, prefix).await {
                Ok(versions) => versions,
                Err(e) if e.code() == Some("NotImplemented") => self.current_objects(bucket, prefix).await?,
                Err(e) => return Err(ApiError::upstream("listing what to erase", e)),
            };
            targets.retain(|target| erase(target.key()));
            if targets.is_empty() {
                return Ok(erased);
            }
            for chunk in targets.chunks(1000) {
                let delete = Delete::builder()
                    .set_objects(Some(chunk.to_vec()))
                    .quiet(true)
                    .build()
                    .map_err(|e| ApiError::upstream("erasing", e))?;
                let answer = self.s3.delete_objects().bucket(bucket).delete(delete).send().await;
                let answer = answer.map_err(|e| ApiError::upstream("erasing", e))?;
                if let Some(error) = answer.errors().first() {
                    return Err(ApiError::upstream("erasing", error));
                }
                erased += chunk.len();
            }
        }
    }

    /// Up to a page of the versions and delete markers under `prefix`.
    async fn versions(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<
        Vec<ObjectIdentifier>,
        aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::list_object_versions::ListObjectVersionsError>,
    > {
        let page = self.s3.list_object_versions().bucket(bucket).prefix(prefix).send().await?;
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id()));
        Ok(versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder().key(key?).set_version_id(version.map(str::to_string)).build().ok()
            })
            .collect())
    }

    /// Up to a page of the objects under `prefix`.
    async fn current_objects(&self, bucket: &str, prefix: &str) -> ApiResult<Vec<ObjectIdentifier>> {
        let page = self.s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await;
        let page = page.map_err(|e| ApiError::upstream("listing what to erase", e))?;
        Ok(page.contents().iter().filter_map(|o| ObjectIdentifier::builder().key(o.key()?).build().ok()).collect())
    }

    /// The one item an erased upload leaves: its id, and an order no processing state can
    /// pass ([`cameo_model::processing::PROCESSING_WRITE_CONDITION`]).
    async fn leave_tombstone(&self, video_id: &str) -> ApiResult<()> {
        let put = self
            .dynamodb
            .put_item()
            .table_name(&self.config.table)
            .item("pk", AttributeValue::S(video_pk(video_id)))
            .item("sk", AttributeValue::S(PROCESSING_SK.into()))
            .item(ERASED, AttributeValue::Bool(true))
            .item("order", AttributeValue::N(u64::MAX.to_string()));
        put.send().await.map(|_| ()).map_err(|e| ApiError::upstream("marking the video erased", e))
    }

    /// Deletes every item of a partition.
    async fn erase_partition(&self, pk: &str) -> ApiResult<usize> {
        let query = self
            .dynamodb
            .query()
            .table_name(&self.config.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .projection_expression("pk, sk")
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let keys: Vec<_> = query.collect::<Result<_, _>>().await.map_err(|e| ApiError::upstream("listing items", e))?;
        for key in &keys {
            let delete = self.dynamodb.delete_item().table_name(&self.config.table).set_key(Some(key.clone()));
            delete.send().await.map_err(|e| ApiError::upstream("erasing an item", e))?;
        }
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            raw_bucket: "raw".into(),
            processed_bucket: "processed".into(),
            table: "MovieEntities".into(),
            single_put_max_bytes: 1,
            max_upload_bytes: 1,
            upload_url_ttl_seconds: 60,
            inline_result_max_bytes: 1,
            result_url_ttl_seconds: 60,
            media_url_ttl_seconds: 900,
            gallery_prefix: "gallery/".into(),
            suggestions_prefix: "suggestions/".into(),
            gallery_queue_url: None,
            curation_queue_url: None,
            max_photo_bytes: 1024,
            ingest_queue_url: None,
            app_dir: None,
            sign_in: Default::default(),
        }
    }

    #[test]
    fn an_uploaded_and_analysed_video_is_erased_everywhere_cameo_wrote() {
        let id = "0123456789abcdef0123456789abcdef";
        let source = format!("s3://raw/videos/{id}/film.mp4");
        let plan = erasure(&config(), &source, Some(id), Some("media/film"));
        let prefixes: Vec<(&str, &str)> = plan.prefixes.iter().map(|(b, p)| (b.as_str(), p.as_str())).collect();
        assert_eq!(
            prefixes,
            vec![
                ("raw", "videos/0123456789abcdef0123456789abcdef/"),
                ("processed", "results/media/film/"),
                ("processed", "candidates/media/film/"),
                ("processed", "logs/media/film/"),
                ("processed", "templates/media/film.json"),
            ]
        );
        assert_eq!(plan.partitions, vec![movie_pk(&source), curation_pk(&movie_id(&source)), video_pk(id)]);
    }

    #[test]
    fn every_analysis_of_an_upload_is_erased() {
        let id = "0123456789abcdef0123456789abcdef";
        let source = format!("s3://raw/videos/{id}/film.mp4");
        let plan = erasure(&config(), &source, Some(id), Some(&format!("media/{id}-b680ec16cb")));
        let prefixes: Vec<&str> = plan.prefixes.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            prefixes,
            vec![
                format!("videos/{id}/"),
                format!("results/media/{id}-"),
                format!("candidates/media/{id}-"),
                format!("logs/media/{id}-"),
                format!("templates/media/{id}-"),
            ]
        );
    }

    #[test]
    fn a_video_elsewhere_is_not_touched_and_one_never_analysed_has_nothing_processed() {
        let plan = erasure(&config(), "s3://elsewhere/films/x.mp4", None, Some("media/x"));
        assert!(plan.prefixes.iter().all(|(bucket, _)| bucket == "processed"));
        let plan = erasure(&config(), "s3://raw/videos/a/x.mp4", Some("a"), None);
        assert_eq!(plan.prefixes, vec![("raw".to_string(), "videos/a/".to_string())]);
    }
}
