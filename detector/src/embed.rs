//! Face embedding with SFace: aligned 112x112 crops in, unit-length 128-d vectors out.

use image::RgbImage;
use ort::{session::Session, value::Tensor};

use crate::align::CROP_SIZE;
use crate::error::{Error, Result};
use crate::runtime::{Device, ModelFile, Runtime};

pub const EMBEDDING_DIM: usize = 128;

/// Crops embedded per inference call. On CPU, batches beyond 4 run slower per face
/// (measured: 17 ms at 1-4, 31 ms at 32, one thread); a GPU wants large batches.
const CPU_BATCH: usize = 4;
const GPU_BATCH: usize = 32;

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

pub struct FaceEmbedder {
    session: Session,
    batch_size: usize,
}

impl FaceEmbedder {
    pub fn new(runtime: &Runtime, model: &ModelFile) -> Result<Self> {
        let session = runtime.session(model)?;
        let batch_size = if runtime.device() == Device::Cuda { GPU_BATCH } else { CPU_BATCH };
        Ok(FaceEmbedder { session, batch_size })
    }

    /// Crops per inference call.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Embeds aligned crops, [`Self::batch_size`] per inference call.
    pub fn embed(&mut self, crops: &[RgbImage]) -> Result<Vec<Embedding>> {
        let mut embeddings = Vec::with_capacity(crops.len());
        for batch in crops.chunks(self.batch_size) {
            let tensor =
                Tensor::from_array(([batch.len(), 3, CROP_SIZE as usize, CROP_SIZE as usize], input_tensor(batch)))?;
            let outputs = self.session.run(ort::inputs!["data" => tensor])?;
            let (shape, values) = outputs[0].try_extract_tensor::<f32>()?;
            if values.len() != batch.len() * EMBEDDING_DIM {
                return Err(Error::Inference(format!("recognizer returned shape {shape:?} for {} crops", batch.len())));
            }
            embeddings.extend(values.chunks_exact(EMBEDDING_DIM).map(|v| Embedding::normalized(v.to_vec())));
        }
        Ok(embeddings)
    }
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
    fn input_is_rgb_planar() {
        let crop = RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([1, 2, 3]));
        let data = input_tensor(&[crop]);
        let plane = (CROP_SIZE * CROP_SIZE) as usize;
        assert_eq!((data[0], data[plane], data[2 * plane]), (1.0, 2.0, 3.0));
    }
}
