//! The one router, served both by the Lambda (API Gateway HTTP API, payload 2.0) and by
//! the local server: the same handlers on the same code path. Handlers are thin: parse,
//! call the [`App`], answer.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json};
use lambda_http::request::RequestContext;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::faces::FacesQuery;
use crate::identity::Caller;
use crate::queries::{PageQuery, VideoQuery};
use crate::result::ResultQuery;
use crate::state::view;
use crate::upload::CompleteRequest;
use crate::validate::{UploadRequest, VideoRef, check_video_id, video_ref};

/// JSON bodies are small (a complete request lists at most 1,000 parts).
const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/videos", post(create_upload).get(list_videos))
        .route("/videos/{id}", get(video).delete(erase_video))
        .route("/videos/{id}/complete", post(complete_upload))
        .route("/videos/{id}/upload", delete(abort_upload))
        .route("/videos/{id}/result", get(video_result))
        .route("/videos/{id}/faces", get(video_faces))
        .route("/actors/{name}/videos", get(actor_videos))
        .route("/results/latest", get(latest_result))
        .fallback(|| async { ApiError::NotFound("no such route: see the README for the API's routes".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(app.clone(), require_identity))
        .with_state(app)
}

/// Every route needs a caller: API Gateway's, or the local server's development identity.
async fn require_identity(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let from_gateway = request.extensions().get::<RequestContext>().and_then(Caller::from_context);
    let caller = from_gateway.or_else(|| app.dev_identity.clone().and_then(Caller::new));
    let Some(caller) = caller else {
        return ApiError::Unauthenticated.into_response();
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn json_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge(format!("the request body is over {MAX_BODY_BYTES} bytes")));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("invalid_json", format!("the body is not the JSON this route takes: {e}")))
}

fn video_id(path: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    let Path(id) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    check_video_id(&id)?;
    Ok(id)
}

/// A video named by its upload id or its movie id.
fn any_video_id(path: Result<Path<String>, PathRejection>) -> ApiResult<VideoRef> {
    let Path(id) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    video_ref(&id)
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query.map(|Query(q)| q).map_err(|e| ApiError::invalid("invalid_query", e.body_text()))
}

async fn create_upload(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    let request: UploadRequest = json_body(&body)?;
    let minted = app.create_upload(&caller, request).await?;
    Ok((StatusCode::CREATED, Json(minted)).into_response())
}

async fn complete_upload(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> ApiResult<Response> {
    let id = video_id(path)?;
    let request: CompleteRequest = json_body(&body)?;
    app.complete_upload(&caller, &id, request).await?;
    Ok(Json(serde_json::json!({"videoId": id, "state": "uploaded"})).into_response())
}

async fn abort_upload(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let id = video_id(path)?;
    app.abort_upload(&caller, &id).await?;
    Ok(Json(serde_json::json!({"videoId": id, "state": "aborted"})).into_response())
}

async fn video(State(app): State<Arc<App>>, path: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let id = video_id(path)?;
    let facts = app.video_facts(&id).await?;
    Ok(Json(view(facts, jiff::Timestamp::now())).into_response())
}

async fn video_result(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    params: Result<Query<ResultQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let video = any_video_id(path)?;
    let export = query(params)?.export()?;
    let movie = app.finished_movie(&video).await?;
    match export {
        None => app.result_response(&movie).await,
        Some(format) => app.export_response(&movie, format).await,
    }
}

async fn erase_video(State(app): State<Arc<App>>, path: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let video = any_video_id(path)?;
    Ok(Json(app.erase_video(&video).await?).into_response())
}

async fn video_faces(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    params: Result<Query<FacesQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let video = any_video_id(path)?;
    let params = query(params)?;
    let movie = app.finished_movie(&video).await?;
    Ok(Json(app.face_urls(&movie, params).await?).into_response())
}

async fn latest_result(State(app): State<Arc<App>>) -> ApiResult<Response> {
    let movie = app.latest_movie().await?.ok_or_else(|| ApiError::NotFound("no video has finished yet".into()))?;
    app.result_response(&movie).await
}

async fn list_videos(State(app): State<Arc<App>>, q: Result<Query<VideoQuery>, QueryRejection>) -> ApiResult<Response> {
    Ok(Json(app.list_videos(query(q)?).await?).into_response())
}

async fn actor_videos(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Path(name) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    Ok(Json(app.actor_videos(&name, query(q)?).await?).into_response())
}
