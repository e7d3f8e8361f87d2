//! Events about VideoJobs (events.k8s.io/v1). The controller publishes each transition
//! once (it remembers its own status writes), so unlike kube's `Recorder` this keeps no
//! cache of past events to fold repeats into series: at 10,000 VideoJobs that cache held
//! every Event for minutes and was scanned on every publish.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::{Client, Resource};

use crate::crd::VideoJob;

/// The reporting controller of every Event.
pub const CONTROLLER: &str = "cameo-operator";

/// One Event's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub warning: bool,
    /// CamelCase, what happened.
    pub reason: String,
    /// CamelCase, what the operator was doing.
    pub action: &'static str,
    /// For people; at most 1 kB is kept.
    pub message: String,
}

pub struct Publisher {
    client: Client,
    instance: String,
}

impl Publisher {
    /// Events reported by this replica, `instance` (its pod's name).
    pub fn new(client: Client, instance: &str) -> Self {
        Publisher { client, instance: instance.into() }
    }

    pub async fn publish(&self, vj: &VideoJob, note: &Note) -> Result<(), kube::Error> {
        let regarding = vj.object_ref(&());
        let api: Api<Event> = Api::namespaced(self.client.clone(), regarding.namespace.as_deref().unwrap_or("default"));
        api.create(&PostParams::default(), &event(regarding, &self.instance, note, Timestamp::now())).await.map(|_| ())
    }
}

/// The Event of `note` about `regarding`, at `now`, named `<regarding>.<time in hex>` as
/// client-go names them (the API refuses a `generateName` ending in a dot).
fn event(regarding: ObjectReference, instance: &str, note: &Note, now: Timestamp) -> Event {
    let prefix: String = regarding.name.as_deref().unwrap_or(CONTROLLER).chars().take(220).collect();
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{prefix}.{:x}", now.as_nanosecond())),
            namespace: regarding.namespace.clone(),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(now)),
        type_: Some(if note.warning { "Warning" } else { "Normal" }.into()),
        reason: Some(note.reason.clone()),
        action: Some(note.action.into()),
        note: Some(note.message.chars().take(1000).collect()),
        reporting_controller: Some(CONTROLLER.into()),
        reporting_instance: Some(instance.into()),
        regarding: Some(regarding),
        ..Event::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{spec, videojob};

    #[test]
    fn an_event_names_its_videojob_reporter_and_reason_within_the_apis_limits() {
        let vj = videojob(&"x".repeat(253), spec());
        let note = Note { warning: true, reason: "JobRejected".into(), action: "Reconcile", message: "q".repeat(5000) };
        let now: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let event = event(vj.object_ref(&()), "cameo-7d9f-abcde", &note, now);
        assert_eq!((event.type_.as_deref(), event.reason.as_deref()), (Some("Warning"), Some("JobRejected")));
        assert_eq!(event.reporting_instance.as_deref(), Some("cameo-7d9f-abcde"));
        let regarding = event.regarding.unwrap();
        assert_eq!((regarding.kind.as_deref(), regarding.namespace.as_deref()), (Some("VideoJob"), Some("media")));
        let name = event.metadata.name.unwrap();
        assert!(name.len() <= 253 && name.starts_with("xxx") && name.ends_with(&format!(".{:x}", now.as_nanosecond())));
        assert_eq!(event.note.unwrap().len(), 1000);
        assert_eq!(event.event_time, Some(MicroTime(now)));
    }
}
