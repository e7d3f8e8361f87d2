//! The results document in the formats editors' tools read: WebVTT for players, CSV for
//! spreadsheets, a CMX3600 EDL for Premiere and DaVinci Resolve. Pure functions of the
//! document; the detector writes them (`detect --export`, and in the cloud beside every
//! results document it writes: [`Format::path`]) and the API serves them (`GET
//! /videos/{id}/result?format=...`, and presigned: `GET /videos/{id}/exports`).

mod csv;
mod edl;
mod timecode;
mod vtt;

use std::str::FromStr;

use crate::results::{Appearance, ResultsDocument};

pub use timecode::Timecode;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Vtt,
    Csv,
    Edl,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Vtt, Format::Csv, Format::Edl];

    /// The name a command line or a query says it by, which is also its file extension.
    pub fn name(self) -> &'static str {
        match self {
            Format::Vtt => "vtt",
            Format::Csv => "csv",
            Format::Edl => "edl",
        }
    }

    /// Where it is written, relative to the results document's folder.
    pub fn path(self) -> String {
        format!("exports/result.{}", self.name())
    }

    /// Its media type, for a `Content-Type` header.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Vtt => "text/vtt; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Edl => "text/plain; charset=utf-8",
        }
    }

    /// The document in this format.
    pub fn render(self, document: &ResultsDocument) -> String {
        match self {
            Format::Vtt => vtt::render(document),
            Format::Csv => csv::render(document),
            Format::Edl => edl::render(document),
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| format!("unknown export format {name:?}: use vtt, csv or edl"))
    }
}

/// One appearance of someone, known or not: a cue, a row, a locator.
struct Row<'a> {
    name: &'a str,
    /// The group's id in this video.
    id: &'a str,
    known: bool,
    appearance: &'a Appearance,
}

/// Every appearance, known people's and unknown faces', by start time (then name).
fn rows(document: &ResultsDocument) -> Vec<Row<'_>> {
    let known = document.people.iter().map(|p| (p, true));
    let unknown = document.unknown.iter().map(|p| (p, false));
    let mut rows: Vec<Row> = known
        .chain(unknown)
        .flat_map(|(person, known)| {
            person.appearances.iter().map(move |appearance| Row {
                name: &person.name,
                id: &person.id,
                known,
                appearance,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        let start = |r: &Row| r.appearance.start_seconds;
        start(a).total_cmp(&start(b)).then(b.known.cmp(&a.known)).then(a.name.cmp(b.name))
    });
    rows
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::geometry::BBox;
    use crate::results::*;

    fn person(id: &str, name: &str, spans: &[(f64, f64)], known: bool) -> PersonAppearances {
        PersonAppearances {
            id: id.into(),
            person_id: None,
            name: name.into(),
            screen_time_seconds: spans.iter().map(|(s, e)| e - s).sum(),
            first_seen_seconds: spans[0].0,
            confidence: 0.61,
            decided_by: known.then(DecidedBy::default),
            thumbnail: None,
            crops: vec![],
            appearances: spans
                .iter()
                .enumerate()
                .map(|(n, &(start, end))| Appearance {
                    start_seconds: start,
                    end_seconds: end,
                    confidence: 0.5 + n as f32 / 10.0,
                    faces: 3,
                    sample: SampleFace { seconds: start, bbox: BBox::default() },
                    track_ids: vec![format!("t{n}")],
                    crop: Some(format!("demo.faces/{id}/appearance-{}.jpg", n + 1)),
                })
                .collect(),
        }
    }

    /// A document with a known person, an unknown face and a name that needs escaping in
    /// every format, at `frame_rate`.
    pub fn document(frame_rate: f64, duration_seconds: f64) -> ResultsDocument {
        ResultsDocument {
            schema_version: SCHEMA_VERSION.into(),
            video: VideoSummary {
                source: "films/demo.mp4".into(),
                duration_seconds,
                width: 1280,
                height: 720,
                display_orientation: None,
                warnings: vec![],
                frame_rate,
                codec: "h264".into(),
                sampled_fps: 2.0,
                frames_decoded: 600,
                frames_analysed: 48,
                faces_detected: 40,
            },
            movie: Some(Movie { title: Some("Démo & <Test>".into()), ..Movie::default() }),
            models: ModelsUsed {
                detector: ModelInfo { name: "YuNet".into(), sha256: "a".into() },
                recognizer: ModelInfo { name: "SFace".into(), sha256: "b".into() },
                fp32_recognizer: None,
                execution_provider: "cpu".into(),
            },
            parameters: Parameters {
                match_threshold: 0.363,
                match_margin: 0.05,
                min_face_size_px: 26.7,
                detection_score_threshold: 0.6,
                gap_tolerance_seconds: 1.5,
                link_similarity: 0.45,
                int8_shift: None,
            },
            gallery: None,
            people: vec![
                person("c0000000000a1", "Barack Obama", &[(0.0, 5.0), (65.0, 70.5)], true),
                person("c0000000000b2", "=HYPERLINK(\"x\") <b> & --> Zoë", &[(9.0, 14.0)], true),
            ],
            unknown: vec![person("c0000000000c3", "unknown-1", &[(5.0, 9.0)], false)],
            dismissed: vec![],
            curation: None,
        }
    }
}
