//! `cameo-operator`: reconciles VideoJobs (`run`), or prints the CRD (`crd`).

use std::process::ExitCode;
use std::sync::Arc;

use cameo_operator::config::{LeaderConfig, OperatorConfig, ServerConfig};
use cameo_operator::controller::{self, Shared};
use cameo_operator::crd::VideoJob;
use cameo_operator::health::Health;
use cameo_operator::leader::LeaderElector;
use cameo_operator::metrics::Metrics;
use cameo_operator::process::{init_logging, shutdown_signal};
use cameo_operator::server::{self, State};
use clap::{Parser, Subcommand};
use kube::{Client, Config, CustomResourceExt};
use tokio::sync::watch;

#[derive(Parser)]
#[command(name = "cameo-operator", version, about = "Runs cameo VideoJobs as Kubernetes Jobs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reconcile VideoJobs (the operator's normal mode).
    Run(Box<RunArgs>),
    /// Print the VideoJob CustomResourceDefinition as YAML.
    Crd,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    operator: OperatorConfig,
    #[command(flatten)]
    leader: LeaderConfig,
    #[command(flatten)]
    server: ServerConfig,
    /// Log format: json for log collectors, text for terminals; auto picks by terminal.
    #[arg(long, env = "CAMEO_LOG_FORMAT", default_value = "auto", value_parser = ["auto", "json", "text"])]
    log_format: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Crd => match serde_yaml::to_string(&VideoJob::crd()) {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Run(args) => {
            let RunArgs { operator, leader, server, log_format } = *args;
            init_logging(&log_format);
            match run(operator, leader, server).await {
                Ok(code) => code,
                Err(e) => {
                    tracing::error!("{e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn run(operator: OperatorConfig, leader: LeaderConfig, server: ServerConfig) -> anyhow::Result<ExitCode> {
    leader.validate().map_err(anyhow::Error::msg)?;
    let mut config = Config::infer().await?;
    // No request may hang: connecting and sending are bounded here, and every reconcile
    // and election attempt by its own deadline (reads stay long for watches).
    config.connect_timeout = Some(std::time::Duration::from_secs(10));
    config.write_timeout = Some(std::time::Duration::from_secs(30));
    let client = Client::try_from(config)?;
    let metrics = Arc::new(Metrics::default());
    let health = Arc::new(Health::new(
        leader.lease_duration + leader.renew_deadline,
        operator.reconcile_timeout.saturating_mul(2),
    ));
    let state = Arc::new(State { health: Some(health.clone()), ..State::default() });
    let render = metrics.clone();
    server::serve(server.http_address, state.clone(), Arc::new(move || render.render())).await?;
    let version = client.apiserver_version().await?;
    tracing::info!(kubernetes = %version.git_version, "connected to the API server");
    state.set_ready();

    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    let wait_for_stop = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };

    let identity = leader.process_identity();
    let elector = LeaderElector::new(client.clone(), &leader, identity.clone(), health.clone());
    tokio::select! {
        () = elector.acquire() => {}
        () = wait_for_stop(stopped.clone()) => return Ok(ExitCode::SUCCESS),
    }
    tracing::info!(%identity, "leading: reconciling VideoJobs");
    metrics.is_leader.set(1);

    let shared =
        Arc::new(Shared::new(client, operator.clone(), metrics.clone(), &identity, elector.guard(), health.clone()));
    let namespaces: Vec<Option<String>> = match operator.namespaces.iter().filter(|n| !n.is_empty()).count() {
        0 => vec![None],
        _ => operator.namespaces.iter().filter(|n| !n.is_empty()).cloned().map(Some).collect(),
    };
    let controllers = futures::future::join_all(namespaces.into_iter().map(|namespace| {
        let metrics = metrics.clone();
        controller::run(
            shared.clone(),
            namespace,
            move |store| metrics.add_store(store),
            wait_for_stop(stopped.clone()),
        )
    }));
    tokio::select! {
        _ = controllers => {
            elector.release().await;
            Ok(ExitCode::SUCCESS)
        }
        () = elector.hold() => {
            // Another replica may already lead: stop at once rather than act beside it.
            tracing::error!("lost leadership; exiting so this replica restarts as a follower");
            Ok(ExitCode::FAILURE)
        }
    }
}
