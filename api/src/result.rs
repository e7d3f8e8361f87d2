//! `GET /videos/{id}/result` and `GET /results/latest`: the full results document, inline
//! when it fits a Lambda response, otherwise a redirect to a short-lived presigned GET.

use aws_sdk_s3::presigning::PresigningConfig;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use cameo_model::table::MovieItem;

use crate::app::App;
use crate::aws::key_in;
use crate::error::{ApiError, ApiResult};

impl App {
    pub async fn result_response(&self, movie: &MovieItem) -> ApiResult<Response> {
        // Only our own processed bucket is ever read or presigned.
        let key = key_in(&movie.result_uri, &self.config.processed_bucket).ok_or_else(|| {
            ApiError::NotFound(format!("the results of {} are not in this API's bucket", movie.title))
        })?;
        let bucket = &self.config.processed_bucket;
        let object = self.s3.get_object().bucket(bucket).key(key).send().await;
        let object = match object {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Err(ApiError::NotFound(format!("the results document of {} is gone", movie.title)));
            }
            Err(e) => return Err(ApiError::upstream("reading the results", e)),
        };
        let size = object.content_length.unwrap_or(i64::MAX) as u64;
        if size > self.config.inline_result_max_bytes {
            let config = PresigningConfig::expires_in(self.config.result_url_ttl())
                .map_err(|e| ApiError::upstream("presigning", e))?;
            let presigned = self.s3.get_object().bucket(bucket).key(key).presigned(config).await;
            let presigned = presigned.map_err(|e| ApiError::upstream("presigning the results", e))?;
            return Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, presigned.uri())
                .body(Body::empty())
                .map_err(|e| ApiError::upstream("answering", e));
        }
        let bytes = object.body.collect().await.map_err(|e| ApiError::upstream("reading the results", e))?;
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(bytes.into_bytes()))
            .map_err(|e| ApiError::upstream("answering", e))
    }
}
