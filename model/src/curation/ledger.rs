//! The curation ledger in the `MovieEntities` table: per movie, a head (`CURATION#<movie
//! id>`, `HEAD`) whose version every action bumps (an editor's `If-Match`), one item per
//! action (`ACTION#<seq>`: who, when, what, the groups before and after), and a pointer
//! in each person's partition to the actions that named them. The API writes them in one
//! transaction and queues a [`CurationQueued`]; the curation worker reads them.
//!
//! A change names tracks of the analysis it was made on (its `job`). When the video is
//! analysed again, the worker finds each of those tracks in the new analysis by its faces
//! and keeps the answer in a [`TrackMap`] (`TRACKS#<new job>`), through which the API and
//! the worker replay the old changes on the new analysis.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Change, GroupRef};

pub fn curation_pk(movie_id: &str) -> String {
    format!("CURATION#{movie_id}")
}

pub const HEAD_SK: &str = "HEAD";

pub const ACTION_SK_PREFIX: &str = "ACTION#";

/// Zero-padded, so the actions sort by their number.
pub fn action_sk(seq: u64) -> String {
    format!("{ACTION_SK_PREFIX}{seq:010}")
}

/// A person's pointer to an action that named them, in their `PERSON#` partition.
pub fn person_action_sk(movie_id: &str, seq: u64) -> String {
    format!("CURATION#{movie_id}#{seq:010}")
}

pub const PERSON_ACTION_SK_PREFIX: &str = "CURATION#";

/// The pointer from the action that caused a system relabel (`seq`, in this movie's
/// ledger) to the relabel (`other_seq`, in `other_movie`'s): what undoing it takes back.
pub fn caused_sk(seq: u64, other_movie: &str, other_seq: u64) -> String {
    format!("{}{other_movie}#{other_seq:010}", caused_prefix(seq))
}

/// Where an action's caused relabels are.
pub fn caused_prefix(seq: u64) -> String {
    format!("CAUSED#{seq:010}#")
}

/// How far late binding has learned from a movie's actions.
pub const LEARNED_SK: &str = "LEARNED";

/// The track map of an analysis (by its job).
pub fn track_map_sk(job: &str) -> String {
    format!("TRACKS#{job}")
}

/// A movie's curation head: its version is the number of the last action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurationHead {
    pub pk: String,
    pub sk: String,
    pub version: u64,
    pub updated_at: String,
}

/// Who made an action: the identity the API stores and a name a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Editor {
    pub id: String,
    pub display_name: String,
}

/// Who makes the relabels that late binding finds: cameo itself, never a person.
pub fn system_editor() -> Editor {
    Editor { id: SYSTEM_EDITOR_ID.into(), display_name: "cameo (learned from a correction or a photo)".into() }
}

pub const SYSTEM_EDITOR_ID: &str = "cameo:late-binding";

/// An action, anywhere: the cause of a system relabel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionRef {
    pub movie_id: String,
    pub seq: u64,
}

/// Photos a person's gallery gained (given through the API, imported, or joined by a
/// merge), once the gallery checker accepted them: the cause of a system relabel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhotosRef {
    pub person_id: String,
    /// The photos' keys in the gallery's bucket.
    pub photos: Vec<String>,
}

/// What made cameo act: a person's action in a video, or photos a person's gallery gained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Cause {
    Action(ActionRef),
    Photos(PhotosRef),
}

impl Cause {
    /// The person's action, when an action caused it (its undo takes the relabel back).
    pub fn action(&self) -> Option<&ActionRef> {
        match self {
            Cause::Action(action) => Some(action),
            Cause::Photos(_) => None,
        }
    }
}

/// One action of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionItem {
    pub pk: String,
    pub sk: String,
    pub movie_id: String,
    pub seq: u64,
    /// The VideoJob whose analysis the change's tracks are of (`<namespace>/<name>`).
    #[serde(default)]
    pub job: String,
    /// The change; absent for an undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// The action this one undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<u64>,
    /// The action that undid this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<u64>,
    pub by: Editor,
    pub at: String,
    /// The groups holding the tracks it moved, before and after it.
    pub before: Vec<GroupRef>,
    pub after: Vec<GroupRef>,
    /// A system relabel's cause: the person's action (in another video, or this one)
    /// whose evidence it found here, or the photos a person's gallery gained; for the
    /// system's undo of one, that action's undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

impl ActionItem {
    /// Whether cameo made it (late binding), not a person.
    pub fn by_system(&self) -> bool {
        self.by.id == SYSTEM_EDITOR_ID
    }
}

/// The pointer from an action to a system relabel it caused (in its movie's partition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CausedItem {
    pub pk: String,
    pub sk: String,
    /// The relabel.
    pub movie_id: String,
    pub seq: u64,
}

/// How far late binding has learned from a movie's actions (its `LEARNED` item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearnedItem {
    pub pk: String,
    pub sk: String,
    pub version: u64,
}

/// A person's pointer to an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonActionItem {
    pub pk: String,
    pub sk: String,
    pub movie_id: String,
    pub seq: u64,
    pub at: String,
}

/// The message that tells the curation worker a movie's curation moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurationQueued {
    pub movie_id: String,
    /// The head's version when it was sent: the worker applies this or a later one.
    pub version: u64,
}

/// Where the tracks of earlier analyses are in a later one (`job`), found by their faces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackMap {
    pub pk: String,
    pub sk: String,
    pub job: String,
    /// By earlier job: each of its tracks that was found, and the track it is now.
    pub found: BTreeMap<String, BTreeMap<String, String>>,
    /// By earlier job: the tracks that were not found.
    pub lost: BTreeMap<String, Vec<String>>,
    pub at: String,
}

/// The changes in force: every change not undone, in the order they were made.
pub fn active_changes(actions: &[ActionItem]) -> Vec<(u64, Change)> {
    changes_on(actions, None)
}

/// The changes in force as they apply to the analysis `map` is of: the tracks of a
/// change made on an earlier analysis become those found in this one (a track not found
/// is left out). With no map, every change as it was made.
pub fn changes_on(actions: &[ActionItem], map: Option<&TrackMap>) -> Vec<(u64, Change)> {
    let mut actions: Vec<&ActionItem> = actions.iter().filter(|a| a.undone_by.is_none()).collect();
    actions.sort_by_key(|a| a.seq);
    let moved = |action: &ActionItem, change: Change| match map {
        Some(map) if map.job != action.job => {
            let found = map.found.get(&action.job);
            change.on_tracks(|track| found.and_then(|f| f.get(track)).cloned())
        }
        _ => change,
    };
    actions.iter().filter_map(|a| Some((a.seq, moved(a, a.change.clone()?)))).collect()
}
