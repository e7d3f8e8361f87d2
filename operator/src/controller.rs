//! The VideoJob controller. Reconcile is a pipeline of named steps:
//! validate (pure) -> build the desired Job (pure) -> apply it -> compute the status
//! (pure) -> write it, with an Event on every phase change.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::reflector::Store;
use kube::runtime::{WatchStreamExt, predicates, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::config::OperatorConfig;
use crate::crd::{Phase, ResultSummary, VideoJob, VideoJobStatus};
use crate::job::{Stage, desired_detect_job, desired_merge_job, job_name, parallelism};
use crate::metrics::SharedMetrics;
use crate::status::{Observed, desired_status, failed, succeeded};
use crate::validate::validate;
use crate::written::WrittenStatuses;

/// Field manager of the full Job and the status.
const MANAGER: &str = "cameo-operator";
/// Field manager of the Job fields that follow the spec after creation.
const UPDATE_MANAGER: &str = "cameo-operator-update";
/// Reconcile every VideoJob at least this often, in case a watch event was missed.
const RESYNC: Duration = Duration::from_secs(600);
/// Wait before retrying a reconcile that failed.
const RETRY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot apply the Job of {0}: {1}")]
    ApplyJob(String, #[source] kube::Error),
    #[error("cannot write the status of {0}: {1}")]
    WriteStatus(String, #[source] kube::Error),
    #[error("cannot delete the expired VideoJob {0}: {1}")]
    DeleteExpired(String, #[source] kube::Error),
    #[error("VideoJob {0} has no namespace")]
    NoNamespace(String),
}

impl Error {
    /// The `error` label of the reconcile error metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::ApplyJob(..) => "apply_job",
            Error::WriteStatus(..) => "write_status",
            Error::DeleteExpired(..) => "delete_expired",
            Error::NoNamespace(..) => "no_namespace",
        }
    }
}

/// What every controller of this process shares.
pub struct Shared {
    pub client: Client,
    pub config: OperatorConfig,
    pub metrics: SharedMetrics,
    pub recorder: Recorder,
}

impl Shared {
    pub fn new(client: Client, config: OperatorConfig, metrics: SharedMetrics, identity: &str) -> Self {
        let reporter = Reporter { controller: MANAGER.into(), instance: Some(identity.into()) };
        Shared { recorder: Recorder::new(client.clone(), reporter), client, config, metrics }
    }
}

/// One controller's context: the shared parts and its cache of the Jobs it owns, so a
/// reconcile reads no Job from the API server.
pub struct Context {
    pub shared: Arc<Shared>,
    pub jobs: Store<Job>,
    pub written: WrittenStatuses,
}

/// The reconciler's cache of VideoJobs in one namespace (or all), for /metrics.
pub type VideoJobStore = Store<VideoJob>;

/// Runs one controller for `namespace` (`None`: all namespaces) until `shutdown` resolves.
pub async fn run(
    shared: Arc<Shared>,
    namespace: Option<String>,
    store_ready: impl FnOnce(VideoJobStore),
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = shared.client.clone();
    let (videojobs, jobs): (Api<VideoJob>, Api<Job>) = match &namespace {
        Some(ns) => (Api::namespaced(client.clone(), ns), Api::namespaced(client, ns)),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let (videojob_cache, videojob_writer) = reflector::store();
    store_ready(videojob_cache.clone());
    // Our own status writes leave the generation alone: they trigger no reconcile.
    let videojob_events = watcher(videojobs, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(videojob_writer)
        .applied_objects()
        .predicate_filter(predicates::generation, Default::default());
    let (job_cache, job_writer) = reflector::store();
    let job_events = watcher(jobs, watcher::Config::default().labels(crate::job::VIDEOJOB_LABEL))
        .default_backoff()
        .reflect(job_writer)
        .touched_objects();
    let context = Arc::new(Context { shared, jobs: job_cache, written: WrittenStatuses::default() });
    Controller::for_stream(videojob_events, videojob_cache)
        .owns_stream(job_events)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!("reconcile: {e}");
            }
        })
        .await;
}

pub async fn reconcile(vj: Arc<VideoJob>, context: Arc<Context>) -> Result<Action, Error> {
    let shared = &context.shared;
    let _timer = shared.metrics.reconcile_started();
    let name = vj.name_any();
    let namespace = vj.namespace().ok_or_else(|| Error::NoNamespace(name.clone()))?;
    if vj.meta().deletion_timestamp.is_some() {
        // Owner references let the garbage collector remove the Job and its pods.
        return Ok(Action::await_change());
    }
    let videojobs: Api<VideoJob> = Api::namespaced(shared.client.clone(), &namespace);
    // What this operator last wrote, where the cached VideoJob predates that write.
    let previous = context.written.current(&vj);
    if let Some(action) = expire_if_finished(&vj, &previous, &videojobs).await? {
        return Ok(action);
    }
    if previous.phase.is_finished() {
        // Finished is final: Jobs deleted afterwards are not run again.
        return Ok(Action::await_change());
    }

    // 1. Validate.
    let invalid = validate(&vj.spec, &shared.config).err();

    // 2. Build and apply the Jobs: the shards, then, once they all succeeded, the merge.
    let jobs: Api<Job> = Api::namespaced(shared.client.clone(), &namespace);
    let cached = |stage| context.jobs.get(&ObjectRef::new(&job_name(&name, stage)).within(&namespace));
    // A Job of that name left by a deleted VideoJob of the same name is not ours: wait
    // for the garbage collector to remove it rather than adopt its outcome.
    let foreign = |job: &Job| !job.owner_references().iter().any(|r| Some(&r.uid) == vj.meta().uid.as_ref());
    if let Some(job) = [Stage::Detect, Stage::Merge].into_iter().filter_map(cached).find(|job| foreign(job)) {
        tracing::info!(videojob = %name, job = %job.name_any(), "waiting for a previous VideoJob's Job to be deleted");
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let (detect, merge) = match &invalid {
        Some(_) => (None, None),
        None => {
            let detect = apply_detect_job(&vj, &jobs, cached(Stage::Detect).as_deref(), &shared.config).await?;
            let merge = match (succeeded(Some(&detect)), cached(Stage::Merge)) {
                (None, _) => None,
                (Some(_), Some(merge)) => Some((*merge).clone()),
                (Some(_), None) => Some(apply(&jobs, &desired_merge_job(&vj, &shared.config), &vj).await?),
            };
            (Some(detect), merge)
        }
    };

    // 3. What the pods said, where the status needs it: why a Job failed, who was found.
    let pods: Api<Pod> = Api::namespaced(shared.client.clone(), &namespace);
    let failed_job = [&detect, &merge].into_iter().flatten().find(|job| failed(Some(job)).is_some());
    let failure_detail = match failed_job {
        Some(job) if previous.phase != Phase::Failed => termination_message(&pods, job, false).await,
        _ => None,
    };
    let result = match &merge {
        Some(job) if succeeded(Some(job)).is_some() && previous.result.is_none() => {
            termination_message(&pods, job, true).await.and_then(|m| serde_json::from_str::<ResultSummary>(&m).ok())
        }
        _ => None,
    };

    // 4. Compute and write the status.
    let now = Time(jiff::Timestamp::now());
    let observed =
        Observed { invalid: invalid.as_ref(), detect: detect.as_ref(), merge: merge.as_ref(), failure_detail, result };
    let status = desired_status(&vj, &previous, &observed, &now);
    if status != previous {
        write_status(&vj, &videojobs, &status).await?;
        context.written.record(&vj, &status);
    }
    // A first status (no conditions yet) is a transition too: the VideoJob was accepted.
    if status.phase != previous.phase || previous.conditions.is_empty() {
        publish_transition(&vj, &status, &shared.recorder).await;
    }
    Ok(Action::requeue(time_to_expiry(&vj, &status).unwrap_or(RESYNC)))
}

pub fn error_policy(vj: Arc<VideoJob>, error: &Error, context: Arc<Context>) -> Action {
    tracing::warn!(videojob = %vj.name_any(), "reconcile failed: {error}");
    context.shared.metrics.reconcile_failed(error);
    Action::requeue(RETRY)
}

/// Creates the shards' Job, or brings the fields that may change (suspend, parallelism,
/// deadline) up to date on an existing one: its pod template is immutable.
async fn apply_detect_job(
    vj: &VideoJob,
    jobs: &Api<Job>,
    existing: Option<&Job>,
    config: &OperatorConfig,
) -> Result<Job, Error> {
    let Some(existing) = existing else {
        return apply(jobs, &desired_detect_job(vj, config), vj).await;
    };
    let name = existing.name_any();
    let apply_error = |e| Error::ApplyJob(vj.name_any(), e);
    let spec = existing.spec.as_ref();
    let wanted = (Some(vj.spec.suspend), Some(parallelism(vj)), vj.spec.active_deadline_seconds);
    let current =
        (spec.and_then(|s| s.suspend), spec.and_then(|s| s.parallelism), spec.and_then(|s| s.active_deadline_seconds));
    if wanted == current {
        return Ok(existing.clone());
    }
    let update = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": { "suspend": wanted.0, "parallelism": wanted.1, "activeDeadlineSeconds": wanted.2 },
    });
    let params = PatchParams::apply(UPDATE_MANAGER).force();
    jobs.patch(&name, &params, &Patch::Apply(&update)).await.map_err(apply_error)
}

/// Server-side applies a whole Job (creating it). A Job the cache has not seen yet is
/// simply applied again.
async fn apply(jobs: &Api<Job>, job: &Job, vj: &VideoJob) -> Result<Job, Error> {
    let params = PatchParams::apply(MANAGER).force();
    jobs.patch(&job.name_any(), &params, &Patch::Apply(job)).await.map_err(|e| Error::ApplyJob(vj.name_any(), e))
}

/// The termination message of a pod of `job` that succeeded (or failed, the latest):
/// the detector's summary, or the error that stopped it.
async fn termination_message(pods: &Api<Pod>, job: &Job, success: bool) -> Option<String> {
    let selector = format!("batch.kubernetes.io/job-name={}", job.name_any());
    let list = match pods.list(&ListParams::default().labels(&selector)).await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(job = %job.name_any(), "cannot read the pods' termination messages: {e}");
            return None;
        }
    };
    list.items
        .iter()
        .flat_map(|pod| pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref())
        .filter(|t| (t.exit_code == 0) == success && t.message.as_deref().is_some_and(|m| !m.trim().is_empty()))
        .max_by_key(|t| t.finished_at.as_ref().map(|f| f.0))
        .and_then(|t| t.message.clone())
}

async fn write_status(vj: &VideoJob, api: &Api<VideoJob>, status: &VideoJobStatus) -> Result<(), Error> {
    let patch = json!({ "apiVersion": "cameo.dev/v1alpha1", "kind": "VideoJob", "status": status });
    let params = PatchParams::apply(MANAGER).force();
    api.patch_status(&vj.name_any(), &params, &Patch::Apply(&patch))
        .await
        .map(|_| ())
        .map_err(|e| Error::WriteStatus(vj.name_any(), e))
}

async fn publish_transition(vj: &VideoJob, status: &VideoJobStatus, recorder: &Recorder) {
    let failed = matches!(status.phase, Phase::Failed | Phase::Invalid);
    let explanation = status
        .conditions
        .iter()
        .find(|c| (c.type_ == "Failed" && c.status == "True") || (c.type_ == "Accepted" && c.status == "False"))
        .map(|c| c.message.clone());
    let note = explanation.unwrap_or_else(|| format!("Shards {}", status.progress.clone().unwrap_or_default()));
    let event = Event {
        type_: if failed { EventType::Warning } else { EventType::Normal },
        reason: status.phase.as_str().into(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = recorder.publish(&event, &vj.object_ref(&())).await {
        tracing::warn!(videojob = %vj.name_any(), "cannot publish an event: {e}");
    }
}

/// How long until a finished VideoJob's `ttlSecondsAfterFinished` passes (zero: it has);
/// `None` when it has no TTL or has not finished.
fn time_to_expiry(vj: &VideoJob, status: &VideoJobStatus) -> Option<Duration> {
    let ttl = vj.spec.ttl_seconds_after_finished?;
    let finished = status.completion_time.as_ref().filter(|_| status.phase.is_finished())?;
    let expires = finished.0 + jiff::SignedDuration::from_secs(i64::from(ttl));
    Some(Duration::try_from(expires.duration_since(jiff::Timestamp::now())).unwrap_or(Duration::ZERO))
}

/// Deletes a finished VideoJob whose `ttlSecondsAfterFinished` has passed; `None` when
/// reconciling should go on.
async fn expire_if_finished(
    vj: &VideoJob,
    status: &VideoJobStatus,
    api: &Api<VideoJob>,
) -> Result<Option<Action>, Error> {
    let Some(remaining) = time_to_expiry(vj, status) else { return Ok(None) };
    if !remaining.is_zero() {
        return Ok(Some(Action::requeue(remaining)));
    }
    tracing::info!(videojob = %vj.name_any(), "ttlSecondsAfterFinished passed: deleting");
    // Only this VideoJob: not a newer one of the same name.
    let this_one = Preconditions { uid: vj.uid(), resource_version: None };
    match api.delete(&vj.name_any(), &DeleteParams::background().preconditions(this_one)).await {
        Ok(_) => Ok(Some(Action::await_change())),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(Some(Action::await_change())),
        Err(e) => Err(Error::DeleteExpired(vj.name_any(), e)),
    }
}
