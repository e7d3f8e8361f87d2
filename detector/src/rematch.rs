//! Finding a video's tracks again in a later analysis of it, so that the corrections
//! people made on the earlier one apply to the later (track ids change with the sampling
//! rate, the models or the parameters). An earlier track is found in the later track on
//! screen at the same time that a strict majority of its faces match under the detector's
//! per-face rule (the threshold and the margin, [`crate::identify::match_embedding`]), on
//! the fp32 embeddings of their crops; a track without crops (a group shows five faces
//! at most) is found where its faces are: the later track with most sightings at the same
//! moment and place.

use std::collections::BTreeMap;

use cameo_model::curation::Analysis;
use cameo_model::templates::TemplatesDocument;

use crate::embed::Embedding;
use crate::identify::{EnrolledPerson, MatchConfig, majority, match_embedding};
use crate::results::SampleFace;

/// Seconds two tracks of one video may be apart and still be on screen at the same time:
/// more than a sample period at the rates in use.
const SAME_TIME_SECONDS: f64 = 1.0;

/// Two sightings at the same moment (within half this) and place (at least this IoU) are
/// one face.
const SAME_MOMENT_SECONDS: f64 = 0.5;
const SAME_PLACE_MIN_IOU: f32 = 0.5;

/// A track as rematching sees it.
#[derive(Debug, Clone)]
pub struct TrackFaces {
    pub id: String,
    pub first: f64,
    pub last: f64,
    pub sightings: Vec<SampleFace>,
    /// The fp32 embeddings of its crops.
    pub embeddings: Vec<Embedding>,
}

/// The tracks of an analysis with the embeddings of their crops from its templates.
pub fn track_faces(analysis: &Analysis, templates: &TemplatesDocument) -> Vec<TrackFaces> {
    let embedded: Vec<_> = templates.groups.iter().flat_map(|g| &g.embeddings).collect();
    analysis
        .tracks
        .iter()
        .map(|track| TrackFaces {
            id: track.id.clone(),
            first: track.sightings.first().map_or(0.0, |s| s.seconds),
            last: track.sightings.last().map_or(0.0, |s| s.seconds),
            sightings: track.sightings.iter().map(|s| SampleFace { seconds: s.seconds, bbox: s.bbox }).collect(),
            embeddings: embedded
                .iter()
                .filter(|e| track.crops.contains(&e.crop))
                .map(|e| Embedding(e.embedding.clone()))
                .collect(),
        })
        .collect()
}

/// Where each of the `earlier` tracks is among the `later`: found (earlier id, later id),
/// and the ids of those not found.
pub fn rematch(
    earlier: &[TrackFaces],
    later: &[TrackFaces],
    rule: &MatchConfig,
) -> (BTreeMap<String, String>, Vec<String>) {
    let (mut found, mut lost) = (BTreeMap::new(), Vec::new());
    for track in earlier {
        let candidates: Vec<&TrackFaces> = later
            .iter()
            .filter(|l| l.first <= track.last + SAME_TIME_SECONDS && l.last >= track.first - SAME_TIME_SECONDS)
            .collect();
        let by_faces = || {
            let gallery: Vec<EnrolledPerson> =
                candidates.iter().map(|c| EnrolledPerson::new(c.id.clone(), c.embeddings.clone())).collect();
            let verdicts = track.embeddings.iter().map(|e| match_embedding(e, &gallery, rule));
            majority(verdicts).flatten().map(|i| gallery[i].name.clone())
        };
        let by_place = || {
            let shared = |c: &TrackFaces| {
                let same = |a: &SampleFace, b: &SampleFace| {
                    (a.seconds - b.seconds).abs() <= SAME_MOMENT_SECONDS / 2.0
                        && a.bbox.iou(&b.bbox) >= SAME_PLACE_MIN_IOU
                };
                track.sightings.iter().filter(|s| c.sightings.iter().any(|t| same(s, t))).count()
            };
            let mut counted: Vec<(usize, &str)> = candidates.iter().map(|c| (shared(c), c.id.as_str())).collect();
            counted.sort_by_key(|(shared, _)| std::cmp::Reverse(*shared));
            match counted.as_slice() {
                [(best, id), rest @ ..] if *best > 0 && rest.first().is_none_or(|(next, _)| next < best) => {
                    Some(id.to_string())
                }
                _ => None,
            }
        };
        let with_faces = !track.embeddings.is_empty() && candidates.iter().any(|c| !c.embeddings.is_empty());
        match if with_faces { by_faces() } else { by_place() } {
            Some(id) => {
                found.insert(track.id.clone(), id);
            }
            None => lost.push(track.id.clone()),
        }
    }
    (found, lost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::unit;
    use crate::geometry::BBox;

    const RULE: MatchConfig = MatchConfig { threshold: 0.363, margin: 0.05 };

    fn track(id: &str, seconds: std::ops::Range<u32>, x: f32, angles: &[f32]) -> TrackFaces {
        let bbox = BBox { x, y: 100.0, width: 80.0, height: 80.0 };
        TrackFaces {
            id: id.into(),
            first: f64::from(seconds.start),
            last: f64::from(seconds.end - 1),
            sightings: seconds.map(|s| SampleFace { seconds: f64::from(s), bbox }).collect(),
            embeddings: angles.iter().map(|&a| unit(a)).collect(),
        }
    }

    #[test]
    fn a_track_is_found_again_by_its_faces_among_those_on_screen_with_it() {
        // Two people on screen together, and the first again later: the same faces, other ids.
        let earlier = [track("a", 0..5, 100.0, &[0.0, 5.0]), track("b", 0..5, 600.0, &[90.0, 92.0])];
        let later =
            [track("x", 0..5, 600.0, &[91.0]), track("y", 0..5, 100.0, &[3.0]), track("z", 20..25, 100.0, &[1.0])];
        let (found, lost) = rematch(&earlier, &later, &RULE);
        assert_eq!(found, BTreeMap::from([("a".into(), "y".into()), ("b".into(), "x".into())]));
        assert!(lost.is_empty());
    }

    #[test]
    fn a_face_too_close_to_two_tracks_or_to_none_is_lost() {
        let earlier = [track("a", 0..5, 100.0, &[45.0]), track("b", 0..5, 600.0, &[170.0])];
        let later = [track("x", 0..5, 100.0, &[0.0]), track("y", 0..5, 600.0, &[90.0])];
        let (found, lost) = rematch(&earlier, &later, &RULE);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(lost, vec!["a", "b"]);
    }

    #[test]
    fn a_track_without_crops_is_found_where_its_faces_are() {
        let earlier = [track("a", 0..5, 100.0, &[]), track("b", 10..12, 100.0, &[])];
        let later = [track("x", 0..5, 600.0, &[0.0]), track("y", 1..4, 110.0, &[0.0])];
        let (found, lost) = rematch(&earlier, &later, &RULE);
        assert_eq!(found, BTreeMap::from([("a".into(), "y".into())]));
        assert_eq!(lost, vec!["b"], "nothing on screen then");
    }
}
