//! `sagemaker-model`: [`Model`] and its deployment to a real-time, serverless or
//! asynchronous endpoint.
//!
//! `deploy` makes SageMaker's three calls (`CreateModel`, `CreateEndpointConfig` named after
//! the endpoint with one variant `AllTraffic`, `CreateEndpoint`), waits for `InService` unless
//! told not to, and returns a [`Predictor`] ([`Model::deploy_async`]: an [`AsyncPredictor`]).
//! A [`ServerlessInferenceConfig`] puts `ServerlessConfig` in the variant instead of an
//! instance type and count; an [`AsyncInferenceConfig`] makes the endpoint asynchronous.

mod deploy_config;
mod inference;

pub use deploy_config::{DeployConfig, DeployConfigBuilder};

pub use inference::{
    AsyncInferenceConfig, AsyncInferenceConfigBuilder, ServerlessInferenceConfig,
    ServerlessInferenceConfigBuilder,
};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sagemaker_core::error::context;
use sagemaker_core::spec::{
    ContainerDefinition, EndpointConfigSpec, EndpointDescription, EndpointSpec, EndpointStatus,
    ModelDescription, ModelSpec, ProductionVariant, Tag, VpcConfig,
};
use sagemaker_core::{DEFAULT_VARIANT_NAME, Error, ErrorKind, Result, Session, StorageUri, names};
use sagemaker_predictor::{AsyncPredictor, Predictor};

use crate::deploy_config::Capacity;
use sagemaker_transformer::{Transformer, TransformerBuilder};

/// Builds a [`Model`]; [`ModelBuilder::build`] validates.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct ModelBuilder {
    image_uri: Option<String>,
    model_data: Option<String>,
    role: Option<String>,
    env: BTreeMap<String, String>,
    name: Option<String>,
    tags: Vec<Tag>,
    vpc_config: Option<VpcConfig>,
    session: Option<Session>,
}

impl ModelBuilder {
    /// The serving image (required).
    pub fn image_uri(mut self, image: impl Into<String>) -> Self {
        self.image_uri = Some(image.into());
        self
    }

    /// The `model.tar.gz` (an `s3://` or, locally, `file://` URI).
    pub fn model_data(mut self, uri: impl Into<String>) -> Self {
        self.model_data = Some(uri.into());
        self
    }

    /// The IAM role (required on AWS, optional locally).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Sets an environment variable of the serving container.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// The model name (default: generated when the model is created).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push(Tag::new(key, value));
        self
    }

    /// The VPC the serving containers run in.
    pub fn vpc_config(mut self, vpc: VpcConfig) -> Self {
        self.vpc_config = Some(vpc);
        self
    }

    /// The session (required).
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Model> {
        let session = self.session.ok_or_else(|| {
            Error::invalid_config("session", "required (e.g. LocalSession::new()?)")
        })?;
        let image_uri = self
            .image_uri
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::invalid_config("image_uri", "required"))?;
        let model_data = self
            .model_data
            .map(|m| {
                m.parse::<StorageUri>()
                    .map_err(|e| Error::invalid_config("model_data", e.message()))
            })
            .transpose()?;
        if let Some(StorageUri::File { .. }) = &model_data
            && !session.capabilities().file_uris
        {
            return Err(Error::invalid_config(
                "model_data",
                "file URIs are supported by the local backend only",
            ));
        }
        if let Some(name) = &self.name {
            names::validate_name("model", name)
                .map_err(|e| Error::invalid_config("name", e.message()))?;
        }
        Ok(Model {
            inner: Arc::new(ModelInner {
                image_uri,
                model_data,
                role: self.role,
                env: self.env,
                tags: self.tags,
                vpc_config: self.vpc_config,
                name: Mutex::new(self.name),
                session,
            }),
        })
    }
}

struct ModelInner {
    image_uri: String,
    model_data: Option<StorageUri>,
    role: Option<String>,
    env: BTreeMap<String, String>,
    tags: Vec<Tag>,
    vpc_config: Option<VpcConfig>,
    name: Mutex<Option<String>>,
    session: Session,
}

/// A model: an image plus a `model.tar.gz` (the Python SDK's `Model`). Cheap to clone.
///
/// ```no_run
/// # async fn run(session: sagemaker_core::Session) -> sagemaker_core::Result<()> {
/// use sagemaker_model::{DeployConfig, Model};
/// use sagemaker_predictor::DeleteEndpoint;
///
/// let model = Model::builder()
///     .image_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
///     .model_data("s3://sagemaker-local/my-job/output/model.tar.gz")
///     .session(session)
///     .build()?;
/// let config = DeployConfig::builder().instance_type("ml.m5.large").build()?;
/// let predictor = model.deploy(config).await?;
/// predictor.delete_endpoint(DeleteEndpoint::AndConfig).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Model {
    inner: Arc<ModelInner>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("image_uri", &self.inner.image_uri)
            .field("model_data", &self.inner.model_data)
            .field("name", &self.name())
            .finish()
    }
}

impl Model {
    /// A builder.
    pub fn builder() -> ModelBuilder {
        ModelBuilder::default()
    }

    /// The model's name, once given or created.
    pub fn name(&self) -> Option<String> {
        self.inner
            .name
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The serving image.
    pub fn image_uri(&self) -> &str {
        &self.inner.image_uri
    }

    /// The artifact.
    pub fn model_data(&self) -> Option<&StorageUri> {
        self.inner.model_data.as_ref()
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.inner.session
    }

    /// The name this model has or will get: the given one, else
    /// `name_from_base(image repository name)`, fixed on first use.
    fn name_or_generate(&self) -> String {
        let mut name = self.inner.name.lock().unwrap_or_else(|p| p.into_inner());
        name.get_or_insert_with(|| {
            names::name_from_base(&names::base_name_from_image(&self.inner.image_uri))
        })
        .clone()
    }

    /// The `CreateModel` request.
    pub fn model_spec(&self) -> ModelSpec {
        ModelSpec {
            vpc_config: self.inner.vpc_config.clone(),
            model_name: self.name_or_generate(),
            primary_container: ContainerDefinition {
                image: self.inner.image_uri.clone(),
                model_data_url: self.inner.model_data.clone(),
                environment: self.inner.env.clone(),
            },
            execution_role_arn: self.inner.role.clone(),
            tags: self.inner.tags.clone(),
        }
    }

    /// `CreateModel`. A model that already exists with this name is kept, as the Python SDK
    /// does ("Using already existing model").
    pub async fn create(&self) -> Result<ModelDescription> {
        let spec = self.model_spec();
        let backend = self.inner.session.backend();
        match backend.create_model(spec.clone()).await {
            Ok(d) => Ok(d),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                tracing::info!(target: "sagemaker", model = %spec.model_name, "using already existing model");
                backend.describe_model(&spec.model_name).await
            }
            Err(e) => Err(e),
        }
    }

    /// Creates the model, an endpoint config named after the endpoint with one variant
    /// `AllTraffic`, and the endpoint; waits for `InService` unless `config.wait` is false.
    ///
    /// A model that cannot load makes the endpoint `Failed`; waiting then returns
    /// [`ErrorKind::EndpointFailed`] with the reason.
    pub async fn deploy(&self, config: DeployConfig) -> Result<Predictor> {
        let model_name = self.name_or_generate();
        let endpoint_name = match config.endpoint_name() {
            Some(n) => n.to_string(),
            None => names::name_from_base(names::base_from_name(&model_name)),
        };
        // Checked before any call, so a bad name creates nothing.
        names::validate_name("endpoint", &endpoint_name)?;
        self.create().await?;
        deploy_variants(
            &self.inner.session,
            &endpoint_name,
            vec![variant(model_name, config.capacity.clone())],
            &config,
        )
        .await?;
        Ok(Predictor::attach(endpoint_name, self.inner.session.clone()))
    }

    /// [`Model::deploy`] to an asynchronous endpoint, returning an [`AsyncPredictor`]. Without
    /// an `async_inference_config` in `config`, the default one is used (paths chosen as
    /// the Python SDK does).
    pub async fn deploy_async(&self, config: DeployConfig) -> Result<AsyncPredictor> {
        let config = match config.async_inference_config() {
            Some(_) => config,
            None => config
                .to_builder()
                .async_inference_config(AsyncInferenceConfig::default())
                .build()?,
        };
        Ok(AsyncPredictor::new(self.deploy(config).await?))
    }

    /// Creates the model now (as the Python SDK's `Model.transformer` does) and returns a
    /// [`Transformer`] for it. `config` carries the transformer's settings (instance type,
    /// strategy, accept, ...); its model name and session are this model's, and its job names
    /// default to this model's base name.
    pub async fn transformer(&self, config: TransformerBuilder) -> Result<Transformer> {
        let model_name = self.create().await?.model_name;
        config
            .model_name(model_name.clone())
            .session(self.inner.session.clone())
            .default_base_transform_job_name(names::base_from_name(&model_name).to_string())
            .build()
    }

    /// `DeleteModel`.
    pub async fn delete_model(&self) -> Result<()> {
        let name = self.name().ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "this model has no name yet: it was never created",
            )
        })?;
        self.inner.session.backend().delete_model(&name).await
    }
}

fn variant(model_name: String, capacity: Capacity) -> ProductionVariant {
    let (count, instance_type, serverless) = match capacity {
        Capacity::Instances(n, t) => (Some(n), Some(t), None),
        Capacity::Serverless(c) => (None, None, Some(c.to_spec())),
    };
    ProductionVariant {
        variant_name: DEFAULT_VARIANT_NAME.to_string(),
        model_name,
        initial_instance_count: count,
        instance_type,
        initial_variant_weight: 1.0,
        serverless_config: serverless,
    }
}

/// Creates an endpoint config named `endpoint_name` with `variants` (and the
/// `AsyncInferenceConfig` of `config`, unset paths filled with the Python SDK's defaults
/// under the first variant's model name) and the endpoint, then waits as `config` says.
/// Models must exist already. Use it for several weighted variants.
pub async fn deploy_variants(
    session: &Session,
    endpoint_name: &str,
    variants: Vec<ProductionVariant>,
    config: &DeployConfig,
) -> Result<EndpointDescription> {
    let backend = session.backend();
    let async_inference_config = match config.async_inference_config() {
        None => None,
        Some(a) => {
            let bucket = session.default_bucket().await?;
            let base = variants
                .first()
                .map(|v| v.model_name.as_str())
                .unwrap_or(endpoint_name);
            let unique = names::unique_name_from_base(base);
            Some(a.to_spec(
                StorageUri::s3(&bucket, format!("async-endpoint-outputs/{unique}")),
                StorageUri::s3(&bucket, format!("async-endpoint-failures/{unique}")),
            ))
        }
    };
    backend
        .create_endpoint_config(EndpointConfigSpec {
            endpoint_config_name: endpoint_name.to_string(),
            production_variants: variants,
            async_inference_config,
            tags: config.tags().to_vec(),
        })
        .await?;
    let created = backend
        .create_endpoint(EndpointSpec {
            endpoint_name: endpoint_name.to_string(),
            endpoint_config_name: endpoint_name.to_string(),
            tags: config.tags().to_vec(),
        })
        .await?;
    if !config.wait() {
        return Ok(created);
    }
    let d = session
        .wait_for_endpoint(endpoint_name, config.wait_config())
        .await?;
    endpoint_ready(d)
}

/// `Ok` for an `InService` endpoint, [`ErrorKind::EndpointFailed`] with the reason otherwise.
pub fn endpoint_ready(d: EndpointDescription) -> Result<EndpointDescription> {
    if d.endpoint_status == EndpointStatus::InService {
        return Ok(d);
    }
    let reason = d
        .failure_reason
        .clone()
        .unwrap_or_else(|| "(no reason given)".into());
    Err(Error::new(
        ErrorKind::EndpointFailed,
        format!(
            "endpoint {} is {}: {reason}",
            d.endpoint_name, d.endpoint_status
        ),
    )
    .with_context(context::RESOURCE, d.endpoint_name.clone())
    .with_context(context::STATUS, d.endpoint_status.as_str())
    .with_context(context::FAILURE_REASON, reason))
}

/// Deletes every endpoint, endpoint config and model on the session's backend whose name
/// starts with `prefix` (all of them with `""`): the way to make sure nothing is left running
/// (forgotten endpoints are the classic SageMaker bill). Returns how many of each it deleted.
pub async fn delete_all(session: &Session, prefix: &str) -> Result<(usize, usize, usize)> {
    let backend = session.backend();
    let mut counts = (0, 0, 0);
    for name in backend.list_endpoints().await? {
        if name.starts_with(prefix) {
            backend.delete_endpoint(&name).await?;
            counts.0 += 1;
        }
    }
    for name in backend.list_endpoint_configs().await? {
        if name.starts_with(prefix) {
            backend.delete_endpoint_config(&name).await?;
            counts.1 += 1;
        }
    }
    for name in backend.list_models().await? {
        if name.starts_with(prefix) {
            backend.delete_model(&name).await?;
            counts.2 += 1;
        }
    }
    Ok(counts)
}
