//! Display orientation. Phones store a portrait video as landscape frames plus a display
//! matrix (older files: a `rotate` tag) saying how to turn them for viewing. Players and
//! OpenCV show the turned picture, so the decode stage turns every sampled frame the same
//! way: detection sees upright faces, and sizes and boxes are in displayed pixels.
//!
//! The eight quarter turns and flips are `image`'s [`Orientation`], the same type the
//! gallery applies from a photo's EXIF tag.

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};

/// Entries of a display matrix under this fraction of its scale count as zero.
const ZERO_TOLERANCE: f64 = 0.01;

/// The orientation a display matrix describes, or why it is not a quarter turn or a flip.
///
/// The matrix is FFmpeg's `AV_PKT_DATA_DISPLAYMATRIX` (the MP4 `tkhd` matrix): nine native
/// i32 `[a b u; c d v; x y w]` mapping a stored pixel `(p, q)` to the displayed
/// `(a p + c q + x, b p + d q + y)`. Only the signs of `a b c d` matter here.
pub fn from_display_matrix(bytes: &[u8]) -> Result<Orientation, String> {
    let values: Vec<f64> =
        bytes.chunks_exact(4).map(|b| f64::from(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))).collect();
    let [a, b, _, c, d, ..] = values[..] else {
        return Err(format!("the display matrix has {} bytes instead of 36", bytes.len()));
    };
    let scale = a.abs().max(b.abs()).max(c.abs()).max(d.abs());
    if scale == 0.0 {
        return Err("the display matrix is all zeros".into());
    }
    let sign = |v: f64| if v.abs() < ZERO_TOLERANCE * scale { 0 } else { v.signum() as i8 };
    let orientation = match (sign(a), sign(b), sign(c), sign(d)) {
        (1, 0, 0, 1) => Orientation::NoTransforms,
        (0, 1, -1, 0) => Orientation::Rotate90,
        (-1, 0, 0, -1) => Orientation::Rotate180,
        (0, -1, 1, 0) => Orientation::Rotate270,
        (-1, 0, 0, 1) => Orientation::FlipHorizontal,
        (1, 0, 0, -1) => Orientation::FlipVertical,
        (0, 1, 1, 0) => Orientation::Rotate90FlipH,
        (0, -1, -1, 0) => Orientation::Rotate270FlipH,
        _ => {
            let degrees = b.atan2(a).to_degrees();
            return Err(format!("the display matrix turns by {degrees:.1} degrees, not a quarter turn"));
        }
    };
    Ok(orientation)
}

/// The orientation a `rotate` tag (degrees clockwise) describes, or why it is nonsense.
pub fn from_rotate_tag(tag: &str) -> Result<Orientation, String> {
    match tag.trim().parse::<i64>().map(|d| d.rem_euclid(360)) {
        Ok(0) => Ok(Orientation::NoTransforms),
        Ok(90) => Ok(Orientation::Rotate90),
        Ok(180) => Ok(Orientation::Rotate180),
        Ok(270) => Ok(Orientation::Rotate270),
        _ => Err(format!("the rotate tag {tag:?} is not a quarter turn")),
    }
}

/// Whether the orientation swaps width and height.
pub fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// The displayed size of a `(width, height)` frame, or the stored size of a displayed one.
pub fn turned_size(orientation: Orientation, (width, height): (u32, u32)) -> (u32, u32) {
    if swaps_axes(orientation) { (height, width) } else { (width, height) }
}

/// The frame as displayed.
pub fn turn(image: RgbImage, orientation: Orientation) -> RgbImage {
    if orientation == Orientation::NoTransforms {
        return image;
    }
    let mut turned = DynamicImage::ImageRgb8(image);
    turned.apply_orientation(orientation);
    turned.into_rgb8()
}

/// A short name for results and logs: `rotate90`, `flipHorizontal`, ...
pub fn name(orientation: Orientation) -> &'static str {
    match orientation {
        Orientation::NoTransforms => "upright",
        Orientation::Rotate90 => "rotate90",
        Orientation::Rotate180 => "rotate180",
        Orientation::Rotate270 => "rotate270",
        Orientation::FlipHorizontal => "flipHorizontal",
        Orientation::FlipVertical => "flipVertical",
        Orientation::Rotate90FlipH => "transpose",
        Orientation::Rotate270FlipH => "transverse",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A display matrix as FFmpeg hands it over, from its 2x2 part in units (16.16 fixed point).
    fn matrix(a: f64, b: f64, c: f64, d: f64) -> Vec<u8> {
        let fixed = |v: f64| (v * 65536.0).round() as i32;
        [fixed(a), fixed(b), 0, fixed(c), fixed(d), 0, 0, 0, 1 << 30].iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    #[test]
    fn quarter_turns_and_flips_are_read_as_ffmpeg_shows_them() {
        // The matrices FFmpeg's own muxer writes for `rotate=90/180/270` and its autorotate reads.
        assert_eq!(from_display_matrix(&matrix(1.0, 0.0, 0.0, 1.0)), Ok(Orientation::NoTransforms));
        assert_eq!(from_display_matrix(&matrix(0.0, 1.0, -1.0, 0.0)), Ok(Orientation::Rotate90));
        assert_eq!(from_display_matrix(&matrix(-1.0, 0.0, 0.0, -1.0)), Ok(Orientation::Rotate180));
        assert_eq!(from_display_matrix(&matrix(0.0, -1.0, 1.0, 0.0)), Ok(Orientation::Rotate270));
        assert_eq!(from_display_matrix(&matrix(-1.0, 0.0, 0.0, 1.0)), Ok(Orientation::FlipHorizontal));
        assert_eq!(from_display_matrix(&matrix(1.0, 0.0, 0.0, -1.0)), Ok(Orientation::FlipVertical));
        assert_eq!(from_display_matrix(&matrix(0.0, 1.0, 1.0, 0.0)), Ok(Orientation::Rotate90FlipH));
        assert_eq!(from_display_matrix(&matrix(0.0, -1.0, -1.0, 0.0)), Ok(Orientation::Rotate270FlipH));
        // A scaled matrix and rounding noise change nothing.
        assert_eq!(from_display_matrix(&matrix(0.0, 2.0, -2.0, 0.001)), Ok(Orientation::Rotate90));
    }

    #[test]
    fn matrices_that_are_no_quarter_turn_are_refused_with_a_reason() {
        let diagonal = std::f64::consts::FRAC_1_SQRT_2;
        let refused = from_display_matrix(&matrix(diagonal, diagonal, -diagonal, diagonal)).unwrap_err();
        assert!(refused.contains("45.0 degrees"), "{refused}");
        assert!(from_display_matrix(&matrix(0.0, 0.0, 0.0, 0.0)).unwrap_err().contains("zeros"));
        assert!(from_display_matrix(&[0; 12]).unwrap_err().contains("12 bytes"));
    }

    #[test]
    fn rotate_tags_are_clockwise_degrees() {
        assert_eq!(from_rotate_tag("90"), Ok(Orientation::Rotate90));
        assert_eq!(from_rotate_tag("-90"), Ok(Orientation::Rotate270));
        assert_eq!(from_rotate_tag("540"), Ok(Orientation::Rotate180));
        assert!(from_rotate_tag("45").is_err());
        assert!(from_rotate_tag("sideways").is_err());
    }

    #[test]
    fn turning_moves_a_stored_corner_where_the_display_shows_it() {
        // A 3x2 frame, red at the stored top-left corner.
        let mut stored = RgbImage::new(3, 2);
        stored.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        let red_at = |o: Orientation| {
            let shown = turn(stored.clone(), o);
            assert_eq!(shown.dimensions(), turned_size(o, (3, 2)), "{}", name(o));
            let (w, h) = shown.dimensions();
            let (x, y) =
                (0..w).flat_map(|x| (0..h).map(move |y| (x, y))).find(|&(x, y)| shown[(x, y)][0] == 255).unwrap();
            (x, y, w, h)
        };
        assert_eq!(red_at(Orientation::NoTransforms), (0, 0, 3, 2));
        assert_eq!(red_at(Orientation::Rotate90), (1, 0, 2, 3)); // clockwise: top-left goes top-right
        assert_eq!(red_at(Orientation::Rotate180), (2, 1, 3, 2));
        assert_eq!(red_at(Orientation::Rotate270), (0, 2, 2, 3));
        assert_eq!(red_at(Orientation::FlipHorizontal), (2, 0, 3, 2));
        assert_eq!(red_at(Orientation::FlipVertical), (0, 1, 3, 2));
        assert_eq!(red_at(Orientation::Rotate90FlipH), (0, 0, 2, 3)); // transpose keeps the corner
        assert_eq!(red_at(Orientation::Rotate270FlipH), (1, 2, 2, 3));
    }
}
