//! Request specs and descriptions that mirror the SageMaker API shapes.
//!
//! Field names are the API's in Rust case and serialize in the API's `PascalCase`, so a
//! persisted record reads like a `Describe*` response. Specs are what a caller sends (built by
//! the user-facing types); descriptions are what a backend reports.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::uri::StorageUri;

/// A timestamp as the API reports it (UTC, millisecond precision, RFC 3339 when serialized).
pub type Timestamp = OffsetDateTime;

macro_rules! api_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The API's spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::Error::new(
                        crate::ErrorKind::InvalidConfig,
                        format!(
                            "'{s}' is not a valid {}; expected one of: {}",
                            stringify!($name),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

api_enum!(
    /// `TrainingJobStatus`.
    TrainingJobStatus {
        /// The job is running.
        InProgress => "InProgress",
        /// The job finished and uploaded its model.
        Completed => "Completed",
        /// The job failed; see `FailureReason`.
        Failed => "Failed",
        /// A stop was requested.
        Stopping => "Stopping",
        /// The job was stopped.
        Stopped => "Stopped",
    }
);

impl TrainingJobStatus {
    /// Whether the job can no longer change state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TrainingJobStatus::Completed | TrainingJobStatus::Failed | TrainingJobStatus::Stopped
        )
    }
}

api_enum!(
    /// `SecondaryStatus` of a training job: the finer-grained phase.
    SecondaryStatus {
        /// Preparing the job.
        Starting => "Starting",
        /// Instances are being launched.
        LaunchingMLInstances => "LaunchingMLInstances",
        /// Input data is being made available in the container.
        Downloading => "Downloading",
        /// The container is training.
        Training => "Training",
        /// The model artifact is being uploaded.
        Uploading => "Uploading",
        /// Finished successfully.
        Completed => "Completed",
        /// Failed.
        Failed => "Failed",
        /// Stopping.
        Stopping => "Stopping",
        /// Stopped.
        Stopped => "Stopped",
        /// Ran past `MaxRuntimeInSeconds`.
        MaxRuntimeExceeded => "MaxRuntimeExceeded",
        /// Interrupted (spot).
        Interrupted => "Interrupted",
    }
);

api_enum!(
    /// `TrainingInputMode`.
    TrainingInputMode {
        /// Files are made available before training starts.
        File => "File",
        /// Data is streamed through named pipes.
        Pipe => "Pipe",
        /// Files are streamed on demand.
        FastFile => "FastFile",
    }
);

api_enum!(
    /// `S3DataType` of a data source.
    S3DataType {
        /// Every object under the key prefix.
        S3Prefix => "S3Prefix",
        /// A manifest file listing the objects.
        ManifestFile => "ManifestFile",
        /// An augmented manifest (JSON Lines).
        AugmentedManifestFile => "AugmentedManifestFile",
    }
);

api_enum!(
    /// `S3DataDistributionType`.
    S3DataDistributionType {
        /// Every instance gets all the data.
        FullyReplicated => "FullyReplicated",
        /// Each instance gets a shard, by object.
        ShardedByS3Key => "ShardedByS3Key",
    }
);

api_enum!(
    /// `CompressionType` of an input.
    CompressionType {
        /// Not compressed.
        None => "None",
        /// Gzip-compressed.
        Gzip => "Gzip",
    }
);

api_enum!(
    /// `RecordWrapperType` of a channel.
    RecordWrapperType {
        /// No wrapping.
        None => "None",
        /// RecordIO wrapping.
        RecordIO => "RecordIO",
    }
);

/// A key/value tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// `MetricDefinition`: a metric scraped from the training log with a regular expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDefinition {
    /// The metric's name.
    pub name: String,
    /// The regular expression whose first group is the value.
    pub regex: String,
}

/// `AlgorithmSpecification`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlgorithmSpecification {
    /// The training image URI (on the local backend: the name a container is registered under).
    pub training_image: String,
    /// The job-level input mode.
    pub training_input_mode: TrainingInputMode,
    /// Metrics to scrape from the log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric_definitions: Vec<MetricDefinition>,
    /// `ContainerEntrypoint`: the program (and its first arguments) the container runs
    /// instead of the image's own entry point. Empty: the image's entry point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_entrypoint: Vec<String>,
    /// `ContainerArguments`: the arguments given to the entry point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_arguments: Vec<String>,
}

/// `S3DataSource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3DataSource {
    /// Prefix or manifest.
    pub s3_data_type: S3DataType,
    /// The data's location (`s3://` or, on the local backend, `file://`).
    #[serde(rename = "S3Uri")]
    pub s3_uri: StorageUri,
    /// How data is spread over instances.
    pub s3_data_distribution_type: S3DataDistributionType,
}

/// `DataSource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataSource {
    /// The S3 (or S3-shaped) source.
    pub s3_data_source: S3DataSource,
}

/// `Channel`: one named input of a training job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Channel {
    /// The channel name (`training`, `validation`, ...).
    pub channel_name: String,
    /// Where the data is.
    pub data_source: DataSource,
    /// The MIME type of the data, passed to the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The compression of the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_type: Option<CompressionType>,
    /// The record wrapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_wrapper_type: Option<RecordWrapperType>,
    /// A per-channel input mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<TrainingInputMode>,
}

/// `OutputDataConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputDataConfig {
    /// Where `{job}/output/model.tar.gz` is written.
    pub s3_output_path: StorageUri,
    /// KMS key for the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

/// `ResourceConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceConfig {
    /// How many instances.
    pub instance_count: u32,
    /// The instance type (e.g. `ml.m5.large`, or `local`).
    pub instance_type: String,
    /// The attached volume in GB (default 30).
    #[serde(rename = "VolumeSizeInGB")]
    pub volume_size_in_gb: u32,
}

/// `StoppingCondition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoppingCondition {
    /// The longest the job may run (default 86 400 s).
    pub max_runtime_in_seconds: u64,
}

/// `VpcConfig`: the subnets and security groups a job's or model's containers run in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    /// Security group ids (`sg-...`).
    pub security_group_ids: Vec<String>,
    /// Subnet ids (`subnet-...`).
    pub subnets: Vec<String>,
}

/// `CreateTrainingJob` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrainingJobSpec {
    /// The job name (unique per account and region, or per local root).
    pub training_job_name: String,
    /// The image and input mode.
    pub algorithm_specification: AlgorithmSpecification,
    /// The IAM role (optional on the local backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The input channels.
    #[serde(default)]
    pub input_data_config: Vec<Channel>,
    /// Where artifacts go.
    pub output_data_config: OutputDataConfig,
    /// Instances.
    pub resource_config: ResourceConfig,
    /// Time limit.
    pub stopping_condition: StoppingCondition,
    /// Hyperparameters, as the API carries them: string to string.
    #[serde(default)]
    pub hyper_parameters: BTreeMap<String, String>,
    /// Environment variables for the container.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The VPC the training containers run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `ModelArtifacts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelArtifacts {
    /// The `model.tar.gz` location.
    pub s3_model_artifacts: StorageUri,
}

/// `SecondaryStatusTransition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SecondaryStatusTransition {
    /// The phase.
    pub status: SecondaryStatus,
    /// When it began.
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: Timestamp,
    /// When it ended (unset while current).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub end_time: Option<Timestamp>,
    /// What happened in it.
    #[serde(default)]
    pub status_message: String,
}

impl SecondaryStatusTransition {
    /// A transition that starts now.
    pub fn new(status: SecondaryStatus, start_time: Timestamp, message: impl Into<String>) -> Self {
        SecondaryStatusTransition {
            status,
            start_time,
            end_time: None,
            status_message: message.into(),
        }
    }
}

/// `MetricData`: a final metric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct MetricData {
    /// The metric's name, e.g. `validation:accuracy`.
    pub metric_name: String,
    /// The value.
    pub value: f64,
    /// When it was reported.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: Timestamp,
}

impl MetricData {
    /// A metric value.
    pub fn new(metric_name: impl Into<String>, value: f64, timestamp: Timestamp) -> Self {
        MetricData {
            metric_name: metric_name.into(),
            value,
            timestamp,
        }
    }
}

/// `DescribeTrainingJob` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TrainingJobDescription {
    /// The job name.
    pub training_job_name: String,
    /// The job ARN (`arn:aws:sagemaker:{region}:{account}:training-job/{name}`).
    pub training_job_arn: String,
    /// The status.
    pub training_job_status: TrainingJobStatus,
    /// The current phase.
    pub secondary_status: SecondaryStatus,
    /// Why the job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The artifact, once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_artifacts: Option<ModelArtifacts>,
    /// As requested.
    pub algorithm_specification: AlgorithmSpecification,
    /// As requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// As requested.
    #[serde(default)]
    pub input_data_config: Vec<Channel>,
    /// As requested.
    pub output_data_config: OutputDataConfig,
    /// As requested.
    pub resource_config: ResourceConfig,
    /// As requested.
    pub stopping_condition: StoppingCondition,
    /// As requested.
    #[serde(default)]
    pub hyper_parameters: BTreeMap<String, String>,
    /// As requested.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// When the job was created.
    #[serde(with = "time::serde::rfc3339")]
    pub creation_time: Timestamp,
    /// When training started.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub training_start_time: Option<Timestamp>,
    /// When training ended.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub training_end_time: Option<Timestamp>,
    /// When the record last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified_time: Timestamp,
    /// Every phase the job went through.
    #[serde(default)]
    pub secondary_status_transitions: Vec<SecondaryStatusTransition>,
    /// Whole seconds of training (rounded up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_time_in_seconds: Option<u64>,
    /// Whole seconds billed (rounded up; the local backend bills nothing but reports the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_time_in_seconds: Option<u64>,
    /// The final value of each metric the job reported.
    #[serde(default)]
    pub final_metric_data_list: Vec<MetricData>,
    /// As requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// The job's tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl TrainingJobDescription {
    /// A fresh `InProgress`/`Starting` description of `spec`, created at `now`.
    pub fn from_spec(spec: &TrainingJobSpec, arn: String, now: Timestamp) -> Self {
        TrainingJobDescription {
            training_job_name: spec.training_job_name.clone(),
            training_job_arn: arn,
            training_job_status: TrainingJobStatus::InProgress,
            secondary_status: SecondaryStatus::Starting,
            failure_reason: None,
            model_artifacts: None,
            algorithm_specification: spec.algorithm_specification.clone(),
            role_arn: spec.role_arn.clone(),
            input_data_config: spec.input_data_config.clone(),
            output_data_config: spec.output_data_config.clone(),
            resource_config: spec.resource_config.clone(),
            stopping_condition: spec.stopping_condition.clone(),
            hyper_parameters: spec.hyper_parameters.clone(),
            environment: spec.environment.clone(),
            creation_time: now,
            training_start_time: None,
            training_end_time: None,
            last_modified_time: now,
            secondary_status_transitions: vec![SecondaryStatusTransition::new(
                SecondaryStatus::Starting,
                now,
                "Preparing the instances for training",
            )],
            training_time_in_seconds: None,
            billable_time_in_seconds: None,
            final_metric_data_list: Vec::new(),
            vpc_config: spec.vpc_config.clone(),
            tags: spec.tags.clone(),
        }
    }

    /// The final value of a metric by name.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.final_metric_data_list
            .iter()
            .find(|m| m.metric_name == name)
            .map(|m| m.value)
    }

    /// Training duration from start to end, with sub-second precision, once the job has ended.
    pub fn training_duration(&self) -> Option<std::time::Duration> {
        let (start, end) = (self.training_start_time?, self.training_end_time?);
        (end - start).try_into().ok()
    }
}

/// One row of `ListTrainingJobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TrainingJobSummary {
    /// The job name.
    pub training_job_name: String,
    /// The job ARN.
    pub training_job_arn: String,
    /// The status.
    pub training_job_status: TrainingJobStatus,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub creation_time: Timestamp,
    /// When training ended.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub training_end_time: Option<Timestamp>,
    /// When the record last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified_time: Timestamp,
}

impl TrainingJobSummary {
    /// A summary with no end time, last modified at creation (backends build these).
    pub fn new(
        training_job_name: impl Into<String>,
        training_job_arn: impl Into<String>,
        training_job_status: TrainingJobStatus,
        creation_time: Timestamp,
    ) -> Self {
        TrainingJobSummary {
            training_job_name: training_job_name.into(),
            training_job_arn: training_job_arn.into(),
            training_job_status,
            creation_time,
            training_end_time: None,
            last_modified_time: creation_time,
        }
    }
}

impl From<&TrainingJobDescription> for TrainingJobSummary {
    fn from(d: &TrainingJobDescription) -> Self {
        TrainingJobSummary {
            training_job_name: d.training_job_name.clone(),
            training_job_arn: d.training_job_arn.clone(),
            training_job_status: d.training_job_status,
            creation_time: d.creation_time,
            training_end_time: d.training_end_time,
            last_modified_time: d.last_modified_time,
        }
    }
}

/// Filters of `ListTrainingJobs` (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListTrainingJobs {
    /// Only names containing this string.
    pub name_contains: Option<String>,
    /// Only jobs with this status.
    pub status_equals: Option<TrainingJobStatus>,
    /// At most this many rows.
    pub max_results: Option<usize>,
}

impl ListTrainingJobs {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only names containing `s`.
    pub fn name_contains(mut self, s: impl Into<String>) -> Self {
        self.name_contains = Some(s.into());
        self
    }

    /// Only jobs with `status`.
    pub fn status_equals(mut self, status: TrainingJobStatus) -> Self {
        self.status_equals = Some(status);
        self
    }

    /// At most `n` rows.
    pub fn max_results(mut self, n: usize) -> Self {
        self.max_results = Some(n);
        self
    }

    /// Whether `summary` passes the filters (backends apply this to each job).
    pub fn matches(&self, summary: &TrainingJobSummary) -> bool {
        self.name_contains
            .as_ref()
            .is_none_or(|s| summary.training_job_name.contains(s.as_str()))
            && self
                .status_equals
                .is_none_or(|s| s == summary.training_job_status)
    }
}

// ---- Models, endpoint configs, endpoints, invocations, transform jobs -------------------
// Declared with the whole control plane so backends and user-facing crates agree on shapes.

/// `ContainerDefinition` of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerDefinition {
    /// The serving image.
    pub image: String,
    /// The `model.tar.gz` to load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_data_url: Option<StorageUri>,
    /// Environment variables for the container.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

/// `CreateModel` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelSpec {
    /// The model name.
    pub model_name: String,
    /// The container.
    pub primary_container: ContainerDefinition,
    /// The IAM role (optional on the local backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// The VPC the serving containers run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `DescribeModel` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ModelDescription {
    /// The model name.
    pub model_name: String,
    /// The model ARN.
    pub model_arn: String,
    /// The container.
    pub primary_container: ContainerDefinition,
    /// The IAM role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub creation_time: Timestamp,
}

impl ModelDescription {
    /// A description (backends build these).
    pub fn new(
        model_name: impl Into<String>,
        model_arn: impl Into<String>,
        primary_container: ContainerDefinition,
        execution_role_arn: Option<String>,
        creation_time: Timestamp,
    ) -> Self {
        ModelDescription {
            model_name: model_name.into(),
            model_arn: model_arn.into(),
            primary_container,
            execution_role_arn,
            creation_time,
        }
    }
}

/// `ProductionVariant` of an endpoint config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductionVariant {
    /// The variant name (`AllTraffic` by default).
    pub variant_name: String,
    /// The model it serves.
    pub model_name: String,
    /// Instances (replicas on the local backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_instance_count: Option<u32>,
    /// The instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// The traffic weight.
    pub initial_variant_weight: f32,
    /// `ServerlessConfig`: a serverless variant has this instead of an instance type and
    /// count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serverless_config: Option<ProductionVariantServerlessConfig>,
}

/// `ProductionVariantServerlessConfig`: memory and concurrency of a serverless variant.
///
/// API limits: `MemorySizeInMB` 1024–6144 in steps of 1024; `MaxConcurrency` 1–200;
/// `ProvisionedConcurrency` 1–200 and at most `MaxConcurrency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductionVariantServerlessConfig {
    /// The memory of each concurrent worker, in MB.
    #[serde(rename = "MemorySizeInMB")]
    pub memory_size_in_mb: u32,
    /// The most requests served at once; more are refused (`ThrottlingException`).
    pub max_concurrency: u32,
    /// Workers kept warm (no cold start) even when idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency: Option<u32>,
}

impl ProductionVariantServerlessConfig {
    /// The smallest memory size the API accepts.
    pub const MIN_MEMORY_MB: u32 = 1024;
    /// The largest memory size the API accepts.
    pub const MAX_MEMORY_MB: u32 = 6144;
    /// The largest `MaxConcurrency` (and `ProvisionedConcurrency`) the API accepts.
    pub const MAX_CONCURRENCY: u32 = 200;

    /// Checks the API's limits; the error names the field in the API's spelling.
    pub fn validate(&self) -> crate::Result<()> {
        let m = self.memory_size_in_mb;
        if !(Self::MIN_MEMORY_MB..=Self::MAX_MEMORY_MB).contains(&m) || !m.is_multiple_of(1024) {
            return Err(crate::Error::new(
                crate::ErrorKind::Validation,
                format!(
                    "ServerlessConfig.MemorySizeInMB is {m}; it must be one of 1024, 2048, 3072, 4096, 5120, 6144"
                ),
            )
            .with_context(crate::error::context::FIELD, "MemorySizeInMB"));
        }
        let c = self.max_concurrency;
        if !(1..=Self::MAX_CONCURRENCY).contains(&c) {
            return Err(crate::Error::new(
                crate::ErrorKind::Validation,
                format!("ServerlessConfig.MaxConcurrency is {c}; it must be from 1 to 200"),
            )
            .with_context(crate::error::context::FIELD, "MaxConcurrency"));
        }
        if let Some(p) = self.provisioned_concurrency
            && !(1..=c).contains(&p)
        {
            return Err(crate::Error::new(
                crate::ErrorKind::Validation,
                format!(
                    "ServerlessConfig.ProvisionedConcurrency is {p}; it must be from 1 to MaxConcurrency ({c})"
                ),
            )
            .with_context(crate::error::context::FIELD, "ProvisionedConcurrency"));
        }
        Ok(())
    }
}

api_enum!(
    /// `AsyncNotificationTopicTypes`: which notifications carry the inference response.
    AsyncNotificationTopicType {
        /// The success topic.
        SuccessNotificationTopic => "SUCCESS_NOTIFICATION_TOPIC",
        /// The error topic.
        ErrorNotificationTopic => "ERROR_NOTIFICATION_TOPIC",
    }
);

/// `AsyncInferenceNotificationConfig`: where SageMaker announces results (SNS topics on AWS;
/// a callback on the local backend).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncInferenceNotificationConfig {
    /// The topic told of each success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_topic: Option<String>,
    /// The topic told of each failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_topic: Option<String>,
    /// Which topics' messages include the inference response.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_inference_response_in: Vec<AsyncNotificationTopicType>,
}

/// `AsyncInferenceOutputConfig`: where results and failures are written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncInferenceOutputConfig {
    /// KMS key for the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Where results are written (`{S3OutputPath}/{id}.out`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_output_path: Option<StorageUri>,
    /// Notifications of success and failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_config: Option<AsyncInferenceNotificationConfig>,
    /// Where failures are written (`{S3FailurePath}/{id}-error.out`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_failure_path: Option<StorageUri>,
}

/// `AsyncInferenceClientConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncInferenceClientConfig {
    /// Requests each instance runs at once (1–1000; the service picks when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_invocations_per_instance: Option<u32>,
}

/// `AsyncInferenceConfig` of an endpoint config: makes the endpoint asynchronous.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncInferenceConfig {
    /// Where results, failures and notifications go.
    pub output_config: AsyncInferenceOutputConfig,
    /// Concurrency per instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_config: Option<AsyncInferenceClientConfig>,
}

/// `CreateEndpointConfig` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfigSpec {
    /// The config name.
    pub endpoint_config_name: String,
    /// The variants.
    pub production_variants: Vec<ProductionVariant>,
    /// Makes the endpoint asynchronous (`InvokeEndpointAsync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_inference_config: Option<AsyncInferenceConfig>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `DescribeEndpointConfig` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EndpointConfigDescription {
    /// The config name.
    pub endpoint_config_name: String,
    /// The config ARN.
    pub endpoint_config_arn: String,
    /// The variants.
    pub production_variants: Vec<ProductionVariant>,
    /// As requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_inference_config: Option<AsyncInferenceConfig>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub creation_time: Timestamp,
}

impl EndpointConfigDescription {
    /// A description (backends build these).
    pub fn new(
        endpoint_config_name: impl Into<String>,
        endpoint_config_arn: impl Into<String>,
        production_variants: Vec<ProductionVariant>,
        creation_time: Timestamp,
    ) -> Self {
        EndpointConfigDescription {
            endpoint_config_name: endpoint_config_name.into(),
            endpoint_config_arn: endpoint_config_arn.into(),
            production_variants,
            async_inference_config: None,
            creation_time,
        }
    }

    /// The same description with an `AsyncInferenceConfig`.
    pub fn with_async_inference_config(mut self, config: Option<AsyncInferenceConfig>) -> Self {
        self.async_inference_config = config;
        self
    }
}

api_enum!(
    /// `EndpointStatus`.
    EndpointStatus {
        /// Being created.
        Creating => "Creating",
        /// Serving.
        InService => "InService",
        /// Switching to a new config.
        Updating => "Updating",
        /// A platform update.
        SystemUpdating => "SystemUpdating",
        /// Rolling back an update.
        RollingBack => "RollingBack",
        /// Not serving.
        OutOfService => "OutOfService",
        /// Being deleted.
        Deleting => "Deleting",
        /// Failed; see `FailureReason`.
        Failed => "Failed",
    }
);

/// `CreateEndpoint` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSpec {
    /// The endpoint name.
    pub endpoint_name: String,
    /// The config to serve.
    pub endpoint_config_name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `ProductionVariantSummary` of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ProductionVariantSummary {
    /// The variant name.
    pub variant_name: String,
    /// The current weight.
    pub current_weight: f32,
    /// The current instance count (0 for a serverless variant).
    pub current_instance_count: u32,
    /// `CurrentServerlessConfig` of a serverless variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_serverless_config: Option<ProductionVariantServerlessConfig>,
}

impl ProductionVariantSummary {
    /// A summary (backends build these).
    pub fn new(
        variant_name: impl Into<String>,
        current_weight: f32,
        current_instance_count: u32,
    ) -> Self {
        ProductionVariantSummary {
            variant_name: variant_name.into(),
            current_weight,
            current_instance_count,
            current_serverless_config: None,
        }
    }

    /// The same summary with a `CurrentServerlessConfig`.
    pub fn with_serverless_config(
        mut self,
        config: Option<ProductionVariantServerlessConfig>,
    ) -> Self {
        self.current_serverless_config = config;
        self
    }
}

/// `DescribeEndpoint` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EndpointDescription {
    /// The endpoint name.
    pub endpoint_name: String,
    /// The endpoint ARN.
    pub endpoint_arn: String,
    /// The config it serves.
    pub endpoint_config_name: String,
    /// The status.
    pub endpoint_status: EndpointStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The variants.
    #[serde(default)]
    pub production_variants: Vec<ProductionVariantSummary>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub creation_time: Timestamp,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified_time: Timestamp,
}

impl EndpointDescription {
    /// A description with no variants yet and no failure (backends build these).
    pub fn new(
        endpoint_name: impl Into<String>,
        endpoint_arn: impl Into<String>,
        endpoint_config_name: impl Into<String>,
        endpoint_status: EndpointStatus,
        creation_time: Timestamp,
    ) -> Self {
        EndpointDescription {
            endpoint_name: endpoint_name.into(),
            endpoint_arn: endpoint_arn.into(),
            endpoint_config_name: endpoint_config_name.into(),
            endpoint_status,
            failure_reason: None,
            production_variants: Vec::new(),
            creation_time,
            last_modified_time: creation_time,
        }
    }
}

/// `InvokeEndpoint` request.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InvokeEndpointRequest {
    /// The endpoint name.
    pub endpoint_name: String,
    /// The payload.
    pub body: Vec<u8>,
    /// The payload's MIME type.
    pub content_type: Option<String>,
    /// The wanted response MIME type.
    pub accept: Option<String>,
    /// `X-Amzn-SageMaker-Custom-Attributes`.
    pub custom_attributes: Option<String>,
    /// `X-Amzn-SageMaker-Target-Variant`.
    pub target_variant: Option<String>,
    /// `X-Amzn-SageMaker-Inference-Id`.
    pub inference_id: Option<String>,
}

impl InvokeEndpointRequest {
    /// A request with a body and no headers.
    pub fn new(endpoint_name: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        InvokeEndpointRequest {
            endpoint_name: endpoint_name.into(),
            body: body.into(),
            ..Default::default()
        }
    }
}

/// `InvokeEndpoint` response.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InvokeEndpointResponse {
    /// The payload.
    pub body: Vec<u8>,
    /// The payload's MIME type.
    pub content_type: Option<String>,
    /// The variant that answered.
    pub invoked_production_variant: Option<String>,
    /// Custom attributes from the model.
    pub custom_attributes: Option<String>,
}

/// `InvokeEndpointAsync` request: the input is an object in the store, not a body.
///
/// On the wire (`POST /endpoints/{name}/async-invocations`) every field but the name travels
/// in a header: `X-Amzn-SageMaker-InputLocation`, `X-Amzn-SageMaker-Content-Type`,
/// `X-Amzn-SageMaker-Accept`, `X-Amzn-SageMaker-Custom-Attributes`,
/// `X-Amzn-SageMaker-Inference-Id`, `X-Amzn-SageMaker-RequestTTLSeconds`,
/// `X-Amzn-SageMaker-InvocationTimeoutSeconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvokeEndpointAsyncRequest {
    /// The endpoint name.
    pub endpoint_name: String,
    /// Where the input payload is.
    pub input_location: StorageUri,
    /// The payload's MIME type.
    pub content_type: Option<String>,
    /// The wanted response MIME type.
    pub accept: Option<String>,
    /// Passed to the model as `X-Amzn-SageMaker-Custom-Attributes`.
    pub custom_attributes: Option<String>,
    /// The request's id (generated when unset).
    pub inference_id: Option<String>,
    /// How long the request may wait in the queue (60–21 600 s; 6 h by default).
    pub request_ttl_seconds: Option<u32>,
    /// How long the model may work on it (1–3 600 s; 15 min by default).
    pub invocation_timeout_seconds: Option<u32>,
}

impl InvokeEndpointAsyncRequest {
    /// The smallest `RequestTTLSeconds`.
    pub const MIN_REQUEST_TTL_SECONDS: u32 = 60;
    /// The largest (and default) `RequestTTLSeconds`: 6 hours.
    pub const MAX_REQUEST_TTL_SECONDS: u32 = 21_600;
    /// The largest `InvocationTimeoutSeconds`.
    pub const MAX_INVOCATION_TIMEOUT_SECONDS: u32 = 3_600;
    /// The default `InvocationTimeoutSeconds`: 15 minutes.
    pub const DEFAULT_INVOCATION_TIMEOUT_SECONDS: u32 = 900;

    /// A request for the input at `input_location`, with no other fields.
    pub fn new(endpoint_name: impl Into<String>, input_location: StorageUri) -> Self {
        InvokeEndpointAsyncRequest {
            endpoint_name: endpoint_name.into(),
            input_location,
            content_type: None,
            accept: None,
            custom_attributes: None,
            inference_id: None,
            request_ttl_seconds: None,
            invocation_timeout_seconds: None,
        }
    }

    /// Checks the API's limits on the TTL and the timeout.
    pub fn validate(&self) -> crate::Result<()> {
        if let Some(ttl) = self.request_ttl_seconds
            && !(Self::MIN_REQUEST_TTL_SECONDS..=Self::MAX_REQUEST_TTL_SECONDS).contains(&ttl)
        {
            return Err(crate::Error::new(
                crate::ErrorKind::Validation,
                format!("RequestTTLSeconds is {ttl}; it must be from 60 to 21600"),
            )
            .with_context(crate::error::context::FIELD, "RequestTTLSeconds"));
        }
        if let Some(t) = self.invocation_timeout_seconds
            && !(1..=Self::MAX_INVOCATION_TIMEOUT_SECONDS).contains(&t)
        {
            return Err(crate::Error::new(
                crate::ErrorKind::Validation,
                format!("InvocationTimeoutSeconds is {t}; it must be from 1 to 3600"),
            )
            .with_context(crate::error::context::FIELD, "InvocationTimeoutSeconds"));
        }
        if let Some(id) = &self.inference_id
            && (id.is_empty() || id.len() > 64 || id.chars().any(|c| !c.is_ascii_graphic()))
        {
            return Err(crate::Error::new(
                crate::ErrorKind::Validation,
                format!("InferenceId '{id}' must be 1 to 64 visible ASCII characters"),
            )
            .with_context(crate::error::context::FIELD, "InferenceId"));
        }
        Ok(())
    }
}

/// `InvokeEndpointAsync` response: where the result (or the failure) will appear.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvokeEndpointAsyncResponse {
    /// The request's id (the caller's, or one generated).
    pub inference_id: String,
    /// Where the result will be written (`X-Amzn-SageMaker-OutputLocation`).
    pub output_location: StorageUri,
    /// Where a failure will be written (`X-Amzn-SageMaker-FailureLocation`), when the
    /// endpoint has a failure path.
    pub failure_location: Option<StorageUri>,
}

impl InvokeEndpointAsyncResponse {
    /// A response (backends build these).
    pub fn new(
        inference_id: impl Into<String>,
        output_location: StorageUri,
        failure_location: Option<StorageUri>,
    ) -> Self {
        InvokeEndpointAsyncResponse {
            inference_id: inference_id.into(),
            output_location,
            failure_location,
        }
    }
}

api_enum!(
    /// `TransformJobStatus`.
    TransformJobStatus {
        /// Running.
        InProgress => "InProgress",
        /// Finished.
        Completed => "Completed",
        /// Failed; see `FailureReason`.
        Failed => "Failed",
        /// Stop requested.
        Stopping => "Stopping",
        /// Stopped.
        Stopped => "Stopped",
    }
);

api_enum!(
    /// `BatchStrategy`.
    BatchStrategy {
        /// As many records per request as fit in `MaxPayloadInMB`.
        MultiRecord => "MultiRecord",
        /// One record per request.
        SingleRecord => "SingleRecord",
    }
);

api_enum!(
    /// `SplitType` of a transform input.
    SplitType {
        /// The whole object is one record.
        None => "None",
        /// One record per line.
        Line => "Line",
        /// RecordIO records.
        RecordIO => "RecordIO",
        /// TFRecord records.
        TFRecord => "TFRecord",
    }
);

api_enum!(
    /// `AssembleWith` of a transform output.
    AssembleWith {
        /// Responses concatenated.
        None => "None",
        /// A newline after each response.
        Line => "Line",
    }
);

api_enum!(
    /// `JoinSource` of `DataProcessing`.
    JoinSource {
        /// Output only.
        None => "None",
        /// Output joined to its input record.
        Input => "Input",
    }
);

/// `TransformInput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformInput {
    /// The data.
    pub data_source: TransformDataSource,
    /// The MIME type of the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The compression of the data.
    pub compression_type: CompressionType,
    /// How objects are split into records.
    pub split_type: SplitType,
}

/// `TransformDataSource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformDataSource {
    /// The S3 (or S3-shaped) source.
    pub s3_data_source: TransformS3DataSource,
}

/// `TransformS3DataSource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformS3DataSource {
    /// Prefix or manifest.
    pub s3_data_type: S3DataType,
    /// The location.
    #[serde(rename = "S3Uri")]
    pub s3_uri: StorageUri,
}

/// `TransformOutput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformOutput {
    /// Where `<input>.out` files are written.
    pub s3_output_path: StorageUri,
    /// The MIME type asked of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    /// How responses are assembled.
    pub assemble_with: AssembleWith,
    /// KMS key for the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

/// `TransformResources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformResources {
    /// The instance type.
    pub instance_type: String,
    /// How many instances.
    pub instance_count: u32,
}

/// `DataProcessing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DataProcessing {
    /// JSONPath applied to each input record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_filter: Option<String>,
    /// JSONPath applied to each (joined) output record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_filter: Option<String>,
    /// Whether to join the output to the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_source: Option<JoinSource>,
}

/// `CreateTransformJob` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransformJobSpec {
    /// The job name.
    pub transform_job_name: String,
    /// The model to run.
    pub model_name: String,
    /// Parallel requests per instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_transforms: Option<u32>,
    /// The payload limit in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payload_in_mb: Option<u32>,
    /// How records are batched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_strategy: Option<BatchStrategy>,
    /// Environment variables.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The input.
    pub transform_input: TransformInput,
    /// The output.
    pub transform_output: TransformOutput,
    /// Instances.
    pub transform_resources: TransformResources,
    /// Filters and join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_processing: Option<DataProcessing>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl TransformJobDescription {
    /// A fresh `InProgress` description of `spec` (backends build these).
    pub fn from_spec(spec: &TransformJobSpec, arn: String, now: Timestamp) -> Self {
        TransformJobDescription {
            transform_job_name: spec.transform_job_name.clone(),
            transform_job_arn: arn,
            transform_job_status: TransformJobStatus::InProgress,
            failure_reason: None,
            spec: spec.clone(),
            creation_time: now,
            transform_start_time: None,
            transform_end_time: None,
        }
    }
}

/// `DescribeTransformJob` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TransformJobDescription {
    /// The job name.
    pub transform_job_name: String,
    /// The job ARN.
    pub transform_job_arn: String,
    /// The status.
    pub transform_job_status: TransformJobStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// As requested.
    pub spec: TransformJobSpec,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub creation_time: Timestamp,
    /// When it started.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub transform_start_time: Option<Timestamp>,
    /// When it ended.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub transform_end_time: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_and_print_api_spelling() {
        for s in TrainingJobStatus::ALL {
            assert_eq!(s.as_str().parse::<TrainingJobStatus>().unwrap(), *s);
        }
        let e = "Done".parse::<TrainingJobStatus>().unwrap_err();
        assert!(e.message().contains("InProgress"), "{e}");
        assert_eq!(
            serde_json::to_string(&SecondaryStatus::LaunchingMLInstances).unwrap(),
            "\"LaunchingMLInstances\""
        );
    }

    #[test]
    fn serverless_and_async_configs_use_api_names_and_old_records_load() {
        let v = serde_json::json!({
            "VariantName": "AllTraffic",
            "ModelName": "m",
            "InitialVariantWeight": 1.0,
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
        });
        let variant: ProductionVariant = serde_json::from_value(v.clone()).unwrap();
        let sc = variant.serverless_config.unwrap();
        assert_eq!((sc.memory_size_in_mb, sc.max_concurrency), (2048, 5));
        assert_eq!(serde_json::to_value(&variant).unwrap(), v);
        sc.validate().unwrap();
        let mut bad = sc;
        bad.provisioned_concurrency = Some(6);
        assert_eq!(
            bad.validate().unwrap_err().context("field"),
            Some("ProvisionedConcurrency")
        );

        let config = serde_json::json!({
            "EndpointConfigName": "c",
            "ProductionVariants": [],
            "AsyncInferenceConfig": {
                "OutputConfig": {
                    "S3OutputPath": "s3://bkt/out",
                    "S3FailurePath": "s3://bkt/failed",
                    "NotificationConfig": {
                        "SuccessTopic": "arn:ok",
                        "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"]
                    }
                },
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4}
            },
            "Tags": []
        });
        let spec: EndpointConfigSpec = serde_json::from_value(config.clone()).unwrap();
        let a = spec.async_inference_config.as_ref().unwrap();
        assert_eq!(
            a.client_config
                .unwrap()
                .max_concurrent_invocations_per_instance,
            Some(4)
        );
        assert_eq!(
            a.output_config
                .notification_config
                .as_ref()
                .unwrap()
                .include_inference_response_in,
            vec![AsyncNotificationTopicType::SuccessNotificationTopic]
        );
        assert_eq!(serde_json::to_value(&spec).unwrap(), config);

        // A record written before these fields existed still loads.
        let old: EndpointConfigDescription = serde_json::from_value(serde_json::json!({
            "EndpointConfigName": "c",
            "EndpointConfigArn": "arn",
            "ProductionVariants": [{"VariantName": "A", "ModelName": "m",
                "InitialInstanceCount": 1, "InstanceType": "local", "InitialVariantWeight": 1.0}],
            "CreationTime": "2026-11-26T10:00:00Z"
        }))
        .unwrap();
        assert!(old.async_inference_config.is_none());
        assert!(old.production_variants[0].serverless_config.is_none());
    }

    #[test]
    fn invoke_endpoint_async_limits() {
        let mut r = InvokeEndpointAsyncRequest::new("e", "s3://bkt/in".parse().unwrap());
        r.validate().unwrap();
        r.request_ttl_seconds = Some(59);
        assert_eq!(
            r.validate().unwrap_err().context("field"),
            Some("RequestTTLSeconds")
        );
        r.request_ttl_seconds = Some(21_600);
        r.invocation_timeout_seconds = Some(3_601);
        assert_eq!(
            r.validate().unwrap_err().context("field"),
            Some("InvocationTimeoutSeconds")
        );
        r.invocation_timeout_seconds = Some(1);
        r.inference_id = Some("x".repeat(65));
        assert_eq!(
            r.validate().unwrap_err().context("field"),
            Some("InferenceId")
        );
    }

    #[test]
    fn spec_serializes_in_api_case() {
        let spec = TrainingJobSpec {
            vpc_config: None,
            training_job_name: "j".into(),
            algorithm_specification: AlgorithmSpecification {
                training_image: "img".into(),
                training_input_mode: TrainingInputMode::File,
                metric_definitions: vec![],
                container_entrypoint: Vec::new(),
                container_arguments: Vec::new(),
            },
            role_arn: None,
            input_data_config: vec![],
            output_data_config: OutputDataConfig {
                s3_output_path: "s3://bkt/out".parse().unwrap(),
                kms_key_id: None,
            },
            resource_config: ResourceConfig {
                instance_count: 1,
                instance_type: "local".into(),
                volume_size_in_gb: 30,
            },
            stopping_condition: StoppingCondition {
                max_runtime_in_seconds: 86_400,
            },
            hyper_parameters: BTreeMap::new(),
            environment: BTreeMap::new(),
            tags: vec![],
        };
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(v["ResourceConfig"]["VolumeSizeInGB"], 30);
        assert_eq!(v["OutputDataConfig"]["S3OutputPath"], "s3://bkt/out");
        assert_eq!(v["AlgorithmSpecification"]["TrainingInputMode"], "File");
        let back: TrainingJobSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, spec);
    }
}
