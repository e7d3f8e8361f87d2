//! `cameo-detector`: see `cameo-detector --help` and the README for exit codes.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use cameo_detector::cli::{Cli, Command, DetectArgs, LogFormat, cache_root};
use cameo_detector::error::{self, Error, Result};
use cameo_detector::faces::{self, ChosenCrop};
use cameo_detector::faces_dir::write_faces_dir;
use cameo_detector::gallery::{DirCache, GalleryFolder, NoCache, VerdictCache, enroll};
use cameo_detector::models::Models;
use cameo_detector::output::{relative_path, write_atomically};
use cameo_detector::pipeline::analyse;
use cameo_detector::results::ResultsDocument;
use cameo_detector::video::{VideoReader, VideoSource};
use cameo_detector::{report, results, templates, timeline, viewer};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors are configuration errors (3); exit 2 is reserved for bad input.
            return if e.use_stderr() { ExitCode::from(error::ExitCode::Config as u8) } else { ExitCode::SUCCESS };
        }
    };
    let format = cli.log_format;
    let outcome = match cli.command {
        Command::Schema => {
            init_logging(format, std::io::stderr);
            println!("{}", serde_json::to_string_pretty(&results::json_schema()).unwrap_or_default());
            Ok(())
        }
        Command::Detect(args) => {
            init_logging(format, std::io::stderr);
            detect(*args)
        }
        #[cfg(feature = "cloud")]
        Command::Run(args) => {
            let log = cameo_detector::cloud::LogCopy::default();
            init_logging(format, log.clone());
            cameo_detector::cloud::commands::run(*args, &log)
        }
        #[cfg(feature = "cloud")]
        Command::Merge(args) => {
            let log = cameo_detector::cloud::LogCopy::default();
            init_logging(format, log.clone());
            cameo_detector::cloud::commands::merge(*args, &log)
        }
        #[cfg(feature = "cloud")]
        Command::GalleryChecker(args) => {
            init_logging(format, std::io::stderr);
            cameo_detector::cloud::commands::gallery_checker(*args)
        }
        #[cfg(feature = "cloud")]
        Command::GalleryImport(args) => {
            init_logging(format, std::io::stderr);
            cameo_detector::cloud::commands::gallery_import(*args)
        }
        #[cfg(feature = "cloud")]
        Command::CurationWorker(args) => {
            init_logging(format, std::io::stderr);
            cameo_detector::cloud::commands::curation_worker(*args)
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(exit_code = e.exit_code() as u8, "{e}");
            if !std::io::stderr().is_terminal() || cli.log_format == LogFormat::Json {
                // Also as plain text, for a container's termination message and for people.
                eprintln!("error: {e}");
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn init_logging<W>(format: LogFormat, writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    if json { builder.json().init() } else { builder.with_target(false).init() }
}

fn detect(args: DetectArgs) -> Result<()> {
    let exports = args.exports()?;
    let faces_dir = args.faces_dir();
    let outputs = [&args.json, &args.timeline, &args.report, &faces_dir].into_iter().flatten();
    for output in outputs.chain(exports.iter().map(|(_, path)| path)).filter(|p| p.as_os_str() != "-") {
        check_output_dir(output)?;
    }
    let mut config = args.analysis.pipeline_config()?;
    // A bad video fails here, before any model or gallery work.
    let video = VideoSource::File(args.video.clone());
    VideoReader::open(&video, 1)?;
    let (runtime, mut models) = Models::from_args(&args.runtime, config.detector)?;
    config.decoder_threads = args.runtime.decoder_threads_for(runtime.device());

    let folder = GalleryFolder::scan(&args.gallery)?;
    let progress = progress_bar("enrolling", folder.photo_count() as u64);
    let cache_dir = args.runtime.cache_dir.clone().or_else(|| cache_root().map(|d| d.join("embeddings")));
    let mut cache: Box<dyn VerdictCache> = match cache_dir {
        Some(dir) => Box::new(DirCache(dir)),
        None => Box::new(NoCache),
    };
    let gallery = enroll(folder.photos(), folder.skipped.clone(), &mut models, cache.as_mut(), || progress.inc(1))?;
    progress.finish_and_clear();
    let location = args.gallery.display().to_string();
    let gallery = if args.strict_gallery { gallery.strict(&location)? } else { gallery };
    gallery.warn(&location);
    let summary = gallery.summary();
    tracing::info!(
        people = summary.people,
        photos = summary.photos,
        skipped = summary.skipped.len(),
        "gallery enrolled"
    );

    let progress = progress_bar("analysing", 0);
    let analysis = analyse(&video, &mut models, &gallery, &config, runtime.device().name(), &progress)?;
    let t = analysis.timings;
    tracing::info!(
        wall_s = t.wall.as_secs_f64(),
        decode_s = t.decode.as_secs_f64(),
        detect_s = t.detect.as_secs_f64(),
        align_s = t.align.as_secs_f64(),
        embed_s = t.embed.as_secs_f64(),
        track_s = t.track.as_secs_f64(),
        decide_fp32_s = t.decide.as_secs_f64(),
        frames = analysis.document.video.frames_analysed,
        faces_embedded = t.faces_embedded,
        tracks = t.tracks,
        tracks_decided_in_fp32 = t.tracks_decided_in_fp32,
        "analysis finished"
    );

    // The faces that show each group; only a document whose crops were written refers to them.
    let prefix = faces_dir.as_deref().map(|dir| faces_prefix(args.json.as_deref(), dir)).unwrap_or_default();
    let mut shown = analysis.document.clone();
    let crops = &analysis.crops;
    let (groups, chosen) = faces::choose(&mut shown, &analysis.tracks, &prefix, &|id| crops.contains(id));
    if let Some(dir) = &faces_dir {
        let started = Instant::now();
        let templates = templates::templates(&shown, &groups, crops, &mut models)?;
        write_faces_dir(dir, &chosen, crops, &templates)?;
        tracing::info!(folder = %dir.display(), crops = chosen.len(), seconds = started.elapsed().as_secs_f64(), "faces written");
    }
    let document = if faces_dir.is_some() { &shown } else { &analysis.document };

    let json = serde_json::to_vec_pretty(document).map_err(|e| Error::Inference(e.to_string()))?;
    match &args.json {
        Some(path) if path.as_os_str() == "-" => println!("{}", String::from_utf8_lossy(&json)),
        Some(path) => write_output(path, &json)?,
        None => {}
    }
    for (format, path) in &exports {
        write_output(path, format.render(document).as_bytes())?;
    }
    if let Some(path) = &args.report {
        write_report(&shown, &chosen, crops, &args.video, path)?;
    }
    if let Some(path) = &args.timeline {
        timeline::write_timeline(document, path)?;
    }
    if args.json.as_deref() != Some(Path::new("-")) {
        print!("{}", report::table(document));
    }
    Ok(())
}

/// How the document refers to files in the faces folder `dir`: relative to the document's
/// folder, or (with the document on stdout) to the working directory.
fn faces_prefix(json: Option<&Path>, dir: &Path) -> String {
    let relative = match json.filter(|j| j.as_os_str() != "-").map(folder_of) {
        Some(folder) => relative_path(&absolute(folder), &absolute(dir)),
        None => dir.to_string_lossy().into_owned(),
    };
    format!("{}/", relative.trim_end_matches('/'))
}

/// The HTML report, with the thumbnails inlined and the video linked relative to it.
fn write_report(
    document: &ResultsDocument,
    chosen: &[ChosenCrop],
    crops: &faces::FaceCrops,
    video: &Path,
    path: &Path,
) -> Result<()> {
    let thumbnails: Vec<&String> =
        document.people.iter().chain(&document.unknown).filter_map(|p| p.thumbnail.as_ref()).collect();
    let mut images = BTreeMap::new();
    for crop in chosen.iter().filter(|c| thumbnails.contains(&&c.path)) {
        images.insert(crop.path.clone(), faces::render(crop, crops)?);
    }
    let video_url = viewer::url_path(&relative_path(&absolute(folder_of(path)), &absolute(video)));
    write_output(path, viewer::report_html(document, &video_url, &images).as_bytes())
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, bytes).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// The folder a file given on the command line is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn check_output_dir(path: &Path) -> Result<()> {
    let dir = folder_of(path);
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::Config(format!("cannot write {}: folder {} does not exist", path.display(), dir.display())))
    }
}

fn progress_bar(message: &'static str, length: u64) -> ProgressBar {
    let bar = ProgressBar::new(length).with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {elapsed}<{eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
