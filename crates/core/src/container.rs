//! The container contract, in process.
//!
//! A SageMaker image is a program that trains under the `/opt/ml` layout and serves
//! `GET /ping` + `POST /invocations`. A [`Container`] is the in-process stand-in: the local
//! backend lays out the same directories and files, then calls [`Container::train`]; to serve
//! it calls [`Container::load`] and routes requests to the returned [`Handler`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, ErrorKind, Result};

/// Where a training container finds its inputs and puts its outputs; the `/opt/ml` layout of
/// SageMaker's training contract, rooted in the job's work directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TrainingPaths {
    /// `/opt/ml`: the job's work directory.
    pub root: PathBuf,
    /// `/opt/ml/input/config`: `hyperparameters.json`, `inputdataconfig.json`,
    /// `resourceconfig.json`.
    pub config_dir: PathBuf,
    /// `/opt/ml/input/data`: one directory per channel.
    pub data_dir: PathBuf,
    /// `/opt/ml/model`: everything written here becomes `model.tar.gz`.
    pub model_dir: PathBuf,
    /// `/opt/ml/output`: `failure` goes here.
    pub output_dir: PathBuf,
    /// `/opt/ml/output/data`: other outputs.
    pub output_data_dir: PathBuf,
}

impl TrainingPaths {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        TrainingPaths {
            config_dir: root.join("input").join("config"),
            data_dir: root.join("input").join("data"),
            model_dir: root.join("model"),
            output_dir: root.join("output"),
            output_data_dir: root.join("output").join("data"),
            root,
        }
    }

    /// `input/data/{channel}`.
    pub fn channel_dir(&self, channel: &str) -> PathBuf {
        self.data_dir.join(channel)
    }

    /// `output/failure`, whose text becomes the job's `FailureReason`.
    pub fn failure_file(&self) -> PathBuf {
        self.output_dir.join("failure")
    }
}

/// Receives a training container's log lines and metrics.
pub trait TrainingReporter: Send + Sync {
    /// One line of the job's log.
    fn log(&self, line: &str);
    /// A metric value (the last value per name becomes `FinalMetricDataList`).
    fn metric(&self, name: &str, value: f64);
}

/// Everything a training container gets: the layout, the decoded configuration, a log and
/// metric sink, and a stop flag.
#[non_exhaustive]
pub struct TrainingEnv {
    /// The job name (`TRAINING_JOB_NAME`).
    pub job_name: String,
    /// The `/opt/ml` layout.
    pub paths: TrainingPaths,
    /// The hyperparameters as the API carries them (string to string), also written to
    /// `input/config/hyperparameters.json`.
    pub hyperparameters: BTreeMap<String, String>,
    /// The channel names with their content type (from `inputdataconfig.json`).
    pub channels: BTreeMap<String, Option<String>>,
    /// The job's environment plus `TRAINING_JOB_NAME` and `TRAINING_JOB_ARN`.
    pub environment: BTreeMap<String, String>,
    /// The instance type.
    pub instance_type: String,
    /// The job's `ContainerEntrypoint` (empty: the image's own entry point).
    pub container_entrypoint: Vec<String>,
    /// The job's `ContainerArguments`.
    pub container_arguments: Vec<String>,
    reporter: Arc<dyn TrainingReporter>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for TrainingEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainingEnv")
            .field("job_name", &self.job_name)
            .field("paths", &self.paths)
            .field("hyperparameters", &self.hyperparameters)
            .field("channels", &self.channels)
            .field("instance_type", &self.instance_type)
            .field("container_entrypoint", &self.container_entrypoint)
            .field("container_arguments", &self.container_arguments)
            .finish_non_exhaustive()
    }
}

impl TrainingEnv {
    /// Builds an environment (backends and container tests call this).
    pub fn new(
        job_name: impl Into<String>,
        paths: TrainingPaths,
        reporter: Arc<dyn TrainingReporter>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        TrainingEnv {
            job_name: job_name.into(),
            paths,
            hyperparameters: BTreeMap::new(),
            channels: BTreeMap::new(),
            environment: BTreeMap::new(),
            instance_type: "local".to_string(),
            container_entrypoint: Vec::new(),
            container_arguments: Vec::new(),
            reporter,
            stop,
        }
    }

    /// Sets the hyperparameters.
    pub fn with_hyperparameters(mut self, hp: BTreeMap<String, String>) -> Self {
        self.hyperparameters = hp;
        self
    }

    /// Sets the channels.
    pub fn with_channels(mut self, channels: BTreeMap<String, Option<String>>) -> Self {
        self.channels = channels;
        self
    }

    /// Sets the environment.
    pub fn with_environment(mut self, env: BTreeMap<String, String>) -> Self {
        self.environment = env;
        self
    }

    /// Sets the instance type.
    pub fn with_instance_type(mut self, instance_type: impl Into<String>) -> Self {
        self.instance_type = instance_type.into();
        self
    }

    /// Sets the `ContainerEntrypoint` and `ContainerArguments` of the job.
    pub fn with_container_command(
        mut self,
        entrypoint: Vec<String>,
        arguments: Vec<String>,
    ) -> Self {
        self.container_entrypoint = entrypoint;
        self.container_arguments = arguments;
        self
    }

    /// Writes a line to the job's log.
    pub fn log(&self, line: impl AsRef<str>) {
        self.reporter.log(line.as_ref());
    }

    /// Reports a metric; it is also logged as `#metrics {name}={value}`.
    pub fn report_metric(&self, name: &str, value: f64) {
        self.reporter.metric(name, value);
    }

    /// Whether a stop was requested; long-running containers check it between steps and
    /// return [`ContainerError::stopped`] when it is set.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A hyperparameter decoded the way the SageMaker training toolkit does: JSON when the
    /// text parses as JSON (`"\"gini\""` → `"gini"`, `"200"` → `200`), else the raw string.
    pub fn hyperparameter(&self, name: &str) -> Option<serde_json::Value> {
        self.hyperparameters
            .get(name)
            .map(|raw| decode_hyperparameter(raw))
    }
}

/// Decodes one API hyperparameter value like the training toolkit does.
///
/// ```
/// use sagemaker_core::container::decode_hyperparameter;
/// use serde_json::json;
///
/// assert_eq!(decode_hyperparameter("\"species\""), json!("species"));
/// assert_eq!(decode_hyperparameter("200"), json!(200));
/// assert_eq!(decode_hyperparameter("species"), json!("species"));
/// ```
pub fn decode_hyperparameter(raw: &str) -> serde_json::Value {
    serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_string()))
}

/// Why a container failed. Its message becomes the job's `FailureReason` (prefixed with the
/// kind, as SageMaker prefixes `ClientError:` / `AlgorithmError:`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerError {
    /// The category.
    pub kind: ContainerErrorKind,
    /// What went wrong and where (file, line, column when it is about data).
    pub message: String,
}

/// The category of a [`ContainerError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContainerErrorKind {
    /// Bad input data or hyperparameters (`ClientError`).
    Client,
    /// The algorithm itself failed (`AlgorithmError`).
    Algorithm,
    /// The container stopped because a stop was requested.
    Stopped,
}

impl ContainerError {
    /// A client error: bad data or hyperparameters.
    pub fn client(message: impl Into<String>) -> Self {
        ContainerError {
            kind: ContainerErrorKind::Client,
            message: message.into(),
        }
    }

    /// An algorithm error.
    pub fn algorithm(message: impl Into<String>) -> Self {
        ContainerError {
            kind: ContainerErrorKind::Algorithm,
            message: message.into(),
        }
    }

    /// The container honoured a stop request.
    pub fn stopped() -> Self {
        ContainerError {
            kind: ContainerErrorKind::Stopped,
            message: "stopped on request".into(),
        }
    }

    /// The `FailureReason` text: `ClientError: ...` or `AlgorithmError: ...`.
    pub fn failure_reason(&self) -> String {
        let prefix = match self.kind {
            ContainerErrorKind::Client => "ClientError",
            ContainerErrorKind::Algorithm => "AlgorithmError",
            ContainerErrorKind::Stopped => "Stopped",
        };
        format!("{prefix}: {}", self.message)
    }
}

impl std::fmt::Display for ContainerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.failure_reason())
    }
}

impl std::error::Error for ContainerError {}

/// An invocation as the container contract delivers it to `POST /invocations`.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InvocationRequest {
    /// The payload, unchanged.
    pub body: Vec<u8>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Accept`.
    pub accept: Option<String>,
    /// `X-Amzn-SageMaker-Custom-Attributes`.
    pub custom_attributes: Option<String>,
    /// `X-Amzn-SageMaker-Target-Variant`.
    pub target_variant: Option<String>,
    /// `X-Amzn-SageMaker-Inference-Id`.
    pub inference_id: Option<String>,
}

impl InvocationRequest {
    /// A request with a body and a content type.
    pub fn new(body: impl Into<Vec<u8>>, content_type: impl Into<String>) -> Self {
        InvocationRequest {
            body: body.into(),
            content_type: Some(content_type.into()),
            ..Default::default()
        }
    }

    /// Sets `Accept`.
    pub fn with_accept(mut self, accept: impl Into<String>) -> Self {
        self.accept = Some(accept.into());
        self
    }
}

/// A container's answer to an invocation.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InvocationResponse {
    /// The payload.
    pub body: Vec<u8>,
    /// `Content-Type`.
    pub content_type: String,
    /// `X-Amzn-SageMaker-Custom-Attributes` to pass back.
    pub custom_attributes: Option<String>,
}

impl InvocationResponse {
    /// A response.
    pub fn new(body: impl Into<Vec<u8>>, content_type: impl Into<String>) -> Self {
        InvocationResponse {
            body: body.into(),
            content_type: content_type.into(),
            custom_attributes: None,
        }
    }
}

/// An error answer of a container: the HTTP status it would send and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvocationError {
    /// The HTTP status (400 bad input, 406 unsupported Accept, 415 unknown content type, 500).
    pub status: u16,
    /// What went wrong and where.
    pub message: String,
}

impl InvocationError {
    /// An error answer.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        InvocationError {
            status,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InvocationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for InvocationError {}

/// A loaded model: what answers `GET /ping` and `POST /invocations`.
pub trait Handler: Send + Sync {
    /// `GET /ping`: whether the model is ready.
    fn ping(&self) -> bool {
        true
    }

    /// `POST /invocations`.
    fn invoke(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError>;

    /// `GET /execution-parameters`: what the container proposes for batch transform when the
    /// job does not say (`None`: nothing, as most containers).
    fn execution_parameters(&self) -> Option<ExecutionParameters> {
        None
    }
}

/// A container's batch-transform proposal (`GET /execution-parameters`). Values set on the
/// job win; these win over the service defaults (1 concurrent transform, 6 MB payloads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExecutionParameters {
    /// `MaxConcurrentTransforms`.
    pub max_concurrent_transforms: Option<u32>,
    /// `MaxPayloadInMB`.
    pub max_payload_in_mb: Option<u32>,
    /// `BatchStrategy`.
    pub batch_strategy: Option<crate::spec::BatchStrategy>,
}

impl ExecutionParameters {
    /// A proposal.
    pub fn new(
        max_concurrent_transforms: Option<u32>,
        max_payload_in_mb: Option<u32>,
        batch_strategy: Option<crate::spec::BatchStrategy>,
    ) -> Self {
        ExecutionParameters {
            max_concurrent_transforms,
            max_payload_in_mb,
            batch_strategy,
        }
    }
}

/// An in-process stand-in for a SageMaker image.
///
/// ```
/// use std::sync::Arc;
/// use sagemaker_core::container::*;
///
/// /// Predicts the mean of the training labels.
/// struct MeanContainer;
///
/// impl Container for MeanContainer {
///     fn train(&self, env: &TrainingEnv) -> Result<(), ContainerError> {
///         let data = std::fs::read_to_string(env.paths.channel_dir("training").join("y.txt"))
///             .map_err(|e| ContainerError::client(e.to_string()))?;
///         let ys: Vec<f64> = data.lines().filter_map(|l| l.parse().ok()).collect();
///         let mean = ys.iter().sum::<f64>() / ys.len() as f64;
///         env.log(format!("mean={mean}"));
///         std::fs::write(env.paths.model_dir.join("mean.txt"), mean.to_string())
///             .map_err(|e| ContainerError::algorithm(e.to_string()))
///     }
///
///     fn load(&self, _model_dir: &std::path::Path, _env: &ServingEnv)
///         -> sagemaker_core::Result<Arc<dyn Handler>> {
///         Err(sagemaker_core::Error::unsupported("example", "serving"))
///     }
/// }
/// ```
pub trait Container: Send + Sync {
    /// Trains: reads `env.paths` inputs, writes the model into `env.paths.model_dir`.
    ///
    /// Runs on a blocking thread, never on the async runtime. A panic is caught and
    /// reported as an `AlgorithmError`.
    fn train(&self, env: &TrainingEnv) -> std::result::Result<(), ContainerError>;

    /// Loads a model directory (an extracted `model.tar.gz`) for serving.
    fn load(&self, model_dir: &Path, env: &ServingEnv) -> Result<Arc<dyn Handler>>;
}

/// What a serving container gets besides its model directory.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServingEnv {
    /// The model's environment (`ContainerDefinition.Environment`, plus batch variables
    /// such as `SAGEMAKER_BATCH` for transform jobs).
    pub environment: BTreeMap<String, String>,
}

impl ServingEnv {
    /// A serving environment.
    pub fn new(environment: BTreeMap<String, String>) -> Self {
        ServingEnv { environment }
    }
}

impl From<ContainerError> for Error {
    fn from(e: ContainerError) -> Self {
        Error::new(ErrorKind::Internal, e.failure_reason())
    }
}
