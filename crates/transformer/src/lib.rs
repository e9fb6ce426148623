//! `sagemaker-transformer`: batch transform with [`Transformer`] (the Python SDK's
//! `sagemaker.transformer.Transformer`).
//!
//! `transform` validates everything the service would refuse (filters, join rules, payload
//! and concurrency limits) before any job starts, then sends `CreateTransformJob`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sagemaker_core::error::context;
use sagemaker_core::jsonpath::JsonPath;
use sagemaker_core::spec::*;
use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri, WaitConfig, names};

/// The media types `DataProcessing` works with.
const PROCESSABLE: &[&str] = &["text/csv", "application/json", "application/jsonlines"];
/// SageMaker's limit on `MaxPayloadInMB` and on `MaxConcurrentTransforms × MaxPayloadInMB`.
const PAYLOAD_LIMIT_MB: u32 = 100;

/// Arguments of [`Transformer::transform`] (the Python SDK's `transform(...)` keywords).
#[must_use]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransformArgs {
    /// `S3Prefix` (default) or `ManifestFile`.
    pub data_type: S3DataType,
    /// The MIME type of the input (`ContentType`), sent to the model.
    pub content_type: Option<String>,
    /// `Gzip` inputs are decompressed first.
    pub compression_type: CompressionType,
    /// `Line` splits records on newlines; `None` (default) sends each file whole.
    pub split_type: SplitType,
    /// JSONPath selecting what each record sends to the model (e.g. `$[1:]`).
    pub input_filter: Option<String>,
    /// JSONPath selecting what is written from each (joined) record (e.g. `$[0,-1]`).
    pub output_filter: Option<String>,
    /// `Input` joins each prediction to its input record.
    pub join_source: JoinSource,
    /// An explicit job name.
    pub job_name: Option<String>,
    /// Wait for the job to end (default true).
    pub wait: bool,
    /// How to wait.
    pub wait_config: WaitConfig,
    /// Print the job's log to stderr once it ends (default false).
    pub logs: bool,
}

impl Default for TransformArgs {
    fn default() -> Self {
        TransformArgs {
            data_type: S3DataType::S3Prefix,
            content_type: None,
            compression_type: CompressionType::None,
            split_type: SplitType::None,
            input_filter: None,
            output_filter: None,
            join_source: JoinSource::None,
            job_name: None,
            wait: true,
            wait_config: WaitConfig::default(),
            logs: false,
        }
    }
}

impl TransformArgs {
    /// Defaults: `S3Prefix`, no compression, no split, no filters, wait.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the data type.
    pub fn data_type(mut self, t: S3DataType) -> Self {
        self.data_type = t;
        self
    }
    /// Sets the content type.
    pub fn content_type(mut self, ct: impl Into<String>) -> Self {
        self.content_type = Some(ct.into());
        self
    }
    /// Sets the compression.
    pub fn compression_type(mut self, c: CompressionType) -> Self {
        self.compression_type = c;
        self
    }
    /// Sets the split type.
    pub fn split_type(mut self, s: SplitType) -> Self {
        self.split_type = s;
        self
    }
    /// Sets the input filter.
    pub fn input_filter(mut self, f: impl Into<String>) -> Self {
        self.input_filter = Some(f.into());
        self
    }
    /// Sets the output filter.
    pub fn output_filter(mut self, f: impl Into<String>) -> Self {
        self.output_filter = Some(f.into());
        self
    }
    /// Sets the join source.
    pub fn join_source(mut self, j: JoinSource) -> Self {
        self.join_source = j;
        self
    }
    /// Sets the job name.
    pub fn job_name(mut self, n: impl Into<String>) -> Self {
        self.job_name = Some(n.into());
        self
    }
    /// Whether to wait.
    pub fn wait(mut self, w: bool) -> Self {
        self.wait = w;
        self
    }
    /// How to wait.
    pub fn wait_config(mut self, w: WaitConfig) -> Self {
        self.wait_config = w;
        self
    }
    /// Print the job's log to stderr once it ends.
    pub fn logs(mut self, logs: bool) -> Self {
        self.logs = logs;
        self
    }
}

/// A handle on a transform job.
#[derive(Debug, Clone)]
pub struct TransformJob {
    name: String,
    session: Session,
}

impl TransformJob {
    /// A handle on an existing job (no call is made).
    pub fn new(name: impl Into<String>, session: Session) -> Self {
        TransformJob {
            name: name.into(),
            session,
        }
    }

    /// The job name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `DescribeTransformJob`.
    pub async fn describe(&self) -> Result<TransformJobDescription> {
        self.session
            .backend()
            .describe_transform_job(&self.name)
            .await
    }

    /// Waits until the job ends: `Completed`/`Stopped` return the description, `Failed` is
    /// [`ErrorKind::JobFailed`] with the reason (naming the file and record).
    pub async fn wait(&self, wait: &WaitConfig) -> Result<TransformJobDescription> {
        let d = self
            .session
            .wait_for_transform_job(&self.name, wait)
            .await?;
        if d.transform_job_status == TransformJobStatus::Failed {
            let reason = d
                .failure_reason
                .clone()
                .unwrap_or_else(|| "(no reason given)".into());
            let tail = self.logs().await.unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(20).collect();
            return Err(Error::new(
                ErrorKind::JobFailed,
                format!(
                    "Error for Transform job {}: Failed. Reason: {reason}",
                    self.name
                ),
            )
            .with_context(context::JOB_NAME, self.name.clone())
            .with_context(context::STATUS, "Failed")
            .with_context(context::FAILURE_REASON, reason)
            .with_context(
                context::LOG_TAIL,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            ));
        }
        Ok(d)
    }

    /// `StopTransformJob`.
    pub async fn stop(&self) -> Result<()> {
        self.session.backend().stop_transform_job(&self.name).await
    }

    /// The job's log.
    pub async fn logs(&self) -> Result<String> {
        self.session.backend().transform_job_logs(&self.name).await
    }
}

/// Builds a [`Transformer`]; [`TransformerBuilder::build`] validates.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct TransformerBuilder {
    model_name: Option<String>,
    instance_count: Option<u32>,
    instance_type: Option<String>,
    strategy: Option<BatchStrategy>,
    assemble_with: Option<AssembleWith>,
    output_path: Option<String>,
    output_kms_key: Option<String>,
    accept: Option<String>,
    max_concurrent_transforms: Option<u32>,
    max_payload: Option<u32>,
    env: BTreeMap<String, String>,
    base_transform_job_name: Option<String>,
    tags: Vec<Tag>,
    session: Option<Session>,
}

impl TransformerBuilder {
    /// The model to run (required; created already).
    pub fn model_name(mut self, n: impl Into<String>) -> Self {
        self.model_name = Some(n.into());
        self
    }
    /// Instances (default 1); with `max_concurrent_transforms` it sets the parallelism.
    pub fn instance_count(mut self, n: u32) -> Self {
        self.instance_count = Some(n);
        self
    }
    /// The instance type (required).
    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = Some(t.into());
        self
    }
    /// `MultiRecord` or `SingleRecord`.
    pub fn strategy(mut self, s: BatchStrategy) -> Self {
        self.strategy = Some(s);
        self
    }
    /// `Line` or `None`.
    pub fn assemble_with(mut self, a: AssembleWith) -> Self {
        self.assemble_with = Some(a);
        self
    }
    /// Where `<input>.out` files go (default `s3://{default bucket}/{job name}`).
    pub fn output_path(mut self, p: impl Into<String>) -> Self {
        self.output_path = Some(p.into());
        self
    }
    /// KMS key of the output.
    pub fn output_kms_key(mut self, k: impl Into<String>) -> Self {
        self.output_kms_key = Some(k.into());
        self
    }
    /// The Accept header sent with every request (the output format).
    pub fn accept(mut self, a: impl Into<String>) -> Self {
        self.accept = Some(a.into());
        self
    }
    /// Parallel requests per instance.
    pub fn max_concurrent_transforms(mut self, n: u32) -> Self {
        self.max_concurrent_transforms = Some(n);
        self
    }
    /// The payload limit in MB (default 6; 0 = unlimited).
    pub fn max_payload(mut self, mb: u32) -> Self {
        self.max_payload = Some(mb);
        self
    }
    /// Sets an environment variable of the container.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }
    /// The prefix of generated job names (default: the model image's repository name).
    pub fn base_transform_job_name(mut self, b: impl Into<String>) -> Self {
        self.base_transform_job_name = Some(b.into());
        self
    }
    /// Sets the base job name only if none was set (used by `Model::transformer`).
    pub fn default_base_transform_job_name(mut self, b: impl Into<String>) -> Self {
        if self.base_transform_job_name.is_none() {
            self.base_transform_job_name = Some(b.into());
        }
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.push(Tag::new(k, v));
        self
    }
    /// The session (required).
    pub fn session(mut self, s: Session) -> Self {
        self.session = Some(s);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Transformer> {
        let session = self
            .session
            .ok_or_else(|| Error::invalid_config("session", "required"))?;
        let model_name = self
            .model_name
            .ok_or_else(|| Error::invalid_config("model_name", "required"))?;
        let instance_type = self
            .instance_type
            .filter(|t| !t.trim().is_empty())
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
        if let Some(mb) = self.max_payload
            && mb > PAYLOAD_LIMIT_MB
        {
            return Err(Error::invalid_config(
                "max_payload",
                format!("{mb} MB is above the limit of {PAYLOAD_LIMIT_MB}"),
            ));
        }
        if let (Some(c), Some(mb)) = (self.max_concurrent_transforms, self.max_payload)
            && c.saturating_mul(mb) > PAYLOAD_LIMIT_MB
        {
            return Err(Error::invalid_config(
                "max_concurrent_transforms",
                format!(
                    "MaxConcurrentTransforms × MaxPayloadInMB = {c} × {mb} is above {PAYLOAD_LIMIT_MB}"
                ),
            ));
        }
        if self.env.len() > 16 {
            return Err(Error::invalid_config(
                "env",
                "at most 16 environment variables",
            ));
        }
        let output_path = self
            .output_path
            .map(|p| {
                p.parse::<StorageUri>()
                    .map_err(|e| Error::invalid_config("output_path", e.message()))
            })
            .transpose()?;
        if let Some(base) = &self.base_transform_job_name {
            names::validate_name("base transform job", base)
                .map_err(|e| Error::invalid_config("base_transform_job_name", e.message()))?;
        }
        Ok(Transformer {
            inner: Arc::new(Inner {
                model_name,
                instance_count,
                instance_type,
                strategy: self.strategy,
                assemble_with: self.assemble_with,
                output_path,
                output_kms_key: self.output_kms_key,
                accept: self.accept,
                max_concurrent_transforms: self.max_concurrent_transforms,
                max_payload: self.max_payload,
                env: self.env,
                base_transform_job_name: self.base_transform_job_name,
                tags: self.tags,
                session,
                latest: Mutex::new(None),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    model_name: String,
    instance_count: u32,
    instance_type: String,
    strategy: Option<BatchStrategy>,
    assemble_with: Option<AssembleWith>,
    output_path: Option<StorageUri>,
    output_kms_key: Option<String>,
    accept: Option<String>,
    max_concurrent_transforms: Option<u32>,
    max_payload: Option<u32>,
    env: BTreeMap<String, String>,
    base_transform_job_name: Option<String>,
    tags: Vec<Tag>,
    session: Session,
    latest: Mutex<Option<TransformJob>>,
}

/// Runs batch transform jobs for one model. Cheap to clone.
///
/// ```no_run
/// # async fn run(session: sagemaker_core::Session) -> sagemaker_core::Result<()> {
/// use sagemaker_core::spec::{AssembleWith, BatchStrategy, SplitType};
/// use sagemaker_transformer::{TransformArgs, Transformer};
///
/// let transformer = Transformer::builder()
///     .model_name("iris-model")
///     .instance_type("ml.m5.large")
///     .strategy(BatchStrategy::MultiRecord)
///     .assemble_with(AssembleWith::Line)
///     .accept("text/csv")
///     .session(session)
///     .build()?;
/// let job = transformer
///     .transform(
///         "s3://sagemaker-local/batch/",
///         TransformArgs::new().content_type("text/csv").split_type(SplitType::Line).input_filter("$[0,1,2,3]"),
///     )
///     .await?;
/// println!("{:?}", job.describe().await?.transform_job_status);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Transformer {
    inner: Arc<Inner>,
}

impl Transformer {
    /// A builder.
    pub fn builder() -> TransformerBuilder {
        TransformerBuilder::default()
    }

    /// The model it runs.
    pub fn model_name(&self) -> &str {
        &self.inner.model_name
    }

    /// The latest job started or attached.
    pub fn latest_transform_job(&self) -> Option<TransformJob> {
        self.inner
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Builds the `CreateTransformJob` request, validating what the service would refuse:
    /// malformed or unsupported filters (the error points at the character), data
    /// processing with a content type other than CSV, JSON or JSON Lines, a CSV join whose
    /// output is not assembled by line, an output path inside the input path.
    pub async fn transform_job_spec(
        &self,
        data: &str,
        args: &TransformArgs,
    ) -> Result<TransformJobSpec> {
        let c = &self.inner;
        let session = &c.session;
        let input: StorageUri = data
            .parse()
            .map_err(|e: Error| Error::invalid_config("data", e.message()))?;
        if !input.is_s3() && !session.capabilities().file_uris {
            return Err(Error::invalid_config(
                "data",
                format!("Invalid S3 URI: {data}"),
            ));
        }
        let input_filter = args
            .input_filter
            .as_deref()
            .map(JsonPath::parse)
            .transpose()?;
        let output_filter = args
            .output_filter
            .as_deref()
            .map(JsonPath::parse)
            .transpose()?;
        let processing = input_filter.is_some()
            || output_filter.is_some()
            || args.join_source == JoinSource::Input;
        if processing {
            let ct = args.content_type.as_deref().unwrap_or("");
            let accept = c.accept.as_deref().unwrap_or(ct);
            for (field, v) in [("content_type", ct), ("accept", accept)] {
                if !PROCESSABLE.contains(&base_type(v)) {
                    return Err(Error::invalid_config(
                        field,
                        format!(
                            "input_filter, output_filter and join_source need text/csv, application/json or application/jsonlines; got '{v}'"
                        ),
                    ));
                }
            }
            // SageMaker joins only when Accept and ContentType match; JSON and JSON Lines
            // records parse alike, so they count as one format here.
            let family = |v: &str| base_type(v).trim_end_matches("lines").to_string();
            if args.join_source == JoinSource::Input && family(ct) != family(accept) {
                return Err(Error::invalid_config(
                    "accept",
                    format!(
                        "join_source = Input needs the values for Accept and ContentType to \
                         match; got accept '{accept}' for content_type '{ct}'"
                    ),
                ));
            }
            if base_type(ct) == "text/csv" {
                if let Some(f) = &input_filter
                    && !f.is_index_only()
                {
                    return Err(Error::invalid_config(
                        "input_filter",
                        format!(
                            "'{}' selects by name, but CSV records only have positions (use e.g. $[1:])",
                            f.as_str()
                        ),
                    ));
                }
                if args.join_source == JoinSource::Input
                    && c.assemble_with != Some(AssembleWith::Line)
                {
                    return Err(Error::invalid_config(
                        "assemble_with",
                        "joining CSV input to the output needs assemble_with = Line",
                    ));
                }
                if args.split_type != SplitType::Line {
                    return Err(Error::invalid_config(
                        "split_type",
                        "data processing of CSV needs split_type = Line",
                    ));
                }
            }
        }
        if c.strategy.is_some()
            && args.split_type == SplitType::None
            && c.strategy != Some(BatchStrategy::SingleRecord)
        {
            // MultiRecord batching needs records to batch; SageMaker sends whole files then.
            tracing::debug!(target: "sagemaker", "strategy MultiRecord with split_type None sends whole files");
        }
        let job_name = match &args.job_name {
            Some(n) => {
                names::validate_name("transform job", n)?;
                n.clone()
            }
            None => {
                let base = match &c.base_transform_job_name {
                    Some(b) => b.clone(),
                    None => {
                        let model = session.backend().describe_model(&c.model_name).await?;
                        names::base_name_from_image(&model.primary_container.image)
                    }
                };
                names::name_from_base(&base)
            }
        };
        let output = match &c.output_path {
            Some(p) => p.clone(),
            None => StorageUri::s3(session.default_bucket().await?, job_name.clone()),
        };
        let (in_s, out_s) = (input.to_string(), output.to_string());
        let in_prefix = if in_s.ends_with('/') {
            in_s.clone()
        } else {
            format!("{in_s}/")
        };
        if out_s == in_s || out_s.starts_with(&in_prefix) {
            return Err(Error::invalid_config(
                "output_path",
                format!(
                    "the output path {out_s} is inside the input {in_s}; the job would read its own output"
                ),
            ));
        }
        Ok(TransformJobSpec {
            transform_job_name: job_name,
            model_name: c.model_name.clone(),
            max_concurrent_transforms: c.max_concurrent_transforms,
            max_payload_in_mb: c.max_payload,
            batch_strategy: c.strategy,
            environment: c.env.clone(),
            transform_input: TransformInput {
                data_source: TransformDataSource {
                    s3_data_source: TransformS3DataSource {
                        s3_data_type: args.data_type,
                        s3_uri: input,
                    },
                },
                content_type: args.content_type.clone(),
                compression_type: args.compression_type,
                split_type: args.split_type,
            },
            transform_output: TransformOutput {
                s3_output_path: output,
                accept: c.accept.clone(),
                assemble_with: c.assemble_with.unwrap_or(AssembleWith::None),
                kms_key_id: c.output_kms_key.clone(),
            },
            transform_resources: TransformResources {
                instance_type: c.instance_type.clone(),
                instance_count: c.instance_count,
            },
            data_processing: processing.then(|| DataProcessing {
                input_filter: input_filter.map(|f| f.as_str().to_string()),
                output_filter: output_filter.map(|f| f.as_str().to_string()),
                join_source: Some(args.join_source),
            }),
            tags: c.tags.clone(),
        })
    }

    /// Starts a transform job on `data` (an `s3://` prefix, or `file://` locally) and, unless
    /// `args.wait` is false, waits for it ([`ErrorKind::JobFailed`] if it fails).
    pub async fn transform(&self, data: &str, args: TransformArgs) -> Result<TransformJob> {
        let spec = self.transform_job_spec(data, &args).await?;
        let name = spec.transform_job_name.clone();
        self.inner
            .session
            .backend()
            .create_transform_job(spec)
            .await?;
        let job = TransformJob::new(name, self.inner.session.clone());
        *self.inner.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(job.clone());
        if args.wait {
            let waited = job.wait(&args.wait_config).await;
            if args.logs {
                eprint!("{}", job.logs().await.unwrap_or_default());
            }
            waited?;
        }
        Ok(job)
    }

    /// Waits for the latest job.
    pub async fn wait(&self) -> Result<TransformJobDescription> {
        self.require_latest()?.wait(&WaitConfig::default()).await
    }

    /// Stops the latest job.
    pub async fn stop(&self) -> Result<()> {
        self.require_latest()?.stop().await
    }

    /// Describes the latest job.
    pub async fn describe(&self) -> Result<TransformJobDescription> {
        self.require_latest()?.describe().await
    }

    fn require_latest(&self) -> Result<TransformJob> {
        self.latest_transform_job().ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "this transformer has no job yet: call transform() or attach() first",
            )
        })
    }

    /// `DeleteModel` of the transformer's model.
    pub async fn delete_model(&self) -> Result<()> {
        self.inner
            .session
            .backend()
            .delete_model(&self.inner.model_name)
            .await
    }

    /// Re-creates a transformer from an existing job (any process).
    pub async fn attach(job_name: &str, session: Session) -> Result<Transformer> {
        let d = session.backend().describe_transform_job(job_name).await?;
        let s = &d.spec;
        let mut b = Transformer::builder()
            .model_name(s.model_name.clone())
            .instance_count(s.transform_resources.instance_count)
            .instance_type(s.transform_resources.instance_type.clone())
            .assemble_with(s.transform_output.assemble_with)
            .output_path(s.transform_output.s3_output_path.to_string())
            .base_transform_job_name(names::base_from_name(job_name).to_string())
            .session(session.clone());
        if let Some(v) = s.batch_strategy {
            b = b.strategy(v);
        }
        if let Some(v) = &s.transform_output.accept {
            b = b.accept(v.clone());
        }
        if let Some(v) = s.max_concurrent_transforms {
            b = b.max_concurrent_transforms(v);
        }
        if let Some(v) = s.max_payload_in_mb {
            b = b.max_payload(v);
        }
        for (k, v) in &s.environment {
            b = b.env(k.clone(), v.clone());
        }
        let t = b.build()?;
        *t.inner.latest.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(TransformJob::new(job_name, session));
        Ok(t)
    }
}

/// `text/csv; charset=utf-8` → `text/csv`.
fn base_type(ct: &str) -> &str {
    ct.split(';').next().unwrap_or("").trim()
}
