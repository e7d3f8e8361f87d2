//! The analysis curation starts from ([`cameo_model::curation::Analysis`]): the results
//! document as analysed, and for each of its tracks the faces, the recogniser that named
//! it and the crops that show it, so that people can move tracks between groups and the
//! groups be made again without the video, its embeddings or the detector's models.

use std::collections::HashMap;

use cameo_model::curation::{ANALYSIS_VERSION, AnalysedTrack, Analysis, Recognizer};

use crate::faces::ChosenCrop;
use crate::identify::IdentifiedTrack;
use crate::models::Precision;
use crate::results::{PersonAppearances, ResultsDocument};

/// The analysis of `document`, made from `tracks` with the crops `chosen` for it.
pub fn analysis(document: &ResultsDocument, tracks: &[IdentifiedTrack], chosen: &[ChosenCrop]) -> Analysis {
    let face_of: HashMap<&str, &str> = chosen.iter().map(|c| (c.path.as_str(), c.face_id.as_str())).collect();
    let groups: Vec<&PersonAppearances> = document.people.iter().chain(&document.unknown).collect();
    let analysed = tracks
        .iter()
        .map(|track| {
            let id = track.id();
            let faces: Vec<String> = track.evidence.faces.iter().map(|f| f.face_id()).collect();
            let shows = |path: &&String| face_of.get(path.as_str()).is_some_and(|face| faces.iter().any(|f| f == face));
            let group = groups.iter().find(|g| g.appearances.iter().any(|a| a.track_ids.contains(&id)));
            let mut sightings = track.sightings.clone();
            if track.person.is_none() {
                // An unknown face's confidence is its cluster's.
                let confidence = group.map_or(0.0, |g| g.confidence);
                sightings.iter_mut().for_each(|s| s.similarity = confidence);
            }
            AnalysedTrack {
                named_by: track.person.as_ref().map(|_| match track.evidence.recognizer() {
                    Precision::Int8 => Recognizer::Int8,
                    Precision::Fp32 => Recognizer::Fp32,
                }),
                sightings,
                crops: group.map(|g| g.crops.iter().filter(shows).cloned().collect()).unwrap_or_default(),
                appearance_crops: group
                    .map(|g| g.appearances.iter().filter_map(|a| a.crop.as_ref()).filter(shows).cloned().collect())
                    .unwrap_or_default(),
                id,
            }
        })
        .collect();
    Analysis { schema_version: ANALYSIS_VERSION.into(), document: document.clone(), tracks: analysed }
}
