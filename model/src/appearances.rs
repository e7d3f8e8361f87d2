//! The appearance rule, shared by the detector (which makes a video's groups from its
//! tracks) and curation (which makes them again after people move tracks between groups):
//! a group's time-ordered sightings become appearances, a screen time and a confidence,
//! and the group gets an id made from its tracks' ids, which the same tracks always give
//! again (where `unknown-N` is renumbered).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::geometry::BBox;
use crate::results::{Appearance, PersonAppearances, SampleFace};

/// One face of a track in one sampled frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sighting {
    pub seconds: f64,
    pub bbox: BBox,
    /// Detection score.
    pub score: f32,
    /// Similarity to the identified person's gallery (0 for unknown faces).
    pub similarity: f32,
}

/// A sighting and the id of the track it belongs to.
pub type TrackSighting = (String, Sighting);

#[derive(Debug, Clone, Copy)]
pub struct AppearanceConfig {
    /// Each sampled face stands for this long (one sample period).
    pub sample_period_seconds: f64,
    /// Intervals of one person closer than this merge into one appearance.
    pub gap_tolerance_seconds: f64,
    /// Video length: no interval ends after it.
    pub duration_seconds: f64,
}

/// Sightings with their track's id, in time order.
pub fn sorted(sightings: impl Iterator<Item = TrackSighting>) -> Vec<TrackSighting> {
    let mut all: Vec<TrackSighting> = sightings.collect();
    all.sort_by(|(_, a), (_, b)| a.seconds.total_cmp(&b.seconds));
    all
}

/// A group's id: `c` and 12 hex digits of a hash of its tracks' ids, so the same tracks
/// always make the same id.
pub fn group_id<'a>(track_ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = track_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let digest = Sha256::digest(ids.join("\n").as_bytes());
    format!("c{}", digest.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

/// Merges time-ordered sightings into appearances; `None` when there are none.
pub fn summarize(name: String, sightings: Vec<TrackSighting>, config: &AppearanceConfig) -> Option<PersonAppearances> {
    let mut groups: Vec<Vec<TrackSighting>> = Vec::new();
    for (track, s) in sightings {
        match groups.last_mut() {
            Some(group) if s.seconds - interval_end(group, config) <= config.gap_tolerance_seconds => {
                group.push((track, s))
            }
            _ => groups.push(vec![(track, s)]),
        }
    }
    let appearances: Vec<Appearance> = groups
        .iter()
        .map(|group| {
            let (_, best) = group.iter().max_by(|(_, a), (_, b)| a.score.total_cmp(&b.score)).unwrap_or(&group[0]);
            let mut track_ids: Vec<String> = Vec::new();
            for (track, _) in group {
                if !track_ids.contains(track) {
                    track_ids.push(track.clone());
                }
            }
            Appearance {
                start_seconds: group[0].1.seconds,
                end_seconds: interval_end(group, config),
                confidence: mean(group.iter().map(|(_, s)| s.similarity)),
                faces: group.len(),
                sample: SampleFace { seconds: best.seconds, bbox: best.bbox },
                track_ids,
                crop: None,
            }
        })
        .collect();
    let first = appearances.first()?;
    Some(PersonAppearances {
        person_id: None,
        id: group_id(groups.iter().flatten().map(|(track, _)| track.as_str())),
        name,
        screen_time_seconds: appearances.iter().map(|a| a.end_seconds - a.start_seconds).sum(),
        first_seen_seconds: first.start_seconds,
        confidence: mean(groups.iter().flatten().map(|(_, s)| s.similarity)),
        decided_by: None,
        thumbnail: None,
        crops: Vec::new(),
        appearances,
    })
}

/// A group of sightings lasts until one sample period after its last sighting.
fn interval_end(group: &[TrackSighting], config: &AppearanceConfig) -> f64 {
    let last = group.last().map_or(0.0, |(_, s)| s.seconds);
    (last + config.sample_period_seconds).min(config.duration_seconds.max(last))
}

fn mean(values: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f32 }
}
