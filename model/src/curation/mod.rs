//! Correcting a result: people name an unknown cluster, reject or reassign a match, dismiss
//! a stranger or split a mixed cluster, and can undo any of it.
//!
//! A curated document is a pure function of two things: the video's [`Analysis`] (its
//! results as the detector wrote them, and the tracks its groups are made of) and the
//! video's active [`Change`]s in the order they were made. Every change names the tracks
//! it moves (resolved from the cluster a person clicked when it was made), never a
//! cluster's label, so undoing one change is leaving it out and curating again; and the
//! API (answering the editor at once) and the curation worker (rewriting the document and
//! the table) make the same document from the same inputs.
//!
//! Groups no change touched are kept exactly as analysed; a group a change touched is
//! made again from its tracks by the detector's own appearance rule
//! ([`crate::appearances`]), with the crops its tracks showed.
//!
//! Actions are kept outside the `MOVIE#` partitions (the merge deletes what it did not
//! write there): `CURATION#<movie id>` holds a head with the version and one item per
//! action; each person touched gets a pointer in their `PERSON#` partition. None of them
//! carries a GSI key attribute.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::appearances::{AppearanceConfig, Sighting, sorted, summarize};
use crate::results::{CurationApplied, DecidedBy, GROUP_FACES, PersonAppearances, ResultsDocument};

pub mod ledger;

/// Changes only when a field's meaning changes or a field is removed.
pub const ANALYSIS_VERSION: &str = "cameo.dev/analysis/v1";

/// The file beside a results document that holds its analysis.
pub const ANALYSIS_FILE: &str = "analysis.json";

/// What curation starts from, written by the merge beside the results document: no
/// embeddings (they stay in `templates/`), only times, boxes and crop paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Analysis {
    /// Always `cameo.dev/analysis/v1` for this schema.
    pub schema_version: String,
    /// The results as analysed, before any correction.
    pub document: ResultsDocument,
    pub tracks: Vec<AnalysedTrack>,
}

/// One track of the analysis, and what curation needs to regroup it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalysedTrack {
    pub id: String,
    /// The recogniser that named it, when the analysis named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_by: Option<Recognizer>,
    /// Its faces, each with the similarity its group's confidence is made of (to the
    /// person's gallery; for an unknown track, its cluster's confidence).
    pub sightings: Vec<Sighting>,
    /// Its group's face crops that show this track, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crops: Vec<String>,
    /// Appearance crops that show this track.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appearance_crops: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Recognizer {
    Int8,
    Fp32,
}

/// A person of the registry, as a change names them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonRef {
    /// Absent for a person of a gallery folder (no registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    pub name: String,
}

/// One correction, by the tracks it moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum Change {
    /// These unknown tracks are this person.
    Name { tracks: Vec<String>, person: PersonRef },
    /// These tracks are not this person: they become one new unknown cluster.
    Reject { tracks: Vec<String>, person: PersonRef },
    /// These tracks of one person are another's.
    Reassign { tracks: Vec<String>, from: PersonRef, to: PersonRef },
    /// These unknown tracks are nobody worth listing.
    Dismiss { tracks: Vec<String> },
    /// These tracks of an unknown cluster are someone else: a new cluster.
    Split { tracks: Vec<String> },
}

impl Change {
    pub fn tracks(&self) -> &[String] {
        match self {
            Change::Name { tracks, .. }
            | Change::Reject { tracks, .. }
            | Change::Reassign { tracks, .. }
            | Change::Dismiss { tracks }
            | Change::Split { tracks } => tracks,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Change::Name { .. } => "name",
            Change::Reject { .. } => "reject",
            Change::Reassign { .. } => "reassign",
            Change::Dismiss { .. } => "dismiss",
            Change::Split { .. } => "split",
        }
    }

    /// The same change on other tracks: each of its tracks becomes what `to` says, or is
    /// left out.
    pub fn on_tracks(self, to: impl Fn(&str) -> Option<String>) -> Change {
        let moved = |tracks: Vec<String>| -> Vec<String> { tracks.iter().filter_map(|t| to(t)).collect() };
        match self {
            Change::Name { tracks, person } => Change::Name { tracks: moved(tracks), person },
            Change::Reject { tracks, person } => Change::Reject { tracks: moved(tracks), person },
            Change::Reassign { tracks, from, to: person } => {
                Change::Reassign { tracks: moved(tracks), from, to: person }
            }
            Change::Dismiss { tracks } => Change::Dismiss { tracks: moved(tracks) },
            Change::Split { tracks } => Change::Split { tracks: moved(tracks) },
        }
    }

    /// The registry people it names.
    pub fn people(&self) -> Vec<&PersonRef> {
        match self {
            Change::Name { person, .. } | Change::Reject { person, .. } => vec![person],
            Change::Reassign { from, to, .. } => vec![from, to],
            Change::Dismiss { .. } | Change::Split { .. } => vec![],
        }
    }
}

/// Why a change cannot be made (a 409 from the API; skipped, and said, by the worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

/// Who holds a track. A person is their name, as the results and the table items key
/// them (names are unique in the registry): a gallery folder's person named again through
/// the registry stays one person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Holder {
    Person(String),
    /// An unknown cluster, by a key that stays while curation goes on.
    Unknown(String),
    Dismissed(String),
}

/// A group as the audit shows it, before or after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// `person`, `unknown` or `dismissed`.
    pub kind: String,
    pub tracks: usize,
    pub screen_time_seconds: f64,
}

/// The tracks of a video and who holds each, as changes are made one by one.
#[derive(Debug, Clone)]
pub struct Curation<'a> {
    analysis: &'a Analysis,
    holders: BTreeMap<String, Holder>,
    analysed: BTreeMap<String, Holder>,
    /// Each track, and the place of its group among the analysis's (people, then unknown).
    tracks: BTreeMap<&'a str, &'a AnalysedTrack>,
    analysed_group: BTreeMap<String, usize>,
    /// The registry id of each person named, when known.
    person_ids: BTreeMap<String, String>,
}

impl<'a> Curation<'a> {
    /// The analysis as the detector left it.
    pub fn new(analysis: &'a Analysis) -> Self {
        let (mut holders, mut person_ids, mut analysed_group) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let document = &analysis.document;
        for (place, group) in document.people.iter().chain(&document.unknown).enumerate() {
            analysed_group.extend(track_ids(group).into_iter().map(|t| (t, place)));
        }
        for group in &document.people {
            if let Some(id) = &group.person_id {
                person_ids.insert(group.name.clone(), id.clone());
            }
            for track in track_ids(group) {
                holders.insert(track, Holder::Person(group.name.clone()));
            }
        }
        for group in document.unknown.iter() {
            for track in track_ids(group) {
                holders.insert(track, Holder::Unknown(group.id.clone()));
            }
        }
        let tracks = analysis.tracks.iter().map(|t| (t.id.as_str(), t)).collect();
        Curation { analysis, analysed: holders.clone(), holders, tracks, analysed_group, person_ids }
    }

    /// The analysis with `changes` made in order; a change that cannot be made is left
    /// out, with its refusal returned beside its sequence number.
    pub fn replay(analysis: &'a Analysis, changes: &[(u64, Change)]) -> (Self, Vec<(u64, Refusal)>) {
        let mut curation = Curation::new(analysis);
        let mut refused = Vec::new();
        for (seq, change) in changes {
            if let Err(refusal) = curation.make(*seq, change) {
                refused.push((*seq, refusal));
            }
        }
        (curation, refused)
    }

    /// Makes one change (numbered `seq`), or says why it cannot be made.
    pub fn make(&mut self, seq: u64, change: &Change) -> Result<(), Refusal> {
        let tracks = change.tracks();
        if tracks.is_empty() {
            return Err(refuse("no_tracks", "none of its faces is in this analysis"));
        }
        if let Some(missing) = tracks.iter().find(|t| !self.holders.contains_key(*t)) {
            return Err(refuse("unknown_track", format!("track {missing} is not in this video's analysis")));
        }
        let held: BTreeSet<&Holder> = tracks.iter().map(|t| &self.holders[t]).collect();
        let one_unknown = || match held.iter().next() {
            Some(Holder::Unknown(key)) if held.len() == 1 => Ok(key.clone()),
            _ => Err(refuse("not_unknown", "the tracks must be of one unknown cluster")),
        };
        let all_theirs = |person: &PersonRef| held.len() == 1 && held.contains(&Holder::Person(person.name.clone()));
        let all_of = |person: &PersonRef| match all_theirs(person) {
            true => Ok(()),
            false => Err(refuse("not_this_person", format!("the tracks are not all named {}", person.name))),
        };
        // Made already (a change replayed on a new analysis where the detector agrees):
        // nothing to do.
        let already = match change {
            Change::Name { person, .. } | Change::Reassign { to: person, .. } => all_theirs(person),
            Change::Reject { person, .. } => !held.contains(&Holder::Person(person.name.clone())),
            Change::Dismiss { .. } => held.iter().all(|h| matches!(h, Holder::Dismissed(_))),
            Change::Split { .. } => false,
        };
        if already {
            return Ok(());
        }
        let holder = match change {
            Change::Name { person, .. } => {
                one_unknown()?;
                self.no_clash(tracks, person)?;
                self.known_as(person)
            }
            Change::Reject { person, .. } => {
                all_of(person)?;
                Holder::Unknown(format!("rejected-{seq}"))
            }
            Change::Reassign { from, to, .. } => {
                all_of(from)?;
                if from.name == to.name {
                    return Err(refuse("same_person", "a reassignment needs another person"));
                }
                self.no_clash(tracks, to)?;
                self.known_as(to)
            }
            Change::Dismiss { .. } => Holder::Dismissed(one_unknown()?),
            Change::Split { .. } => {
                let key = one_unknown()?;
                let members = self.holders.values().filter(|h| **h == Holder::Unknown(key.clone())).count();
                if members == tracks.len() {
                    return Err(refuse("whole_cluster", "a split must leave some tracks in the cluster"));
                }
                Holder::Unknown(format!("split-{seq}"))
            }
        };
        for track in tracks {
            self.holders.insert(track.clone(), holder.clone());
        }
        Ok(())
    }

    /// The holder that is `person`, whose registry id is remembered.
    fn known_as(&mut self, person: &PersonRef) -> Holder {
        if let Some(id) = &person.person_id {
            self.person_ids.insert(person.name.clone(), id.clone());
        }
        Holder::Person(person.name.clone())
    }

    /// One face is one person at a time: `tracks` may not be named after `person` while
    /// another of their tracks is seen in one of the same frames.
    fn no_clash(&self, tracks: &[String], person: &PersonRef) -> Result<(), Refusal> {
        let seconds = |id: &str| -> BTreeSet<u64> {
            self.track(id).map(|t| t.sightings.iter().map(|s| s.seconds.to_bits()).collect()).unwrap_or_default()
        };
        let moving: BTreeSet<u64> = tracks.iter().flat_map(|t| seconds(t)).collect();
        let theirs = self
            .holders
            .iter()
            .filter(|(id, h)| **h == Holder::Person(person.name.clone()) && !tracks.contains(id))
            .map(|(id, _)| id);
        for id in theirs {
            if let Some(at) = seconds(id).intersection(&moving).next() {
                return Err(refuse(
                    "on_screen_together",
                    format!(
                        "{} is already on screen at {:.1} s: one face is one person at a time",
                        person.name,
                        f64::from_bits(*at)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn track(&self, id: &str) -> Option<&'a AnalysedTrack> {
        self.tracks.get(id).copied()
    }

    /// The groups that hold any of `tracks` now.
    pub fn groups_of(&self, tracks: &[String]) -> Vec<GroupRef> {
        let document = self.document(None);
        let mut groups = Vec::new();
        for (kind, group) in kinds(&document) {
            let members = track_ids(group);
            if members.iter().any(|t| tracks.contains(t)) {
                groups.push(GroupRef::of(kind, group, members.len()));
            }
        }
        groups
    }

    /// The results document: groups no change touched as analysed, the others made again
    /// from their tracks; `version` is the curation version it includes.
    pub fn document(&self, version: Option<u64>) -> ResultsDocument {
        let analysed = &self.analysis.document;
        let config = AppearanceConfig {
            sample_period_seconds: 1.0 / analysed.video.sampled_fps,
            gap_tolerance_seconds: analysed.parameters.gap_tolerance_seconds,
            duration_seconds: analysed.video.duration_seconds,
        };
        let mut members: BTreeMap<&Holder, Vec<&str>> = BTreeMap::new();
        for (track, holder) in &self.holders {
            members.entry(holder).or_default().push(track);
        }
        let mut analysed_sizes: BTreeMap<&Holder, usize> = BTreeMap::new();
        for holder in self.analysed.values() {
            *analysed_sizes.entry(holder).or_default() += 1;
        }
        let (mut people, mut unknown, mut dismissed) = (Vec::new(), Vec::new(), Vec::new());
        for (holder, tracks) in members {
            let untouched = tracks.iter().all(|t| self.analysed.get(*t) == Some(holder))
                && analysed_sizes.get(holder) == Some(&tracks.len());
            let kept = untouched.then(|| self.analysed_group(tracks[0])).flatten();
            let Some(group) = kept.or_else(|| self.regroup(holder, &tracks, &config)) else {
                continue;
            };
            match holder {
                Holder::Person(_) => people.push(group),
                Holder::Unknown(_) => unknown.push(group),
                Holder::Dismissed(_) => dismissed.push(group),
            }
        }
        // Groups first seen together keep the analysis's order (its clustering's).
        let analysed_order = |g: &PersonAppearances| {
            let places = g.appearances.iter().flat_map(|a| &a.track_ids).filter_map(|t| self.analysed_group.get(t));
            places.min().copied().unwrap_or(usize::MAX)
        };
        let by_first_seen = |a: &PersonAppearances, b: &PersonAppearances| {
            a.first_seen_seconds
                .total_cmp(&b.first_seen_seconds)
                .then_with(|| analysed_order(a).cmp(&analysed_order(b)))
                .then_with(|| a.id.cmp(&b.id))
        };
        for (list, prefix) in
            [(&mut people, None), (&mut unknown, Some("unknown")), (&mut dismissed, Some("dismissed"))]
        {
            list.sort_by(by_first_seen);
            if let Some(prefix) = prefix {
                for (n, group) in list.iter_mut().enumerate() {
                    group.name = format!("{prefix}-{}", n + 1);
                }
            }
        }
        ResultsDocument {
            people,
            unknown,
            dismissed,
            curation: version.map(|version| CurationApplied { version }),
            ..analysed.clone()
        }
    }

    /// The analysed group that holds `track`.
    fn analysed_group(&self, track: &str) -> Option<PersonAppearances> {
        let document = &self.analysis.document;
        let place = *self.analysed_group.get(track)?;
        document.people.iter().chain(&document.unknown).nth(place).cloned()
    }

    /// A group made again from its tracks.
    fn regroup(&self, holder: &Holder, ids: &[&str], config: &AppearanceConfig) -> Option<PersonAppearances> {
        let tracks: Vec<&AnalysedTrack> = ids.iter().filter_map(|id| self.track(id)).collect();
        let name = match holder {
            Holder::Person(name) => name.clone(),
            Holder::Unknown(_) | Holder::Dismissed(_) => String::new(),
        };
        let sightings = sorted(tracks.iter().flat_map(|t| t.sightings.iter().map(|s| (t.id.clone(), *s))));
        let mut group = summarize(name, sightings, config)?;
        if let Holder::Person(name) = holder {
            group.person_id = self.person_ids.get(name).cloned();
            let mut decided = DecidedBy::default();
            for track in &tracks {
                match (self.analysed.get(&track.id) == Some(holder), track.named_by) {
                    (true, Some(Recognizer::Int8)) => decided.int8_tracks += 1,
                    (true, Some(Recognizer::Fp32)) => decided.fp32_tracks += 1,
                    _ => decided.curated_tracks += 1,
                }
            }
            group.decided_by = Some(decided);
        }
        // The longest-seen tracks' faces first: they show the group best.
        let mut by_time = tracks.clone();
        let seen = |t: &AnalysedTrack| t.sightings.len();
        by_time.sort_by(|a, b| seen(b).cmp(&seen(a)).then_with(|| a.id.cmp(&b.id)));
        group.crops = by_time.iter().flat_map(|t| t.crops.iter().cloned()).take(GROUP_FACES).collect();
        group.thumbnail = group.crops.first().cloned();
        for appearance in &mut group.appearances {
            appearance.crop = appearance
                .track_ids
                .iter()
                .filter_map(|id| self.track(id))
                .find_map(|t| t.appearance_crops.first().cloned());
        }
        Some(group)
    }
}

/// What undoing change `seq` moves: the groups holding its tracks with `changes` in force,
/// and with it left out.
pub fn undo_moves(analysis: &Analysis, changes: &[(u64, Change)], seq: u64) -> (Vec<GroupRef>, Vec<GroupRef>) {
    let tracks = changes.iter().find(|(s, _)| *s == seq).map_or_else(Vec::new, |(_, c)| c.tracks().to_vec());
    let before = Curation::replay(analysis, changes).0.groups_of(&tracks);
    let remaining: Vec<(u64, Change)> = changes.iter().filter(|(s, _)| *s != seq).cloned().collect();
    let after = Curation::replay(analysis, &remaining).0.groups_of(&tracks);
    (before, after)
}

/// Every group of a document with its kind: `person`, `unknown` or `dismissed`.
fn kinds(document: &ResultsDocument) -> impl Iterator<Item = (&'static str, &PersonAppearances)> {
    let people = document.people.iter().map(|g| ("person", g));
    people
        .chain(document.unknown.iter().map(|g| ("unknown", g)))
        .chain(document.dismissed.iter().map(|g| ("dismissed", g)))
}

impl GroupRef {
    fn of(kind: &str, group: &PersonAppearances, tracks: usize) -> GroupRef {
        GroupRef {
            id: group.id.clone(),
            name: group.name.clone(),
            person_id: group.person_id.clone(),
            kind: kind.into(),
            tracks,
            screen_time_seconds: group.screen_time_seconds,
        }
    }
}

/// Every track of a group.
pub fn track_ids(group: &PersonAppearances) -> Vec<String> {
    let mut ids: Vec<String> = group.appearances.iter().flat_map(|a| a.track_ids.iter().cloned()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// What an editor points at: a group of the document they see, and optionally some of its
/// tracks (an appearance is its `trackIds`).
pub fn resolve(
    document: &ResultsDocument,
    group_id: &str,
    tracks: &[String],
) -> Result<(GroupRef, Vec<String>), Refusal> {
    let found = kinds(document).find(|(_, g)| g.id == group_id);
    let Some((kind, group)) = found else {
        return Err(refuse(
            "no_such_cluster",
            format!("the video has no cluster {group_id} (it may have changed: read the result again)"),
        ));
    };
    let members = track_ids(group);
    if let Some(stranger) = tracks.iter().find(|t| !members.contains(t)) {
        return Err(refuse("no_such_track", format!("track {stranger} is not in cluster {group_id}")));
    }
    let chosen = if tracks.is_empty() { members.clone() } else { tracks.to_vec() };
    Ok((GroupRef::of(kind, group, members.len()), chosen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appearances::group_id;
    use crate::curation::ledger::{ActionItem, Editor, action_sk, active_changes};
    use crate::geometry::BBox;

    const CONFIG: AppearanceConfig =
        AppearanceConfig { sample_period_seconds: 0.5, gap_tolerance_seconds: 1.5, duration_seconds: 60.0 };

    fn track(id: &str, seconds: std::ops::Range<u32>, named: bool) -> AnalysedTrack {
        AnalysedTrack {
            id: id.into(),
            named_by: named.then_some(Recognizer::Int8),
            sightings: seconds
                .map(|s| Sighting { seconds: f64::from(s), bbox: BBox::default(), score: 0.9, similarity: 0.6 })
                .collect(),
            crops: vec![format!("faces/{id}/face-1.jpg")],
            appearance_crops: vec![format!("faces/{id}/appearance-1.jpg")],
        }
    }

    fn group(name: &str, tracks: &[&AnalysedTrack]) -> PersonAppearances {
        let sightings = sorted(tracks.iter().flat_map(|t| t.sightings.iter().map(|s| (t.id.clone(), *s))));
        let mut group = summarize(name.into(), sightings, &CONFIG).unwrap();
        group.person_id = (!name.starts_with("unknown")).then(|| format!("id-{name}"));
        group
    }

    /// Ada in t1 (0-4 s) and t2 (20-24 s); one stranger in t3 (10-14 s) and t4 (30-34 s),
    /// a second in t5 (2-4 s, on screen with Ada).
    fn analysis() -> Analysis {
        let tracks = vec![
            track("t1", 0..5, true),
            track("t2", 20..25, true),
            track("t3", 10..15, false),
            track("t4", 30..35, false),
            track("t5", 2..5, false),
        ];
        let mut document = crate::exports::fixtures::document(25.0, 60.0);
        document.people = vec![group("Ada", &[&tracks[0], &tracks[1]])];
        document.unknown = vec![group("unknown-1", &[&tracks[4]]), group("unknown-2", &[&tracks[2], &tracks[3]])];
        Analysis { schema_version: ANALYSIS_VERSION.into(), document, tracks }
    }

    fn ada() -> PersonRef {
        PersonRef { person_id: Some("id-Ada".into()), name: "Ada".into() }
    }

    fn bea() -> PersonRef {
        PersonRef { person_id: Some("id-Bea".into()), name: "Bea".into() }
    }

    fn tracks(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    /// Action `seq` of job `job`, in force.
    fn action(seq: u64, job: &str, change: Option<Change>) -> ActionItem {
        ActionItem {
            pk: "CURATION#m".into(),
            sk: action_sk(seq),
            movie_id: "m".into(),
            seq,
            job: job.into(),
            change,
            undoes: None,
            undone_by: None,
            by: Editor { id: "jwt:x|u".into(), display_name: "u".into() },
            at: "2026-12-05T10:00:00Z".into(),
            before: vec![],
            after: vec![],
            cause: None,
        }
    }

    fn names(groups: &[PersonAppearances]) -> Vec<(String, Vec<String>)> {
        groups.iter().map(|g| (g.name.clone(), track_ids(g))).collect()
    }

    #[test]
    fn with_no_change_the_document_is_the_analysis() {
        let analysis = analysis();
        assert_eq!(Curation::new(&analysis).document(None), analysis.document);
    }

    #[test]
    fn naming_a_cluster_after_someone_on_screen_elsewhere_joins_their_group() {
        let analysis = analysis();
        let (curation, refused) =
            Curation::replay(&analysis, &[(1, Change::Name { tracks: tracks(&["t3", "t4"]), person: ada() })]);
        assert!(refused.is_empty(), "{refused:?}");
        let document = curation.document(Some(1));
        assert_eq!(names(&document.people), vec![("Ada".into(), tracks(&["t1", "t2", "t3", "t4"]))]);
        let ada = &document.people[0];
        assert_eq!(ada.id, group_id(["t1", "t2", "t3", "t4"]));
        assert_eq!(ada.person_id.as_deref(), Some("id-Ada"));
        assert_eq!(ada.decided_by, Some(DecidedBy { int8_tracks: 2, fp32_tracks: 0, curated_tracks: 2 }));
        assert_eq!(ada.appearances.len(), 4);
        assert_eq!(ada.screen_time_seconds, 4.0 * 4.5, "four tracks of five faces a second apart");
        assert_eq!(ada.appearances[1].crop.as_deref(), Some("faces/t3/appearance-1.jpg"));
        assert_eq!(ada.crops.len(), 4);
        assert_eq!(names(&document.unknown), vec![("unknown-1".into(), tracks(&["t5"]))]);
        assert_eq!(document.curation, Some(CurationApplied { version: 1 }));
    }

    #[test]
    fn one_face_is_one_person_at_a_time() {
        let analysis = analysis();
        let mut curation = Curation::new(&analysis);
        let refusal = curation.make(1, &Change::Name { tracks: tracks(&["t5"]), person: ada() }).unwrap_err();
        assert_eq!(refusal.code, "on_screen_together");
        assert!(refusal.message.contains("2.0 s"), "{}", refusal.message);
        assert_eq!(curation.document(None), analysis.document, "a refused change changes nothing");
        curation.make(2, &Change::Name { tracks: tracks(&["t5"]), person: bea() }).unwrap();
        let refusal =
            curation.make(3, &Change::Reassign { tracks: tracks(&["t1"]), from: ada(), to: bea() }).unwrap_err();
        assert_eq!(refusal.code, "on_screen_together");
    }

    #[test]
    fn a_folder_gallerys_person_named_through_the_registry_stays_one_person() {
        let mut analysis = analysis();
        analysis.document.people[0].person_id = None;
        let mut curation = Curation::new(&analysis);
        curation.make(1, &Change::Name { tracks: tracks(&["t3", "t4"]), person: ada() }).unwrap();
        let document = curation.document(Some(1));
        assert_eq!(names(&document.people), vec![("Ada".into(), tracks(&["t1", "t2", "t3", "t4"]))]);
        assert_eq!(document.people[0].person_id.as_deref(), Some("id-Ada"), "the registry's id is learned");
        let refusal = curation.make(2, &Change::Name { tracks: tracks(&["t5"]), person: ada() }).unwrap_err();
        assert_eq!(refusal.code, "on_screen_together");
    }

    #[test]
    fn a_rejected_track_becomes_a_new_unknown_cluster_and_the_person_keeps_the_rest() {
        let analysis = analysis();
        let mut curation = Curation::new(&analysis);
        curation.make(1, &Change::Reject { tracks: tracks(&["t2"]), person: ada() }).unwrap();
        let document = curation.document(Some(1));
        assert_eq!(names(&document.people), vec![("Ada".into(), tracks(&["t1"]))]);
        assert_eq!(
            names(&document.unknown),
            vec![
                ("unknown-1".into(), tracks(&["t5"])),
                ("unknown-2".into(), tracks(&["t3", "t4"])),
                ("unknown-3".into(), tracks(&["t2"]))
            ]
        );
        assert_eq!(document.unknown[2].decided_by, None);
        // Only what Ada holds can be rejected from her.
        let mixed = Change::Reject { tracks: tracks(&["t1", "t2"]), person: ada() };
        assert_eq!(curation.make(2, &mixed).unwrap_err().code, "not_this_person");
        // Made again (replayed where the detector agrees already): nothing to do.
        let before = curation.document(None);
        curation.make(3, &Change::Reject { tracks: tracks(&["t2"]), person: ada() }).unwrap();
        curation.make(4, &Change::Name { tracks: tracks(&["t1"]), person: ada() }).unwrap();
        assert_eq!(curation.document(None), before);
    }

    #[test]
    fn a_reassigned_track_moves_in_one_change() {
        let analysis = analysis();
        let mut curation = Curation::new(&analysis);
        curation.make(1, &Change::Reassign { tracks: tracks(&["t2"]), from: ada(), to: bea() }).unwrap();
        let document = curation.document(Some(1));
        assert_eq!(names(&document.people), vec![("Ada".into(), tracks(&["t1"])), ("Bea".into(), tracks(&["t2"]))]);
        assert_eq!(document.people[1].decided_by.unwrap().curated_tracks, 1);
    }

    #[test]
    fn a_dismissed_cluster_is_kept_apart_and_a_split_leaves_part_of_one() {
        let analysis = analysis();
        let mut curation = Curation::new(&analysis);
        curation.make(1, &Change::Split { tracks: tracks(&["t4"]) }).unwrap();
        curation.make(2, &Change::Dismiss { tracks: tracks(&["t5"]) }).unwrap();
        let document = curation.document(Some(2));
        assert_eq!(
            names(&document.unknown),
            vec![("unknown-1".into(), tracks(&["t3"])), ("unknown-2".into(), tracks(&["t4"]))]
        );
        assert_eq!(names(&document.dismissed), vec![("dismissed-1".into(), tracks(&["t5"]))]);
        assert_eq!(curation.make(3, &Change::Split { tracks: tracks(&["t3"]) }).unwrap_err().code, "whole_cluster");
        assert_eq!(curation.make(4, &Change::Split { tracks: tracks(&["t3", "t5"]) }).unwrap_err().code, "not_unknown");
        assert_eq!(curation.make(5, &Change::Dismiss { tracks: tracks(&["t9"]) }).unwrap_err().code, "unknown_track");
    }

    #[test]
    fn undoing_a_change_leaves_it_out_and_what_depended_on_it_no_longer_applies() {
        let analysis = analysis();
        let action =
            |seq, change, undoes, undone_by| ActionItem { undoes, undone_by, ..action(seq, "media/a", change) };
        // t2 is not Ada; then it is named Bea; then the first is undone.
        let ledger = vec![
            action(1, Some(Change::Reject { tracks: tracks(&["t2"]), person: ada() }), None, Some(3)),
            action(2, Some(Change::Name { tracks: tracks(&["t2"]), person: bea() }), None, None),
            action(3, None, Some(1), None),
        ];
        let changes = active_changes(&ledger);
        assert_eq!(changes.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![2]);
        let (curation, refused) = Curation::replay(&analysis, &changes);
        assert_eq!(refused.iter().map(|(seq, r)| (*seq, r.code)).collect::<Vec<_>>(), vec![(2, "not_unknown")]);
        assert_eq!(curation.document(None), analysis.document);
    }

    #[test]
    fn a_change_made_on_an_earlier_analysis_applies_to_the_tracks_found_again() {
        use crate::curation::ledger::{TrackMap, changes_on};
        let made = |job: &str| action(1, job, Some(Change::Dismiss { tracks: tracks(&["old-1", "old-2"]) }));
        let map = TrackMap {
            job: "media/b".into(),
            found: [("media/a".to_string(), [("old-1".to_string(), "t5".to_string())].into())].into(),
            lost: [("media/a".to_string(), vec!["old-2".to_string()])].into(),
            ..TrackMap::default()
        };
        let on = |action: ActionItem| changes_on(&[action], Some(&map)).remove(0).1;
        assert_eq!(on(made("media/a")), Change::Dismiss { tracks: tracks(&["t5"]) }, "what was found, no more");
        assert_eq!(on(made("media/b")), Change::Dismiss { tracks: tracks(&["old-1", "old-2"]) }, "made on this one");
        assert_eq!(on(made("media/c")), Change::Dismiss { tracks: vec![] }, "an analysis not looked in");
        let (_, refused) = Curation::replay(&analysis(), &[(1, Change::Dismiss { tracks: vec![] })]);
        assert_eq!(refused[0].1.code, "no_tracks");
    }

    #[test]
    fn an_editor_points_at_a_cluster_or_some_of_its_tracks() {
        let document = analysis().document;
        let cluster = document.unknown[1].id.clone();
        let (group, chosen) = resolve(&document, &cluster, &[]).unwrap();
        assert_eq!((group.kind.as_str(), chosen), ("unknown", tracks(&["t3", "t4"])));
        assert_eq!(resolve(&document, &cluster, &tracks(&["t4"])).unwrap().1, tracks(&["t4"]));
        assert_eq!(resolve(&document, &cluster, &tracks(&["t1"])).unwrap_err().code, "no_such_track");
        assert_eq!(resolve(&document, "c000000000000", &[]).unwrap_err().code, "no_such_cluster");
    }
}
