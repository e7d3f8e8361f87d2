//! Phone videos: frames stored turned or mirrored, with a display matrix saying how players
//! show them. The demo stored each way must give what the upright demo gives.

mod support;

use cameo_detector::identify::Sighting;
use cameo_detector::video::{VideoReader, VideoSource};
use image::metadata::Orientation;
use support::{ScenarioRun, run_scenario, testdata};

/// Each scenario of testdata/scenarios/demo_*.json and how its results must name the turn.
const TURNED: [(&str, &str); 7] = [
    ("demo_rotate90", "rotate90"),
    ("demo_rotate180", "rotate180"),
    ("demo_rotate270", "rotate270"),
    ("demo_flip_horizontal", "flipHorizontal"),
    ("demo_flip_vertical", "flipVertical"),
    ("demo_transpose", "transpose"),
    ("demo_transverse", "transverse"),
];

/// Each named person's appearances as `[start, end]`.
fn intervals(run: &ScenarioRun) -> Vec<(String, Vec<[f64; 2]>)> {
    let people = &run.document.people;
    people
        .iter()
        .map(|p| (p.name.clone(), p.appearances.iter().map(|a| [a.start_seconds, a.end_seconds]).collect()))
        .collect()
}

/// Named sightings by second: where each person's face was seen in each sampled frame.
fn named_sightings(run: &ScenarioRun) -> Vec<(String, Sighting)> {
    let mut all: Vec<(String, Sighting)> = run
        .tracks
        .iter()
        .filter_map(|t| t.person.clone().map(|p| (p, t)))
        .flat_map(|(person, t)| t.sightings.iter().map(move |s| (person.clone(), *s)))
        .collect();
    all.sort_by(|a, b| a.1.seconds.total_cmp(&b.1.seconds));
    all
}

#[test]
fn the_demo_stored_turned_or_mirrored_finds_the_same_people_at_the_same_times_and_places() {
    let upright = run_scenario("demo", "demo");
    upright.assert_matches_truth();
    let upright_intervals = intervals(&upright);
    let upright_faces = named_sightings(&upright);
    assert!(upright_faces.len() >= 20, "the upright demo names too few faces to compare: {}", upright_faces.len());
    let mut problems = Vec::new();
    for (scenario, orientation) in TURNED {
        let turned = run_scenario(scenario, "demo");
        let video = &turned.document.video;
        if (video.width, video.height) != (1280, 720) || video.display_orientation.as_deref() != Some(orientation) {
            problems.push(format!("{scenario}: {}x{} {:?}", video.width, video.height, video.display_orientation));
        }
        let turned_intervals = intervals(&turned);
        if turned_intervals != upright_intervals {
            problems.push(format!("{scenario}: {turned_intervals:?}, upright {upright_intervals:?}"));
        }
        // Boxes are in displayed pixels: each named face sits where the upright one does.
        let faces = named_sightings(&turned);
        for (person, face) in &upright_faces {
            let same = faces.iter().find(|(p, s)| p == person && s.seconds == face.seconds);
            match same {
                Some((_, s)) if s.bbox.iou(&face.bbox) >= 0.8 => {}
                other => {
                    problems.push(format!("{scenario}: {person} at {} s: {other:?}, upright {face:?}", face.seconds))
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_display_matrix_that_no_player_can_show_is_analysed_upright_with_a_warning() {
    let reader = VideoReader::open(&VideoSource::File(testdata().join("demo_rotate45.mp4")), 1).expect("opens");
    let info = reader.info();
    assert_eq!((info.width, info.height, info.orientation), (1280, 720, Orientation::NoTransforms));
    assert!(info.warnings.iter().any(|w| w.contains("45.0 degrees")), "{:?}", info.warnings);

    let run = run_scenario("demo_rotate45", "demo");
    run.assert_matches_truth();
    assert_eq!(run.document.video.display_orientation, None);
    assert_eq!(run.document.video.warnings, info.warnings);
}
