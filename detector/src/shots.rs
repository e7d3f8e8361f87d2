//! Shot boundaries: which sampled frames belong to one continuous shot.
//!
//! A cut replaces the whole picture, so the colour histograms of the frames either side
//! of it differ far more than those of two frames of one shot, however the camera pans or
//! the picture blurs (histograms ignore where colours are, and blur moves few pixels
//! across bins). The tracker carries a face by its position only within a shot, so
//! a name never follows a place on screen across a cut into another face.

use image::RgbImage;

/// Bins per colour channel.
const BINS: usize = 16;

/// Histogram distance (half the L1 distance of the normalised histograms, averaged over
/// the channels: 0 for equal, 1 for disjoint) above which two frames are different shots.
/// Measured on the test videos at 2 fps: at most 0.03 within a shot (pans, zooms, motion
/// blur and focus pulls), at least 0.07 at a cut with faces on both sides.
pub const CUT_DISTANCE: f32 = 0.05;

/// A frame's colour histogram: per channel, the fraction of its pixels in each bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram([[f32; BINS]; 3]);

impl Histogram {
    pub fn of(image: &RgbImage) -> Self {
        let mut counts = [[0u32; BINS]; 3];
        for pixel in image.pixels() {
            for (channel, &value) in pixel.0.iter().enumerate() {
                counts[channel][usize::from(value) * BINS / 256] += 1;
            }
        }
        let total = (image.width() * image.height()).max(1) as f32;
        Histogram(counts.map(|channel| channel.map(|count| count as f32 / total)))
    }

    pub fn distance(&self, other: &Histogram) -> f32 {
        let l1: f32 = self.0.iter().flatten().zip(other.0.iter().flatten()).map(|(a, b)| (a - b).abs()).sum();
        l1 / 6.0
    }
}

/// Numbers the shots of a run of sampled frames, in order.
#[derive(Debug, Default)]
pub struct ShotCounter {
    previous: Option<Histogram>,
    shot: u32,
}

impl ShotCounter {
    /// The shot of the next sampled frame: the previous frame's, or a new one after a cut.
    pub fn next(&mut self, frame: &RgbImage) -> u32 {
        let histogram = Histogram::of(frame);
        if self.previous.as_ref().is_some_and(|previous| previous.distance(&histogram) > CUT_DISTANCE) {
            self.shot += 1;
        }
        self.previous = Some(histogram);
        self.shot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, imageops};

    /// A frame with a shaded square (a photo, tinted `tint`) on grey.
    fn frame(x: u32, tint: Rgb<u8>) -> RgbImage {
        let mut image = RgbImage::from_pixel(320, 180, Rgb([48, 48, 48]));
        let photo = RgbImage::from_fn(120, 120, |px, py| Rgb(tint.0.map(|t| t.saturating_add((px + py) as u8 / 2))));
        imageops::replace(&mut image, &photo, i64::from(x), 30);
        image
    }

    #[test]
    fn a_pan_and_a_blur_stay_in_the_shot_and_a_cut_starts_a_new_one() {
        let mut shots = ShotCounter::default();
        let warm = Rgb([140, 100, 60]);
        assert_eq!(shots.next(&frame(40, warm)), 0);
        assert_eq!(shots.next(&frame(120, warm)), 0, "a pan");
        assert_eq!(shots.next(&imageops::blur(&frame(120, warm), 3.0)), 0, "a blur");
        assert_eq!(shots.next(&frame(120, Rgb([20, 60, 130]))), 1, "a cut to another picture in the same place");
        assert_eq!(shots.next(&frame(100, Rgb([20, 60, 130]))), 1);
    }

    #[test]
    fn equal_frames_are_at_distance_zero_and_disjoint_ones_at_one() {
        let black = Histogram::of(&RgbImage::new(4, 4));
        let white = Histogram::of(&RgbImage::from_pixel(4, 4, Rgb([255, 255, 255])));
        assert_eq!(black.distance(&black), 0.0);
        assert!((black.distance(&white) - 1.0).abs() < 1e-6);
    }
}
