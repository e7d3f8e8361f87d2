//! The two face models, loaded once and shared by the gallery and the video pipeline.

use std::path::Path;

use image::RgbImage;

use crate::align::align_face;
use crate::cli::{RuntimeArgs, cache_root};
use crate::detect::{Detection, DetectorConfig, DetectorInput, FaceDetector, default_min_face_px};
use crate::embed::{Embedding, FaceEmbedder, Recognisers};
use crate::error::{Error, Result};
use crate::results::ModelInfo;
use crate::runtime::{Device, ModelFile, Runtime};

/// File names inside the models directory, as `make setup` prepares them.
pub const DETECTOR_FILE: &str = "yunet.onnx";
pub const RECOGNIZER_FILE: &str = "sface.onnx";
pub const RECOGNIZER_INT8_FILE: &str = "sface_int8.onnx";

/// The tracking recogniser's precision. On CPU, int8 (its Conv layers quantised with 7-bit
/// weights, see `hack/prepare_models.py`, so every x86 CPU computes the same) embeds a face
/// 1.5x faster than fp32 where the CPU has VNNI (15-17 against 25 ms here) and as fast
/// without, with embeddings within cosine 0.97 of fp32's. Names are always decided on
/// fp32 evidence where int8's could go either way ([`crate::identify`]); on a GPU fp32 is
/// as fast and exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp32,
    Int8,
}

impl Precision {
    /// The faster precision on `device`.
    pub fn fastest_on(device: Device) -> Self {
        match device {
            Device::Cpu => Precision::Int8,
            Device::Cuda => Precision::Fp32,
        }
    }

    fn file(self) -> &'static str {
        match self {
            Precision::Fp32 => RECOGNIZER_FILE,
            Precision::Int8 => RECOGNIZER_INT8_FILE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
        }
    }
}

const SFACE: &str = "SFace 2021dec (OpenCV Zoo)";

/// Boxes are loose estimates: a face counts as large enough within this fraction of the minimum.
const MIN_FACE_SLACK: f32 = 0.8;

pub struct Models {
    pub detector: FaceDetector,
    /// The tracking recogniser in `precision`, and fp32 beside it when that is int8.
    pub recognisers: Recognisers,
    pub detector_file: ModelFile,
    pub recognizer_file: ModelFile,
    pub fp32_recognizer_file: ModelFile,
    pub precision: Precision,
}

impl Models {
    /// Loads both models; the recogniser in `precision`, or the fastest on the runtime's device.
    pub fn load(runtime: &Runtime, dir: &Path, config: DetectorConfig, precision: Option<Precision>) -> Result<Self> {
        let precision = precision.unwrap_or_else(|| Precision::fastest_on(runtime.device()));
        let detector_file = ModelFile::open(dir.join(DETECTOR_FILE))?;
        let recognizer_file = ModelFile::open(dir.join(precision.file()))?;
        let fp32_recognizer_file = ModelFile::open(dir.join(Precision::Fp32.file()))?;
        let fp32 = match precision {
            Precision::Fp32 => None,
            // A session per core too: gallery photos and the templates of a video's faces
            // come in batches, with every core free.
            Precision::Int8 => Some(FaceEmbedder::new(runtime, &fp32_recognizer_file)?),
        };
        Ok(Models {
            detector: FaceDetector::new(runtime, &detector_file, config)?,
            recognisers: Recognisers { tracking: FaceEmbedder::new(runtime, &recognizer_file)?, fp32 },
            detector_file,
            recognizer_file,
            fp32_recognizer_file,
            precision,
        })
    }

    pub fn detector_info(&self) -> ModelInfo {
        ModelInfo { name: "YuNet 2023mar (OpenCV Zoo)".into(), sha256: self.detector_file.sha256.clone() }
    }

    pub fn recognizer_info(&self) -> ModelInfo {
        let name = match self.precision {
            Precision::Fp32 => SFACE,
            Precision::Int8 => "SFace 2021dec (OpenCV Zoo), int8",
        };
        ModelInfo { name: name.into(), sha256: self.recognizer_file.sha256.clone() }
    }

    /// The fp32 recogniser beside an int8 one.
    pub fn fp32_recognizer_info(&self) -> Option<ModelInfo> {
        self.recognisers
            .fp32
            .as_ref()
            .map(|_| ModelInfo { name: SFACE.into(), sha256: self.fp32_recognizer_file.sha256.clone() })
    }

    /// Loads ONNX Runtime and both models as the command line says.
    pub fn from_args(args: &RuntimeArgs, config: DetectorConfig) -> Result<(Runtime, Models)> {
        let runtime = Runtime::new(&args.onnxruntime, args.device, args.threads)?;
        let dir = args
            .models
            .clone()
            .or_else(|| cache_root().map(|d| d.join("models")))
            .ok_or_else(|| Error::Config("no models folder: pass --models or set CAMEO_MODELS_DIR".into()))?;
        let models = Models::load(&runtime, &dir, config, args.precision)?;
        Ok((runtime, models))
    }

    /// Every face in a still image, best detection first, with its aligned crop.
    pub fn aligned_faces(&mut self, image: &RgbImage) -> Result<Vec<(Detection, RgbImage)>> {
        let min_face_px = default_min_face_px(image.width(), image.height());
        let input = DetectorInput::from_image(image, min_face_px);
        let faces = self.detector.detect(&input)?.into_iter().filter(|d| large_enough(d, min_face_px));
        Ok(faces.map(|d| (d, align_face(image, &d.landmarks))).collect())
    }

    /// Every face in a still image with its fp32 embedding, best detection first.
    pub fn faces_in_image(&mut self, image: &RgbImage) -> Result<Vec<(Detection, Embedding)>> {
        let (faces, crops): (Vec<Detection>, Vec<RgbImage>) = self.aligned_faces(image)?.into_iter().unzip();
        let embeddings = self.recognisers.embed_fp32(&crops)?;
        Ok(faces.into_iter().zip(embeddings).collect())
    }
}

/// Whether a detection is at least the smallest face we promise to find (faces below it
/// give embeddings too poor to trust).
pub fn large_enough(detection: &Detection, min_face_px: f32) -> bool {
    detection.bbox.height >= MIN_FACE_SLACK * min_face_px
}
