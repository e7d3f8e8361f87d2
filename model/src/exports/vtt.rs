//! WebVTT: one cue per appearance, the person's name as its text, for a `<track>` of kind
//! `metadata` or `chapters` (or captions, to see names over the video).

use super::{Row, rows};
use crate::results::ResultsDocument;

pub fn render(document: &ResultsDocument) -> String {
    let mut out = String::from("WEBVTT - cameo: who appears when\n");
    for (n, row) in rows(document).iter().enumerate() {
        let Row { name, id, appearance, .. } = row;
        out.push_str(&format!(
            "\n{}\n{} --> {}\n{}\n",
            cue_id(n, id),
            clock(appearance.start_seconds),
            clock(appearance.end_seconds),
            escape(name)
        ));
    }
    out
}

/// A cue's id: its number and its group's, which never hold `-->` or a line break.
fn cue_id(n: usize, id: &str) -> String {
    let id: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    if id.is_empty() { format!("{}", n + 1) } else { format!("{} {id}", n + 1) }
}

/// `hh:mm:ss.ttt`.
fn clock(seconds: f64) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    let (s, ms) = (millis / 1000, millis % 1000);
    format!("{:02}:{:02}:{:02}.{ms:03}", s / 3600, s / 60 % 60, s % 60)
}

/// Cue text where `&` and `<` start markup and `-->` ends a cue's timing: escaped, and on
/// one line.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exports::fixtures::document;

    #[test]
    fn one_cue_per_appearance_in_time_order_with_markup_escaped() {
        let vtt = render(&document(25.0, 80.0));
        assert!(vtt.starts_with("WEBVTT"));
        let cues: Vec<&str> = vtt.split("\n\n").skip(1).collect();
        assert_eq!(cues.len(), 4);
        assert_eq!(cues[0], "1 c0000000000a1\n00:00:00.000 --> 00:00:05.000\nBarack Obama");
        assert!(cues[1].contains("00:00:05.000 --> 00:00:09.000\nunknown-1"));
        assert!(cues[2].ends_with("=HYPERLINK(\"x\") &lt;b&gt; &amp; --&gt; Zoë"));
        assert!(cues[3].contains("00:01:05.000 --> 00:01:10.500"));
        assert_eq!(vtt.matches("-->").count(), 4, "only the timings hold -->");
    }
}
