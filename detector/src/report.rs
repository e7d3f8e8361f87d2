//! Human-readable output: the terminal table of who appears when, and the one way times
//! are written for a video, in the table and on the timeline's axis alike.

use unicode_width::UnicodeWidthStr;

use crate::results::{PersonAppearances, ResultsDocument};

/// How times are written for a whole video: `m:ss`, or `h:mm:ss` when it runs an hour or
/// more (then every time has hours, so a column reads alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    MinutesSeconds,
    HoursMinutesSeconds,
}

impl TimeFormat {
    pub fn for_duration(seconds: f64) -> Self {
        if seconds >= 3600.0 { TimeFormat::HoursMinutesSeconds } else { TimeFormat::MinutesSeconds }
    }

    /// A time, rounded down to the second.
    pub fn clock(self, seconds: f64) -> String {
        let total = seconds.max(0.0) as u64;
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        match self {
            TimeFormat::MinutesSeconds => format!("{}:{s:02}", total / 60),
            TimeFormat::HoursMinutesSeconds => format!("{h}:{m:02}:{s:02}"),
        }
    }

    /// An interval as whole seconds that contain it: the start rounded down, the end up,
    /// so a face on screen from 50.0 to 50.5 s reads `0:50-0:51`, never `0:50-0:50`.
    pub fn range(self, start: f64, end: f64) -> String {
        let first = start.max(0.0).floor();
        let last = end.ceil().max(first + 1.0);
        format!("{}-{}", self.clock(first), self.clock(last))
    }
}

/// The table printed after a run: one row per person, known people first.
pub fn table(document: &ResultsDocument) -> String {
    let format = TimeFormat::for_duration(document.video.duration_seconds);
    let rows: Vec<[String; 3]> = document
        .people
        .iter()
        .chain(&document.unknown)
        .map(|p| [p.name.clone(), format!("{:.1} s", p.screen_time_seconds), intervals(p, format)])
        .collect();
    let header = ["PERSON".to_string(), "SCREEN TIME".to_string(), "APPEARANCES".to_string()];
    // Columns by the width a terminal gives the text: a Chinese character takes two cells.
    let widths: Vec<usize> =
        (0..2).map(|c| rows.iter().chain([&header]).map(|r| r[c].width()).max().unwrap_or(0)).collect();
    let pad = |text: &str, width: usize| " ".repeat(width.saturating_sub(text.width()));
    let mut out = String::new();
    for row in [&header].into_iter().chain(&rows) {
        let (name, time) = (&row[0], &row[1]);
        out.push_str(&format!("{name}{}  {}{time}  {}\n", pad(name, widths[0]), pad(time, widths[1]), row[2]));
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
        format.clock(video.duration_seconds),
        video.faces_detected,
        document.people.len(),
        document.unknown.len()
    ));
    out
}

fn intervals(person: &PersonAppearances, format: TimeFormat) -> String {
    let spans: Vec<String> = person.appearances.iter().map(|a| format.range(a.start_seconds, a.end_seconds)).collect();
    spans.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{person, results};

    #[test]
    fn times_are_written_one_way_for_a_video_with_hours_past_an_hour() {
        let short = TimeFormat::for_duration(3599.0);
        assert_eq!(
            (short.clock(0.0), short.clock(75.9), short.clock(3599.0)),
            ("0:00".into(), "1:15".into(), "59:59".into())
        );
        let long = TimeFormat::for_duration(3600.0);
        assert_eq!((long.clock(75.9), long.clock(3725.0)), ("0:01:15".into(), "1:02:05".into()));
    }

    #[test]
    fn a_range_contains_its_interval_and_lasts_at_least_a_second() {
        let format = TimeFormat::MinutesSeconds;
        assert_eq!(format.range(50.0, 50.5), "0:50-0:51");
        assert_eq!(format.range(50.0, 50.0), "0:50-0:51");
        assert_eq!(format.range(0.0, 4.5), "0:00-0:05");
        assert_eq!(format.range(9.5, 14.0), "0:09-0:14");
    }

    #[test]
    fn the_table_lists_known_people_first_with_their_ranges() {
        let document =
            results(vec![person("Ada", &[(0.0, 4.5), (50.0, 50.5)])], vec![person("unknown-1", &[(5.0, 9.0)])]);
        let table = table(&document);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[1].starts_with("Ada") && lines[1].ends_with("0:00-0:05, 0:50-0:51"), "{table}");
        assert!(lines[2].starts_with("unknown-1") && lines[2].ends_with("0:05-0:09"), "{table}");

        // Wide characters take two columns: the screen times still line up.
        let wide = results(vec![person("張曼玉", &[(0.0, 1.0)]), person("Ada Lovelace", &[(0.0, 1.0)])], vec![]);
        let table = super::table(&wide);
        let columns: Vec<usize> = table.lines().take(3).map(|l| l[..l.find(" s ").unwrap_or(0)].width()).collect();
        assert!(columns[1] == columns[2], "{table}");
    }
}
