//! The best faces of a track, kept while the video is decoded: the few faces with the
//! highest [quality](crate::quality) score, each with the crops that can no longer be cut
//! once its frame is gone. The aligned crop lets the recogniser decide again (in fp32,
//! [`crate::identify`]); the display crop shows a person who it is.
//!
//! Faces are ranked by their score alone, never picked at random, so the same video
//! always keeps the same faces.

use image::RgbImage;
use image::imageops::FilterType;

use crate::embed::Embedding;
use crate::geometry::BBox;

/// Faces kept per track.
pub const BEST_FACES: usize = 5;

/// Longest side of a display crop: thumbnails are made from it, so it is not cut smaller.
pub const DISPLAY_CROP_PX: u32 = 256;

/// The display crop's side, as a multiple of the face box's longer side: the face and a
/// margin of hair, chin and shoulders around it.
const DISPLAY_MARGIN: f32 = 1.6;

/// One of a track's best faces.
#[derive(Debug, Clone)]
pub struct BestFace {
    pub seconds: f64,
    pub bbox: BBox,
    pub quality: f32,
    /// The embedding the tracker had for it (in the tracking precision).
    pub embedding: Embedding,
    /// The face aligned for the recogniser (112x112).
    pub aligned: RgbImage,
    /// A square around the face, upright as displayed, at most [`DISPLAY_CROP_PX`] a side.
    pub display: RgbImage,
}

/// At most [`BEST_FACES`] faces, best first.
#[derive(Debug, Clone, Default)]
pub struct BestFaces(Vec<BestFace>);

impl BestFaces {
    /// Whether a face of `quality` would be kept: checked before its crops are cut.
    pub fn wants(&self, quality: f32) -> bool {
        self.0.len() < BEST_FACES || self.0.last().is_some_and(|worst| quality > worst.quality)
    }

    /// Keeps `face` if it is among the best; an equal score keeps the earlier face.
    pub fn offer(&mut self, face: BestFace) {
        if !self.wants(face.quality) {
            return;
        }
        let at = self.0.partition_point(|kept| kept.quality >= face.quality);
        self.0.insert(at, face);
        self.0.truncate(BEST_FACES);
    }

    pub fn faces(&self) -> &[BestFace] {
        &self.0
    }

    pub fn into_faces(self) -> Vec<BestFace> {
        self.0
    }
}

/// A square around `bbox` with a margin, moved inside the frame where it would cross an
/// edge (and no larger than the frame), scaled down to at most [`DISPLAY_CROP_PX`].
pub fn display_crop(frame: &RgbImage, bbox: &BBox) -> RgbImage {
    let (width, height) = (frame.width() as f32, frame.height() as f32);
    let side = (bbox.width.max(bbox.height) * DISPLAY_MARGIN).min(width).min(height).max(1.0);
    let centre = (bbox.x + bbox.width / 2.0, bbox.y + bbox.height / 2.0);
    let x = (centre.0 - side / 2.0).clamp(0.0, width - side);
    let y = (centre.1 - side / 2.0).clamp(0.0, height - side);
    let square = side.round() as u32;
    let view = image::imageops::crop_imm(frame, x.round() as u32, y.round() as u32, square, square).to_image();
    if square <= DISPLAY_CROP_PX {
        view
    } else {
        image::imageops::resize(&view, DISPLAY_CROP_PX, DISPLAY_CROP_PX, FilterType::Triangle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(seconds: f64, quality: f32) -> BestFace {
        BestFace {
            seconds,
            bbox: BBox::default(),
            quality,
            embedding: Embedding(vec![0.0; 128]),
            aligned: RgbImage::new(1, 1),
            display: RgbImage::new(1, 1),
        }
    }

    #[test]
    fn the_best_faces_are_kept_best_first_and_ties_keep_the_earlier_face() {
        let mut best = BestFaces::default();
        for (seconds, quality) in [(0.0, 0.5), (0.5, 0.9), (1.0, 0.1), (1.5, 0.7), (2.0, 0.5), (2.5, 0.3), (3.0, 0.6)] {
            best.offer(face(seconds, quality));
        }
        let kept: Vec<(f64, f32)> = best.faces().iter().map(|f| (f.seconds, f.quality)).collect();
        assert_eq!(kept, vec![(0.5, 0.9), (1.5, 0.7), (3.0, 0.6), (0.0, 0.5), (2.0, 0.5)]);
        assert!(!best.wants(0.5) && best.wants(0.51));
    }

    #[test]
    fn a_display_crop_is_a_square_around_the_face_inside_the_frame_at_most_256_px() {
        let frame = RgbImage::from_fn(1280, 720, |x, _| image::Rgb([(x / 5) as u8, 0, 0]));
        let small = display_crop(&frame, &BBox { x: 600.0, y: 300.0, width: 50.0, height: 60.0 });
        assert_eq!(small.dimensions(), (96, 96));
        // Centred on the face: its left edge is at 625 - 48.
        assert_eq!(small.get_pixel(0, 0).0[0], (577 / 5) as u8);
        let large = display_crop(&frame, &BBox { x: 1100.0, y: 100.0, width: 300.0, height: 400.0 });
        assert_eq!(large.dimensions(), (256, 256));
        // A face at the right edge: the square moved inside the frame, as tall as it.
        let edge = display_crop(&frame, &BBox { x: 1250.0, y: 0.0, width: 30.0, height: 30.0 });
        assert_eq!(edge.dimensions(), (48, 48));
        assert_eq!(edge.get_pixel(47, 0).0[0], (1279 / 5) as u8);
    }
}
