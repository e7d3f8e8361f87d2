//! The curation worker's suggestions for naming ([`cameo_model::suggestions`]), as it
//! last surveyed them: `GET /videos/{id}/suggestions` (each unknown cluster's closest
//! people), `GET /people/{personId}/suggestions` (the unknown clusters across all videos
//! that come closest to the person without passing the rule) and `GET /review` (unknown
//! clusters across videos, grouped by likeness, the most seen first), paged. Every answer
//! says when the survey was made; before the first, the lists are empty.

use cameo_model::suggestions::{
    ClusterSuggestions, NearMiss, ReviewGroup, SURVEY_KEY, Survey, VideoSuggestions, video_suggestions_key,
};
use cameo_model::table::{MovieItem, movie_id_of_pk};
use cameo_model::unknown_index::shard_of;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::pages::OffsetPage;
use crate::queries::PageQuery;

/// A video's unknown clusters that come close to somebody.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoSuggestionsAnswer {
    pub movie_id: String,
    pub computed_at: Option<String>,
    pub clusters: Vec<ClusterSuggestions>,
}

/// A page of a list the survey holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyPage<T> {
    pub computed_at: Option<String>,
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl App {
    async fn read_suggestions<T: DeserializeOwned>(&self, key: &str) -> ApiResult<Option<T>> {
        let key = format!("{}{key}", self.config.suggestions_prefix);
        let object = self.s3.get_object().bucket(&self.config.processed_bucket).key(&key).send().await;
        let object = match object {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(ApiError::upstream("reading the suggestions", e)),
        };
        let bytes = object.body.collect().await.map_err(|e| ApiError::upstream("reading the suggestions", e))?;
        serde_json::from_slice(&bytes.into_bytes()).map(Some).map_err(|e| ApiError::upstream("parsing suggestions", e))
    }

    /// The suggestions for a movie's unknown clusters, of its current analysis only.
    pub async fn video_suggestions(&self, movie: &MovieItem) -> ApiResult<VideoSuggestionsAnswer> {
        let movie_id = movie_id_of_pk(&movie.pk).to_string();
        let shard: Option<VideoSuggestions> =
            self.read_suggestions(&video_suggestions_key(&shard_of(&movie_id))).await?;
        let computed_at = match &shard {
            Some(shard) => Some(shard.computed_at.clone()),
            None => self.read_suggestions::<Survey>(SURVEY_KEY).await?.map(|s| s.computed_at),
        };
        let clusters = shard.and_then(|mut s| s.movies.remove(&movie_id)).unwrap_or_default();
        let clusters = clusters.into_iter().filter(|c| c.cluster.job == movie.job).collect();
        Ok(VideoSuggestionsAnswer { movie_id, computed_at, clusters })
    }

    /// The unknown clusters that come closest to person `id` without passing the rule.
    pub async fn person_suggestions(&self, id: &str, query: PageQuery) -> ApiResult<SurveyPage<NearMiss>> {
        self.load_person(id).await?;
        let page = OffsetPage::parse(query.limit.as_deref(), query.next.as_deref())?;
        let survey: Option<Survey> = self.read_suggestions(SURVEY_KEY).await?;
        let computed_at = survey.as_ref().map(|s| s.computed_at.clone());
        let (items, next) = page.of(survey.and_then(|mut s| s.near_misses.remove(id)).unwrap_or_default());
        Ok(SurveyPage { computed_at, items, next })
    }

    /// The review queue: unknown clusters across videos grouped by likeness.
    pub async fn review_queue(&self, query: PageQuery) -> ApiResult<SurveyPage<ReviewGroup>> {
        let page = OffsetPage::parse(query.limit.as_deref(), query.next.as_deref())?;
        let survey: Option<Survey> = self.read_suggestions(SURVEY_KEY).await?;
        let computed_at = survey.as_ref().map(|s| s.computed_at.clone());
        let (items, next) = page.of(survey.map(|s| s.review).unwrap_or_default());
        Ok(SurveyPage { computed_at, items, next })
    }
}
