//! Face detection with YuNet: boxes, five landmarks and a score per face.
//!
//! YuNet is fully convolutional, so it runs at any input size that is a multiple
//! of 32. The input is scaled from the frame so that the smallest face we promise
//! to find is still large enough for YuNet, no larger: a 1080p frame runs at
//! 960x544 instead of 1920x1088, a quarter of the pixels.

use image::RgbImage;
use ort::{session::Session, value::Tensor};

use crate::error::{Error, Result};
use crate::geometry::{BBox, Point};
use crate::runtime::{ModelFile, Runtime};

/// Smallest face height (pixels at the detector input) that YuNet still finds:
/// real faces of 20 px score 0.83-0.93, under 16 px they fade (`make bench` prints the sweep).
pub const YUNET_MIN_FACE_PX: f32 = 20.0;

/// The smallest face we promise to find, as a fraction of the frame height:
/// 40 px in 1080p (AWS Rekognition Video's documented minimum), 27 px in 720p.
pub const DEFAULT_MIN_FACE_FRACTION: f32 = 40.0 / 1080.0;

/// Output strides of YuNet's three detection heads.
const STRIDES: [usize; 3] = [8, 16, 32];

#[derive(Debug, Clone, Copy)]
pub struct DetectorConfig {
    /// Minimum face score, sqrt(class x objectness). The OpenCV Zoo default of 0.9 assumes
    /// native resolution; at our reduced input a 40 px face in 1080p scores 0.83, and
    /// non-faces (cats, coffee, rockets in the tests) stay under 0.6.
    pub score_threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped.
    pub nms_iou: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig { score_threshold: 0.8, nms_iou: 0.3 }
    }
}

/// One face in source-frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub bbox: BBox,
    /// Right eye, left eye, nose tip, right and left mouth corners (as seen in the image).
    pub landmarks: [Point; 5],
    pub score: f32,
}

/// The image YuNet sees: the frame scaled for detection, and the factors back to frame pixels.
pub struct DetectorInput {
    pub image: RgbImage,
    pub scale_x: f32,
    pub scale_y: f32,
}

impl DetectorInput {
    /// Scales a still image (gallery photo, test image) for detection in Rust; video
    /// frames arrive already scaled by the decoder.
    pub fn from_image(image: &RgbImage, min_face_px: f32) -> Self {
        let (width, height) = detection_size(image.width(), image.height(), min_face_px);
        let scaled = if (width, height) == image.dimensions() {
            image.clone()
        } else {
            image::imageops::resize(image, width, height, image::imageops::FilterType::Triangle)
        };
        DetectorInput {
            image: scaled,
            scale_x: image.width() as f32 / width as f32,
            scale_y: image.height() as f32 / height as f32,
        }
    }
}

/// Detection input size for a frame: scaled so a face of `min_face_px` frame pixels
/// is [`YUNET_MIN_FACE_PX`] at the input, never enlarged.
pub fn detection_size(width: u32, height: u32, min_face_px: f32) -> (u32, u32) {
    let scale = (YUNET_MIN_FACE_PX / min_face_px.max(1.0)).min(1.0);
    let scaled = |v: u32| ((v as f32 * scale).round() as u32).max(1);
    (scaled(width), scaled(height))
}

/// The default smallest face for a frame of this size, in pixels: a fraction of its
/// shorter side, so that a portrait 1080x1920 video is held to 1080p's 40 px.
pub fn default_min_face_px(width: u32, height: u32) -> f32 {
    width.min(height) as f32 * DEFAULT_MIN_FACE_FRACTION
}

pub struct FaceDetector {
    session: Session,
    config: DetectorConfig,
}

impl FaceDetector {
    pub fn new(runtime: &Runtime, model: &ModelFile, config: DetectorConfig) -> Result<Self> {
        let session = runtime.session(model)?;
        Ok(FaceDetector { session, config })
    }

    /// Faces in the frame, best first, in frame pixels.
    pub fn detect(&mut self, input: &DetectorInput) -> Result<Vec<Detection>> {
        let (padded_width, padded_height, data) = input_tensor(&input.image);
        let tensor = Tensor::from_array(([1usize, 3, padded_height, padded_width], data))?;
        let outputs = self.session.run(ort::inputs!["input" => tensor])?;
        let mut heads = Vec::with_capacity(STRIDES.len());
        for stride in STRIDES {
            let output = |name: &str| -> Result<&[f32]> {
                let key = format!("{name}_{stride}");
                let value = outputs
                    .get(key.as_str())
                    .ok_or_else(|| Error::Inference(format!("detector model has no output {key}")))?;
                Ok(value.try_extract_tensor::<f32>()?.1)
            };
            heads.push(HeadOutputs {
                stride,
                cls: output("cls")?,
                obj: output("obj")?,
                bbox: output("bbox")?,
                kps: output("kps")?,
            });
        }
        let raw = decode_heads(&heads, padded_width, padded_height, self.config.score_threshold)?;
        let faces = non_max_suppression(raw, self.config.nms_iou);
        Ok(faces.into_iter().map(|d| to_frame_pixels(d, input.scale_x, input.scale_y)).collect())
    }
}

/// YuNet's input: BGR, 0-255, planar, padded with zeros to multiples of 32.
pub fn input_tensor(image: &RgbImage) -> (usize, usize, Vec<f32>) {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let padded_width = width.div_ceil(32) * 32;
    let padded_height = height.div_ceil(32) * 32;
    let plane = padded_width * padded_height;
    let mut data = vec![0f32; 3 * plane];
    let (blue, rest) = data.split_at_mut(plane);
    let (green, red) = rest.split_at_mut(plane);
    for (y, row) in image.as_raw().chunks_exact(width * 3).enumerate() {
        let offset = y * padded_width;
        for (x, rgb) in row.chunks_exact(3).enumerate() {
            red[offset + x] = rgb[0] as f32;
            green[offset + x] = rgb[1] as f32;
            blue[offset + x] = rgb[2] as f32;
        }
    }
    (padded_width, padded_height, data)
}

/// The four outputs of one detection head, row-major over its grid.
pub struct HeadOutputs<'a> {
    pub stride: usize,
    pub cls: &'a [f32],
    pub obj: &'a [f32],
    pub bbox: &'a [f32],
    pub kps: &'a [f32],
}

/// Turns head outputs into candidate faces (detector-input pixels), as OpenCV's FaceDetectorYN does.
pub fn decode_heads(
    heads: &[HeadOutputs],
    width: usize,
    height: usize,
    score_threshold: f32,
) -> Result<Vec<Detection>> {
    let mut faces = Vec::new();
    for head in heads {
        let (cols, rows) = (width / head.stride, height / head.stride);
        let cells = cols * rows;
        if head.cls.len() != cells
            || head.obj.len() != cells
            || head.bbox.len() != 4 * cells
            || head.kps.len() != 10 * cells
        {
            return Err(Error::Inference(format!(
                "detector output for stride {} does not match a {width}x{height} input",
                head.stride
            )));
        }
        let stride = head.stride as f32;
        for cell in 0..cells {
            let score = (head.cls[cell].clamp(0.0, 1.0) * head.obj[cell].clamp(0.0, 1.0)).sqrt();
            if score < score_threshold {
                continue;
            }
            let (col, row) = ((cell % cols) as f32, (cell / cols) as f32);
            let b = &head.bbox[4 * cell..4 * cell + 4];
            let center = Point { x: (col + b[0]) * stride, y: (row + b[1]) * stride };
            let (w, h) = (b[2].exp() * stride, b[3].exp() * stride);
            let k = &head.kps[10 * cell..10 * cell + 10];
            let landmarks =
                std::array::from_fn(|i| Point { x: (k[2 * i] + col) * stride, y: (k[2 * i + 1] + row) * stride });
            faces.push(Detection {
                bbox: BBox { x: center.x - w / 2.0, y: center.y - h / 2.0, width: w, height: h },
                landmarks,
                score,
            });
        }
    }
    Ok(faces)
}

/// Greedy non-maximum suppression: best score first, drop boxes overlapping a kept one.
pub fn non_max_suppression(mut candidates: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in candidates {
        if kept.iter().all(|k| k.bbox.iou(&candidate.bbox) <= iou_threshold) {
            kept.push(candidate);
        }
    }
    kept
}

fn to_frame_pixels(d: Detection, sx: f32, sy: f32) -> Detection {
    Detection {
        bbox: d.bbox.scaled(sx, sy),
        landmarks: d.landmarks.map(|p| Point { x: p.x * sx, y: p.y * sy }),
        score: d.score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1080p_frame_is_detected_at_half_size_and_small_frames_are_not_enlarged() {
        assert_eq!(detection_size(1920, 1080, default_min_face_px(1920, 1080)), (960, 540));
        assert_eq!(default_min_face_px(1080, 1920), default_min_face_px(1920, 1080));
        assert_eq!(detection_size(1280, 720, default_min_face_px(1280, 720)), (960, 540));
        assert_eq!(detection_size(320, 240, 10.0), (320, 240));
    }

    #[test]
    fn input_is_bgr_planar_and_zero_padded_to_multiples_of_32() {
        let image = RgbImage::from_fn(33, 2, |x, _| image::Rgb([x as u8, 100, 200]));
        let (w, h, data) = input_tensor(&image);
        assert_eq!((w, h), (64, 32));
        let plane = w * h;
        assert_eq!(data[5], 200.0); // blue plane first
        assert_eq!(data[plane + 5], 100.0);
        assert_eq!(data[2 * plane + 5], 5.0);
        assert_eq!(data[40], 0.0); // padding
    }

    #[test]
    fn one_confident_cell_decodes_to_a_box_centred_on_its_offset() {
        // An 8x8 input has one cell per head at stride 8 only if it is 8x8; use 32x32:
        // stride 8 -> 4x4 cells, stride 16 -> 2x2, stride 32 -> 1x1.
        let zeros = |n: usize| vec![0f32; n];
        let mut cls8 = zeros(16);
        let mut obj8 = zeros(16);
        let mut bbox8 = zeros(64);
        let kps8 = zeros(160);
        cls8[5] = 1.0; // col 1, row 1
        obj8[5] = 0.81;
        bbox8[20..24].copy_from_slice(&[0.5, 0.5, 0.0, (2f32).ln()]);
        let (c16, o16, b16, k16) = (zeros(4), zeros(4), zeros(16), zeros(40));
        let (c32, o32, b32, k32) = (zeros(1), zeros(1), zeros(4), zeros(10));
        let heads = [
            HeadOutputs { stride: 8, cls: &cls8, obj: &obj8, bbox: &bbox8, kps: &kps8 },
            HeadOutputs { stride: 16, cls: &c16, obj: &o16, bbox: &b16, kps: &k16 },
            HeadOutputs { stride: 32, cls: &c32, obj: &o32, bbox: &b32, kps: &k32 },
        ];
        let faces = decode_heads(&heads, 32, 32, 0.5).unwrap();
        assert_eq!(faces.len(), 1);
        let face = faces[0];
        assert!((face.score - 0.9).abs() < 1e-6);
        assert_eq!(face.bbox, BBox { x: 8.0, y: 4.0, width: 8.0, height: 16.0 });
        assert_eq!(face.landmarks[0], Point { x: 8.0, y: 8.0 });
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes_and_all_disjoint_ones() {
        let face = |x: f32, score: f32| Detection {
            bbox: BBox { x, y: 0.0, width: 10.0, height: 10.0 },
            landmarks: [Point::default(); 5],
            score,
        };
        let kept = non_max_suppression(vec![face(0.0, 0.8), face(1.0, 0.95), face(50.0, 0.7)], 0.3);
        let xs: Vec<f32> = kept.iter().map(|d| d.bbox.x).collect();
        assert_eq!(xs, vec![1.0, 50.0]);
    }
}
