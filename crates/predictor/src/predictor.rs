//! `Predictor`: invoke an endpoint with typed codecs.

use sagemaker_core::spec::{EndpointDescription, InvokeEndpointRequest, InvokeEndpointResponse};
use sagemaker_core::{ErrorKind, Result, Session, WaitConfig};

use crate::codecs::{BytesDeserializer, Deserializer, IdentitySerializer, Serializer};

/// Per-call settings of an invocation (the Python SDK's `predict(..., custom_attributes=...,
/// target_variant=..., inference_id=...)`).
#[must_use]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvokeOptions {
    /// `X-Amzn-SageMaker-Custom-Attributes`: up to 1 024 visible ASCII characters.
    pub custom_attributes: Option<String>,
    /// `X-Amzn-SageMaker-Target-Variant`: send to this production variant.
    pub target_variant: Option<String>,
    /// `X-Amzn-SageMaker-Inference-Id`.
    pub inference_id: Option<String>,
    /// Overrides the serializer's Content-Type.
    pub content_type: Option<String>,
    /// Overrides the deserializer's Accept.
    pub accept: Option<String>,
}

impl InvokeOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the custom attributes.
    pub fn custom_attributes(mut self, v: impl Into<String>) -> Self {
        self.custom_attributes = Some(v.into());
        self
    }

    /// Sets the target variant.
    pub fn target_variant(mut self, v: impl Into<String>) -> Self {
        self.target_variant = Some(v.into());
        self
    }

    /// Sets the inference id.
    pub fn inference_id(mut self, v: impl Into<String>) -> Self {
        self.inference_id = Some(v.into());
        self
    }

    /// Overrides the Content-Type.
    pub fn content_type(mut self, v: impl Into<String>) -> Self {
        self.content_type = Some(v.into());
        self
    }

    /// Overrides the Accept header.
    pub fn accept(mut self, v: impl Into<String>) -> Self {
        self.accept = Some(v.into());
        self
    }
}

/// What [`Predictor::delete_endpoint`] deletes besides the endpoint (the Python SDK's
/// `delete_endpoint_config` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeleteEndpoint {
    /// The endpoint and its endpoint config (the Python SDK's default).
    #[default]
    AndConfig,
    /// The endpoint only: its endpoint config stays, to be served again.
    KeepConfig,
}

/// Makes real-time predictions against an endpoint (the Python SDK's `Predictor`).
///
/// `S` encodes inputs and `D` decodes responses; the defaults pass bytes through, as the
/// Python SDK's base `Predictor` does. Change them with [`Predictor::with_serializer`] and
/// [`Predictor::with_deserializer`]. On the local backend the call is in process (no HTTP);
/// the backend's HTTP server gives byte-identical answers to other programs.
///
/// ```
/// use sagemaker_predictor::{CsvSerializer, JsonDeserializer, Predictor};
/// # fn session() -> sagemaker_core::Session {
/// #     sagemaker_local::LocalSession::builder().root(tempfile::tempdir().unwrap().keep()).build().unwrap()
/// # }
/// let predictor = Predictor::attach("my-endpoint", session())
///     .with_serializer(CsvSerializer::new())
///     .with_deserializer(JsonDeserializer::new());
/// assert_eq!(predictor.accept(), "application/json");
/// ```
#[derive(Debug, Clone)]
pub struct Predictor<S = IdentitySerializer, D = BytesDeserializer> {
    endpoint_name: String,
    session: Session,
    serializer: S,
    deserializer: D,
    defaults: InvokeOptions,
}

impl Predictor {
    /// A predictor for an existing endpoint, passing bytes through.
    pub fn attach(endpoint_name: impl Into<String>, session: Session) -> Predictor {
        Predictor::new(
            endpoint_name,
            session,
            IdentitySerializer::default(),
            BytesDeserializer,
        )
    }
}

impl<S, D> Predictor<S, D> {
    /// A predictor with explicit codecs.
    pub fn new(
        endpoint_name: impl Into<String>,
        session: Session,
        serializer: S,
        deserializer: D,
    ) -> Self {
        Predictor {
            endpoint_name: endpoint_name.into(),
            session,
            serializer,
            deserializer,
            defaults: InvokeOptions::default(),
        }
    }

    /// The same endpoint with another serializer.
    pub fn with_serializer<S2>(self, serializer: S2) -> Predictor<S2, D> {
        Predictor {
            endpoint_name: self.endpoint_name,
            session: self.session,
            serializer,
            deserializer: self.deserializer,
            defaults: self.defaults,
        }
    }

    /// The same endpoint with another deserializer.
    pub fn with_deserializer<D2>(self, deserializer: D2) -> Predictor<S, D2> {
        Predictor {
            endpoint_name: self.endpoint_name,
            session: self.session,
            serializer: self.serializer,
            deserializer,
            defaults: self.defaults,
        }
    }

    /// Options applied to every call (a call's own options win).
    pub fn with_options(mut self, options: InvokeOptions) -> Self {
        self.defaults = options;
        self
    }

    /// The endpoint's name.
    pub fn endpoint_name(&self) -> &str {
        &self.endpoint_name
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The serializer.
    pub fn serializer(&self) -> &S {
        &self.serializer
    }

    /// The deserializer.
    pub fn deserializer(&self) -> &D {
        &self.deserializer
    }

    /// The options applied to every call.
    pub fn options(&self) -> &InvokeOptions {
        &self.defaults
    }

    /// Invokes the endpoint with a raw request (the endpoint name is filled in).
    pub async fn predict_raw(
        &self,
        mut request: InvokeEndpointRequest,
    ) -> Result<InvokeEndpointResponse> {
        request.endpoint_name = self.endpoint_name.clone();
        self.session.backend().invoke_endpoint(request).await
    }

    /// `DescribeEndpoint`.
    pub async fn describe_endpoint(&self) -> Result<EndpointDescription> {
        self.session
            .backend()
            .describe_endpoint(&self.endpoint_name)
            .await
    }

    /// Deletes the endpoint, and its endpoint config with [`DeleteEndpoint::AndConfig`] (the
    /// Python SDK's default).
    pub async fn delete_endpoint(&self, what: DeleteEndpoint) -> Result<()> {
        let backend = self.session.backend();
        let config = if what == DeleteEndpoint::AndConfig {
            Some(
                backend
                    .describe_endpoint(&self.endpoint_name)
                    .await?
                    .endpoint_config_name,
            )
        } else {
            None
        };
        backend.delete_endpoint(&self.endpoint_name).await?;
        if let Some(config) = config {
            match backend.delete_endpoint_config(&config).await {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Deletes the models of the endpoint's current config.
    pub async fn delete_model(&self) -> Result<()> {
        let backend = self.session.backend();
        let endpoint = backend.describe_endpoint(&self.endpoint_name).await?;
        let config = backend
            .describe_endpoint_config(&endpoint.endpoint_config_name)
            .await?;
        for variant in config.production_variants {
            match backend.delete_model(&variant.model_name).await {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Switches the endpoint to another endpoint config (`UpdateEndpoint`) and, unless `wait`
    /// is false, waits until it is `InService` again. Requests keep being served meanwhile.
    pub async fn update_endpoint(
        &self,
        endpoint_config_name: &str,
        wait: bool,
    ) -> Result<EndpointDescription> {
        let backend = self.session.backend();
        backend
            .update_endpoint(&self.endpoint_name, endpoint_config_name)
            .await?;
        if wait {
            self.session
                .wait_for_endpoint(&self.endpoint_name, &WaitConfig::default())
                .await
        } else {
            backend.describe_endpoint(&self.endpoint_name).await
        }
    }
}

impl<S, D: Deserializer> Predictor<S, D> {
    /// Serializes `data`, invokes the endpoint and deserializes the answer.
    pub async fn predict<T: ?Sized>(&self, data: &T) -> Result<D::Output>
    where
        S: Serializer<T>,
    {
        self.predict_with(data, &InvokeOptions::default()).await
    }

    /// [`Predictor::predict`] with per-call options.
    pub async fn predict_with<T: ?Sized>(
        &self,
        data: &T,
        options: &InvokeOptions,
    ) -> Result<D::Output>
    where
        S: Serializer<T>,
    {
        let body = self.serializer.serialize(data)?;
        let pick = |call: &Option<String>, default: &Option<String>| {
            call.clone().or_else(|| default.clone())
        };
        let mut request = InvokeEndpointRequest::new(self.endpoint_name.clone(), body);
        request.content_type = Some(
            pick(&options.content_type, &self.defaults.content_type)
                .unwrap_or_else(|| self.serializer.content_type().to_string()),
        );
        request.accept = Some(
            pick(&options.accept, &self.defaults.accept)
                .unwrap_or_else(|| self.deserializer.accept().to_string()),
        );
        request.custom_attributes =
            pick(&options.custom_attributes, &self.defaults.custom_attributes);
        request.target_variant = pick(&options.target_variant, &self.defaults.target_variant);
        request.inference_id = pick(&options.inference_id, &self.defaults.inference_id);
        let response = self.session.backend().invoke_endpoint(request).await?;
        self.deserializer
            .deserialize(&response.body, response.content_type.as_deref())
            .map_err(|e| {
                e.prefixed(format!(
                    "decoding the answer of endpoint '{}'",
                    self.endpoint_name
                ))
            })
    }
}

impl<S, D: Deserializer> Predictor<S, D> {
    /// The Accept header this predictor sends (the deserializer's, unless overridden).
    pub fn accept(&self) -> &str {
        self.defaults
            .accept
            .as_deref()
            .unwrap_or_else(|| self.deserializer.accept())
    }
}
