//! Identify stage: open-set naming of tracks against the gallery of enrolled people.
//!
//! Names are decided face by face, on a track's best faces (the largest, sharpest, most
//! frontal, [`crate::best_faces`]): a face matches a person when its similarity to that
//! person's closest gallery photo reaches the threshold and leads every other person by
//! the margin, the per-face rule the threshold is calibrated for; a track is named after a
//! person who wins a strict majority of its best faces. A mean of embeddings is never held
//! to a threshold calibrated on single faces. Everything else stays unknown: a stranger
//! must never be given an enrolled name.
//!
//! The threshold is calibrated on the fp32 recogniser, which embeds the gallery. Tracks
//! are embedded in the tracking precision (int8 on CPU), whose similarities differ from
//! fp32's by up to [`INT8_SHIFT`]: where that much could change a track's decision, the
//! track is decided again on the fp32 embeddings of its best faces; elsewhere the int8
//! decision is the one fp32 would make, and stands.

use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use cameo_model::appearances::Sighting;

use crate::embed::Embedding;
use crate::error::Result;
use crate::geometry::BBox;
use crate::models::Precision;
use crate::results::Parameters;
use crate::track::Track;

/// The most an int8 face's similarity to a gallery photo differs from its fp32
/// similarity. `make bench` measures it over 28,504 pairs (the 2,036 faces of the test
/// videos at one frame a second against the 14 faces of the test photos): mean -0.008,
/// standard deviation 0.018, 99.9th percentile 0.071, largest 0.090; an earlier sample of
/// 28,434 pairs reached 0.115.
pub const INT8_SHIFT: f32 = 0.12;

/// One enrolled person: a name, the (fp32) embeddings of their gallery photos, and those
/// of faces people said are not them (rejected examples).
#[derive(Debug, Clone)]
pub struct EnrolledPerson {
    pub name: String,
    pub embeddings: Vec<Embedding>,
    pub rejected: Vec<Embedding>,
}

impl EnrolledPerson {
    pub fn new(name: impl Into<String>, embeddings: Vec<Embedding>) -> Self {
        EnrolledPerson { name: name.into(), embeddings, rejected: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct MatchConfig {
    /// Minimum cosine similarity to a person's closest gallery photo. OpenCV's published
    /// SFace threshold is 0.363.
    pub threshold: f32,
    /// Minimum lead of the best person's similarity over the runner-up's.
    pub margin: f32,
}

impl MatchConfig {
    /// The rule an analysis was made with.
    pub fn of(parameters: &Parameters) -> Self {
        MatchConfig { threshold: parameters.match_threshold, margin: parameters.match_margin }
    }

    /// The rule with every similarity allowed to be `shift` off: `shift` > 0 is stricter
    /// (what still matches then matches whatever the shift), < 0 looser.
    fn shifted(&self, shift: f32) -> MatchConfig {
        // A lead is the difference of two similarities, each of which may be off.
        MatchConfig { threshold: self.threshold + shift, margin: self.margin + 2.0 * shift }
    }
}

/// A track and who it is: the plain data later stages (and other shards' merge) need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifiedTrack {
    /// The enrolled person's name, or `None` for an unknown face.
    pub person: Option<String>,
    pub evidence: Evidence,
    /// The mean embedding of the whole track, for grouping unknown faces.
    pub template: Embedding,
    pub sightings: Vec<Sighting>,
}

impl IdentifiedTrack {
    /// The track's id in its video: its first face's, which the same video analysed again,
    /// whole or in shards, gives it again.
    pub fn id(&self) -> String {
        self.sightings.first().map_or_else(String::new, |s| format!("t{}", face_id(s.seconds, &s.bbox)))
    }
}

/// A face's id in its video: when (in milliseconds) and where (its box's centre, in
/// whole display pixels) it was seen. Two faces are never in one place at one time.
pub fn face_id(seconds: f64, bbox: &BBox) -> String {
    let (x, y) = (bbox.x + bbox.width / 2.0, bbox.y + bbox.height / 2.0);
    format!(
        "{}-{}-{}",
        (seconds.max(0.0) * 1000.0).round() as u64,
        x.max(0.0).round() as u32,
        y.max(0.0).round() as u32
    )
}

/// What a track's name was decided on: each best face's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Best first.
    pub faces: Vec<FaceVerdict>,
}

/// Who one of a track's best faces is, under the match rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceVerdict {
    pub seconds: f64,
    pub bbox: BBox,
    pub quality: f32,
    /// The person it matches, if any.
    pub person: Option<String>,
    /// Its similarity to the closest person (0 with an empty gallery).
    pub similarity: f32,
    /// The recogniser whose embedding gave the verdict.
    pub recognizer: Precision,
}

impl FaceVerdict {
    pub fn face_id(&self) -> String {
        face_id(self.seconds, &self.bbox)
    }
}

impl Evidence {
    /// The person who wins a strict majority of the faces.
    pub fn decision(&self) -> Option<String> {
        majority(self.faces.iter().map(|f| f.person.clone())).flatten()
    }

    /// How well the faces match `person`: their mean similarity to them among those that match.
    pub fn strength(&self, person: &str) -> f32 {
        let matching: Vec<f32> =
            self.faces.iter().filter(|f| f.person.as_deref() == Some(person)).map(|f| f.similarity).collect();
        matching.iter().sum::<f32>() / matching.len().max(1) as f32
    }

    /// fp32 when any verdict came from it: the tracking recogniser alone could not decide.
    pub fn recognizer(&self) -> Precision {
        match self.faces.iter().any(|f| f.recognizer == Precision::Fp32) {
            true => Precision::Fp32,
            false => Precision::Int8,
        }
    }
}

/// The value held by more than half of `values`, if one is.
pub fn majority<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let values: Vec<T> = values.into_iter().collect();
    let half = values.len() / 2;
    let winner = values.iter().position(|v| values.iter().filter(|w| *w == v).count() > half)?;
    values.into_iter().nth(winner)
}

/// The best and second-best person for an embedding, by similarity to each person's closest photo.
fn ranked(embedding: &Embedding, gallery: &[EnrolledPerson]) -> (Option<(usize, f32)>, f32) {
    let mut best: Option<(usize, f32)> = None;
    let mut second = f32::NEG_INFINITY;
    for (index, person) in gallery.iter().enumerate() {
        let similarity = similarity_to(embedding, person);
        match best {
            Some((_, b)) if similarity <= b => second = second.max(similarity),
            _ => {
                if let Some((_, b)) = best {
                    second = b;
                }
                best = Some((index, similarity));
            }
        }
    }
    (best, second)
}

pub fn similarity_to(embedding: &Embedding, person: &EnrolledPerson) -> f32 {
    person.embeddings.iter().map(|g| embedding.cosine(g)).fold(f32::NEG_INFINITY, f32::max)
}

/// The person an embedding matches under `config`, if any.
pub fn match_embedding(embedding: &Embedding, gallery: &[EnrolledPerson], config: &MatchConfig) -> Option<usize> {
    match_shifted(embedding, gallery, config, 0.0)
}

/// The person an embedding matches with every similarity allowed to be `shift` off
/// ([`MatchConfig::shifted`]). A face closer to one of the person's rejected examples than
/// to their photos is not them, and is named after nobody: never a second choice, whose
/// margin was measured against the person refused.
fn match_shifted(embedding: &Embedding, gallery: &[EnrolledPerson], config: &MatchConfig, shift: f32) -> Option<usize> {
    let config = config.shifted(shift);
    match ranked(embedding, gallery) {
        (Some((index, best)), second) if best >= config.threshold && best - second >= config.margin => {
            // The comparison is of two similarities, each of which may be off.
            let bar = best - 2.0 * shift;
            let refused = gallery[index].rejected.iter().any(|r| embedding.cosine(r) > bar);
            (!refused).then_some(index)
        }
        _ => None,
    }
}

/// Names tracks: the gallery, the rule, and how far the tracking recogniser's
/// similarities may be from those the rule is calibrated for.
pub struct Identifier<'a> {
    pub gallery: &'a [EnrolledPerson],
    pub config: MatchConfig,
    /// The tracking recogniser's precision: int8 evidence is decided again in fp32 where it
    /// is too close to call.
    pub precision: Precision,
}

impl Identifier<'_> {
    /// Names a track. `fp32` embeds aligned crops in fp32: it is called for the best faces
    /// whose own int8 verdict a shift could change, in a track whose decision it could
    /// change, or with `exact_evidence` (the merge joins the evidence of tracks cut by a
    /// shard boundary, and needs every verdict exact). An int8 verdict that no shift can
    /// change is the one fp32 would give, so it is kept.
    pub fn identify(
        &self,
        track: Track,
        exact_evidence: bool,
        fp32: &mut dyn FnMut(&[RgbImage]) -> Result<Vec<Embedding>>,
    ) -> Result<IdentifiedTrack> {
        let best = track.best.faces();
        let mut embeddings: Vec<(Embedding, Precision)> =
            best.iter().map(|f| (f.embedding.clone(), self.precision)).collect();
        if self.precision == Precision::Int8 && (exact_evidence || !self.settled(&embeddings)) {
            let unsure: Vec<usize> = (0..best.len()).filter(|&i| !self.face_settled(&embeddings[i].0)).collect();
            if !unsure.is_empty() {
                let crops: Vec<RgbImage> = unsure.iter().map(|&i| best[i].aligned.clone()).collect();
                for (&i, embedding) in unsure.iter().zip(fp32(&crops)?) {
                    embeddings[i] = (embedding, Precision::Fp32);
                }
            }
        }
        let evidence = self.evidence(&track, &embeddings);
        let person = evidence.decision();
        let index = person.as_ref().and_then(|name| self.gallery.iter().find(|p| &p.name == name));
        let sightings = track
            .observations
            .iter()
            .map(|o| Sighting {
                seconds: o.seconds,
                bbox: o.bbox,
                score: o.score,
                similarity: index.map_or(0.0, |p| similarity_to(&o.embedding, p)),
            })
            .collect();
        Ok(IdentifiedTrack { person, evidence, template: track.template(), sightings })
    }

    /// Whether int8 embeddings decide as fp32 ones would: the decision is the same with
    /// every similarity [`INT8_SHIFT`] higher and with every one that much lower.
    fn settled(&self, embeddings: &[(Embedding, Precision)]) -> bool {
        let decide =
            |shift| majority(embeddings.iter().map(|(e, _)| match_shifted(e, self.gallery, &self.config, shift)));
        decide(INT8_SHIFT) == decide(-INT8_SHIFT)
    }

    /// Whether one face's int8 verdict is fp32's, whatever the shift.
    fn face_settled(&self, embedding: &Embedding) -> bool {
        let verdict = |shift| match_shifted(embedding, self.gallery, &self.config, shift);
        verdict(INT8_SHIFT) == verdict(-INT8_SHIFT)
    }

    /// The verdicts on the best faces, from `embeddings` of them by the recognisers given.
    fn evidence(&self, track: &Track, embeddings: &[(Embedding, Precision)]) -> Evidence {
        let faces = track
            .best
            .faces()
            .iter()
            .zip(embeddings)
            .map(|(face, (embedding, recognizer))| FaceVerdict {
                seconds: face.seconds,
                bbox: face.bbox,
                quality: face.quality,
                person: match_embedding(embedding, self.gallery, &self.config).map(|p| self.gallery[p].name.clone()),
                similarity: ranked(embedding, self.gallery).0.map_or(0.0, |(_, s)| s),
                recognizer: *recognizer,
            })
            .collect();
        Evidence { faces }
    }
}

/// One face is one person at a time: where tracks that share a sampled frame are named
/// after the same person, the track whose best faces match them best keeps the name and
/// the others become unknown. Never a second choice: a loser's margin was measured
/// against the person it lost.
pub fn one_face_one_person(tracks: &mut [IdentifiedTrack]) {
    let strength = |t: &IdentifiedTrack| t.person.as_deref().map_or(0.0, |p| t.evidence.strength(p));
    let mut named: Vec<usize> = (0..tracks.len()).filter(|&i| tracks[i].person.is_some()).collect();
    named.sort_by(|&a, &b| strength(&tracks[b]).total_cmp(&strength(&tracks[a])).then(a.cmp(&b)));
    let mut kept: Vec<usize> = Vec::new();
    for i in named {
        let clash = kept.iter().any(|&k| tracks[k].person == tracks[i].person && share_a_frame(&tracks[k], &tracks[i]));
        if clash {
            let lost = &mut tracks[i];
            tracing::debug!(person = ?lost.person, at = lost.sightings[0].seconds, "a second face claimed a person on screen");
            lost.person = None;
            lost.sightings.iter_mut().for_each(|s| s.similarity = 0.0);
        } else {
            kept.push(i);
        }
    }
}

/// Whether two tracks have a face in the same sampled frame.
fn share_a_frame(a: &IdentifiedTrack, b: &IdentifiedTrack) -> bool {
    a.sightings.iter().any(|s| b.sightings.iter().any(|t| t.seconds == s.seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::best_faces::{BestFace, BestFaces};
    use crate::fixtures::unit;
    use crate::track::FaceObservation;

    /// A track with one face per angle, each a best face (quality falling with time).
    fn track(angles: &[f32]) -> Track {
        let mut best = BestFaces::default();
        let observations: Vec<FaceObservation> = angles
            .iter()
            .enumerate()
            .map(|(i, &a)| FaceObservation {
                seconds: i as f64,
                shot: 0,
                bbox: BBox::default(),
                score: 0.9,
                quality: 1.0 - i as f32 / 100.0,
                embedding: unit(a),
            })
            .collect();
        for o in &observations {
            best.offer(BestFace {
                seconds: o.seconds,
                bbox: o.bbox,
                quality: o.quality,
                embedding: o.embedding.clone(),
                aligned: RgbImage::from_pixel(1, 1, image::Rgb([o.seconds as u8, 0, 0])),
                display: RgbImage::new(1, 1),
            });
        }
        Track { id: 0, observations, best }
    }

    const CONFIG: MatchConfig = MatchConfig { threshold: 0.363, margin: 0.05 };

    /// A unit vector along axis 2, orthogonal to every `unit(angle)`.
    fn axis_two() -> Embedding {
        let mut v = vec![0.0; 128];
        v[2] = 1.0;
        Embedding(v)
    }

    /// Ada at angle 0 in the plane of axes 0 and 1 (a face at angle a has similarity
    /// cos(a) to her: 0.5 at 60 deg, 0.17 at 80 deg); Bea orthogonal to that plane.
    fn gallery() -> Vec<EnrolledPerson> {
        vec![EnrolledPerson::new("Ada", vec![unit(0.0)]), EnrolledPerson::new("Bea", vec![axis_two()])]
    }

    fn identifier(gallery: &[EnrolledPerson], precision: Precision) -> Identifier<'_> {
        Identifier { gallery, config: CONFIG, precision }
    }

    /// An fp32 recogniser that sees every face at `angle`, counting the faces it embeds.
    fn fp32_at(angle: f32, calls: &mut Vec<usize>) -> impl FnMut(&[RgbImage]) -> Result<Vec<Embedding>> + '_ {
        move |crops: &[RgbImage]| {
            calls.push(crops.len());
            Ok(crops.iter().map(|_| unit(angle)).collect())
        }
    }

    #[test]
    fn a_close_track_is_named_and_a_distant_one_stays_unknown() {
        let gallery = gallery();
        let mut calls = Vec::new();
        let named =
            identifier(&gallery, Precision::Fp32).identify(track(&[10.0, 20.0]), false, &mut fp32_at(0.0, &mut calls));
        let named = named.unwrap();
        assert_eq!(named.person.as_deref(), Some("Ada"));
        assert!(named.sightings.iter().all(|s| s.similarity > 0.9));
        let far =
            identifier(&gallery, Precision::Fp32).identify(track(&[75.0, 80.0]), false, &mut fp32_at(0.0, &mut calls));
        assert_eq!(far.unwrap().person, None);
        assert!(calls.is_empty(), "fp32 evidence is never embedded again");
    }

    #[test]
    fn a_track_is_named_on_a_strict_majority_of_its_best_faces() {
        let gallery = gallery();
        let mut calls = Vec::new();
        let mut name = |angles: &[f32]| {
            identifier(&gallery, Precision::Fp32)
                .identify(track(angles), false, &mut fp32_at(0.0, &mut calls))
                .unwrap()
                .person
        };
        // One lucky frame (60 deg: 0.5 to Ada) among faces at 80 deg (0.17) names nobody.
        assert_eq!(name(&[80.0, 80.0, 60.0, 80.0, 80.0]), None);
        assert_eq!(name(&[10.0, 80.0, 10.0, 80.0, 10.0]).as_deref(), Some("Ada"));
        assert_eq!(name(&[10.0, 80.0]), None, "half is no majority");
        // Only the five best faces vote: the sixth (the worst) cannot tip it.
        assert_eq!(name(&[10.0, 10.0, 80.0, 80.0, 80.0, 10.0]), None);
    }

    #[test]
    fn a_face_closer_to_a_rejected_example_than_to_the_photos_is_not_them() {
        let mut gallery = gallery();
        // People said the face at 30 deg is not Ada: faces nearer it than her photo (0 deg)
        // are not her; faces nearer her photo still are.
        gallery[0].rejected = vec![unit(30.0)];
        let mut calls = Vec::new();
        let mut name = |angle: f32, precision| {
            identifier(&gallery, precision)
                .identify(track(&[angle; 3]), false, &mut fp32_at(angle, &mut calls))
                .unwrap()
        };
        assert_eq!(name(25.0, Precision::Fp32).person, None, "closer to the rejected example");
        assert_eq!(name(10.0, Precision::Fp32).person.as_deref(), Some("Ada"));
        assert_eq!(name(40.0, Precision::Fp32).person, None, "far from her photo too, still nearer the example");
        // In int8, a face near the line between the two is decided again in fp32.
        let near = name(16.0, Precision::Int8);
        assert_eq!(near.evidence.recognizer(), Precision::Fp32);
        assert_eq!(calls, vec![3]);
    }

    #[test]
    fn int8_evidence_near_the_threshold_is_decided_again_in_fp32_and_clear_evidence_stands() {
        let gallery = gallery();
        let id = identifier(&gallery, Precision::Int8);
        // Far from Ada (0.17) or close to her (0.98): int8 decides alone.
        let mut calls = Vec::new();
        assert_eq!(id.identify(track(&[80.0; 3]), false, &mut fp32_at(0.0, &mut calls)).unwrap().person, None);
        let clear = id.identify(track(&[10.0; 3]), false, &mut fp32_at(80.0, &mut calls)).unwrap();
        assert_eq!((clear.person.as_deref(), clear.evidence.recognizer()), (Some("Ada"), Precision::Int8));
        assert!(calls.is_empty());
        // 0.375 in int8 (68 deg), just over the threshold; fp32 puts it at 0.34 (70 deg).
        let near = id.identify(track(&[68.0; 3]), false, &mut fp32_at(70.0, &mut calls)).unwrap();
        assert_eq!((near.person, near.evidence.recognizer()), (None, Precision::Fp32));
        assert_eq!(calls, vec![3], "the best faces, once");
        // Only the faces whose own verdict could change: two near ones between two clear
        // ones decide the majority, so they are decided again; the clear ones keep int8's.
        calls.clear();
        let mixed = id.identify(track(&[10.0, 68.0, 68.0, 80.0]), false, &mut fp32_at(12.0, &mut calls)).unwrap();
        assert_eq!(calls, vec![2]);
        let recognizers: Vec<Precision> = mixed.evidence.faces.iter().map(|f| f.recognizer).collect();
        assert_eq!(recognizers, vec![Precision::Int8, Precision::Fp32, Precision::Fp32, Precision::Int8]);
        assert_eq!(mixed.person.as_deref(), Some("Ada"), "3 of 4 match in fp32");
        // Exact evidence on demand (a track cut by a shard boundary): clear verdicts are exact already.
        calls.clear();
        let exact = id.identify(track(&[10.0, 68.0]), true, &mut fp32_at(70.0, &mut calls)).unwrap();
        assert_eq!(calls, vec![1]);
        assert_eq!(exact.evidence.faces[1].person, None);
    }

    #[test]
    fn a_face_between_two_people_needs_the_margin() {
        let between = |ada: f32, bea: f32| {
            let mut v = vec![0.0; 128];
            v[0] = ada;
            v[2] = bea;
            Embedding::normalized(v)
        };
        assert_eq!(match_embedding(&between(1.0, 1.0), &gallery(), &CONFIG), None);
        assert_eq!(match_embedding(&between(1.0, 0.8), &gallery(), &CONFIG), Some(0));
        assert_eq!(match_embedding(&between(0.8, 1.0), &gallery(), &CONFIG), Some(1));
    }

    #[test]
    fn two_faces_in_one_frame_are_never_named_after_one_person() {
        let gallery = gallery();
        let mut calls = Vec::new();
        let id = identifier(&gallery, Precision::Fp32);
        let mut identified = |angles: &[f32], start: f64| {
            let mut t = id.identify(track(angles), false, &mut fp32_at(0.0, &mut calls)).unwrap();
            t.sightings.iter_mut().for_each(|s| s.seconds += start);
            t
        };
        // Ada, her look-alike beside her from 1 s, and Ada again later.
        let mut tracks =
            vec![identified(&[40.0, 40.0, 40.0], 1.0), identified(&[5.0, 5.0, 5.0], 0.0), identified(&[40.0], 9.0)];
        assert!(tracks.iter().all(|t| t.person.as_deref() == Some("Ada")));
        one_face_one_person(&mut tracks);
        let names: Vec<Option<&str>> = tracks.iter().map(|t| t.person.as_deref()).collect();
        assert_eq!(names, vec![None, Some("Ada"), Some("Ada")]);
        assert!(tracks[0].sightings.iter().all(|s| s.similarity == 0.0));
    }

    #[test]
    fn a_majority_is_more_than_half() {
        assert_eq!(majority([1, 2, 1]), Some(1));
        assert_eq!(majority([1, 2]), None);
        assert_eq!(majority(Vec::<u8>::new()), None);
        assert_eq!(majority([None, Some(3), None]), Some(None));
    }
}
