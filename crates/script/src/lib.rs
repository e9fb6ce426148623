//! `sagemaker-script`: script mode on the local backend, without Docker.
//!
//! [`ScriptContainer`] is a *process* container: a [`Container`] whose `train` runs a user's
//! entry point (`train.py`, or a `.sh` command) in a child Python process exactly as
//! SageMaker's training toolkit runs it (the `/opt/ml` tree, the `SM_*` variables, the
//! rendered arguments, `output/failure`), and whose `load` starts persistent Python worker
//! processes that import the user's module once, call `model_fn` once, and then answer
//! invocations through `input_fn` / `predict_fn` / `output_fn` (or `transform_fn`), with the
//! container's default handlers where the module defines none. Bodies cross the process
//! boundary as length-prefixed frames over pipes; nothing is pickled across it.
//!
//! Framework crates map their script entry points here (the scikit-learn crate does for
//! `sagemaker-scikit-learn` images); the local backend only sees a [`Container`].
//!
//! On Linux each job sees its own `/opt/ml` through an unprivileged user + mount namespace,
//! set up by a small Python launcher stage before it `exec`s the script (the workspace
//! forbids `unsafe` code, and a multi-threaded parent cannot enter a user namespace).
//! Where namespaces are refused the script runs in place, with `SAGEMAKER_BASE_DIR` and
//! every `SM_*` variable pointing at the job's directory.
//!
//! ```no_run
//! use sagemaker_script::ScriptContainer;
//!
//! // Runs scripts with the interpreter of an existing virtual environment.
//! let container = ScriptContainer::builder().python_env("/opt/venvs/sklearn").build();
//! # drop(container);
//! ```
//!
//! See `docs/script-mode.md` for the contract and the deliberate differences from the
//! containers.

mod frame;
mod python;
mod serve;
mod stage;
mod train;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sagemaker_core::Result;
use sagemaker_core::container::{Container, ContainerError, Handler, ServingEnv, TrainingEnv};

pub use python::{PYTHON_ENV, resolve_interpreter};

/// The launcher stage: namespace, requirements, the toolkit's environment, then `exec`.
pub const LAUNCHER_PY: &str = include_str!("../python/sagemaker_script_launcher.py");
/// The model-server worker.
pub const WORKER_PY: &str = include_str!("../python/sagemaker_script_worker.py");

/// How long a stopped script has between SIGTERM and SIGKILL (SageMaker gives 120 s).
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(120);

/// `SAGEMAKER_MODEL_SERVER_WORKERS`: how many worker processes serve a model.
pub const WORKERS_ENV: &str = "SAGEMAKER_MODEL_SERVER_WORKERS";

/// Set (to anything) to run scripts without a namespace, as where the kernel refuses one.
pub const NO_NAMESPACE_ENV: &str = "SAGEMAKER_SCRIPT_NO_NAMESPACE";

/// The container that runs users' entry points in child processes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ScriptContainer {
    config: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    python: Option<PathBuf>,
    environment: BTreeMap<String, String>,
    stop_grace: Duration,
    isolation: bool,
    cache_dir: Option<PathBuf>,
    workers: Option<usize>,
}

impl Default for ScriptContainer {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl ScriptContainer {
    /// A container with the defaults: `$SAGEMAKER_PYTHON` or `python3`, namespaces where
    /// the kernel allows them, a 120 s stop grace.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder.
    pub fn builder() -> ScriptContainerBuilder {
        ScriptContainerBuilder {
            config: Config {
                python: None,
                environment: BTreeMap::new(),
                stop_grace: DEFAULT_STOP_GRACE,
                isolation: true,
                cache_dir: None,
                workers: None,
            },
        }
    }

    fn cache_dir(&self) -> PathBuf {
        self.config
            .cache_dir
            .clone()
            .unwrap_or_else(default_cache_dir)
    }
}

/// Builds a [`ScriptContainer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ScriptContainerBuilder {
    config: Config,
}

impl ScriptContainerBuilder {
    /// Runs scripts with this environment as it is: a virtual environment's directory or an
    /// interpreter's path (a job's or model's `SAGEMAKER_PYTHON` still wins).
    pub fn python_env(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.python = Some(path.into());
        self
    }

    /// An environment variable the image sets (`SAGEMAKER_TRAINING_MODULE`, ...); the job's
    /// own environment wins.
    pub fn image_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.environment.insert(key.into(), value.into());
        self
    }

    /// How long a stopped script has between SIGTERM and SIGKILL (default 120 s).
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.config.stop_grace = grace;
        self
    }

    /// Whether to try a user + mount namespace for `/opt/ml` (default true).
    pub fn isolation(mut self, on: bool) -> Self {
        self.config.isolation = on;
        self
    }

    /// Where `requirements.txt` overlays are cached (default
    /// `$XDG_CACHE_HOME/sagemaker-rs`, else `~/.cache/sagemaker-rs`).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.cache_dir = Some(dir.into());
        self
    }

    /// How many worker processes serve a model when its environment does not say
    /// (`SAGEMAKER_MODEL_SERVER_WORKERS`); default this machine's parallelism.
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = Some(n.max(1));
        self
    }

    /// The container.
    pub fn build(self) -> ScriptContainer {
        ScriptContainer {
            config: Arc::new(self.config),
        }
    }
}

/// `$XDG_CACHE_HOME/sagemaker-rs`, else `$HOME/.cache/sagemaker-rs`, else the temp dir's.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("sagemaker-rs")
}

/// Whether `program` names a script this container runs (`.py` or `.sh`), as opposed to a
/// framework's built-in entry point.
///
/// ```
/// assert!(sagemaker_script::is_script("train.py"));
/// assert!(sagemaker_script::is_script("run.sh"));
/// assert!(!sagemaker_script::is_script("LogisticRegression"));
/// ```
pub fn is_script(program: &str) -> bool {
    program.ends_with(".py") || program.ends_with(".sh")
}

impl Container for ScriptContainer {
    fn train(&self, env: &TrainingEnv) -> std::result::Result<(), ContainerError> {
        train::run(self, env)
    }

    fn load(&self, model_dir: &Path, env: &ServingEnv) -> Result<Arc<dyn Handler>> {
        Ok(Arc::new(serve::WorkerPool::start(self, model_dir, env)?))
    }
}
