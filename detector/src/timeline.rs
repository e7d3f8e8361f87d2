//! `--timeline`: a PNG with one lane per person over the video's time: known people first,
//! then unknown faces by screen time, the briefest folded into one lane, so a crowded
//! video does not drown the people a user looks for in grey lanes.

use std::path::Path;

use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};
use crate::faces::BRIEF_SECONDS;
use crate::report::TimeFormat;
use crate::results::{PersonAppearances, ResultsDocument};
use crate::text;

const WIDTH: u32 = 1200;
const LANE_HEIGHT: u32 = 36;
const MARGIN: u32 = 60;
const LABEL_WIDTH: u32 = 200;
const LABEL_SIZE: f32 = 15.0;

/// At most this many unknown faces get a lane of their own (those with the most screen time).
const MAX_UNKNOWN_LANES: usize = 12;

/// One lane of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub label: String,
    pub known: bool,
    /// `(start, end)` seconds.
    pub spans: Vec<(f64, f64)>,
}

/// The lanes, top to bottom: known people by first appearance; unknown faces by screen
/// time, those on screen briefly (or beyond the lanes' limit) together in one "other
/// faces" lane that says how many they are.
pub fn lanes(document: &ResultsDocument) -> Vec<Lane> {
    let spans = |p: &PersonAppearances| p.appearances.iter().map(|a| (a.start_seconds, a.end_seconds)).collect();
    let mut lanes: Vec<Lane> =
        document.people.iter().map(|p| Lane { label: p.name.clone(), known: true, spans: spans(p) }).collect();
    let mut unknown: Vec<&PersonAppearances> = document.unknown.iter().collect();
    unknown.sort_by(|a, b| {
        b.screen_time_seconds
            .total_cmp(&a.screen_time_seconds)
            .then(a.first_seen_seconds.total_cmp(&b.first_seen_seconds))
    });
    let own = unknown.iter().take(MAX_UNKNOWN_LANES).take_while(|p| p.screen_time_seconds >= BRIEF_SECONDS).count();
    lanes.extend(unknown[..own].iter().map(|p| Lane { label: p.name.clone(), known: false, spans: spans(p) }));
    let folded = &unknown[own..];
    if !folded.is_empty() {
        let label = match folded.len() {
            1 => "1 other face".to_string(),
            n => format!("{n} other faces"),
        };
        lanes.push(Lane { label, known: false, spans: folded.iter().flat_map(|p| spans(p)).collect() });
    }
    lanes
}

/// Draws the timeline and writes it to `path` atomically.
pub fn write_timeline(document: &ResultsDocument, path: &Path) -> Result<()> {
    let fonts = text::fonts()?;
    register_axis_font(fonts.first)?;
    let lanes = lanes(document);
    let lane_count = lanes.len().max(1);
    let height = MARGIN * 2 + LANE_HEIGHT * lane_count as u32;
    let format = TimeFormat::for_duration(document.video.duration_seconds);
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    let draw_error = |e: &dyn std::fmt::Display| Error::Inference(format!("cannot draw the timeline: {e}"));
    // Where each lane's label goes, found while the chart's coordinates are known.
    let mut label_rows: Vec<(String, i32)> = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, height)).into_drawing_area();
        let duration = document.video.duration_seconds.max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_top(MARGIN as i32 - 10)
            .x_label_area_size(30)
            .y_label_area_size(LABEL_WIDTH)
            // A segmented range a..b has segments a..=b.
            .build_cartesian_2d(0.0..duration, (0..lane_count - 1).into_segmented())
            .map_err(|e| draw_error(&e))?;
        // Segment 0 is at the bottom; the first lane is drawn at the top.
        let segment_of = |lane: usize| lane_count - 1 - lane;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("time")
            .x_label_formatter(&|seconds| format.clock(*seconds))
            // Names are drawn afterwards, in any script (plotters has one font).
            .y_label_formatter(&|_| String::new())
            .draw()
            .map_err(|e| draw_error(&e))?;
        for (index, lane) in lanes.iter().enumerate() {
            let color = if lane.known { Palette99::pick(index).to_rgba() } else { RGBColor(150, 150, 150).to_rgba() };
            let segment = segment_of(index);
            chart
                .draw_series(lane.spans.iter().map(|&(start, end)| {
                    let mut bar = Rectangle::new(
                        [(start, SegmentValue::Exact(segment)), (end, SegmentValue::Exact(segment + 1))],
                        color.filled(),
                    );
                    bar.set_margin(4, 4, 0, 0);
                    bar
                }))
                .map_err(|e| draw_error(&e))?;
            let (_, y) = chart.backend_coord(&(0.0, SegmentValue::CenterOf(segment)));
            label_rows.push((lane.label.clone(), y));
        }
        root.present().map_err(|e| draw_error(&e))?;
    }
    let mut image = RgbImage::from_raw(WIDTH, height, pixels)
        .ok_or_else(|| Error::Inference("timeline buffer has the wrong size".into()))?;
    let title = Path::new(&document.video.source)
        .file_name()
        .map_or(document.video.source.clone(), |n| n.to_string_lossy().into_owned());
    let title = format!("Who appears when: {title}");
    let title_x = (WIDTH as f32 - text::width(fonts, &title, 18.0)).max(0.0) / 2.0;
    text::draw(&mut image, fonts, &title, (title_x, 12.0), 18.0, Rgb([0, 0, 0]));
    for (label, y) in label_rows {
        let label = fit(fonts, &label, LABEL_WIDTH as f32 - 24.0);
        let x = 10.0 + LABEL_WIDTH as f32 - 14.0 - text::width(fonts, &label, LABEL_SIZE);
        text::draw(&mut image, fonts, &label, (x, y as f32 - LABEL_SIZE * 0.6), LABEL_SIZE, Rgb([30, 30, 30]));
    }
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(|e| draw_error(&e))?;
    crate::output::write_atomically(path, &png).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// A label cut with an ellipsis to fit `width` pixels.
fn fit(fonts: &text::Fonts, label: &str, width: f32) -> String {
    if text::width(fonts, label, LABEL_SIZE) <= width {
        return label.to_string();
    }
    let mut cut: String = label.to_string();
    while !cut.is_empty() && text::width(fonts, &format!("{cut}…"), LABEL_SIZE) > width {
        cut.pop();
    }
    format!("{cut}…")
}

/// The axis's numbers are drawn by the chart library, with the first font.
fn register_axis_font(bytes: &'static [u8]) -> Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let registered =
        *REGISTERED.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok());
    if registered { Ok(()) } else { Err(Error::Config("the first font is not a usable TrueType font".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{person, results};

    #[test]
    fn known_people_come_first_then_unknown_faces_by_screen_time_with_brief_ones_folded() {
        let mut unknown: Vec<PersonAppearances> = (1..=20)
            .map(|n| person(&format!("unknown-{n}"), &[(f64::from(n), f64::from(n) + f64::from(n % 7) * 0.9)]))
            .collect();
        unknown.push(person("unknown-21", &[(30.0, 60.0)]));
        let document = results(vec![person("Bea", &[(5.0, 9.0)]), person("Ada", &[(8.0, 9.0)])], unknown);
        let lanes = lanes(&document);
        let labels: Vec<&str> = lanes.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(&labels[..3], ["Bea", "Ada", "unknown-21"]);
        // 0.9 s steps: unknown faces of n % 7 >= 3 have a lane (at most 12), the rest fold.
        let own = &lanes[3..lanes.len() - 1];
        assert!(own.len() <= MAX_UNKNOWN_LANES && own.iter().all(|l| !l.known));
        assert!(own.windows(2).all(|w| spans_length(&w[0]) >= spans_length(&w[1])));
        let folded = lanes.last().unwrap();
        assert_eq!(folded.label, format!("{} other faces", 21 - 1 - own.len()));
        assert_eq!(folded.spans.len(), 21 - 1 - own.len());
    }

    fn spans_length(lane: &Lane) -> f64 {
        lane.spans.iter().map(|(a, b)| b - a).sum()
    }

    #[test]
    fn a_video_with_few_unknown_faces_gives_each_its_lane() {
        let document = results(vec![], vec![person("unknown-1", &[(0.0, 4.0)]), person("unknown-2", &[(5.0, 10.0)])]);
        let labels: Vec<String> = lanes(&document).into_iter().map(|l| l.label).collect();
        assert_eq!(labels, vec!["unknown-2", "unknown-1"]);
    }
}
