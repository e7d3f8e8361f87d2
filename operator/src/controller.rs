//! The VideoJob controller. Reconcile is a pipeline of named steps:
//! validate (pure) -> build the desired Jobs (pure) -> create them, or bring what follows
//! the VideoJob up to date -> see what the cluster keeps waiting -> compute the status
//! (pure) -> write it, with an Event on every phase change and every new cause of waiting.
//!
//! Every write first checks that this replica still leads ([`LeaderGuard`]), and every
//! reconcile is bounded by the reconcile timeout; failures back off per VideoJob.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::reflector::Store;
use kube::runtime::{WatchStreamExt, predicates, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::backoff::Backoff;
use crate::config::OperatorConfig;
use crate::crd::{Phase, ResultSummary, VideoJob, VideoJobStatus};
use crate::events::{Note, Publisher};
use crate::health::Health;
use crate::job::{QUEUE_LABEL, Stage, deadline_left, desired_detect_job, desired_merge_job, follow_update, job_name};
use crate::leader::LeaderGuard;
use crate::metrics::SharedMetrics;
use crate::status::{Observed, WAITING, Waiting, desired_status, failed, succeeded};
use crate::validate::validate;
use crate::written::{WrittenStatuses, key};

/// Field manager of the Jobs and the status.
const MANAGER: &str = "cameo-operator";
/// Field manager of the Job fields that follow the VideoJob after creation.
const UPDATE_MANAGER: &str = "cameo-operator-update";
/// Reconcile every VideoJob at least this often, in case a watch event was missed.
const RESYNC: Duration = Duration::from_secs(600);
/// A Job without pods this long after it was created (or resumed) is asked why.
const POD_CREATION_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create or update the Job of {0}: {1}")]
    ApplyJob(String, #[source] kube::Error),
    #[error("cannot write the status of {0}: {1}")]
    WriteStatus(String, #[source] kube::Error),
    #[error("cannot delete the expired VideoJob {0}: {1}")]
    DeleteExpired(String, #[source] kube::Error),
    #[error("VideoJob {0} has no namespace")]
    NoNamespace(String),
    #[error("the reconcile of {0} took longer than the reconcile timeout")]
    Timeout(String),
    #[error("this replica no longer leads: nothing is written")]
    NotLeading,
}

impl Error {
    /// The `error` label of the reconcile error metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::ApplyJob(..) => "apply_job",
            Error::WriteStatus(..) => "write_status",
            Error::DeleteExpired(..) => "delete_expired",
            Error::NoNamespace(..) => "no_namespace",
            Error::Timeout(..) => "timeout",
            Error::NotLeading => "not_leading",
        }
    }
}

/// What every controller of this process shares.
pub struct Shared {
    pub client: Client,
    pub config: OperatorConfig,
    pub metrics: SharedMetrics,
    pub events: Publisher,
    pub guard: LeaderGuard,
    pub health: Arc<Health>,
}

impl Shared {
    pub fn new(
        client: Client,
        config: OperatorConfig,
        metrics: SharedMetrics,
        identity: &str,
        guard: LeaderGuard,
        health: Arc<Health>,
    ) -> Self {
        Shared { events: Publisher::new(client.clone(), identity), client, config, metrics, guard, health }
    }

    /// Before every write: this replica still leads, by its own clock.
    fn may_write(&self) -> Result<(), Error> {
        if self.guard.is_leading() { Ok(()) } else { Err(Error::NotLeading) }
    }
}

/// One controller's context: the shared parts and its cache of the Jobs it owns, so a
/// reconcile reads no Job from the API server.
pub struct Context {
    pub shared: Arc<Shared>,
    pub jobs: Store<Job>,
    pub written: WrittenStatuses,
    /// Retries of failed reconciles.
    pub failures: Backoff,
    /// Second looks at VideoJobs waiting on the cluster (no watch event says when a pod
    /// becomes unschedulable or cannot be created).
    pub rechecks: Backoff,
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
    // Our own status writes leave the generation alone: they trigger no reconcile. The
    // caches keep only what reconciles read (no managedFields, no Job pod template): at
    // 10,000 VideoJobs that is most of the operator's memory.
    let videojob_events = watcher(videojobs, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(prune_videojob)
        .reflect(videojob_writer)
        .applied_objects()
        .predicate_filter(predicates::generation, Default::default());
    let (job_cache, job_writer) = reflector::store();
    let job_events = watcher(jobs, watcher::Config::default().labels(crate::job::VIDEOJOB_LABEL))
        .default_backoff()
        .modify(prune_job)
        .reflect(job_writer)
        .touched_objects();
    let context = Arc::new(Context {
        shared: shared.clone(),
        jobs: job_cache,
        written: WrittenStatuses::default(),
        failures: Backoff::new(Duration::from_secs(1), Duration::from_secs(300)),
        rechecks: Backoff::new(Duration::from_secs(3), Duration::from_secs(120)),
    });
    Controller::for_stream(videojob_events, videojob_cache)
        .owns_stream(job_events)
        .with_config(controller::Config::default().concurrency(shared.config.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!("reconcile: {e}");
            }
        })
        .await;
}

/// What a reconcile reads of a VideoJob: all but managedFields and kubectl's copy of the
/// last applied manifest.
fn prune_videojob(vj: &mut VideoJob) {
    vj.managed_fields_mut().clear();
    vj.annotations_mut().remove("kubectl.kubernetes.io/last-applied-configuration");
}

/// What a reconcile reads of a Job: metadata, the fields that follow the VideoJob, status.
fn prune_job(job: &mut Job) {
    job.managed_fields_mut().clear();
    if let Some(spec) = job.spec.as_mut() {
        spec.template = Default::default();
        spec.selector = None;
        spec.pod_failure_policy = None;
    }
}

pub async fn reconcile(vj: Arc<VideoJob>, context: Arc<Context>) -> Result<Action, Error> {
    let shared = &context.shared;
    if !shared.guard.is_leading() {
        // Leadership is being lost: the process exits; the next leader reconciles.
        return Ok(Action::await_change());
    }
    let _running = shared.health.reconcile_started();
    let _timer = shared.metrics.reconcile_started();
    let outcome = tokio::time::timeout(shared.config.reconcile_timeout, reconcile_steps(&vj, &context)).await;
    let action = outcome.map_err(|_| Error::Timeout(vj.name_any()))??;
    context.failures.reset(&key(&vj));
    Ok(action)
}

pub fn error_policy(vj: Arc<VideoJob>, error: &Error, context: Arc<Context>) -> Action {
    tracing::warn!(videojob = %vj.name_any(), "reconcile failed: {error}");
    context.shared.metrics.reconcile_failed(error);
    Action::requeue(context.failures.next(&key(&vj)))
}

async fn reconcile_steps(vj: &VideoJob, context: &Context) -> Result<Action, Error> {
    let shared = &context.shared;
    let name = vj.name_any();
    let namespace = vj.namespace().ok_or_else(|| Error::NoNamespace(name.clone()))?;
    if vj.meta().deletion_timestamp.is_some() {
        // Owner references let the garbage collector remove the Job and its pods.
        return Ok(Action::await_change());
    }
    let videojobs: Api<VideoJob> = Api::namespaced(shared.client.clone(), &namespace);
    // What this operator last wrote, where the cached VideoJob predates that write.
    let previous = context.written.current(vj);
    if let Some(action) = expire_if_finished(vj, &previous, &videojobs, shared).await? {
        return Ok(action);
    }
    if previous.phase.is_finished() {
        // Finished is final: Jobs deleted afterwards (their TTL) are not run again.
        return Ok(Action::await_change());
    }

    // 1. Validate.
    let invalid = validate(&vj.spec, &shared.config).err();

    // 2. Create the Jobs, the shards and then, once they all succeeded, the merge.
    let jobs: Api<Job> = Api::namespaced(shared.client.clone(), &namespace);
    let cached = |stage| context.jobs.get(&ObjectRef::new(&job_name(&name, stage)).within(&namespace));
    if let Some(job) = [Stage::Detect, Stage::Merge].into_iter().filter_map(cached).find(|job| foreign(job, vj)) {
        tracing::info!(videojob = %name, job = %job.name_any(), "waiting for a previous VideoJob's Job to be deleted");
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    // The shards succeeded before and their Job expired since: they are not run again.
    let detected = previous.phase == Phase::Merging && cached(Stage::Detect).is_none();
    let mut waiting = None;
    let (detect, merge) = match &invalid {
        Some(_) => (None, None),
        None => {
            let detect = if detected {
                None
            } else {
                let result = ensure_detect_job(vj, &jobs, cached(Stage::Detect).as_deref(), shared).await;
                rejected(result, &mut waiting)?
            };
            let merge = match (detected || succeeded(detect.as_ref()).is_some(), cached(Stage::Merge)) {
                (false, _) => None,
                (true, Some(merge)) => Some((*merge).clone()),
                (true, None) => {
                    let started = previous.start_time.as_ref().map(|t| t.0);
                    let left = deadline_left(vj, started, jiff::Timestamp::now());
                    rejected(
                        create_job(&jobs, &desired_merge_job(vj, &shared.config, left), vj, shared).await,
                        &mut waiting,
                    )?
                }
            };
            (detect, merge)
        }
    };

    // 3. What the pods said, where the status needs it: why a Job failed, who was found,
    //    why shards do not start.
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
    let running =
        merge.as_ref().or(detect.as_ref()).filter(|job| failed(Some(job)).is_none() && succeeded(Some(job)).is_none());
    let recheck = running.is_some_and(|job| starting(job, vj));
    if waiting.is_none()
        && let Some(job) = running
    {
        waiting = waiting_for(job, vj, &pods, shared).await;
    }

    // 4. Compute and write the status.
    let now = Time(jiff::Timestamp::now());
    let observed = Observed {
        invalid: invalid.as_ref(),
        waiting,
        detect: detect.as_ref(),
        detected,
        merge: merge.as_ref(),
        failure_detail,
        result,
    };
    let status = desired_status(vj, &previous, &observed, &now);
    if status != previous {
        write_status(vj, &videojobs, &status, shared).await?;
        context.written.record(vj, &status);
    }
    // A first status (no conditions yet) is a transition too: the VideoJob was accepted.
    if status.phase != previous.phase || previous.conditions.is_empty() {
        publish_transition(vj, &status, shared).await;
    }
    if let Some(cause) = new_cause_of_waiting(&previous, &status) {
        publish_waiting(vj, cause, shared).await;
    }
    let key = key(vj);
    if observed.waiting.is_some() || recheck {
        return Ok(Action::requeue(context.rechecks.next(&key)));
    }
    context.rechecks.reset(&key);
    Ok(Action::requeue(time_to_expiry(vj, &status).unwrap_or(RESYNC)))
}

/// A Job of that name left by a deleted VideoJob of the same name is not ours: wait for
/// the garbage collector to remove it rather than adopt its outcome.
fn foreign(job: &Job, vj: &VideoJob) -> bool {
    !job.owner_references().iter().any(|r| Some(&r.uid) == vj.meta().uid.as_ref())
}

/// An API server's refusal of a Job (admission, quota, validation) becomes what the
/// VideoJob waits for; other errors are errors.
fn rejected(result: Result<Job, Error>, waiting: &mut Option<Waiting>) -> Result<Option<Job>, Error> {
    match result {
        Ok(job) => Ok(Some(job)),
        Err(Error::ApplyJob(_, kube::Error::Api(e))) if matches!(e.code, 400 | 403 | 422) => {
            *waiting = Some(Waiting { reason: Waiting::JOB_REJECTED, message: e.message });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Creates the shards' Job, or writes the fields that follow the VideoJob where the
/// VideoJob changed them (its pod template is immutable).
async fn ensure_detect_job(
    vj: &VideoJob,
    jobs: &Api<Job>,
    existing: Option<&Job>,
    shared: &Shared,
) -> Result<Job, Error> {
    let Some(existing) = existing else {
        return create_job(jobs, &desired_detect_job(vj, &shared.config), vj, shared).await;
    };
    let Some(mut update) = follow_update(existing, vj) else { return Ok(existing.clone()) };
    // Only on top of the Job as cached: a stale copy must not undo what another
    // manager wrote since (a conflict retries once the cache caught up).
    update["metadata"]["resourceVersion"] = json!(existing.resource_version());
    shared.may_write()?;
    let params = PatchParams { field_manager: Some(UPDATE_MANAGER.into()), ..PatchParams::default() };
    jobs.patch(&existing.name_any(), &params, &Patch::Merge(&update))
        .await
        .map_err(|e| Error::ApplyJob(vj.name_any(), e))
}

/// Creates a Job; one that exists already (the cache had not seen it) is read instead,
/// and never overwritten: what others set on it since (a queue's `suspend`) stands.
async fn create_job(jobs: &Api<Job>, job: &Job, vj: &VideoJob, shared: &Shared) -> Result<Job, Error> {
    shared.may_write()?;
    let params = PostParams { field_manager: Some(MANAGER.into()), ..PostParams::default() };
    match jobs.create(&params, job).await {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            jobs.get(&job.name_any()).await.map_err(|e| Error::ApplyJob(vj.name_any(), e))
        }
        Err(e) => Err(Error::ApplyJob(vj.name_any(), e)),
    }
}

fn suspended(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false)
}

/// A Job's active and ready pods.
fn active_and_ready(job: &Job) -> (i32, i32) {
    let status = job.status.as_ref();
    (status.and_then(|s| s.active).unwrap_or(0), status.and_then(|s| s.ready).unwrap_or(0))
}

/// Whether a running Job's pods may still be starting: none yet, or not all ready.
fn starting(job: &Job, vj: &VideoJob) -> bool {
    let (active, ready) = active_and_ready(job);
    !suspended(job) && (active == 0 || (!vj.spec.suspend && active > ready))
}

/// Why a running Job's shards do not run, if the cluster says: held suspended by a queue,
/// no node fits a pod, or its pods cannot be created.
async fn waiting_for(job: &Job, vj: &VideoJob, pods: &Api<Pod>, shared: &Shared) -> Option<Waiting> {
    if suspended(job) && !vj.spec.suspend {
        let queue = job.labels().get(QUEUE_LABEL).map(|q| format!(" (queue {q})")).unwrap_or_default();
        return Some(Waiting {
            reason: Waiting::QUEUED,
            message: format!(
                "The Job {} is held suspended by another controller{queue}: it runs once admitted",
                job.name_any()
            ),
        });
    }
    if suspended(job) {
        return None;
    }
    let (active, ready) = active_and_ready(job);
    if active > ready {
        let unschedulable = job_pods(pods, job).await?.iter().find_map(|pod| {
            let conditions = pod.status.as_ref()?.conditions.as_ref()?;
            let scheduled = conditions.iter().find(|c| c.type_ == "PodScheduled")?;
            (scheduled.status == "False" && scheduled.reason.as_deref() == Some("Unschedulable"))
                .then(|| format!("Pod {}: {}", pod.name_any(), scheduled.message.clone().unwrap_or_default()))
        })?;
        return Some(Waiting { reason: Waiting::UNSCHEDULABLE, message: unschedulable });
    }
    let status = job.status.clone().unwrap_or_default();
    let done = status.succeeded.unwrap_or(0) + status.failed.unwrap_or(0);
    let since = status.start_time.as_ref().or(job.metadata.creation_timestamp.as_ref()).map(|t| t.0)?;
    let age = jiff::Timestamp::now().duration_since(since);
    if active > 0 || done > 0 || age < jiff::SignedDuration::try_from(POD_CREATION_GRACE).ok()? {
        return None;
    }
    let events: Api<CoreEvent> = Api::namespaced(shared.client.clone(), &job.namespace().unwrap_or_default());
    let selector = format!("involvedObject.uid={},reason=FailedCreate", job.uid().unwrap_or_default());
    let list = events.list(&ListParams::default().fields(&selector)).await.ok()?;
    let latest =
        list.items.iter().max_by_key(|e| e.last_timestamp.as_ref().or(e.first_timestamp.as_ref()).map(|t| t.0))?;
    Some(Waiting { reason: Waiting::POD_CREATION_FAILED, message: latest.message.clone().unwrap_or_default() })
}

/// The VideoJob's cause of waiting, when it is new since `previous`.
fn new_cause_of_waiting(previous: &VideoJobStatus, status: &VideoJobStatus) -> Option<(String, String)> {
    let holding = |s: &VideoJobStatus| s.conditions.iter().find(|c| c.type_ == WAITING && c.status == "True").cloned();
    let now = holding(status)?;
    match holding(previous) {
        Some(before) if before.reason == now.reason => None,
        _ => Some((now.reason, now.message)),
    }
}

/// The termination message of a pod of `job` that succeeded (or failed, the latest):
/// the detector's summary, or the error that stopped it.
async fn termination_message(pods: &Api<Pod>, job: &Job, success: bool) -> Option<String> {
    job_pods(pods, job)
        .await?
        .iter()
        .flat_map(|pod| pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref())
        .filter(|t| (t.exit_code == 0) == success && t.message.as_deref().is_some_and(|m| !m.trim().is_empty()))
        .max_by_key(|t| t.finished_at.as_ref().map(|f| f.0))
        .and_then(|t| t.message.clone())
}

/// The pods of `job`; `None` (logged) when they cannot be listed: what they would have
/// told is looked for again at the next reconcile.
async fn job_pods(pods: &Api<Pod>, job: &Job) -> Option<Vec<Pod>> {
    let selector = format!("batch.kubernetes.io/job-name={}", job.name_any());
    match pods.list(&ListParams::default().labels(&selector)).await {
        Ok(list) => Some(list.items),
        Err(e) => {
            tracing::warn!(job = %job.name_any(), "cannot list the Job's pods: {e}");
            None
        }
    }
}

async fn write_status(
    vj: &VideoJob,
    api: &Api<VideoJob>,
    status: &VideoJobStatus,
    shared: &Shared,
) -> Result<(), Error> {
    shared.may_write()?;
    let patch = json!({ "apiVersion": "cameo.dev/v1alpha1", "kind": "VideoJob", "status": status });
    let params = PatchParams::apply(MANAGER).force();
    api.patch_status(&vj.name_any(), &params, &Patch::Apply(&patch))
        .await
        .map(|_| ())
        .map_err(|e| Error::WriteStatus(vj.name_any(), e))
}

async fn publish(vj: &VideoJob, note: Note, shared: &Shared) {
    if shared.may_write().is_err() {
        return;
    }
    if let Err(e) = shared.events.publish(vj, &note).await {
        tracing::warn!(videojob = %vj.name_any(), "cannot publish an event: {e}");
    }
}

async fn publish_transition(vj: &VideoJob, status: &VideoJobStatus, shared: &Shared) {
    let explanation = status
        .conditions
        .iter()
        .find(|c| (c.type_ == "Failed" && c.status == "True") || (c.type_ == "Accepted" && c.status == "False"))
        .map(|c| c.message.clone());
    let note = Note {
        warning: matches!(status.phase, Phase::Failed | Phase::Invalid),
        reason: status.phase.as_str().into(),
        action: "Reconcile",
        message: explanation.unwrap_or_else(|| format!("Shards {}", status.progress.clone().unwrap_or_default())),
    };
    publish(vj, note, shared).await;
}

async fn publish_waiting(vj: &VideoJob, (reason, message): (String, String), shared: &Shared) {
    publish(vj, Note { warning: true, reason, action: "Schedule", message }, shared).await;
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
    shared: &Shared,
) -> Result<Option<Action>, Error> {
    let Some(remaining) = time_to_expiry(vj, status) else { return Ok(None) };
    if !remaining.is_zero() {
        return Ok(Some(Action::requeue(remaining)));
    }
    shared.may_write()?;
    tracing::info!(videojob = %vj.name_any(), "ttlSecondsAfterFinished passed: deleting");
    // Only this VideoJob: not a newer one of the same name.
    let this_one = Preconditions { uid: vj.uid(), resource_version: None };
    match api.delete(&vj.name_any(), &DeleteParams::background().preconditions(this_one)).await {
        Ok(_) => Ok(Some(Action::await_change())),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(Some(Action::await_change())),
        Err(e) => Err(Error::DeleteExpired(vj.name_any(), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{config, spec, videojob};
    use k8s_openapi::api::batch::v1::{JobSpec, JobStatus};

    fn job(suspend: bool, active: i32, ready: i32) -> Job {
        Job {
            spec: Some(JobSpec { suspend: Some(suspend), ..JobSpec::default() }),
            status: Some(JobStatus { active: Some(active), ready: Some(ready), ..JobStatus::default() }),
            ..Job::default()
        }
    }

    #[test]
    fn a_job_is_looked_at_again_while_its_pods_may_be_starting() {
        let vj = videojob("x", spec());
        assert!(starting(&job(false, 2, 1), &vj), "a pod not ready yet");
        assert!(starting(&job(false, 0, 0), &vj), "no pod yet");
        assert!(!starting(&job(false, 2, 2), &vj), "all running: Job events tell the rest");
        assert!(!starting(&job(true, 0, 0), &vj), "suspended: nothing starts");
    }

    #[test]
    fn a_refusal_by_the_api_server_is_waiting_and_anything_else_an_error() {
        let api_error = |code| {
            Error::ApplyJob(
                "x".into(),
                kube::Error::Api(
                    kube::core::Status::failure("exceeded quota: jobs, requested: count/jobs.batch=1", "Forbidden")
                        .with_code(code)
                        .boxed(),
                ),
            )
        };
        let mut waiting = None;
        assert!(rejected(Err(api_error(403)), &mut waiting).unwrap().is_none());
        let waiting = waiting.expect("a cause");
        assert_eq!(waiting.reason, Waiting::JOB_REJECTED);
        assert!(waiting.message.contains("exceeded quota"), "{}", waiting.message);
        assert!(rejected(Err(api_error(500)), &mut None).is_err(), "a server error is retried with backoff");
        let _ = config();
    }

    #[test]
    fn only_a_new_cause_of_waiting_is_announced() {
        let vj = videojob("x", spec());
        let now = Time("2026-11-28T10:00:00Z".parse().unwrap());
        let status = |waiting: Option<Waiting>| {
            desired_status(&vj, &VideoJobStatus::default(), &Observed { waiting, ..Observed::default() }, &now)
        };
        let quota = || Some(Waiting { reason: Waiting::JOB_REJECTED, message: "quota".into() });
        let (idle, rejected) = (status(None), status(quota()));
        assert_eq!(new_cause_of_waiting(&idle, &rejected), Some(("JobRejected".into(), "quota".into())));
        assert_eq!(new_cause_of_waiting(&rejected, &rejected), None);
        assert_eq!(new_cause_of_waiting(&rejected, &idle), None);
    }
}
