//! `cameo-ingest`: S3 upload events become VideoJobs; their state goes back to the table.
//! Safe to run as several replicas: VideoJob names are deterministic and state writes
//! conditional, so two replicas handling one message create one VideoJob.

use std::process::ExitCode;
use std::sync::Arc;

use cameo_ingest::config::IngestConfig;
use cameo_ingest::metrics::Metrics;
use cameo_ingest::mirror::Mirror;
use cameo_ingest::receive::Receiver;
use cameo_operator::crd::VideoJob;
use cameo_operator::process::{init_logging, shutdown_signal};
use cameo_operator::server::{self, State};
use clap::Parser;
use kube::{Api, Client};
use tokio::sync::watch;

#[derive(Parser)]
#[command(name = "cameo-ingest", version, about = "Turns S3 upload events into cameo VideoJobs")]
struct Cli {
    #[command(flatten)]
    config: IngestConfig,
    /// Log format: json for log collectors, text for terminals; auto picks by terminal.
    #[arg(long, env = "CAMEO_LOG_FORMAT", default_value = "auto", value_parser = ["auto", "json", "text"])]
    log_format: String,
}

/// Exit codes: 0 stopped cleanly, 1 failed while running, 3 bad configuration.
const CONFIG_ERROR: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    let Cli { config, log_format } = Cli::parse();
    init_logging(&log_format);
    if let Err(e) = config.check() {
        tracing::error!("bad configuration: {e}");
        return ExitCode::from(CONFIG_ERROR);
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            tracing::error!("{message}");
            ExitCode::from(code)
        }
    }
}

async fn run(config: IngestConfig) -> Result<(), (u8, String)> {
    let aws = cameo_ingest::aws::clients().await.map_err(|e| (CONFIG_ERROR, e))?;
    let client = Client::try_default().await.map_err(|e| (CONFIG_ERROR, format!("no Kubernetes client: {e}")))?;
    let metrics = Arc::new(Metrics::default());
    let state = Arc::new(State::default());
    let render = metrics.clone();
    server::serve(config.http_address, state.clone(), Arc::new(move || render.render()))
        .await
        .map_err(|e| (1, format!("cannot listen on {}: {e}", config.http_address)))?;

    // Ready once both sides answer: the queue, and the API server.
    aws.sqs.get_queue_attributes().queue_url(&config.queue_url).send().await.map_err(|e| {
        (1, format!("cannot reach the queue {}: {}", config.queue_url, aws_sdk_sqs::error::DisplayErrorContext(e)))
    })?;
    let version = client.apiserver_version().await.map_err(|e| (1, format!("cannot reach the API server: {e}")))?;
    tracing::info!(kubernetes = %version.git_version, queue = config.queue_url, namespace = config.namespace, "ingesting");
    state.set_ready();

    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing the messages in hand");
        let _ = stop.send(true);
    });
    let videojobs: Api<VideoJob> = Api::namespaced(client, &config.namespace);
    let mirror = Mirror {
        videojobs: videojobs.clone(),
        dynamodb: aws.dynamodb,
        table: config.table.clone(),
        metrics: metrics.clone(),
    };
    let receiver = Arc::new(Receiver { config, sqs: aws.sqs, s3: aws.s3, videojobs, metrics });
    tokio::join!(receiver.run(stopped.clone()), mirror.run(stopped));
    Ok(())
}
