//! `sagemaker-remote`: run a Rust function as a SageMaker training job and get its value back
//! (the Python SDK's `@remote` and `RemoteExecutor`). Use it through the facade as
//! `sagemaker::remote` and `#[sagemaker::remote(...)]`.
//!
//! Python ships the function by pickling it; Rust cannot ship closures, so the function is
//! compiled into your binary and registered by name (by `#[remote]`), and the job runs **that
//! same binary** with the arguments:
//!
//! 1. the call serializes the arguments (JSON) to `{s3_root_uri}/{job}/arguments/` with a
//!    `metadata.json` (SHA-256, format version, SDK and binary versions);
//! 2. it creates a training job whose `ContainerEntrypoint` is the binary and whose
//!    `ContainerArguments` name the function; on the local backend the
//!    [`RemoteContainer`] runs it as a child process;
//! 3. in the job, [`init`] (first thing in `main`) sees the arguments, checks the payload,
//!    runs the function and writes `{job}/results/` or `{job}/exception/`, then exits;
//! 4. the caller waits for the job (event-driven on the local backend) and returns the value,
//!    the function's own error as [`RemoteError::Function`], or the SDK's [`Error`] as
//!    [`RemoteError::Sdk`].
//!
//! See `docs/remote.md` for a walk-through.

mod container;
mod executor;
mod function;
mod image;
mod job_name;
mod outcome;
pub mod payload;
mod runner;
mod settings;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

pub use container::{RemoteContainer, instance_cpus};
pub use executor::{RemoteExecutor, RemoteExecutorBuilder, RemoteFuture, get_future, list_futures};
pub use function::{
    ARGUMENTS_CHANNEL, BINARY_SIZE_ENV, BOOTSTRAP_CHANNEL, DEPENDENCIES_CHANNEL, FUNCTION_ENV,
    FUNCTION_FLAG, LOCAL_IMAGE, OUTPUT_DIR_ENV, RemoteFunction, WORKDIR_CHANNEL,
    is_linux_x86_64_elf, registered_functions, uploaded_binary_size,
};
pub use image::{DEFAULT_IMAGE_VERSION, default_image_uri};
pub use outcome::RemoteError;
pub use sagemaker_core::{Error, ErrorKind, Result, Session};
pub use settings::{
    FileFilter, MAX_KEEP_ALIVE, MAX_RUNTIME_LIMIT, RemoteSettings, RemoteSettingsBuilder,
};

pub(crate) static INIT_CALLED: AtomicBool = AtomicBool::new(false);

type SessionFactory = fn() -> Result<Session>;
static DEFAULT_FACTORY: OnceLock<SessionFactory> = OnceLock::new();
static DEFAULT_SESSION: OnceLock<Session> = OnceLock::new();

/// Call this first thing in `main`.
///
/// A remote call runs *this same binary* as the job's process, with arguments naming the
/// function. When the process was started that way, `init` runs the function, stores its
/// result and exits the process, so the rest of `main` never runs in the job (as the
/// re-exec of process-spawning crates works). Otherwise it returns at once. Remote calls
/// refuse to start until it has been called, so a forgotten `init` cannot make every job
/// run `main` again.
///
/// The facade's `sagemaker::remote::init()` also makes `sagemaker::LocalSession::new()` (with
/// the SDK's containers) the default session.
pub fn init() {
    INIT_CALLED.store(true, Ordering::SeqCst);
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(FUNCTION_FLAG) {
        let code = runner::run_job(&args[2..]);
        std::process::exit(code);
    }
}

/// Whether [`init`] was called in this process.
pub fn is_initialized() -> bool {
    INIT_CALLED.load(Ordering::SeqCst)
}

/// Sets how the default session (used when the settings give none) is made; the first call
/// wins. The facade sets `sagemaker::LocalSession::new`.
pub fn set_default_session(factory: fn() -> Result<Session>) {
    let _ = DEFAULT_FACTORY.set(factory);
}

/// The default session: made once per process by the factory of [`set_default_session`].
pub fn default_session() -> Result<Session> {
    if let Some(s) = DEFAULT_SESSION.get() {
        return Ok(s.clone());
    }
    let factory = DEFAULT_FACTORY.get().ok_or_else(|| {
        Error::invalid_config(
            "session",
            "none given and no default session: call sagemaker::remote::init() first in main, \
             or give one with RemoteSettings::builder().session(...)",
        )
    })?;
    let session = factory()?;
    Ok(DEFAULT_SESSION.get_or_init(|| session).clone())
}

/// What `#[remote]` expands to refers to these. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::function::{Registration, RunOutcome};
    pub use inventory;
    pub use sagemaker_core::Error;
}
