//! `make bench`: throughput of the whole pipeline on three clips (1080p shots of a few
//! people, 720p crowds, 720p cut like a film), with the tracking recogniser in int8 and
//! fp32, what the fp32 decisions cost, per-stage CPU cost, OpenCV's own Python pipeline
//! on the same video and models side by side, what the faces and their templates cost
//! (time and bytes), and the face-size sweep behind the detector's input scaling. Prints
//! Markdown, with the CPU it ran on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cameo_detector::align::align_face;
use cameo_detector::detect::{DetectorInput, default_min_face_px, detection_size};
use cameo_detector::faces::{self, FaceCrops};
use cameo_detector::faces_dir::write_faces_dir;
use cameo_detector::gallery::{Gallery, GalleryFolder, NoCache, enroll};
use cameo_detector::identify::IdentifiedTrack;
use cameo_detector::identify::{EnrolledPerson, match_embedding, similarity_to};
use cameo_detector::models::{Models, Precision, large_enough};
use cameo_detector::pipeline::{PipelineConfig, StageTimings, analyse};
use cameo_detector::results::ResultsDocument;
use cameo_detector::runtime::{DeviceRequest, Runtime};
use cameo_detector::video::{VideoReader, VideoSource};

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(name).unwrap_or_else(|| panic!("{name} is not set: run `make bench`")))
}

/// CPU time of the calling thread (Linux: /proc/thread-self/schedstat, nanoseconds).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// CPU time of the whole process, all threads (Linux: /proc/self/stat, in 10 ms ticks).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((tick(11) + tick(12)) * 10)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[derive(Default)]
struct StageCpu {
    decode: Duration,
    detect: Duration,
    align: Duration,
    embed: Duration,
    frames: usize,
    faces: usize,
    /// Up to [`SAMPLE_CROPS`] aligned faces, to time each recogniser on.
    crops: Vec<image::RgbImage>,
}

/// Faces each recogniser is timed on.
const SAMPLE_CROPS: usize = 200;

/// One thread, one stage after the other: the CPU cost of each stage alone.
fn sequential_stage_costs(video: &Path, models: &mut Models, config: &PipelineConfig) -> StageCpu {
    let mut cost = StageCpu::default();
    let reader = VideoReader::open(&VideoSource::File(video.to_path_buf()), 1).unwrap();
    let min_face = default_min_face_px(reader.info().width, reader.info().height);
    let start = thread_cpu();
    let mut in_sink = Duration::ZERO;
    reader
        .sample(config.fps, min_face, None, |frame| {
            let t0 = thread_cpu();
            let faces: Vec<_> = models
                .detector
                .detect(&frame.detector_input)?
                .into_iter()
                .filter(|d| large_enough(d, min_face))
                .collect();
            let t1 = thread_cpu();
            let crops: Vec<_> = faces.iter().map(|d| align_face(&frame.image, &d.landmarks)).collect();
            let t2 = thread_cpu();
            // One crop a call, so the embedder stays on this thread.
            for crop in crops.chunks(1) {
                models.recognisers.tracking.embed(crop)?;
            }
            let t3 = thread_cpu();
            let room = SAMPLE_CROPS.saturating_sub(cost.crops.len());
            cost.crops.extend(crops.into_iter().take(room));
            cost.detect += t1 - t0;
            cost.align += t2 - t1;
            cost.embed += t3 - t2;
            cost.frames += 1;
            cost.faces += faces.len();
            in_sink += t3 - t0;
            Ok(())
        })
        .unwrap();
    cost.decode = thread_cpu() - start - in_sink;
    cost
}

/// Whether cameo has `name` on screen at `seconds`.
fn covers(document: &ResultsDocument, name: &str, seconds: f64) -> bool {
    document
        .people
        .iter()
        .filter(|p| p.name == name)
        .flat_map(|p| &p.appearances)
        .any(|a| seconds >= a.start_seconds - 1e-6 && seconds <= a.end_seconds + 1e-6)
}

/// The benchmark videos (testdata/scenarios/<name>.json) and the gallery each is analysed against.
const CLIPS: [(&str, &str); 3] =
    [("bench_1080p", "cuts"), ("bench_crowd_720p", "cuts"), ("bench_only_shots_720p", "cuts")];

/// The CPU's model name and the vector extensions ONNX Runtime's kernels choose by.
fn cpu() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines().find(|l| l.starts_with(name)).and_then(|l| l.split(':').nth(1)).unwrap_or("").trim().to_string()
    };
    let flags = field("flags");
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let extensions: Vec<&str> = ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"]
        .into_iter()
        .filter(|f| flags.contains(f))
        .collect();
    format!("{} ({})", field("model name"), extensions.join(", "))
}

/// Per-face embedding time of a models' tracking recogniser, one face a call on this thread.
fn per_face(models: &mut Models, crops: &[image::RgbImage]) -> f64 {
    let start = thread_cpu();
    for crop in crops.chunks(1) {
        models.recognisers.tracking.embed(crop).unwrap();
    }
    secs(thread_cpu() - start) * 1000.0 / crops.len().max(1) as f64
}

/// What a scenario shows, as its file describes it.
fn description(scenario: &str) -> String {
    let path = format!("{}/../testdata/scenarios/{scenario}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    parsed["description"].as_str().unwrap_or_default().to_string()
}

/// What `detect --json` adds for the faces: their crops JPEG-encoded as tracks close (in
/// the run), then choosing them, embedding them for the templates and writing the folder.
fn faces_cost(run: &Run, models: &mut Models) {
    let started = Instant::now();
    let mut document = run.document.clone();
    let (groups, chosen) = faces::choose(&mut document, &run.tracks, "faces/", &|id| run.crops.contains(id));
    let templates = cameo_detector::templates::templates(&document, &groups, &run.crops, models).unwrap();
    let out = tempfile::tempdir().unwrap();
    write_faces_dir(&out.path().join("faces"), &chosen, &run.crops, &templates).unwrap();
    let after = started.elapsed();
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let crop_bytes: u64 = chosen.iter().map(|c| size(&out.path().join("faces").join(&c.file))).sum();
    let template_bytes = size(&out.path().join("faces/templates.json"));
    let embedded: usize = templates.groups.iter().map(|g| g.embeddings.len()).sum();
    let added = secs(run.timings.crops) + secs(after);
    let minutes = run.document.video.duration_seconds / 60.0;
    println!(
        "Faces (`detect --json`): {} groups, {} crops, {} templates. JPEG-encoding the best faces as tracks close {:.3} s (in the run), choosing, embedding the templates in fp32 and writing {:.3} s: {:.3} s, **{:.1}%** of the int8 wall time. Written: crops {:.0} KB, templates {:.0} KB, **{:.0} KB per minute of video** ({:.1} MB an hour); held while analysing: {:.0} KB of JPEGs.\n",
        groups.len(),
        chosen.len(),
        embedded,
        secs(run.timings.crops),
        secs(after),
        added,
        100.0 * added / secs(run.wall),
        crop_bytes as f64 / 1e3,
        template_bytes as f64 / 1e3,
        (crop_bytes + template_bytes) as f64 / 1e3 / minutes,
        (crop_bytes + template_bytes) as f64 / 1e6 / minutes * 60.0,
        run.crops.bytes() as f64 / 1e3
    );
}

/// One run of the pipeline as users run it: wall time, process CPU, results and stage times.
struct Run {
    wall: Duration,
    cpu: Duration,
    document: ResultsDocument,
    tracks: Vec<IdentifiedTrack>,
    crops: FaceCrops,
    timings: StageTimings,
}

/// The faster of two runs.
fn best_run(video: &Path, models: &mut Models, gallery: &Gallery, config: &PipelineConfig) -> Run {
    let mut best: Option<Run> = None;
    for _ in 0..2 {
        let cpu_before = process_cpu();
        let started = Instant::now();
        let source = VideoSource::File(video.to_path_buf());
        let analysis = analyse(&source, models, gallery, config, "cpu", &indicatif::ProgressBar::hidden()).unwrap();
        let run = Run {
            wall: started.elapsed(),
            cpu: process_cpu() - cpu_before,
            document: analysis.document,
            tracks: analysis.tracks,
            crops: analysis.crops,
            timings: analysis.timings,
        };
        if best.as_ref().is_none_or(|b| run.wall < b.wall) {
            best = Some(run);
        }
    }
    best.unwrap()
}

fn main() {
    let testdata = env_path("CAMEO_TESTDATA");
    let models_dir = env_path("CAMEO_MODELS_DIR");
    let cache = models_dir.parent().unwrap().to_path_buf();
    let config = PipelineConfig::default();
    let runtime = Runtime::new(&env_path("ORT_DYLIB_PATH"), DeviceRequest::Cpu, 1).unwrap();
    let mut int8 = Models::load(&runtime, &models_dir, config.detector, Some(Precision::Int8)).unwrap();
    let mut fp32 = Models::load(&runtime, &models_dir, config.detector, Some(Precision::Fp32)).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!("# cameo-detector benchmark\n");
    println!(
        "Sampled at {} fps; CPU: {}, {cores} cores; cameo's tracking recogniser in int8 (its default on CPU, names decided in fp32 where int8 is too close to call) and fp32.\n",
        config.fps,
        cpu()
    );
    for clip in CLIPS {
        bench_clip(clip, &testdata, &models_dir, &cache, &mut int8, &mut fp32, &config);
    }
    let gallery = enroll(
        GalleryFolder::scan(&testdata.join("galleries/cuts")).unwrap().photos(),
        vec![],
        &mut int8,
        &mut NoCache,
        || {},
    )
    .unwrap();
    face_size_sweep(&mut int8, &gallery.people, &cache, &config);
}

fn bench_clip(
    (scenario, gallery): (&str, &str),
    testdata: &Path,
    models_dir: &Path,
    cache: &Path,
    int8: &mut Models,
    fp32: &mut Models,
    config: &PipelineConfig,
) {
    let video = testdata.join(format!("{scenario}.mp4"));
    let gallery_dir = testdata.join("galleries").join(gallery);
    let folder = GalleryFolder::scan(&gallery_dir).unwrap();
    let gallery = enroll(folder.photos(), vec![], int8, &mut NoCache, || {}).unwrap();
    let gallery_fp32 = enroll(folder.photos(), vec![], fp32, &mut NoCache, || {}).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## {scenario}\n");
    println!("`{}`, synthesised from photos: {}.\n", video.display(), description(scenario));

    // 1. The pipeline as users run it, and OpenCV's own on the same video, models and sampling.
    let run = best_run(&video, int8, &gallery, config);
    let run_fp32 = best_run(&video, fp32, &gallery_fp32, config);
    let output = Command::new(cache.join("venv/bin/python"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/opencv_baseline.py"))
        .arg(&video)
        .arg(&gallery_dir)
        .arg(models_dir)
        .arg(config.fps.to_string())
        .output()
        .expect("the setup venv's python runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let opencv: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let number = |key: &str| opencv[key].as_f64().unwrap_or(f64::NAN);
    let opencv_wall = number("wall_seconds");
    let duration = run.document.video.duration_seconds;
    let frames = run.document.video.frames_analysed as f64;

    println!(
        "Side by side with OpenCV's Python pipeline (FaceDetectorYN + FaceRecognizerSF on the fp32 models, native resolution, zoo defaults):\n"
    );
    println!(
        "| | wall | analysed frames/s | realtime factor | process CPU | faces found | faces embedded | tracks (named in fp32) | speedup |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| OpenCV | {:.2} s | {:.1} | {:.1}x | - | {} | {} | - | 1.00x |",
        opencv_wall,
        number("frames_analysed") / opencv_wall,
        duration / opencv_wall,
        opencv["faces"],
        opencv["faces"]
    );
    for (name, run) in [("cameo, fp32", &run_fp32), ("cameo, int8", &run)] {
        println!(
            "| {name} | {:.2} s | {:.1} | {:.1}x | {:.2} s | {} | {} | {} ({}) | **{:.2}x** |",
            secs(run.wall),
            frames / secs(run.wall),
            duration / secs(run.wall),
            secs(run.cpu),
            run.document.video.faces_detected,
            run.timings.faces_embedded,
            run.timings.tracks,
            run.timings.tracks_decided_in_fp32,
            opencv_wall / secs(run.wall)
        );
    }
    println!();
    let t = &run.timings;
    println!(
        "Busy time per stage of the int8 run (the stages overlap on {cores} cores): decode {:.2} s, detect {:.2} s, align and score {:.2} s, embed {:.2} s, track and identify {:.3} s (of which {:.3} s embedding the best faces of {} tracks again in fp32). OpenCV: decode {:.2} s, detect {:.2} s, recognise {:.2} s.\n",
        secs(t.decode),
        secs(t.detect),
        secs(t.align),
        secs(t.embed),
        secs(t.track),
        secs(t.decide),
        t.tracks_decided_in_fp32,
        number("decode_seconds"),
        number("detect_seconds"),
        number("recognise_seconds")
    );

    faces_cost(&run, int8);

    // 2. Each stage alone on one thread, every face embedded.
    let stages = sequential_stage_costs(&video, int8, config);
    let essential = stages.decode + stages.detect + stages.embed;
    println!("CPU cost of each stage alone, one thread, int8, every face embedded:\n");
    println!("| decode | detect | align | embed | frames | faces | detect per frame | embed per face |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {:.2} s | {:.2} s | {:.2} s | {:.2} s | {} | {} | {:.1} ms | {:.1} ms |\n",
        secs(stages.decode),
        secs(stages.detect),
        secs(stages.align),
        secs(stages.embed),
        stages.frames,
        stages.faces,
        secs(stages.detect) * 1000.0 / stages.frames.max(1) as f64,
        secs(stages.embed) * 1000.0 / stages.faces.max(1) as f64
    );
    println!(
        "The run embedded {} of {} faces (the others kept an unchanged face's embedding); decode and model inference alone would take {:.2} s of CPU. On this CPU one face takes {:.1} ms in int8 and {:.1} ms in fp32 ({} faces of the clip, one a call).\n",
        t.faces_embedded,
        run.document.video.faces_detected,
        secs(essential),
        per_face(int8, &stages.crops),
        per_face(fp32, &stages.crops),
        stages.crops.len()
    );

    // 3. Who each found.
    println!(
        "| person | OpenCV: samples named | of those inside a cameo appearance | cameo screen time (int8) | (fp32) |"
    );
    println!("|---|---|---|---|---|");
    for person in &gallery.people {
        let seen: Vec<f64> = opencv["recognised"][&person.name]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
            .unwrap_or_default();
        let agreed = seen.iter().filter(|&&s| covers(&run.document, &person.name, s)).count();
        let screen = |d: &ResultsDocument| {
            d.people.iter().find(|p| p.name == person.name).map_or(0.0, |p| p.screen_time_seconds)
        };
        println!(
            "| {} | {} | {} | {:.1} s | {:.1} s |",
            person.name,
            seen.len(),
            agreed,
            screen(&run.document),
            screen(&run_fp32.document)
        );
    }
    println!();
}

/// Obama (obama2.jpg, not in the gallery) at each face height in a 1080p frame.
fn face_size_sweep(models: &mut Models, gallery: &[EnrolledPerson], cache: &Path, config: &PipelineConfig) {
    let photo = image::open(cache.join("photos/obama2.jpg")).unwrap().to_rgb8();
    let face_height = models.faces_in_image(&photo).unwrap()[0].0.bbox.height;
    let min_face = default_min_face_px(1920, 1080);
    println!(
        "## Face-size sweep: 1080p frame, detector input {:?}, smallest promised face {:.0} px\n",
        detection_size(1920, 1080, min_face),
        min_face
    );
    println!("| face height | found | score | similarity to gallery photo | named |");
    println!("|---|---|---|---|---|");
    for target in [12.0f32, 16.0, 20.0, 24.0, 30.0, 36.0, 40.0, 50.0, 80.0, 160.0, 320.0, 500.0] {
        let scale = target / face_height;
        let (w, h) = (
            (photo.width() as f32 * scale).round().max(1.0) as u32,
            (photo.height() as f32 * scale).round().max(1.0) as u32,
        );
        let scaled = image::imageops::resize(&photo, w, h, image::imageops::FilterType::Triangle);
        let mut frame = image::RgbImage::from_pixel(1920, 1080, image::Rgb([48, 48, 48]));
        image::imageops::overlay(&mut frame, &scaled, 960 - i64::from(w) / 2, 540 - i64::from(h) / 3);
        let faces = models.detector.detect(&DetectorInput::from_image(&frame, min_face)).unwrap();
        match faces.iter().max_by(|a, b| a.bbox.height.total_cmp(&b.bbox.height)) {
            Some(face) => {
                let embedding =
                    models.recognisers.tracking.embed(&[align_face(&frame, &face.landmarks)]).unwrap().remove(0);
                let similarity = similarity_to(&embedding, &gallery[0]);
                let named =
                    match_embedding(&embedding, gallery, &config.matching).map_or("-", |i| gallery[i].name.as_str());
                let found = if large_enough(face, min_face) { "yes" } else { "below the minimum" };
                println!("| {target:.0} px | {found} | {:.2} | {similarity:.2} | {named} |", face.score);
            }
            None => println!("| {target:.0} px | no | - | - | - |"),
        }
    }
}
