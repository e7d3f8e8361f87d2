//! Faces you can see: which of the tracks' best faces ([`crate::best_faces`]) show each
//! group and each appearance of the results, and their JPEG crops.
//!
//! A group's faces are its best by the quality score from moments at least
//! [`VARIED_SECONDS`] apart, best first, so that a group named later gives the gallery
//! more than one view; the first is its thumbnail. A group on screen for less than
//! [`BRIEF_SECONDS`] (a passer-by in a crowd) keeps its thumbnail alone: a crowded film
//! has hundreds of them. An appearance's crop is the best face of its tracks within it.
//! Nothing is picked at random: the same analysis always shows the same faces.
//!
//! A track keeps the crops of its best faces that are [`VARIED_SECONDS`] apart (its best
//! face among them), the only ones a group's faces or an appearance's crop are chosen
//! from: two faces of one moment are never both shown.

use std::collections::HashMap;

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;

use crate::error::{Error, Result};
use crate::gallery::decode_photo;
use crate::identify::{FaceVerdict, IdentifiedTrack};
use crate::results::ResultsDocument;
use crate::track::Track;

/// Faces shown per group (person or unknown cluster).
pub use crate::results::GROUP_FACES;

/// A group on screen for less than this shows its thumbnail alone (and the timeline
/// folds it with the other brief faces).
pub const BRIEF_SECONDS: f64 = 2.0;

/// A group's faces are at least this far apart in time, so they show different moments.
pub const VARIED_SECONDS: f64 = 2.0;

/// Longest side of an appearance's crop; thumbnails and group faces keep the display
/// crop's 256 px.
pub const APPEARANCE_CROP_PX: u32 = 128;

const JPEG_QUALITY: u8 = 85;

/// The display crops of the tracks' best faces, JPEG-encoded as each track is named (by
/// face id, [`crate::identify::face_id`]), so that memory holds kilobytes per face.
#[derive(Debug, Clone, Default)]
pub struct FaceCrops(HashMap<String, Vec<u8>>);

impl FaceCrops {
    /// Keeps the display crops of `track`'s best faces from different moments.
    pub fn keep(&mut self, track: &Track) -> Result<()> {
        let best: Vec<&crate::best_faces::BestFace> = track.best.faces().iter().collect();
        for face in varied(&best, |f| f.seconds, GROUP_FACES) {
            let id = crate::identify::face_id(face.seconds, &face.bbox);
            self.0.insert(id, jpeg(&face.display)?);
        }
        Ok(())
    }

    pub fn insert(&mut self, face_id: String, jpeg: Vec<u8>) {
        self.0.insert(face_id, jpeg);
    }

    pub fn get(&self, face_id: &str) -> Option<&[u8]> {
        self.0.get(face_id).map(Vec::as_slice)
    }

    pub fn contains(&self, face_id: &str) -> bool {
        self.0.contains_key(face_id)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }
}

/// A crop to write: its file in the faces folder, its path relative to the results
/// document, the face it shows, and its longest side.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenCrop {
    pub file: String,
    pub path: String,
    pub face_id: String,
    pub max_px: u32,
}

/// A group's chosen faces, best first: what its templates are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFaces {
    pub group_id: String,
    pub crops: Vec<ChosenCrop>,
}

/// Picks the faces of every group and appearance of `document` among the best faces of
/// `tracks` that `has_crop`, writes their paths (`<prefix><group id>/face-N.jpg` and
/// `appearance-N.jpg`) into it, and returns the crops to write, each group's first.
pub fn choose(
    document: &mut ResultsDocument,
    tracks: &[IdentifiedTrack],
    prefix: &str,
    has_crop: &dyn Fn(&str) -> bool,
) -> (Vec<GroupFaces>, Vec<ChosenCrop>) {
    let by_id: HashMap<String, &IdentifiedTrack> = tracks.iter().map(|t| (t.id(), t)).collect();
    let faces_of = |track_ids: &[String]| -> Vec<&FaceVerdict> {
        let mut faces: Vec<&FaceVerdict> = track_ids
            .iter()
            .filter_map(|id| by_id.get(id))
            .flat_map(|t| &t.evidence.faces)
            .filter(|f| has_crop(&f.face_id()))
            .collect();
        // Best first; a tie goes to the earlier face.
        faces.sort_by(|a, b| b.quality.total_cmp(&a.quality).then(a.seconds.total_cmp(&b.seconds)));
        faces
    };
    let mut groups = Vec::new();
    let mut appearance_crops = Vec::new();
    for person in document.people.iter_mut().chain(document.unknown.iter_mut()) {
        let folder = format!("{}/", person.id);
        let track_ids: Vec<String> = person.appearances.iter().flat_map(|a| a.track_ids.clone()).collect();
        let limit = if person.screen_time_seconds < BRIEF_SECONDS { 1 } else { GROUP_FACES };
        let chosen: Vec<ChosenCrop> = varied(&faces_of(&track_ids), |f| f.seconds, limit)
            .iter()
            .enumerate()
            .map(|(n, face)| {
                let file = format!("{folder}face-{}.jpg", n + 1);
                ChosenCrop {
                    path: format!("{prefix}{file}"),
                    file,
                    face_id: face.face_id(),
                    max_px: crate::best_faces::DISPLAY_CROP_PX,
                }
            })
            .collect();
        person.thumbnail = chosen.first().map(|c| c.path.clone());
        person.crops = chosen.iter().map(|c| c.path.clone()).collect();
        for (n, appearance) in person.appearances.iter_mut().enumerate() {
            let (start, end) = (appearance.start_seconds, appearance.end_seconds);
            let best = faces_of(&appearance.track_ids).into_iter().find(|f| (start..=end).contains(&f.seconds));
            appearance.crop = best.map(|face| {
                let file = format!("{folder}appearance-{}.jpg", n + 1);
                let crop = ChosenCrop {
                    path: format!("{prefix}{file}"),
                    file,
                    face_id: face.face_id(),
                    max_px: APPEARANCE_CROP_PX,
                };
                appearance_crops.push(crop.clone());
                crop.path
            });
        }
        groups.push(GroupFaces { group_id: person.id.clone(), crops: chosen });
    }
    let all = groups.iter().flat_map(|g| g.crops.clone()).chain(appearance_crops).collect();
    (groups, all)
}

/// Up to `limit` of `faces` (best first), each at least [`VARIED_SECONDS`] from those
/// taken before it.
fn varied<T: Copy>(faces: &[T], seconds: impl Fn(T) -> f64, limit: usize) -> Vec<T> {
    let mut taken: Vec<T> = Vec::new();
    for &face in faces {
        if taken.len() == limit {
            break;
        }
        if taken.iter().all(|&t| (seconds(t) - seconds(face)).abs() >= VARIED_SECONDS) {
            taken.push(face);
        }
    }
    taken
}

/// The JPEG of `crop`: the kept one, or it scaled down to `crop.max_px`.
pub fn render(crop: &ChosenCrop, crops: &FaceCrops) -> Result<Vec<u8>> {
    let kept =
        crops.get(&crop.face_id).ok_or_else(|| Error::Inference(format!("no crop kept of face {}", crop.face_id)))?;
    let image = decode_photo(kept).map_err(Error::Inference)?;
    if image.width().max(image.height()) <= crop.max_px {
        return Ok(kept.to_vec());
    }
    let scale = crop.max_px as f32 / image.width().max(image.height()) as f32;
    let size = |side: u32| ((side as f32 * scale).round() as u32).max(1);
    jpeg(&image::imageops::resize(&image, size(image.width()), size(image.height()), FilterType::Triangle))
}

/// `image` as a JPEG of [`JPEG_QUALITY`].
pub fn jpeg(image: &RgbImage) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
        .encode_image(image)
        .map_err(|e| Error::Inference(format!("cannot encode a face crop: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{person, results};
    use crate::geometry::BBox;
    use crate::identify::{Evidence, Sighting};
    use crate::models::Precision;

    fn verdict(seconds: f64, quality: f32) -> FaceVerdict {
        FaceVerdict {
            seconds,
            bbox: BBox { x: 10.0, y: 10.0, width: 40.0, height: 40.0 },
            quality,
            person: None,
            similarity: 0.0,
            recognizer: Precision::Int8,
        }
    }

    fn track(first: f64, faces: &[(f64, f32)]) -> IdentifiedTrack {
        IdentifiedTrack {
            person: None,
            evidence: Evidence { faces: faces.iter().map(|&(s, q)| verdict(s, q)).collect() },
            template: crate::fixtures::unit(0.0),
            sightings: vec![Sighting {
                seconds: first,
                bbox: BBox { x: 10.0, y: 10.0, width: 40.0, height: 40.0 },
                score: 0.9,
                similarity: 0.0,
            }],
        }
    }

    #[test]
    fn a_groups_faces_are_its_best_from_different_moments_and_the_first_is_its_thumbnail() {
        let tracks = vec![
            track(0.0, &[(0.0, 0.5), (0.5, 0.9), (1.0, 0.8), (3.0, 0.7)]),
            track(10.0, &[(10.0, 0.6), (10.5, 0.95)]),
        ];
        let mut document = results(vec![person("Ada", &[(0.0, 4.0), (10.0, 11.0)])], vec![]);
        let ids: Vec<String> = tracks.iter().map(IdentifiedTrack::id).collect();
        let ada = &mut document.people[0];
        ada.id = "cada".into();
        ada.appearances[0].track_ids = vec![ids[0].clone()];
        ada.appearances[1].track_ids = vec![ids[1].clone()];
        let (groups, all) = choose(&mut document, &tracks, "demo.faces/", &|_| true);
        let ada = &document.people[0];
        let chosen: Vec<&str> = groups[0].crops.iter().map(|c| c.face_id.as_str()).collect();
        // 10.5 (0.95), 0.5 (0.9), then 3.0: 1.0 is too close to 0.5 and 10.0 to 10.5.
        assert_eq!(chosen, vec!["10500-30-30", "500-30-30", "3000-30-30"]);
        assert_eq!(ada.thumbnail.as_deref(), Some("demo.faces/cada/face-1.jpg"));
        assert_eq!(ada.crops.len(), 3);
        assert_eq!(ada.appearances[0].crop.as_deref(), Some("demo.faces/cada/appearance-1.jpg"));
        let first_appearance = all.iter().find(|c| c.path.ends_with("appearance-1.jpg")).unwrap();
        assert_eq!((first_appearance.face_id.as_str(), first_appearance.max_px), ("500-30-30", APPEARANCE_CROP_PX));
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn a_track_keeps_the_crops_of_its_best_faces_from_different_moments_only() {
        let mut best = crate::best_faces::BestFaces::default();
        for (seconds, quality) in [(0.0, 0.9), (0.5, 0.8), (3.0, 0.7), (1.0, 0.6)] {
            best.offer(crate::best_faces::BestFace {
                seconds,
                bbox: BBox { x: 10.0, y: 10.0, width: 40.0, height: 40.0 },
                quality,
                embedding: crate::fixtures::unit(0.0),
                aligned: RgbImage::new(1, 1),
                display: RgbImage::new(8, 8),
            });
        }
        let mut crops = FaceCrops::default();
        crops.keep(&Track { id: 0, observations: vec![], best }).unwrap();
        let mut kept: Vec<&String> = crops.0.keys().collect();
        kept.sort();
        assert_eq!(kept, vec!["0-30-30", "3000-30-30"]);
    }

    #[test]
    fn a_brief_group_shows_its_thumbnail_alone() {
        let tracks = vec![track(0.0, &[(0.0, 0.5), (3.0, 0.9)])];
        let mut document = results(vec![], vec![person("unknown-1", &[(0.0, 1.5)])]);
        document.unknown[0].appearances[0].track_ids = vec![tracks[0].id()];
        let (groups, _) = choose(&mut document, &tracks, "", &|_| true);
        assert_eq!(groups[0].crops.iter().map(|c| c.face_id.as_str()).collect::<Vec<_>>(), vec!["3000-30-30"]);
        assert_eq!(document.unknown[0].crops.len(), 1);
    }

    #[test]
    fn faces_without_a_crop_are_never_chosen() {
        let tracks = vec![track(0.0, &[(0.0, 0.5), (0.5, 0.9)])];
        let mut document = results(vec![], vec![person("unknown-1", &[(0.0, 1.0)])]);
        document.unknown[0].appearances[0].track_ids = vec![tracks[0].id()];
        let (groups, _) = choose(&mut document, &tracks, "", &|id| id != "500-30-30");
        assert_eq!(groups[0].crops.iter().map(|c| c.face_id.as_str()).collect::<Vec<_>>(), vec!["0-30-30"]);
    }

    #[test]
    fn an_appearance_crop_is_scaled_down_and_a_small_one_kept_as_it_is() {
        let mut crops = FaceCrops::default();
        crops.insert("big".into(), jpeg(&RgbImage::from_pixel(256, 256, image::Rgb([200, 100, 50]))).unwrap());
        let small = ChosenCrop {
            file: "a.jpg".into(),
            path: "a.jpg".into(),
            face_id: "big".into(),
            max_px: APPEARANCE_CROP_PX,
        };
        let bytes = render(&small, &crops).unwrap();
        assert_eq!(decode_photo(&bytes).unwrap().dimensions(), (128, 128));
        let full = ChosenCrop { max_px: 256, ..small };
        assert_eq!(render(&full, &crops).unwrap(), crops.get("big").unwrap());
    }
}
