//! A CMX3600 EDL, as Premiere and DaVinci Resolve import it. People overlap in time and
//! an EDL track cannot (OpenTimelineIO refuses overlapping records), so the EDL is one
//! clip spanning the whole video with a locator per appearance: its timecode, a colour
//! (green for known people, yellow for unknown faces) and the name and length as comment.

use super::timecode::Timecode;
use super::{Row, rows};
use crate::results::ResultsDocument;

pub fn render(document: &ResultsDocument) -> String {
    let video = &document.video;
    let timecode = Timecode::for_rate(video.frame_rate);
    let file = video.source.rsplit(['/', '\\']).next().unwrap_or_default();
    let title = document.movie.as_ref().and_then(|m| m.title.as_deref()).unwrap_or(file);
    let mut out = format!("TITLE: {}\n", one_line(title));
    out.push_str(if timecode.drop_frame { "FCM: DROP FRAME\n" } else { "FCM: NON-DROP FRAME\n" });
    let end = timecode.at(video.duration_seconds);
    let start = timecode.format(0);
    out.push_str(&format!("\n001  AX       V     C        {start} {end} {start} {end}\n"));
    out.push_str(&format!("* FROM CLIP NAME: {}\n", one_line(file)));
    if timecode.assumed {
        out.push_str(&format!(
            "* cameo: the video's frame rate ({:.3}) is unknown or variable; timecodes count {}\n",
            video.frame_rate,
            timecode.describe()
        ));
    }
    for Row { name, known, appearance, .. } in rows(document) {
        let colour = if known { "GREEN" } else { "YELLOW" };
        let seconds = appearance.end_seconds - appearance.start_seconds;
        out.push_str(&format!(
            "* LOC: {} {colour:<7} {} ({seconds:.1} s)\n",
            timecode.at(appearance.start_seconds),
            one_line(name)
        ));
    }
    out
}

/// EDL fields are lines: a line break in a name would start a statement.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exports::fixtures::document;

    #[test]
    fn one_clip_spans_the_video_with_a_locator_per_appearance() {
        let edl = render(&document(25.0, 80.0));
        let lines: Vec<&str> = edl.lines().collect();
        assert_eq!(lines[0], "TITLE: Démo & <Test>");
        assert_eq!(lines[1], "FCM: NON-DROP FRAME");
        assert_eq!(lines[3], "001  AX       V     C        00:00:00:00 00:01:20:00 00:00:00:00 00:01:20:00");
        assert_eq!(lines[4], "* FROM CLIP NAME: demo.mp4");
        assert_eq!(lines[5], "* LOC: 00:00:00:00 GREEN   Barack Obama (5.0 s)");
        assert_eq!(lines[6], "* LOC: 00:00:05:00 YELLOW  unknown-1 (4.0 s)");
        assert_eq!(lines.len(), 9);
    }

    #[test]
    fn ntsc_video_gets_drop_frame_timecode_and_an_unknown_rate_says_it_counts_25() {
        let edl = render(&document(29.97, 80.0));
        assert!(edl.contains("FCM: DROP FRAME\n"));
        assert!(edl.contains("* LOC: 00:01:05;00 GREEN   Barack Obama (5.5 s)"), "{edl}");
        let edl = render(&document(0.0, 80.0));
        assert!(edl.contains("timecodes count 25 fps, non-drop frame"), "{edl}");
    }
}
