//! `RemoteExecutor` and `RemoteFuture`: many remote calls, at most `max_parallel_jobs` jobs
//! at once.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sagemaker_core::error::context;
use sagemaker_core::spec::{ListTrainingJobs, TrainingJobDescription};
use sagemaker_core::{Error, ErrorKind, Result, Session, WaitConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, watch};

use crate::function::{FUNCTION_ENV, RemoteFunction, encode_arguments, resolve_session, start_job};
use crate::outcome::{RemoteError, outcome};
use crate::payload::Identity;
use crate::settings::RemoteSettings;

#[derive(Debug)]
enum State {
    /// Waiting for a free slot.
    Queued,
    /// Creating the job.
    Starting,
    /// The job exists.
    Job(String),
    /// Cancelled before the job was created.
    Cancelled,
    /// The job could not be created.
    StartFailed(Error),
}

fn copy_error(e: &Error) -> Error {
    let mut c = Error::new(e.kind(), e.message());
    for (k, v) in e.context_entries() {
        c = c.with_context(k, v);
    }
    c
}

struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    session: Session,
    who: Identity,
    cancel_requested: AtomicBool,
    /// The size of the executable uploaded for the job (calls started by this process).
    binary_size: std::sync::OnceLock<u64>,
}

impl Shared {
    fn set(&self, state: State) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
        self.changed.send_modify(|v| *v += 1);
    }

    fn job(&self) -> Option<String> {
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Job(j) => Some(j.clone()),
            _ => None,
        }
    }
}

/// A remote call in flight (the Python SDK's `Future`): its job, its state and its result.
/// Cheap to clone.
pub struct RemoteFuture<T, E> {
    shared: Arc<Shared>,
    _types: PhantomData<fn() -> (T, E)>,
}

impl<T, E> Clone for RemoteFuture<T, E> {
    fn clone(&self) -> Self {
        RemoteFuture {
            shared: self.shared.clone(),
            _types: PhantomData,
        }
    }
}

impl<T, E> std::fmt::Debug for RemoteFuture<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteFuture")
            .field("function", &self.shared.who.function)
            .field(
                "state",
                &*self.shared.state.lock().unwrap_or_else(|p| p.into_inner()),
            )
            .finish()
    }
}

impl<T: DeserializeOwned, E: DeserializeOwned> RemoteFuture<T, E> {
    fn new(session: Session, who: Identity, state: State) -> Self {
        let (changed, _) = watch::channel(0);
        RemoteFuture {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                changed,
                session,
                who,
                cancel_requested: AtomicBool::new(false),
                binary_size: std::sync::OnceLock::new(),
            }),
            _types: PhantomData,
        }
    }

    /// The job's name, once the job exists.
    pub fn job_name(&self) -> Option<String> {
        self.shared.job()
    }

    /// Waits until the call's job exists and returns its name (an error if it never will:
    /// cancelled while queued, or the job could not be created).
    pub async fn started(&self) -> Result<String> {
        self.job_started().await
    }

    /// Waits until the job exists (or will never exist).
    async fn job_started(&self) -> Result<String> {
        let mut rx = self.shared.changed.subscribe();
        loop {
            {
                let state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
                match &*state {
                    State::Job(j) => return Ok(j.clone()),
                    State::Cancelled => {
                        return Err(Error::new(
                            ErrorKind::Cancelled,
                            format!(
                                "the call of '{}' was cancelled before its job started",
                                self.shared.who.function
                            ),
                        ));
                    }
                    State::StartFailed(e) => return Err(copy_error(e)),
                    State::Queued | State::Starting => {}
                }
                rx.borrow_and_update();
            }
            if rx.changed().await.is_err() {
                return Err(Error::new(ErrorKind::Internal, "the executor went away"));
            }
        }
    }

    async fn wait_terminal(&self, timeout: Option<Duration>) -> Result<TrainingJobDescription> {
        let work = async {
            let job = self.job_started().await?;
            self.shared
                .session
                .wait_for_training_job(&job, &WaitConfig::default())
                .await
        };
        match timeout {
            None => work.await,
            Some(t) => match tokio::time::timeout(t, work).await {
                Ok(r) => r,
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the call of '{}' ({}) did not finish within {t:?}",
                        self.shared.who.function,
                        self.job_name().unwrap_or_else(|| "job not started".into())
                    ),
                )
                .with_context(context::JOB_NAME, self.job_name().unwrap_or_default())),
            },
        }
    }

    /// Waits for the job to end (at most `timeout`) and returns the function's value, its
    /// error as [`RemoteError::Function`], or the SDK's error ([`ErrorKind::Timeout`] when the
    /// timeout passes first: the job keeps running; [`ErrorKind::Cancelled`] for a cancelled
    /// call). May be called again; each call reads the stored result.
    pub async fn result(
        &self,
        timeout: Option<Duration>,
    ) -> std::result::Result<T, RemoteError<E>> {
        let d = self.wait_terminal(timeout).await?;
        outcome(&self.shared.session, self.shared.who, &d).await
    }

    /// The size in bytes of the executable uploaded for this call's job (waits until the
    /// job exists); `None` on the local backend, which runs the binary in place. Keep it
    /// small: `--release` with `strip = true`.
    pub async fn uploaded_binary_size(&self) -> Result<Option<u64>> {
        let job = self.job_started().await?;
        if let Some(size) = self.shared.binary_size.get() {
            return Ok(Some(*size));
        }
        // A re-attached job: its environment records the size.
        let d = self
            .shared
            .session
            .backend()
            .describe_training_job(&job)
            .await?;
        Ok(crate::function::uploaded_binary_size(&d))
    }

    /// Waits for the job to end (at most `timeout`), without reading its result.
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<()> {
        match self.wait_terminal(timeout).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Cancelled => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Cancels the call: a queued call never starts; a running job is stopped
    /// (`StopTrainingJob`). Returns whether anything was cancelled (false once finished).
    pub async fn cancel(&self) -> Result<bool> {
        self.shared.cancel_requested.store(true, Ordering::SeqCst);
        enum Next {
            Done(bool),
            Stop(String),
            AwaitJob,
        }
        let next = {
            let mut state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
            match &*state {
                State::Queued => {
                    *state = State::Cancelled;
                    Next::Done(true)
                }
                State::Job(j) => Next::Stop(j.clone()),
                State::Cancelled => Next::Done(true),
                State::StartFailed(_) => Next::Done(false),
                State::Starting => Next::AwaitJob,
            }
        };
        let job = match next {
            Next::Done(v) => {
                self.shared.changed.send_modify(|v| *v += 1);
                return Ok(v);
            }
            Next::Stop(j) => j,
            // The job is being created: stop it as soon as it exists.
            Next::AwaitJob => match self.job_started().await {
                Ok(j) => j,
                Err(_) => return Ok(true),
            },
        };
        let d = self
            .shared
            .session
            .backend()
            .describe_training_job(&job)
            .await?;
        if d.training_job_status.is_terminal() {
            return Ok(false);
        }
        match self.shared.session.backend().stop_training_job(&job).await {
            Ok(()) => Ok(true),
            // It finished between the describe and the stop.
            Err(e) if e.kind() == ErrorKind::Validation => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn status(&self) -> Result<Option<TrainingJobDescription>> {
        match self.job_name() {
            Some(j) => Ok(Some(
                self.shared
                    .session
                    .backend()
                    .describe_training_job(&j)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// Whether the call has finished (its job is terminal, it was cancelled before starting,
    /// or its job could not be created).
    pub async fn done(&self) -> Result<bool> {
        match self.status().await? {
            Some(d) => Ok(d.training_job_status.is_terminal()),
            None => Ok(matches!(
                &*self.shared.state.lock().unwrap_or_else(|p| p.into_inner()),
                State::Cancelled | State::StartFailed(_)
            )),
        }
    }

    /// Whether the call's job is running (created and not terminal).
    pub async fn running(&self) -> Result<bool> {
        Ok(self
            .status()
            .await?
            .is_some_and(|d| !d.training_job_status.is_terminal()))
    }

    /// Whether the call was cancelled: before it started, or its job was stopped.
    pub async fn cancelled(&self) -> Result<bool> {
        match self.status().await? {
            Some(d) => {
                Ok(d.training_job_status == sagemaker_core::spec::TrainingJobStatus::Stopped)
            }
            None => Ok(matches!(
                &*self.shared.state.lock().unwrap_or_else(|p| p.into_inner()),
                State::Cancelled
            )),
        }
    }
}

/// Runs remote calls as training jobs, at most `max_parallel_jobs` at once (the Python SDK's
/// `RemoteExecutor`). Build with [`RemoteExecutor::builder`]; cheap to clone.
#[derive(Clone)]
pub struct RemoteExecutor {
    inner: Arc<ExecutorInner>,
}

struct ExecutorInner {
    settings: RemoteSettings,
    session: Session,
    slots: Arc<Semaphore>,
    max_parallel_jobs: usize,
    shut_down: AtomicBool,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Fires when the last submitted call got its slot (or gave up): calls take slots in
    /// the order they were submitted.
    last_in_line: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
}

impl std::fmt::Debug for RemoteExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteExecutor")
            .field("max_parallel_jobs", &self.inner.max_parallel_jobs)
            .field("session", &self.inner.session)
            .finish()
    }
}

/// Builds a [`RemoteExecutor`].
#[derive(Debug, Clone, Default)]
pub struct RemoteExecutorBuilder {
    settings: Option<RemoteSettings>,
    max_parallel_jobs: Option<usize>,
}

impl RemoteExecutorBuilder {
    /// The settings of every job (required: at least the instance type).
    pub fn settings(mut self, settings: RemoteSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// How many jobs may run at once (default 1, as in the Python SDK).
    pub fn max_parallel_jobs(mut self, n: usize) -> Self {
        self.max_parallel_jobs = Some(n);
        self
    }

    /// Validates and builds; the session is resolved now (the settings' one, else the
    /// default).
    pub fn build(self) -> Result<RemoteExecutor> {
        let settings = self.settings.ok_or_else(|| {
            Error::invalid_config("settings", "are required (at least an instance type)")
        })?;
        let n = self.max_parallel_jobs.unwrap_or(1);
        if n == 0 {
            return Err(Error::invalid_config(
                "max_parallel_jobs",
                "must be at least 1",
            ));
        }
        let session = resolve_session(&settings)?;
        Ok(RemoteExecutor {
            inner: Arc::new(ExecutorInner {
                settings,
                session,
                slots: Arc::new(Semaphore::new(n)),
                max_parallel_jobs: n,
                shut_down: AtomicBool::new(false),
                tasks: Mutex::new(Vec::new()),
                last_in_line: Mutex::new(None),
            }),
        })
    }
}

impl RemoteExecutor {
    /// A builder.
    pub fn builder() -> RemoteExecutorBuilder {
        RemoteExecutorBuilder::default()
    }

    /// How many jobs may run at once.
    pub fn max_parallel_jobs(&self) -> usize {
        self.inner.max_parallel_jobs
    }

    /// The session jobs run on.
    pub fn session(&self) -> &Session {
        &self.inner.session
    }

    /// Queues a call of `f` with `args` and returns its future at once. The arguments are
    /// serialized now: a value that cannot be is an [`ErrorKind::Serialization`] error here.
    /// Must be called within a tokio runtime.
    pub fn submit<A, T, E>(
        &self,
        f: &'static RemoteFunction<A, T, E>,
        args: A,
    ) -> Result<RemoteFuture<T, E>>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Serialize + DeserializeOwned + Send + 'static,
    {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorKind::Validation,
                "the executor is shut down and accepts no more calls",
            ));
        }
        let bytes = encode_arguments(f.name(), &args)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::InvalidConfig,
                "RemoteExecutor::submit must be called within a tokio runtime",
            )
        })?;
        let future = RemoteFuture::new(self.inner.session.clone(), f.identity(), State::Queued);
        let shared = future.shared.clone();
        let inner = self.inner.clone();
        let (my_turn_done, next_turn) = tokio::sync::oneshot::channel();
        let ahead = self
            .inner
            .last_in_line
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(next_turn);
        let task = runtime.spawn(async move {
            if let Some(ahead) = ahead {
                let _ = ahead.await;
            }
            let permit = if matches!(
                *shared.state.lock().unwrap_or_else(|p| p.into_inner()),
                State::Queued
            ) {
                inner.slots.clone().acquire_owned().await.ok()
            } else {
                None
            };
            let _ = my_turn_done.send(());
            let Some(_permit) = permit else {
                return;
            };
            {
                let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                if !matches!(*state, State::Queued) {
                    return;
                }
                *state = State::Starting;
            }
            match start_job(&inner.session, &inner.settings, shared.who, bytes).await {
                Ok((job, size)) => {
                    if let Some(size) = size {
                        let _ = shared.binary_size.set(size);
                    }
                    shared.set(State::Job(job.clone()));
                    // The slot is held until the job is terminal.
                    let _ = inner
                        .session
                        .wait_for_training_job(&job, &WaitConfig::default())
                        .await;
                }
                Err(e) => shared.set(State::StartFailed(e)),
            }
        });
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
        Ok(future)
    }

    /// Calls `f` once per item, at most `max_parallel_jobs` at once, and returns the results
    /// in order. A call that fails does not stop the others.
    pub async fn map<A, T, E>(
        &self,
        f: &'static RemoteFunction<A, T, E>,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<std::result::Result<T, RemoteError<E>>>>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Serialize + DeserializeOwned + Send + 'static,
    {
        let futures = items
            .into_iter()
            .map(|a| self.submit(f, a))
            .collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(futures.len());
        for fut in futures {
            out.push(fut.result(None).await);
        }
        Ok(out)
    }

    /// A future on an existing job of `f` on this executor's session (see [`get_future`]).
    pub async fn get_future<A, T, E>(
        &self,
        f: &'static RemoteFunction<A, T, E>,
        job_name: &str,
    ) -> Result<RemoteFuture<T, E>>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Serialize + DeserializeOwned + Send + 'static,
    {
        get_future(f, job_name, &self.inner.session).await
    }

    /// Futures on the jobs of `f` on this executor's session whose names start with
    /// `job_name_prefix` (see [`list_futures`]).
    pub async fn list_futures<A, T, E>(
        &self,
        f: &'static RemoteFunction<A, T, E>,
        job_name_prefix: &str,
    ) -> Result<Vec<RemoteFuture<T, E>>>
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Serialize + DeserializeOwned + Send + 'static,
    {
        list_futures(f, job_name_prefix, &self.inner.session).await
    }

    /// Accepts no more calls; with `wait`, returns once every submitted call has finished.
    pub async fn shutdown(&self, wait: bool) {
        self.inner.shut_down.store(true, Ordering::SeqCst);
        if wait {
            let tasks: Vec<_> =
                std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
            for t in tasks {
                let _ = t.await;
            }
        }
    }
}

/// A future on an existing remote-function job, e.g. one started by another process
/// (the Python SDK's `get_future`). The job must have run `f`.
pub async fn get_future<A, T, E>(
    f: &'static RemoteFunction<A, T, E>,
    job_name: &str,
    session: &Session,
) -> Result<RemoteFuture<T, E>>
where
    A: Serialize + DeserializeOwned + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Serialize + DeserializeOwned + Send + 'static,
{
    let d = session.backend().describe_training_job(job_name).await?;
    match d.environment.get(FUNCTION_ENV) {
        Some(name) if name == f.name() => Ok(RemoteFuture::new(
            session.clone(),
            f.identity(),
            State::Job(job_name.to_string()),
        )),
        Some(name) => Err(Error::new(
            ErrorKind::Validation,
            format!(
                "job {job_name} ran remote function '{name}', not '{}'",
                f.name()
            ),
        )
        .with_context(context::JOB_NAME, job_name)),
        None => Err(Error::new(
            ErrorKind::Validation,
            format!("job {job_name} is not a remote-function job"),
        )
        .with_context(context::JOB_NAME, job_name)),
    }
}

/// Futures on every job of `f` whose name starts with `job_name_prefix`, newest first
/// (the Python SDK's `list_futures`).
pub async fn list_futures<A, T, E>(
    f: &'static RemoteFunction<A, T, E>,
    job_name_prefix: &str,
    session: &Session,
) -> Result<Vec<RemoteFuture<T, E>>>
where
    A: Serialize + DeserializeOwned + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Serialize + DeserializeOwned + Send + 'static,
{
    let jobs = session
        .backend()
        .list_training_jobs(&ListTrainingJobs::new().name_contains(job_name_prefix))
        .await?;
    let mut out = Vec::new();
    for j in jobs {
        if !j.training_job_name.starts_with(job_name_prefix) {
            continue;
        }
        let d = session
            .backend()
            .describe_training_job(&j.training_job_name)
            .await?;
        if d.environment.get(FUNCTION_ENV).map(String::as_str) == Some(f.name()) {
            out.push(RemoteFuture::new(
                session.clone(),
                f.identity(),
                State::Job(j.training_job_name),
            ));
        }
    }
    Ok(out)
}
