//! The exports read back by the tools the industry uses (`read_exports.py`, in the venv
//! `make setup` makes): what they read must be the document's appearances.

use std::path::PathBuf;
use std::process::Command;

use cameo_model::exports::Format;
use cameo_model::results::ResultsDocument;
use serde_json::{Value, json};

/// A document with a known person (twice), an unknown face, and a name that needs
/// escaping in every format, at `frame_rate`.
fn document(frame_rate: f64) -> ResultsDocument {
    let person = |id: &str, name: &str, spans: &[(f64, f64)]| {
        let appearances: Vec<Value> = spans
            .iter()
            .enumerate()
            .map(|(n, (start, end))| {
                json!({"startSeconds": start, "endSeconds": end, "confidence": 0.5, "faces": 3,
                       "sample": {"seconds": start, "bbox": {"x": 0.0, "y": 0.0, "width": 1.0, "height": 1.0}},
                       "trackIds": [format!("t{n}")], "crop": format!("demo.faces/{id}/appearance-{}.jpg", n + 1)})
            })
            .collect();
        json!({"id": id, "name": name, "screenTimeSeconds": 1.0, "firstSeenSeconds": spans[0].0,
               "confidence": 0.6, "appearances": appearances})
    };
    let model = json!({"name": "m", "sha256": "0"});
    serde_json::from_value(json!({
        "schemaVersion": "cameo.dev/results/v1",
        "video": {"source": "s3://raw/videos/Démo film.mp4", "durationSeconds": 3725.4, "width": 1280, "height": 720,
                  "frameRate": frame_rate, "codec": "h264", "sampledFps": 2.0, "framesDecoded": 1,
                  "framesAnalysed": 1, "facesDetected": 1},
        "movie": {"title": "Démo"},
        "models": {"detector": model, "recognizer": model, "executionProvider": "cpu"},
        "parameters": {"matchThreshold": 0.363, "matchMargin": 0.05, "minFaceSizePx": 26.7,
                       "detectionScoreThreshold": 0.6, "gapToleranceSeconds": 1.5, "linkSimilarity": 0.45},
        "people": [
            person("c00000000000a", "Barack Obama", &[(1.5, 5.0), (3605.25, 3610.5)]),
            person("c00000000000b", "=SUM(1) <b>&</b> --> Zoë, \"Z\"", &[(9.0, 14.0)]),
        ],
        "unknown": [person("c00000000000c", "unknown-1", &[(5.0, 9.0)])],
    }))
    .expect("the fixture is a results document")
}

fn python() -> PathBuf {
    let cache = std::env::var_os("CAMEO_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cameo")))
        .expect("CAMEO_CACHE or HOME is set");
    let python = cache.join("venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make setup` (it installs webvtt-py and OpenTimelineIO)",
        python.display()
    );
    python
}

/// What the tools read from the three exports of `document`.
fn read_back(document: &ResultsDocument, rate: f64) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = [Format::Vtt, Format::Csv, Format::Edl]
        .iter()
        .map(|format| {
            let path = dir.path().join(format!("demo.{}", format.name()));
            std::fs::write(&path, format.render(document)).unwrap();
            path
        })
        .collect();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/read_exports.py");
    let output = Command::new(python()).arg(script).args(&paths).arg(rate.to_string()).output().unwrap();
    assert!(output.status.success(), "read_exports.py failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// (name, start, end) of every appearance, by start.
fn appearances(document: &ResultsDocument) -> Vec<(String, f64, f64)> {
    let mut all: Vec<(String, f64, f64)> = document
        .people
        .iter()
        .chain(&document.unknown)
        .flat_map(|p| p.appearances.iter().map(|a| (p.name.clone(), a.start_seconds, a.end_seconds)))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1));
    all
}

fn close(a: &Value, b: f64, tolerance: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() <= tolerance)
}

#[test]
fn webvtt_and_csv_read_back_as_the_appearances() {
    let document = document(25.0);
    let read = read_back(&document, 25.0);
    let expected = appearances(&document);
    let cues = read["vtt"].as_array().unwrap();
    assert_eq!(cues.len(), expected.len());
    for (cue, (name, start, end)) in cues.iter().zip(&expected) {
        // webvtt-py gives the cue text as written: markup escaped, which players unescape.
        let text = cue["text"].as_str().unwrap();
        let unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
        assert_eq!(&unescaped, name);
        assert!(close(&cue["start"], *start, 0.001) && close(&cue["end"], *end, 0.001), "{cue}");
    }
    let rows = read["csv"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, (name, start, end)) in rows.iter().zip(&expected) {
        let person = row["person"].as_str().unwrap();
        assert_eq!(person.strip_prefix('\'').filter(|_| name.starts_with('=')).unwrap_or(person), name);
        let number = |key: &str| row[key].as_str().and_then(|v| v.parse::<f64>().ok()).unwrap();
        assert!((number("start") - start).abs() < 0.001 && (number("end") - end).abs() < 0.001);
        assert!(row["crop"].as_str().unwrap().ends_with(".jpg"));
    }
    assert_eq!(rows[2]["person"], "'=SUM(1) <b>&</b> --> Zoë, \"Z\"", "a formula is made text");
}

#[test]
fn the_edl_reads_back_in_opentimelineio_as_one_clip_with_a_locator_per_appearance() {
    for rate in [25.0, 30000.0 / 1001.0, 0.0] {
        let document = document(rate);
        let read = read_back(&document, if rate == 0.0 { 25.0 } else { rate });
        let edl = &read["edl"];
        let frame = 1.0 / if rate == 0.0 { 25.0 } else { rate };
        assert_eq!(edl["title"], "Démo");
        let clips = edl["clips"].as_array().unwrap();
        assert_eq!(clips.len(), 1, "one clip spans the video at {rate} fps");
        assert_eq!(clips[0]["name"], "Démo film.mp4");
        assert!(close(&clips[0]["duration"], document.video.duration_seconds, frame), "{edl}");
        let markers = edl["markers"].as_array().unwrap();
        let expected = appearances(&document);
        assert_eq!(markers.len(), expected.len(), "{edl}");
        for (marker, (name, start, _)) in markers.iter().zip(&expected) {
            // Within half a frame, drop-frame an hour in included.
            assert!(close(&marker["start"], *start, frame / 2.0 + 1e-6), "{marker} at {rate} fps");
            assert!(marker["name"].as_str().unwrap().starts_with(name.as_str()), "{marker}");
            let colour = if name.starts_with("unknown") { "YELLOW" } else { "GREEN" };
            assert_eq!(marker["colour"], colour);
        }
    }
}
