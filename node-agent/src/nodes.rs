//! The nodes this agent stands in for: registered like an EKS node would be, and kept
//! Ready by the heartbeat a kubelet sends (a Lease in kube-node-lease, node conditions).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, Taint};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

const MANAGER: &str = "cameo-node-agent";
const HEARTBEAT: Duration = Duration::from_secs(10);

/// What kind of EKS node a registered node imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The system node group: CPU only, no taints.
    Cpu,
    /// The GPU node group: NVIDIA GPUs, tainted so only pods that tolerate it land there.
    Gpu,
}

#[derive(Debug, Clone)]
pub struct NodeShape {
    pub name: String,
    pub kind: Kind,
}

impl NodeShape {
    fn labels(&self) -> BTreeMap<String, String> {
        let (instance, group) = match self.kind {
            Kind::Cpu => ("m6i.xlarge", "system"),
            Kind::Gpu => ("g5.12xlarge", "gpu"),
        };
        let mut labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_string(), self.name.clone()),
            ("kubernetes.io/os".to_string(), "linux".to_string()),
            ("kubernetes.io/arch".to_string(), "amd64".to_string()),
            ("node.kubernetes.io/instance-type".to_string(), instance.to_string()),
            ("eks.amazonaws.com/nodegroup".to_string(), group.to_string()),
            ("topology.kubernetes.io/zone".to_string(), "eu-west-1a".to_string()),
        ]);
        if self.kind == Kind::Gpu {
            labels.insert("nvidia.com/gpu.present".into(), "true".into());
            labels.insert("nvidia.com/gpu.count".into(), "4".into());
            labels.insert("nvidia.com/gpu.product".into(), "NVIDIA-A10G".into());
        }
        labels
    }

    fn capacity(&self) -> BTreeMap<String, Quantity> {
        let mut capacity = BTreeMap::from([
            ("pods".to_string(), Quantity("110".into())),
            ("ephemeral-storage".to_string(), Quantity("100Gi".into())),
        ]);
        let (cpu, memory) = match self.kind {
            Kind::Cpu => ("4", "16Gi"),
            Kind::Gpu => ("48", "192Gi"),
        };
        capacity.insert("cpu".into(), Quantity(cpu.into()));
        capacity.insert("memory".into(), Quantity(memory.into()));
        if self.kind == Kind::Gpu {
            capacity.insert("nvidia.com/gpu".into(), Quantity("4".into()));
        }
        capacity
    }

    fn taints(&self) -> Option<Vec<Taint>> {
        (self.kind == Kind::Gpu).then(|| {
            vec![Taint {
                key: "nvidia.com/gpu".into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
                time_added: None,
            }]
        })
    }

    fn status(&self, now: Timestamp) -> NodeStatus {
        let condition = |type_: &str, status: &str, reason: &str| NodeCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: None,
            last_heartbeat_time: Some(Time(now)),
            last_transition_time: Some(Time(now)),
        };
        NodeStatus {
            capacity: Some(self.capacity()),
            allocatable: Some(self.capacity()),
            conditions: Some(vec![
                condition("Ready", "True", "KubeletReady"),
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID"),
            ]),
            addresses: Some(vec![
                NodeAddress { type_: "InternalIP".into(), address: "127.0.0.1".into() },
                NodeAddress { type_: "Hostname".into(), address: self.name.clone() },
            ]),
            node_info: Some(NodeSystemInfo {
                architecture: "amd64".into(),
                operating_system: "linux".into(),
                kubelet_version: "v1.37.2".into(),
                container_runtime_version: "cameo-node-agent://0.1.0".into(),
                os_image: "local processes".into(),
                ..NodeSystemInfo::default()
            }),
            ..NodeStatus::default()
        }
    }
}

/// Creates (or updates) every node and marks it Ready.
pub async fn register(client: &Client, nodes: &[NodeShape]) -> anyhow::Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    let params = PatchParams::apply(MANAGER).force();
    for shape in nodes {
        let node = Node {
            metadata: ObjectMeta {
                name: Some(shape.name.clone()),
                labels: Some(shape.labels()),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec { taints: shape.taints(), ..NodeSpec::default() }),
            status: None,
        };
        api.patch(&shape.name, &params, &Patch::Apply(&node)).await?;
        report_status(&api, shape).await?;
        tracing::info!(node = %shape.name, kind = ?shape.kind, "registered");
    }
    Ok(())
}

async fn report_status(api: &Api<Node>, shape: &NodeShape) -> kube::Result<()> {
    let status = json!({ "apiVersion": "v1", "kind": "Node", "status": shape.status(Timestamp::now()) });
    api.patch_status(&shape.name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&status)).await.map(|_| ())
}

/// Renews each node's Lease and status forever, as a kubelet does.
pub async fn heartbeat(client: Client, nodes: Vec<NodeShape>) {
    let node_api: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client, "kube-node-lease");
    loop {
        for shape in &nodes {
            if let Err(e) = renew_lease(&leases, &shape.name).await {
                tracing::warn!(node = %shape.name, "lease renewal failed: {e}");
            }
            if let Err(e) = report_status(&node_api, shape).await {
                tracing::warn!(node = %shape.name, "status update failed: {e}");
            }
        }
        tokio::time::sleep(HEARTBEAT).await;
    }
}

async fn renew_lease(api: &Api<Lease>, node: &str) -> kube::Result<()> {
    let spec = LeaseSpec {
        holder_identity: Some(node.into()),
        lease_duration_seconds: Some(40),
        renew_time: Some(MicroTime(Timestamp::now())),
        ..LeaseSpec::default()
    };
    match api.get_opt(node).await? {
        Some(mut lease) => {
            lease.spec = Some(spec);
            api.replace(node, &PostParams::default(), &lease).await.map(|_| ())
        }
        None => {
            let lease =
                Lease { metadata: ObjectMeta { name: Some(node.into()), ..ObjectMeta::default() }, spec: Some(spec) };
            api.create(&PostParams::default(), &lease).await.map(|_| ())
        }
    }
}
