//! What makes a gallery photo usable: one face, large and sharp enough to embed reliably.
//! A photo that breaks a rule is skipped with its reason, never a failed video.

use crate::detect::Detection;
use crate::quality::sharpness;

/// Bumped whenever a rule changes: cached verdicts ([`crate::gallery`]) are keyed by it.
pub const PHOTO_RULES_VERSION: u32 = 1;

/// Smallest face (box height, photo pixels) a gallery photo may have. Measured on the test
/// photos shrunk step by step: a face 48 px tall still resembles the full photo at cosine
/// 0.83-0.93; at 32 px 0.73-0.82, at 24 px down to 0.51.
pub const MIN_FACE_PX: f32 = 48.0;

/// Least [`sharpness`] of the aligned face. Measured on the test photos blurred step by
/// step: as taken 0.28-0.50; at 0.08 they resemble themselves at cosine 0.6-0.7 and less
/// below it.
pub const MIN_SHARPNESS: f32 = 0.08;

/// Why a photo was skipped.
#[derive(Debug, Clone, PartialEq)]
pub enum Unusable {
    /// Not a readable image, gone, or not ours to read.
    Unreadable(String),
    NoFace,
    SeveralFaces(usize),
    TooSmall(f32),
    TooBlurred(f32),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Unreadable(why) => write!(f, "{why}"),
            Unusable::NoFace => write!(f, "no face found; use a photo where the face is clearly visible"),
            Unusable::SeveralFaces(n) => write!(f, "{n} faces found; a gallery photo must show exactly one person"),
            Unusable::TooSmall(px) => {
                write!(f, "the face is {px:.0} px tall; use a photo where it is at least {MIN_FACE_PX:.0} px")
            }
            Unusable::TooBlurred(s) => {
                write!(f, "the face is too blurred to recognise (sharpness {s:.2}, at least {MIN_SHARPNESS} needed)")
            }
        }
    }
}

/// The one face of a photo, if the photo is usable: `faces` are its detections (at least
/// the smallest size the detector is held to) with their aligned crops.
pub fn usable_face<C: std::borrow::Borrow<image::RgbImage>>(faces: &[(Detection, C)]) -> Result<usize, Unusable> {
    match faces {
        [] => Err(Unusable::NoFace),
        [(face, aligned)] => {
            let sharp = sharpness(aligned.borrow());
            if face.bbox.height < MIN_FACE_PX {
                Err(Unusable::TooSmall(face.bbox.height))
            } else if sharp < MIN_SHARPNESS {
                Err(Unusable::TooBlurred(sharp))
            } else {
                Ok(0)
            }
        }
        several => Err(Unusable::SeveralFaces(several.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{BBox, Point};
    use image::RgbImage;

    fn face(height: f32) -> Detection {
        Detection { bbox: BBox { x: 0.0, y: 0.0, width: height, height }, landmarks: [Point::default(); 5], score: 0.9 }
    }

    fn sharp_crop() -> RgbImage {
        RgbImage::from_fn(112, 112, |x, y| if (x + y) % 4 < 2 { image::Rgb([30; 3]) } else { image::Rgb([220; 3]) })
    }

    #[test]
    fn a_photo_needs_exactly_one_large_sharp_face() {
        let crop = sharp_crop();
        assert_eq!(usable_face(&[(face(100.0), &crop)]), Ok(0));
        assert_eq!(usable_face::<&RgbImage>(&[]), Err(Unusable::NoFace));
        assert_eq!(usable_face(&[(face(100.0), &crop), (face(90.0), &crop)]), Err(Unusable::SeveralFaces(2)));
        assert_eq!(usable_face(&[(face(30.0), &crop)]), Err(Unusable::TooSmall(30.0)));
        let flat = RgbImage::from_pixel(112, 112, image::Rgb([128; 3]));
        assert!(matches!(usable_face(&[(face(100.0), &flat)]), Err(Unusable::TooBlurred(_))));
        assert!(Unusable::SeveralFaces(2).to_string().contains("exactly one person"));
    }
}
