//! `cameo-node-agent`: test support standing in for the kubelets of an EKS cluster's
//! nodes. It registers a CPU system node and a GPU node (labels, taint and
//! `nvidia.com/gpu` capacity of an EKS GPU node group), keeps them Ready, and runs the
//! pods the real scheduler binds to them: from their images with podman when the image
//! is in one of its registries, else as local processes (see `pods.rs`).

mod containers;
mod nodes;
mod pods;

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use containers::Runtime;
use nodes::{Kind, NodeShape};
use pods::{Agent, Options};

#[derive(Parser)]
#[command(
    name = "cameo-node-agent",
    about = "Runs pods bound to its nodes as containers or local processes (test support)"
)]
struct Cli {
    /// Registry host whose images run as containers with podman: `127.0.0.1:5000`.
    #[arg(long = "registry")]
    registries: Vec<String>,
    /// Image repository suffix and the local binary standing for it in process mode:
    /// `cameo-operator=/path/to/bin`.
    #[arg(long = "image", value_parser = parse_pair::<PathBuf>)]
    images: Vec<(String, PathBuf)>,
    /// Environment every process gets, as from its image: `NAME=value`.
    #[arg(long = "image-env", value_parser = parse_pair::<String>)]
    image_env: Vec<(String, String)>,
    /// Environment every pod gets from the node, process or container: `NAME=value`.
    #[arg(long = "env", value_parser = parse_pair::<String>)]
    node_env: Vec<(String, String)>,
    /// Where pods' working directories, logs and credentials go.
    #[arg(long)]
    work_dir: PathBuf,
    /// Name of the CPU system node.
    #[arg(long, default_value = "cameo-system-0")]
    cpu_node: String,
    /// Name of the GPU node.
    #[arg(long, default_value = "cameo-gpu-0")]
    gpu_node: String,
}

fn parse_pair<T: From<String>>(s: &str) -> Result<(String, T), String> {
    let (key, value) = s.split_once('=').ok_or_else(|| format!("{s:?} is not KEY=VALUE"))?;
    Ok((key.to_string(), T::from(value.to_string())))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let kubeconfig = Kubeconfig::read()?;
    let config = Config::from_custom_kubeconfig(kubeconfig.clone(), &KubeConfigOptions::default()).await?;
    let api_server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let ca_file = kubeconfig
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.certificate_authority.clone())
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("the kubeconfig names no certificate-authority file"))?;
    let client = Client::try_from(config)?;
    std::fs::create_dir_all(&cli.work_dir)?;

    let shapes = vec![
        NodeShape { name: cli.cpu_node.clone(), kind: Kind::Cpu },
        NodeShape { name: cli.gpu_node.clone(), kind: Kind::Gpu },
    ];
    nodes::register(&client, &shapes).await?;
    tokio::spawn(nodes::heartbeat(client.clone(), shapes.clone()));
    let containers = Runtime { registries: cli.registries, label_value: cli.work_dir.display().to_string() };
    // Containers a killed agent of the same work dir left behind.
    containers.remove_all().await;
    let options = Options {
        images: cli.images,
        image_env: cli.image_env,
        node_env: cli.node_env,
        containers,
        work_dir: cli.work_dir,
        api_server,
        ca_file,
    };
    let agent = Arc::new(Agent::new(client, shapes.iter().map(|s| s.name.clone()).collect(), options));
    tokio::select! {
        () = agent.clone().run() => {}
        _ = tokio::signal::ctrl_c() => {}
        () = terminate() => {}
    }
    // Processes and podman clients get SIGKILL with us (PR_SET_PDEATHSIG); containers
    // outlive their podman client, so they go first.
    agent.remove_containers().await;
    Ok(())
}

async fn terminate() {
    if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        signal.recv().await;
    }
}
