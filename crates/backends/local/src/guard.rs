//! Panics become failures at each boundary where user code (a model's handler, a notification
//! callback) or our own code runs on behalf of a request or a job: the job ends `Failed`, the
//! request gets its failure, the HTTP client gets a `ModelError`, and the worker keeps going.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use sagemaker_core::container::{Handler, InvocationError, InvocationRequest, InvocationResponse};
use sagemaker_core::error::context;
use sagemaker_core::{Error, ErrorKind};

/// The text a panic was raised with (`panic!("...")` payloads are `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `f`, turning a panic into `Err(message)`.
///
/// The state `f` touches may be half-updated after a panic; every caller either drops that
/// state or only reads it again through a lock that tolerates poisoning.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(p.as_ref()))
}

/// Invokes a model's handler; a panic is the model's failure to answer, a 500 from the
/// container, as SageMaker reports a container that crashes on a request.
pub(crate) fn invoke(
    handler: &dyn Handler,
    request: &InvocationRequest,
) -> Result<InvocationResponse, InvocationError> {
    catch(|| handler.invoke(request))
        .unwrap_or_else(|message| Err(InvocationError::new(500, panicked(&message))))
}

fn panicked(message: &str) -> String {
    format!("the model panicked: {message}")
}

/// A future that reports a panic in `poll` as `Err(message)` instead of unwinding.
pub(crate) struct CatchPanic<F>(Pin<Box<F>>);

impl<F: Future> CatchPanic<F> {
    pub(crate) fn new(future: F) -> Self {
        CatchPanic(Box::pin(future))
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch(|| self.0.as_mut().poll(cx)) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(message) => Poll::Ready(Err(message)),
        }
    }
}

/// Router middleware: a handler that panics answers `424 ModelError` with
/// `OriginalStatusCode` 500 and the panic message. Never a `500 InternalFailure`: the AWS SDKs
/// retry those, straight into the same panic.
pub(crate) async fn catch_panic_layer(request: Request, next: Next) -> Response {
    match CatchPanic::new(next.run(request)).await {
        Ok(response) => response,
        Err(message) => {
            tracing::error!(target: "sagemaker::local", "a request handler panicked: {message}");
            let text = panicked(&message);
            crate::server::error_response(
                &Error::new(
                    ErrorKind::ModelError,
                    format!("Received server error (500) from primary with message \"{text}\"."),
                )
                .with_context(context::ORIGINAL_STATUS_CODE, "500")
                .with_context(context::ORIGINAL_MESSAGE, text),
            )
        }
    }
}

/// Router middleware for the container contract (`/invocations` on port 8080): a panic is the
/// container's own `500` with the panic message, as a crashed model server answers.
pub(crate) async fn catch_panic_as_container(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    match CatchPanic::new(next.run(request)).await {
        Ok(response) => response,
        Err(message) => {
            tracing::error!(target: "sagemaker::local", "a request handler panicked: {message}");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                panicked(&message),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Boom;

    impl Handler for Boom {
        fn invoke(
            &self,
            request: &InvocationRequest,
        ) -> Result<InvocationResponse, InvocationError> {
            if request.body == b"boom" {
                panic!("cannot read {}", String::from_utf8_lossy(&request.body));
            }
            Ok(InvocationResponse::new(request.body.clone(), "text/plain"))
        }
    }

    #[test]
    fn a_panicking_handler_is_a_500_and_the_next_call_is_served() {
        let e = invoke(&Boom, &InvocationRequest::new("boom", "text/plain")).unwrap_err();
        assert_eq!(e.status, 500);
        assert_eq!(e.message, "the model panicked: cannot read boom");
        let ok = invoke(&Boom, &InvocationRequest::new("fine", "text/plain")).unwrap();
        assert_eq!(ok.body, b"fine");
    }

    #[tokio::test]
    async fn a_panicking_future_is_an_error() {
        let r = CatchPanic::new(async {
            tokio::task::yield_now().await;
            if std::hint::black_box(true) {
                panic!("late");
            }
            1
        })
        .await;
        assert_eq!(r, Err("late".to_string()));
        assert_eq!(CatchPanic::new(async { 2 }).await, Ok(2));
    }
}
