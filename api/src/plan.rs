//! How a video of a given size is uploaded: one presigned PUT, or a multipart upload
//! whose part size keeps the part count small enough to answer in one response.

use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

/// S3's smallest part (but the last) is 5 MiB; 8 MiB is what the AWS CLI uses.
pub const MIN_PART_BYTES: u64 = 8 * MIB;
/// S3 allows 10,000 parts; 1,000 presigned URLs (about 1 MB of JSON) fit a Lambda response.
pub const MAX_PARTS: u64 = 1000;
/// S3's largest part.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * MIB;
/// The largest video a plan can upload (S3's own limit, 5 TiB, is a little more).
pub const MAX_UPLOAD_BYTES: u64 = MAX_PARTS * MAX_PART_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum UploadPlan {
    Single,
    Multipart { part_size_bytes: u64, parts: u32 },
}

pub fn plan(size_bytes: u64, single_put_max_bytes: u64) -> UploadPlan {
    if size_bytes <= single_put_max_bytes {
        return UploadPlan::Single;
    }
    // Whole MiB parts, as few as MAX_PARTS allows and no smaller than MIN_PART_BYTES.
    let part_size_bytes = size_bytes.div_ceil(MAX_PARTS).div_ceil(MIB).max(1) * MIB;
    let part_size_bytes = part_size_bytes.max(MIN_PART_BYTES);
    UploadPlan::Multipart { part_size_bytes, parts: size_bytes.div_ceil(part_size_bytes) as u32 }
}

/// The byte length of part `number` (1-based) of an upload.
pub fn part_length(size_bytes: u64, part_size_bytes: u64, number: u32) -> u64 {
    let start = u64::from(number - 1) * part_size_bytes;
    part_size_bytes.min(size_bytes.saturating_sub(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * MIB;

    #[test]
    fn small_videos_take_one_put_and_large_ones_parts_within_the_limits() {
        assert_eq!(plan(100 * MIB, 100 * MIB), UploadPlan::Single);
        for size in [100 * MIB + 1, GIB, 8 * GIB - 1, 50 * GIB, MAX_UPLOAD_BYTES] {
            let UploadPlan::Multipart { part_size_bytes, parts } = plan(size, 100 * MIB) else { panic!("{size}") };
            assert!(u64::from(parts) <= MAX_PARTS, "{size}: {parts} parts");
            assert!((MIN_PART_BYTES..=MAX_PART_BYTES).contains(&part_size_bytes), "{size}");
            assert_eq!(part_size_bytes % MIB, 0);
            let total: u64 = (1..=parts).map(|n| part_length(size, part_size_bytes, n)).sum();
            assert_eq!(total, size, "the parts cover the video exactly");
            assert!(part_length(size, part_size_bytes, parts) > 0, "no empty last part");
        }
    }

    #[test]
    fn a_thousand_minimum_parts_are_the_most_one_response_carries() {
        assert_eq!(
            plan(1000 * MIN_PART_BYTES, MIB),
            UploadPlan::Multipart { part_size_bytes: MIN_PART_BYTES, parts: 1000 }
        );
        let UploadPlan::Multipart { parts, .. } = plan(1000 * MIN_PART_BYTES + 1, MIB) else { panic!() };
        assert!(parts <= 1000);
    }
}
