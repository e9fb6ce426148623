//! The runtime API: `InvokeEndpoint` and `InvokeEndpointAsync`.

use crate::uri::StorageUri;

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

    /// Checks the API's limits on the TTL, the timeout and the inference id (part of
    /// [`InvokeEndpointAsyncRequest::validate`]).
    pub fn validate_limits(&self) -> crate::Result<()> {
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
