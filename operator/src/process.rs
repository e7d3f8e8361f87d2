//! What the cluster's long-running processes (the operator, the ingest) do alike: logs
//! as JSON for collectors or text in a terminal, and stopping on SIGTERM or Ctrl-C.

use std::io::IsTerminal;

/// `format` is `json`, `text`, or `auto` (text in a terminal); `RUST_LOG` sets the levels.
pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let json = format == "json" || (format == "auto" && !std::io::stderr().is_terminal());
    if json { builder.json().init() } else { builder.init() }
}

/// Resolves on SIGTERM (the kubelet stopping the pod) or Ctrl-C.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
