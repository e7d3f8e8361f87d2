//! Human-readable output: the terminal table of who appears when.

use crate::results::{PersonAppearances, ResultsDocument};

/// `m:ss` (or `h:mm:ss` from an hour on), rounded down to the second.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// The table printed after a run: one row per person, known people first.
pub fn table(document: &ResultsDocument) -> String {
    let rows: Vec<[String; 3]> = document
        .people
        .iter()
        .chain(&document.unknown)
        .map(|p| [p.name.clone(), format!("{:.1} s", p.screen_time_seconds), intervals(p)])
        .collect();
    let header = ["PERSON".to_string(), "SCREEN TIME".to_string(), "APPEARANCES".to_string()];
    let widths: Vec<usize> =
        (0..2).map(|c| rows.iter().chain([&header]).map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in [&header].into_iter().chain(&rows) {
        out.push_str(&format!("{:<w0$}  {:>w1$}  {}\n", row[0], row[1], row[2], w0 = widths[0], w1 = widths[1]));
    }
    if rows.is_empty() {
        out.push_str("(no faces found)\n");
    }
    let video = &document.video;
    out.push_str(&format!(
        "\n{} analysed: {} frames at {} fps over {}, {} faces, {} known, {} unknown\n",
        video.source,
        video.frames_analysed,
        video.sampled_fps,
        clock(video.duration_seconds),
        video.faces_detected,
        document.people.len(),
        document.unknown.len()
    ));
    out
}

fn intervals(person: &PersonAppearances) -> String {
    let spans: Vec<String> =
        person.appearances.iter().map(|a| format!("{}-{}", clock(a.start_seconds), clock(a.end_seconds))).collect();
    spans.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_minutes_and_hours() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(75.9), "1:15");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
