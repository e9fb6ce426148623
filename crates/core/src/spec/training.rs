//! Training jobs: `CreateTrainingJob`, `DescribeTrainingJob`, `ListTrainingJobs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::uri::StorageUri;

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
#[must_use]
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
