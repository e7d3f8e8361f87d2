//! `cameo-detector`: see `cameo-detector --help` and the README for exit codes.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use cameo_detector::cli::{Cli, Command, DetectArgs, LogFormat, cache_root};
use cameo_detector::error::{self, Error, Result};
use cameo_detector::gallery::{DirCache, GalleryFolder, NoCache, VerdictCache, enroll};
use cameo_detector::models::Models;
use cameo_detector::output::write_atomically;
use cameo_detector::pipeline::analyse;
use cameo_detector::video::{VideoReader, VideoSource};
use cameo_detector::{report, results, timeline};
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
    for output in [&args.json, &args.timeline].into_iter().flatten().filter(|p| p.as_os_str() != "-") {
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

    let document = &analysis.document;
    let json = serde_json::to_vec_pretty(document).map_err(|e| Error::Inference(e.to_string()))?;
    match &args.json {
        Some(path) if path.as_os_str() == "-" => println!("{}", String::from_utf8_lossy(&json)),
        Some(path) => {
            write_atomically(path, &json).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?
        }
        None => {}
    }
    if let Some(path) = &args.timeline {
        timeline::write_timeline(document, path)?;
    }
    if args.json.as_deref() != Some(Path::new("-")) {
        print!("{}", report::table(document));
    }
    Ok(())
}

fn check_output_dir(path: &Path) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
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
