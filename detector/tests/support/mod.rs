//! Shared by the integration tests: where `make test` put the models, photos and
//! synthesised videos, and how to compare results with a video's ground truth.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cameo_detector::gallery::{GalleryFolder, NoCache, enroll};
use cameo_detector::identify::EnrolledPerson;
use cameo_detector::models::Models;
use cameo_detector::pipeline::{PipelineConfig, analyse};
use cameo_detector::results::ResultsDocument;
use cameo_detector::runtime::{DeviceRequest, Runtime};
use serde::Deserialize;

/// A path from the environment that `make test` sets; a test that cannot run fails saying why.
pub fn env_path(name: &str) -> PathBuf {
    let value = std::env::var_os(name)
        .unwrap_or_else(|| panic!("{name} is not set: run the tests with `make test` (it prepares models and videos)"));
    let path = PathBuf::from(value);
    assert!(path.exists(), "{name}={} does not exist: run `make test` (it prepares it)", path.display());
    path
}

pub fn testdata() -> PathBuf {
    env_path("CAMEO_TESTDATA")
}

pub fn models_dir() -> PathBuf {
    env_path("CAMEO_MODELS_DIR")
}

pub fn onnxruntime() -> PathBuf {
    env_path("ORT_DYLIB_PATH")
}

/// The real photos `make setup` extracted from registry packages.
pub fn photo(name: &str) -> PathBuf {
    models_dir().parent().expect("models dir has a parent").join("photos").join(name)
}

/// The Python interpreter of the venv `make setup` made (with onnxruntime and OpenCV).
pub fn python() -> PathBuf {
    models_dir().parent().expect("models dir has a parent").join("venv/bin/python")
}

pub fn load_models() -> (Runtime, Models) {
    let runtime = Runtime::new(&onnxruntime(), DeviceRequest::Cpu, 1).expect("ONNX Runtime loads");
    let models = Models::load(&runtime, &models_dir(), PipelineConfig::default().detector).expect("models load");
    (runtime, models)
}

pub fn load_image(path: &Path) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

/// `<video>.truth.json`, written by hack/synth.py from the scenario.
#[derive(Debug, Deserialize)]
pub struct Truth {
    pub duration: f64,
    /// Named people and the [start, end) seconds they are on screen.
    pub people: BTreeMap<String, Vec<[f64; 2]>>,
    /// Shots with faces of unnamed people.
    pub strangers: Vec<StrangerShot>,
}

#[derive(Debug, Deserialize)]
pub struct StrangerShot {
    pub start: f64,
    pub end: f64,
    pub faces: usize,
}

pub struct ScenarioRun {
    pub document: ResultsDocument,
    pub truth: Truth,
    pub gallery: Vec<EnrolledPerson>,
    pub config: PipelineConfig,
}

/// Analyses testdata/scenarios/<scenario> against testdata/galleries.json's <gallery>.
pub fn run_scenario(scenario: &str, gallery: &str) -> ScenarioRun {
    let dir = testdata();
    let video = dir.join(format!("{scenario}.mp4"));
    let truth: Truth =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{scenario}.truth.json"))).expect("truth"))
            .expect("truth parses");
    let (runtime, mut models) = load_models();
    let folder = GalleryFolder::scan(&dir.join("galleries").join(gallery)).expect("gallery scans");
    let gallery = enroll(folder.photos(), &mut models, &mut NoCache, || {}).expect("gallery enrolls");
    let config = PipelineConfig::default();
    let progress = indicatif::ProgressBar::hidden();
    let source = cameo_detector::video::VideoSource::File(video);
    let analysis = analyse(&source, &mut models, &gallery, &config, runtime.device().name(), &progress)
        .expect("analysis succeeds");
    ScenarioRun { document: analysis.document, truth, gallery, config }
}

impl ScenarioRun {
    fn period(&self) -> f64 {
        1.0 / self.config.fps
    }

    /// Every enrolled person on screen is found in exactly their intervals (each end within
    /// one sample period), and enrolled people who are absent are not reported.
    pub fn assert_enrolled_people_match_truth(&self) {
        let tolerance = self.period() + 1e-6;
        for person in &self.gallery {
            let truth = self.truth.people.get(&person.name);
            let found = self.document.people.iter().find(|p| p.name == person.name);
            match (truth, found) {
                (None, None) => {}
                (None, Some(found)) => panic!("{} is enrolled but absent, yet reported: {found:?}", person.name),
                (Some(truth), None) => panic!("{} is on screen at {truth:?} but was not found", person.name),
                (Some(truth), Some(found)) => {
                    let spans: Vec<[f64; 2]> =
                        found.appearances.iter().map(|a| [a.start_seconds, a.end_seconds]).collect();
                    let matches = spans.len() == truth.len()
                        && spans
                            .iter()
                            .zip(truth)
                            .all(|(s, t)| (s[0] - t[0]).abs() <= tolerance && (s[1] - t[1]).abs() <= tolerance);
                    assert!(matches, "{}: found {spans:?}, truth {truth:?} (tolerance {tolerance} s)", person.name);
                }
            }
        }
    }

    /// People on screen who are not enrolled, and unnamed faces, are reported as unknown
    /// clusters during their time on screen.
    pub fn assert_strangers_are_unknown(&self) {
        let enrolled: Vec<&str> = self.gallery.iter().map(|p| p.name.as_str()).collect();
        let mut shots: Vec<(f64, f64, usize)> =
            self.truth.strangers.iter().map(|s| (s.start, s.end, s.faces)).collect();
        for (name, spans) in &self.truth.people {
            if !enrolled.contains(&name.as_str()) {
                shots.extend(spans.iter().map(|s| (s[0], s[1], 1)));
            }
        }
        for (start, end, faces) in shots {
            let clusters = self
                .document
                .unknown
                .iter()
                .filter(|u| u.appearances.iter().any(|a| a.start_seconds < end && a.end_seconds > start))
                .count();
            assert!(
                clusters >= faces,
                "{faces} unenrolled face(s) on screen in [{start}, {end}) but {clusters} unknown cluster(s) there: {:#?}",
                self.document.unknown
            );
        }
    }
}
