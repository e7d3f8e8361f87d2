//! The upload record: what `POST /videos` minted, kept in the table as `VIDEO#<id>` /
//! `UPLOAD`, so the later calls (complete, abort, state) know the key, the size, the
//! uploader and the multipart upload without trusting the client for any of them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use cameo_model::results::Movie;
use cameo_model::table::video_pk;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::plan::UploadPlan;

pub const UPLOAD_SK: &str = "UPLOAD";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UploadStatus {
    /// URLs minted; the bytes may or may not have arrived (a single PUT says nothing).
    Pending,
    /// The multipart upload was completed through the API.
    Completed,
    Aborted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadRecord {
    pub pk: String,
    pub sk: String,
    pub video_id: String,
    pub bucket: String,
    pub key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie: Option<Movie>,
    pub uploaded_by: String,
    pub created_at: String,
    pub urls_expire_at: String,
    pub plan: UploadPlan,
    /// S3's id of the multipart upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    pub status: UploadStatus,
    /// How many times the video was asked to be analysed again (`POST
    /// /videos/{id}/analyse`); the ingest names each analysis by it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub analysis_runs: u32,
    /// Always [`LIBRARY`]: the `byUploadedAt` partition, so the library lists the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub library: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The one partition of the `byUploadedAt` index: every upload of the installation.
pub const LIBRARY: &str = "VIDEO";

/// A time as RFC 3339 with microseconds always written, so that times sort as strings
/// (the library's index sorts by `createdAt`; "…:05.1Z" would sort after "…:05.12Z").
pub fn sortable_time(at: jiff::Timestamp) -> String {
    format!("{}.{:06}Z", at.strftime("%Y-%m-%dT%H:%M:%S"), at.subsec_microsecond())
}

impl UploadRecord {
    /// The video's S3 URI, as VideoJobs and the results name it.
    pub fn source(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// The record's key in the table.
pub(crate) fn record_key(video_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(video_pk(video_id))),
        ("sk".to_string(), AttributeValue::S(UPLOAD_SK.into())),
    ])
}

/// The answer for a video id that was never minted.
pub fn no_video(video_id: &str) -> ApiError {
    ApiError::NotFound(format!("no video {video_id}"))
}

fn status_value(status: UploadStatus) -> AttributeValue {
    serde_dynamo::to_attribute_value(status).unwrap_or(AttributeValue::Null(true))
}

impl App {
    /// Writes a new record; never replaces one.
    pub async fn put_record(&self, record: &UploadRecord) -> ApiResult<()> {
        let item = serde_dynamo::to_item(record).map_err(|e| ApiError::upstream("encoding the upload record", e))?;
        self.dynamodb
            .put_item()
            .table_name(&self.config.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| ApiError::upstream("recording the upload", e))?;
        Ok(())
    }

    pub async fn load_record(&self, video_id: &str) -> ApiResult<UploadRecord> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.config.table)
            .set_key(Some(record_key(video_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::upstream("reading the upload record", e))?
            .item
            .ok_or_else(|| no_video(video_id))?;
        serde_dynamo::from_item(item).map_err(|e| ApiError::upstream("decoding the upload record", e))
    }

    /// Moves a pending upload's `urlsExpireAt` (its URLs were minted again); false when it
    /// was no longer pending.
    pub async fn move_url_expiry(&self, video_id: &str, at: &str) -> ApiResult<bool> {
        self.update_pending(video_id, "urlsExpireAt", AttributeValue::S(at.into())).await
    }

    /// Moves a pending upload to `to`; false when it was no longer pending.
    pub async fn finish_record(&self, video_id: &str, to: UploadStatus) -> ApiResult<bool> {
        self.update_pending(video_id, "status", status_value(to)).await
    }

    /// Sets one attribute of a pending upload's record; false when it was no longer pending.
    async fn update_pending(&self, video_id: &str, attribute: &str, value: AttributeValue) -> ApiResult<bool> {
        let update = self
            .dynamodb
            .update_item()
            .table_name(&self.config.table)
            .set_key(Some(record_key(video_id)))
            .update_expression("SET #set = :value")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#set", attribute)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":value", value)
            .expression_attribute_values(":pending", status_value(UploadStatus::Pending))
            .send()
            .await;
        match update {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(ApiError::upstream("updating the upload record", e)),
        }
    }
}

/// A single-PUT upload record in `status`, for the API's unit tests.
#[cfg(test)]
pub(crate) fn fixture(status: UploadStatus) -> UploadRecord {
    UploadRecord {
        pk: video_pk("v"),
        sk: UPLOAD_SK.into(),
        video_id: "v".into(),
        bucket: "raw".into(),
        key: "videos/v/film.mp4".into(),
        file_name: "film.mp4".into(),
        content_type: "video/mp4".into(),
        size_bytes: 10,
        movie: None,
        uploaded_by: "jwt:i|u".into(),
        created_at: "2026-12-01T10:00:00Z".into(),
        urls_expire_at: "2026-12-01T11:00:00Z".into(),
        plan: UploadPlan::Single,
        upload_id: None,
        status,
        analysis_runs: 0,
        library: LIBRARY.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_record_carries_the_keys_of_the_library_index() {
        let record = fixture(UploadStatus::Pending);
        let fields = serde_json::to_value(record).unwrap();
        let definition = cameo_model::table::TableDefinition::load();
        let index = definition.index("byUploadedAt").expect("the library's index is defined");
        assert_eq!(fields[&index.partition_key], LIBRARY);
        assert!(fields[&index.sort_key].is_string());
    }

    #[test]
    fn times_sort_as_strings_whatever_their_fraction() {
        let (earlier, later): (jiff::Timestamp, jiff::Timestamp) =
            ("2026-12-06T10:00:05.1Z".parse().unwrap(), "2026-12-06T10:00:05.12Z".parse().unwrap());
        assert_eq!(sortable_time(earlier), "2026-12-06T10:00:05.100000Z");
        assert!(sortable_time(earlier) < sortable_time(later));
        assert_eq!(sortable_time(later).parse::<jiff::Timestamp>().unwrap(), later);
    }
}
