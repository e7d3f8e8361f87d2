//! The `cameo-detector` binary: documented exit codes and messages on bad input, nothing
//! partial written, and a results document that matches the committed JSON Schema.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{photo, testdata};

const BIN: &str = env!("CARGO_BIN_EXE_cameo-detector");
const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/results.v1.json");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn detect(video: &Path, gallery: &Path, extra: &[&str]) -> Run {
    let cache = tempfile::tempdir().unwrap();
    let output: Output = Command::new(BIN)
        .args(["detect", "--log-format", "json", "--video"])
        .arg(video)
        .arg("--gallery")
        .arg(gallery)
        .args(extra)
        .env("CAMEO_CACHE_DIR", cache.path())
        .output()
        .expect("cameo-detector runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn demo_gallery() -> PathBuf {
    testdata().join("galleries/demo")
}

/// Runs with `--json` into a fresh folder and checks the exit code, the message, and that
/// no results file (or stray temporary) was written.
fn assert_fails(video: &Path, gallery: &Path, extra: &[&str], code: i32, message: &str) {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("result.json");
    let mut args = vec!["--json", json.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = detect(video, gallery, &args);
    assert_eq!(run.code, code, "exit code; stderr: {}", run.stderr);
    assert!(run.stderr.contains(message), "stderr should say {message:?}: {}", run.stderr);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "something was written on failure");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn bad_videos_exit_2_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read(testdata().join("demo.mp4")).unwrap();
    let gallery = demo_gallery();

    let empty = write(dir.path(), "empty.mp4", b"");
    assert_fails(&empty, &gallery, &[], 2, "the file is empty");

    let noise: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let corrupt = write(dir.path(), "corrupt.mp4", &noise);
    assert_fails(&corrupt, &gallery, &[], 2, "not a readable video container");

    // demo.mp4 is written with +faststart, so its index survives and the frames run out.
    let truncated = write(dir.path(), "truncated.mp4", &demo[..demo.len() / 2]);
    assert_fails(&truncated, &gallery, &[], 2, "truncated");

    let text = write(dir.path(), "notes.mp4", "just some notes, not a film\n".repeat(100).as_bytes());
    assert_fails(&text, &gallery, &[], 2, "notes.mp4");

    assert_fails(&dir.path().join("missing.mp4"), &gallery, &[], 2, "missing.mp4");
}

#[test]
fn an_audio_file_has_no_video_stream() {
    let dir = tempfile::tempdir().unwrap();
    // One second of 8 kHz 16-bit mono silence as a WAV file.
    let samples = 8000u32;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples * 2).to_le_bytes());
    wav.resize(wav.len() + (samples * 2) as usize, 0);
    let audio = write(dir.path(), "speech.wav", &wav);
    assert_fails(&audio, &demo_gallery(), &[], 2, "no video stream");
}

/// A gallery with one good photo of Obama beside every kind of mistake: an empty file, a
/// truncated JPEG, a group photo, a photo without a face, a face too small, a person folder
/// without photos.
fn gallery_with_mistakes(root: &Path) -> PathBuf {
    let gallery = root.join("gallery");
    let folder = |name: &str| {
        let path = gallery.join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    };
    let obama = folder("Barack Obama");
    std::fs::copy(photo("obama.jpg"), obama.join("portrait.jpg")).unwrap();
    write(&obama, "empty.jpg", b"");
    let jpeg = std::fs::read(photo("obama2.jpg")).unwrap();
    write(&obama, "truncated.jpg", &jpeg[..jpeg.len() / 3]);
    std::fs::copy(photo("friends.jpg"), folder("The Friends").join("cast.jpg")).unwrap();
    std::fs::copy(photo("chelsea.png"), folder("Chelsea").join("cat.png")).unwrap();
    let small = image::open(photo("obama3.jpg")).unwrap().thumbnail(120, 120);
    small.save(folder("Barack Obama").join("small.png")).unwrap();
    folder("Nobody");
    gallery
}

#[test]
fn unusable_gallery_photos_are_skipped_with_their_reasons_and_the_video_is_analysed_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let gallery = gallery_with_mistakes(dir.path());
    let json = dir.path().join("demo.json");
    let cache = dir.path().join("cache");
    let run = detect(
        &testdata().join("demo.mp4"),
        &gallery,
        &["--json", json.to_str().unwrap(), "--cache-dir", cache.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Barack Obama"), "{}", run.stdout);
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!((document["gallery"]["people"].as_u64(), document["gallery"]["photos"].as_u64()), (Some(1), Some(1)));
    let skipped: Vec<(String, String)> = document["gallery"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["location"].as_str().unwrap().to_string(), s["reason"].as_str().unwrap().to_string()))
        .collect();
    let reason = |file: &str| {
        skipped.iter().find(|(location, _)| location.ends_with(file)).map(|(_, r)| r.clone()).unwrap_or_default()
    };
    assert!(reason("empty.jpg").contains("not a readable image"), "{skipped:#?}");
    // The decoder keeps what it can of a cut JPEG: no face survives in what is left.
    assert!(!reason("truncated.jpg").is_empty(), "{skipped:#?}");
    assert!(reason("cast.jpg").contains("6 faces found"), "{skipped:#?}");
    assert!(reason("cat.png").contains("no face found"), "{skipped:#?}");
    assert!(reason("small.png").contains("px tall"), "{skipped:#?}");
    assert!(reason("Nobody").contains("no .jpg, .jpeg or .png photos"), "{skipped:#?}");
    assert_eq!(skipped.len(), 6, "{skipped:#?}");
    assert!(run.stderr.contains("gallery photo skipped"), "the log says so: {}", run.stderr);

    // Every photo's verdict is cached by content, the skipped ones' too, so shards and
    // later runs do not look at a bad photo again: a folder per photo's content, a record
    // per models and rules.
    let records: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .flat_map(|folder| std::fs::read_dir(folder.unwrap().path()).unwrap())
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(records.len(), 6, "one per photo read: {records:#?}");
    assert!(records.iter().any(|r| r.contains("6 faces found")), "{records:#?}");

    // With --strict-gallery the first mistake is bad input, as before.
    assert_fails(
        &testdata().join("demo.mp4"),
        &gallery,
        &["--strict-gallery"],
        2,
        "has no .jpg, .jpeg or .png photos (and 5 more)",
    );
}

#[test]
fn an_empty_gallery_analyses_the_video_with_everyone_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let gallery = dir.path().join("nobody yet");
    std::fs::create_dir(&gallery).unwrap();
    let json = dir.path().join("demo.json");
    let run = detect(&testdata().join("demo.mp4"), &gallery, &["--json", json.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("nobody is enrolled"), "{}", run.stderr);
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(document["people"].as_array().map(Vec::len), Some(0));
    assert!(document["unknown"].as_array().is_some_and(|u| u.len() >= 8), "{}", document["unknown"]);

    assert_fails(&testdata().join("demo.mp4"), &gallery, &["--strict-gallery"], 2, "nobody with a usable photo");
    assert_fails(&testdata().join("demo.mp4"), &dir.path().join("absent"), &[], 2, "absent");
}

#[test]
fn missing_models_and_unavailable_cuda_exit_3() {
    let video = testdata().join("no_faces.mp4");
    let empty = tempfile::tempdir().unwrap();
    let models = empty.path().to_str().unwrap();
    assert_fails(&video, &demo_gallery(), &["--models", models], 3, "make setup");
    assert_fails(&video, &demo_gallery(), &["--device", "cuda"], 3, "--device cuda");
    assert_fails(&video, &demo_gallery(), &["--fps", "0"], 3, "--fps");
    assert_fails(&video, &demo_gallery(), &["--no-such-flag"], 3, "--no-such-flag");
}

#[test]
fn the_committed_schema_is_generated_from_the_rust_types() {
    let generated = Command::new(BIN).arg("schema").output().unwrap();
    assert!(generated.status.success());
    let generated: serde_json::Value = serde_json::from_slice(&generated.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA).unwrap()).unwrap();
    assert!(
        generated == committed,
        "detector/schema/results.v1.json is stale: run `cameo-detector schema > detector/schema/results.v1.json`"
    );
}

#[test]
fn the_results_document_validates_against_the_schema_and_names_only_enrolled_people() {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("demo.json");
    let timeline = out.path().join("demo.png");
    let run = detect(
        &testdata().join("demo.mp4"),
        &demo_gallery(),
        &["--json", json.to_str().unwrap(), "--timeline", timeline.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Barack Obama"), "the table names who appears: {}", run.stdout);

    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(document["schemaVersion"], "cameo.dev/results/v1");

    let names: Vec<&str> = document["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Barack Obama"]);

    let png = image::open(&timeline).expect("the timeline is a PNG");
    assert!(png.width() >= 800 && png.height() > 100);
}
