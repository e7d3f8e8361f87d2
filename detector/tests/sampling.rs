//! Shards decode beyond their own part of the video (the overlap), yet count only their
//! own part: the frame counts of adjacent spans add up to the whole video's.

mod support;

use cameo_detector::video::{DecodeStats, Span, TimeRange, VideoReader, VideoSource};
use support::testdata;

const FPS: f64 = 2.0;
const MIN_FACE_PX: f32 = 20.0;

fn sample(video: &VideoSource, span: Option<Span>) -> (DecodeStats, Vec<f64>) {
    let mut seconds = Vec::new();
    let reader = VideoReader::open(video, 1).expect("the test video opens");
    let stats = reader
        .sample(FPS, MIN_FACE_PX, span, |frame| {
            seconds.push(frame.seconds);
            Ok(())
        })
        .expect("the test video decodes");
    (stats, seconds)
}

#[test]
fn the_counts_of_adjacent_spans_add_up_to_the_whole_video() {
    let video = VideoSource::File(testdata().join("demo.mp4"));
    let (whole, _) = sample(&video, None);
    assert!(whole.frames_sampled >= 40, "the 24 s demo at {FPS} fps: {whole:?}");

    // Three parts of 8 s, each decoded with 3 s on either side, as shards are.
    let bounds = [0.0, 8.0, 16.0, f64::INFINITY];
    let (mut decoded, mut sampled, mut handed_over) = (0, 0, 0);
    for part in bounds.windows(2) {
        let counted = TimeRange { start: part[0], end: part[1] };
        let span = Span { decoded: TimeRange { start: (part[0] - 3.0f64).max(0.0), end: part[1] + 3.0 }, counted };
        let (stats, seconds) = sample(&video, Some(span));
        assert!(seconds.len() > stats.frames_sampled, "the overlap is decoded too: {stats:?}");
        decoded += stats.frames_decoded;
        sampled += stats.frames_sampled;
        handed_over += seconds.len();
    }
    assert_eq!(sampled, whole.frames_sampled, "each sampled frame is counted once");
    assert_eq!(decoded, whole.frames_decoded, "each decoded frame is counted once");
    assert!(handed_over > sampled, "the spans overlap, so more frames were analysed than counted");
}
