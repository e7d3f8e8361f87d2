//! `POST /videos`, `POST /videos/{id}/complete`, `GET /videos/{id}/upload` and `DELETE
//! /videos/{id}/upload`: minting upload URLs, resuming and finishing multipart uploads. The video's bytes never pass through the
//! API; the content type, the exact length (single PUT) and the metadata are signed into
//! the URLs (or set on the multipart upload), so a client cannot change them.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use cameo_model::table::video_pk;
use cameo_model::upload::{VIDEO_PREFIX, object_metadata};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::identity::Caller;
use crate::plan::{UploadPlan, part_length, plan};
use crate::record::{LIBRARY, UPLOAD_SK, UploadRecord, UploadStatus, sortable_time};
use crate::validate::{UploadRequest, check_upload};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    pub video_id: String,
    /// Where the video lands in the raw bucket.
    pub key: String,
    /// When the URLs stop working.
    pub expires_at: String,
    pub upload: UploadInstructions,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "camelCase")]
pub enum UploadInstructions {
    /// PUT the whole file to `url` with exactly these headers.
    #[serde(rename = "PUT")]
    Put { url: String, headers: BTreeMap<String, String> },
    /// PUT each part to its URL, then `POST /videos/{id}/complete` with the parts' ETags.
    #[serde(rename_all = "camelCase")]
    Multipart { part_size_bytes: u64, parts: Vec<PartUrl> },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartUrl {
    pub part_number: u32,
    pub size_bytes: u64,
    pub url: String,
}

/// `GET /videos/{id}/upload`: where a multipart upload stands, and fresh URLs for the parts
/// S3 does not hold yet.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeResponse {
    pub video_id: String,
    pub key: String,
    /// When the new URLs stop working.
    pub expires_at: String,
    pub part_size_bytes: u64,
    /// The parts S3 holds, at their planned size: complete with their ETags.
    pub uploaded: Vec<HeldPart>,
    /// The parts still to PUT.
    pub parts: Vec<PartUrl>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldPart {
    pub part_number: u32,
    pub size_bytes: u64,
    /// As S3 lists it (S3 does; some stand-ins do not): a client keeps its own as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// The body of `POST /videos/{id}/complete`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompleteRequest {
    pub parts: Vec<UploadedPart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadedPart {
    pub part_number: u32,
    /// The `ETag` header S3 answered the part's PUT with.
    pub etag: String,
}

/// A fresh, unguessable id: 32 hex digits.
fn new_video_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn presigning(app: &App) -> ApiResult<PresigningConfig> {
    PresigningConfig::expires_in(app.config.upload_url_ttl()).map_err(|e| ApiError::upstream("presigning", e))
}

impl App {
    pub async fn create_upload(&self, caller: &Caller, request: UploadRequest) -> ApiResult<UploadResponse> {
        check_upload(&request, &self.config)?;
        let video_id = new_video_id();
        let key = format!("{VIDEO_PREFIX}{video_id}/{}", request.file_name);
        let movie = request.movie.clone().unwrap_or_default();
        let metadata = object_metadata(&video_id, &caller.id, &movie);
        let plan = plan(request.size_bytes, self.config.single_put_max_bytes);
        let now = Timestamp::now();
        let expires_at = now + self.config.upload_url_ttl();
        let mut record = UploadRecord {
            pk: video_pk(&video_id),
            sk: UPLOAD_SK.into(),
            video_id: video_id.clone(),
            bucket: self.config.raw_bucket.clone(),
            key: key.clone(),
            file_name: request.file_name,
            content_type: request.content_type,
            size_bytes: request.size_bytes,
            movie: request.movie,
            uploaded_by: caller.id.clone(),
            created_at: sortable_time(now),
            urls_expire_at: expires_at.to_string(),
            plan,
            upload_id: None,
            status: UploadStatus::Pending,
            analysis_runs: 0,
            library: LIBRARY.into(),
        };
        let upload = match plan {
            UploadPlan::Single => {
                self.put_record(&record).await?;
                let (bucket, key) = (&record.bucket, &record.key);
                self.presign_put(bucket, key, &record.content_type, record.size_bytes, metadata).await?
            }
            UploadPlan::Multipart { part_size_bytes, parts } => {
                let created = self
                    .s3
                    .create_multipart_upload()
                    .bucket(&record.bucket)
                    .key(&key)
                    .content_type(&record.content_type)
                    .set_metadata(Some(metadata.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| ApiError::upstream("starting the multipart upload", e))?;
                record.upload_id = created.upload_id;
                if let Err(e) = self.put_record(&record).await {
                    // Leave nothing behind: a multipart upload nobody can complete.
                    self.abort_on_s3(&record).await;
                    return Err(e);
                }
                let numbers: Vec<u32> = (1..=parts).collect();
                let parts = self.presign_parts(&record, part_size_bytes, &numbers).await?;
                UploadInstructions::Multipart { part_size_bytes, parts }
            }
        };
        tracing::info!(video = %video_id, key = %key, size = record.size_bytes, by = %caller.id, "upload minted");
        Ok(UploadResponse { video_id, key, expires_at: expires_at.to_string(), upload })
    }

    /// A presigned PUT of exactly `size_bytes` of `content_type` (and `metadata`) to
    /// `bucket/key`, valid for the upload URL lifetime.
    pub(crate) async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        metadata: BTreeMap<String, String>,
    ) -> ApiResult<UploadInstructions> {
        let presigned = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size_bytes as i64)
            .set_metadata(Some(metadata.into_iter().collect()))
            .presigned(presigning(self)?)
            .await
            .map_err(|e| ApiError::upstream("presigning the upload", e))?;
        let headers = presigned.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Ok(UploadInstructions::Put { url: presigned.uri().to_string(), headers })
    }

    /// Presigned PUTs of the parts `numbers` of a multipart upload.
    async fn presign_parts(&self, record: &UploadRecord, part_size: u64, numbers: &[u32]) -> ApiResult<Vec<PartUrl>> {
        let config = presigning(self)?;
        let mut urls = Vec::with_capacity(numbers.len());
        for &part_number in numbers {
            let size_bytes = part_length(record.size_bytes, part_size, part_number);
            let presigned = self
                .s3
                .upload_part()
                .bucket(&record.bucket)
                .key(&record.key)
                .set_upload_id(record.upload_id.clone())
                .part_number(part_number as i32)
                .content_length(size_bytes as i64)
                .presigned(config.clone())
                .await
                .map_err(|e| ApiError::upstream("presigning an upload part", e))?;
            urls.push(PartUrl { part_number, size_bytes, url: presigned.uri().to_string() });
        }
        Ok(urls)
    }

    /// Loads a record the caller may act on: theirs, multipart and still pending; with its
    /// part size and number of parts.
    async fn pending_multipart(&self, caller: &Caller, video_id: &str) -> ApiResult<(UploadRecord, u64, u32)> {
        let record = self.load_record(video_id).await?;
        if record.uploaded_by != caller.id {
            return Err(ApiError::Forbidden(format!("video {video_id} was uploaded by someone else")));
        }
        let UploadPlan::Multipart { part_size_bytes, parts } = record.plan else {
            return Err(ApiError::Conflict(format!(
                "video {video_id} is a single PUT upload: there is nothing to complete or abort"
            )));
        };
        if record.status != UploadStatus::Pending {
            return Err(ApiError::Conflict(format!("the upload of video {video_id} is already {:?}", record.status)));
        }
        Ok((record, part_size_bytes, parts))
    }

    /// Resumes a multipart upload after a reload or after its URLs expired: the parts S3
    /// holds, and fresh URLs for the others (the record's `urlsExpireAt` moves with them).
    /// Until the raw bucket's lifecycle rule aborts the upload.
    pub async fn resume_upload(&self, caller: &Caller, video_id: &str) -> ApiResult<ResumeResponse> {
        let (record, part_size_bytes, parts) = self.pending_multipart(caller, video_id).await?;
        let held = match self.held_parts(&record).await? {
            Some(held) => held,
            None => {
                self.finish_record(video_id, UploadStatus::Aborted).await?;
                return Err(ApiError::Conflict(format!(
                    "the upload of video {video_id} was aborted (the raw bucket aborts unfinished uploads after some days): upload it again"
                )));
            }
        };
        // A part held at another size than planned is sent again: S3 keeps a part number's last PUT.
        let uploaded: Vec<HeldPart> = held
            .into_iter()
            .filter(|p| {
                p.part_number <= parts && p.size_bytes == part_length(record.size_bytes, part_size_bytes, p.part_number)
            })
            .collect();
        let missing: Vec<u32> = (1..=parts).filter(|n| !uploaded.iter().any(|p| p.part_number == *n)).collect();
        let expires_at = Timestamp::now() + self.config.upload_url_ttl();
        if !self.move_url_expiry(video_id, &expires_at.to_string()).await? {
            return Err(ApiError::Conflict(format!("the upload of video {video_id} finished meanwhile")));
        }
        let parts = self.presign_parts(&record, part_size_bytes, &missing).await?;
        tracing::info!(video = %video_id, held = uploaded.len(), missing = missing.len(), "multipart upload resumed");
        Ok(ResumeResponse {
            video_id: video_id.into(),
            key: record.key,
            expires_at: expires_at.to_string(),
            part_size_bytes,
            uploaded,
            parts,
        })
    }

    /// The parts S3 holds of a multipart upload (ListParts, every page); `None` when the
    /// upload is gone (aborted).
    async fn held_parts(&self, record: &UploadRecord) -> ApiResult<Option<Vec<HeldPart>>> {
        let mut held = Vec::new();
        let mut marker = None;
        loop {
            let listed = self
                .s3
                .list_parts()
                .bucket(&record.bucket)
                .key(&record.key)
                .set_upload_id(record.upload_id.clone())
                .set_part_number_marker(marker)
                .send()
                .await;
            let page = match listed {
                Ok(page) => page,
                Err(e) if e.as_service_error().and_then(|s| ProvideErrorMetadata::code(s)) == Some("NoSuchUpload") => {
                    return Ok(None);
                }
                Err(e) => return Err(ApiError::upstream("listing the uploaded parts", e)),
            };
            held.extend(page.parts().iter().filter_map(|p| {
                Some(HeldPart {
                    part_number: u32::try_from(p.part_number()?).ok()?,
                    size_bytes: u64::try_from(p.size()?).ok()?,
                    etag: p.e_tag().map(str::to_string),
                })
            }));
            match (page.is_truncated(), page.next_part_number_marker) {
                (Some(true), Some(next)) => marker = Some(next),
                _ => return Ok(Some(held)),
            }
        }
    }

    pub async fn complete_upload(&self, caller: &Caller, video_id: &str, request: CompleteRequest) -> ApiResult<()> {
        let (record, _, expected) = self.pending_multipart(caller, video_id).await?;
        check_parts(&request, expected)?;
        let parts = request
            .parts
            .into_iter()
            .map(|p| CompletedPart::builder().part_number(p.part_number as i32).e_tag(p.etag).build())
            .collect();
        let completed = self
            .s3
            .complete_multipart_upload()
            .bucket(&record.bucket)
            .key(&record.key)
            .set_upload_id(record.upload_id.clone())
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await;
        if let Err(e) = completed {
            let code = e.as_service_error().and_then(|s| ProvideErrorMetadata::code(s));
            return Err(match code {
                Some(code @ ("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall")) => ApiError::invalid(
                    "invalid_parts",
                    format!(
                        "S3 refused the parts ({code}): upload every part to its URL and send the ETags it answered"
                    ),
                ),
                Some("NoSuchUpload") => ApiError::Conflict(format!("video {video_id} has no upload in progress")),
                _ => ApiError::upstream("completing the multipart upload", e),
            });
        }
        // The parts' sizes are not signed: check the whole, and take back a wrong one.
        let size = self.uploaded_size(&record).await?;
        if size != Some(record.size_bytes) {
            let _ = self.s3.delete_object().bucket(&record.bucket).key(&record.key).send().await;
            self.finish_record(video_id, UploadStatus::Aborted).await?;
            return Err(ApiError::invalid(
                "size_mismatch",
                format!(
                    "the parts add up to {} bytes, not the {} declared; upload again",
                    size.unwrap_or(0),
                    record.size_bytes
                ),
            ));
        }
        self.finish_record(video_id, UploadStatus::Completed).await?;
        tracing::info!(video = %video_id, "multipart upload completed");
        Ok(())
    }

    pub async fn abort_upload(&self, caller: &Caller, video_id: &str) -> ApiResult<()> {
        let (record, _, _) = self.pending_multipart(caller, video_id).await?;
        self.abort_on_s3(&record).await;
        self.finish_record(video_id, UploadStatus::Aborted).await?;
        tracing::info!(video = %video_id, "multipart upload aborted");
        Ok(())
    }

    /// Best effort: the raw bucket's lifecycle rule aborts what this misses.
    async fn abort_on_s3(&self, record: &UploadRecord) {
        let aborted = self
            .s3
            .abort_multipart_upload()
            .bucket(&record.bucket)
            .key(&record.key)
            .set_upload_id(record.upload_id.clone())
            .send()
            .await;
        if let Err(e) = aborted {
            tracing::warn!(key = %record.key, error = ?e, "could not abort the multipart upload");
        }
    }
}

/// Every part once, in order, with an ETag.
fn check_parts(request: &CompleteRequest, expected: u32) -> ApiResult<()> {
    let in_order = request.parts.iter().enumerate().all(|(i, p)| p.part_number as usize == i + 1);
    if request.parts.len() != expected as usize || !in_order {
        return Err(ApiError::invalid(
            "invalid_parts",
            format!("send all {expected} parts, numbered 1 to {expected} in order, each with its ETag"),
        ));
    }
    let etag_ok = |e: &str| !e.is_empty() && e.len() <= 128 && e.bytes().all(|b| (0x21..0x7f).contains(&b));
    if let Some(part) = request.parts.iter().find(|p| !etag_ok(&p.etag)) {
        return Err(ApiError::invalid("invalid_parts", format!("part {} has no valid ETag", part.part_number)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(numbers: &[u32]) -> CompleteRequest {
        CompleteRequest {
            parts: numbers.iter().map(|&n| UploadedPart { part_number: n, etag: format!("\"e{n}\"") }).collect(),
        }
    }

    #[test]
    fn completion_needs_every_part_once_in_order() {
        assert!(check_parts(&parts(&[1, 2, 3]), 3).is_ok());
        for bad in [&[1, 2][..], &[1, 3, 2], &[1, 2, 2], &[0, 1, 2], &[1, 2, 3, 4]] {
            assert_eq!(check_parts(&parts(bad), 3).unwrap_err().code(), "invalid_parts", "{bad:?}");
        }
        let mut no_etag = parts(&[1]);
        no_etag.parts[0].etag = String::new();
        assert!(check_parts(&no_etag, 1).is_err());
    }
}
