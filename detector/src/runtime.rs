//! ONNX Runtime: loading the shared library, choosing the execution provider, opening models.
//!
//! The execution provider is never chosen silently: the one in use is logged, and
//! asking for CUDA where it is unavailable is an error rather than a CPU fallback.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::{environment::Environment, ep, session::Session};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Where inference runs, as asked on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceRequest {
    /// CUDA when this build and machine support it, otherwise CPU (logged).
    Auto,
    Cpu,
    Cuda,
}

/// Where inference actually runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda,
}

impl Device {
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }

    /// FFmpeg decoder threads to use beside inference on this device: one on CPU, where
    /// inference needs the other cores (10% less CPU overhead than frame threading in
    /// `make bench`); every core (0) when a GPU does the inference.
    pub fn decoder_threads(self) -> usize {
        match self {
            Device::Cpu => 1,
            Device::Cuda => 0,
        }
    }
}

/// A model file and its sha256, reported in the results document.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub path: PathBuf,
    pub sha256: String,
}

impl ModelFile {
    pub fn open(path: PathBuf) -> Result<Self> {
        let bytes = std::fs::read(&path).map_err(|e| Error::Model {
            path: path.clone(),
            reason: format!("{e}; run `make setup` to prepare the models, or point --models at them"),
        })?;
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        Ok(ModelFile { path, sha256 })
    }
}

/// The ONNX Runtime environment and the device every session runs on.
pub struct Runtime {
    environment: &'static Environment,
    request: DeviceRequest,
    /// Settled when the first session registers its execution provider.
    device: Cell<Device>,
    /// Threads each session may use for one operator.
    intra_threads: usize,
}

impl Runtime {
    /// Loads ONNX Runtime from `library` (once per process: later calls share the first
    /// environment, as ONNX Runtime allows only one) and settles the device.
    pub fn new(library: &Path, request: DeviceRequest, intra_threads: usize) -> Result<Self> {
        static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
        let environment = match ENVIRONMENT.get() {
            Some(environment) => environment,
            None => {
                let environment = ort::init_from(library)
                    .map_err(|e| {
                        Error::Config(format!(
                            "cannot load the ONNX Runtime library {}: {e}; set ORT_DYLIB_PATH or --onnxruntime (run `make setup`)",
                            library.display()
                        ))
                    })?
                    .with_name("cameo")
                    .build()?;
                ENVIRONMENT.get_or_init(|| environment)
            }
        };
        let device = choose_device(request)?;
        Ok(Runtime { environment, request, device: Cell::new(device), intra_threads })
    }

    pub fn device(&self) -> Device {
        self.device.get()
    }

    /// ONNX Runtime threads of each session.
    pub fn intra_threads(&self) -> usize {
        self.intra_threads
    }

    /// Opens a model as a session on this runtime's device.
    pub fn session(&self, model: &ModelFile) -> Result<Session> {
        let model_error = |e: ort::Error| Error::Model { path: model.path.clone(), reason: e.to_string() };
        let builder = Session::builder(self.environment)
            .map_err(model_error)?
            .with_intra_threads(self.intra_threads)
            .map_err(|e| model_error(e.into()))?
            // Decoding runs beside inference: idle ONNX Runtime threads must sleep, not spin.
            .with_config_entry("session.intra_op.allow_spinning", "0")
            .map_err(|e| model_error(e.into()))?;
        let mut builder = if self.device.get() == Device::Cuda {
            match builder.with_execution_providers(cuda_providers()) {
                Ok(builder) => builder,
                Err(e) if self.request == DeviceRequest::Auto => {
                    tracing::warn!("CUDA execution provider failed ({e}); --device auto continues on CPU");
                    self.device.set(Device::Cpu);
                    e.recover()
                }
                Err(e) => {
                    return Err(Error::Config(format!("--device cuda: the CUDA execution provider failed: {e}")));
                }
            }
        } else {
            builder
        };
        let session = builder.commit_from_file(&model.path).map_err(model_error)?;
        tracing::info!(model = %model.path.display(), device = self.device.get().name(), "model loaded");
        Ok(session)
    }
}

fn choose_device(request: DeviceRequest) -> Result<Device> {
    let cuda = cuda_support();
    match (request, cuda) {
        (DeviceRequest::Cpu, _) => Ok(Device::Cpu),
        (DeviceRequest::Cuda | DeviceRequest::Auto, Ok(())) => Ok(Device::Cuda),
        (DeviceRequest::Cuda, Err(why)) => Err(Error::Config(format!("--device cuda: {why}"))),
        (DeviceRequest::Auto, Err(why)) => {
            tracing::info!("CUDA not used: {why}");
            Ok(Device::Cpu)
        }
    }
}

/// CUDA, failing instead of falling back, so the caller decides what a failure means.
#[cfg(feature = "cuda")]
fn cuda_providers() -> [ep::ExecutionProviderDispatch; 1] {
    [ep::CUDA::default().build().error_on_failure()]
}

#[cfg(not(feature = "cuda"))]
fn cuda_providers() -> [ep::ExecutionProviderDispatch; 0] {
    []
}

/// Whether this build and the loaded ONNX Runtime library can run CUDA, and if not, why.
#[cfg(feature = "cuda")]
fn cuda_support() -> std::result::Result<(), String> {
    use ort::ep::ExecutionProvider;
    match ep::CUDA::is_available() {
        Ok(true) => Ok(()),
        Ok(false) => {
            Err("the loaded ONNX Runtime library has no CUDA execution provider (use the onnxruntime-gpu build)".into())
        }
        Err(e) => Err(format!("cannot query ONNX Runtime for CUDA: {e}")),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda_support() -> std::result::Result<(), String> {
    Err("this build of cameo-detector has no CUDA support (build with `--features cuda`)".into())
}
