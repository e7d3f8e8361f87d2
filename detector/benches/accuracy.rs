//! `make bench`: how right the names are, and why int8 needs fp32 beside it. Prints
//! Markdown:
//! - precision and recall of every enrolled person on every scenario with ground truth,
//!   with the default settings (int8 tracking, fp32 decisions where int8 is too close);
//! - how far int8 similarities are from fp32's, over every face of the test videos
//!   against every gallery photo: the distribution behind `identify::INT8_SHIFT`.

#[path = "../tests/support/mod.rs"]
mod support;

use cameo_detector::align::align_face;
use cameo_detector::detect::default_min_face_px;
use cameo_detector::embed::Embedding;
use cameo_detector::evaluate::{mismatches, precision, recall};
use cameo_detector::identify::INT8_SHIFT;
use cameo_detector::models::{Precision, large_enough};
use cameo_detector::pipeline::PipelineConfig;
use cameo_detector::video::{VideoReader, VideoSource};
use support::{load_image, load_models, photo, run_scenario, testdata};

/// Every scenario with its gallery, as the tests analyse them.
const SCENARIOS: [(&str, &str); 11] = [
    ("demo", "demo"),
    ("cuts", "cuts"),
    ("degraded", "demo"),
    ("motion_blur", "demo"),
    ("occlusion", "demo"),
    ("blur_opening", "demo"),
    ("stranger_int8", "cameraman"),
    ("lookalike", "demo"),
    ("no_faces", "demo"),
    ("bench_1080p", "cuts"),
    ("bench_crowd_720p", "cuts"),
];

/// Photos whose faces stand for gallery photos: every face in them (14 people).
const GALLERY_PHOTOS: [&str; 9] = [
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "friends.jpg",
    "grace_hopper.jpg",
    "astronaut.png",
    "tom_hanks.png",
    "camera.png",
];

fn main() {
    println!("# cameo-detector accuracy\n");
    names();
    int8_shift();
}

fn names() {
    println!("## Names on every scenario\n");
    println!(
        "Default settings, 2 frames a second. Precision: the share of the time a person is named in which they are on screen, to within a sample period (0.5 s: when a sampled face leaves is known no better); a stranger given a name shows as a precision under 100%. Recall: the share of their time on screen in which they are named, strictly (a cut between two samples costs up to 0.5 s: `cuts` has six cuts in 15 s).\n"
    );
    println!("| scenario | person | precision | recall | named on fp32 evidence | problems |");
    println!("|---|---|---|---|---|---|");
    let (mut named_seconds, mut wrong_seconds) = (0.0, 0.0);
    for (scenario, gallery) in SCENARIOS {
        let run = run_scenario(scenario, gallery);
        let enrolled: Vec<&str> = run.gallery.iter().map(|p| p.name.as_str()).collect();
        let problems = mismatches(&run.document, &run.truth, &enrolled);
        let fp32 = run.tracks.iter().filter(|t| t.evidence.recognizer() == Precision::Fp32).count();
        let mut rows = 0;
        for name in &enrolled {
            let on_screen = run.truth.people.contains_key(*name);
            let found = run.document.people.iter().find(|p| p.name == *name);
            if !on_screen && found.is_none() {
                continue;
            }
            rows += 1;
            let shown = precision(&run.document, &run.truth, name, 1.0 / run.document.video.sampled_fps);
            if let (Some(p), Some(found)) = (shown, found) {
                named_seconds += found.screen_time_seconds;
                wrong_seconds += (1.0 - p) * found.screen_time_seconds;
            }
            println!(
                "| {scenario} | {name} | {} | {:.1}% | {fp32} of {} tracks | {} |",
                shown.map_or("-".into(), |p| format!("{:.1}%", 100.0 * p)),
                100.0 * recall(&run.document, &run.truth, name),
                run.tracks.len(),
                problems.len()
            );
        }
        if rows == 0 {
            println!(
                "| {scenario} | (nobody enrolled on screen) | - | - | {fp32} of {} tracks | {} |",
                run.tracks.len(),
                problems.len()
            );
        }
    }
    println!(
        "\nOver all scenarios: {named_seconds:.1} s named, {wrong_seconds:.1} s of it wrongly ({:.2}%).\n",
        100.0 * wrong_seconds / named_seconds.max(1e-9)
    );
}

/// Faces of the test videos (one sampled frame a second) and the gallery photos, each
/// embedded by both recognisers; every face against every photo.
fn int8_shift() {
    let config = PipelineConfig::default();
    let (_runtime, mut int8) = load_models();
    assert_eq!(int8.precision, Precision::Int8, "the default on CPU");
    let gallery: Vec<Embedding> = GALLERY_PHOTOS
        .iter()
        .flat_map(|name| int8.faces_in_image(&load_image(&photo(name))).unwrap().into_iter().map(|(_, e)| e))
        .collect();
    let mut crops = Vec::new();
    for (scenario, _) in SCENARIOS {
        let video = VideoSource::File(testdata().join(format!("{scenario}.mp4")));
        let reader = VideoReader::open(&video, 1).unwrap();
        let min_face = default_min_face_px(reader.info().width, reader.info().height);
        reader
            .sample(1.0, min_face, None, |frame| {
                let faces = int8.detector.detect(&frame.detector_input)?;
                crops.extend(
                    faces.iter().filter(|d| large_enough(d, min_face)).map(|d| align_face(&frame.image, &d.landmarks)),
                );
                Ok(())
            })
            .unwrap();
    }
    let quantised = int8.recognisers.tracking.embed(&crops).unwrap();
    let exact = int8.recognisers.embed_fp32(&crops).unwrap();
    let threshold = config.matching.threshold;
    let (mut shifts, mut near) = (Vec::new(), Vec::new());
    for (q, e) in quantised.iter().zip(&exact) {
        for g in &gallery {
            let shift = q.cosine(g) - e.cosine(g);
            shifts.push(shift);
            if (e.cosine(g) - threshold).abs() <= 0.15 {
                near.push(shift);
            }
        }
    }
    println!("## int8 against fp32 similarities\n");
    println!(
        "{} faces of the test videos (1 frame a second) against {} faces of the test photos in fp32, as gallery photos are embedded; the shift is the int8 face's similarity to a photo minus the fp32 face's. `identify::INT8_SHIFT` is {INT8_SHIFT}: int8 evidence within it of the threshold or the margin is decided again in fp32.\n",
        crops.len(),
        gallery.len()
    );
    println!(
        "| pairs | n | mean | standard deviation | 99th percentile of \\|shift\\| | 99.9th | largest | over INT8_SHIFT |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (what, values) in [("all", &shifts), (&*format!("fp32 similarity within 0.15 of {threshold}"), &near)] {
        let n = values.len().max(1) as f32;
        let mean = values.iter().sum::<f32>() / n;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        let mut magnitudes: Vec<f32> = values.iter().map(|v| v.abs()).collect();
        magnitudes.sort_by(f32::total_cmp);
        let quantile = |q: f32| magnitudes.get(((magnitudes.len() as f32 - 1.0) * q) as usize).copied().unwrap_or(0.0);
        println!(
            "| {what} | {} | {mean:+.4} | {sd:.4} | {:.4} | {:.4} | {:.4} | {} |",
            values.len(),
            quantile(0.99),
            quantile(0.999),
            magnitudes.last().copied().unwrap_or(0.0),
            magnitudes.iter().filter(|&&m| m > INT8_SHIFT).count()
        );
    }
    println!();
}
