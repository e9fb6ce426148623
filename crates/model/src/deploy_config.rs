//! [`DeployConfig`]: how to deploy a model (the Python SDK's `deploy(...)` arguments), built
//! and validated once by [`DeployConfigBuilder::build`].

use sagemaker_core::spec::Tag;
use sagemaker_core::{Error, Result, WaitConfig};

use crate::inference::{AsyncInferenceConfig, ServerlessInferenceConfig};

/// What a deploy asks for: instances, or a serverless variant.
#[derive(Debug, Clone)]
pub(crate) enum Capacity {
    Instances(u32, String),
    Serverless(ServerlessInferenceConfig),
}

/// How to deploy a model: instances (or serverless capacity), the endpoint's name, tags,
/// asynchronous inference, and whether to wait for `InService`.
///
/// ```
/// use sagemaker_model::DeployConfig;
///
/// let config = DeployConfig::builder()
///     .instance_type("ml.m5.large")
///     .initial_instance_count(2)
///     .endpoint_name("churn")
///     .build()?;
/// assert_eq!(config.initial_instance_count(), Some(2));
/// assert_eq!(config.endpoint_name(), Some("churn"));
///
/// // Missing capacity is a configuration error at build time, as in the Python SDK.
/// assert!(DeployConfig::builder().build().is_err());
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DeployConfig {
    pub(crate) capacity: Capacity,
    endpoint_name: Option<String>,
    wait: bool,
    wait_config: WaitConfig,
    tags: Vec<Tag>,
    async_inference_config: Option<AsyncInferenceConfig>,
}

impl DeployConfig {
    /// A builder: give an instance type (and optionally a count, default 1), or a serverless
    /// config.
    pub fn builder() -> DeployConfigBuilder {
        DeployConfigBuilder::default()
    }

    /// A serverless deployment with `config` (valid as it is, so no builder is needed).
    ///
    /// ```
    /// use sagemaker_model::{DeployConfig, ServerlessInferenceConfig};
    ///
    /// let config = DeployConfig::serverless(ServerlessInferenceConfig::default());
    /// assert!(config.instance_type().is_none());
    /// assert!(config.serverless_inference_config().is_some());
    /// ```
    pub fn serverless(config: ServerlessInferenceConfig) -> Self {
        DeployConfig {
            capacity: Capacity::Serverless(config),
            endpoint_name: None,
            wait: true,
            wait_config: WaitConfig::default(),
            tags: Vec::new(),
            async_inference_config: None,
        }
    }

    /// A builder holding this config's settings, to derive a changed copy.
    pub fn to_builder(&self) -> DeployConfigBuilder {
        let (count, instance_type, serverless) = match &self.capacity {
            Capacity::Instances(n, t) => (Some(*n), Some(t.clone()), None),
            Capacity::Serverless(c) => (None, None, Some(*c)),
        };
        DeployConfigBuilder {
            initial_instance_count: count,
            instance_type,
            serverless_inference_config: serverless,
            endpoint_name: self.endpoint_name.clone(),
            wait: Some(self.wait),
            wait_config: Some(self.wait_config.clone()),
            tags: self.tags.clone(),
            async_inference_config: self.async_inference_config.clone(),
        }
    }

    /// The same config deploying to the endpoint `name` (the endpoint name is not part of what
    /// [`DeployConfigBuilder::build`] checks, so no rebuild is needed).
    pub fn with_endpoint_name(mut self, name: impl Into<String>) -> Self {
        self.endpoint_name = Some(name.into());
        self
    }

    /// The instance count (`None` for a serverless deployment).
    pub fn initial_instance_count(&self) -> Option<u32> {
        match &self.capacity {
            Capacity::Instances(n, _) => Some(*n),
            Capacity::Serverless(_) => None,
        }
    }

    /// The instance type (`None` for a serverless deployment).
    pub fn instance_type(&self) -> Option<&str> {
        match &self.capacity {
            Capacity::Instances(_, t) => Some(t),
            Capacity::Serverless(_) => None,
        }
    }

    /// The serverless capacity, for a serverless deployment.
    pub fn serverless_inference_config(&self) -> Option<&ServerlessInferenceConfig> {
        match &self.capacity {
            Capacity::Instances(..) => None,
            Capacity::Serverless(c) => Some(c),
        }
    }

    /// The endpoint's name (default: generated from the model's base name).
    pub fn endpoint_name(&self) -> Option<&str> {
        self.endpoint_name.as_deref()
    }

    /// Whether `deploy` waits for `InService` (default true).
    pub fn wait(&self) -> bool {
        self.wait
    }

    /// How `deploy` waits.
    pub fn wait_config(&self) -> &WaitConfig {
        &self.wait_config
    }

    /// Tags of the endpoint config and the endpoint.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// The asynchronous-inference settings of an asynchronous endpoint.
    pub fn async_inference_config(&self) -> Option<&AsyncInferenceConfig> {
        self.async_inference_config.as_ref()
    }
}

/// Builds a [`DeployConfig`]; [`DeployConfigBuilder::build`] validates.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct DeployConfigBuilder {
    initial_instance_count: Option<u32>,
    instance_type: Option<String>,
    serverless_inference_config: Option<ServerlessInferenceConfig>,
    endpoint_name: Option<String>,
    wait: Option<bool>,
    wait_config: Option<WaitConfig>,
    tags: Vec<Tag>,
    async_inference_config: Option<AsyncInferenceConfig>,
}

impl DeployConfigBuilder {
    /// The instance type, e.g. `ml.m5.large` (or `local`); required unless serverless.
    pub fn instance_type(mut self, instance_type: impl Into<String>) -> Self {
        self.instance_type = Some(instance_type.into());
        self
    }

    /// Instances; on the local backend, model replicas that share the load (default 1).
    pub fn initial_instance_count(mut self, count: u32) -> Self {
        self.initial_instance_count = Some(count);
        self
    }

    /// Deploys serverless with `config` (leave the instance type and count unset).
    pub fn serverless_inference_config(mut self, config: ServerlessInferenceConfig) -> Self {
        self.serverless_inference_config = Some(config);
        self
    }

    /// Makes the endpoint asynchronous with `config`.
    pub fn async_inference_config(mut self, config: AsyncInferenceConfig) -> Self {
        self.async_inference_config = Some(config);
        self
    }

    /// The endpoint's name.
    pub fn endpoint_name(mut self, name: impl Into<String>) -> Self {
        self.endpoint_name = Some(name.into());
        self
    }

    /// Whether to wait for `InService` (default true).
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = Some(wait);
        self
    }

    /// How to wait.
    pub fn wait_config(mut self, wait_config: WaitConfig) -> Self {
        self.wait_config = Some(wait_config);
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push(Tag::new(key, value));
        self
    }

    /// Validates: instances (a type, and a count of at least 1) or serverless capacity, not
    /// both, and no asynchronous inference on a serverless endpoint. Errors are
    /// [`sagemaker_core::ErrorKind::InvalidConfig`] naming the setting.
    pub fn build(self) -> Result<DeployConfig> {
        let capacity = match self.serverless_inference_config {
            Some(serverless) => {
                if self.instance_type.is_some() {
                    return Err(Error::invalid_config(
                        "instance_type",
                        "a serverless deployment has no instance type (leave it unset)",
                    ));
                }
                if self.initial_instance_count.is_some() {
                    return Err(Error::invalid_config(
                        "initial_instance_count",
                        "a serverless deployment has no instance count (leave it unset)",
                    ));
                }
                if self.async_inference_config.is_some() {
                    return Err(Error::invalid_config(
                        "async_inference_config",
                        "serverless endpoints do not support asynchronous inference; choose one",
                    ));
                }
                Capacity::Serverless(serverless)
            }
            None => {
                let count = self.initial_instance_count.unwrap_or(1);
                if count == 0 {
                    return Err(Error::invalid_config(
                        "initial_instance_count",
                        "must be at least 1",
                    ));
                }
                let instance_type = self
                    .instance_type
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| {
                        Error::invalid_config(
                            "instance_type",
                            "Must specify instance type and instance count unless using serverless inference",
                        )
                    })?;
                Capacity::Instances(count, instance_type)
            }
        };
        Ok(DeployConfig {
            capacity,
            endpoint_name: self.endpoint_name,
            wait: self.wait.unwrap_or(true),
            wait_config: self.wait_config.unwrap_or_default(),
            tags: self.tags,
            async_inference_config: self.async_inference_config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_checks_capacity_once() {
        let e = DeployConfig::builder()
            .instance_type("ml.m5.large")
            .initial_instance_count(0)
            .build()
            .unwrap_err();
        assert_eq!(e.context("field"), Some("initial_instance_count"));
        let e = DeployConfig::builder()
            .serverless_inference_config(ServerlessInferenceConfig::default())
            .instance_type("ml.m5.large")
            .build()
            .unwrap_err();
        assert_eq!(e.context("field"), Some("instance_type"));
        let e = DeployConfig::builder()
            .serverless_inference_config(ServerlessInferenceConfig::default())
            .async_inference_config(AsyncInferenceConfig::default())
            .build()
            .unwrap_err();
        assert_eq!(e.context("field"), Some("async_inference_config"));
        let c = DeployConfig::builder()
            .instance_type("local")
            .wait(false)
            .tag("team", "ml")
            .build()
            .unwrap();
        assert_eq!(
            (c.initial_instance_count(), c.instance_type(), c.wait()),
            (Some(1), Some("local"), false)
        );
        let again = c.to_builder().endpoint_name("e").build().unwrap();
        assert_eq!(again.endpoint_name(), Some("e"));
        assert_eq!(again.tags().len(), 1);
    }
}
