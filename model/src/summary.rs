//! A finished analysis in a few lines: what the merge pod leaves as its termination
//! message (at most 4 KiB) and the operator copies into `VideoJob.status.result`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultSummary {
    /// The full results document.
    pub uri: String,
    pub actors_found: i32,
    /// The people with the most screen time, as many as fit.
    pub actors: Vec<ActorSummary>,
    /// Gallery photos that could not be used (the results' `gallery.skipped` says which and why).
    #[serde(default)]
    pub gallery_skipped: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActorSummary {
    pub name: String,
    pub screen_time_seconds: f64,
    pub appearances: i32,
    pub first_seen_seconds: f64,
    pub confidence: f64,
}
