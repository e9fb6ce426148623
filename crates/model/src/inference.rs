//! The Python SDK's `ServerlessInferenceConfig` and `AsyncInferenceConfig`: validated once in
//! `build()`, turned into the API's `ServerlessConfig` / `AsyncInferenceConfig` by `deploy`.

use sagemaker_core::spec::{
    AsyncInferenceClientConfig, AsyncInferenceConfig as AsyncInferenceConfigSpec,
    AsyncInferenceNotificationConfig, AsyncInferenceOutputConfig, AsyncNotificationTopicType,
    ProductionVariantServerlessConfig,
};
use sagemaker_core::{Error, Result, StorageUri};

/// A serverless deployment: memory and concurrency instead of instances (the Python SDK's
/// `sagemaker.serverless.ServerlessInferenceConfig`).
///
/// ```
/// use sagemaker_model::ServerlessInferenceConfig;
///
/// let config = ServerlessInferenceConfig::builder()
///     .memory_size_in_mb(4096)
///     .max_concurrency(10)
///     .provisioned_concurrency(2)
///     .build()?;
/// assert_eq!(config.memory_size_in_mb(), 4096);
///
/// let err = ServerlessInferenceConfig::builder().memory_size_in_mb(1500).build().unwrap_err();
/// assert_eq!(err.context("field"), Some("memory_size_in_mb"));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerlessInferenceConfig {
    spec: ProductionVariantServerlessConfig,
}

impl Default for ServerlessInferenceConfig {
    /// 2048 MB, at most 5 requests at once, no provisioned concurrency (the Python defaults).
    fn default() -> Self {
        ServerlessInferenceConfig {
            spec: ProductionVariantServerlessConfig {
                memory_size_in_mb: 2048,
                max_concurrency: 5,
                provisioned_concurrency: None,
            },
        }
    }
}

impl ServerlessInferenceConfig {
    /// A builder with the Python SDK's defaults.
    pub fn builder() -> ServerlessInferenceConfigBuilder {
        ServerlessInferenceConfigBuilder::default()
    }

    /// The memory of each worker, in MB.
    pub fn memory_size_in_mb(&self) -> u32 {
        self.spec.memory_size_in_mb
    }

    /// The most requests served at once.
    pub fn max_concurrency(&self) -> u32 {
        self.spec.max_concurrency
    }

    /// Workers kept warm.
    pub fn provisioned_concurrency(&self) -> Option<u32> {
        self.spec.provisioned_concurrency
    }

    /// The variant's `ServerlessConfig`.
    pub fn to_spec(&self) -> ProductionVariantServerlessConfig {
        self.spec
    }
}

/// Builds a [`ServerlessInferenceConfig`]; [`ServerlessInferenceConfigBuilder::build`]
/// checks the API's limits.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct ServerlessInferenceConfigBuilder {
    memory_size_in_mb: Option<u32>,
    max_concurrency: Option<u32>,
    provisioned_concurrency: Option<u32>,
}

impl ServerlessInferenceConfigBuilder {
    /// Memory per worker: 1024 to 6144 in steps of 1024 (default 2048).
    pub fn memory_size_in_mb(mut self, mb: u32) -> Self {
        self.memory_size_in_mb = Some(mb);
        self
    }

    /// Requests served at once, 1 to 200 (default 5); more are throttled.
    pub fn max_concurrency(mut self, n: u32) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// Workers kept warm, 1 to `max_concurrency` (default none: scale to zero).
    pub fn provisioned_concurrency(mut self, n: u32) -> Self {
        self.provisioned_concurrency = Some(n);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<ServerlessInferenceConfig> {
        let d = ServerlessInferenceConfig::default().spec;
        let spec = ProductionVariantServerlessConfig {
            memory_size_in_mb: self.memory_size_in_mb.unwrap_or(d.memory_size_in_mb),
            max_concurrency: self.max_concurrency.unwrap_or(d.max_concurrency),
            provisioned_concurrency: self.provisioned_concurrency,
        };
        let m = spec.memory_size_in_mb;
        if !(ProductionVariantServerlessConfig::MIN_MEMORY_MB
            ..=ProductionVariantServerlessConfig::MAX_MEMORY_MB)
            .contains(&m)
            || !m.is_multiple_of(1024)
        {
            return Err(Error::invalid_config(
                "memory_size_in_mb",
                format!("{m} is not one of 1024, 2048, 3072, 4096, 5120, 6144"),
            ));
        }
        let c = spec.max_concurrency;
        if !(1..=ProductionVariantServerlessConfig::MAX_CONCURRENCY).contains(&c) {
            return Err(Error::invalid_config(
                "max_concurrency",
                format!("{c} is outside 1 to 200"),
            ));
        }
        if let Some(p) = spec.provisioned_concurrency
            && !(1..=c).contains(&p)
        {
            return Err(Error::invalid_config(
                "provisioned_concurrency",
                format!("{p} is outside 1 to max_concurrency ({c})"),
            ));
        }
        Ok(ServerlessInferenceConfig { spec })
    }
}

/// An asynchronous deployment: requests are queued, inputs and results live in the store
/// (the Python SDK's `sagemaker.async_inference.AsyncInferenceConfig`).
///
/// Unset paths are filled by `deploy` as the Python SDK does:
/// `s3://{default bucket}/async-endpoint-outputs/{unique}` and
/// `.../async-endpoint-failures/{unique}`, `unique` = `unique_name_from_base(model name)`.
///
/// ```
/// use sagemaker_model::AsyncInferenceConfig;
///
/// let config = AsyncInferenceConfig::builder()
///     .output_path("s3://my-bucket/async/out")
///     .max_concurrent_invocations_per_instance(4)
///     .success_topic("arn:aws:sns:us-east-1:000000000000:done")
///     .build()?;
/// assert_eq!(config.output_path().unwrap().to_string(), "s3://my-bucket/async/out");
/// assert!(config.failure_path().is_none());
///
/// let err = AsyncInferenceConfig::builder().max_concurrent_invocations_per_instance(0).build();
/// assert_eq!(err.unwrap_err().context("field"), Some("max_concurrent_invocations_per_instance"));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsyncInferenceConfig {
    output_path: Option<StorageUri>,
    failure_path: Option<StorageUri>,
    max_concurrent_invocations_per_instance: Option<u32>,
    kms_key_id: Option<String>,
    notification: Option<AsyncInferenceNotificationConfig>,
}

impl AsyncInferenceConfig {
    /// A builder.
    pub fn builder() -> AsyncInferenceConfigBuilder {
        AsyncInferenceConfigBuilder::default()
    }

    /// Where results go (unset: a default chosen at deploy).
    pub fn output_path(&self) -> Option<&StorageUri> {
        self.output_path.as_ref()
    }

    /// Where failures go (unset: a default chosen at deploy).
    pub fn failure_path(&self) -> Option<&StorageUri> {
        self.failure_path.as_ref()
    }

    /// Requests per instance at once.
    pub fn max_concurrent_invocations_per_instance(&self) -> Option<u32> {
        self.max_concurrent_invocations_per_instance
    }

    /// The notification topics.
    pub fn notification_config(&self) -> Option<&AsyncInferenceNotificationConfig> {
        self.notification.as_ref()
    }

    /// The API's `AsyncInferenceConfig`, with `default_output` and `default_failure` for
    /// unset paths.
    pub fn to_spec(
        &self,
        default_output: StorageUri,
        default_failure: StorageUri,
    ) -> AsyncInferenceConfigSpec {
        AsyncInferenceConfigSpec {
            output_config: AsyncInferenceOutputConfig {
                kms_key_id: self.kms_key_id.clone(),
                s3_output_path: Some(self.output_path.clone().unwrap_or(default_output)),
                notification_config: self.notification.clone(),
                s3_failure_path: Some(self.failure_path.clone().unwrap_or(default_failure)),
            },
            client_config: self.max_concurrent_invocations_per_instance.map(|n| {
                AsyncInferenceClientConfig {
                    max_concurrent_invocations_per_instance: Some(n),
                }
            }),
        }
    }
}

/// Builds an [`AsyncInferenceConfig`]; [`AsyncInferenceConfigBuilder::build`] validates.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct AsyncInferenceConfigBuilder {
    output_path: Option<String>,
    failure_path: Option<String>,
    max_concurrent: Option<u32>,
    kms_key_id: Option<String>,
    success_topic: Option<String>,
    error_topic: Option<String>,
    include_response_in: Vec<AsyncNotificationTopicType>,
}

impl AsyncInferenceConfigBuilder {
    /// Where results are written (`s3://...`, or `file://...` on the local backend).
    pub fn output_path(mut self, uri: impl Into<String>) -> Self {
        self.output_path = Some(uri.into());
        self
    }

    /// Where failures are written.
    pub fn failure_path(mut self, uri: impl Into<String>) -> Self {
        self.failure_path = Some(uri.into());
        self
    }

    /// Requests each instance runs at once, 1 to 1000 (unset: the backend chooses).
    pub fn max_concurrent_invocations_per_instance(mut self, n: u32) -> Self {
        self.max_concurrent = Some(n);
        self
    }

    /// KMS key for the results.
    pub fn kms_key_id(mut self, key: impl Into<String>) -> Self {
        self.kms_key_id = Some(key.into());
        self
    }

    /// The topic told of each success (an SNS topic ARN on AWS; on the local backend any
    /// name, handed to the session's notification callback).
    pub fn success_topic(mut self, topic: impl Into<String>) -> Self {
        self.success_topic = Some(topic.into());
        self
    }

    /// The topic told of each failure.
    pub fn error_topic(mut self, topic: impl Into<String>) -> Self {
        self.error_topic = Some(topic.into());
        self
    }

    /// Include the inference response in that topic's messages.
    pub fn include_inference_response_in(mut self, topic: AsyncNotificationTopicType) -> Self {
        if !self.include_response_in.contains(&topic) {
            self.include_response_in.push(topic);
        }
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<AsyncInferenceConfig> {
        let parse = |field: &str, v: Option<String>| {
            v.map(|s| {
                s.parse::<StorageUri>()
                    .map_err(|e| Error::invalid_config(field, e.message()))
            })
            .transpose()
        };
        let output_path = parse("output_path", self.output_path)?;
        let failure_path = parse("failure_path", self.failure_path)?;
        if let Some(n) = self.max_concurrent
            && !(1..=1000).contains(&n)
        {
            return Err(Error::invalid_config(
                "max_concurrent_invocations_per_instance",
                format!("{n} is outside 1 to 1000"),
            ));
        }
        for (field, topic) in [
            ("success_topic", &self.success_topic),
            ("error_topic", &self.error_topic),
        ] {
            if topic.as_ref().is_some_and(|t| t.trim().is_empty()) {
                return Err(Error::invalid_config(field, "must not be empty"));
            }
        }
        if let (Some(o), Some(f)) = (&output_path, &failure_path)
            && o == f
        {
            return Err(Error::invalid_config(
                "failure_path",
                "must differ from output_path",
            ));
        }
        let notification = (self.success_topic.is_some()
            || self.error_topic.is_some()
            || !self.include_response_in.is_empty())
        .then_some(AsyncInferenceNotificationConfig {
            success_topic: self.success_topic,
            error_topic: self.error_topic,
            include_inference_response_in: self.include_response_in,
        });
        Ok(AsyncInferenceConfig {
            output_path,
            failure_path,
            max_concurrent_invocations_per_instance: self.max_concurrent,
            kms_key_id: self.kms_key_id,
            notification,
        })
    }
}
