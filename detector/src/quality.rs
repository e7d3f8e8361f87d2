//! How good a face is to look at and to recognise: a score from what the pipeline already
//! has (the face's size, the aligned crop's sharpness, the detection score, how frontal
//! its landmarks are). Tracks keep their best faces by it ([`crate::best_faces`]); gallery
//! photos must be sharp enough by the same measure ([`crate::photos`]).

use image::RgbImage;

use crate::align::CROP_SIZE;
use crate::detect::Detection;

/// A face as tall as the recogniser's input or taller counts as full size.
const FULL_SIZE_PX: f32 = CROP_SIZE as f32;

/// Sharpness (see [`sharpness`]) at which a face counts as fully sharp. Measured on the
/// test photos' aligned faces: 0.28-0.50 as taken, 0.09-0.17 once blurred until they
/// resemble themselves at cosine 0.8.
const FULLY_SHARP: f32 = 0.4;

/// A face whose nose sits this far to one side of the eyes' midpoint (a fraction of the
/// distance between the eyes) is in profile and scores zero for frontality.
const PROFILE_OFFSET: f32 = 0.5;

/// Each factor in 0-1 and their product, the score faces are ranked by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceQuality {
    /// Box height over the recogniser's input size, at most 1.
    pub size: f32,
    /// [`sharpness`] over [`FULLY_SHARP`], at most 1.
    pub sharpness: f32,
    /// The detector's score.
    pub detection: f32,
    /// 1 for a face looking at the camera, 0 in profile ([`frontality`]).
    pub frontal: f32,
    pub score: f32,
}

impl FaceQuality {
    /// The quality of a detected face and its aligned crop.
    pub fn of(detection: &Detection, aligned: &RgbImage) -> Self {
        let size = (detection.bbox.height / FULL_SIZE_PX).clamp(0.0, 1.0);
        let sharpness = (sharpness(aligned) / FULLY_SHARP).clamp(0.0, 1.0);
        let detection_score = detection.score.clamp(0.0, 1.0);
        let frontal = frontality(&detection.landmarks);
        FaceQuality {
            size,
            sharpness,
            detection: detection_score,
            frontal,
            score: size * sharpness * detection_score * frontal,
        }
    }
}

/// How sharp an aligned face is, 0 (a smear) to about 0.5 (a sharp photo): one minus
/// the blur metric of Crete et al. ("The blur effect", 2007) on the face's middle. It
/// compares the image with itself blurred again: a sharp image loses much of its
/// pixel-to-pixel variation, a blurred one little. It is robust to content and contrast,
/// where the variance of the Laplacian (the usual measure) ranks a noisy blurred face
/// above a clean sharp one.
pub fn sharpness(aligned: &RgbImage) -> f32 {
    let (width, height) = aligned.dimensions();
    // The face without the background corners the alignment brings in.
    let (x0, y0, x1, y1) = (width / 7, height / 7, width - width / 7, height - height / 7);
    let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
    if w < 10 || h < 10 {
        return 0.0;
    }
    let grey: Vec<f32> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| {
            let [r, g, b] = aligned.get_pixel(x, y).0;
            0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)
        })
        .collect();
    let horizontal = blur_along(&grey, w, h, 1, w);
    let vertical = blur_along(&grey, w, h, w, 1);
    1.0 - horizontal.max(vertical)
}

/// Crete's blur along one axis (`step` between neighbours, `line` between lines): the
/// share of the neighbour differences that a 9-tap box blur does not take away.
fn blur_along(grey: &[f32], width: usize, height: usize, step: usize, line: usize) -> f32 {
    const TAPS: usize = 9;
    let (length, lines) = if step == 1 { (width, height) } else { (height, width) };
    let (mut original, mut kept) = (0.0f64, 0.0f64);
    let mut blurred = vec![0f32; length];
    for l in 0..lines {
        let at = |i: usize| grey[l * line + i * step];
        for (i, value) in blurred.iter_mut().enumerate() {
            let from = i.saturating_sub(TAPS / 2);
            let to = (i + TAPS / 2).min(length - 1);
            *value = (from..=to).map(at).sum::<f32>() / (to - from + 1) as f32;
        }
        for i in 1..length {
            let sharp = (at(i) - at(i - 1)).abs();
            let soft = (blurred[i] - blurred[i - 1]).abs();
            original += f64::from(sharp);
            kept += f64::from((sharp - soft).max(0.0));
        }
    }
    if original <= 0.0 { 1.0 } else { ((original - kept) / original) as f32 }
}

/// How frontal a face is, from its landmarks: 1 when the nose sits midway between the
/// eyes (measured along the line of the eyes, so a tilted head is still frontal), falling
/// to 0 as it moves [`PROFILE_OFFSET`] of the eyes' distance to one side.
pub fn frontality(landmarks: &[crate::geometry::Point; 5]) -> f32 {
    let [right_eye, left_eye, nose, _, _] = landmarks;
    let (ex, ey) = (left_eye.x - right_eye.x, left_eye.y - right_eye.y);
    let eyes = (ex * ex + ey * ey).sqrt();
    if eyes <= f32::EPSILON {
        return 0.0;
    }
    let (mx, my) = ((left_eye.x + right_eye.x) / 2.0, (left_eye.y + right_eye.y) / 2.0);
    let offset = ((nose.x - mx) * ex + (nose.y - my) * ey) / (eyes * eyes);
    (1.0 - offset.abs() / PROFILE_OFFSET).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{BBox, Point};

    /// A crop with stripes of `period` pixels: fine stripes are sharp detail, wide ones smooth.
    fn stripes(period: u32) -> RgbImage {
        RgbImage::from_fn(CROP_SIZE, CROP_SIZE, |x, y| {
            let v = if ((x + y) / period).is_multiple_of(2) { 40 } else { 220 };
            image::Rgb([v, v, v])
        })
    }

    fn landmarks(nose_x: f32) -> [Point; 5] {
        [
            Point { x: 40.0, y: 50.0 },
            Point { x: 72.0, y: 50.0 },
            Point { x: nose_x, y: 70.0 },
            Point { x: 42.0, y: 92.0 },
            Point { x: 70.0, y: 92.0 },
        ]
    }

    #[test]
    fn blurring_a_face_lowers_its_sharpness_and_a_flat_one_has_none() {
        let sharp = stripes(2);
        let soft = image::imageops::blur(&sharp, 2.5);
        assert!(sharpness(&sharp) > 0.3, "{}", sharpness(&sharp));
        assert!(sharpness(&soft) < sharpness(&sharp) / 2.0, "{} vs {}", sharpness(&soft), sharpness(&sharp));
        assert_eq!(sharpness(&RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([90, 90, 90]))), 0.0);
    }

    #[test]
    fn a_face_turned_away_is_less_frontal_whatever_the_tilt_of_the_head() {
        assert_eq!(frontality(&landmarks(56.0)), 1.0);
        let turned = frontality(&landmarks(64.0)); // a quarter of the eyes' distance aside
        assert!((turned - 0.5).abs() < 1e-6, "{turned}");
        assert_eq!(frontality(&landmarks(80.0)), 0.0);
        // The same face tilted by 90 degrees: the eyes one above the other.
        let tilted = landmarks(56.0).map(|p| Point { x: 100.0 - p.y, y: p.x });
        assert!((frontality(&tilted) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_score_ranks_larger_sharper_frontal_faces_first() {
        let detection = |height: f32, nose_x: f32| Detection {
            bbox: BBox { x: 0.0, y: 0.0, width: height, height },
            landmarks: landmarks(nose_x),
            score: 0.9,
        };
        let sharp = stripes(2);
        let best = FaceQuality::of(&detection(150.0, 56.0), &sharp);
        assert!((best.score - 0.9).abs() < 1e-6, "{best:?}");
        assert!(FaceQuality::of(&detection(56.0, 56.0), &sharp).score < best.score);
        assert!(FaceQuality::of(&detection(150.0, 64.0), &sharp).score < best.score);
        assert!(FaceQuality::of(&detection(150.0, 56.0), &image::imageops::blur(&sharp, 2.5)).score < best.score);
    }
}
