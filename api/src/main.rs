//! `cameo-api`: the upload and results API. With no command (as the Lambda's `bootstrap`)
//! it serves API Gateway events; `serve` runs the same router as a local HTTP server.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use cameo_api::app::App;
use cameo_api::config::Config;
use cameo_api::identity::{Caller, Scope};
use cameo_api::routes::router;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "cameo's upload and results API")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve API Gateway HTTP API events as an AWS Lambda (the default).
    Lambda,
    /// Serve the API over plain HTTP on a loopback address, for development and tests.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Treat requests without an API Gateway identity as coming from this caller.
        /// Development only: there is no authentication without API Gateway.
        #[arg(long)]
        dev_identity: Option<String>,
        /// The development identity's scopes [default: all of them].
        #[arg(long, value_delimiter = ',', value_parser = parse_scope, requires = "dev_identity")]
        dev_scopes: Option<Vec<Scope>>,
    },
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).ok_or_else(|| {
        let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        format!("{text:?} is not a scope: one of {}", all.join(", "))
    })
}

/// Exit codes: 0 stopped cleanly, 1 failed while serving, 3 bad configuration.
const CONFIG_ERROR: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr);
    if json {
        logs.json().init()
    } else {
        logs.init()
    }

    if let Err(e) = cli.config.check() {
        tracing::error!("bad configuration: {e}");
        return ExitCode::from(CONFIG_ERROR);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            tracing::error!("{message}");
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), (u8, String)> {
    let clients = cameo_api::aws::clients().await.map_err(|e| (CONFIG_ERROR, e))?;
    let app = |dev_identity| App {
        config: cli.config.clone(),
        s3: clients.s3.clone(),
        dynamodb: clients.dynamodb.clone(),
        sqs: clients.sqs.clone(),
        dev_identity,
    };
    match cli.command.unwrap_or(Command::Lambda) {
        Command::Lambda => {
            let app = Arc::new(app(None));
            lambda_http::run(router(app)).await.map_err(|e| (1, format!("the Lambda runtime failed: {e}")))
        }
        Command::Serve { listen, dev_identity, dev_scopes } => {
            if !listen.ip().is_loopback() {
                return Err((CONFIG_ERROR, format!("serve listens on a loopback address only, not {listen}")));
            }
            let dev_identity = match dev_identity {
                None => None,
                Some(id) => {
                    let scopes = dev_scopes.unwrap_or(Scope::ALL.to_vec());
                    let caller = Caller::new(id, scopes)
                        .ok_or((CONFIG_ERROR, "--dev-identity must be printable and at most 512 bytes".to_string()))?;
                    tracing::warn!("serving with a development identity: every request is taken as that caller");
                    Some(caller)
                }
            };
            let app = Arc::new(app(dev_identity));
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| (1, format!("cannot listen on {listen}: {e}")))?;
            tracing::info!("serving on http://{listen}");
            axum::serve(listener, router(app))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .map_err(|e| (1, format!("the server failed: {e}")))
        }
    }
}
