//! `GET /videos/{id}`: where a video stands. Every source of that answer (the upload
//! record, the raw bucket, the ingest's processing state, the results) is read in
//! [`App::video_facts`] and judged by the pure [`view`].

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_model::processing::{PROCESSING_SK, ProcessingItem, ProcessingState};
use cameo_model::results::{Movie, PersonAppearances, ResultsDocument};
use cameo_model::table::{EntityItem, EntityType, MOVIE_SK, MovieItem, movie_pk, video_pk};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::record::{UPLOAD_SK, UploadRecord, UploadStatus, no_video};

/// What is known of a video, from every source.
pub struct VideoFacts {
    pub record: UploadRecord,
    /// The object exists in the raw bucket.
    pub arrived: bool,
    /// The analysis's state, as the ingest mirrors it from the VideoJob.
    pub processing: Option<ProcessingItem>,
    /// The results' movie item and its people, once the analysis has finished.
    pub movie: Option<MovieItem>,
    pub people: Vec<EntityItem>,
    /// The results with corrections the curation worker has not written to the items yet.
    pub curated: Option<ResultsDocument>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoState {
    /// URLs minted, no bytes yet.
    AwaitingUpload,
    /// The URLs expired before the video arrived: ask for new ones.
    Expired,
    Aborted,
    /// In the raw bucket; no analysis has started yet.
    Uploaded,
    /// Its VideoJob exists and waits for room to run.
    Queued,
    Processing,
    Succeeded,
    /// The analysis failed; `processing.reason` says why.
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoView {
    pub video_id: String,
    pub state: VideoState,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie: Option<Movie>,
    pub uploaded_by: String,
    pub created_at: String,
    pub urls_expire_at: String,
    /// How the analysis goes, once the video has its VideoJob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<Processing>,
    /// Who appears, once the analysis succeeded; `GET /videos/{id}/result` has everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Processing {
    /// The VideoJob's phase, as `kubectl get vj` shows it.
    pub phase: String,
    /// Why it failed, or what it waits for (a quota, a node, a queue), in the operator's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub shards_total: u32,
    pub shards_succeeded: u32,
    /// The VideoJob, `<namespace>/<name>`, for those with cluster access.
    pub video_job: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub duration_seconds: f64,
    pub finished_at: String,
    /// Enrolled people found, most screen time first.
    pub people: Vec<PersonSummary>,
    /// Faces that match nobody in the gallery, grouped by likeness.
    pub unknown_people: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonSummary {
    pub name: String,
    pub screen_time_seconds: f64,
    pub first_seen_seconds: f64,
    pub appearances: u32,
    pub confidence: f64,
}

impl PersonSummary {
    fn of_item(item: EntityItem) -> PersonSummary {
        PersonSummary {
            name: item.name,
            screen_time_seconds: item.screen_time_seconds,
            first_seen_seconds: item.first_seen_seconds,
            appearances: item.appearances,
            confidence: item.confidence,
        }
    }

    /// As the item the curation worker will write says it.
    fn of_group(group: &PersonAppearances) -> PersonSummary {
        let rounded = |v: f64| (v * 1000.0).round() / 1000.0;
        PersonSummary {
            name: group.name.clone(),
            screen_time_seconds: rounded(group.screen_time_seconds),
            first_seen_seconds: rounded(group.first_seen_seconds),
            appearances: group.appearances.len() as u32,
            confidence: rounded(f64::from(group.confidence)),
        }
    }
}

pub fn view(facts: VideoFacts, now: Timestamp) -> VideoView {
    let VideoFacts { record, arrived, processing, movie, people, curated } = facts;
    let expired = record.urls_expire_at.parse::<Timestamp>().is_ok_and(|at| at <= now);
    // A video analysed again shows the new analysis's progress, over the old results
    // (which stand, and are answered, until the new ones replace them).
    let analysing_again = match (&movie, &processing) {
        (Some(movie), Some(processing)) if processing.video_job != movie.job => match processing.state {
            ProcessingState::Queued => Some(VideoState::Queued),
            ProcessingState::Processing | ProcessingState::Succeeded => Some(VideoState::Processing),
            ProcessingState::Failed => None,
        },
        _ => None,
    };
    let state = match (&movie, record.status) {
        _ if let Some(state) = analysing_again => state,
        (Some(_), _) => VideoState::Succeeded,
        _ if let Some(processing) = &processing => match processing.state {
            ProcessingState::Queued => VideoState::Queued,
            ProcessingState::Processing => VideoState::Processing,
            // The results are written before the VideoJob succeeds; until they are
            // readable here, it is still processing.
            ProcessingState::Succeeded => VideoState::Processing,
            ProcessingState::Failed => VideoState::Failed,
        },
        _ if arrived => VideoState::Uploaded,
        (None, UploadStatus::Aborted) => VideoState::Aborted,
        // A completed multipart upload that is gone again was deleted.
        (None, UploadStatus::Completed) => VideoState::Aborted,
        (None, UploadStatus::Pending) if expired => VideoState::Expired,
        (None, UploadStatus::Pending) => VideoState::AwaitingUpload,
    };
    let summary = movie.map(|movie| {
        let (mut known, unknown_people) = match curated {
            Some(document) => (document.people.iter().map(PersonSummary::of_group).collect(), document.unknown.len()),
            None => {
                let (known, unknown): (Vec<_>, Vec<_>) =
                    people.into_iter().partition(|p| p.entity_type == EntityType::Actor);
                (known.into_iter().map(PersonSummary::of_item).collect::<Vec<_>>(), unknown.len())
            }
        };
        known.sort_by(|a, b| b.screen_time_seconds.total_cmp(&a.screen_time_seconds).then(a.name.cmp(&b.name)));
        Summary {
            duration_seconds: movie.duration_seconds,
            finished_at: movie.finished_at,
            people: known,
            unknown_people,
        }
    });
    VideoView {
        video_id: record.video_id,
        state,
        file_name: record.file_name,
        content_type: record.content_type,
        size_bytes: record.size_bytes,
        movie: record.movie,
        uploaded_by: record.uploaded_by,
        created_at: record.created_at,
        urls_expire_at: record.urls_expire_at,
        processing: processing.map(|p| Processing {
            phase: p.phase,
            reason: p.reason,
            shards_total: p.shards_total,
            shards_succeeded: p.shards_succeeded,
            video_job: p.video_job,
            started_at: p.started_at,
            completed_at: p.completed_at,
            updated_at: p.updated_at,
        }),
        summary,
    }
}

impl App {
    pub async fn video_facts(&self, video_id: &str) -> ApiResult<VideoFacts> {
        let (record, processing) = self.video_items(video_id).await?;
        let arrived = self.uploaded_size(&record).await?.is_some();
        let (movie, people) = self.movie_of(&record.source()).await?;
        let curated = match &movie {
            Some(movie) => self.curated(movie).await?,
            None => None,
        };
        Ok(VideoFacts { record, arrived, processing, movie, people, curated })
    }

    /// The video's own partition in one consistent query: its upload record and, once its
    /// VideoJob exists, the ingest's processing state (two small items, one page).
    pub(crate) async fn video_items(&self, video_id: &str) -> ApiResult<(UploadRecord, Option<ProcessingItem>)> {
        let items = self
            .dynamodb
            .query()
            .table_name(&self.config.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(video_pk(video_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::upstream("reading the video's items", e))?
            .items
            .unwrap_or_default();
        if items.iter().any(|item| item.contains_key(crate::erase::ERASED)) {
            return Err(ApiError::NotFound(format!("video {video_id} was erased")));
        }
        let (mut record, mut processing) = (None, None);
        for item in items {
            match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(UPLOAD_SK) => {
                    record = Some(
                        serde_dynamo::from_item(item)
                            .map_err(|e| ApiError::upstream("decoding the upload record", e))?,
                    );
                }
                Some(PROCESSING_SK) => {
                    processing = Some(
                        serde_dynamo::from_item(item)
                            .map_err(|e| ApiError::upstream("decoding the processing state", e))?,
                    );
                }
                _ => {}
            }
        }
        Ok((record.ok_or_else(|| no_video(video_id))?, processing))
    }

    /// The size of the uploaded video, if it is there. A listing, not a HEAD: the API
    /// may list `videos/` but never read a video.
    pub async fn uploaded_size(&self, record: &UploadRecord) -> ApiResult<Option<u64>> {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(&record.bucket)
            .prefix(&record.key)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| ApiError::upstream("looking for the uploaded video", e))?;
        let object = listed.contents().iter().find(|o| o.key() == Some(record.key.as_str()));
        Ok(object.map(|o| o.size().unwrap_or(0) as u64))
    }

    /// The movie item and the people of the results of `source`, if any.
    pub async fn movie_of(&self, source: &str) -> ApiResult<(Option<MovieItem>, Vec<EntityItem>)> {
        self.movie_partition(movie_pk(source)).await
    }

    /// The movie item and people of a movie partition (`MOVIE#<movie id>`).
    pub async fn movie_partition(&self, pk: String) -> ApiResult<(Option<MovieItem>, Vec<EntityItem>)> {
        let pages = self
            .dynamodb
            .query()
            .table_name(&self.config.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .into_paginator()
            .items()
            .send();
        let items: Vec<_> =
            pages.collect::<Result<_, _>>().await.map_err(|e| ApiError::upstream("reading the results", e))?;
        let (mut movie, mut people) = (None, Vec::new());
        for item in items {
            let decode = |what| move |e| ApiError::upstream(what, e);
            if item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == MOVIE_SK) {
                movie = Some(serde_dynamo::from_item(item).map_err(decode("decoding the movie item"))?);
            } else {
                people.push(serde_dynamo::from_item(item).map_err(decode("decoding a person item"))?);
            }
        }
        // The movie item is written last: without it the people are a run in progress.
        Ok(if movie.is_some() { (movie, people) } else { (None, Vec::new()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::fixture as record;

    fn person(name: &str, kind: EntityType, seconds: f64) -> EntityItem {
        EntityItem {
            pk: "MOVIE#m".into(),
            sk: format!("{}#{name}", kind.as_str()),
            entity_type: kind,
            name: name.into(),
            movie_title: "Film".into(),
            source: "s3://raw/videos/v/film.mp4".into(),
            processed_at: "2026-12-01T10:05:00Z".into(),
            screen_time_seconds: seconds,
            first_seen_seconds: 0.0,
            appearances: 1,
            confidence: 0.7,
            actor_name: (kind == EntityType::Actor).then(|| name.into()),
        }
    }

    fn movie() -> MovieItem {
        MovieItem {
            pk: "MOVIE#m".into(),
            sk: MOVIE_SK.into(),
            entity_type: EntityType::Movie,
            name: "Film".into(),
            title: "Film".into(),
            source: "s3://raw/videos/v/film.mp4".into(),
            job: "media/v-1".into(),
            result_uri: "s3://processed/results/media/v-1/result.json".into(),
            processed_at: "2026-12-01T10:05:00Z".into(),
            processed_day: "2026-12-01".into(),
            finished_at: "2026-12-01T10:09:00Z".into(),
            duration_seconds: 24.0,
            actors_found: 2,
            genre: None,
            director: None,
            year: None,
            version: 1,
            curation_version: None,
        }
    }

    fn state(status: UploadStatus, arrived: bool, done: bool, now: &str) -> VideoState {
        let facts = VideoFacts {
            record: record(status),
            arrived,
            processing: None,
            movie: done.then(movie),
            people: vec![],
            curated: None,
        };
        view(facts, now.parse().unwrap()).state
    }

    fn processing(state: ProcessingState, reason: Option<&str>) -> ProcessingItem {
        ProcessingItem {
            pk: "VIDEO#v".into(),
            sk: PROCESSING_SK.into(),
            video_id: "v".into(),
            state,
            phase: "Failed".into(),
            order: 40_000,
            video_job: "media/v-1".into(),
            source: "s3://raw/videos/v/film.mp4".into(),
            reason: reason.map(str::to_string),
            shards_total: 1,
            shards_succeeded: 0,
            result_uri: None,
            actors_found: None,
            started_at: None,
            completed_at: None,
            updated_at: "2026-12-01T10:06:00Z".into(),
        }
    }

    fn with_processing(state: ProcessingState, done: bool) -> VideoView {
        let facts = VideoFacts {
            record: record(UploadStatus::Pending),
            arrived: true,
            processing: Some(processing(state, Some("not a video"))),
            movie: done.then(movie),
            people: vec![],
            curated: None,
        };
        view(facts, Timestamp::now())
    }

    #[test]
    fn the_ingests_state_says_how_the_analysis_goes_until_the_results_are_there() {
        assert_eq!(with_processing(ProcessingState::Queued, false).state, VideoState::Queued);
        assert_eq!(with_processing(ProcessingState::Processing, false).state, VideoState::Processing);
        assert_eq!(with_processing(ProcessingState::Succeeded, false).state, VideoState::Processing);
        assert_eq!(with_processing(ProcessingState::Succeeded, true).state, VideoState::Succeeded);
        let failed = with_processing(ProcessingState::Failed, false);
        assert_eq!(failed.state, VideoState::Failed);
        assert_eq!(failed.processing.unwrap().reason.as_deref(), Some("not a video"));
    }

    #[test]
    fn a_video_analysed_again_shows_the_new_analysis_over_the_old_results() {
        let again = |state: ProcessingState| {
            let mut processing = processing(state, None);
            processing.video_job = "media/v-2".into();
            let facts = VideoFacts {
                record: record(UploadStatus::Completed),
                arrived: true,
                processing: Some(processing),
                movie: Some(movie()),
                people: vec![],
                curated: None,
            };
            view(facts, Timestamp::now())
        };
        assert_eq!(again(ProcessingState::Queued).state, VideoState::Queued);
        assert_eq!(again(ProcessingState::Processing).state, VideoState::Processing);
        assert_eq!(again(ProcessingState::Succeeded).state, VideoState::Processing, "until its results are read");
        assert!(again(ProcessingState::Processing).summary.is_some(), "the old results are still answered");
        // A failed new analysis leaves the old results standing; the failure says why.
        assert_eq!(again(ProcessingState::Failed).state, VideoState::Succeeded);
    }

    #[test]
    fn the_state_follows_the_upload_then_the_results() {
        let (early, late) = ("2026-12-01T10:30:00Z", "2026-12-01T12:00:00Z");
        assert_eq!(state(UploadStatus::Pending, false, false, early), VideoState::AwaitingUpload);
        assert_eq!(state(UploadStatus::Pending, false, false, late), VideoState::Expired);
        assert_eq!(state(UploadStatus::Pending, true, false, late), VideoState::Uploaded);
        assert_eq!(state(UploadStatus::Completed, true, false, early), VideoState::Uploaded);
        assert_eq!(state(UploadStatus::Aborted, false, false, early), VideoState::Aborted);
        assert_eq!(state(UploadStatus::Pending, true, true, late), VideoState::Succeeded);
    }

    #[test]
    fn the_summary_lists_known_people_by_screen_time_and_counts_the_unknown() {
        let people = vec![
            person("Ada", EntityType::Actor, 3.0),
            person("unknown-1", EntityType::Unknown, 9.0),
            person("Grace", EntityType::Actor, 7.5),
        ];
        let facts = VideoFacts {
            record: record(UploadStatus::Pending),
            arrived: true,
            processing: None,
            movie: Some(movie()),
            people,
            curated: None,
        };
        let summary = view(facts, Timestamp::now()).summary.unwrap();
        let names: Vec<_> = summary.people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Grace", "Ada"]);
        assert_eq!(summary.unknown_people, 1);
        assert_eq!(summary.finished_at, "2026-12-01T10:09:00Z");
    }
}
