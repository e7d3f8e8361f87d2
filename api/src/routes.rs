//! The one router, served both by the Lambda (API Gateway HTTP API, payload 2.0) and by
//! the local server: the same handlers on the same code path. Handlers are thin: parse,
//! call the [`App`], answer. Every route needs a scope ([`ROUTES`]); API Gateway checks
//! it too (Terraform's route list is tested against this one).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json};
use lambda_http::request::RequestContext;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::curation::CurationRequest;
use crate::error::{ApiError, ApiResult};
use crate::faces::FacesQuery;
use crate::identity::{Caller, Scope};
use crate::library::LibraryQuery;
use crate::pages::MAX_PAGE_SIZE;
use crate::people::{MergeRequest, NameRequest, PersonDetail, check_person_id};
use crate::photos::PhotoRequest;
use crate::queries::{PageQuery, VideoQuery};
use crate::registry::{etag, if_match};
use crate::result::ResultQuery;
use crate::state::view;
use crate::upload::CompleteRequest;
use crate::validate::{UploadRequest, VideoRef, check_video_id, video_ref};

/// JSON bodies are small (a complete request lists at most 1,000 parts).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route (method and path as API Gateway's route keys write them) and the scopes
/// that grant it (any one of them).
pub const ROUTES: &[(&str, &str, &[Scope])] = &[
    ("POST", "/videos", &[Scope::Upload]),
    ("GET", "/videos", &[Scope::Read]),
    ("GET", "/library", &[Scope::Read]),
    ("GET", "/videos/{id}", &[Scope::Read]),
    ("DELETE", "/videos/{id}", &[Scope::Curate]),
    ("POST", "/videos/{id}/complete", &[Scope::Upload]),
    ("GET", "/videos/{id}/upload", &[Scope::Upload]),
    ("DELETE", "/videos/{id}/upload", &[Scope::Upload]),
    ("POST", "/videos/{id}/analyse", &[Scope::Upload, Scope::Curate]),
    ("GET", "/videos/{id}/result", &[Scope::Read]),
    ("GET", "/videos/{id}/faces", &[Scope::Read]),
    ("GET", "/videos/{id}/media", &[Scope::Read]),
    ("GET", "/videos/{id}/exports", &[Scope::Read]),
    ("GET", "/actors/{name}/videos", &[Scope::Read]),
    ("GET", "/results/latest", &[Scope::Read]),
    ("GET", "/people", &[Scope::Read]),
    ("POST", "/people", &[Scope::Curate]),
    ("GET", "/people/{personId}", &[Scope::Read]),
    ("PATCH", "/people/{personId}", &[Scope::Curate]),
    ("DELETE", "/people/{personId}", &[Scope::Curate]),
    ("POST", "/people/{personId}/merge", &[Scope::Curate]),
    ("POST", "/people/{personId}/photos", &[Scope::Curate]),
    ("DELETE", "/people/{personId}/photos/{photoId}", &[Scope::Curate]),
    ("GET", "/people/{personId}/curation", &[Scope::Read]),
    ("GET", "/videos/{id}/curation", &[Scope::Read]),
    ("POST", "/videos/{id}/curation", &[Scope::Curate]),
    ("POST", "/videos/{id}/curation/{seq}/undo", &[Scope::Curate]),
    ("GET", "/videos/{id}/suggestions", &[Scope::Curate]),
    ("GET", "/people/{personId}/suggestions", &[Scope::Curate]),
    ("GET", "/review", &[Scope::Curate]),
];

/// The scopes that grant a route; `None` for a request that matched no route.
pub fn required_scopes(method: &Method, path: &str) -> Option<&'static [Scope]> {
    ROUTES.iter().find(|(m, p, _)| *m == method.as_str() && *p == path).map(|(_, _, scopes)| *scopes)
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/videos", post(create_upload).get(list_videos))
        .route("/library", get(library))
        .route("/videos/{id}", get(video).delete(erase_video))
        .route("/videos/{id}/complete", post(complete_upload))
        .route("/videos/{id}/upload", get(resume_upload).delete(abort_upload))
        .route("/videos/{id}/analyse", post(analyse_again))
        .route("/videos/{id}/result", get(video_result))
        .route("/videos/{id}/faces", get(video_faces))
        .route("/videos/{id}/media", get(video_media))
        .route("/videos/{id}/exports", get(video_exports))
        .route("/actors/{name}/videos", get(actor_videos))
        .route("/results/latest", get(latest_result))
        .route("/people", get(list_people).post(create_person))
        .route("/people/{personId}", get(person).patch(rename_person).delete(delete_person))
        .route("/people/{personId}/merge", post(merge_people))
        .route("/people/{personId}/photos", post(add_photo))
        .route("/people/{personId}/photos/{photoId}", delete(delete_photo))
        .route("/people/{personId}/curation", get(person_curation))
        .route("/videos/{id}/curation", get(video_curation).post(curate))
        .route("/videos/{id}/curation/{seq}/undo", post(undo))
        .route("/videos/{id}/suggestions", get(video_suggestions))
        .route("/people/{personId}/suggestions", get(person_suggestions))
        .route("/review", get(review_queue))
        .fallback(|| async { ApiError::NotFound("no such route: see the README for the API's routes".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(app.clone(), require_identity))
        // Merged after the identity layer: the app's routes alone need no caller.
        .merge(crate::webapp::routes())
        .with_state(app)
}

/// Every route needs a caller (API Gateway's, or the local server's development identity)
/// holding the route's scope.
async fn require_identity(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let from_gateway = request.extensions().get::<RequestContext>().and_then(Caller::from_context);
    let caller = from_gateway.or_else(|| app.dev_identity.clone());
    let Some(caller) = caller else {
        return ApiError::Unauthenticated.into_response();
    };
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    if let Some(scopes) = route.and_then(|path| required_scopes(request.method(), &path))
        && !scopes.iter().any(|scope| caller.may(*scope))
    {
        let names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
        return ApiError::InsufficientScope(names.join(" or ")).into_response();
    }
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

async fn resume_upload(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let id = video_id(path)?;
    Ok(Json(app.resume_upload(&caller, &id).await?).into_response())
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

async fn analyse_again(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let id = video_id(path)?;
    Ok((StatusCode::ACCEPTED, Json(app.analyse_again(&caller, &id).await?)).into_response())
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

async fn video_media(State(app): State<Arc<App>>, path: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    Ok(Json(app.media_url(&any_video_id(path)?).await?).into_response())
}

async fn video_exports(State(app): State<Arc<App>>, path: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let movie = app.finished_movie(&any_video_id(path)?).await?;
    Ok(Json(app.export_urls(&movie).await?).into_response())
}

async fn latest_result(State(app): State<Arc<App>>) -> ApiResult<Response> {
    let movie = app.latest_movie().await?.ok_or_else(|| ApiError::NotFound("no video has finished yet".into()))?;
    app.result_response(&movie).await
}

async fn list_videos(State(app): State<Arc<App>>, q: Result<Query<VideoQuery>, QueryRejection>) -> ApiResult<Response> {
    Ok(Json(app.list_videos(query(q)?).await?).into_response())
}

async fn library(State(app): State<Arc<App>>, q: Result<Query<LibraryQuery>, QueryRejection>) -> ApiResult<Response> {
    Ok(Json(app.library(query(q)?).await?).into_response())
}

async fn actor_videos(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Path(name) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    Ok(Json(app.actor_videos(&name, query(q)?).await?).into_response())
}

fn person_id(path: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    let Path(id) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    check_person_id(&id)?;
    Ok(id)
}

fn version(headers: &HeaderMap) -> ApiResult<u64> {
    if_match(headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()))
}

/// An answer about something versioned (a person, a video's corrections), with the
/// version as its `ETag`.
fn versioned<T: serde::Serialize>(status: StatusCode, version: u64, body: T) -> Response {
    let tag = HeaderValue::from_str(&etag(version)).expect("digits and quotes");
    (status, [(header::ETAG, tag)], Json(body)).into_response()
}

/// A person's answer, with their version as its `ETag`.
fn person_response(status: StatusCode, person: PersonDetail) -> Response {
    versioned(status, person.version, person)
}

async fn list_people(State(app): State<Arc<App>>, q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult<Response> {
    Ok(Json(app.list_people(query(q)?).await?).into_response())
}

async fn create_person(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Response> {
    let request: NameRequest = json_body(&body)?;
    Ok(person_response(StatusCode::CREATED, app.create_person(&caller, request).await?))
}

async fn person(State(app): State<Arc<App>>, path: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let id = person_id(path)?;
    Ok(person_response(StatusCode::OK, app.person_detail(&id).await?))
}

async fn rename_person(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let id = person_id(path)?;
    let request: NameRequest = json_body(&body)?;
    Ok(person_response(StatusCode::OK, app.rename_person(&caller, &id, version(&headers)?, request).await?))
}

async fn merge_people(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let id = person_id(path)?;
    let request: MergeRequest = json_body(&body)?;
    Ok(person_response(StatusCode::OK, app.merge_people(&caller, &id, version(&headers)?, request).await?))
}

async fn delete_person(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = person_id(path)?;
    app.delete_person(&caller, &id, version(&headers)?).await?;
    Ok(Json(serde_json::json!({"personId": id, "state": "erased"})).into_response())
}

async fn add_photo(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let id = person_id(path)?;
    let request: PhotoRequest = json_body(&body)?;
    let minted = app.add_photo(&caller, &id, version(&headers)?, request).await?;
    Ok(versioned(StatusCode::CREATED, minted.version, minted))
}

async fn delete_photo(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Path((id, photo_id)) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    check_person_id(&id)?;
    let version = app.delete_photo(&caller, &id, &photo_id, version(&headers)?).await?;
    Ok(versioned(StatusCode::OK, version, serde_json::json!({"photoId": photo_id, "state": "erased"})))
}

async fn video_curation(State(app): State<Arc<App>>, path: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let movie = app.finished_movie(&any_video_id(path)?).await?;
    let log = app.curation_log(&movie).await?;
    Ok(versioned(StatusCode::OK, log.version, log))
}

async fn curate(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let video = any_video_id(path)?;
    let expected = version(&headers)?;
    let request: CurationRequest = json_body(&body)?;
    let movie = app.finished_movie(&video).await?;
    let action = app.curate(&caller, &movie, expected, request).await?;
    Ok(versioned(StatusCode::ACCEPTED, action.seq, action))
}

async fn undo(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Path((id, seq)) = path.map_err(|e| ApiError::invalid("invalid_path", e.body_text()))?;
    let video = video_ref(&id)?;
    let seq: u64 = seq.parse().map_err(|_| ApiError::NotFound(format!("no action {seq:?}: actions are numbered")))?;
    let expected = version(&headers)?;
    let movie = app.finished_movie(&video).await?;
    let action = app.undo(&caller, &movie, expected, seq).await?;
    Ok(versioned(StatusCode::ACCEPTED, action.seq, action))
}

async fn person_curation(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let id = person_id(path)?;
    let actions = app.person_curation(&id, MAX_PAGE_SIZE as usize).await?;
    Ok(Json(serde_json::json!({"personId": id, "actions": actions})).into_response())
}

async fn video_suggestions(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let movie = app.finished_movie(&any_video_id(path)?).await?;
    Ok(Json(app.video_suggestions(&movie).await?).into_response())
}

async fn person_suggestions(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let id = person_id(path)?;
    Ok(Json(app.person_suggestions(&id, query(q)?).await?).into_response())
}

async fn review_queue(State(app): State<Arc<App>>, q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult<Response> {
    Ok(Json(app.review_queue(query(q)?).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// API Gateway routes what Terraform lists, with the scopes it lists: they must be
    /// these routes and scopes (a route missing there is unreachable).
    #[test]
    fn terraform_routes_exactly_these_routes_with_these_scopes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../terraform/modules/api/main.tf");
        let terraform = std::fs::read_to_string(path).expect("the api module's main.tf");
        let mut listed: Vec<(String, Vec<String>)> = terraform
            .lines()
            .filter_map(|line| {
                let (route, scopes) = line.trim().split_once('=')?;
                let route = route.trim().strip_prefix('"')?.strip_suffix('"')?;
                let scopes = scopes.trim().strip_prefix('[')?.strip_suffix(']')?;
                let scopes =
                    scopes.split(',').map(|s| s.trim().strip_prefix("local.scopes.").map(|s| format!("cameo/{s}")));
                Some((route.to_string(), scopes.collect::<Option<Vec<String>>>()?))
            })
            .collect();
        let mut ours: Vec<(String, Vec<String>)> = ROUTES
            .iter()
            .map(|(method, path, scopes)| {
                (format!("{method} {path}"), scopes.iter().map(|s| s.as_str().to_string()).collect())
            })
            .collect();
        listed.sort();
        ours.sort();
        assert_eq!(listed, ours);
    }

    /// The routes Terraform lets through without a token are exactly the app's.
    #[test]
    fn terraform_lets_only_the_apps_routes_through_unauthenticated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../terraform/modules/api/main.tf");
        let terraform = std::fs::read_to_string(path).expect("the api module's main.tf");
        let list = terraform.split_once("app_routes = [").expect("the api module lists app_routes").1;
        let list = list.split_once(']').expect("app_routes is one list").0;
        let mut listed: Vec<&str> =
            list.split(',').map(|r| r.trim().trim_matches('"')).filter(|r| !r.is_empty()).collect();
        let mut ours = crate::webapp::APP_ROUTES.to_vec();
        listed.sort();
        ours.sort();
        assert_eq!(listed, ours);
        assert!(ours.iter().all(|route| ROUTES.iter().all(|(m, p, _)| format!("{m} {p}") != *route)));
    }

    #[test]
    fn a_route_needs_its_scope_and_an_unknown_route_none() {
        assert_eq!(required_scopes(&Method::GET, "/people"), Some(&[Scope::Read][..]));
        assert_eq!(required_scopes(&Method::POST, "/people"), Some(&[Scope::Curate][..]));
        assert_eq!(required_scopes(&Method::PUT, "/people"), None);
    }
}
