//! Hosting: `CreateModel`, `CreateEndpointConfig`, `CreateEndpoint` and their descriptions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::uri::StorageUri;

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
