//! The web app's routes, the only ones without authentication (API Gateway routes them
//! without its authorizer: [`APP_ROUTES`]): `/` and `/app` send the browser to `/app/`,
//! `/app/config.json` tells the app how to sign in, and `/app/<file>` serves the app's
//! files from a folder (beside `bootstrap` in the Lambda). Every answer carries a strict
//! Content-Security-Policy: the app may load its own files, and reach only this API, the
//! two buckets (presigned URLs) and the sign-in provider.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Serialize;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::identity::Scope;

/// The routes API Gateway lets through unauthenticated, as its route keys write them:
/// exactly the app's (Terraform's list is tested against this one).
pub const APP_ROUTES: &[&str] = &["GET /", "GET /app", "GET /app/{proxy+}"];

/// The app's files are small; a Lambda answers at most 6 MB, base64 included.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app/") }))
        .route("/app", get(|| async { Redirect::to("/app/") }))
        .route("/app/", get(|State(app): State<Arc<App>>| async move { file(&app, "index.html").await }))
        .route("/app/config.json", get(config))
        .route(
            "/app/{*path}",
            get(|State(app): State<Arc<App>>, UrlPath(path): UrlPath<String>| async move { file(&app, &path).await }),
        )
}

/// What the app reads before anything else: how to sign in, or the development identity
/// the local server takes every request as.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppConfig {
    pub sign_in: Option<SignInConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev_identity: Option<String>,
}

/// The authorisation code flow with PKCE, as the app runs it; the redirect URI is the
/// app's own address (`<origin>/app/`), which the provider must allow.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInConfig {
    pub client_id: String,
    pub authorize_url: String,
    pub token_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    /// Every scope of the API, and `openid`: the app asks for all, the provider grants
    /// what the user may have.
    pub scopes: Vec<&'static str>,
}

impl App {
    pub fn app_config(&self) -> AppConfig {
        let sign_in = &self.config.sign_in;
        let sign_in = match (&sign_in.client_id, &sign_in.authorize_url, &sign_in.token_url) {
            (Some(client_id), Some(authorize_url), Some(token_url)) => Some(SignInConfig {
                client_id: client_id.clone(),
                authorize_url: authorize_url.clone(),
                token_url: token_url.clone(),
                logout_url: sign_in.logout_url.clone(),
                scopes: std::iter::once("openid").chain(Scope::ALL.iter().map(|s| s.as_str())).collect(),
            }),
            _ => None,
        };
        AppConfig { sign_in, dev_identity: self.dev_identity.as_ref().map(|caller| caller.name.clone()) }
    }

    /// The origins the app's pages may reach beyond their own: the buckets, as this API's
    /// presigned URLs name them (virtual-hosted on AWS, by path on a local stand-in).
    async fn bucket_origins(&self) -> ApiResult<Vec<String>> {
        let mut origins = Vec::new();
        for bucket in [&self.config.raw_bucket, &self.config.processed_bucket] {
            let url = self.presigned_get(bucket, "app", "the app's policy").await?;
            origins.extend(origin(&url));
        }
        Ok(origins)
    }

    /// The Content-Security-Policy of every answer of the app's routes.
    pub async fn content_security_policy(&self) -> ApiResult<String> {
        let buckets = self.bucket_origins().await?;
        let sign_in = &self.config.sign_in;
        let provider: Vec<String> =
            [&sign_in.token_url, &sign_in.authorize_url].into_iter().flatten().filter_map(|u| origin(u)).collect();
        Ok(policy(&buckets, &provider))
    }
}

/// A strict policy: nothing inline, nothing from elsewhere, never framed; images and media
/// from the buckets (and `blob:`, for what the app builds itself), fetches to the API, the
/// buckets and the sign-in provider's token endpoint.
pub fn policy(buckets: &[String], provider: &[String]) -> String {
    let list = |extra: &[&str], origins: &[&String]| {
        let mut sources: Vec<&str> = vec!["'self'"];
        sources.extend(extra);
        for origin in origins {
            if !sources.contains(&origin.as_str()) {
                sources.push(origin);
            }
        }
        sources.join(" ")
    };
    let buckets: Vec<&String> = buckets.iter().collect();
    let connect: Vec<&String> = buckets.iter().copied().chain(provider).collect();
    [
        "default-src 'none'".to_string(),
        "script-src 'self'".into(),
        "style-src 'self'".into(),
        "font-src 'self'".into(),
        "manifest-src 'self'".into(),
        format!("img-src {}", list(&["data:", "blob:"], &buckets)),
        format!("media-src {}", list(&["blob:"], &buckets)),
        format!("connect-src {}", list(&[], &connect)),
        "base-uri 'none'".into(),
        "form-action 'none'".into(),
        "frame-ancestors 'none'".into(),
        "object-src 'none'".into(),
    ]
    .join("; ")
}

/// `scheme://host[:port]` of a URL; `None` for what is not an absolute http(s) URL.
pub fn origin(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https"))?;
    let authority = uri.authority()?;
    (!authority.as_str().contains('@')).then(|| format!("{scheme}://{authority}"))
}

async fn config(State(app): State<Arc<App>>) -> ApiResult<Response> {
    let mut answer = axum::Json(app.app_config()).into_response();
    protect(&app, &mut answer, "no-store").await?;
    Ok(answer)
}

/// One of the app's files: `path` is relative to the app's folder, in plain names only
/// (no dot files, no `..`, nothing a file system would read as anything but a name).
async fn file(app: &App, path: &str) -> ApiResult<Response> {
    let missing = || ApiError::NotFound(format!("the app has no file {path:?}"));
    let name_ok = |name: &str| {
        !name.is_empty()
            && !name.starts_with('.')
            && name.len() <= 128
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    let names: Vec<&str> = path.split('/').collect();
    if names.len() > 8 || !names.iter().all(|name| name_ok(name)) {
        return Err(missing());
    }
    let dir = app.config.app_dir();
    let full = names.iter().fold(dir.clone(), |full, name| full.join(name));
    let bytes = read_file(&full).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound if !dir.is_dir() => ApiError::NotFound(format!(
            "the web app is not installed here: {} is not a folder (set CAMEO_APP_DIR or --app-dir)",
            dir.display()
        )),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory | std::io::ErrorKind::InvalidInput => missing(),
        _ => ApiError::upstream("reading the app's files", e),
    })?;
    let content_type = content_type(&full);
    let mut answer = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    // Plain modules under stable names: the browser revalidates each, so a new
    // deployment shows at the next load.
    protect(app, &mut answer, "no-cache").await?;
    Ok(answer)
}

async fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let metadata = tokio::fs::metadata(path).await?;
    if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    tokio::fs::read(path).await
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The headers every answer of the app's routes carries.
async fn protect(app: &App, answer: &mut Response, cache: &'static str) -> ApiResult<()> {
    let policy = app.content_security_policy().await?;
    let headers = answer.headers_mut();
    let policy = HeaderValue::from_str(&policy).map_err(|e| ApiError::upstream("the app's policy", e))?;
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Presigned URLs and authorisation codes are in addresses: never sent on.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("https://raw.s3.eu-west-1.amazonaws.com/videos/a?X-Amz-Signature=1").unwrap(),
            "https://raw.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(origin("http://127.0.0.1:9000/raw/app").unwrap(), "http://127.0.0.1:9000");
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(origin("/app/"), None);
        assert_eq!(origin("https://user@evil.example/"), None);
    }

    #[test]
    fn the_policy_names_the_buckets_and_the_provider_and_nothing_inline() {
        let buckets = [
            "https://raw.s3.eu-west-1.amazonaws.com".to_string(),
            "https://processed.s3.eu-west-1.amazonaws.com".to_string(),
        ];
        let provider = ["https://cameo.auth.eu-west-1.amazoncognito.com".to_string()];
        let policy = policy(&buckets, &provider);
        let directive = |name: &str| {
            policy
                .split("; ")
                .find(|d| d.split(' ').next() == Some(name))
                .unwrap_or_else(|| panic!("no {name} in {policy}"))
                .to_string()
        };
        assert_eq!(directive("default-src"), "default-src 'none'");
        assert_eq!(directive("script-src"), "script-src 'self'");
        assert_eq!(
            directive("media-src"),
            "media-src 'self' blob: https://raw.s3.eu-west-1.amazonaws.com https://processed.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            directive("connect-src"),
            "connect-src 'self' https://raw.s3.eu-west-1.amazonaws.com https://processed.s3.eu-west-1.amazonaws.com https://cameo.auth.eu-west-1.amazoncognito.com"
        );
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert!(!policy.contains("unsafe"), "{policy}");
        // Both buckets at one origin (a local stand-in, by path) are named once.
        let local = policy_of_one_origin();
        assert_eq!(local.matches("http://127.0.0.1:9000").count(), 3, "{local}");
    }

    fn policy_of_one_origin() -> String {
        let one = "http://127.0.0.1:9000".to_string();
        policy(&[one.clone(), one], &[])
    }

    #[test]
    fn files_have_their_types() {
        assert_eq!(content_type(Path::new("a/index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("viewer.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("LICENSE")), "application/octet-stream");
    }
}
