//! CSV (RFC 4180): one row per appearance, for spreadsheets. Names come from users, so a
//! cell a spreadsheet would run as a formula is made text.

use super::{Row, rows};
use crate::results::ResultsDocument;

const HEADER: [&str; 7] = ["person", "group", "start", "end", "seconds", "confidence", "crop"];

pub fn render(document: &ResultsDocument) -> String {
    let mut out = line(HEADER.map(String::from));
    for Row { name, id, appearance, .. } in rows(document) {
        out.push_str(&line([
            text(name),
            text(id),
            format!("{:.3}", appearance.start_seconds),
            format!("{:.3}", appearance.end_seconds),
            format!("{:.3}", appearance.end_seconds - appearance.start_seconds),
            format!("{:.3}", appearance.confidence),
            appearance.crop.as_deref().map(text).unwrap_or_default(),
        ]));
    }
    out
}

/// One record, CRLF-terminated, each field quoted where it has to be.
fn line<const N: usize>(fields: [String; N]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| quote(f)).collect();
    quoted.join(",") + "\r\n"
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field.into() }
}

/// A text cell: one that starts like a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) gets a leading `'`, which spreadsheets show as text (OWASP's advice).
fn text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exports::fixtures::document;

    #[test]
    fn one_row_per_appearance_and_formulas_are_made_text() {
        let csv = render(&document(25.0, 80.0));
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "person,group,start,end,seconds,confidence,crop");
        assert_eq!(
            lines[1],
            "Barack Obama,c0000000000a1,0.000,5.000,5.000,0.500,demo.faces/c0000000000a1/appearance-1.jpg"
        );
        assert_eq!(lines[3].split(',').next(), Some("\"'=HYPERLINK(\"\"x\"\") <b> & --> Zoë\""));
        assert_eq!(lines.len(), 6, "a header, four rows and the final line break");
        assert_eq!(text("-1"), "'-1");
        assert_eq!(text("Ada"), "Ada");
    }
}
