//! The table's questions: the videos of a genre, a director or a day, all videos, and the
//! videos an actor appears in, each answered from its GSI a page at a time.

use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::LazyLock;

use cameo_model::table::{EntityItem, EntityType, MovieItem, TableDefinition, movie_id_of_pk};
use cameo_model::upload::video_id_of_key;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::aws::key_in;
use crate::error::{ApiError, ApiResult};
use crate::pages::{Listing, Page, Scope, next_token, page};

/// Parsed once per process, not per query.
static DEFINITION: LazyLock<TableDefinition> = LazyLock::new(TableDefinition::load);

/// The filters of `GET /videos`, at most one of them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VideoQuery {
    pub genre: Option<String>,
    pub director: Option<String>,
    /// `YYYY-MM-DD`.
    pub processed_day: Option<String>,
    pub limit: Option<String>,
    pub next: Option<String>,
}

/// `GET /actors/{name}/videos`'s paging.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub next: Option<String>,
}

/// A movie as listed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoListing {
    pub movie_id: String,
    /// Set when the video was uploaded through this API.
    pub video_id: Option<String>,
    pub title: String,
    pub genre: Option<String>,
    pub director: Option<String>,
    pub year: Option<i32>,
    pub processed_at: String,
    pub finished_at: String,
    pub duration_seconds: f64,
    pub actors_found: u32,
}

/// An actor's appearance in a movie, as listed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorVideo {
    pub movie_id: String,
    pub video_id: Option<String>,
    pub title: String,
    pub screen_time_seconds: f64,
    pub first_seen_seconds: f64,
    pub appearances: u32,
    pub confidence: f64,
    pub processed_at: String,
}

/// One GSI query: `key = value` on `index` (and its sort key beginning with
/// `sort_prefix`), newest (or last) first when `descending`.
pub(crate) struct IndexQuery<'a> {
    pub index: &'static str,
    pub value: &'a str,
    pub descending: bool,
    pub sort_prefix: Option<&'a str>,
}

impl App {
    pub async fn list_videos(&self, query: VideoQuery) -> ApiResult<Listing<VideoListing>> {
        let filters =
            [("byGenre", &query.genre), ("byDirector", &query.director), ("byProcessedDay", &query.processed_day)];
        let mut given = filters.iter().filter_map(|(index, value)| Some((*index, value.as_deref()?)));
        let index_query = match (given.next(), given.next()) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "invalid_query",
                    "filter by one of genre, director or processedDay, not several",
                ));
            }
            (Some((index, value)), None) => {
                if index == "byProcessedDay" && value.parse::<jiff::civil::Date>().is_err() {
                    return Err(ApiError::invalid("invalid_query", "processedDay must be a date, YYYY-MM-DD"));
                }
                IndexQuery { index, value, descending: true, sort_prefix: None }
            }
            (None, _) => IndexQuery {
                index: "byEntityType",
                value: EntityType::Movie.as_str(),
                descending: false,
                sort_prefix: None,
            },
        };
        let (movies, next) =
            self.query_index::<MovieItem>(&index_query, query.limit.as_deref(), query.next.as_deref()).await?;
        let items = movies
            .into_iter()
            .map(|m| VideoListing {
                movie_id: movie_id_of_pk(&m.pk).to_string(),
                video_id: self.video_id_of(&m.source),
                title: m.title,
                genre: m.genre,
                director: m.director,
                year: m.year,
                processed_at: m.processed_at,
                finished_at: m.finished_at,
                duration_seconds: m.duration_seconds,
                actors_found: m.actors_found,
            })
            .collect();
        Ok(Listing { items, next })
    }

    pub async fn actor_videos(&self, name: &str, query: PageQuery) -> ApiResult<Listing<ActorVideo>> {
        if name.is_empty() || name.len() > 256 {
            return Err(ApiError::invalid("invalid_query", "the actor's name is empty or too long"));
        }
        let index_query = IndexQuery { index: "byActor", value: name, descending: false, sort_prefix: None };
        let (people, next) =
            self.query_index::<EntityItem>(&index_query, query.limit.as_deref(), query.next.as_deref()).await?;
        let items = people
            .into_iter()
            .map(|p| ActorVideo {
                movie_id: movie_id_of_pk(&p.pk).to_string(),
                video_id: self.video_id_of(&p.source),
                title: p.movie_title,
                screen_time_seconds: p.screen_time_seconds,
                first_seen_seconds: p.first_seen_seconds,
                appearances: p.appearances,
                confidence: p.confidence,
                processed_at: p.processed_at,
            })
            .collect();
        Ok(Listing { items, next })
    }

    /// The most recently finished movie, by its `byFinishedAt` entry.
    pub async fn latest_movie(&self) -> ApiResult<Option<MovieItem>> {
        let query = IndexQuery {
            index: "byFinishedAt",
            value: EntityType::Movie.as_str(),
            descending: true,
            sort_prefix: None,
        };
        let (mut movies, _) = self.query_index::<MovieItem>(&query, Some("1"), None).await?;
        Ok(movies.pop())
    }

    pub(crate) async fn query_index<T: DeserializeOwned>(
        &self,
        query: &IndexQuery<'_>,
        limit: Option<&str>,
        next: Option<&str>,
    ) -> ApiResult<(Vec<T>, Option<String>)> {
        let definition = &*DEFINITION;
        let index = definition.index(query.index).ok_or_else(|| {
            ApiError::upstream("finding the index", format!("{} is not in the definition", query.index))
        })?;
        let prefixed = query.sort_prefix.map(|p| format!("&{}^={p}", index.sort_key)).unwrap_or_default();
        let scope = Scope {
            query: format!("{}={}{prefixed}", query.index, query.value),
            keys: [&definition.partition_key, &definition.sort_key, &index.partition_key, &index.sort_key],
            partition: (&index.partition_key, query.value),
        };
        let Page { size, start } = page(limit, next, &scope)?;
        let mut request = self
            .dynamodb
            .query()
            .table_name(&self.config.table)
            .index_name(query.index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", &index.partition_key)
            .expression_attribute_values(":v", AttributeValue::S(query.value.into()));
        if let Some(prefix) = query.sort_prefix {
            request = request
                .key_condition_expression("#k = :v AND begins_with(#s, :p)")
                .expression_attribute_names("#s", &index.sort_key)
                .expression_attribute_values(":p", AttributeValue::S(prefix.into()));
        }
        let answer = request
            .scan_index_forward(!query.descending)
            .limit(size)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| ApiError::upstream("querying the table", e))?;
        let next = next_token(answer.last_evaluated_key(), &scope);
        let items = answer
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding an item", e)))
            .collect::<ApiResult<_>>()?;
        Ok((items, next))
    }

    /// The video id of a movie uploaded through this API (`s3://<raw>/videos/<id>/...`).
    fn video_id_of(&self, source: &str) -> Option<String> {
        video_id_of_key(key_in(source, &self.config.raw_bucket)?).map(str::to_string)
    }
}
