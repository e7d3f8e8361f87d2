//! HTTP endpoints: `/metrics` (Prometheus), `/healthz` (alive: not wedged) and `/readyz` (ready:
//! for the operator, able to lead or take over). The ingest serves the same endpoints.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::health::Health;

/// Renders the metrics' text exposition when scraped.
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Readiness, set by the process once it can do its work; liveness, where the process
/// judges its own (the operator's [`Health`]).
#[derive(Default)]
pub struct State {
    pub ready: AtomicBool,
    pub health: Option<Arc<Health>>,
}

impl State {
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }
}

/// Binds `address` and serves until the process ends.
pub async fn serve(address: SocketAddr, state: Arc<State>, metrics: RenderMetrics) -> std::io::Result<()> {
    let listener = TcpListener::bind(address).await?;
    tracing::info!(%address, "serving /metrics, /healthz and /readyz");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (state, metrics) = (state.clone(), metrics.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request| respond(request, state.clone(), metrics.clone()));
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(())
}

async fn respond(
    request: Request<Incoming>,
    state: Arc<State>,
    metrics: RenderMetrics,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = match request.uri().path() {
        "/metrics" => (StatusCode::OK, "application/openmetrics-text; version=1.0.0; charset=utf-8", metrics()),
        "/healthz" => match state.health.as_ref().and_then(|h| h.wedged(std::time::Instant::now())) {
            Some(why) => (StatusCode::SERVICE_UNAVAILABLE, "text/plain", format!("wedged: {why}\n")),
            None => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        },
        "/readyz" if state.ready.load(Ordering::Relaxed) => (StatusCode::OK, "text/plain", "ready\n".to_string()),
        "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, "text/plain", "not ready\n".to_string()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found\n".to_string()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    Ok(response)
}
