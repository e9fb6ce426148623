//! The local backend's HTTP server: the SageMaker Runtime API (`POST
//! /endpoints/{name}/invocations`) and a health route per endpoint, on one listener bound to
//! 127.0.0.1 unless configured otherwise. Answers follow the wire contract the AWS SDKs parse
//! (`x-amzn-ErrorType` header, a JSON object body with `Message`, SageMaker's status codes).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sagemaker_core::error::context;
use sagemaker_core::spec::{EndpointStatus, InvokeEndpointAsyncRequest, InvokeEndpointRequest};
use sagemaker_core::{Error, ErrorKind};

use crate::Inner;
use crate::endpoints::MAX_PAYLOAD_BYTES;

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

fn request_id() -> HeaderValue {
    let n = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let id = format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        std::process::id(),
        (n >> 48) & 0xffff,
        n & 0xffff_ffff_ffff
    );
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("local"))
}

/// The router for a backend.
pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/ping", get(|| async { StatusCode::OK }))
        .route("/endpoints/{name}/invocations", post(invoke))
        .route("/endpoints/{name}/async-invocations", post(invoke_async))
        .route("/endpoints/{name}/ping", get(ping))
        .layer(axum::middleware::from_fn(crate::guard::catch_panic_layer))
        .with_state(inner)
}

/// The container contract of one endpoint (`GET /ping`, `POST /invocations`), as a
/// SageMaker image serves it on port 8080: errors are the container's own status and message,
/// not wrapped in a `ModelError`.
pub(crate) fn container_router(inner: Arc<Inner>, endpoint: String) -> Router {
    let ping_endpoint = endpoint.clone();
    let ping_inner = inner.clone();
    Router::new()
        .route(
            "/ping",
            get(move || {
                let (inner, name) = (ping_inner.clone(), ping_endpoint.clone());
                async move { ping(State(inner), Path(name)).await }
            }),
        )
        .route(
            "/invocations",
            post(move |headers: HeaderMap, body: Body| {
                let (inner, name) = (inner.clone(), endpoint.clone());
                async move {
                    let response = invoke(State(inner), Path(name), headers, body).await;
                    unwrap_model_error(response).await
                }
            }),
        )
        .layer(axum::middleware::from_fn(
            crate::guard::catch_panic_as_container,
        ))
}

/// Turns a runtime-API `ModelError` back into the container's own answer.
async fn unwrap_model_error(response: Response) -> Response {
    if response.status() != StatusCode::FAILED_DEPENDENCY {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), MAX_PAYLOAD_BYTES)
        .await
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let status = v["OriginalStatusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        v["OriginalMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
        .into_response()
}

/// Serves `router` on `listener` until the runtime shuts down.
pub(crate) async fn serve(listener: tokio::net::TcpListener, router: Router) {
    if let Err(e) = axum::serve(listener, router).await {
        tracing::error!(target: "sagemaker::local", "the local endpoint server stopped: {e}");
    }
}

fn header_str(headers: &HeaderMap, name: &str) -> Result<Option<String>, Error> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.to_string())).map_err(|_| {
            Error::new(
                ErrorKind::Validation,
                format!("header {name} is not visible ASCII"),
            )
        }),
    }
}

async fn invoke(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Refuse an oversized payload from its Content-Length, before reading it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PAYLOAD_BYTES as u64) {
        // Discard (never buffer) what the client is still sending, so it reads the 413
        // instead of a broken pipe; a client that sends more than the cap gets cut off.
        drain(body, DRAIN_CAP_BYTES).await;
        return too_large();
    }
    let bytes = match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    let request = (|| -> Result<InvokeEndpointRequest, Error> {
        let mut r = InvokeEndpointRequest::new(name.clone(), bytes.to_vec());
        r.content_type = header_str(&headers, "content-type")?;
        r.accept = header_str(&headers, "accept")?;
        r.custom_attributes = header_str(&headers, "x-amzn-sagemaker-custom-attributes")?;
        r.target_variant = header_str(&headers, "x-amzn-sagemaker-target-variant")?;
        r.inference_id = header_str(&headers, "x-amzn-sagemaker-inference-id")?;
        Ok(r)
    })();
    let result = request.and_then(|r| inner.invoke_endpoint(&r));
    match result {
        Ok(answer) => {
            let mut response = Response::new(Body::from(answer.body));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(
                    answer
                        .content_type
                        .as_deref()
                        .unwrap_or("application/octet-stream"),
                )
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            );
            if let Some(v) = answer
                .invoked_production_variant
                .and_then(|v| HeaderValue::from_str(&v).ok())
            {
                h.insert(
                    HeaderName::from_static("x-amzn-invoked-production-variant"),
                    v,
                );
            }
            if let Some(v) = answer
                .custom_attributes
                .and_then(|v| HeaderValue::from_str(&v).ok())
            {
                h.insert(
                    HeaderName::from_static("x-amzn-sagemaker-custom-attributes"),
                    v,
                );
            }
            h.insert(HeaderName::from_static("x-amzn-requestid"), request_id());
            response
        }
        Err(e) => error_response(&e),
    }
}

/// `InvokeEndpointAsync` (botocore's `sagemaker-runtime` model): every input in a header,
/// `202 Accepted` with `{"InferenceId": ...}` and the locations in headers.
async fn invoke_async(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let seconds = |h: &str| -> Result<Option<u32>, Error> {
        header_str(&headers, h)?
            .map(|v| {
                v.trim().parse::<u32>().map_err(|_| {
                    Error::new(
                        ErrorKind::Validation,
                        format!("header {h} must be a whole number of seconds"),
                    )
                })
            })
            .transpose()
    };
    let request = (|| -> Result<InvokeEndpointAsyncRequest, Error> {
        let input = header_str(&headers, "x-amzn-sagemaker-inputlocation")?.ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "1 validation error detected: Value null at 'inputLocation' failed to satisfy constraint: Member must not be null",
            )
        })?;
        let input = input.parse().map_err(|e: Error| {
            Error::new(
                ErrorKind::Validation,
                format!("InputLocation: {}", e.message()),
            )
        })?;
        let mut r = InvokeEndpointAsyncRequest::new(name.clone(), input);
        r.content_type = header_str(&headers, "x-amzn-sagemaker-content-type")?;
        r.accept = header_str(&headers, "x-amzn-sagemaker-accept")?;
        r.custom_attributes = header_str(&headers, "x-amzn-sagemaker-custom-attributes")?;
        r.inference_id = header_str(&headers, "x-amzn-sagemaker-inference-id")?;
        r.request_ttl_seconds = seconds("x-amzn-sagemaker-requestttlseconds")?;
        r.invocation_timeout_seconds = seconds("x-amzn-sagemaker-invocationtimeoutseconds")?;
        Ok(r)
    })();
    match request.and_then(|r| inner.invoke_endpoint_async(r)) {
        Ok(answer) => {
            let mut response = json_response(
                StatusCode::ACCEPTED,
                None,
                serde_json::json!({ "InferenceId": answer.inference_id }),
            );
            let h = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&answer.output_location.to_string()) {
                h.insert(
                    HeaderName::from_static("x-amzn-sagemaker-outputlocation"),
                    v,
                );
            }
            if let Some(v) = answer
                .failure_location
                .and_then(|f| HeaderValue::from_str(&f.to_string()).ok())
            {
                h.insert(
                    HeaderName::from_static("x-amzn-sagemaker-failurelocation"),
                    v,
                );
            }
            response
        }
        Err(e) => error_response(&e),
    }
}

async fn ping(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    match inner.describe_endpoint(&name) {
        Ok(d) if d.endpoint_status == EndpointStatus::InService => StatusCode::OK.into_response(),
        Ok(d) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("endpoint {name} is {}", d.endpoint_status),
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            format!("endpoint {name} does not exist"),
        )
            .into_response(),
    }
}

/// How much of an oversized body is read and thrown away before answering 413.
const DRAIN_CAP_BYTES: usize = 64 * 1024 * 1024;

/// Reads and discards up to `cap` bytes of `body`, stopping as soon as the client pauses
/// (one that sent only the head and waits for the answer gets it after the pause).
async fn drain(body: Body, cap: usize) {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Ok(Some(Ok(chunk))) =
        tokio::time::timeout(std::time::Duration::from_millis(200), stream.next()).await
    {
        seen += chunk.len();
        if seen > cap {
            break;
        }
    }
}

fn too_large() -> Response {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        serde_json::json!({ "message": format!("HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes.") }),
    )
}

fn json_response(
    status: StatusCode,
    error_type: Option<&'static str>,
    body: serde_json::Value,
) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(t) = error_type {
        h.insert(
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_static(t),
        );
    }
    h.insert(HeaderName::from_static("x-amzn-requestid"), request_id());
    response
}

/// The SageMaker Runtime wire form of an error (the errors of `InvokeEndpoint` in the API
/// reference: <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html>).
pub(crate) fn error_response(e: &Error) -> Response {
    let message = e.message().to_string();
    match e.kind() {
        ErrorKind::ModelError => {
            let status: u16 = e
                .context(context::ORIGINAL_STATUS_CODE)
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
            json_response(
                StatusCode::FAILED_DEPENDENCY,
                Some("ModelError"),
                serde_json::json!({
                    "Message": message,
                    "OriginalStatusCode": status,
                    "OriginalMessage": e.context(context::ORIGINAL_MESSAGE).unwrap_or_default(),
                    "LogStreamArn": e.context(context::LOG_STREAM_ARN).unwrap_or_default(),
                }),
            )
        }
        ErrorKind::Validation | ErrorKind::NotFound | ErrorKind::InvalidConfig => json_response(
            StatusCode::BAD_REQUEST,
            Some("ValidationError"),
            serde_json::json!({ "Message": message }),
        ),
        ErrorKind::PayloadTooLarge => json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            serde_json::json!({ "message": message }),
        ),
        ErrorKind::ModelNotReady => json_response(
            StatusCode::TOO_MANY_REQUESTS,
            Some("ModelNotReadyException"),
            serde_json::json!({ "Message": message }),
        ),
        ErrorKind::Throttled => json_response(
            StatusCode::BAD_REQUEST,
            Some("ThrottlingException"),
            serde_json::json!({ "message": message }),
        ),
        _ => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("InternalFailure"),
            serde_json::json!({ "Message": message }),
        ),
    }
}

/// Binds a listener (synchronously, so address errors surface at once).
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
