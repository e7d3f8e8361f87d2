//! The whole analysis of one video, stage by stage:
//! frames -> detections -> aligned crops -> embeddings -> tracks -> identities -> appearances.
//!
//! Decoding runs on its own thread and hands sampled frames over a short queue, so
//! that decode and inference overlap; crops are embedded in batches. Tracks are built as
//! the frames arrive, each keeping its best faces while the frame is still there, and are
//! named as they close, so memory holds only the open tracks' best faces.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use image::RgbImage;
use image::metadata::Orientation;
use indicatif::ProgressBar;

use crate::align::align_face;
use crate::appearances::{AppearanceConfig, known_people, unknown_people};
use crate::best_faces::display_crop;
use crate::detect::{Detection, DetectorConfig, FaceDetector, default_min_face_px};
use crate::display;
use crate::embed::{Embedding, Recognisers, UnchangedFaces};
use crate::error::{Error, Result};
use crate::faces::FaceCrops;
use crate::gallery::Gallery;
use crate::identify::{INT8_SHIFT, IdentifiedTrack, Identifier, MatchConfig, one_face_one_person};
use crate::models::{Models, Precision, large_enough};
use crate::quality::FaceQuality;
use crate::results::{GallerySummary, ModelsUsed, Movie, Parameters, ResultsDocument, SCHEMA_VERSION, VideoSummary};
use crate::shots::ShotCounter;
use crate::track::{FaceObservation, Track, Tracker, TrackerConfig};
use crate::video::{DecodeStats, SampledFrame, Span, TimeRange, VideoInfo, VideoReader, VideoSource};

/// Sampled frames decoded ahead of inference: enough to smooth out bursts, few enough
/// to bound memory (a 4K RGB frame is 25 MB).
const FRAME_QUEUE: usize = 4;

#[derive(Debug, Clone, Copy)]
pub struct PipelineConfig {
    /// Frames analysed per second of video.
    pub fps: f64,
    /// Smallest face to find, in frame pixels; `None` for 40 px per 1080 lines.
    pub min_face_px: Option<f32>,
    pub detector: DetectorConfig,
    pub matching: MatchConfig,
    /// Sightings closer than this are one appearance; tracks bridge gaps up to it.
    pub gap_tolerance_seconds: f64,
    /// Minimum similarity for linking faces into tracks and tracks into unknown clusters.
    pub link_similarity: f32,
    /// FFmpeg decoder threads (0: one per core); see [`crate::runtime::Device::decoder_threads`].
    pub decoder_threads: usize,
}

impl PipelineConfig {
    pub const DEFAULT_FPS: f64 = 2.0;
    pub const DEFAULT_THRESHOLD: f32 = 0.363;
    pub const DEFAULT_MARGIN: f32 = 0.05;
    pub const DEFAULT_GAP_TOLERANCE_SECONDS: f64 = 1.5;
    pub const DEFAULT_LINK_SIMILARITY: f32 = 0.45;
}

impl PipelineConfig {
    /// Rejects values that would make the analysis meaningless or endless.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(Error::Config(m.to_string()));
        if !(self.fps > 0.0 && self.fps <= 60.0) {
            return fail("--fps must be above 0 and at most 60");
        }
        if !(-1.0..=1.0).contains(&self.matching.threshold) || !(0.0..=2.0).contains(&self.matching.margin) {
            return fail("--threshold must be within [-1, 1] and --margin within [0, 2]");
        }
        if !(0.0..=1.0).contains(&self.detector.score_threshold) {
            return fail("--detection-threshold must be within [0, 1]");
        }
        if self.min_face_px.is_some_and(|px| px.is_nan() || px < 1.0) {
            return fail("--min-face-size must be at least 1 pixel");
        }
        Ok(())
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            fps: Self::DEFAULT_FPS,
            min_face_px: None,
            detector: DetectorConfig::default(),
            matching: MatchConfig { threshold: Self::DEFAULT_THRESHOLD, margin: Self::DEFAULT_MARGIN },
            gap_tolerance_seconds: Self::DEFAULT_GAP_TOLERANCE_SECONDS,
            link_similarity: Self::DEFAULT_LINK_SIMILARITY,
            decoder_threads: 1,
        }
    }
}

/// Time spent in each stage. Decode overlaps the others, so they can add up to more than `wall`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    pub decode: Duration,
    pub detect: Duration,
    pub align: Duration,
    pub embed: Duration,
    /// Linking faces into tracks, keeping their best faces, and naming closed tracks
    /// (`decide` of it re-embeds best faces in fp32).
    pub track: Duration,
    pub decide: Duration,
    /// JPEG-encoding the best faces' display crops (part of `track`).
    pub crops: Duration,
    pub wall: Duration,
    /// Faces run through the recogniser; the others kept an unchanged face's embedding.
    pub faces_embedded: usize,
    pub tracks: usize,
    /// Tracks named on fp32 evidence because their int8 evidence was too close to call.
    pub tracks_decided_in_fp32: usize,
}

pub struct Analysis {
    pub document: ResultsDocument,
    /// The tracks the document was made of, and their best faces' crops.
    pub tracks: Vec<IdentifiedTrack>,
    pub crops: FaceCrops,
    pub timings: StageTimings,
}

/// What the stages up to identification found in a video, or in a range of it.
pub struct TrackAnalysis {
    pub video: VideoSummary,
    pub models: ModelsUsed,
    pub parameters: Parameters,
    pub gallery: GallerySummary,
    pub tracks: Vec<IdentifiedTrack>,
    /// The display crops of the tracks' best faces.
    pub crops: FaceCrops,
    pub timings: StageTimings,
}

enum Decoded {
    Info(VideoInfo),
    Frame(SampledFrame),
}

/// One frame's faces, detected and aligned, waiting for their embeddings; the frame stays
/// with them so that the faces a track keeps can be cut from it.
struct DetectedFrame {
    seconds: f64,
    shot: u32,
    image: RgbImage,
    faces: Vec<FoundFace>,
}

struct FoundFace {
    detection: Detection,
    aligned: RgbImage,
    quality: f32,
}

/// Analyses a whole video against `gallery`: who appears when.
pub fn analyse(
    source: &VideoSource,
    models: &mut Models,
    gallery: &Gallery,
    config: &PipelineConfig,
    execution_provider: &str,
    progress: &ProgressBar,
) -> Result<Analysis> {
    let analysis = analyse_tracks(source, None, models, gallery, config, execution_provider, progress)?;
    let started = Instant::now();
    let document = analysis.document();
    let mut timings = analysis.timings;
    timings.track += started.elapsed();
    timings.wall += started.elapsed();
    Ok(Analysis { document, tracks: analysis.tracks, crops: analysis.crops, timings })
}

/// Decodes, detects, aligns, embeds, tracks and identifies: everything before the
/// appearances stage, for the whole video or `span` of it.
pub fn analyse_tracks(
    source: &VideoSource,
    span: Option<Span>,
    models: &mut Models,
    gallery: &Gallery,
    config: &PipelineConfig,
    execution_provider: &str,
    progress: &ProgressBar,
) -> Result<TrackAnalysis> {
    config.validate()?;
    let started = Instant::now();
    let (frames_in, frames_out) = mpsc::sync_channel::<Decoded>(FRAME_QUEUE);
    let (faces_in, faces_out) = mpsc::sync_channel::<DetectedFrame>(FRAME_QUEUE);
    let models_used = ModelsUsed {
        detector: models.detector_info(),
        recognizer: models.recognizer_info(),
        fp32_recognizer: models.fp32_recognizer_info(),
        execution_provider: execution_provider.to_string(),
    };
    let identifier = Identifier { gallery: &gallery.people, config: config.matching, precision: models.precision };
    let counted = span.map_or(TimeRange::ALL, |s| s.counted);
    let Models { detector, recognisers, .. } = models;
    // Three stages on three threads, so every core has work whichever stage is the slowest.
    let (info, stats, detected, tracked) = std::thread::scope(|scope| {
        let decoding = scope.spawn(move || decode(source, span, config, frames_in));
        let detecting = scope.spawn(move || detect_stage(frames_out, detector, config, faces_in, progress));
        let tracked = track_stage(faces_out, recognisers, &identifier, config, counted);
        let panicked = |_| Error::Inference("a pipeline thread panicked".into());
        let decoded = decoding.join().map_err(panicked).and_then(|r| r);
        let detected = detecting.join().map_err(panicked).and_then(|r| r);
        // An earlier stage's error explains a later stage's early end, not the reverse.
        decoded.and_then(|(info, stats)| Ok((info, stats, detected?, tracked?)))
    })?;
    let (detect_time, align_time, min_face_px) = detected;
    let mut timings = tracked.timings;
    timings.decode = stats.busy;
    timings.detect = detect_time;
    timings.align = align_time;
    timings.wall = started.elapsed();
    progress.finish_and_clear();

    let faces_detected = tracked.faces.iter().filter(|&&seconds| counted.contains(seconds)).count();
    let frame_seconds = if info.frame_rate > 0.0 { 1.0 / info.frame_rate } else { 0.0 };
    let decoded_end = stats.last_seconds + frame_seconds;
    // A range sees only part of the video: its declared length stands for the whole.
    let duration_seconds = match span {
        Some(_) => info.duration_seconds.unwrap_or(decoded_end),
        None => decoded_end,
    };
    Ok(TrackAnalysis {
        video: VideoSummary {
            source: source.name(),
            duration_seconds,
            width: info.width,
            height: info.height,
            display_orientation: (info.orientation != Orientation::NoTransforms)
                .then(|| display::name(info.orientation).to_string()),
            warnings: info.warnings,
            frame_rate: info.frame_rate,
            codec: info.codec,
            sampled_fps: config.fps,
            frames_decoded: stats.frames_decoded,
            frames_analysed: stats.frames_sampled,
            faces_detected,
        },
        models: models_used,
        parameters: Parameters {
            match_threshold: config.matching.threshold,
            match_margin: config.matching.margin,
            min_face_size_px: min_face_px,
            detection_score_threshold: config.detector.score_threshold,
            gap_tolerance_seconds: config.gap_tolerance_seconds,
            link_similarity: config.link_similarity,
            int8_shift: (identifier.precision == Precision::Int8).then_some(INT8_SHIFT),
        },
        gallery: gallery.summary(),
        tracks: tracked.tracks,
        crops: tracked.crops,
        timings,
    })
}

impl TrackAnalysis {
    /// Who appears when in the analysed video (or range of it).
    pub fn document(&self) -> ResultsDocument {
        let gallery = Some(self.gallery.clone());
        results_document(self.video.clone(), self.models.clone(), self.parameters.clone(), gallery, None, &self.tracks)
    }
}

/// The appearances stage: who appears when, from identified tracks (of one run, or of
/// every shard of a video).
pub fn results_document(
    video: VideoSummary,
    models: ModelsUsed,
    parameters: Parameters,
    gallery: Option<GallerySummary>,
    movie: Option<Movie>,
    tracks: &[IdentifiedTrack],
) -> ResultsDocument {
    let appearance_config = AppearanceConfig {
        sample_period_seconds: 1.0 / video.sampled_fps,
        gap_tolerance_seconds: parameters.gap_tolerance_seconds,
        duration_seconds: video.duration_seconds,
    };
    let ids = gallery.as_ref().map(|g| g.person_ids.clone()).unwrap_or_default();
    let mut people = known_people(tracks, &appearance_config);
    for person in &mut people {
        person.person_id = ids.get(&person.name).cloned();
    }
    ResultsDocument {
        schema_version: SCHEMA_VERSION.to_string(),
        people,
        unknown: unknown_people(tracks, parameters.link_similarity, &appearance_config),
        video,
        movie,
        models,
        parameters,
        gallery,
        dismissed: Vec::new(),
        curation: None,
    }
}

/// Decode stage: opens the video, announces it, then streams sampled frames.
fn decode(
    source: &VideoSource,
    span: Option<Span>,
    config: &PipelineConfig,
    frames: mpsc::SyncSender<Decoded>,
) -> Result<(VideoInfo, DecodeStats)> {
    let reader = VideoReader::open(source, config.decoder_threads)?;
    let info = reader.info().clone();
    for warning in &info.warnings {
        tracing::warn!(video = %source.name(), "{warning}");
    }
    let min_face_px = config.min_face_px.unwrap_or_else(|| default_min_face_px(info.width, info.height));
    frames.send(Decoded::Info(info.clone())).map_err(|_| stopped())?;
    let stats = reader
        .sample(config.fps, min_face_px, span, |frame| frames.send(Decoded::Frame(frame)).map_err(|_| stopped()))?;
    Ok((info, stats))
}

/// A stage whose consumer has gone away stops; the consumer's own error is what gets reported.
fn stopped() -> Error {
    Error::Inference("analysis stopped".into())
}

/// Detect stage: finds the faces of each sampled frame, aligns them and scores their quality.
/// Returns the time spent detecting and aligning, and the smallest face size used.
fn detect_stage(
    frames: mpsc::Receiver<Decoded>,
    detector: &mut FaceDetector,
    config: &PipelineConfig,
    detected: mpsc::SyncSender<DetectedFrame>,
    progress: &ProgressBar,
) -> Result<(Duration, Duration, f32)> {
    let (mut detect_time, mut align_time) = (Duration::ZERO, Duration::ZERO);
    let mut min_face_px = config.min_face_px.unwrap_or(0.0);
    let mut shots = ShotCounter::default();
    for message in frames {
        let frame = match message {
            Decoded::Info(info) => {
                min_face_px = config.min_face_px.unwrap_or_else(|| default_min_face_px(info.width, info.height));
                if let Some(duration) = info.duration_seconds {
                    progress.set_length((duration * config.fps).ceil() as u64);
                }
                continue;
            }
            Decoded::Frame(frame) => frame,
        };
        let started = Instant::now();
        let shot = shots.next(&frame.detector_input.image);
        let detections = detector.detect(&frame.detector_input)?.into_iter().filter(|d| large_enough(d, min_face_px));
        let aligning = Instant::now();
        let faces = detections
            .map(|detection| {
                let aligned = align_face(&frame.image, &detection.landmarks);
                let quality = FaceQuality::of(&detection, &aligned).score;
                FoundFace { detection, aligned, quality }
            })
            .collect();
        detect_time += aligning - started;
        align_time += aligning.elapsed();
        detected
            .send(DetectedFrame { seconds: frame.seconds, shot, image: frame.image, faces })
            .map_err(|_| stopped())?;
        progress.inc(1);
    }
    Ok((detect_time, align_time, min_face_px))
}

/// Where a face's embedding comes from: the batch being embedded, or an earlier face that
/// looked the same (by that face's id).
enum EmbeddingSource {
    Batch(usize),
    Earlier(usize),
}

/// A face waiting for its embedding.
struct PendingFace {
    id: usize,
    found: FoundFace,
    source: EmbeddingSource,
}

/// What the track stage found: the named tracks and their best faces' crops, when each
/// face was seen, and its timings.
struct Tracked {
    tracks: Vec<IdentifiedTrack>,
    crops: FaceCrops,
    faces: Vec<f64>,
    timings: StageTimings,
}

/// Embed, track and identify stage: embeds crops in batches, without waiting for a full
/// batch when the detector has nothing more ready (a face that has not changed since the
/// previous sample keeps that sample's embedding); links each frame's faces into tracks in
/// time order, keeping each open track's best faces with their crops; and names each track
/// as it closes. Tracks with a sighting outside `counted` (a shard's overlap) are named on
/// exact (fp32) evidence, which the merge joins across the shard boundary.
fn track_stage(
    detected: mpsc::Receiver<DetectedFrame>,
    recognisers: &mut Recognisers,
    identifier: &Identifier,
    config: &PipelineConfig,
    counted: TimeRange,
) -> Result<Tracked> {
    let mut tracker = Tracker::new(TrackerConfig {
        link_similarity: config.link_similarity,
        max_gap_seconds: config.gap_tolerance_seconds,
        sample_period_seconds: 1.0 / config.fps,
    });
    let mut timings = StageTimings::default();
    let mut named: Vec<(usize, IdentifiedTrack)> = Vec::new();
    let mut kept = FaceCrops::default();
    let mut face_times: Vec<f64> = Vec::new();
    let mut pending: Vec<PendingFrame> = Vec::new();
    let mut crops: Vec<RgbImage> = Vec::new();
    let mut unchanged = UnchangedFaces::default();
    // The embeddings the previous frame's faces had, by the id they were embedded under.
    let mut previous: HashMap<usize, Embedding> = HashMap::new();
    let mut next_id = 0;
    loop {
        let next = if crops.is_empty() { detected.recv().ok() } else { detected.try_recv().ok() };
        let finished = next.is_none() && crops.is_empty();
        if let Some(frame) = next {
            unchanged.next_frame();
            let mut faces = Vec::with_capacity(frame.faces.len());
            for found in frame.faces {
                let id = next_id;
                next_id += 1;
                let source = match unchanged.reuse(frame.shot, &found.detection.bbox, &found.aligned) {
                    Some(earlier) => EmbeddingSource::Earlier(earlier),
                    None => {
                        unchanged.remember(frame.shot, found.detection.bbox, found.aligned.clone(), id);
                        crops.push(found.aligned.clone());
                        EmbeddingSource::Batch(crops.len() - 1)
                    }
                };
                faces.push(PendingFace { id, found, source });
            }
            pending.push(PendingFrame { seconds: frame.seconds, shot: frame.shot, image: frame.image, faces });
            if crops.len() < recognisers.tracking.batch_size() && pending.len() < FRAME_QUEUE {
                continue;
            }
        }
        let started = Instant::now();
        let embeddings = if crops.is_empty() { Vec::new() } else { recognisers.tracking.embed(&crops)? };
        timings.faces_embedded += crops.len();
        crops.clear();
        timings.embed += started.elapsed();
        for PendingFrame { seconds, shot, image, faces } in pending.drain(..) {
            let tracking = Instant::now();
            let mut current = HashMap::with_capacity(faces.len());
            let mut observations = Vec::with_capacity(faces.len());
            for face in faces {
                let (id, embedding) = match face.source {
                    EmbeddingSource::Batch(i) => (face.id, embeddings[i].clone()),
                    // An earlier face comes first in time, so its embedding is known.
                    EmbeddingSource::Earlier(id) => (id, previous.get(&id).cloned().ok_or_else(lost_embedding)?),
                };
                current.insert(id, embedding.clone());
                face_times.push(seconds);
                let observation = FaceObservation {
                    seconds,
                    shot,
                    bbox: face.found.detection.bbox,
                    score: face.found.detection.score,
                    quality: face.found.quality,
                    embedding,
                };
                observations.push((observation, face.found.aligned));
            }
            previous = current;
            let closed = tracker.push(seconds, observations, |bbox| display_crop(&image, bbox));
            timings.track += tracking.elapsed();
            name_tracks(closed, identifier, recognisers, counted, &mut timings, &mut named, &mut kept)?;
        }
        if finished {
            name_tracks(tracker.finish(), identifier, recognisers, counted, &mut timings, &mut named, &mut kept)?;
            break;
        }
    }
    let started = Instant::now();
    named.sort_by(|(a_id, a), (b_id, b)| first_seconds(a).total_cmp(&first_seconds(b)).then(a_id.cmp(b_id)));
    let mut tracks: Vec<IdentifiedTrack> = named.into_iter().map(|(_, t)| t).collect();
    one_face_one_person(&mut tracks);
    timings.track += started.elapsed();
    Ok(Tracked { tracks, crops: kept, faces: face_times, timings })
}

/// A detected frame whose faces wait for their embeddings.
struct PendingFrame {
    seconds: f64,
    shot: u32,
    image: RgbImage,
    faces: Vec<PendingFace>,
}

fn lost_embedding() -> Error {
    Error::Inference("a face reused an embedding that is no longer known".into())
}

fn first_seconds(track: &IdentifiedTrack) -> f64 {
    track.sightings.first().map_or(0.0, |s| s.seconds)
}

/// Names closed tracks, adding them (with their track numbers) to `named` and their best
/// faces' crops to `kept`.
fn name_tracks(
    closed: Vec<Track>,
    identifier: &Identifier,
    recognisers: &mut Recognisers,
    counted: TimeRange,
    timings: &mut StageTimings,
    named: &mut Vec<(usize, IdentifiedTrack)>,
    kept: &mut FaceCrops,
) -> Result<()> {
    for track in closed {
        let started = Instant::now();
        kept.keep(&track)?;
        timings.crops += started.elapsed();
        let id = track.id;
        let exact = track.observations.iter().any(|o| !counted.contains(o.seconds));
        let mut fp32_calls = 0;
        let identified = identifier.identify(track, exact, &mut |crops| {
            fp32_calls += 1;
            recognisers.embed_fp32(crops)
        })?;
        timings.tracks += 1;
        if fp32_calls > 0 {
            timings.tracks_decided_in_fp32 += 1;
            timings.decide += started.elapsed();
        }
        timings.track += started.elapsed();
        named.push((id, identified));
    }
    Ok(())
}
