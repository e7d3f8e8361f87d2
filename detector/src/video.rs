//! Decode stage: a video file in, the sampled frames out, with real timestamps.
//!
//! Every frame is decoded (seeking per sample is ~10x slower with sparse keyframes),
//! but only sampled frames are converted: once to full-size RGB for alignment and
//! once, scaled, to the detector's input size.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ffmpeg::codec::discard::Discard;
use ffmpeg::format::Pixel;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg::util::frame::video::Video as VideoFrame;
use ffmpeg_next as ffmpeg;
use image::RgbImage;
use image::metadata::Orientation;

use crate::detect::{DetectorInput, detection_size};
use crate::display;
use crate::error::{Error, Result};

/// Corrupt packets tolerated before the file counts as broken (real streams have the odd glitch).
const MAX_CORRUPT_PACKETS: usize = 32;

/// A video shorter than its declared duration by more than this is reported as truncated.
const TRUNCATION_TOLERANCE_SECONDS: f64 = 2.0;

#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Displayed size: the stored frames turned by `orientation`.
    pub width: u32,
    pub height: u32,
    /// How the stored frames are turned for display.
    pub orientation: Orientation,
    /// What could not be taken at face value, such as a nonsense rotation tag.
    pub warnings: Vec<String>,
    /// Declared duration of the video stream (or container), if known.
    pub duration_seconds: Option<f64>,
    pub frame_rate: f64,
    pub codec: String,
}

/// Where a video is read from.
#[derive(Debug, Clone, PartialEq)]
pub enum VideoSource {
    File(PathBuf),
    /// A URL FFmpeg reads with ranged requests, such as a presigned S3 URL; messages show
    /// `name` instead, as the URL carries a signature.
    Url {
        url: String,
        name: String,
    },
}

impl VideoSource {
    /// The video as messages and results name it.
    pub fn name(&self) -> String {
        match self {
            VideoSource::File(path) => path.display().to_string(),
            VideoSource::Url { name, .. } => name.clone(),
        }
    }
}

/// A stretch of the video, in seconds from its start: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    pub start: f64,
    pub end: f64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange { start: 0.0, end: f64::INFINITY };

    pub fn contains(&self, seconds: f64) -> bool {
        seconds >= self.start && seconds < self.end
    }
}

/// The part of a video to decode, and the part of it to count: a shard decodes a little
/// beyond its own part, and counts only its own part so shards add up to the whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub decoded: TimeRange,
    pub counted: TimeRange,
}

/// A frame chosen by sampling.
pub struct SampledFrame {
    /// Seconds from the start of the video stream, from the frame's PTS.
    pub seconds: f64,
    pub image: RgbImage,
    pub detector_input: DetectorInput,
}

/// Totals of a decoding run. The frame counts cover the span's counted part only.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeStats {
    pub frames_decoded: usize,
    pub frames_sampled: usize,
    pub last_seconds: f64,
    /// Time spent decoding and converting, not waiting for the consumer.
    pub busy: Duration,
}

pub struct VideoReader {
    name: String,
    input: ffmpeg::format::context::Input,
    decoder: ffmpeg::decoder::Video,
    stream_index: usize,
    time_base: f64,
    start_pts: Option<i64>,
    info: VideoInfo,
}

impl VideoReader {
    /// Opens a video; a missing, empty or non-video file is [`Error::BadVideo`].
    pub fn open(source: &VideoSource, decoder_threads: usize) -> Result<Self> {
        ffmpeg::init().map_err(|e| Error::Config(format!("cannot initialise FFmpeg: {e}")))?;
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
        let name = source.name();
        let path = name.as_str();
        let opened = match source {
            VideoSource::File(file) => {
                let metadata = std::fs::metadata(file).map_err(|e| Error::bad_video(path, e))?;
                if !metadata.is_file() {
                    return Err(Error::bad_video(path, "not a regular file"));
                }
                if metadata.len() == 0 {
                    return Err(Error::bad_video(path, "the file is empty"));
                }
                ffmpeg::format::input(file)
            }
            VideoSource::Url { url, .. } => {
                // Ride out dropped connections on long reads.
                let mut options = ffmpeg::Dictionary::new();
                options.set("reconnect", "1");
                options.set("reconnect_on_network_error", "1");
                options.set("reconnect_delay_max", "10");
                options.set("rw_timeout", "60000000");
                ffmpeg::format::input_with_dictionary(url, options)
            }
        };
        let input = opened.map_err(|e| Error::bad_video(path, format!("not a readable video container ({e})")))?;
        let stream = input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .ok_or_else(|| Error::bad_video(path, "the file has no video stream"))?;
        let stream_index = stream.index();
        let (orientation, orientation_warning) = display_orientation(&stream);
        let time_base = f64::from(stream.time_base());
        let start_pts = (stream.start_time() != ffmpeg::ffi::AV_NOPTS_VALUE).then(|| stream.start_time());
        let stream_duration = (stream.duration() > 0).then(|| stream.duration() as f64 * time_base);
        let container_duration =
            (input.duration() > 0).then(|| input.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE));
        let frame_rate = f64::from(stream.avg_frame_rate());
        let mut context = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| Error::bad_video(path, format!("unsupported video stream ({e})")))?;
        context.set_threading(ffmpeg::threading::Config {
            kind: ffmpeg::threading::Type::Frame,
            count: decoder_threads,
            ..Default::default()
        });
        let decoder = context
            .decoder()
            .video()
            .map_err(|e| Error::bad_video(path, format!("no decoder for this video codec ({e})")))?;
        if decoder.width() == 0 || decoder.height() == 0 {
            return Err(Error::bad_video(path, "the video stream has no picture size"));
        }
        let (width, height) = display::turned_size(orientation, (decoder.width(), decoder.height()));
        let info = VideoInfo {
            width,
            height,
            orientation,
            warnings: orientation_warning.into_iter().collect(),
            duration_seconds: stream_duration.or(container_duration),
            frame_rate: if frame_rate.is_finite() && frame_rate > 0.0 { frame_rate } else { 0.0 },
            codec: decoder.codec().map(|c| c.name().to_string()).unwrap_or_default(),
        };
        Ok(VideoReader { name, input, decoder, stream_index, time_base, start_pts, info })
    }

    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// Decodes the video (or `span` of it), handing the frame nearest each multiple of
    /// `1/fps` seconds to `sink`. `min_face_px` sets the detector input size.
    pub fn sample(
        mut self,
        fps: f64,
        min_face_px: f32,
        span: Option<Span>,
        mut sink: impl FnMut(SampledFrame) -> Result<()>,
    ) -> Result<DecodeStats> {
        let range = span.map(|s| s.decoded);
        let counted = span.map_or(TimeRange::ALL, |s| s.counted);
        let started = Instant::now();
        let period = 1.0 / fps;
        // Pick the first frame at or after each sample time, within half a frame.
        let half_frame = if self.info.frame_rate > 0.0 { 0.5 / self.info.frame_rate } else { 0.0 };
        // Samples sit on the same grid (multiples of the period) whatever the range.
        let mut next_sample = range.map_or(0.0, |r| (r.start * fps).ceil() / fps);
        let end = range.map_or(f64::INFINITY, |r| r.end);
        if let Some(range) = range.filter(|r| r.start > 0.0) {
            // Once per range, to the keyframe at or before its start.
            let target = (range.start * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
            self.input.seek(target, ..target).map_err(|e| Error::bad_video(&self.name, format!("cannot seek: {e}")))?;
            self.start_pts.get_or_insert(0);
        }
        let mut stats = DecodeStats::default();
        // Any frame at all, counted or not: none means the file is no video.
        let mut any_decoded = false;
        let mut converter: Option<Converter> = None;
        let mut corrupt_packets = 0;
        let mut decoded = VideoFrame::empty();
        let mut waiting = Duration::ZERO;
        // Shared by the drain closure (which learns it from the first frame) and the packet loop.
        let start_pts = Cell::new(self.start_pts);

        let mut drain = |decoder: &mut ffmpeg::decoder::Video, stats: &mut DecodeStats| -> Result<()> {
            while decoder.receive_frame(&mut decoded).is_ok() {
                any_decoded = true;
                let Some(pts) = decoded.timestamp().or(decoded.pts()) else {
                    // A frame that cannot be placed in time is counted once, by the whole.
                    stats.frames_decoded += usize::from(counted == TimeRange::ALL);
                    continue;
                };
                let start = start_pts.get().unwrap_or(pts);
                start_pts.set(Some(start));
                let seconds = (pts - start) as f64 * self.time_base;
                stats.frames_decoded += usize::from(counted.contains(seconds));
                stats.last_seconds = stats.last_seconds.max(seconds);
                if seconds + half_frame < next_sample || seconds >= end {
                    continue;
                }
                while next_sample <= seconds + half_frame {
                    next_sample += period;
                }
                let converter = match converter.as_mut() {
                    Some(c) if c.accepts(&decoded) => c,
                    _ => converter.insert(
                        Converter::new(&decoded, self.info.orientation, min_face_px)
                            .map_err(|e| Error::bad_video(&self.name, e))?,
                    ),
                };
                let (image, detector_input) =
                    converter.convert(&decoded).map_err(|e| Error::bad_video(&self.name, e))?;
                stats.frames_sampled += usize::from(counted.contains(seconds.max(0.0)));
                let handed_over = Instant::now();
                sink(SampledFrame { seconds: seconds.max(0.0), image, detector_input })?;
                waiting += handed_over.elapsed();
            }
            Ok(())
        };

        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => {
                    corrupt_packets += 1;
                    if corrupt_packets > MAX_CORRUPT_PACKETS {
                        return Err(Error::bad_video(&self.name, "too many corrupt packets; the file is damaged"));
                    }
                    continue;
                }
                Err(e) => return Err(Error::bad_video(&self.name, format!("read failed: {e}"))),
            }
            if packet.stream() != self.stream_index {
                continue;
            }
            // Frames no sample needs and no other frame refers to are not decoded at all
            // (a third of the decode work with x264's B-frames).
            let needed = match (packet.pts(), start_pts.get()) {
                (Some(pts), Some(start)) => near_sample_time((pts - start) as f64 * self.time_base, fps, half_frame),
                _ => true,
            };
            self.decoder.skip_frame(if needed { Discard::Default } else { Discard::NonReference });
            if self.decoder.send_packet(&packet).is_err() {
                corrupt_packets += 1;
                if corrupt_packets > MAX_CORRUPT_PACKETS {
                    return Err(Error::bad_video(&self.name, "too many undecodable packets; the file is damaged"));
                }
            }
            drain(&mut self.decoder, &mut stats)?;
            if stats.last_seconds >= end {
                break;
            }
        }
        let _ = self.decoder.send_eof();
        drain(&mut self.decoder, &mut stats)?;

        if !any_decoded {
            return Err(Error::bad_video(&self.name, "no frame could be decoded; the file is damaged or not a video"));
        }
        if let Some(duration) = self.info.duration_seconds.map(|d| d.min(end)) {
            let last_frame_end = stats.last_seconds + 2.0 * half_frame;
            if last_frame_end + TRUNCATION_TOLERANCE_SECONDS < duration {
                return Err(Error::bad_video(
                    &self.name,
                    format!("truncated: frames end at {last_frame_end:.1} s of a declared {duration:.1} s"),
                ));
            }
        }
        stats.busy = started.elapsed().saturating_sub(waiting);
        Ok(stats)
    }
}

/// Whether a frame at `seconds` may be the one sampled for the nearest multiple of 1/fps.
fn near_sample_time(seconds: f64, fps: f64, half_frame: f64) -> bool {
    if half_frame <= 0.0 {
        return true;
    }
    let nearest = (seconds * fps).round() / fps;
    (seconds - nearest).abs() <= half_frame + 1e-6
}

/// How a stream's frames are shown: by its display matrix, else its `rotate` tag; as
/// stored, with a warning, when that makes no sense (players differ on such files).
fn display_orientation(stream: &ffmpeg::format::stream::Stream) -> (Orientation, Option<String>) {
    let matrix = stream.side_data().find(|s| s.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix);
    let read = match (matrix, stream.metadata().get("rotate")) {
        (Some(matrix), _) => display::from_display_matrix(matrix.data()),
        (None, Some(tag)) => display::from_rotate_tag(tag),
        (None, None) => Ok(Orientation::NoTransforms),
    };
    match read {
        Ok(orientation) => (orientation, None),
        Err(why) => (Orientation::NoTransforms, Some(format!("{why}; the frames are analysed as stored"))),
    }
}

/// Converts decoded frames (any pixel format) to displayed RGB at full size and at the
/// detector's size.
struct Converter {
    source: (Pixel, u32, u32),
    orientation: Orientation,
    full: Scaler,
    detect: Scaler,
    /// Displayed size of the detector's input.
    detect_size: (u32, u32),
}

impl Converter {
    fn new(frame: &VideoFrame, orientation: Orientation, min_face_px: f32) -> std::result::Result<Self, ffmpeg::Error> {
        let (format, width, height) = (frame.format(), frame.width(), frame.height());
        let displayed_size = display::turned_size(orientation, (width, height));
        let detect_size = detection_size(displayed_size.0, displayed_size.1, min_face_px);
        // Scaled as stored, then turned: the turn is the same either way, and cheaper small.
        let (detect_width, detect_height) = display::turned_size(orientation, detect_size);
        Ok(Converter {
            source: (format, width, height),
            orientation,
            full: Scaler::get(format, width, height, Pixel::RGB24, width, height, Flags::BILINEAR)?,
            detect: Scaler::get(format, width, height, Pixel::RGB24, detect_width, detect_height, Flags::AREA)?,
            detect_size,
        })
    }

    fn accepts(&self, frame: &VideoFrame) -> bool {
        self.source == (frame.format(), frame.width(), frame.height())
    }

    fn convert(&mut self, frame: &VideoFrame) -> std::result::Result<(RgbImage, DetectorInput), ffmpeg::Error> {
        let mut rgb = VideoFrame::empty();
        self.full.run(frame, &mut rgb)?;
        let mut small = VideoFrame::empty();
        self.detect.run(frame, &mut small)?;
        let (width, height) = display::turned_size(self.orientation, (self.source.1, self.source.2));
        let input = DetectorInput {
            image: display::turn(packed_rgb(&small), self.orientation),
            scale_x: width as f32 / self.detect_size.0 as f32,
            scale_y: height as f32 / self.detect_size.1 as f32,
        };
        Ok((display::turn(packed_rgb(&rgb), self.orientation), input))
    }
}

/// Copies an RGB24 frame's rows, skipping the line padding (stride > 3 x width).
fn packed_rgb(frame: &VideoFrame) -> RgbImage {
    let (width, height) = (frame.width(), frame.height());
    let row = 3 * width as usize;
    let stride = frame.stride(0);
    let data = frame.data(0);
    let mut packed = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        packed.extend_from_slice(&data[y * stride..y * stride + row]);
    }
    RgbImage::from_raw(width, height, packed).unwrap_or_else(|| RgbImage::new(width, height))
}
