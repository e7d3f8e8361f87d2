//! Numerical parity with onnxruntime in Python on the same image: boxes and landmarks
//! within 0.01 px, scores within 1e-4, embeddings at cosine >= 0.995 (alignment is
//! OpenCV's alignCrop there and ours here, so crops differ by interpolation rounding).

mod support;

use std::process::Command;

use cameo_detector::align::align_face;
use cameo_detector::detect::DetectorInput;
use cameo_detector::embed::Embedding;
use cameo_detector::pipeline::PipelineConfig;
use serde::Deserialize;
use support::{load_image, load_models, models_dir, photo, python};

#[derive(Debug, Deserialize)]
struct ReferenceFace {
    bbox: [f32; 4],
    landmarks: [[f32; 2]; 5],
    score: f32,
    embedding: Vec<f32>,
}

fn assert_parity(photo_name: &str, expected_faces: usize) {
    // Both sides read the same pixels: JPEG decoders differ by a level here and there.
    let image = load_image(&photo(photo_name));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.png");
    image.save(&path).unwrap();
    let threshold = PipelineConfig::default().detector.score_threshold;
    let (_runtime, mut models) = load_models();
    let output = Command::new(python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parity.py"))
        .arg(&path)
        .arg(models_dir())
        .arg(threshold.to_string())
        .arg(&models.recognizer_file.path)
        .output()
        .expect("the setup venv's python runs");
    assert!(output.status.success(), "parity.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let reference: Vec<ReferenceFace> = serde_json::from_slice(&output.stdout).expect("parity.py prints JSON");

    // Detect at the image's own size, as the reference does.
    let input = DetectorInput { image: image.clone(), scale_x: 1.0, scale_y: 1.0 };
    let faces = models.detector.detect(&input).unwrap();
    assert_eq!(faces.len(), reference.len(), "{photo_name}: face count differs from onnxruntime in Python");
    assert_eq!(faces.len(), expected_faces, "{photo_name}");
    let crops: Vec<_> = faces.iter().map(|f| align_face(&image, &f.landmarks)).collect();
    let embeddings = models.recognisers.tracking.embed(&crops).unwrap();
    for ((face, embedding), expected) in faces.iter().zip(&embeddings).zip(&reference) {
        let bbox = [face.bbox.x, face.bbox.y, face.bbox.width, face.bbox.height];
        for (got, want) in bbox.iter().zip(&expected.bbox) {
            assert!((got - want).abs() < 0.01, "{photo_name}: box {bbox:?} vs {:?}", expected.bbox);
        }
        for (got, want) in face.landmarks.iter().zip(&expected.landmarks) {
            assert!(
                (got.x - want[0]).abs() < 0.01 && (got.y - want[1]).abs() < 0.01,
                "{photo_name}: landmark {got:?} vs {want:?}"
            );
        }
        assert!((face.score - expected.score).abs() < 1e-4, "{photo_name}: score {} vs {}", face.score, expected.score);
        let cosine = embedding.cosine(&Embedding(expected.embedding.clone()));
        assert!(cosine >= 0.995, "{photo_name}: embedding cosine {cosine} with the reference");
    }
}

#[test]
fn one_face_matches_onnxruntime_in_python() {
    assert_parity("obama.jpg", 1);
}

#[test]
fn a_group_photo_matches_onnxruntime_in_python() {
    assert_parity("friends.jpg", 6);
}
