//! The candidate face crops of a shard: a shard cannot know which of its tracks' best
//! faces will show a group of the whole video, so it writes all of them, in one object
//! under `candidates/<job>/` (a lifecycle rule expires that prefix), and the merge picks
//! the winners ([`crate::faces::choose`]). Their scores are in the shard document (each
//! track's evidence); this holds the JPEGs by face id.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::faces::FaceCrops;
use crate::identify::IdentifiedTrack;

pub const CANDIDATES_SCHEMA_VERSION: &str = "cameo.dev/candidates/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateCrops {
    pub schema_version: String,
    /// Base64 JPEG by face id.
    pub crops: BTreeMap<String, String>,
}

impl CandidateCrops {
    /// The crops of the best faces of `tracks` that `crops` holds.
    pub fn of(tracks: &[IdentifiedTrack], crops: &FaceCrops) -> Self {
        let faces = tracks.iter().flat_map(|t| &t.evidence.faces).map(|f| f.face_id());
        let crops = faces.filter_map(|id| Some((id.clone(), STANDARD.encode(crops.get(&id)?)))).collect();
        CandidateCrops { schema_version: CANDIDATES_SCHEMA_VERSION.into(), crops }
    }

    /// Adds these crops to `into`; a crop that is not base64 is left out.
    pub fn add_to(self, into: &mut FaceCrops) {
        for (id, encoded) in self.crops {
            if let Ok(jpeg) = STANDARD.decode(encoded) {
                into.insert(id, jpeg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::BBox;
    use crate::identify::{Evidence, FaceVerdict, Sighting};
    use crate::models::Precision;

    #[test]
    fn a_shards_candidates_are_its_tracks_best_faces_and_come_back_as_they_went() {
        let face = |seconds: f64| FaceVerdict {
            seconds,
            bbox: BBox { x: 0.0, y: 0.0, width: 10.0, height: 10.0 },
            quality: 0.5,
            person: None,
            similarity: 0.0,
            recognizer: Precision::Int8,
        };
        let track = IdentifiedTrack {
            person: None,
            evidence: Evidence { faces: vec![face(1.0), face(2.0)] },
            template: crate::fixtures::unit(0.0),
            sightings: vec![Sighting { seconds: 1.0, bbox: BBox::default(), score: 0.9, similarity: 0.0 }],
        };
        let mut kept = FaceCrops::default();
        kept.insert("1000-5-5".into(), vec![1, 2, 3]);
        kept.insert("9000-5-5".into(), vec![9]);
        let pack = CandidateCrops::of(&[track], &kept);
        assert_eq!(pack.crops.keys().collect::<Vec<_>>(), vec!["1000-5-5"], "only the tracks' faces that were kept");
        let json = serde_json::to_vec(&pack).unwrap();
        let mut back = FaceCrops::default();
        serde_json::from_slice::<CandidateCrops>(&json).unwrap().add_to(&mut back);
        assert_eq!(back.get("1000-5-5"), Some(&[1u8, 2, 3][..]));
    }
}
