//! Runs the pods the scheduler binds to this agent's nodes as local processes, and
//! reports their status the way a kubelet does.
//!
//! What it does like a kubelet: one process per pod (the first container), the image
//! mapped to a locally built binary; args and env from the pod spec, with `$(VAR)`
//! expansion and the downward API (fieldRef); a kubeconfig made from a TokenRequest for
//! the pod's ServiceAccount, so the API server enforces the pod's RBAC; a unique
//! loopback pod IP (127.0.1.N) so replicas can bind the same port; httpGet readiness
//! probes; restart policies with back-off; exit codes and termination messages in
//! containerStatuses; SIGTERM, the grace period, then SIGKILL when a pod is deleted.
//! What it does not: images, volumes, resource limits, users, liveness probes.

use std::collections::HashMap;
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

/// How the agent runs pods: which binary stands for which image, and what else a
/// container would have had from its image.
pub struct Agent {
    pub client: Client,
    pub nodes: Vec<String>,
    /// Image repository suffix (e.g. `cameo-operator`) and the binary that stands for it.
    pub images: Vec<(String, PathBuf)>,
    /// Environment every process gets, as an image's ENV lines would give it.
    pub image_env: Vec<(String, String)>,
    pub work_dir: PathBuf,
    /// API server URL and CA file, for the kubeconfigs of pods.
    pub api_server: String,
    pub ca_file: PathBuf,
    next_ip: AtomicU32,
    running: Mutex<HashMap<String, watch::Sender<Pod>>>,
}

impl Agent {
    pub fn new(
        client: Client,
        nodes: Vec<String>,
        images: Vec<(String, PathBuf)>,
        image_env: Vec<(String, String)>,
        work_dir: PathBuf,
        api_server: String,
        ca_file: PathBuf,
    ) -> Self {
        Agent {
            client,
            nodes,
            images,
            image_env,
            work_dir,
            api_server,
            ca_file,
            next_ip: AtomicU32::new(1),
            running: Mutex::new(HashMap::new()),
        }
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
        let dir = self.work_dir.join(format!("{namespace}_{name}_{}", &pod.uid().unwrap_or_default()[..8]));
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
                            break Err(stop(&mut child, pid, seconds).await);
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
        let image = container.image.clone().unwrap_or_default();
        let binary = self
            .binary_for(&image)
            .ok_or(("ErrImagePull", format!("no local binary stands for image {image:?} (see --image)")))?;
        let termination_log = dir.join("termination-log");
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), dir.display().to_string()),
            ("HOSTNAME".into(), pod.name_any()),
            // Where a container would find /dev/termination-log.
            ("TERMINATION_MESSAGE_PATH".into(), termination_log.display().to_string()),
        ];
        env.extend(self.image_env.iter().cloned());
        if let Some(kubeconfig) = self
            .service_account_kubeconfig(pod, dir)
            .await
            .map_err(|e| ("CreateContainerConfigError", e.to_string()))?
        {
            env.push(("KUBECONFIG".into(), kubeconfig.display().to_string()));
        }
        for var in container.env.clone().unwrap_or_default() {
            let value = match (&var.value, &var.value_from) {
                (Some(value), _) => expand(value, &env),
                (None, Some(source)) => match &source.field_ref {
                    Some(field) => field_value(pod, &field.field_path, pod_ip)
                        .ok_or(("CreateContainerConfigError", format!("unsupported fieldRef {}", field.field_path)))?,
                    None => {
                        return Err((
                            "CreateContainerConfigError",
                            format!("env {}: only fieldRef is supported", var.name),
                        ));
                    }
                },
                (None, None) => String::new(),
            };
            env.push((var.name.clone(), value));
        }
        let mut args: Vec<String> = container.command.clone().unwrap_or_default().into_iter().skip(1).collect();
        args.extend(container.args.clone().unwrap_or_default());
        let args = args.iter().map(|a| expand(a, &env)).collect();
        Ok(Prepared { binary, args, env, termination_log, log: dir.join("container.log") })
    }

    fn binary_for(&self, image: &str) -> Option<PathBuf> {
        let repository = image.split('@').next().unwrap_or(image);
        let repository = match repository.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => repository,
        };
        self.images.iter().find(|(suffix, _)| repository.ends_with(suffix.as_str())).map(|(_, path)| path.clone())
    }

    /// A kubeconfig holding a token of the pod's ServiceAccount, unless the pod or the
    /// ServiceAccount opts out of automounting.
    async fn service_account_kubeconfig(&self, pod: &Pod, dir: &Path) -> anyhow::Result<Option<PathBuf>> {
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
            .map(|s| s.token)
            .unwrap_or_default();
        let path = dir.join("kubeconfig");
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "cluster", "cluster": {"server": self.api_server, "certificate-authority": self.ca_file}}],
            "users": [{"name": account, "user": {"token": token}}],
            "contexts": [{"name": "pod", "context": {"cluster": "cluster", "user": account, "namespace": namespace}}],
            "current-context": "pod",
        });
        std::fs::write(&path, serde_yaml::to_string(&config)?)?;
        Ok(Some(path))
    }
}

struct Prepared {
    binary: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    termination_log: PathBuf,
    log: PathBuf,
}

impl Prepared {
    fn spawn(&self, dir: &Path) -> std::io::Result<tokio::process::Child> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let mut command = Command::new(&self.binary);
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
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
}

/// SIGTERM, then SIGKILL after the grace period; the exit code (128 + signal when killed).
async fn stop(child: &mut tokio::process::Child, pid: u32, grace_seconds: i64) -> i32 {
    // SAFETY: signalling a child we spawned and have not reaped.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let grace = Duration::from_secs(grace_seconds.max(0) as u64);
    let exit = match tokio::time::timeout(grace, child.wait()).await {
        Ok(exit) => exit.ok(),
        Err(_) => {
            let _ = child.kill().await;
            child.wait().await.ok()
        }
    };
    exit.map_or(137, |e| e.code().unwrap_or(128 + exit_signal(&e)))
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
                image_id: String::new(),
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
