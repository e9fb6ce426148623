//! Serving: a pool of persistent Python workers behind the [`Handler`] contract. Each worker
//! imports the user's module and calls `model_fn` once; requests and answers cross the
//! process boundary as frames over the worker's stdin and stdout. A worker that dies fails
//! only the request it was serving and is replaced in the background.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use sagemaker_core::container::{
    Handler, InvocationError, InvocationRequest, InvocationResponse, ServingEnv,
};
use sagemaker_core::script_mode::ScriptMode;
use sagemaker_core::{Error, ErrorKind, Result};
use serde_json::{Value, json};

use crate::{ScriptContainer, WORKER_PY, WORKERS_ENV, frame, python, stage};

/// How a worker is started; shared by the pool and its restarts.
struct WorkerSpec {
    interpreter: PathBuf,
    script: PathBuf,
    code_dir: PathBuf,
    model_dir: PathBuf,
    environment: BTreeMap<String, String>,
    program: String,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Worker {
    fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct State {
    idle: Vec<Worker>,
    /// Workers started and not known dead (idle, busy or restarting).
    alive: usize,
    closed: bool,
}

struct Shared {
    spec: WorkerSpec,
    state: Mutex<State>,
    available: Condvar,
    /// Owns worker.py and any extracted code; removed when the pool goes.
    _scratch: tempfile::TempDir,
}

/// The handler of a script model: see the module documentation.
pub(crate) struct WorkerPool {
    shared: Arc<Shared>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs blocking work without starving a multi-threaded tokio runtime that called us.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn start_worker(spec: &WorkerSpec) -> std::result::Result<Worker, String> {
    let mut cmd = Command::new(&spec.interpreter);
    cmd.arg(&spec.script)
        .envs(&spec.environment)
        .env("SAGEMAKER_MODEL_DIR", &spec.model_dir)
        .env("SAGEMAKER_SUBMIT_DIRECTORY", &spec.code_dir)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "UTF-8")
        .current_dir(&spec.code_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start the Python interpreter {}: {e}",
            spec.interpreter.display()
        )
    })?;
    let pid = child.id();
    if let Some(stderr) = child.stderr.take() {
        // The worker's prints and tracebacks: the endpoint's log.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                tracing::info!(target: "sagemaker::endpoint", worker = pid, "{line}");
            }
        });
    }
    let (Some(stdin), Some(mut stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return Err("the worker's pipes are missing".into());
    };
    match frame::read(&mut stdout) {
        Ok((header, _)) if header["ready"] == Value::Bool(true) => Ok(Worker {
            child,
            stdin,
            stdout,
        }),
        Ok((header, _)) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(header["message"]
                .as_str()
                .unwrap_or("the worker failed to start")
                .to_string())
        }
        Err(e) => {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!(
                "the worker exited before it was ready ({status}; {e}); see the endpoint's log"
            ))
        }
    }
}

impl WorkerPool {
    pub(crate) fn start(
        container: &ScriptContainer,
        model_dir: &Path,
        env: &ServingEnv,
    ) -> Result<WorkerPool> {
        let config = &container.config;
        let mode = ScriptMode::from_model_environment(&env.environment).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "a script model needs SAGEMAKER_PROGRAM in its environment",
            )
        })?;
        let scratch = tempfile::Builder::new()
            .prefix("sagemaker-script-serve-")
            .tempdir()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot create a scratch directory: {e}"),
                )
            })?;
        let code_dir = match &mode.submit_directory {
            // A repacked model carries its code in model.tar.gz's code/.
            None => model_dir.join("code"),
            Some(submit) => {
                let source = stage::local_source(submit)
                    .map_err(|e| Error::new(ErrorKind::Validation, e))?;
                if source.is_dir() {
                    source
                } else {
                    let dest = scratch.path().join("code");
                    stage::stage(&source, &dest)
                        .map_err(|e| Error::new(ErrorKind::Validation, e))?;
                    dest
                }
            }
        };
        if !code_dir.join(&mode.program).is_file() {
            return Err(Error::new(
                ErrorKind::Validation,
                format!(
                    "the entry point '{}' is not in {}",
                    mode.program,
                    code_dir.display()
                ),
            ));
        }
        let interpreter = python::resolve_interpreter(&env.environment, config.python.as_deref())?;
        let script = scratch.path().join("sagemaker_script_worker.py");
        std::fs::write(&script, WORKER_PY).map_err(|e| Error::io(&script, e))?;
        let mut environment = config.environment.clone();
        environment.extend(env.environment.clone());
        let count = env
            .environment
            .get(WORKERS_ENV)
            .and_then(|n| n.parse::<usize>().ok())
            .or(config.workers)
            // Batch transform loads one handler per concurrent slot: one worker each.
            .or(env.environment.contains_key("SAGEMAKER_BATCH").then_some(1))
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        let spec = WorkerSpec {
            interpreter,
            script,
            code_dir,
            model_dir: model_dir.to_path_buf(),
            environment,
            program: mode.program,
        };
        // Workers load in parallel: model_fn runs once per worker, as under gunicorn.
        let started: Vec<std::result::Result<Worker, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..count)
                .map(|_| s.spawn(|| start_worker(&spec)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("a worker start panicked".into()))
                })
                .collect()
        });
        let mut idle = Vec::with_capacity(count);
        let mut failure = None;
        for r in started {
            match r {
                Ok(w) => idle.push(w),
                Err(e) => failure = Some(e),
            }
        }
        if let Some(why) = failure {
            idle.into_iter().for_each(Worker::stop);
            return Err(Error::new(
                ErrorKind::Validation,
                format!("the model server could not load the model: {why}"),
            ));
        }
        tracing::info!(target: "sagemaker::endpoint", program = %spec.program, workers = count, "script model loaded");
        Ok(WorkerPool {
            shared: Arc::new(Shared {
                spec,
                state: Mutex::new(State {
                    idle,
                    alive: count,
                    closed: false,
                }),
                available: Condvar::new(),
                _scratch: scratch,
            }),
        })
    }

    fn acquire(&self) -> std::result::Result<Worker, InvocationError> {
        let mut state = lock(&self.shared.state);
        loop {
            if let Some(w) = state.idle.pop() {
                return Ok(w);
            }
            if state.alive == 0 || state.closed {
                return Err(InvocationError::new(
                    500,
                    "no model server worker is running (every restart failed; see the endpoint's log)",
                ));
            }
            state = self
                .shared
                .available
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    fn release(&self, worker: Worker) {
        let mut state = lock(&self.shared.state);
        if state.closed {
            drop(state);
            worker.stop();
            return;
        }
        state.idle.push(worker);
        drop(state);
        self.shared.available.notify_one();
    }

    /// Replaces a dead worker in the background, so only the request it held fails.
    fn restart(&self) {
        let shared = self.shared.clone();
        std::thread::spawn(move || {
            let started = start_worker(&shared.spec);
            let mut state = lock(&shared.state);
            match started {
                Ok(w) if !state.closed => {
                    tracing::info!(target: "sagemaker::endpoint", worker = w.child.id(), "model server worker restarted");
                    state.idle.push(w);
                }
                Ok(w) => {
                    drop(state);
                    w.stop();
                    return;
                }
                Err(e) => {
                    tracing::error!(target: "sagemaker::endpoint", "a model server worker could not be restarted: {e}");
                    state.alive = state.alive.saturating_sub(1);
                }
            }
            drop(state);
            shared.available.notify_all();
        });
    }

    fn call(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError> {
        let mut worker = self.acquire()?;
        let header = json!({
            "content_type": request.content_type,
            "accept": request.accept,
            "custom_attributes": request.custom_attributes,
        });
        let answer = frame::write(&mut worker.stdin, &header, &request.body)
            .and_then(|()| frame::read(&mut worker.stdout));
        match answer {
            Ok((header, body)) => {
                self.release(worker);
                let status = header["status"].as_u64().unwrap_or(500) as u16;
                if (200..300).contains(&status) {
                    let content_type = header["content_type"]
                        .as_str()
                        .unwrap_or("application/octet-stream");
                    Ok(InvocationResponse::new(body, content_type))
                } else {
                    Err(InvocationError::new(
                        status,
                        header["message"]
                            .as_str()
                            .unwrap_or("the model failed")
                            .to_string(),
                    ))
                }
            }
            Err(e) => {
                let pid = worker.child.id();
                worker.stop();
                self.restart();
                Err(InvocationError::new(
                    500,
                    format!(
                        "the model server worker (pid {pid}) died while handling the request ({e}); it is being restarted"
                    ),
                ))
            }
        }
    }
}

impl Handler for WorkerPool {
    fn ping(&self) -> bool {
        lock(&self.shared.state).alive > 0
    }

    fn invoke(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError> {
        blocking(|| self.call(request))
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        let idle = {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            std::mem::take(&mut state.idle)
        };
        self.shared.available.notify_all();
        idle.into_iter().for_each(Worker::stop);
    }
}
