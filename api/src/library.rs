//! `GET /library`: every video uploaded through this API, newest first, in whatever state
//! it is (awaiting its upload, uploaded, queued, processing, failed with its reason,
//! succeeded), from the upload records' index (`byUploadedAt`). `?day=YYYY-MM-DD` keeps
//! those uploaded that day (UTC), `?state=` those in one state; a page at a time.

use jiff::Timestamp;
use serde::Deserialize;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::pages::{Listing, OffsetPage};
use crate::queries::IndexQuery;
use crate::record::{LIBRARY, UploadRecord};
use crate::state::{VideoState, VideoView, view};

/// A state filter reads at most this many pages of the index for one page of answers.
const MAX_READS: usize = 10;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LibraryQuery {
    /// As `GET /videos/{id}` answers it: `awaiting_upload`, `failed`, ...
    pub state: Option<String>,
    /// `YYYY-MM-DD`: uploaded that day (UTC).
    pub day: Option<String>,
    pub limit: Option<String>,
    pub next: Option<String>,
}

impl LibraryQuery {
    fn state(&self) -> ApiResult<Option<VideoState>> {
        let Some(state) = &self.state else { return Ok(None) };
        serde_json::from_value(serde_json::Value::String(state.clone())).map(Some).map_err(|_| {
            ApiError::invalid(
                "invalid_query",
                "state must be one of awaiting_upload, expired, aborted, uploaded, queued, processing, succeeded, failed",
            )
        })
    }

    fn day(&self) -> ApiResult<Option<&str>> {
        match self.day.as_deref() {
            Some(day) if day.parse::<jiff::civil::Date>().is_err() || day.len() != 10 => {
                Err(ApiError::invalid("invalid_query", "day must be a date, YYYY-MM-DD"))
            }
            day => Ok(day),
        }
    }
}

impl App {
    /// A page of the library. With a state filter, a page may hold fewer videos than asked
    /// for (never more) and still have a next one: the filter is applied to each page read.
    pub async fn library(&self, query: LibraryQuery) -> ApiResult<Listing<VideoView>> {
        let (state, day) = (query.state()?, query.day()?);
        let size = OffsetPage::parse(query.limit.as_deref(), None)?.size;
        let index_query = IndexQuery { index: "byUploadedAt", value: LIBRARY, descending: true, sort_prefix: day };
        let (mut items, mut next) = (Vec::new(), query.next.clone());
        for _ in 0..MAX_READS {
            let wanted = (size - items.len()).to_string();
            let (records, after) =
                self.query_index::<UploadRecord>(&index_query, Some(&wanted), next.as_deref()).await?;
            for record in records {
                let facts = match self.video_facts(&record.video_id).await {
                    Ok(facts) => facts,
                    // Erased since the page was read.
                    Err(ApiError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                };
                let video = view(facts, Timestamp::now());
                if state.is_none_or(|s| video.state == s) {
                    items.push(video);
                }
            }
            next = after;
            if items.len() >= size || next.is_none() {
                break;
            }
        }
        Ok(Listing { items, next })
    }
}
