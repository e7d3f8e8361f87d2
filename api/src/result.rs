//! `GET /videos/{id}/result` and `GET /results/latest`: the full results document, inline
//! when it fits a Lambda response, otherwise a redirect to a short-lived presigned GET;
//! or, with `?format=vtt|csv|edl`, the document in an editor's format, as a download.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use cameo_model::exports::Format;
use cameo_model::results::ResultsDocument;
use cameo_model::table::{MovieItem, movie_pk_of_id};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::app::App;
use crate::aws::key_in;
use crate::error::{ApiError, ApiResult};
use crate::validate::VideoRef;

/// `GET /videos/{id}/result`'s query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultQuery {
    /// `json` (the default), `vtt`, `csv` or `edl`.
    pub format: Option<String>,
}

impl ResultQuery {
    /// The export asked for; `None` for the results document itself.
    pub fn export(&self) -> ApiResult<Option<Format>> {
        match self.format.as_deref() {
            None | Some("json") => Ok(None),
            Some(name) => name.parse().map(Some).map_err(|e: String| ApiError::invalid("invalid_format", e)),
        }
    }
}

impl App {
    /// The movie item of a video whose analysis has finished.
    pub async fn finished_movie(&self, video: &VideoRef) -> ApiResult<MovieItem> {
        let (movie, _) = match video {
            VideoRef::Upload(id) => self.movie_of(&self.load_record(id).await?.source()).await?,
            VideoRef::Movie(id) => self.movie_partition(movie_pk_of_id(id)).await?,
        };
        movie.ok_or_else(|| {
            let id = match video {
                VideoRef::Upload(id) | VideoRef::Movie(id) => id,
            };
            ApiError::NotFound(format!("video {id} has no results yet: GET /videos/{id} says where it stands"))
        })
    }

    /// The key of a movie's results document in the processed bucket.
    pub fn result_key<'a>(&self, movie: &'a MovieItem) -> ApiResult<&'a str> {
        // Only our own processed bucket is ever read or presigned.
        key_in(&movie.result_uri, &self.config.processed_bucket)
            .ok_or_else(|| ApiError::NotFound(format!("the results of {} are not in this API's bucket", movie.title)))
    }

    async fn get_result(&self, movie: &MovieItem) -> ApiResult<aws_sdk_s3::operation::get_object::GetObjectOutput> {
        let object =
            self.s3.get_object().bucket(&self.config.processed_bucket).key(self.result_key(movie)?).send().await;
        match object {
            Ok(object) => Ok(object),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                Err(ApiError::NotFound(format!("the results document of {} is gone", movie.title)))
            }
            Err(e) => Err(ApiError::upstream("reading the results", e)),
        }
    }

    /// A movie's results document, parsed, with every correction made so far.
    pub async fn read_result(&self, movie: &MovieItem) -> ApiResult<ResultsDocument> {
        if let Some(document) = self.curated(movie).await? {
            return Ok(document);
        }
        let object = self.get_result(movie).await?;
        let bytes = object.body.collect().await.map_err(|e| ApiError::upstream("reading the results", e))?;
        serde_json::from_slice(&bytes.into_bytes()).map_err(|e| ApiError::upstream("parsing the results", e))
    }

    pub async fn result_response(&self, movie: &MovieItem) -> ApiResult<Response> {
        if let Some(document) = self.curated(movie).await? {
            // Corrections the worker has not written yet: answered as replayed here.
            let json = serde_json::to_vec(&document).map_err(|e| ApiError::upstream("answering", e))?;
            return Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json))
                .map_err(|e| ApiError::upstream("answering", e));
        }
        let object = self.get_result(movie).await?;
        let size = object.content_length.unwrap_or(i64::MAX) as u64;
        if size > self.config.inline_result_max_bytes {
            let url = self.presigned_get(&self.config.processed_bucket, self.result_key(movie)?, "the results").await?;
            return Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, url)
                .body(Body::empty())
                .map_err(|e| ApiError::upstream("answering", e));
        }
        let bytes = object.body.collect().await.map_err(|e| ApiError::upstream("reading the results", e))?;
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(bytes.into_bytes()))
            .map_err(|e| ApiError::upstream("answering", e))
    }

    /// The results in `format`, as a file to save, named after the movie.
    pub async fn export_response(&self, movie: &MovieItem, format: Format) -> ApiResult<Response> {
        let document = self.read_result(movie).await?;
        Response::builder()
            .header(header::CONTENT_TYPE, format.content_type())
            .header(header::CONTENT_DISPOSITION, content_disposition(&movie.title, format.name()))
            .body(Body::from(format.render(&document)))
            .map_err(|e| ApiError::upstream("answering", e))
    }
}

/// `attachment` named `<title>.<extension>`: an ASCII `filename` for old clients, the
/// exact name as `filename*` (RFC 6266, RFC 8187) for the others.
pub fn content_disposition(title: &str, extension: &str) -> String {
    let title = if title.trim().is_empty() { "cameo-results" } else { title.trim() };
    let ascii: String = title
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/' | ';') || c == ' ' { c } else { '_' })
        .collect();
    let exact = utf8_percent_encode(title, NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}.{extension}\"; filename*=UTF-8''{exact}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_is_named_after_the_movie_in_ascii_and_exactly() {
        assert_eq!(
            content_disposition("Casablanca", "csv"),
            "attachment; filename=\"Casablanca.csv\"; filename*=UTF-8''Casablanca.csv"
        );
        assert_eq!(
            content_disposition("東京物語 \"1953\"; a/b", "vtt"),
            "attachment; filename=\"____ _1953__ a_b.vtt\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC%E7%89%A9%E8%AA%9E%20%221953%22%3B%20a%2Fb.vtt"
        );
        assert!(content_disposition("  ", "edl").contains("filename=\"cameo-results.edl\""));
    }

    #[test]
    fn the_format_is_json_or_an_export() {
        let query = |f: &str| ResultQuery { format: Some(f.into()) }.export();
        assert_eq!(ResultQuery::default().export().unwrap(), None);
        assert_eq!(query("json").unwrap(), None);
        assert_eq!(query("edl").unwrap(), Some(Format::Edl));
        assert!(matches!(query("xml"), Err(ApiError::Invalid { code: "invalid_format", .. })));
    }
}
