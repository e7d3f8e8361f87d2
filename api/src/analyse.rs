//! `POST /videos/{id}/analyse`: analyse an uploaded video again (after a failure, or with a
//! newer model or gallery). The API sends the upload's created event to the ingest's queue
//! again, numbered by a run the upload record counts; the ingest names a new VideoJob by
//! it, whose state then replaces the old analysis's. The corrections people made are
//! replayed on the new results, as for any analysis.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use cameo_model::processing::ProcessingState;
use cameo_model::s3_event::{ObjectCreated, analyse_again};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::identity::{Caller, Scope};
use crate::record::{UploadRecord, no_video, record_key};

/// What `POST /videos/{id}/analyse` answers: the run asked for, which the ingest picks up.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisAsked {
    pub video_id: String,
    pub analysis_run: u32,
}

impl App {
    pub async fn analyse_again(&self, caller: &Caller, video_id: &str) -> ApiResult<AnalysisAsked> {
        let Some(queue) = &self.config.ingest_queue_url else {
            return Err(ApiError::Unavailable(
                "this API was not given the ingest's queue (CAMEO_INGEST_QUEUE_URL): analyse the video again with kubectl".into(),
            ));
        };
        let (record, processing) = self.video_items(video_id).await?;
        may_analyse(caller, &record)?;
        if let Some(state) = processing.as_ref().map(|p| p.state)
            && matches!(state, ProcessingState::Queued | ProcessingState::Processing)
        {
            return Err(ApiError::Conflict(format!(
                "video {video_id} is being analysed: ask again once its analysis has finished or failed"
            )));
        }
        let mut object = self.arrived_object(&record).await?;
        object.run = self.next_run(video_id).await?;
        let sent = self.sqs.send_message().queue_url(queue).message_body(analyse_again(&object)).send().await;
        sent.map_err(|e| ApiError::upstream("asking the ingest to analyse the video", e))?;
        tracing::info!(video_id, run = object.run, caller = caller.id, "analysis asked for again");
        Ok(AnalysisAsked { video_id: video_id.into(), analysis_run: object.run })
    }

    /// The uploaded object as S3 would announce it; a conflict while it has not arrived.
    async fn arrived_object(&self, record: &UploadRecord) -> ApiResult<ObjectCreated> {
        let head = self.s3.head_object().bucket(&record.bucket).key(&record.key).send().await;
        let head = match head {
            Ok(head) => head,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                let id = &record.video_id;
                return Err(ApiError::Conflict(format!(
                    "video {id} has not arrived: GET /videos/{id} says where it stands"
                )));
            }
            Err(e) => return Err(ApiError::upstream("looking for the uploaded video", e)),
        };
        Ok(ObjectCreated {
            bucket: record.bucket.clone(),
            key: record.key.clone(),
            size: head.content_length().map(|l| l.max(0) as u64),
            etag: head.e_tag().map(str::to_string),
            version_id: head.version_id().map(str::to_string),
            run: 0,
        })
    }

    /// Counts one more run on the upload record and answers it.
    async fn next_run(&self, video_id: &str) -> ApiResult<u32> {
        let updated = self
            .dynamodb
            .update_item()
            .table_name(&self.config.table)
            .set_key(Some(record_key(video_id)))
            .update_expression("ADD analysisRuns :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        let updated = match updated {
            Ok(updated) => updated,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                return Err(no_video(video_id));
            }
            Err(e) => return Err(ApiError::upstream("counting the analysis", e)),
        };
        let runs = updated.attributes().and_then(|a| a.get("analysisRuns")).and_then(|v| v.as_n().ok());
        runs.and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::upstream("counting the analysis", "no count came back"))
    }
}

/// A curator may have any video analysed again; an uploader only their own.
fn may_analyse(caller: &Caller, record: &UploadRecord) -> ApiResult<()> {
    if caller.may(Scope::Curate) || record.uploaded_by == caller.id {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "video {} was uploaded by someone else: analysing it again needs cameo/curate",
            record.video_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{UploadStatus, fixture};

    #[test]
    fn an_uploader_may_analyse_their_own_video_again_and_a_curator_any() {
        let record = fixture(UploadStatus::Completed);
        let uploader = Caller::new(record.uploaded_by.clone(), vec![Scope::Upload]).unwrap();
        let stranger = Caller::new("jwt:i|other".into(), vec![Scope::Upload]).unwrap();
        let curator = Caller::new("jwt:i|curator".into(), vec![Scope::Curate]).unwrap();
        assert!(may_analyse(&uploader, &record).is_ok());
        assert!(matches!(may_analyse(&stranger, &record), Err(ApiError::Forbidden(_))));
        assert!(may_analyse(&curator, &record).is_ok());
    }
}
