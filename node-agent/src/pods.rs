//! Runs the pods the scheduler binds to this agent's nodes, and reports their status
//! the way a kubelet does.
//!
//! A pod (its first container) runs one of two ways, chosen by its image: from the image
//! itself with podman when the image is in one of the agent's registries (container
//! mode, `containers.rs`), or else as a local process of the binary that stands for the
//! image (process mode, quick to start: most tests use it).
//!
//! What it does like a kubelet in both modes: args and env from the pod spec, with
//! `$(VAR)` expansion and the downward API (fieldRef); credentials from a TokenRequest
//! for the pod's ServiceAccount, so the API server enforces the pod's RBAC (a
//! kubeconfig for a process; the token volume at its mount path for a container); a
//! unique loopback pod IP (127.0.1.N) so replicas can bind the same port; httpGet
//! readiness probes; restart policies with back-off; exit codes and termination
//! messages in containerStatuses; SIGTERM, the grace period, then SIGKILL when a pod is
//! deleted. Container mode adds image pulls, emptyDir volumes, users, read-only roots and
//! resource limits. Neither does liveness probes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus,
    Pod, PodCondition, PodIP, PodStatus, ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::watch;

use crate::containers::{self, Mount, Runtime};

/// How the agent runs pods: which binary stands for which image, what else a
/// process would have had from its image, and which images run as containers.
pub struct Options {
    /// Image repository suffix (e.g. `cameo-operator`) and the binary that stands for it.
    pub images: Vec<(String, PathBuf)>,
    /// Environment every process gets, as an image's ENV lines would give it.
    pub image_env: Vec<(String, String)>,
    /// Environment every pod gets from this node (the cloud endpoints and credentials
    /// that IRSA would give on EKS).
    pub node_env: Vec<(String, String)>,
    /// Images in these registries run as containers.
    pub containers: Runtime,
    pub work_dir: PathBuf,
    /// API server URL and CA file, for the credentials of pods.
    pub api_server: String,
    pub ca_file: PathBuf,
}

pub struct Agent {
    client: Client,
    nodes: Vec<String>,
    options: Options,
    next_ip: AtomicU32,
    running: Mutex<HashMap<String, watch::Sender<Pod>>>,
}

impl Agent {
    pub fn new(client: Client, nodes: Vec<String>, options: Options) -> Self {
        Agent { client, nodes, options, next_ip: AtomicU32::new(1), running: Mutex::new(HashMap::new()) }
    }

    /// Removes every container this agent started.
    pub async fn remove_containers(&self) {
        self.options.containers.remove_all().await;
    }

    /// Watches all pods and runs those bound to this agent's nodes.
    pub async fn run(self: Arc<Self>) {
        let pods: Api<Pod> = Api::all(self.client.clone());
        let mut events = watcher(pods, watcher::Config::default()).default_backoff().boxed();
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => self.clone().observe(pod).await,
                // Gone from the API without a graceful deletion (a forced delete): stop it at once.
                Ok(watcher::Event::Delete(mut pod)) => {
                    pod.metadata.deletion_grace_period_seconds = Some(0);
                    pod.metadata.deletion_timestamp.get_or_insert(Time(Timestamp::now()));
                    self.clone().observe(pod).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("pod watch: {e}"),
            }
        }
    }

    async fn observe(self: Arc<Self>, pod: Pod) {
        let on_our_node = pod.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some_and(|n| self.nodes.contains(n));
        if !on_our_node {
            return;
        }
        let uid = pod.uid().unwrap_or_default();
        let known = self.running.lock().ok().and_then(|running| running.get(&uid).cloned());
        if let Some(updates) = known {
            let _ = updates.send(pod);
            return;
        }
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let terminal = phase == "Succeeded" || phase == "Failed";
        if pod.metadata.deletion_timestamp.is_some() {
            // Nothing of ours runs for it any more: let the API server forget it.
            if terminal || pod.status.as_ref().and_then(|s| s.start_time.as_ref()).is_none() {
                finalize_deletion(&self.client, &pod).await;
            }
            return;
        }
        if terminal {
            return;
        }
        let (sender, receiver) = watch::channel(pod.clone());
        if let Ok(mut running) = self.running.lock() {
            running.insert(uid.clone(), sender);
        }
        tokio::spawn(async move {
            let name = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
            if let Err(e) = self.run_pod(pod, receiver).await {
                tracing::warn!(pod = %name, "{e:#}");
            }
            if let Ok(mut running) = self.running.lock() {
                running.remove(&uid);
            }
        });
    }

    /// Runs one pod until it ends (restart policy permitting) or is deleted.
    async fn run_pod(&self, pod: Pod, mut updates: watch::Receiver<Pod>) -> anyhow::Result<()> {
        let namespace = pod.namespace().unwrap_or_default();
        let name = pod.name_any();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
        let spec = pod.spec.clone().unwrap_or_default();
        let Some(container) = spec.containers.first().cloned() else { anyhow::bail!("pod has no containers") };
        let pod_ip = format!("127.0.1.{}", self.next_ip.fetch_add(1, Ordering::Relaxed) % 250 + 1);
        let dir = self.options.work_dir.join(format!("{namespace}_{name}_{}", &pod.uid().unwrap_or_default()[..8]));
        std::fs::create_dir_all(&dir)?;
        let mut status = Reporter::new(&pod, &container, &pod_ip);

        let prepared = match self.prepare(&pod, &container, &pod_ip, &dir).await {
            Ok(prepared) => prepared,
            Err((reason, message)) => {
                status.waiting(reason, &message);
                status.send(&api, &name).await;
                let _ = updates.wait_for(|p| p.metadata.deletion_timestamp.is_some()).await;
                let latest = updates.borrow().clone();
                finalize_deletion(&self.client, &latest).await;
                return Ok(());
            }
        };
        let restart_policy = spec.restart_policy.clone().unwrap_or_else(|| "Always".into());
        let grace = |p: &Pod| {
            p.metadata
                .deletion_grace_period_seconds
                .or(p.spec.as_ref().and_then(|s| s.termination_grace_period_seconds))
                .unwrap_or(30)
        };
        status.image_id.clone_from(&prepared.image_id);
        let mut backoff = Duration::from_secs(1);
        loop {
            let mut child = prepared.spawn(&dir)?;
            let pid = child.id().unwrap_or(0);
            status.running();
            status.send(&api, &name).await;
            tracing::info!(pod = %format!("{namespace}/{name}"), pid, ip = %pod_ip, "started");

            let mut probe = tokio::time::interval(Duration::from_secs(1));
            let mut probe_state = ProbeState::default();
            let exit = loop {
                tokio::select! {
                    exit = child.wait() => break Ok(exit?),
                    changed = updates.changed() => {
                        if changed.is_err() || updates.borrow().metadata.deletion_timestamp.is_some() {
                            let seconds = grace(&updates.borrow());
                            break Err(prepared.stop(&mut child, &self.options.containers, seconds).await);
                        }
                    }
                    _ = probe.tick() => {
                        if let Some(ready) = probe_state.tick(&container, &pod_ip).await {
                            status.set_ready(ready);
                            status.send(&api, &name).await;
                        }
                    }
                }
            };
            let code = match exit {
                Ok(exit) => exit.code().unwrap_or(128 + exit_signal(&exit)),
                Err(code) => {
                    // Deleted: report the container's end (the Job controller waits for a
                    // terminal phase before it replaces the pod), then let the pod go.
                    let message = termination_message(&container, &prepared.termination_log, &prepared.log, code);
                    status.terminated(code, message, true);
                    status.send(&api, &name).await;
                    let latest = updates.borrow().clone();
                    finalize_deletion(&self.client, &latest).await;
                    return Ok(());
                }
            };
            let message = termination_message(&container, &prepared.termination_log, &prepared.log, code);
            tracing::info!(pod = %format!("{namespace}/{name}"), code, "exited");
            let restart = restart_policy == "Always" || (restart_policy == "OnFailure" && code != 0);
            status.terminated(code, message, !restart);
            status.send(&api, &name).await;
            if !restart {
                // The pod is done; wait for its deletion to finalize it.
                let _ = updates.wait_for(|p| p.metadata.deletion_timestamp.is_some()).await;
                let latest = updates.borrow().clone();
                finalize_deletion(&self.client, &latest).await;
                return Ok(());
            }
            status.waiting("CrashLoopBackOff", "back-off restarting the container");
            status.send(&api, &name).await;
            let deleted = tokio::select! {
                () = tokio::time::sleep(backoff) => false,
                _ = updates.wait_for(|p| p.metadata.deletion_timestamp.is_some()) => true,
            };
            if deleted {
                let latest = updates.borrow().clone();
                finalize_deletion(&self.client, &latest).await;
                return Ok(());
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
            status.restarted();
        }
    }

    /// Resolves the image, environment, args and credentials; an error is a waiting
    /// reason and message, as a kubelet reports them.
    async fn prepare(
        &self,
        pod: &Pod,
        container: &Container,
        pod_ip: &str,
        dir: &Path,
    ) -> Result<Prepared, (&'static str, String)> {
        let config_error = |e: String| ("CreateContainerConfigError", e);
        let image = container.image.clone().unwrap_or_default();
        let as_container = self.options.containers.runs(&image);
        let binary = match as_container {
            true => None,
            false => Some(self.binary_for(&image).ok_or((
                "ErrImagePull",
                format!("no local binary stands for image {image:?} (see --image and --registry)"),
            ))?),
        };
        let termination_log = dir.join("termination-log");
        std::fs::write(&termination_log, "").map_err(|e| config_error(e.to_string()))?;
        let mut env: Vec<(String, String)> = vec![("HOSTNAME".into(), pod.name_any())];
        let token = self.service_account_token(pod).await.map_err(|e| config_error(format!("{e:#}")))?;
        if as_container {
            // What a kubelet gives every container: the API server's address.
            let address = self.options.api_server.trim_start_matches("https://");
            let (host, port) = address.rsplit_once(':').unwrap_or((address, "443"));
            env.extend([
                ("KUBERNETES_SERVICE_HOST".into(), host.to_string()),
                ("KUBERNETES_SERVICE_PORT".into(), port.to_string()),
            ]);
        } else {
            env.extend([
                ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
                ("HOME".into(), dir.display().to_string()),
                // Where a container would find /dev/termination-log.
                ("TERMINATION_MESSAGE_PATH".into(), termination_log.display().to_string()),
            ]);
            env.extend(self.options.image_env.iter().cloned());
            if let Some(token) = &token {
                let kubeconfig = self.write_kubeconfig(pod, token, dir).map_err(|e| config_error(e.to_string()))?;
                env.push(("KUBECONFIG".into(), kubeconfig.display().to_string()));
            }
        }
        env.extend(self.options.node_env.iter().cloned());
        for var in container.env.clone().unwrap_or_default() {
            let value = match (&var.value, &var.value_from) {
                (Some(value), _) => expand(value, &env),
                (None, Some(source)) => match &source.field_ref {
                    Some(field) => field_value(pod, &field.field_path, pod_ip)
                        .ok_or_else(|| config_error(format!("unsupported fieldRef {}", field.field_path)))?,
                    None => return Err(config_error(format!("env {}: only fieldRef is supported", var.name))),
                },
                (None, None) => String::new(),
            };
            env.push((var.name.clone(), value));
        }
        let expanded = |list: &Option<Vec<String>>| list.as_ref().map(|l| l.iter().map(|a| expand(a, &env)).collect());
        let (command, args): (Option<Vec<String>>, Option<Vec<String>>) =
            (expanded(&container.command), expanded(&container.args));
        let log = dir.join("container.log");
        let Some(binary) = binary else {
            let pulled = self.options.containers.pull(&image, container.image_pull_policy.as_deref()).await?;
            let mounts = self.mounts(pod, container, token.as_deref(), &termination_log, dir).map_err(config_error)?;
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let run = containers::Run {
                name: &name,
                label_value: &self.options.containers.label_value,
                hostname: &pod.name_any(),
                image: &image,
                pulled: &pulled,
                env: &env,
                mounts: &mounts,
                command,
                args,
            };
            let spec = pod.spec.clone().unwrap_or_default();
            let podman_args = containers::run_args(&run, &spec, container).map_err(config_error)?;
            return Ok(Prepared {
                launch: Launch::Container { name, args: podman_args },
                image_id: pulled.id,
                termination_log,
                log,
            });
        };
        // The binary stands for the command's first word.
        let mut process_args: Vec<String> = command.unwrap_or_default().into_iter().skip(1).collect();
        process_args.extend(args.unwrap_or_default());
        Ok(Prepared {
            launch: Launch::Process { binary, args: process_args, env },
            image_id: String::new(),
            termination_log,
            log,
        })
    }

    /// The container's volume mounts on the host: emptyDirs as folders of the pod's, the
    /// ServiceAccount token volume as its token, CA and namespace, and the termination
    /// message file at its path.
    fn mounts(
        &self,
        pod: &Pod,
        container: &Container,
        token: Option<&str>,
        termination_log: &Path,
        dir: &Path,
    ) -> Result<Vec<Mount>, String> {
        let volumes: BTreeMap<String, k8s_openapi::api::core::v1::Volume> = pod
            .spec
            .as_ref()
            .and_then(|s| s.volumes.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.name.clone(), v))
            .collect();
        let io = |e: std::io::Error| e.to_string();
        let mut mounts = Vec::new();
        for mount in container.volume_mounts.iter().flatten() {
            let volume = volumes.get(&mount.name).ok_or_else(|| format!("no volume {} in the pod", mount.name))?;
            let host = if volume.empty_dir.is_some() {
                let host = dir.join("volumes").join(&mount.name);
                std::fs::create_dir_all(&host).map_err(io)?;
                // A kubelet's emptyDir is writable by any user of the pod.
                std::fs::set_permissions(&host, std::os::unix::fs::PermissionsExt::from_mode(0o777)).map_err(io)?;
                host
            } else if volume
                .projected
                .as_ref()
                .is_some_and(|p| p.sources.iter().flatten().any(|source| source.service_account_token.is_some()))
            {
                let token = token.ok_or("the token volume is mounted but the pod automounts no token")?;
                let ca = std::fs::read(&self.options.ca_file).map_err(io)?;
                containers::write_service_account(dir, token, &ca, &pod.namespace().unwrap_or_default()).map_err(io)?
            } else {
                return Err(format!(
                    "volume {}: only emptyDir and the service account token are supported",
                    mount.name
                ));
            };
            mounts.push(Mount { host, container: mount.mount_path.clone(), read_only: mount.read_only == Some(true) });
        }
        std::fs::set_permissions(termination_log, std::os::unix::fs::PermissionsExt::from_mode(0o666)).map_err(io)?;
        let path = container.termination_message_path.clone().unwrap_or_else(|| "/dev/termination-log".into());
        mounts.push(Mount { host: termination_log.to_path_buf(), container: path, read_only: false });
        Ok(mounts)
    }

    fn binary_for(&self, image: &str) -> Option<PathBuf> {
        let repository = containers::repository(image);
        self.options
            .images
            .iter()
            .find(|(suffix, _)| repository.ends_with(suffix.as_str()))
            .map(|(_, path)| path.clone())
    }

    /// A token of the pod's ServiceAccount, unless the pod or the ServiceAccount opts out
    /// of automounting.
    async fn service_account_token(&self, pod: &Pod) -> anyhow::Result<Option<String>> {
        let spec = pod.spec.clone().unwrap_or_default();
        let account = spec.service_account_name.clone().unwrap_or_else(|| "default".into());
        let namespace = pod.namespace().unwrap_or_default();
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &namespace);
        let automount = match spec.automount_service_account_token {
            Some(value) => value,
            None => accounts.get(&account).await?.automount_service_account_token.unwrap_or(true),
        };
        if !automount {
            return Ok(None);
        }
        let request = TokenRequest {
            spec: Some(TokenRequestSpec { expiration_seconds: Some(3600), ..TokenRequestSpec::default() }),
            ..TokenRequest::default()
        };
        let token = accounts
            .create_token_request(&account, &Default::default(), &request)
            .await?
            .status
            .and_then(|s| s.token)
            .unwrap_or_default();
        Ok(Some(token))
    }

    /// A kubeconfig holding the pod's token, for a process.
    fn write_kubeconfig(&self, pod: &Pod, token: &str, dir: &Path) -> anyhow::Result<PathBuf> {
        let account =
            pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_else(|| "default".into());
        let namespace = pod.namespace().unwrap_or_default();
        let path = dir.join("kubeconfig");
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "cluster", "cluster": {"server": self.options.api_server, "certificate-authority": self.options.ca_file}}],
            "users": [{"name": account, "user": {"token": token}}],
            "contexts": [{"name": "pod", "context": {"cluster": "cluster", "user": account, "namespace": namespace}}],
            "current-context": "pod",
        });
        std::fs::write(&path, serde_yaml::to_string(&config)?)?;
        Ok(path)
    }
}

/// How a pod's container starts: a local binary, or `podman run`.
enum Launch {
    Process { binary: PathBuf, args: Vec<String>, env: Vec<(String, String)> },
    Container { name: String, args: Vec<String> },
}

struct Prepared {
    launch: Launch,
    /// The pulled image's digest (container mode), for containerStatuses.
    image_id: String,
    termination_log: PathBuf,
    log: PathBuf,
}

impl Prepared {
    fn spawn(&self, dir: &Path) -> std::io::Result<tokio::process::Child> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let mut command = match &self.launch {
            Launch::Process { binary, args, env } => {
                let mut command = Command::new(binary);
                command.args(args).env_clear().envs(env.iter().map(|(k, v)| (k, v)));
                command
            }
            Launch::Container { args, .. } => {
                let mut command = Command::new("podman");
                command.args(args);
                command
            }
        };
        command
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe; it makes the process die with the agent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        command.spawn()
    }

    /// SIGTERM, then SIGKILL after the grace period; the exit code (128 + signal when
    /// killed). A container gets them through podman.
    async fn stop(&self, child: &mut tokio::process::Child, runtime: &Runtime, grace_seconds: i64) -> i32 {
        let grace = Duration::from_secs(grace_seconds.max(0) as u64);
        match &self.launch {
            Launch::Process { .. } => {
                // No id: already reaped (kill(0) would signal the agent's own group).
                if let Some(pid) = child.id() {
                    // SAFETY: signalling a child we spawned and have not reaped.
                    unsafe {
                        libc::kill(pid as i32, libc::SIGTERM);
                    }
                }
            }
            Launch::Container { name, .. } => runtime.signal(name, "TERM").await,
        }
        let exit = match tokio::time::timeout(grace, child.wait()).await {
            Ok(exit) => exit.ok(),
            Err(_) => {
                match &self.launch {
                    Launch::Process { .. } => {
                        let _ = child.kill().await;
                    }
                    Launch::Container { name, .. } => runtime.signal(name, "KILL").await,
                }
                child.wait().await.ok()
            }
        };
        exit.map_or(137, |e| e.code().unwrap_or(128 + exit_signal(&e)))
    }
}

fn exit_signal(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}

/// Deletes the pod object for good once nothing runs for it (what a kubelet does last).
async fn finalize_deletion(client: &Client, pod: &Pod) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions { uid: pod.uid(), resource_version: None }),
        ..DeleteParams::default()
    };
    if let Err(e) = api.delete(&pod.name_any(), &params).await
        && !matches!(&e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
    {
        tracing::warn!(pod = %pod.name_any(), "final deletion failed: {e}");
    }
}

/// A downward API field of the pod.
fn field_value(pod: &Pod, path: &str, pod_ip: &str) -> Option<String> {
    let quoted = |prefix: &str| path.strip_prefix(prefix).and_then(|rest| rest.strip_suffix("']")).map(str::to_string);
    match path {
        "metadata.name" => Some(pod.name_any()),
        "metadata.namespace" => pod.namespace(),
        "metadata.uid" => pod.uid(),
        "spec.nodeName" => pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        "spec.serviceAccountName" => pod.spec.as_ref().and_then(|s| s.service_account_name.clone()),
        "status.podIP" => Some(pod_ip.to_string()),
        "status.hostIP" => Some("127.0.0.1".to_string()),
        _ => {
            if let Some(key) = quoted("metadata.annotations['") {
                return Some(pod.annotations().get(&key).cloned().unwrap_or_default());
            }
            quoted("metadata.labels['").map(|key| pod.labels().get(&key).cloned().unwrap_or_default())
        }
    }
}

/// Kubernetes' `$(VAR)` expansion against the variables defined so far (`$$` escapes).
pub fn expand(value: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The container's termination message: its file, or with FallbackToLogsOnError the
/// tail of its log when it failed and wrote none.
fn termination_message(container: &Container, file: &Path, log: &Path, code: i32) -> Option<String> {
    let written = std::fs::read_to_string(file).unwrap_or_default();
    if !written.trim().is_empty() {
        return Some(written.chars().take(4096).collect());
    }
    let fallback = container.termination_message_policy.as_deref() == Some("FallbackToLogsOnError");
    if fallback && code != 0 {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(80).collect();
        let tail: String = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        let skip = tail.len().saturating_sub(2048);
        return Some(tail[tail.char_indices().map(|(i, _)| i).find(|&i| i >= skip).unwrap_or(0)..].to_string());
    }
    None
}

/// httpGet readiness probing, with the probe's thresholds.
#[derive(Default)]
struct ProbeState {
    started: Option<tokio::time::Instant>,
    last: Option<tokio::time::Instant>,
    successes: i32,
    failures: i32,
    ready: Option<bool>,
}

impl ProbeState {
    /// Probes when due; returns the readiness when it changes.
    async fn tick(&mut self, container: &Container, pod_ip: &str) -> Option<bool> {
        let now = tokio::time::Instant::now();
        let started = *self.started.get_or_insert(now);
        let Some(probe) = &container.readiness_probe else {
            return (self.ready != Some(true)).then(|| {
                self.ready = Some(true);
                true
            });
        };
        let delay = Duration::from_secs(probe.initial_delay_seconds.unwrap_or(0).max(0) as u64);
        let period = Duration::from_secs(probe.period_seconds.unwrap_or(10).max(1) as u64);
        if now < started + delay || self.last.is_some_and(|last| now < last + period) {
            return None;
        }
        self.last = Some(now);
        let ok = match &probe.http_get {
            Some(get) => {
                let port = match &get.port {
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(p) => Some(*p),
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name) => container
                        .ports
                        .iter()
                        .flatten()
                        .find(|p| p.name.as_deref() == Some(name))
                        .map(|p| p.container_port),
                };
                match port {
                    Some(port) => http_ok(pod_ip, port, get.path.as_deref().unwrap_or("/")).await,
                    None => false,
                }
            }
            None => true,
        };
        if ok {
            self.successes += 1;
            self.failures = 0;
        } else {
            self.failures += 1;
            self.successes = 0;
        }
        let next = if ok && self.successes >= probe.success_threshold.unwrap_or(1) {
            Some(true)
        } else if !ok && self.failures >= probe.failure_threshold.unwrap_or(3) {
            Some(false)
        } else {
            None
        };
        match next {
            Some(ready) if self.ready != Some(ready) => {
                self.ready = Some(ready);
                Some(ready)
            }
            _ => None,
        }
    }
}

async fn http_ok(host: &str, port: i32, path: &str) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect((host, port as u16)).await?;
        stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[9..12]).parse::<u16>().unwrap_or(0))
    };
    matches!(tokio::time::timeout(Duration::from_secs(1), attempt).await, Ok(Ok(code)) if (200..400).contains(&code))
}

/// The pod status this agent reports, kept whole and sent as one merge patch.
struct Reporter {
    container: String,
    image: String,
    image_id: String,
    pod_ip: String,
    started: Time,
    restarts: i32,
    ready: bool,
    phase: String,
    state: ContainerState,
    last_state: Option<ContainerState>,
}

impl Reporter {
    fn new(pod: &Pod, container: &Container, pod_ip: &str) -> Self {
        Reporter {
            container: container.name.clone(),
            image: container.image.clone().unwrap_or_default(),
            image_id: String::new(),
            pod_ip: pod_ip.to_string(),
            started: pod.status.as_ref().and_then(|s| s.start_time.clone()).unwrap_or(Time(Timestamp::now())),
            restarts: 0,
            ready: false,
            phase: "Pending".into(),
            state: ContainerState::default(),
            last_state: None,
        }
    }

    fn waiting(&mut self, reason: &str, message: &str) {
        self.ready = false;
        self.state = ContainerState {
            waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message: Some(message.into()) }),
            ..ContainerState::default()
        };
    }

    fn running(&mut self) {
        self.phase = "Running".into();
        self.state = ContainerState {
            running: Some(ContainerStateRunning { started_at: Some(Time(Timestamp::now())) }),
            ..ContainerState::default()
        };
    }

    fn set_ready(&mut self, ready: bool) {
        self.ready = ready;
    }

    fn terminated(&mut self, code: i32, message: Option<String>, final_state: bool) {
        let started_at = self.state.running.as_ref().and_then(|r| r.started_at.clone());
        self.ready = false;
        self.state = ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: code,
                reason: Some(if code == 0 { "Completed" } else { "Error" }.into()),
                message,
                started_at,
                finished_at: Some(Time(Timestamp::now())),
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        };
        if final_state {
            self.phase = if code == 0 { "Succeeded" } else { "Failed" }.into();
        }
    }

    fn restarted(&mut self) {
        self.restarts += 1;
        self.last_state = Some(self.state.clone());
    }

    fn status(&self) -> PodStatus {
        let now = Some(Time(Timestamp::now()));
        let condition = |type_: &str, holds: bool| PodCondition {
            type_: type_.into(),
            status: if holds { "True" } else { "False" }.into(),
            last_transition_time: now.clone(),
            ..PodCondition::default()
        };
        let running = self.state.running.is_some();
        PodStatus {
            phase: Some(self.phase.clone()),
            pod_ip: Some(self.pod_ip.clone()),
            pod_ips: Some(vec![PodIP { ip: self.pod_ip.clone() }]),
            host_ip: Some("127.0.0.1".into()),
            start_time: Some(self.started.clone()),
            conditions: Some(vec![
                condition("PodScheduled", true),
                condition("Initialized", true),
                condition("ContainersReady", self.ready),
                condition("Ready", self.ready),
            ]),
            container_statuses: Some(vec![ContainerStatus {
                name: self.container.clone(),
                image: self.image.clone(),
                image_id: self.image_id.clone(),
                ready: self.ready,
                started: Some(running),
                restart_count: self.restarts,
                state: Some(self.state.clone()),
                last_state: self.last_state.clone(),
                ..ContainerStatus::default()
            }]),
            ..PodStatus::default()
        }
    }

    async fn send(&self, api: &Api<Pod>, name: &str) {
        let patch = json!({ "status": self.status() });
        if let Err(e) = api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
            tracing::warn!(pod = %name, "status update failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn dollar_parentheses_expand_defined_variables_only() {
        let env = vec![("POD_IP".to_string(), "127.0.1.7".to_string())];
        assert_eq!(expand("--address=$(POD_IP):8080", &env), "--address=127.0.1.7:8080");
        assert_eq!(expand("$(MISSING) $$(POD_IP) $x", &env), "$(MISSING) $(POD_IP) $x");
    }

    #[test]
    fn the_downward_api_reads_annotations_and_names() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("shard-0".into());
        pod.metadata.annotations =
            Some(BTreeMap::from([("batch.kubernetes.io/job-completion-index".to_string(), "3".to_string())]));
        assert_eq!(
            field_value(&pod, "metadata.annotations['batch.kubernetes.io/job-completion-index']", "127.0.1.2")
                .as_deref(),
            Some("3")
        );
        assert_eq!(field_value(&pod, "metadata.name", "x").as_deref(), Some("shard-0"));
        assert_eq!(field_value(&pod, "status.podIP", "127.0.1.2").as_deref(), Some("127.0.1.2"));
    }
}
