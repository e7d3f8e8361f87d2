//! Face alignment: a 5-point similarity transform onto SFace's 112x112 template.

use image::RgbImage;

use crate::geometry::Point;

pub const CROP_SIZE: u32 = 112;

/// Where the five landmarks sit in an aligned 112x112 crop (the ArcFace template SFace was trained on).
pub const TEMPLATE: [Point; 5] = [
    Point { x: 38.2946, y: 51.6963 },
    Point { x: 73.5318, y: 51.5014 },
    Point { x: 56.0252, y: 71.7366 },
    Point { x: 41.5493, y: 92.3655 },
    Point { x: 70.7299, y: 92.2041 },
];

/// A 2D similarity transform: `[x', y'] = [[a, -b], [b, a]] [x, y] + [tx, ty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    /// The least-squares similarity mapping `src` onto `dst` (Umeyama's method without
    /// reflection, in its closed form for 2D).
    pub fn estimate(src: &[Point; 5], dst: &[Point; 5]) -> Self {
        let mean = |pts: &[Point; 5]| {
            let n = pts.len() as f64;
            (pts.iter().map(|p| p.x as f64).sum::<f64>() / n, pts.iter().map(|p| p.y as f64).sum::<f64>() / n)
        };
        let (sx, sy) = mean(src);
        let (dx, dy) = mean(dst);
        let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (x, y) = (s.x as f64 - sx, s.y as f64 - sy);
            let (u, v) = (d.x as f64 - dx, d.y as f64 - dy);
            dot += x * u + y * v;
            cross += x * v - y * u;
            norm += x * x + y * y;
        }
        let (a, b) = if norm > 0.0 { (dot / norm, cross / norm) } else { (1.0, 0.0) };
        Similarity { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) }
    }

    pub fn apply(&self, p: Point) -> Point {
        let (x, y) = (p.x as f64, p.y as f64);
        Point { x: (self.a * x - self.b * y + self.tx) as f32, y: (self.b * x + self.a * y + self.ty) as f32 }
    }

    pub fn inverse(&self) -> Similarity {
        let det = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / det, -self.b / det);
        Similarity { a, b, tx: -(a * self.tx - b * self.ty), ty: -(b * self.tx + a * self.ty) }
    }
}

/// The aligned 112x112 crop of the face with these landmarks (bilinear, black outside the frame,
/// like OpenCV's warpAffine with INTER_LINEAR and a constant border).
pub fn align_face(frame: &RgbImage, landmarks: &[Point; 5]) -> RgbImage {
    let to_frame = Similarity::estimate(landmarks, &TEMPLATE).inverse();
    let (width, height) = (frame.width() as i64, frame.height() as i64);
    let pixels = frame.as_raw();
    let mut crop = RgbImage::new(CROP_SIZE, CROP_SIZE);
    for (u, v, out) in crop.enumerate_pixels_mut() {
        let p = to_frame.apply(Point { x: u as f32, y: v as f32 });
        let (x0, y0) = (p.x.floor() as i64, p.y.floor() as i64);
        let (fx, fy) = (p.x - x0 as f32, p.y - y0 as f32);
        let mut acc = [0f32; 3];
        for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
            for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
                let (x, y) = (x0 + dx, y0 + dy);
                if x < 0 || y < 0 || x >= width || y >= height {
                    continue;
                }
                let i = ((y * width + x) * 3) as usize;
                let w = wx * wy;
                for c in 0..3 {
                    acc[c] += w * pixels[i + c] as f32;
                }
            }
        }
        out.0 = acc.map(|v| v.round().clamp(0.0, 255.0) as u8);
    }
    crop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_a_known_similarity_and_its_inverse() {
        let truth = Similarity { a: 0.8, b: 0.3, tx: 12.0, ty: -4.0 };
        let src = TEMPLATE;
        let dst = src.map(|p| truth.apply(p));
        let found = Similarity::estimate(&src, &dst);
        for (x, y) in [(found.a, truth.a), (found.b, truth.b), (found.tx, truth.tx), (found.ty, truth.ty)] {
            assert!((x - y).abs() < 1e-4, "{found:?} != {truth:?}");
        }
        let back = found.inverse().apply(dst[2]);
        assert!((back.x - src[2].x).abs() < 1e-3 && (back.y - src[2].y).abs() < 1e-3);
    }

    #[test]
    fn aligning_a_face_already_on_the_template_copies_the_pixels() {
        let frame = RgbImage::from_fn(112, 112, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let crop = align_face(&frame, &TEMPLATE);
        assert_eq!(crop.get_pixel(10, 20).0, [10, 20, 7]);
        assert_eq!(crop.get_pixel(100, 90).0, [100, 90, 7]);
    }
}
