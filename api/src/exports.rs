//! `GET /videos/{id}/exports`: short-lived presigned GETs of the results in every export
//! format, which the detector writes beside the results document: for the web app's
//! `<track>` (WebVTT) and download links, which cannot send a bearer token. Each URL
//! downloads under the movie's title.

use cameo_model::exports::Format;
use cameo_model::table::MovieItem;
use serde::{Deserialize, Serialize};

use crate::app::{App, presign};
use crate::error::{ApiError, ApiResult};
use crate::result::content_disposition;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportUrls {
    pub exports: Vec<ExportUrl>,
    pub expires_at: String,
    /// False while corrections are being written into the files (a few seconds after
    /// each one): ask again for exports that show them.
    pub up_to_date: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportUrl {
    /// `vtt`, `csv` or `edl`.
    pub format: String,
    pub content_type: String,
    pub url: String,
}

impl App {
    pub async fn export_urls(&self, movie: &MovieItem) -> ApiResult<ExportUrls> {
        let result_key = self.result_key(movie)?;
        let folder = result_key.rsplit_once('/').map_or("", |(folder, _)| folder);
        let up_to_date = !self.corrections_pending(movie).await?;
        let ttl = self.config.result_url_ttl();
        let expires_at = jiff::Timestamp::now() + ttl;
        let mut exports = Vec::new();
        for format in Format::ALL {
            let key = format!("{folder}/{}", format.path());
            if !self.processed_object_exists(&key).await? {
                continue;
            }
            let request = self
                .s3
                .get_object()
                .bucket(&self.config.processed_bucket)
                .key(&key)
                .response_content_type(format.content_type())
                .response_content_disposition(content_disposition(&movie.title, format.name()));
            let url = presign(request, "an export", ttl).await?;
            exports.push(ExportUrl { format: format.name().into(), content_type: format.content_type().into(), url });
        }
        if exports.is_empty() {
            return Err(ApiError::NotFound(format!(
                "{} was analysed before cameo wrote its exports: GET /videos/{{id}}/result?format=vtt answers them, or analyse it again",
                movie.title
            )));
        }
        Ok(ExportUrls { exports, expires_at: expires_at.to_string(), up_to_date })
    }

    async fn processed_object_exists(&self, key: &str) -> ApiResult<bool> {
        match self.s3.head_object().bucket(&self.config.processed_bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(ApiError::upstream("looking for the exports", e)),
        }
    }
}
