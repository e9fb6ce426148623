//! The generic `Estimator`.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sagemaker_core::spec::{
    AlgorithmSpecification, MetricDefinition, OutputDataConfig, ResourceConfig, StoppingCondition,
    Tag, TrainingInputMode, TrainingJobSpec, VpcConfig,
};
use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri, WaitConfig, names};
use serde_json::Value;

use sagemaker_model::{DeployConfig, Model};
use sagemaker_transformer::{Transformer, TransformerBuilder};

use crate::framework::{Framework, Generic};
use crate::input::Inputs;
use crate::job::TrainingJob;

/// How hyperparameter values become the API's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HyperparameterEncoding {
    /// The generic `Estimator`'s rule (Python's `str()`): strings unchanged, numbers as their
    /// text, booleans `True`/`False`, lists and maps as JSON.
    #[default]
    Plain,
    /// The framework rule (`json.dumps`): every value JSON-encoded, so strings gain quotes
    /// (`gini` → `"gini"`), numbers stay as their text, booleans become `true`/`false`.
    Json,
}

impl HyperparameterEncoding {
    /// Encodes one value.
    ///
    /// ```
    /// use sagemaker_estimator::HyperparameterEncoding;
    /// use serde_json::json;
    ///
    /// assert_eq!(HyperparameterEncoding::Json.encode(&json!("species")), "\"species\"");
    /// assert_eq!(HyperparameterEncoding::Json.encode(&json!(200)), "200");
    /// assert_eq!(HyperparameterEncoding::Plain.encode(&json!("species")), "species");
    /// assert_eq!(HyperparameterEncoding::Plain.encode(&json!(true)), "True");
    /// ```
    pub fn encode(self, value: &Value) -> String {
        match (self, value) {
            (HyperparameterEncoding::Plain, Value::String(s)) => s.clone(),
            (HyperparameterEncoding::Plain, Value::Bool(true)) => "True".into(),
            (HyperparameterEncoding::Plain, Value::Bool(false)) => "False".into(),
            (HyperparameterEncoding::Plain, Value::Null) => "None".into(),
            (_, v) => v.to_string(),
        }
    }
}

/// Script-mode settings of a framework estimator (`entry_point`, `source_dir`, log level):
/// they become the `sagemaker_*` hyperparameters the framework containers read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScriptMode {
    /// The entry point: a script path relative to `source_dir`, or a framework's built-in
    /// algorithm name.
    pub entry_point: String,
    /// The directory holding the script and its dependencies.
    pub source_dir: Option<String>,
    /// `sagemaker_container_log_level` (Python's `logging.INFO` = 20 by default).
    pub container_log_level: u32,
    /// Whether running it needs a Python interpreter in the container (a user script), as
    /// opposed to a built-in algorithm of the framework's in-process container.
    pub requires_python: bool,
    /// For a built-in algorithm: the Python program a backend that runs Python (AWS) runs in
    /// its place, packed as `sourcedir.tar.gz` like a user's `source_dir`.
    pub python_bundle: Option<PythonBundle>,
}

/// Python files that implement a built-in entry point on a backend that runs Python (the
/// scikit-learn crate ships one per built-in algorithm).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PythonBundle {
    /// The file the container runs (`sagemaker_program`), e.g. `LogisticRegression.py`.
    pub program: String,
    /// The files of `sourcedir.tar.gz`: relative path and contents.
    pub files: Vec<(String, Vec<u8>)>,
}

impl PythonBundle {
    /// A bundle running `program`, one of `files`.
    pub fn new(program: impl Into<String>, files: Vec<(String, Vec<u8>)>) -> Self {
        PythonBundle {
            program: program.into(),
            files,
        }
    }
}

impl ScriptMode {
    /// Script mode for `entry_point`.
    pub fn new(entry_point: impl Into<String>, requires_python: bool) -> Self {
        ScriptMode {
            entry_point: entry_point.into(),
            source_dir: None,
            container_log_level: 20,
            requires_python,
            python_bundle: None,
        }
    }

    /// Sets the Python program that stands in for a built-in entry point on backends that
    /// run Python.
    pub fn python_bundle(mut self, bundle: PythonBundle) -> Self {
        self.python_bundle = Some(bundle);
        self
    }

    /// Sets `source_dir`.
    pub fn source_dir(mut self, dir: impl Into<String>) -> Self {
        self.source_dir = Some(dir.into());
        self
    }

    /// Sets the container log level.
    pub fn container_log_level(mut self, level: u32) -> Self {
        self.container_log_level = level;
        self
    }
}

/// The settings of an [`Estimator`], validated.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EstimatorConfig {
    /// The training image (on the local backend: a registered container's image name).
    pub image_uri: String,
    /// The IAM role ARN (optional on the local backend).
    pub role: Option<String>,
    /// How many instances.
    pub instance_count: u32,
    /// The instance type (`ml.m5.large`, `local`, ...).
    pub instance_type: String,
    /// Volume size in GB (default 30).
    pub volume_size: u32,
    /// Longest run in seconds (default 86 400).
    pub max_run: u64,
    /// The job-level input mode (default `File`).
    pub input_mode: TrainingInputMode,
    /// Where artifacts go (default `s3://{default bucket}/`).
    pub output_path: Option<StorageUri>,
    /// KMS key for the output.
    pub output_kms_key: Option<String>,
    /// The prefix of generated job names (default: the image's repository name).
    pub base_job_name: Option<String>,
    /// Hyperparameters, already encoded to the API's strings.
    pub hyperparameters: BTreeMap<String, String>,
    /// How hyperparameters are encoded.
    pub encoding: HyperparameterEncoding,
    /// Environment variables of the training container.
    pub environment: BTreeMap<String, String>,
    /// Tags of the job.
    pub tags: Vec<Tag>,
    /// Metrics to scrape from the log.
    pub metric_definitions: Vec<MetricDefinition>,
    /// Script-mode settings (framework estimators).
    pub script_mode: Option<ScriptMode>,
    /// The VPC of the training job (and, by default, of models deployed from it).
    pub vpc_config: Option<VpcConfig>,
}

/// Builds an [`Estimator`]; setters never fail, [`EstimatorBuilder::build`] validates.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct EstimatorBuilder {
    image_uri: Option<String>,
    role: Option<String>,
    instance_count: Option<u32>,
    instance_type: Option<String>,
    volume_size: Option<u32>,
    max_run: Option<u64>,
    input_mode: Option<TrainingInputMode>,
    output_path: Option<String>,
    output_kms_key: Option<String>,
    base_job_name: Option<String>,
    hyperparameters: Vec<(String, Value)>,
    encoding: HyperparameterEncoding,
    environment: BTreeMap<String, String>,
    tags: Vec<Tag>,
    metric_definitions: Vec<MetricDefinition>,
    script_mode: Option<ScriptMode>,
    subnets: Option<Vec<String>>,
    security_group_ids: Option<Vec<String>>,
    session: Option<Session>,
}

impl EstimatorBuilder {
    /// The training image URI (required).
    pub fn image_uri(mut self, image: impl Into<String>) -> Self {
        self.image_uri = Some(image.into());
        self
    }

    /// The IAM role (required on AWS, optional locally).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// How many instances (default 1).
    pub fn instance_count(mut self, n: u32) -> Self {
        self.instance_count = Some(n);
        self
    }

    /// The instance type (required), e.g. `ml.m5.large` or `local`.
    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = Some(t.into());
        self
    }

    /// Volume size in GB (default 30).
    pub fn volume_size(mut self, gb: u32) -> Self {
        self.volume_size = Some(gb);
        self
    }

    /// Longest run (default 24 h); whole seconds.
    pub fn max_run(mut self, max_run: Duration) -> Self {
        self.max_run = Some(max_run.as_secs());
        self
    }

    /// The job-level input mode (default `File`).
    pub fn input_mode(mut self, mode: TrainingInputMode) -> Self {
        self.input_mode = Some(mode);
        self
    }

    /// Where artifacts go: an `s3://` prefix (or `file://` locally).
    pub fn output_path(mut self, uri: impl Into<String>) -> Self {
        self.output_path = Some(uri.into());
        self
    }

    /// KMS key for the output.
    pub fn output_kms_key(mut self, key: impl Into<String>) -> Self {
        self.output_kms_key = Some(key.into());
        self
    }

    /// The prefix of generated job names.
    pub fn base_job_name(mut self, base: impl Into<String>) -> Self {
        self.base_job_name = Some(base.into());
        self
    }

    /// Sets one hyperparameter (numbers, strings, booleans, lists, maps).
    pub fn hyperparameter(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.hyperparameters.push((name.into(), value.into()));
        self
    }

    /// Sets several hyperparameters.
    pub fn hyperparameters<K: Into<String>, V: Into<Value>>(
        mut self,
        hps: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.hyperparameters
            .extend(hps.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// How hyperparameters are encoded (frameworks use [`HyperparameterEncoding::Json`]).
    pub fn hyperparameter_encoding(mut self, encoding: HyperparameterEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets an environment variable of the training container.
    pub fn environment(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.environment.insert(name.into(), value.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push(Tag::new(key, value));
        self
    }

    /// The VPC subnets of the job (`VpcConfig.Subnets`; give security groups too).
    pub fn subnets<S: Into<String>>(mut self, subnets: impl IntoIterator<Item = S>) -> Self {
        self.subnets = Some(subnets.into_iter().map(Into::into).collect());
        self
    }

    /// The VPC security groups of the job (`VpcConfig.SecurityGroupIds`; give subnets too).
    pub fn security_group_ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.security_group_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a metric definition (name and regex).
    pub fn metric_definition(mut self, name: impl Into<String>, regex: impl Into<String>) -> Self {
        self.metric_definitions.push(MetricDefinition {
            name: name.into(),
            regex: regex.into(),
        });
        self
    }

    /// Script-mode settings (framework estimators set this).
    pub fn script_mode(mut self, script_mode: ScriptMode) -> Self {
        self.script_mode = Some(script_mode);
        self
    }

    /// The session to run on (required).
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Validates everything and builds the estimator. Errors are
    /// [`ErrorKind::InvalidConfig`] naming the field.
    pub fn build(self) -> Result<Estimator> {
        let session = self.session.ok_or_else(|| {
            Error::invalid_config("session", "required (e.g. LocalSession::new()?)")
        })?;
        let image_uri = self
            .image_uri
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::invalid_config("image_uri", "required"))?;
        let instance_type = self
            .instance_type
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid_config(
                    "instance_type",
                    "required (e.g. \"ml.m5.large\" or \"local\")",
                )
            })?;
        let instance_count = self.instance_count.unwrap_or(1);
        if instance_count == 0 {
            return Err(Error::invalid_config(
                "instance_count",
                "must be at least 1",
            ));
        }
        if instance_type == "local_gpu" && instance_count > 1 {
            return Err(Error::invalid_config(
                "instance_count",
                "local_gpu supports one instance only",
            ));
        }
        let volume_size = self.volume_size.unwrap_or(30);
        if volume_size == 0 {
            return Err(Error::invalid_config(
                "volume_size",
                "must be at least 1 GB",
            ));
        }
        let max_run = self.max_run.unwrap_or(86_400);
        if max_run == 0 {
            return Err(Error::invalid_config(
                "max_run",
                "must be at least 1 second",
            ));
        }
        let output_path = self
            .output_path
            .map(|p| {
                p.parse::<StorageUri>()
                    .map_err(|e| Error::invalid_config("output_path", e.message()))
            })
            .transpose()?;
        if let Some(StorageUri::File { .. }) = &output_path
            && !session.capabilities().file_uris
        {
            return Err(Error::invalid_config(
                "output_path",
                format!(
                    "file URIs are supported by the local backend only, not by '{}'",
                    session.backend().name()
                ),
            ));
        }
        if let Some(base) = &self.base_job_name {
            // The base is cut to leave room for the timestamp; it must be a valid name itself.
            names::validate_name("base job", base)
                .map_err(|e| Error::invalid_config("base_job_name", e.message()))?;
        }
        if let Some(role) = &self.role
            && role.trim().is_empty()
        {
            return Err(Error::invalid_config("role", "must not be empty"));
        }
        let mut hyperparameters = BTreeMap::new();
        for (name, value) in &self.hyperparameters {
            if name.is_empty() {
                return Err(Error::invalid_config(
                    "hyperparameters",
                    "a hyperparameter name is empty",
                ));
            }
            hyperparameters.insert(name.clone(), self.encoding.encode(value));
        }
        for name in self.environment.keys() {
            if name.is_empty() || name.contains('=') {
                return Err(Error::invalid_config(
                    "environment",
                    format!("'{name}' is not a variable name"),
                ));
            }
        }
        // As the Python SDK: a VPC needs both its subnets and its security groups.
        let vpc_config = match (self.subnets, self.security_group_ids) {
            (None, None) => None,
            (Some(subnets), Some(security_group_ids))
                if !subnets.is_empty() && !security_group_ids.is_empty() =>
            {
                Some(VpcConfig {
                    security_group_ids,
                    subnets,
                })
            }
            (subnets, _) => {
                let field = if subnets.as_ref().is_none_or(|s| s.is_empty()) {
                    "subnets"
                } else {
                    "security_group_ids"
                };
                return Err(Error::invalid_config(
                    field,
                    "a VPC needs at least one subnet and one security group id",
                ));
            }
        };
        Ok(Estimator::from_inner(EstimatorInner {
            config: EstimatorConfig {
                image_uri,
                role: self.role,
                instance_count,
                instance_type,
                volume_size,
                max_run,
                input_mode: self.input_mode.unwrap_or(TrainingInputMode::File),
                output_path,
                output_kms_key: self.output_kms_key,
                base_job_name: self.base_job_name,
                hyperparameters,
                encoding: self.encoding,
                environment: self.environment,
                tags: self.tags,
                metric_definitions: self.metric_definitions,
                script_mode: self.script_mode,
                vpc_config,
            },
            session,
            latest: Mutex::new(None),
            started: AtomicU64::new(0),
        }))
    }
}

/// Options of [`Estimator::fit_with`].
#[must_use]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FitOptions {
    /// Wait for the job to end (default true).
    pub wait: bool,
    /// An explicit job name (default: generated from the base job name).
    pub job_name: Option<String>,
    /// How to wait.
    pub wait_config: WaitConfig,
    /// Print the job's log lines to stderr while waiting (default false).
    pub logs: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            wait: true,
            job_name: None,
            wait_config: WaitConfig::default(),
            logs: false,
        }
    }
}

impl FitOptions {
    /// Default options: wait, generated name, no log printing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to wait for the job to end.
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }

    /// An explicit job name.
    pub fn job_name(mut self, name: impl Into<String>) -> Self {
        self.job_name = Some(name.into());
        self
    }

    /// How to wait.
    pub fn wait_config(mut self, wait_config: WaitConfig) -> Self {
        self.wait_config = wait_config;
        self
    }

    /// Print the job's log to stderr while waiting.
    pub fn logs(mut self, logs: bool) -> Self {
        self.logs = logs;
        self
    }
}

struct EstimatorInner {
    config: EstimatorConfig,
    session: Session,
    /// The job of the most recently *started* fit (its start number, its name). Concurrent
    /// fits finish in any order; only a later start replaces the latest job, so "the latest
    /// job" means the same thing however the fits interleave.
    latest: Mutex<Option<(u64, String)>>,
    /// How many fits have started.
    started: AtomicU64,
}

/// A generic estimator: any training image, any backend (the Python SDK's `Estimator`).
/// Cheap to clone; clones share the latest training job.
///
/// [`Estimator::fit`] returns the [`TrainingJob`]: deploy, create a model or a transformer
/// from that handle. The estimator's own `deploy`, `create_model`, `transformer`,
/// `model_data` and `logs` are the Python SDK's conveniences for *the latest job*: the one
/// whose `fit` started last (not the one that finished last), so they stay well defined when
/// one estimator runs several fits at once. `F` is the [`Framework`] that decides the
/// predictor `deploy` returns ([`Generic`]: a byte-level `Predictor`).
///
/// ```
/// # use sagemaker_estimator::Estimator;
/// # fn session() -> sagemaker_core::Session {
/// #     sagemaker_local::LocalSession::builder().root(tempfile::tempdir().unwrap().keep()).build().unwrap()
/// # }
/// let estimator = Estimator::builder()
///     .image_uri("my-trainer:latest")
///     .instance_type("local")
///     .hyperparameter("epochs", 10)
///     .session(session())
///     .build()
///     .unwrap();
/// assert_eq!(estimator.config().hyperparameters["epochs"], "10");
/// assert_eq!(estimator.base_job_name(), "my-trainer");
/// ```
pub struct Estimator<F: Framework = Generic> {
    inner: Arc<EstimatorInner>,
    framework: PhantomData<fn() -> F>,
}

impl<F: Framework> Clone for Estimator<F> {
    fn clone(&self) -> Self {
        Estimator {
            inner: self.inner.clone(),
            framework: PhantomData,
        }
    }
}

impl<F: Framework> std::fmt::Debug for Estimator<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Estimator")
            .field("config", &self.inner.config)
            .field("session", &self.inner.session)
            .finish()
    }
}

impl Estimator {
    /// A builder.
    pub fn builder() -> EstimatorBuilder {
        EstimatorBuilder::default()
    }

    /// Re-creates an estimator from an existing job (in this process or another one) and
    /// waits until the job ends (the Python SDK's `Estimator.attach`). Unlike Python, a
    /// `Failed` job is not raised here: read it from `latest_training_job()`.
    pub async fn attach(job_name: &str, session: Session) -> Result<Estimator> {
        Self::attach_with(job_name, session, &WaitConfig::default()).await
    }

    /// [`Estimator::attach`] with wait settings.
    pub async fn attach_with(
        job_name: &str,
        session: Session,
        wait: &WaitConfig,
    ) -> Result<Estimator> {
        let d = session.wait_for_training_job(job_name, wait).await?;
        let mut hyperparameters = d.hyper_parameters.clone();
        let script_mode = sagemaker_core::script_mode::ScriptMode::take_from(&mut hyperparameters)
            .map(|m| {
                let requires_python = m.program.ends_with(".py") || m.submit_directory.is_some();
                let mut s = ScriptMode::new(m.program, requires_python);
                s.source_dir = m.submit_directory;
                s.container_log_level = m.container_log_level;
                s
            });
        let encoding = if script_mode.is_some() {
            HyperparameterEncoding::Json
        } else {
            HyperparameterEncoding::Plain
        };
        let base = names::base_from_name(&d.training_job_name).to_string();
        let estimator = Estimator::from_inner(EstimatorInner {
            config: EstimatorConfig {
                image_uri: d.algorithm_specification.training_image.clone(),
                role: d.role_arn.clone(),
                instance_count: d.resource_config.instance_count,
                instance_type: d.resource_config.instance_type.clone(),
                volume_size: d.resource_config.volume_size_in_gb,
                max_run: d.stopping_condition.max_runtime_in_seconds,
                input_mode: d.algorithm_specification.training_input_mode,
                output_path: Some(d.output_data_config.s3_output_path.clone()),
                output_kms_key: d.output_data_config.kms_key_id.clone(),
                base_job_name: Some(base),
                hyperparameters,
                encoding,
                environment: d.environment.clone(),
                tags: d.tags.clone(),
                metric_definitions: d.algorithm_specification.metric_definitions.clone(),
                script_mode,
                vpc_config: d.vpc_config.clone(),
            },
            session: session.clone(),
            latest: Mutex::new(Some((0, job_name.to_string()))),
            started: AtomicU64::new(0),
        });
        Ok(estimator)
    }
}

impl<F: Framework> Estimator<F> {
    fn from_inner(inner: EstimatorInner) -> Self {
        Estimator {
            inner: Arc::new(inner),
            framework: PhantomData,
        }
    }

    /// The same estimator (sharing its latest job) for another framework: a framework preset
    /// such as `SKLearn` uses it to type its predictors.
    pub fn with_framework<G: Framework>(self) -> Estimator<G> {
        Estimator {
            inner: self.inner,
            framework: PhantomData,
        }
    }

    /// The validated settings.
    pub fn config(&self) -> &EstimatorConfig {
        &self.inner.config
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.inner.session
    }

    /// The prefix of generated job names: the one given, else the image's repository name.
    pub fn base_job_name(&self) -> String {
        let c = &self.inner.config;
        c.base_job_name
            .clone()
            .unwrap_or_else(|| names::base_name_from_image(&c.image_uri))
    }

    /// The latest job started by this estimator (or attached to): the one whose `fit`
    /// started last.
    pub fn latest_training_job(&self) -> Option<TrainingJob<F>> {
        let latest = self.inner.latest.lock().unwrap_or_else(|p| p.into_inner());
        latest
            .as_ref()
            .map(|(_, name)| TrainingJob::of(name.clone(), self.inner.session.clone()))
    }

    /// Records `name` as the latest job unless a later-started fit already did.
    fn set_latest(&self, started: u64, name: &str) {
        let mut latest = self.inner.latest.lock().unwrap_or_else(|p| p.into_inner());
        if latest.as_ref().is_none_or(|(n, _)| *n < started) {
            *latest = Some((started, name.to_string()));
        }
    }

    /// Trains on `inputs` and waits for the job to end: a `Failed` job is an
    /// [`ErrorKind::JobFailed`] error with the reason and the log's tail.
    ///
    /// `inputs` is a URI or [`TrainingInput`](crate::TrainingInput) (channel `training`)
    /// or an [`Inputs`] map of named channels.
    pub async fn fit(&self, inputs: impl Into<Inputs>) -> Result<TrainingJob<F>> {
        self.fit_with(inputs, FitOptions::default()).await
    }

    /// [`Estimator::fit`] with options (no wait, job name, wait settings, log printing).
    pub async fn fit_with(
        &self,
        inputs: impl Into<Inputs>,
        options: FitOptions,
    ) -> Result<TrainingJob<F>> {
        // Numbered when the call starts, before any await, so the order of starts decides
        // which job is the latest.
        let started = self.inner.started.fetch_add(1, Ordering::Relaxed) + 1;
        let spec = self
            .training_job_spec(&inputs.into(), options.job_name.clone())
            .await?;
        let name = spec.training_job_name.clone();
        // Bad names, roles or URIs are refused before any code is uploaded.
        self.inner
            .session
            .backend()
            .validate_training_job(&spec)
            .await?;
        if let Some(SourcePlan {
            upload: Some((uri, contents)),
            ..
        }) = self.source_plan(&name, &spec.output_data_config.s3_output_path)?
        {
            upload_source(&self.inner.session, &contents, &uri).await?;
        }
        self.inner
            .session
            .backend()
            .create_training_job(spec)
            .await?;
        let job = TrainingJob::of(name, self.inner.session.clone());
        self.set_latest(started, job.name());
        if options.wait {
            if options.logs {
                let tail = LogPrinter::start(
                    job.clone().with_framework::<Generic>(),
                    options.wait_config.get_poll_interval(),
                );
                let result = job.wait_with(&options.wait_config).await;
                tail.finish().await;
                result?;
            } else {
                job.wait_with(&options.wait_config).await?;
            }
        }
        Ok(job)
    }

    /// The `CreateTrainingJob` request `fit` would send (no call is made besides looking up
    /// the default bucket when no output path is set).
    pub async fn training_job_spec(
        &self,
        inputs: &Inputs,
        job_name: Option<String>,
    ) -> Result<TrainingJobSpec> {
        let c = &self.inner.config;
        let session = &self.inner.session;
        let caps = session.capabilities();
        let name = match job_name {
            // Checked with the rest of the request by the session's validating front.
            Some(n) => n,
            None => names::name_from_base(&self.base_job_name()),
        };
        let (channels, single_mode) = inputs.to_channels(caps.file_uris)?;
        let output_path = match &c.output_path {
            Some(p) => p.clone(),
            None => StorageUri::s3(session.default_bucket().await?, ""),
        };
        let mut hyper_parameters = c.hyperparameters.clone();
        if let Some(script) = &c.script_mode {
            if script.requires_python && !caps.python_scripts && !caps.local_code {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "the {} backend cannot run the Python script '{}'; use a built-in entry point or the AWS backend",
                        session.backend().name(),
                        script.entry_point
                    ),
                )
                .with_context(sagemaker_core::error::context::FIELD, "entry_point"));
            }
            let plan = self.source_plan(&name, &output_path)?;
            let (program, submit_dir) = match &plan {
                Some(p) => (p.program.clone(), Some(p.submit_dir.clone())),
                None => (script.entry_point.clone(), script.source_dir.clone()),
            };
            let mut mode = sagemaker_core::script_mode::ScriptMode::new(program)
                .container_log_level(script.container_log_level)
                .job_name(name.clone())
                .region(session.region());
            mode.submit_directory = submit_dir;
            mode.encode_into(&mut hyper_parameters);
        }
        Ok(TrainingJobSpec {
            training_job_name: name,
            algorithm_specification: AlgorithmSpecification {
                training_image: c.image_uri.clone(),
                training_input_mode: single_mode.unwrap_or(c.input_mode),
                metric_definitions: c.metric_definitions.clone(),
                container_entrypoint: Vec::new(),
                container_arguments: Vec::new(),
            },
            role_arn: c.role.clone(),
            input_data_config: channels,
            output_data_config: OutputDataConfig {
                s3_output_path: output_path,
                kms_key_id: c.output_kms_key.clone(),
            },
            resource_config: ResourceConfig {
                instance_count: c.instance_count,
                instance_type: c.instance_type.clone(),
                volume_size_in_gb: c.volume_size,
            },
            stopping_condition: StoppingCondition {
                max_runtime_in_seconds: c.max_run,
            },
            hyper_parameters,
            environment: c.environment.clone(),
            vpc_config: c.vpc_config.clone(),
            tags: c.tags.clone(),
        })
    }

    /// Where the job's code comes from on a backend that runs Python: the program, the
    /// `sagemaker_submit_directory` value, and what to pack and upload there (the Python
    /// SDK's `tar_and_upload_dir`: `s3://{output bucket}/{job}/source/sourcedir.tar.gz`).
    /// `None` on backends that run built-in entry points in process.
    fn source_plan(&self, job_name: &str, output_path: &StorageUri) -> Result<Option<SourcePlan>> {
        let Some(script) = &self.inner.config.script_mode else {
            return Ok(None);
        };
        let caps = self.inner.session.capabilities();
        if !caps.python_scripts {
            return match caps.local_code && script.requires_python {
                true => local_source_plan(script).map(Some),
                false => Ok(None),
            };
        }
        let code_uri = || -> Result<StorageUri> {
            let bucket = output_path.bucket().ok_or_else(|| {
                Error::invalid_config(
                    "output_path",
                    format!("'{output_path}' is not an s3:// URI, so the code cannot be uploaded next to it"),
                )
            })?;
            Ok(StorageUri::s3(
                bucket,
                format!("{job_name}/source/sourcedir.tar.gz"),
            ))
        };
        if let Some(bundle) = &script.python_bundle {
            let uri = code_uri()?;
            return Ok(Some(SourcePlan {
                program: bundle.program.clone(),
                submit_dir: uri.to_string(),
                upload: Some((uri, SourceContents::Files(bundle.files.clone()))),
            }));
        }
        if !script.requires_python {
            return Ok(None);
        }
        let entry = &script.entry_point;
        match script.source_dir.as_deref() {
            Some(dir) if dir.starts_with("s3://") => Ok(Some(SourcePlan {
                program: entry.clone(),
                submit_dir: dir.to_string(),
                upload: None,
            })),
            Some(dir) => {
                let dir = std::path::PathBuf::from(dir);
                if !dir.join(entry).is_file() {
                    return Err(Error::invalid_config(
                        "entry_point",
                        format!(
                            "No file named \"{entry}\" was found in directory \"{}\"",
                            dir.display()
                        ),
                    ));
                }
                let uri = code_uri()?;
                Ok(Some(SourcePlan {
                    program: entry.clone(),
                    submit_dir: uri.to_string(),
                    upload: Some((uri, SourceContents::Dir(dir))),
                }))
            }
            None => {
                let file = std::path::PathBuf::from(entry);
                if !file.is_file() {
                    return Err(Error::invalid_config(
                        "entry_point",
                        format!("No file named \"{entry}\" was found"),
                    ));
                }
                let name = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or(entry)
                    .to_string();
                let uri = code_uri()?;
                Ok(Some(SourcePlan {
                    program: name,
                    submit_dir: uri.to_string(),
                    upload: Some((uri, SourceContents::File(file))),
                }))
            }
        }
    }

    /// The latest job's `model.tar.gz` URI.
    pub async fn model_data(&self) -> Result<StorageUri> {
        self.require_latest()?.model_data().await
    }

    /// A [`Model`] of the latest job's artifact: see [`TrainingJob::create_model`].
    pub async fn create_model(&self) -> Result<Model> {
        self.require_latest()?.create_model().await
    }

    /// Deploys the latest job's model to a real-time endpoint (the Python SDK's
    /// `Estimator.deploy`): the model and the endpoint are both named
    /// `name_from_base(base_job_name)` unless the config names the endpoint. Prefer
    /// [`TrainingJob::deploy`] on the job `fit` returned when fits may run concurrently.
    pub async fn deploy(&self, config: DeployConfig) -> Result<F::Predictor> {
        self.require_latest()?
            .deploy_named(&self.base_job_name(), config)
            .await
    }

    /// A [`Transformer`] for the latest job's model (the Python SDK's
    /// `Estimator.transformer`): the model is created now, named `name_from_base(base_job_name)`,
    /// and transform jobs are named after `base_job_name`.
    pub async fn transformer(&self, config: TransformerBuilder) -> Result<Transformer> {
        self.require_latest()?
            .transformer_named(&self.base_job_name(), config)
            .await
    }

    /// The latest job's log.
    pub async fn logs(&self) -> Result<String> {
        self.require_latest()?.logs().await
    }

    fn require_latest(&self) -> Result<TrainingJob<F>> {
        self.latest_training_job().ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "this estimator has no training job yet: call fit() or attach() first",
            )
        })
    }
}

/// The code of a script run in place by a backend with [`Capability::local_code`]: the
/// Python SDK's `local_code` mode, `sagemaker_submit_directory = file://<abs source_dir>`.
///
/// [`Capability::local_code`]: sagemaker_core::Capability::local_code
fn local_source_plan(script: &ScriptMode) -> Result<SourcePlan> {
    let entry = &script.entry_point;
    let (dir, program) = match script.source_dir.as_deref() {
        Some(dir) if dir.contains("://") && !dir.starts_with("file://") => {
            return Ok(SourcePlan {
                program: entry.clone(),
                submit_dir: dir.to_string(),
                upload: None,
            });
        }
        Some(dir) => (
            std::path::PathBuf::from(dir.strip_prefix("file://").unwrap_or(dir)),
            entry.clone(),
        ),
        None => {
            let file = std::path::Path::new(entry);
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or(entry);
            let parent = file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            (parent.to_path_buf(), name.to_string())
        }
    };
    if !dir.join(&program).is_file() {
        return Err(Error::invalid_config(
            "entry_point",
            format!(
                "No file named \"{program}\" was found in directory \"{}\"",
                dir.display()
            ),
        ));
    }
    let dir = dir.canonicalize().map_err(|e| Error::io(&dir, e))?;
    Ok(SourcePlan {
        program,
        submit_dir: format!("file://{}", dir.display()),
        upload: None,
    })
}

/// Prints a job's new log lines to stderr while it runs.
struct LogPrinter {
    done: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl LogPrinter {
    fn start(job: TrainingJob, poll: Duration) -> Self {
        let (done, mut done_rx) = tokio::sync::oneshot::channel();
        // A local log is a file: read it often. A remote one (CloudWatch) is read at the
        // wait's poll interval, as the Python SDK does, not four times a second.
        let local = job.session().backend().changes().is_some();
        let poll = if local {
            poll.min(Duration::from_millis(250))
        } else {
            poll
        };
        let task = tokio::spawn(async move {
            let mut printed = 0usize;
            let mut phases = 0usize;
            loop {
                let finished = tokio::select! {
                    _ = &mut done_rx => true,
                    _ = tokio::time::sleep(poll) => false,
                };
                // The secondary-status transitions, as the Python SDK prints them.
                if let Ok(d) = job.describe().await {
                    for t in d.secondary_status_transitions.iter().skip(phases) {
                        eprintln!(
                            "{} {} - {}",
                            t.start_time
                                .format(&time::format_description::well_known::Rfc3339)
                                .unwrap_or_default(),
                            t.status,
                            t.status_message
                        );
                    }
                    phases = phases.max(d.secondary_status_transitions.len());
                }
                if let Ok(log) = job.logs().await
                    && log.len() > printed
                {
                    eprint!("{}", &log[printed..]);
                    printed = log.len();
                }
                if finished {
                    break;
                }
            }
        });
        LogPrinter { done, task }
    }

    async fn finish(self) {
        let _ = self.done.send(());
        let _ = self.task.await;
    }
}

/// The code of a job on a backend that runs Python (see `Estimator::source_plan`).
struct SourcePlan {
    program: String,
    submit_dir: String,
    upload: Option<(StorageUri, SourceContents)>,
}

enum SourceContents {
    /// Every entry of `source_dir`, with the directory as the archive root.
    Dir(std::path::PathBuf),
    /// The entry point alone, at the archive root.
    File(std::path::PathBuf),
    /// Files given in memory (a framework's stand-in for a built-in entry point).
    Files(Vec<(String, Vec<u8>)>),
}

/// Packs a [`PythonBundle`] as `sourcedir.tar.gz` and uploads it to `uri` (what `fit` does
/// for a built-in entry point on a backend that runs Python; models deployed from an
/// existing artifact need it too).
pub async fn upload_python_bundle(
    session: &Session,
    bundle: &PythonBundle,
    uri: &StorageUri,
) -> Result<()> {
    upload_source(session, &SourceContents::Files(bundle.files.clone()), uri).await
}

/// Packs `contents` as `sourcedir.tar.gz` and uploads it to `uri`.
async fn upload_source(
    session: &Session,
    contents: &SourceContents,
    uri: &StorageUri,
) -> Result<()> {
    let staging = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let archive = staging.path().join("sourcedir.tar.gz");
    let root = match contents {
        SourceContents::Dir(dir) => dir.clone(),
        SourceContents::File(file) => {
            let root = staging.path().join("src");
            std::fs::create_dir(&root).map_err(|e| Error::io(&root, e))?;
            let name = file.file_name().unwrap_or_default();
            std::fs::copy(file, root.join(name)).map_err(|e| Error::io(file, e))?;
            root
        }
        SourceContents::Files(files) => {
            let root = staging.path().join("src");
            for (rel, bytes) in files {
                let path = root.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
            }
            root
        }
    };
    let (root2, archive2) = (root.clone(), archive.clone());
    tokio::task::spawn_blocking(move || sagemaker_core::artifact::pack_dir(&root2, &archive2))
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("packing the source failed: {e}"),
            )
        })??;
    session.store().put_file(&archive, uri).await?;
    tracing::info!(uri = %uri, "uploaded the job's source");
    Ok(())
}
