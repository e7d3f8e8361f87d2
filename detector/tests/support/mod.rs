//! Shared by the integration tests: where `make test` put the models, photos and
//! synthesised videos, and how to compare results with a video's ground truth.
#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};

use cameo_detector::evaluate::{Truth, mismatches};
use cameo_detector::gallery::{GalleryFolder, NoCache, enroll};
use cameo_detector::identify::{EnrolledPerson, IdentifiedTrack};
use cameo_detector::models::Models;
use cameo_detector::pipeline::{PipelineConfig, analyse_tracks};
use cameo_detector::results::ResultsDocument;
use cameo_detector::runtime::{DeviceRequest, Runtime};

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
    let models = Models::load(&runtime, &models_dir(), PipelineConfig::default().detector, None).expect("models load");
    (runtime, models)
}

pub fn load_image(path: &Path) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

pub struct ScenarioRun {
    pub document: ResultsDocument,
    /// What the appearances stage made the document from.
    pub tracks: Vec<IdentifiedTrack>,
    pub truth: Truth,
    pub gallery: Vec<EnrolledPerson>,
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
    let gallery =
        enroll(folder.photos(), folder.skipped.clone(), &mut models, &mut NoCache, || {}).expect("gallery enrolls");
    let config = PipelineConfig::default();
    let progress = indicatif::ProgressBar::hidden();
    let source = cameo_detector::video::VideoSource::File(video);
    let analysis = analyse_tracks(&source, None, &mut models, &gallery, &config, runtime.device().name(), &progress)
        .expect("analysis succeeds");
    ScenarioRun { document: analysis.document(), tracks: analysis.tracks, truth, gallery: gallery.people }
}

impl ScenarioRun {
    /// The results match the ground truth (see `cameo_detector::evaluate`).
    pub fn assert_matches_truth(&self) {
        let enrolled: Vec<&str> = self.gallery.iter().map(|p| p.name.as_str()).collect();
        let problems = mismatches(&self.document, &self.truth, &enrolled);
        assert!(problems.is_empty(), "{problems:#?}\nunknown: {:#?}", self.document.unknown);
    }
}
