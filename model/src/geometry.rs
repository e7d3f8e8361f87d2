//! Points and boxes in image pixel coordinates (origin top left, x right, y down).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// An axis-aligned box: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BBox {
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    pub fn center(&self) -> Point {
        Point { x: self.x + self.width / 2.0, y: self.y + self.height / 2.0 }
    }

    /// Intersection over union, 0 for disjoint boxes.
    pub fn iou(&self, other: &BBox) -> f32 {
        let left = self.x.max(other.x);
        let top = self.y.max(other.y);
        let right = (self.x + self.width).min(other.x + other.width);
        let bottom = (self.y + self.height).min(other.y + other.height);
        let intersection = (right - left).max(0.0) * (bottom - top).max(0.0);
        let union = self.area() + other.area() - intersection;
        if union <= 0.0 { 0.0 } else { intersection / union }
    }

    pub fn scaled(&self, sx: f32, sy: f32) -> BBox {
        BBox { x: self.x * sx, y: self.y * sy, width: self.width * sx, height: self.height * sy }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = BBox { x: 0.0, y: 0.0, width: 10.0, height: 10.0 };
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&BBox { x: 20.0, ..a }), 0.0);
        let half = BBox { x: 5.0, ..a };
        assert!((a.iou(&half) - 50.0 / 150.0).abs() < 1e-6);
    }
}
