//! Container mode: a pod whose image is in one of the agent's registries runs from that
//! image with podman (runc), on the host's network, as a kubelet would run it: pulled
//! as its pull policy says; command and args over the image's entrypoint and cmd; the
//! pod's env; emptyDir volumes and the ServiceAccount token volume mounted; its user,
//! runAsNonRoot, readOnlyRootFilesystem, capabilities and no-new-privileges; memory and
//! CPU limits; and the termination message file at its path.
//!
//! Building the `podman run` line is pure ([`run_args`]), so it is tested without podman.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, PodSpec};
use tokio::process::Command;

/// Label of every container the agent starts, valued with the agent's work dir, so
/// that one agent cleans up only its own.
pub const LABEL: &str = "dev.cameo.node-agent";

/// The registries the agent pulls from, and the podman it runs.
pub struct Runtime {
    pub registries: Vec<String>,
    pub label_value: String,
}

/// A pulled image: what the pod status reports and what runAsNonRoot is checked against.
#[derive(Debug, Clone)]
pub struct Image {
    /// `repository@sha256:...`, as containerStatuses' imageID.
    pub id: String,
    /// The image's USER (may be empty: root).
    pub user: String,
}

/// A host path mounted into the container.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    pub host: PathBuf,
    pub container: String,
    pub read_only: bool,
}

impl Runtime {
    /// Whether `image` is one of the agent's registries' (else it runs as a process).
    pub fn runs(&self, image: &str) -> bool {
        image.split_once('/').is_some_and(|(host, _)| self.registries.iter().any(|r| r == host))
    }

    /// Pulls `image` as `policy` says; an error is the message of ErrImagePull.
    pub async fn pull(&self, image: &str, policy: Option<&str>) -> Result<Image, (&'static str, String)> {
        let started = std::time::Instant::now();
        let present = podman(&["image", "exists", image]).await.is_ok();
        match policy {
            Some("Never") if !present => {
                return Err(("ErrImageNeverPull", format!("image {image} is not present with pull policy Never")));
            }
            Some("IfNotPresent") | Some("Never") if present => {}
            // Always, or a tag the kubelet would pull (no policy given).
            _ => {
                podman(&["pull", "--quiet", image])
                    .await
                    .map_err(|e| ("ErrImagePull", format!("pulling {image}: {e}")))?;
            }
        }
        let inspected = podman(&["image", "inspect", "--format", "{{.Digest}}\t{{.Config.User}}", image])
            .await
            .map_err(|e| ("ErrImagePull", format!("inspecting {image}: {e}")))?;
        let (digest, user) = inspected.trim_end_matches('\n').split_once('\t').unwrap_or((inspected.trim(), ""));
        let repository = repository(image);
        tracing::info!(image, milliseconds = started.elapsed().as_millis() as u64, "image ready");
        Ok(Image { id: format!("{repository}@{digest}"), user: user.to_string() })
    }

    /// Asks a container to stop with `signal` (TERM, then KILL after the grace period).
    pub async fn signal(&self, name: &str, signal: &str) {
        if let Err(e) = podman(&["kill", "--signal", signal, name]).await {
            tracing::debug!(container = name, "podman kill --signal {signal}: {e}");
        }
    }

    /// Removes every container this agent started (they outlive a killed agent).
    pub async fn remove_all(&self) {
        let filter = format!("label={LABEL}={}", self.label_value);
        let Ok(ids) = podman(&["ps", "--all", "--quiet", "--filter", &filter]).await else { return };
        for id in ids.split_whitespace() {
            let _ = podman(&["rm", "--force", "--time", "0", id]).await;
        }
    }
}

/// An image reference without its tag or digest: `127.0.0.1:5000/cameo/cameo-detector`
/// of `127.0.0.1:5000/cameo/cameo-detector:0.1.0` (the registry's port is no tag).
pub fn repository(image: &str) -> &str {
    let repository = image.split('@').next().unwrap_or(image);
    match repository.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => repository,
    }
}

/// Runs podman to completion; its stdout, or its stderr as the error.
async fn podman(args: &[&str]) -> Result<String, String> {
    let output = Command::new("podman").args(args).output().await.map_err(|e| format!("podman does not run: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// What one container run needs besides the pod spec.
pub struct Run<'a> {
    pub name: &'a str,
    pub label_value: &'a str,
    pub hostname: &'a str,
    pub image: &'a str,
    pub pulled: &'a Image,
    pub env: &'a [(String, String)],
    pub mounts: &'a [Mount],
    /// The container's command and args, `$(VAR)` already expanded.
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
}

/// The arguments of `podman run` for `container` of pod `spec`; an error is a
/// CreateContainerConfigError message, as a kubelet gives it.
pub fn run_args(run: &Run, spec: &PodSpec, container: &Container) -> Result<Vec<String>, String> {
    let pod_security = spec.security_context.clone().unwrap_or_default();
    let security = container.security_context.clone().unwrap_or_default();
    let user = security.run_as_user.or(pod_security.run_as_user);
    let group = security.run_as_group.or(pod_security.run_as_group);
    let non_root = security.run_as_non_root.or(pod_security.run_as_non_root).unwrap_or(false);
    let mut args: Vec<String> = vec![
        "run".into(),
        "--rm".into(),
        "--pull=never".into(),
        format!("--name={}", run.name),
        format!("--label={LABEL}={}", run.label_value),
        // Pods share the host's network (each binds its own loopback pod IP), as the
        // process mode's do.
        "--network=host".into(),
        "--uts=private".into(),
        format!("--hostname={}", run.hostname),
    ];
    let image_user = run.pulled.user.split(':').next().unwrap_or("");
    if non_root {
        match user {
            Some(0) => return Err("container's runAsUser breaks non-root policy".into()),
            Some(_) => {}
            None if image_user.is_empty() || image_user == "0" || image_user == "root" => {
                return Err("container has runAsNonRoot and image will run as root".into());
            }
            None if image_user.parse::<u32>().is_err() => {
                return Err(format!(
                    "container has runAsNonRoot and image has non-numeric user ({image_user}), cannot verify user is non-root"
                ));
            }
            None => {}
        }
    }
    match (user, group) {
        (Some(user), Some(group)) => args.push(format!("--user={user}:{group}")),
        (Some(user), None) => args.push(format!("--user={user}")),
        (None, Some(group)) => {
            args.push(format!("--user={}:{group}", if image_user.is_empty() { "0" } else { image_user }))
        }
        (None, None) => {}
    }
    for group in pod_security.supplemental_groups.iter().flatten().chain(pod_security.fs_group.iter()) {
        args.push(format!("--group-add={group}"));
    }
    if security.read_only_root_filesystem == Some(true) {
        // A kubelet mounts no tmpfs of its own: writable places are the pod's volumes.
        args.extend(["--read-only".into(), "--read-only-tmpfs=false".into()]);
    }
    if security.allow_privilege_escalation == Some(false) {
        args.push("--security-opt=no-new-privileges".into());
    }
    if security.privileged == Some(true) {
        return Err("privileged containers are not supported here".into());
    }
    if let Some(capabilities) = &security.capabilities {
        args.extend(capabilities.drop.iter().flatten().map(|c| format!("--cap-drop={c}")));
        args.extend(capabilities.add.iter().flatten().map(|c| format!("--cap-add={c}")));
    }
    let limits = container.resources.as_ref().and_then(|r| r.limits.clone()).unwrap_or_default();
    if let Some(memory) = limits.get("memory") {
        let bytes = quantity(&memory.0).ok_or_else(|| format!("memory limit {:?} is not a quantity", memory.0))?;
        args.push(format!("--memory={}", bytes.round() as u64));
    }
    if let Some(cpu) = limits.get("cpu") {
        let cpus = quantity(&cpu.0).ok_or_else(|| format!("cpu limit {:?} is not a quantity", cpu.0))?;
        args.push(format!("--cpus={cpus}"));
    }
    for mount in run.mounts {
        let mode = if mount.read_only { "ro" } else { "rw" };
        args.push(format!("--volume={}:{}:{mode}", mount.host.display(), mount.container));
    }
    for (name, value) in run.env {
        args.push(format!("--env={name}={value}"));
    }
    if let Some(command) = &run.command {
        // Kubernetes' command replaces the image's entrypoint and drops its cmd.
        args.push(format!("--entrypoint={}", serde_json::to_string(command).unwrap_or_default()));
    }
    args.push(run.image.to_string());
    args.extend(run.args.iter().flatten().cloned());
    Ok(args)
}

/// A Kubernetes quantity as a number: `512Mi`, `2Gi`, `500m`, `1.5`, `1e3`, `2k`.
pub fn quantity(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic() && c != 'e').unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        _ => return None,
    };
    Some(number * factor)
}

/// The folder holding a pod's service account token, CA and namespace, as the
/// kube-api-access projected volume gives them.
pub fn write_service_account(dir: &Path, token: &str, ca: &[u8], namespace: &str) -> std::io::Result<PathBuf> {
    let root = dir.join("serviceaccount");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("token"), token)?;
    std::fs::write(root.join("ca.crt"), ca)?;
    std::fs::write(root.join("namespace"), namespace)?;
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Capabilities, PodSecurityContext, ResourceRequirements, SecurityContext};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use std::collections::BTreeMap;

    fn image(user: &str) -> Image {
        Image { id: "127.0.0.1:5000/cameo/cameo-detector@sha256:0123".into(), user: user.into() }
    }

    fn run<'a>(pulled: &'a Image, mounts: &'a [Mount], env: &'a [(String, String)]) -> Run<'a> {
        Run {
            name: "cameo-demo-detect-0-abcd",
            label_value: "agent",
            hostname: "demo-detect-0",
            image: "127.0.0.1:5000/cameo/cameo-detector:0.1.0",
            pulled,
            env,
            mounts,
            command: None,
            args: Some(vec!["run".into(), "--device=cpu".into()]),
        }
    }

    /// A shard pod as the operator builds it (user, read-only root, no capabilities).
    fn shard() -> (PodSpec, Container) {
        let spec = PodSpec {
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(65532),
                run_as_group: Some(65532),
                fs_group: Some(65532),
                ..PodSecurityContext::default()
            }),
            ..PodSpec::default()
        };
        let container = Container {
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
                ..SecurityContext::default()
            }),
            resources: Some(ResourceRequirements {
                limits: Some(BTreeMap::from([
                    ("memory".to_string(), Quantity("4Gi".into())),
                    ("cpu".to_string(), Quantity("1500m".into())),
                    ("nvidia.com/gpu".to_string(), Quantity("1".into())),
                ])),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        };
        (spec, container)
    }

    #[test]
    fn a_shard_runs_as_its_user_read_only_without_capabilities_within_its_limits() {
        let (spec, container) = shard();
        let pulled = image("65532:65532");
        let mounts = [Mount { host: "/work/pod/tmp".into(), container: "/tmp".into(), read_only: false }];
        let env = [("AWS_REGION".to_string(), "eu-west-1".to_string())];
        let args = run_args(&run(&pulled, &mounts, &env), &spec, &container).unwrap();
        for expected in [
            "--user=65532:65532",
            "--group-add=65532",
            "--read-only",
            "--read-only-tmpfs=false",
            "--security-opt=no-new-privileges",
            "--cap-drop=ALL",
            "--memory=4294967296",
            "--cpus=1.5",
            "--volume=/work/pod/tmp:/tmp:rw",
            "--env=AWS_REGION=eu-west-1",
            "--network=host",
        ] {
            assert!(args.iter().any(|a| a == expected), "{expected} missing from {args:?}");
        }
        // The image, then the pod's args over its cmd.
        assert_eq!(&args[args.len() - 3..], ["127.0.0.1:5000/cameo/cameo-detector:0.1.0", "run", "--device=cpu"]);
        assert!(!args.iter().any(|a| a.starts_with("--entrypoint")));
    }

    #[test]
    fn a_command_replaces_the_entrypoint() {
        let (spec, container) = shard();
        let pulled = image("65532");
        let mut run = run(&pulled, &[], &[]);
        run.command = Some(vec!["/usr/local/bin/cameo-detector".into(), "merge".into()]);
        let args = run_args(&run, &spec, &container).unwrap();
        assert!(args.contains(&r#"--entrypoint=["/usr/local/bin/cameo-detector","merge"]"#.to_string()), "{args:?}");
    }

    #[test]
    fn run_as_non_root_refuses_root_and_unverifiable_users() {
        let (mut spec, container) = shard();
        spec.security_context.as_mut().unwrap().run_as_user = None;
        for (user, refusal) in [("", "will run as root"), ("0:0", "will run as root"), ("nobody", "non-numeric user")] {
            let pulled = image(user);
            let error = run_args(&run(&pulled, &[], &[]), &spec, &container).unwrap_err();
            assert!(error.contains(refusal), "{user:?}: {error}");
        }
        let pulled = image("65532:65532");
        let args = run_args(&run(&pulled, &[], &[]), &spec, &container).unwrap();
        assert!(args.contains(&"--user=65532:65532".to_string()), "the image's user, with the pod's group: {args:?}");
        spec.security_context.as_mut().unwrap().run_as_user = Some(0);
        assert!(run_args(&run(&pulled, &[], &[]), &spec, &container).is_err(), "runAsUser 0 under runAsNonRoot");
    }

    #[test]
    fn quantities_read_as_kubernetes_writes_them() {
        assert_eq!(quantity("512Mi"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("2G"), Some(2e9));
        assert_eq!(quantity("lots"), None);
        assert_eq!(quantity("1Xi"), None);
    }

    #[test]
    fn a_repository_is_the_reference_without_tag_or_digest() {
        for image in [
            "127.0.0.1:5000/cameo/cameo-detector:0.1.0-cuda",
            "127.0.0.1:5000/cameo/cameo-detector@sha256:0123",
            "127.0.0.1:5000/cameo/cameo-detector:0.1.0@sha256:0123",
            "127.0.0.1:5000/cameo/cameo-detector",
        ] {
            assert_eq!(repository(image), "127.0.0.1:5000/cameo/cameo-detector", "{image}");
        }
        assert_eq!(repository("cameo-operator:1.0"), "cameo-operator");
    }

    #[test]
    fn only_the_agents_registries_run_as_containers() {
        let runtime = Runtime { registries: vec!["127.0.0.1:5000".into()], label_value: "x".into() };
        assert!(runtime.runs("127.0.0.1:5000/cameo/cameo-operator:0.1.0"));
        assert!(!runtime.runs("cameo-operator"));
        assert!(!runtime.runs("ghcr.io/cameo-dev/cameo-operator:0.1.0"));
    }
}
