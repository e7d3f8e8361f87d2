//! Face embedding with SFace: aligned 112x112 crops in, unit-length 128-d vectors out.

use std::rc::Rc;

use image::RgbImage;
use ort::{session::Session, value::Tensor};

use crate::align::CROP_SIZE;
use crate::error::{Error, Result};
use crate::geometry::BBox;
use crate::runtime::{Device, ModelFile, Runtime};

pub const EMBEDDING_DIM: usize = 128;

/// Crops embedded per inference call. On CPU, batches beyond 4 run slower per face
/// (measured: 17 ms at 1-4, 31 ms at 32, one thread); a GPU wants large batches.
const CPU_BATCH: usize = 4;
const GPU_BATCH: usize = 32;

/// At most this many SFace sessions on CPU (each holds its own copy of the weights).
const MAX_CPU_SESSIONS: usize = 4;

/// A unit-length face embedding; faces of the same person have a high cosine similarity.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// Normalises to unit length (a zero vector stays zero).
    pub fn normalized(mut values: Vec<f32>) -> Self {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            values.iter_mut().for_each(|v| *v /= norm);
        }
        Embedding(values)
    }

    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    /// The normalised mean of several embeddings: a template for a track or cluster.
    pub fn mean<'a>(embeddings: impl IntoIterator<Item = &'a Embedding>) -> Embedding {
        let mut sum = vec![0f32; EMBEDDING_DIM];
        for e in embeddings {
            sum.iter_mut().zip(&e.0).for_each(|(s, v)| *s += v);
        }
        Embedding::normalized(sum)
    }
}

/// SFace sessions, one per core on CPU: ONNX Runtime's own threads barely speed SFace up
/// (measured here: 25.4 ms per face with one intra-op thread, 23.8 with two), while two
/// sessions side by side each keep their one-thread speed.
pub struct FaceEmbedder {
    sessions: Vec<Session>,
    /// Crops per inference call of one session.
    session_batch: usize,
}

impl FaceEmbedder {
    pub fn new(runtime: &Runtime, model: &ModelFile) -> Result<Self> {
        let (count, session_batch) = match runtime.device() {
            Device::Cuda => (1, GPU_BATCH),
            Device::Cpu => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                ((cores / runtime.intra_threads().max(1)).clamp(1, MAX_CPU_SESSIONS), CPU_BATCH)
            }
        };
        let sessions = (0..count).map(|_| runtime.session(model)).collect::<Result<_>>()?;
        Ok(FaceEmbedder { sessions, session_batch })
    }

    /// Crops worth waiting for before an [`Self::embed`] call: a batch for every session.
    pub fn batch_size(&self) -> usize {
        self.session_batch * self.sessions.len()
    }

    /// Embeds aligned crops, shared out between the sessions.
    pub fn embed(&mut self, crops: &[RgbImage]) -> Result<Vec<Embedding>> {
        let batch = self.session_batch;
        if self.sessions.len() == 1 || crops.len() <= batch {
            return embed_on(&mut self.sessions[0], crops, batch);
        }
        let share = crops.len().div_ceil(self.sessions.len());
        std::thread::scope(|scope| {
            let parts: Vec<_> = self
                .sessions
                .iter_mut()
                .zip(crops.chunks(share))
                .map(|(session, part)| scope.spawn(move || embed_on(session, part, batch)))
                .collect();
            let mut embeddings = Vec::with_capacity(crops.len());
            for part in parts {
                embeddings.extend(part.join().map_err(|_| Error::Inference("an embedding thread panicked".into()))??);
            }
            Ok(embeddings)
        })
    }
}

/// The tracking recogniser, and the fp32 one beside it when tracking is int8.
pub struct Recognisers {
    pub tracking: FaceEmbedder,
    /// The fp32 recogniser the match threshold is calibrated for, when `tracking` is int8:
    /// it embeds gallery photos and the faces whose int8 evidence is too close to call.
    pub fp32: Option<FaceEmbedder>,
}

impl Recognisers {
    /// Embeds aligned faces in fp32, whatever the tracking precision.
    pub fn embed_fp32(&mut self, crops: &[RgbImage]) -> Result<Vec<Embedding>> {
        self.fp32.as_mut().unwrap_or(&mut self.tracking).embed(crops)
    }
}

/// Embeds crops on one session, `batch` per inference call.
fn embed_on(session: &mut Session, crops: &[RgbImage], batch: usize) -> Result<Vec<Embedding>> {
    let mut embeddings = Vec::with_capacity(crops.len());
    for chunk in crops.chunks(batch) {
        let tensor =
            Tensor::from_array(([chunk.len(), 3, CROP_SIZE as usize, CROP_SIZE as usize], input_tensor(chunk)))?;
        let outputs = session.run(ort::inputs!["data" => tensor])?;
        let (shape, values) = outputs[0].try_extract_tensor::<f32>()?;
        if values.len() != chunk.len() * EMBEDDING_DIM {
            return Err(Error::Inference(format!("recognizer returned shape {shape:?} for {} crops", chunk.len())));
        }
        embeddings.extend(values.chunks_exact(EMBEDDING_DIM).map(|v| Embedding::normalized(v.to_vec())));
    }
    Ok(embeddings)
}

/// A face keeps the embedding of the previous sample's face when its crop differs from the
/// crop that embedding came from by at most this (mean absolute difference of the 0-255
/// values): compression noise, landmark jitter and sub-pixel motion of a face that stayed
/// put. Measured on the test videos' consecutive samples of one face (the crowd clip's
/// 3,457 pairs: median 6.7, 75th percentile 11.2, 90th 16.1): crops within 10 embed at
/// cosine 0.87 or more to each other, within 14 at 0.81 or more; crops of different people
/// in the same place differ by 17 or more. At 14 rather than 10 the crowd clip embeds 854
/// faces instead of 1,346, with the same results on every scenario.
const UNCHANGED_MAX_DIFFERENCE: f32 = 14.0;

/// ... and it is in the same shot, overlapping that face's box at least this much.
const UNCHANGED_MIN_IOU: f32 = 0.5;

/// The faces of the previous sampled frame and the crops their embeddings came from, so
/// that a face is embedded again only when it has changed enough. Comparing with the crop
/// that was embedded, not the latest one, keeps slow changes from adding up unseen.
#[derive(Default)]
pub struct UnchangedFaces {
    previous: Vec<EmbeddedFace>,
    current: Vec<EmbeddedFace>,
}

#[derive(Clone)]
struct EmbeddedFace {
    shot: u32,
    bbox: BBox,
    crop: Rc<RgbImage>,
    /// The caller's index for the embedding.
    embedding: usize,
}

impl UnchangedFaces {
    /// Starts the next sampled frame: the faces remembered so far are the previous frame's.
    pub fn next_frame(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }

    /// The embedding (an index given to [`Self::remember`]) a face keeps because the
    /// previous frame's face in its place looked the same, remembering it for the next
    /// frame; `None` when it must be embedded.
    pub fn reuse(&mut self, shot: u32, bbox: &BBox, crop: &RgbImage) -> Option<usize> {
        let same = self
            .previous
            .iter()
            .filter(|face| face.shot == shot && face.bbox.iou(bbox) >= UNCHANGED_MIN_IOU)
            .max_by(|a, b| a.bbox.iou(bbox).total_cmp(&b.bbox.iou(bbox)))
            .filter(|face| mean_difference(&face.crop, crop) <= UNCHANGED_MAX_DIFFERENCE)?;
        let kept = EmbeddedFace { bbox: *bbox, ..same.clone() };
        self.current.push(kept);
        Some(same.embedding)
    }

    /// Remembers a face of this frame that is embedded afresh from `crop`.
    pub fn remember(&mut self, shot: u32, bbox: BBox, crop: RgbImage, embedding: usize) {
        self.current.push(EmbeddedFace { shot, bbox, crop: Rc::new(crop), embedding });
    }
}

/// Mean absolute difference of two crops' values (255 for crops of different sizes).
fn mean_difference(a: &RgbImage, b: &RgbImage) -> f32 {
    if a.dimensions() != b.dimensions() {
        return 255.0;
    }
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f32 / a.as_raw().len().max(1) as f32
}

/// SFace's input: RGB, 0-255, planar (its normalisation is inside the graph).
fn input_tensor(crops: &[RgbImage]) -> Vec<f32> {
    let plane = (CROP_SIZE * CROP_SIZE) as usize;
    let mut data = vec![0f32; crops.len() * 3 * plane];
    for (crop, out) in crops.iter().zip(data.chunks_exact_mut(3 * plane)) {
        for (i, rgb) in crop.as_raw().chunks_exact(3).enumerate() {
            for c in 0..3 {
                out[c * plane + i] = rgb[c] as f32;
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_unit_length_and_cosine_of_self_is_one() {
        let e = Embedding::normalized(vec![3.0, 4.0]);
        assert_eq!(e.0, vec![0.6, 0.8]);
        assert!((e.cosine(&e) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_face_that_stays_put_keeps_its_embedding_until_it_has_changed_enough() {
        let bbox = BBox { x: 100.0, y: 100.0, width: 50.0, height: 50.0 };
        let crop = |level: u8| RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([level, level, level]));
        // Two steps of change are more than enough, one is not.
        let (start, step) = (100, (0.6 * UNCHANGED_MAX_DIFFERENCE) as u8);
        let mut faces = UnchangedFaces::default();
        faces.remember(0, bbox, crop(start), 7);
        faces.next_frame();
        assert_eq!(faces.reuse(0, &BBox { x: 104.0, ..bbox }, &crop(start + step)), Some(7), "noise and motion");
        faces.next_frame();
        // Compared with the crop that was embedded, not the latest one.
        assert_eq!(faces.reuse(0, &bbox, &crop(start + 2 * step)), None, "changes add up");
        faces.remember(0, bbox, crop(start), 8);
        faces.next_frame();
        assert_eq!(faces.reuse(1, &bbox, &crop(start)), None, "after a cut");
        faces.next_frame();
        assert_eq!(faces.reuse(0, &bbox, &crop(start)), None, "only from the previous frame");
        faces.remember(0, bbox, crop(start), 9);
        faces.next_frame();
        assert_eq!(faces.reuse(0, &BBox { x: 140.0, ..bbox }, &crop(start)), None, "elsewhere");
    }

    #[test]
    fn input_is_rgb_planar() {
        let crop = RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([1, 2, 3]));
        let data = input_tensor(&[crop]);
        let plane = (CROP_SIZE * CROP_SIZE) as usize;
        assert_eq!((data[0], data[plane], data[2 * plane]), (1.0, 2.0, 3.0));
    }
}
