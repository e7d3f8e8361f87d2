//! `GET /videos/{id}/media`: a short-lived presigned GET of the video itself, for the web
//! app's `<video>` (which cannot send a bearer token; it makes Range requests on the URL,
//! and asks here again when the URL expires mid-playback). The API's role may GET videos
//! for this alone: it never reads one.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::aws::key_in;
use crate::error::{ApiError, ApiResult};
use crate::validate::VideoRef;

/// Where to GET a video until `expiresAt`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaUrl {
    pub url: String,
    /// As uploaded (absent for a video submitted with kubectl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub expires_at: String,
}

impl App {
    pub async fn media_url(&self, video: &VideoRef) -> ApiResult<MediaUrl> {
        let (key, content_type) = match video {
            VideoRef::Upload(id) => {
                let record = self.load_record(id).await?;
                if record.bucket != self.config.raw_bucket || self.uploaded_size(&record).await?.is_none() {
                    return Err(ApiError::Conflict(format!(
                        "video {id} has not arrived: GET /videos/{id} says where it stands"
                    )));
                }
                (record.key, Some(record.content_type))
            }
            VideoRef::Movie(id) => {
                let movie = self.finished_movie(video).await?;
                let key = key_in(&movie.source, &self.config.raw_bucket).ok_or_else(|| {
                    ApiError::NotFound(format!("video {id} is not in this API's bucket: play it where it is"))
                })?;
                (key.to_string(), None)
            }
        };
        let ttl = self.config.media_url_ttl();
        let expires_at = jiff::Timestamp::now() + ttl;
        let url = self.presigned_get_for(&self.config.raw_bucket, &key, "the video", ttl).await?;
        Ok(MediaUrl { url, content_type, expires_at: expires_at.to_string() })
    }
}
