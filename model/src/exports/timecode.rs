//! SMPTE timecode for EDLs: hh:mm:ss:ff at the video's frame rate, drop-frame at 29.97
//! and 59.94 (SMPTE 12M), so that a timecode reads as the clock on the wall.

/// How a video's frames are counted in timecode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timecode {
    /// Frames per second as the video plays (29.97 is 30000/1001).
    pub rate: f64,
    /// Frames per second as timecode counts them (30 for 29.97).
    pub nominal: u32,
    pub drop_frame: bool,
    /// The video did not say a standard rate; this one (25) was assumed.
    pub assumed: bool,
}

/// Frame rates EDLs carry, as (nominal, rate, drop frame).
const STANDARD: [(u32, f64, bool); 8] = [
    (24, 24000.0 / 1001.0, false),
    (24, 24.0, false),
    (25, 25.0, false),
    (30, 30000.0 / 1001.0, true),
    (30, 30.0, false),
    (50, 50.0, false),
    (60, 60000.0 / 1001.0, true),
    (60, 60.0, false),
];

impl Timecode {
    /// The counting for a video of `frame_rate` (0 when unknown): the standard rate within
    /// 0.01 of it, or 25 fps, assumed.
    pub fn for_rate(frame_rate: f64) -> Timecode {
        match STANDARD.iter().find(|(_, rate, _)| (rate - frame_rate).abs() < 0.01) {
            Some(&(nominal, rate, drop_frame)) => Timecode { rate, nominal, drop_frame, assumed: false },
            None => Timecode { rate: 25.0, nominal: 25, drop_frame: false, assumed: true },
        }
    }

    /// The frame shown at `seconds`.
    pub fn frame(&self, seconds: f64) -> u64 {
        (seconds.max(0.0) * self.rate).round() as u64
    }

    /// Frame number `frame` as timecode; drop-frame timecode separates frames with `;`.
    pub fn format(&self, frame: u64) -> String {
        let nominal = u64::from(self.nominal);
        let label = if self.drop_frame {
            // Drop 2 labels (4 at 59.94) at every minute but each tenth.
            let dropped = nominal / 15;
            let per_ten_minutes = nominal * 600 - 9 * dropped;
            let per_minute = nominal * 60 - dropped;
            let (tens, rest) = (frame / per_ten_minutes, frame % per_ten_minutes);
            let skipped =
                9 * dropped * tens + if rest < dropped { 0 } else { dropped * ((rest - dropped) / per_minute) };
            frame + skipped
        } else {
            frame
        };
        let (ff, seconds) = (label % nominal, label / nominal);
        let separator = if self.drop_frame { ';' } else { ':' };
        format!("{:02}:{:02}:{:02}{separator}{ff:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// `seconds` as the timecode of the frame shown then.
    pub fn at(&self, seconds: f64) -> String {
        self.format(self.frame(seconds))
    }

    /// The rate as EDL comments write it.
    pub fn describe(&self) -> String {
        let rate = if self.rate.fract() == 0.0 { format!("{}", self.rate) } else { format!("{:.3}", self.rate) };
        let counting = if self.drop_frame { "drop frame" } else { "non-drop frame" };
        format!("{rate} fps, {counting}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_rates_are_recognised_and_anything_else_is_counted_at_25_fps() {
        assert_eq!(Timecode::for_rate(29.97).nominal, 30);
        assert!(Timecode::for_rate(29.97002997).drop_frame);
        assert!(!Timecode::for_rate(30.0).drop_frame);
        assert!(!Timecode::for_rate(25.0).assumed);
        for unknown in [0.0, 12.5, 1000.0, f64::NAN] {
            let timecode = Timecode::for_rate(unknown);
            assert!(timecode.assumed && timecode.nominal == 25, "{unknown}");
        }
    }

    #[test]
    fn non_drop_frame_timecode_counts_every_frame() {
        let pal = Timecode::for_rate(25.0);
        assert_eq!(pal.at(0.0), "00:00:00:00");
        assert_eq!(pal.at(65.52), "00:01:05:13");
        assert_eq!(pal.at(3600.0 + 1.0), "01:00:01:00");
    }

    /// The labels SMPTE 12M skips: ;00 and ;01 of every minute but each tenth (at 29.97).
    #[test]
    fn drop_frame_timecode_skips_two_labels_a_minute_except_each_tenth() {
        let ntsc = Timecode::for_rate(29.97);
        assert_eq!(ntsc.format(1799), "00:00:59;29");
        assert_eq!(ntsc.format(1800), "00:01:00;02");
        assert_eq!(ntsc.format(17981), "00:09:59;29");
        assert_eq!(ntsc.format(17982), "00:10:00;00");
        assert_eq!(ntsc.format(17982 + 1800), "00:11:00;02");
        // An hour of 29.97 video is 107,892 frames and reads exactly one hour.
        assert_eq!(ntsc.format(107_892), "01:00:00;00");
        assert_eq!(ntsc.at(3600.0), "01:00:00;00");
        let double = Timecode::for_rate(59.94);
        assert_eq!(double.format(3600), "00:01:00;04");
        assert_eq!(double.format(215_784), "01:00:00;00");
    }
}
