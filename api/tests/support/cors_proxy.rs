//! What s3s-fs lacks for a browser: CORS. A pass-through proxy on 127.0.0.1 in front of
//! it that answers preflights from one origin as the buckets' CORS rules do (Terraform's
//! storage module: GET, HEAD and PUT) and adds the CORS headers to the answers, and
//! forwards everything else byte for byte with its Host header, so that s3s-fs still
//! checks every presigned signature (signed for the proxy's address). It keeps a log of
//! what it forwarded, for tests that count the requests a page sent.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// One request forwarded: method, path and query, and the answer's status.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    pub method: String,
    pub path_and_query: String,
    pub status: u16,
}

pub struct CorsProxy {
    pub endpoint: String,
    pub log: Arc<Mutex<Vec<Forwarded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CorsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    origin: String,
    client: Client<HttpConnector, Body>,
    log: Arc<Mutex<Vec<Forwarded>>>,
}

/// The methods the buckets' CORS rules allow.
const ALLOWED_METHODS: &str = "GET, HEAD, PUT";
const EXPOSED: &str = "ETag, Content-Range, Accept-Ranges, Content-Length";

impl CorsProxy {
    /// A proxy to `upstream` (`http://127.0.0.1:<port>`) answering `origin`'s browsers.
    pub async fn start(upstream: &str, origin: &str) -> CorsProxy {
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            origin: origin.to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            log: Arc::default(),
        };
        let log = proxy.log.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the proxy serves");
        });
        CorsProxy { endpoint, log, task }
    }

    /// The requests forwarded so far.
    pub fn forwarded(&self) -> Vec<Forwarded> {
        self.log.lock().unwrap().clone()
    }
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_string);
    let from_app = origin.as_deref() == Some(proxy.origin.as_str());
    if request.method() == Method::OPTIONS && origin.is_some() {
        return preflight(&proxy, &request, from_app);
    }
    let path_and_query = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let method = request.method().to_string();
    let (mut parts, body) = request.into_parts();
    parts.uri = format!("{}{path_and_query}", proxy.upstream).parse().expect("a URI");
    // The Host header stays the proxy's: it is what the URL was signed for.
    let answer = match proxy.client.request(Request::from_parts(parts, body)).await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("s3s-fs did not answer: {e}")).into_response(),
    };
    proxy.log.lock().unwrap().push(Forwarded { method, path_and_query, status: answer.status().as_u16() });
    let mut answer = answer.map(Body::new);
    if from_app {
        let headers = answer.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_str(&proxy.origin).unwrap());
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    answer
}

/// A preflight, answered as S3 answers it from the rules: the origin and method must be
/// allowed; the headers asked for are allowed (`AllowedHeaders: *`).
fn preflight(proxy: &Proxy, request: &Request, from_app: bool) -> Response {
    let asked = request.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD).and_then(|m| m.to_str().ok());
    let allowed = asked.is_some_and(|m| ALLOWED_METHODS.split(", ").any(|a| a == m));
    if !from_app || !allowed {
        return (StatusCode::FORBIDDEN, "CORSResponse: This CORS request is not allowed.").into_response();
    }
    let mut answer = StatusCode::OK.into_response();
    let headers = answer.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_str(&proxy.origin).unwrap());
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    if let Some(asked) = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    answer
}
