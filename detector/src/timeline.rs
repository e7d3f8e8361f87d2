//! `--timeline`: a PNG with one lane per person over the video's time.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};
use crate::results::ResultsDocument;

/// Fonts tried for labels, in order (Debian's fonts-dejavu-core first); `CAMEO_FONT` overrides.
const FONT_CANDIDATES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

const WIDTH: u32 = 1200;
const LANE_HEIGHT: u32 = 36;
const MARGIN: u32 = 60;

/// Draws the timeline and writes it to `path` atomically.
pub fn write_timeline(document: &ResultsDocument, path: &Path) -> Result<()> {
    load_font()?;
    let lanes: Vec<_> = document.people.iter().chain(&document.unknown).collect();
    let height = MARGIN * 2 + LANE_HEIGHT * lanes.len().max(1) as u32;
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    let draw_error = |e: &dyn std::fmt::Display| Error::Inference(format!("cannot draw the timeline: {e}"));
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, height)).into_drawing_area();
        let duration = document.video.duration_seconds.max(1.0);
        let title = Path::new(&document.video.source)
            .file_name()
            .map_or(document.video.source.clone(), |n| n.to_string_lossy().into_owned());
        let lane_count = lanes.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("Who appears when: {title}"), ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(160)
            // A segmented range a..b has segments a..=b.
            .build_cartesian_2d(0.0..duration, (0..lane_count - 1).into_segmented())
            .map_err(|e| draw_error(&e))?;
        // Segment 0 is at the bottom; the first person's lane is drawn at the top.
        let lane_of = |segment: usize| lane_count - 1 - segment;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("seconds")
            .y_labels(lane_count)
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(segment) => {
                    lanes.get(lane_of(*segment)).map(|p| p.name.clone()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .draw()
            .map_err(|e| draw_error(&e))?;
        for (lane, person) in lanes.iter().enumerate() {
            let known = lane < document.people.len();
            let color = if known { Palette99::pick(lane).to_rgba() } else { RGBColor(150, 150, 150).to_rgba() };
            let segment = lane_of(lane);
            chart
                .draw_series(person.appearances.iter().map(|a| {
                    let mut bar = Rectangle::new(
                        [
                            (a.start_seconds, SegmentValue::Exact(segment)),
                            (a.end_seconds, SegmentValue::Exact(segment + 1)),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(4, 4, 0, 0);
                    bar
                }))
                .map_err(|e| draw_error(&e))?;
        }
        root.present().map_err(|e| draw_error(&e))?;
    }
    let image = image::RgbImage::from_raw(WIDTH, height, pixels)
        .ok_or_else(|| Error::Inference("timeline buffer has the wrong size".into()))?;
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(|e| draw_error(&e))?;
    crate::output::write_atomically(path, &png).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

fn load_font() -> Result<()> {
    static LOADED: std::sync::OnceLock<std::result::Result<(), String>> = std::sync::OnceLock::new();
    LOADED
        .get_or_init(|| {
            let candidates: Vec<PathBuf> = std::env::var_os("CAMEO_FONT")
                .map(PathBuf::from)
                .into_iter()
                .chain(FONT_CANDIDATES.map(PathBuf::from))
                .collect();
            let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
                "no TrueType font for --timeline labels: install fonts-dejavu-core or set CAMEO_FONT".to_string()
            })?;
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read font {}: {e}", path.display()))?;
            // plotters keeps registered fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{} is not a usable TrueType font", path.display()))
        })
        .clone()
        .map_err(Error::Config)
}
