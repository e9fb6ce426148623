//! `sagemaker-local`: a small SageMaker on this machine.
//!
//! The local backend keeps jobs in a directory (`./.sagemaker` or `$SAGEMAKER_LOCAL_ROOT` by
//! default), maps `s3://bucket/key` to `{root}/s3/bucket/key`, reads `file://` URIs in place,
//! and runs registered in-process [`Container`]s under SageMaker's training contract. No
//! Docker, no AWS account, no network.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sagemaker_core::Result<()> {
//! let root = tempfile::tempdir().unwrap();
//! let session = sagemaker_local::LocalSession::builder().root(root.path()).build()?;
//! assert_eq!(session.default_bucket().await?, "sagemaker-local");
//! # Ok(())
//! # }
//! ```

mod async_inference;
mod endpoints;
mod guard;
mod owner;
mod records;
mod server;
mod serverless;
pub mod store;
mod training;
mod transform;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use sagemaker_core::container::Container;
use sagemaker_core::spec::*;
use sagemaker_core::{
    ArtifactStore, Backend, Capability, Error, ErrorKind, Result, Session, names,
};
use tokio::sync::watch;

pub use async_inference::{
    ASYNC_MAX_PAYLOAD_BYTES, AsyncInvocationStatus, AsyncNotification,
    DEFAULT_MAX_CONCURRENT_INVOCATIONS_PER_INSTANCE,
};
pub use endpoints::MAX_PAYLOAD_BYTES;
pub use sagemaker_core::spec::MAX_CUSTOM_ATTRIBUTES;
pub use serverless::{DEFAULT_SERVERLESS_IDLE_TIMEOUT, SERVERLESS_MAX_PAYLOAD_BYTES};
pub use store::LocalStore;

/// The default bucket of the local backend.
pub const LOCAL_BUCKET: &str = "sagemaker-local";
/// The region the local backend reports.
pub const LOCAL_REGION: &str = "us-east-1";
/// The account id in local ARNs.
pub const LOCAL_ACCOUNT: &str = "000000000000";
/// The environment variable that sets the default root directory.
pub const ROOT_ENV: &str = "SAGEMAKER_LOCAL_ROOT";
/// The default root directory, relative to the current directory.
pub const DEFAULT_ROOT: &str = ".sagemaker";

/// Locks a mutex, recovering from poisoning: a panicking container must not wedge the backend.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) struct Inner {
    root: PathBuf,
    region: String,
    store: Arc<LocalStore>,
    containers: BTreeMap<String, Arc<dyn Container>>,
    training: Mutex<HashMap<String, Arc<training::LiveJob>>>,
    endpoints: endpoints::LiveEndpoints,
    transforms: transform::LiveTransforms,
    /// Distinguishes the model directories of successive endpoint updates.
    generation: AtomicU64,
    changes: watch::Sender<u64>,
    http_address: SocketAddr,
    server: Mutex<Option<SocketAddr>>,
    /// Where asynchronous inference notifications go (in place of SNS).
    notify: Option<async_inference::NotifyFn>,
    /// How long a serverless worker stays loaded after its last request.
    serverless_idle_timeout: Duration,
    /// Environment every container gets beneath the job's or model's own
    /// (`SAGEMAKER_PYTHON` from [`LocalSessionBuilder::python_env`]).
    container_env: BTreeMap<String, String>,
}

impl Inner {
    /// Starts the HTTP server on first use and returns its address.
    fn ensure_server(self: &Arc<Self>) -> Result<SocketAddr> {
        let mut server = lock(&self.server);
        if let Some(addr) = *server {
            return Ok(addr);
        }
        let listener = server::bind(self.http_address).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "cannot listen on {} for the local endpoint server: {e}",
                    self.http_address
                ),
            )
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("the local endpoint server needs a tokio runtime: {e}"),
            )
        })?;
        // The server holds a strong handle: it keeps serving (and its models stay loaded)
        // after the backend is dropped, until the tokio runtime that runs it shuts down;
        // `delete_endpoint` is what unloads a model.
        let router = server::router(self.clone());
        tokio::spawn(server::serve(listener, router));
        tracing::info!(target: "sagemaker::local", %addr, "local endpoint server listening");
        *server = Some(addr);
        Ok(addr)
    }

    /// A job's or model's environment over the session's container environment.
    pub(crate) fn container_environment(
        &self,
        own: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut env = self.container_env.clone();
        env.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }

    fn tick(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// The container for an image: an exact registration first, then one under the image's
    /// repository name (so `sagemaker-scikit-learn` serves every registry, region and tag).
    fn container_for(&self, image: &str) -> Result<Arc<dyn Container>> {
        if let Some(c) = self.containers.get(image) {
            return Ok(c.clone());
        }
        if let Some(c) = self.containers.get(&names::base_name_from_image(image)) {
            return Ok(c.clone());
        }
        let known: Vec<&str> = self.containers.keys().map(String::as_str).collect();
        Err(Error::new(
            ErrorKind::Validation,
            format!(
                "no container is registered for image '{image}' on the local backend (registered: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ))
    }
}

/// The local backend. Build it with [`LocalSession::builder`] (or [`LocalBackend::builder`]
/// when you need the backend itself).
#[derive(Clone)]
pub struct LocalBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend")
            .field("root", &self.inner.root)
            .field(
                "containers",
                &self.inner.containers.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl LocalBackend {
    /// A builder.
    pub fn builder() -> LocalSessionBuilder {
        LocalSessionBuilder::default()
    }

    /// The root directory holding the store and the job records.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Starts the HTTP server now (it otherwise starts with the first endpoint) and returns
    /// its address.
    pub fn start_server(&self) -> Result<SocketAddr> {
        self.inner.ensure_server()
    }

    /// The HTTP server's address, once started.
    pub fn server_address(&self) -> Option<SocketAddr> {
        *lock(&self.inner.server)
    }

    /// The metrics of an endpoint hosted by this process (cold starts, throttles, the
    /// asynchronous queue).
    pub fn endpoint_metrics(&self, endpoint: &str) -> Result<EndpointMetrics> {
        let live = lock(&self.inner.endpoints)
            .get(endpoint)
            .cloned()
            .ok_or_else(|| Error::not_found("endpoint hosted by this process", endpoint))?;
        let mut m = EndpointMetrics::default();
        for pool in live.serverless_pools() {
            m.serverless_invocations += pool.invocations.load(Ordering::Relaxed);
            m.cold_starts += pool.cold_starts.load(Ordering::Relaxed);
            m.throttles += pool.throttles.load(Ordering::Relaxed);
            m.warm_workers += pool.warm_workers() as u64;
            m.last_model_setup_time = m.last_model_setup_time.or(pool.last_setup_time());
        }
        if let Some(q) = &live.async_queue {
            let c = &q.counters;
            m.async_accepted = c.accepted.load(Ordering::Relaxed);
            m.async_queued = q.queued() as u64;
            m.async_running = c.running.load(Ordering::Relaxed);
            m.async_completed = c.completed.load(Ordering::Relaxed);
            m.async_failed = c.failed.load(Ordering::Relaxed);
        }
        Ok(m)
    }

    /// Unloads every idle serverless worker of `endpoint` now, as the idle timeout would
    /// (provisioned ones stay), so the next request is a cold start. Returns how many were
    /// unloaded.
    pub fn scale_to_zero(&self, endpoint: &str) -> Result<usize> {
        let live = lock(&self.inner.endpoints)
            .get(endpoint)
            .cloned()
            .ok_or_else(|| Error::not_found("endpoint hosted by this process", endpoint))?;
        Ok(live
            .serverless_pools()
            .iter()
            .map(|p| p.unload_idle(Duration::ZERO))
            .sum())
    }

    /// Serves one endpoint's container contract (`GET /ping`, `POST /invocations`, answering
    /// with the container's own status codes, as a SageMaker image does on port 8080) on a
    /// listener of its own, and returns its address. Port 0 picks a free port.
    ///
    /// The listener lives as long as the tokio runtime; the endpoint must exist when called.
    pub fn serve_container(&self, endpoint: &str, addr: SocketAddr) -> Result<SocketAddr> {
        self.inner.describe_endpoint(endpoint)?;
        let listener = server::bind(addr)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot listen on {addr}: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("serving a container needs a tokio runtime: {e}"),
            )
        })?;
        let router = server::container_router(self.inner.clone(), endpoint.to_string());
        tokio::spawn(server::serve(listener, router));
        Ok(bound)
    }
}

/// What an endpoint hosted by this process has done: the local stand-in for its CloudWatch
/// metrics (`Invocations`, `ModelSetupTime`, ...). See [`LocalBackend::endpoint_metrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointMetrics {
    /// Requests admitted by serverless variants.
    pub serverless_invocations: u64,
    /// Serverless cold starts: requests that found no warm worker and loaded the model.
    pub cold_starts: u64,
    /// Serverless requests refused with `ThrottlingException`.
    pub throttles: u64,
    /// Serverless workers loaded and idle right now.
    pub warm_workers: u64,
    /// How long the last cold start took to load the model (`ModelSetupTime`).
    pub last_model_setup_time: Option<Duration>,
    /// Asynchronous requests accepted.
    pub async_accepted: u64,
    /// Asynchronous requests waiting for a worker.
    pub async_queued: u64,
    /// Asynchronous requests running.
    pub async_running: u64,
    /// Asynchronous requests whose result was written.
    pub async_completed: u64,
    /// Asynchronous requests whose failure was written.
    pub async_failed: u64,
}

/// Builds local sessions: root directory, registered containers, region, serverless idle
/// time, asynchronous inference notifications.
#[derive(Default, Clone)]
pub struct LocalSessionBuilder {
    root: Option<PathBuf>,
    region: Option<String>,
    containers: BTreeMap<String, Arc<dyn Container>>,
    http_address: Option<SocketAddr>,
    notify: Option<async_inference::NotifyFn>,
    serverless_idle_timeout: Option<Duration>,
    python_env: Option<PathBuf>,
}

impl std::fmt::Debug for LocalSessionBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSessionBuilder")
            .field("root", &self.root)
            .field("region", &self.region)
            .field("containers", &self.containers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl LocalSessionBuilder {
    /// The root directory (default: `$SAGEMAKER_LOCAL_ROOT`, else `./.sagemaker`). Give each
    /// parallel test its own temporary root.
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// The region reported by the session (default `us-east-1`); it picks image URIs.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Where the HTTP server listens (default `127.0.0.1:0`: loopback, an ephemeral port).
    /// Bind another interface only on purpose: the server has no authentication.
    pub fn http_address(mut self, addr: SocketAddr) -> Self {
        self.http_address = Some(addr);
        self
    }

    /// Receives the notifications of asynchronous endpoints in place of SNS: `f` is called
    /// once per finished request whose outcome has a topic in the endpoint's
    /// `NotificationConfig` (`SuccessTopic` for results, `ErrorTopic` for failures), after
    /// the result or failure object is written. It runs on the endpoint's worker thread:
    /// keep it short (send to a channel).
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let root = tempfile::tempdir().unwrap();
    /// let session = sagemaker_local::LocalSession::builder()
    ///     .root(root.path())
    ///     .on_async_notification(move |n| {
    ///         let _ = tx.send(n.clone());
    ///     })
    ///     .build()?;
    /// # drop((session, rx));
    /// # Ok::<(), sagemaker_core::Error>(())
    /// ```
    pub fn on_async_notification(
        mut self,
        f: impl Fn(&AsyncNotification) + Send + Sync + 'static,
    ) -> Self {
        self.notify = Some(Arc::new(f));
        self
    }

    /// How long a serverless worker stays loaded after its last request before it is
    /// unloaded (scale to zero; provisioned workers stay). Default 60 s.
    pub fn serverless_idle_timeout(mut self, idle: Duration) -> Self {
        self.serverless_idle_timeout = Some(idle);
        self
    }

    /// Runs users' Python scripts (script mode) with this existing environment as it is: a
    /// virtual environment's directory or an interpreter (for offline machines). Without it
    /// the `SAGEMAKER_PYTHON` variable or `python3` on `PATH` is used. Containers see it as
    /// `SAGEMAKER_PYTHON` unless the job or model sets its own.
    pub fn python_env(mut self, path: impl Into<PathBuf>) -> Self {
        self.python_env = Some(path.into());
        self
    }

    /// Registers `container` for an image: either a full image URI or a repository name
    /// (`my-trainer` matches `123.dkr.ecr.../my-trainer:1.0` and `my-trainer:latest`).
    pub fn container(
        mut self,
        image: impl Into<String>,
        container: impl Container + 'static,
    ) -> Self {
        self.containers.insert(image.into(), Arc::new(container));
        self
    }

    /// Registers a shared container (see [`LocalSessionBuilder::container`]).
    pub fn container_arc(
        mut self,
        image: impl Into<String>,
        container: Arc<dyn Container>,
    ) -> Self {
        self.containers.insert(image.into(), container);
        self
    }

    /// Builds the backend, creating the root directory.
    pub fn build_backend(self) -> Result<LocalBackend> {
        let root = match self.root {
            Some(r) => r,
            None => std::env::var_os(ROOT_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT)),
        };
        if let Some(region) = &self.region
            && (region.is_empty()
                || !region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(Error::invalid_config(
                "region",
                format!("'{region}' is not a region name"),
            ));
        }
        std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        let root = root.canonicalize().map_err(|e| Error::io(&root, e))?;
        let (changes, _) = watch::channel(0);
        Ok(LocalBackend {
            inner: Arc::new(Inner {
                store: Arc::new(LocalStore::new(root.join("s3"))),
                root,
                region: self.region.unwrap_or_else(|| LOCAL_REGION.to_string()),
                containers: self.containers,
                training: Mutex::new(HashMap::new()),
                endpoints: Mutex::new(HashMap::new()),
                transforms: Mutex::new(HashMap::new()),
                generation: AtomicU64::new(0),
                changes,
                http_address: self
                    .http_address
                    .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
                server: Mutex::new(None),
                notify: self.notify,
                serverless_idle_timeout: self
                    .serverless_idle_timeout
                    .unwrap_or(DEFAULT_SERVERLESS_IDLE_TIMEOUT),
                container_env: self
                    .python_env
                    .map(|p| {
                        let p = std::path::absolute(&p).unwrap_or(p);
                        ("SAGEMAKER_PYTHON".to_string(), p.display().to_string())
                    })
                    .into_iter()
                    .collect(),
            }),
        })
    }

    /// Builds a [`Session`] on the local backend.
    pub fn build(self) -> Result<Session> {
        Ok(Session::new(self.build_backend()?))
    }
}

/// Constructors of local sessions, mirroring Python's `LocalSession()`.
///
/// This crate registers no containers by itself; the `sagemaker` facade's `LocalSession`
/// registers the scikit-learn container too.
#[derive(Debug, Clone, Copy)]
pub struct LocalSession;

impl LocalSession {
    /// A session rooted at `$SAGEMAKER_LOCAL_ROOT`, else `./.sagemaker`.
    // Named like Python's `LocalSession()`: it constructs a `Session`, not a `LocalSession`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Result<Session> {
        Self::builder().build()
    }

    /// A builder (root, region, containers).
    pub fn builder() -> LocalSessionBuilder {
        LocalSessionBuilder::default()
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn name(&self) -> &str {
        "local"
    }

    fn capabilities(&self) -> Capability {
        Capability::none()
            .with_training(true)
            .with_endpoints(true)
            .with_batch_transform(true)
            .with_file_uris(true)
            .with_local_code(true)
            .with_serverless(true)
            .with_async_inference(true)
    }

    fn region(&self) -> &str {
        &self.inner.region
    }

    fn store(&self) -> Arc<dyn ArtifactStore> {
        self.inner.store.clone()
    }

    async fn default_bucket(&self) -> Result<String> {
        Ok(LOCAL_BUCKET.to_string())
    }

    fn changes(&self) -> Option<watch::Receiver<u64>> {
        Some(self.inner.changes.subscribe())
    }

    async fn create_training_job(&self, spec: TrainingJobSpec) -> Result<TrainingJobDescription> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.create_training_job(spec))
            .await
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?
    }

    async fn describe_training_job(&self, name: &str) -> Result<TrainingJobDescription> {
        self.inner.describe_training_job(name)
    }

    async fn list_training_jobs(
        &self,
        filter: &ListTrainingJobs,
    ) -> Result<Vec<TrainingJobSummary>> {
        self.inner.list_training_jobs(filter)
    }

    async fn stop_training_job(&self, name: &str) -> Result<()> {
        self.inner.stop_training_job(name)
    }

    async fn training_job_logs(&self, name: &str) -> Result<String> {
        self.inner.training_job_logs(name)
    }

    fn runtime_url(&self) -> Option<String> {
        self.server_address().map(|a| format!("http://{a}"))
    }

    async fn create_model(&self, spec: ModelSpec) -> Result<ModelDescription> {
        self.inner.create_model(spec)
    }

    async fn describe_model(&self, name: &str) -> Result<ModelDescription> {
        self.inner.describe_model(name)
    }

    async fn list_models(&self) -> Result<Vec<String>> {
        self.inner.list_models()
    }

    async fn delete_model(&self, name: &str) -> Result<()> {
        self.inner.delete_model(name)
    }

    async fn create_endpoint_config(
        &self,
        spec: EndpointConfigSpec,
    ) -> Result<EndpointConfigDescription> {
        self.inner.create_endpoint_config(spec)
    }

    async fn describe_endpoint_config(&self, name: &str) -> Result<EndpointConfigDescription> {
        self.inner.describe_endpoint_config(name)
    }

    async fn list_endpoint_configs(&self) -> Result<Vec<String>> {
        self.inner.list_endpoint_configs()
    }

    async fn delete_endpoint_config(&self, name: &str) -> Result<()> {
        self.inner.delete_endpoint_config(name)
    }

    async fn create_endpoint(&self, spec: EndpointSpec) -> Result<EndpointDescription> {
        self.inner.create_endpoint(spec)
    }

    async fn describe_endpoint(&self, name: &str) -> Result<EndpointDescription> {
        self.inner.describe_endpoint(name)
    }

    async fn list_endpoints(&self) -> Result<Vec<String>> {
        self.inner.list_endpoints()
    }

    async fn update_endpoint(&self, name: &str, endpoint_config_name: &str) -> Result<()> {
        self.inner.update_endpoint(name, endpoint_config_name)
    }

    async fn delete_endpoint(&self, name: &str) -> Result<()> {
        // Blocking: it waits for the endpoint's asynchronous workers to finish.
        let (inner, name) = (self.inner.clone(), name.to_string());
        tokio::task::spawn_blocking(move || inner.delete_endpoint(&name))
            .await
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?
    }

    async fn invoke_endpoint(
        &self,
        request: InvokeEndpointRequest,
    ) -> Result<InvokeEndpointResponse> {
        self.inner.invoke_endpoint(&request)
    }

    async fn invoke_endpoint_async(
        &self,
        request: InvokeEndpointAsyncRequest,
    ) -> Result<InvokeEndpointAsyncResponse> {
        self.inner.invoke_endpoint_async(request)
    }

    async fn create_transform_job(
        &self,
        spec: TransformJobSpec,
    ) -> Result<TransformJobDescription> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.create_transform_job(spec))
            .await
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?
    }

    async fn describe_transform_job(&self, name: &str) -> Result<TransformJobDescription> {
        self.inner.describe_transform_job(name)
    }

    async fn stop_transform_job(&self, name: &str) -> Result<()> {
        self.inner.stop_transform_job(name)
    }

    async fn transform_job_logs(&self, name: &str) -> Result<String> {
        self.inner.transform_job_logs(name)
    }
}
