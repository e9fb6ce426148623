//! `AsyncPredictor`: asynchronous inference through the object store (the Python SDK's
//! `sagemaker.predictor_async.AsyncPredictor`).
//!
//! It uses only the [`Session`]'s backend (`InvokeEndpointAsync`) and object store
//! (`put_bytes`, `exists`, `get_bytes`), so it runs unchanged wherever the store is S3.

use std::time::Duration;

use sagemaker_core::error::context;
use sagemaker_core::spec::{EndpointDescription, InvokeEndpointAsyncRequest};
use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri, WaitConfig, names};

use crate::codecs::{BytesDeserializer, Deserializer, IdentitySerializer, Serializer};
use crate::predictor::{InvokeOptions, Predictor};

/// Makes asynchronous predictions: the input goes to the store, the endpoint queues the
/// request, and the result appears at an output location (or the failure at a failure
/// location). Wraps a [`Predictor`] and reuses its session and codecs.
///
/// ```
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() -> sagemaker_core::Result<()> {
/// use std::time::Duration;
/// use sagemaker_core::testkit::ConformanceContainer;
/// use sagemaker_core::WaitConfig;
/// use sagemaker_core::spec::*;
/// use sagemaker_predictor::{AsyncPredictor, Predictor, StringDeserializer};
///
/// let root = tempfile::tempdir().unwrap();
/// let session = sagemaker_local::LocalSession::builder()
///     .root(root.path())
///     .container("echo", ConformanceContainer)
///     .build()?;
/// # let b = session.backend();
/// # b.create_model(ModelSpec { model_name: "m".into(), primary_container: ContainerDefinition {
/// #     image: "echo".into(), model_data_url: None, environment: Default::default() },
/// #     execution_role_arn: None, vpc_config: None, tags: vec![] }).await?;
/// # let mut config = AsyncInferenceConfig::default();
/// # config.output_config.s3_output_path = Some("s3://sagemaker-local/async/out".parse()?);
/// # config.output_config.s3_failure_path = Some("s3://sagemaker-local/async/failed".parse()?);
/// # b.create_endpoint_config(EndpointConfigSpec { endpoint_config_name: "echo-async".into(),
/// #     production_variants: vec![ProductionVariant { variant_name: "AllTraffic".into(),
/// #         model_name: "m".into(), initial_instance_count: Some(1),
/// #         instance_type: Some("local".into()), initial_variant_weight: 1.0,
/// #         serverless_config: None }],
/// #     async_inference_config: Some(config), tags: vec![] }).await?;
/// # b.create_endpoint(EndpointSpec { endpoint_name: "echo-async".into(),
/// #     endpoint_config_name: "echo-async".into(), tags: vec![] }).await?;
/// # session.wait_for_endpoint("echo-async", &WaitConfig::default()).await?;
/// // An endpoint deployed with an AsyncInferenceConfig ("echo-async" here).
/// let predictor = AsyncPredictor::new(
///     Predictor::attach("echo-async", session.clone()).with_deserializer(StringDeserializer),
/// );
/// let response = predictor.predict_async("hello").await?;
/// assert!(response.output_path().to_string().starts_with("s3://sagemaker-local/async/out/"));
/// let wait = WaitConfig::default().timeout(Duration::from_secs(60));
/// assert_eq!(response.get_result(Some(&wait)).await?, "|hello");
///
/// // Or in one call.
/// assert_eq!(predictor.predict("again", &wait).await?, "|again");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AsyncPredictor<S = IdentitySerializer, D = BytesDeserializer> {
    predictor: Predictor<S, D>,
    request_ttl_seconds: Option<u32>,
    invocation_timeout_seconds: Option<u32>,
}

impl<S, D> AsyncPredictor<S, D> {
    /// Wraps `predictor` (the Python SDK's `AsyncPredictor(predictor)`).
    pub fn new(predictor: Predictor<S, D>) -> Self {
        AsyncPredictor {
            predictor,
            request_ttl_seconds: None,
            invocation_timeout_seconds: None,
        }
    }

    /// The wrapped real-time predictor.
    pub fn predictor(&self) -> &Predictor<S, D> {
        &self.predictor
    }

    /// The endpoint's name.
    pub fn endpoint_name(&self) -> &str {
        self.predictor.endpoint_name()
    }

    /// The session.
    pub fn session(&self) -> &Session {
        self.predictor.session()
    }

    /// `RequestTTLSeconds` of every request (60–21 600; the backend checks).
    pub fn with_request_ttl_seconds(mut self, seconds: u32) -> Self {
        self.request_ttl_seconds = Some(seconds);
        self
    }

    /// `InvocationTimeoutSeconds` of every request (1–3 600; the backend checks).
    pub fn with_invocation_timeout_seconds(mut self, seconds: u32) -> Self {
        self.invocation_timeout_seconds = Some(seconds);
        self
    }

    /// `DescribeEndpoint`.
    pub async fn describe_endpoint(&self) -> Result<EndpointDescription> {
        self.predictor.describe_endpoint().await
    }

    /// Deletes the endpoint (and its config with [`DeleteEndpoint::AndConfig`](crate::DeleteEndpoint)). Queued requests end
    /// explicitly: each gets its result or its failure object.
    pub async fn delete_endpoint(&self, what: crate::DeleteEndpoint) -> Result<()> {
        self.predictor.delete_endpoint(what).await
    }

    /// Deletes the endpoint's models.
    pub async fn delete_model(&self) -> Result<()> {
        self.predictor.delete_model().await
    }
}

impl<S, D: Deserializer + Clone> AsyncPredictor<S, D> {
    /// Serializes `data`, uploads it to
    /// `s3://{default bucket}/async-endpoint-inputs/{timestamp}-{uuid}` and queues it.
    pub async fn predict_async<T: ?Sized>(&self, data: &T) -> Result<AsyncInferenceResponse<D>>
    where
        S: Serializer<T>,
    {
        self.predict_async_with(Some(data), None, &InvokeOptions::default())
            .await
    }

    /// Queues the input already at `input_path`; it must exist ([`ErrorKind::NotFound`]
    /// otherwise).
    pub async fn predict_async_from(&self, input_path: &str) -> Result<AsyncInferenceResponse<D>> {
        self.invoke(None, Some(input_path), &InvokeOptions::default())
            .await
    }

    /// The Python SDK's `predict_async(data=None, input_path=None, ...)`: `data` is
    /// serialized and uploaded to `input_path` (or the default input path); without
    /// `data`, the object at `input_path` is the input. Neither is
    /// [`ErrorKind::InvalidConfig`]. `options` may set the inference id, custom attributes,
    /// content type and accept (not a target variant: async requests have none).
    pub async fn predict_async_with<T: ?Sized>(
        &self,
        data: Option<&T>,
        input_path: Option<&str>,
        options: &InvokeOptions,
    ) -> Result<AsyncInferenceResponse<D>>
    where
        S: Serializer<T>,
    {
        let body = match data {
            Some(d) => Some((
                self.predictor.serializer().serialize(d)?,
                self.predictor.serializer().content_type().to_string(),
            )),
            None => None,
        };
        self.invoke(body, input_path, options).await
    }

    /// [`AsyncPredictor::predict_async`], then waits for the result as `wait` says and
    /// deserializes it (the Python SDK's `predict(data, waiter_config=...)`).
    pub async fn predict<T: ?Sized>(&self, data: &T, wait: &WaitConfig) -> Result<D::Output>
    where
        S: Serializer<T>,
    {
        self.predict_async(data).await?.get_result(Some(wait)).await
    }

    async fn invoke(
        &self,
        body: Option<(Vec<u8>, String)>,
        input_path: Option<&str>,
        options: &InvokeOptions,
    ) -> Result<AsyncInferenceResponse<D>> {
        let defaults = self.predictor.options();
        if options.target_variant.is_some() || defaults.target_variant.is_some() {
            return Err(Error::invalid_config(
                "target_variant",
                "asynchronous requests cannot target a variant",
            ));
        }
        let input_path = input_path
            .map(|p| {
                p.parse::<StorageUri>()
                    .map_err(|e| Error::invalid_config("input_path", e.message()))
            })
            .transpose()?;
        let session = self.predictor.session();
        let store = session.store();
        let mut content_type = None;
        let input = match (body, input_path) {
            (None, None) => {
                return Err(Error::invalid_config(
                    "data",
                    "predict_async needs data or an input_path",
                ));
            }
            (None, Some(path)) => {
                if !store.exists(&path).await? {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!("the input {path} does not exist"),
                    )
                    .with_context(context::PATH, path.to_string()));
                }
                path
            }
            (Some((bytes, ct)), path) => {
                let path = match path {
                    Some(p) => p,
                    None => StorageUri::s3(
                        session.default_bucket().await?,
                        format!(
                            "async-endpoint-inputs/{}-{}",
                            names::sagemaker_timestamp(),
                            names::unique_id()
                        ),
                    ),
                };
                store.put_bytes(bytes, &path).await?;
                content_type = Some(ct);
                path
            }
        };
        let pick = |call: &Option<String>, default: &Option<String>| {
            call.clone().or_else(|| default.clone())
        };
        let mut request = InvokeEndpointAsyncRequest::new(self.endpoint_name(), input);
        request.content_type = pick(&options.content_type, &defaults.content_type).or(content_type);
        request.accept = Some(
            pick(&options.accept, &defaults.accept)
                .unwrap_or_else(|| self.predictor.deserializer().accept().to_string()),
        );
        request.custom_attributes = pick(&options.custom_attributes, &defaults.custom_attributes);
        request.inference_id = pick(&options.inference_id, &defaults.inference_id);
        request.request_ttl_seconds = self.request_ttl_seconds;
        request.invocation_timeout_seconds = self.invocation_timeout_seconds;
        let response = session.backend().invoke_endpoint_async(request).await?;
        Ok(AsyncInferenceResponse {
            session: session.clone(),
            deserializer: self.predictor.deserializer().clone(),
            inference_id: response.inference_id,
            output_path: response.output_location,
            failure_path: response.failure_location,
        })
    }
}

/// Where an asynchronous inference's result will be (the Python SDK's
/// `AsyncInferenceResponse`).
#[derive(Debug, Clone)]
pub struct AsyncInferenceResponse<D = BytesDeserializer> {
    session: Session,
    deserializer: D,
    inference_id: String,
    output_path: StorageUri,
    failure_path: Option<StorageUri>,
}

/// What one look at the store found.
enum Found {
    Output,
    Failure,
    Nothing,
}

impl<D> AsyncInferenceResponse<D> {
    /// The request's inference id.
    pub fn inference_id(&self) -> &str {
        &self.inference_id
    }

    /// Where the result will be written.
    pub fn output_path(&self) -> &StorageUri {
        &self.output_path
    }

    /// Where a failure will be written, when the endpoint has a failure path.
    pub fn failure_path(&self) -> Option<&StorageUri> {
        self.failure_path.as_ref()
    }

    async fn look(&self) -> Result<Found> {
        let store = self.session.store();
        let unexpected = |uri: &StorageUri, e: Error| {
            e.prefixed(format!("unexpected storage error reading {uri}"))
                .with_context(context::OUTPUT_LOCATION, self.output_path.to_string())
        };
        if store
            .exists(&self.output_path)
            .await
            .map_err(|e| unexpected(&self.output_path, e))?
        {
            return Ok(Found::Output);
        }
        if let Some(f) = &self.failure_path
            && store.exists(f).await.map_err(|e| unexpected(f, e))?
        {
            return Ok(Found::Failure);
        }
        Ok(Found::Nothing)
    }
}

impl<D: Deserializer> AsyncInferenceResponse<D> {
    /// The result, deserialized.
    ///
    /// With no `wait`: one look. The result if it is there; the model's failure as
    /// [`ErrorKind::ModelError`] (the failure object's body as the message and as the
    /// `original_message` context) if that is there; else [`ErrorKind::ResultNotReady`]
    /// ("Inference could still be running"). With `wait`: looks until one of them appears
    /// (woken by the backend's change feed where there is one, else every poll interval),
    /// giving up with [`ErrorKind::Timeout`] after the wait's timeout. A storage error other
    /// than "not there" keeps its kind, prefixed with "unexpected storage error".
    pub async fn get_result(&self, wait: Option<&WaitConfig>) -> Result<D::Output> {
        let found = match wait {
            None => self.look().await?,
            Some(wait) => {
                let backend = self.session.backend().clone();
                wait.wait_until(
                    &self.inference_id,
                    backend.changes(),
                    || self.look(),
                    |f: &Found| match f {
                        Found::Output => ("Completed".to_string(), true),
                        Found::Failure => ("Failed".to_string(), true),
                        Found::Nothing => ("InProgress".to_string(), false),
                    },
                )
                .await
                .map_err(|e| {
                    if e.kind() == ErrorKind::Timeout {
                        let waited = wait.get_timeout().unwrap_or(Duration::ZERO);
                        Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "Inference could still be running: no result at {} after {:.1?}",
                                self.output_path, waited
                            ),
                        )
                        .with_context(context::OUTPUT_LOCATION, self.output_path.to_string())
                        .with_context(context::INFERENCE_ID, self.inference_id.clone())
                    } else {
                        e
                    }
                })?
            }
        };
        let store = self.session.store();
        match found {
            Found::Output => {
                let bytes = store.get_bytes(&self.output_path).await.map_err(|e| {
                    e.prefixed(format!(
                        "unexpected storage error reading {}",
                        self.output_path
                    ))
                })?;
                self.deserializer
                    .deserialize(&bytes, None)
                    .map_err(|e| e.prefixed(format!("decoding the result at {}", self.output_path)))
            }
            Found::Failure => {
                let f = self.failure_path.as_ref().expect("found a failure path");
                let bytes = store
                    .get_bytes(f)
                    .await
                    .map_err(|e| e.prefixed(format!("unexpected storage error reading {f}")))?;
                let body = String::from_utf8_lossy(&bytes).into_owned();
                Err(Error::new(
                    ErrorKind::ModelError,
                    format!("inference {} failed: {body}", self.inference_id),
                )
                .with_context(context::ORIGINAL_MESSAGE, body)
                .with_context(context::FAILURE_LOCATION, f.to_string())
                .with_context(context::INFERENCE_ID, self.inference_id.clone()))
            }
            Found::Nothing => Err(Error::new(
                ErrorKind::ResultNotReady,
                format!(
                    "Inference could still be running: nothing at {} yet",
                    self.output_path
                ),
            )
            .with_context(context::OUTPUT_LOCATION, self.output_path.to_string())
            .with_context(context::INFERENCE_ID, self.inference_id.clone())),
        }
    }
}
