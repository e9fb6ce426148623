//! Batch transform: `CreateTransformJob` and `DescribeTransformJob`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::uri::StorageUri;

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
