//! The one public error type of the SDK.

use std::fmt;

/// What went wrong, in a form a caller can branch on.
///
/// Details (a job's failure reason, a model's original status code, ...) are in the
/// [`Error`]'s context, not in the kind, so new details never break a `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A builder or request was given a value it cannot accept (names the field).
    InvalidConfig,
    /// The backend rejected a request as invalid (SageMaker's `ValidationException`).
    Validation,
    /// The named resource (job, model, endpoint, object) does not exist.
    NotFound,
    /// A resource with that name already exists.
    AlreadyExists,
    /// The backend does not support this operation or option.
    Unsupported,
    /// A training or transform job ended `Failed`; the context holds the job name, status,
    /// failure reason and the tail of the job's log.
    JobFailed,
    /// An endpoint ended `Failed` (its model could not load); the context holds the
    /// endpoint name and the failure reason.
    EndpointFailed,
    /// The model is still loading (`ModelNotReadyException`); try again shortly.
    ModelNotReady,
    /// An asynchronous inference has no result yet (neither its output nor its failure
    /// object exists): it is queued or running. The Python SDK's `ObjectNotExistedError`.
    ResultNotReady,
    /// A wait ran past its timeout.
    Timeout,
    /// A wait was cancelled by its caller.
    Cancelled,
    /// The model (container) answered an invocation with an error.
    ModelError,
    /// A payload is larger than the limit.
    PayloadTooLarge,
    /// The backend refused the call because of rate or concurrency limits; retry later.
    Throttled,
    /// Input data could not be read as the declared format (CSV, JSON, ...).
    Data,
    /// A file-system or network I/O error.
    Io,
    /// A value could not be encoded or decoded.
    Serialization,
    /// An archive or file is unsafe to open (path traversal, links, bombs).
    UnsafeArtifact,
    /// A bug or an unexpected state inside the SDK or a container.
    Internal,
}

impl ErrorKind {
    /// A short, stable, human readable name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid configuration",
            ErrorKind::Validation => "validation error",
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::JobFailed => "job failed",
            ErrorKind::EndpointFailed => "endpoint failed",
            ErrorKind::ModelNotReady => "model not ready",
            ErrorKind::ResultNotReady => "result not ready",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::ModelError => "model error",
            ErrorKind::PayloadTooLarge => "payload too large",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Data => "invalid data",
            ErrorKind::Io => "I/O error",
            ErrorKind::Serialization => "serialization error",
            ErrorKind::UnsafeArtifact => "unsafe artifact",
            ErrorKind::Internal => "internal error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Well-known context keys, so callers and backends agree on spelling.
pub mod context {
    /// The name of the job, model or endpoint the error is about.
    pub const RESOURCE: &str = "resource";
    /// The job name of a failed job.
    pub const JOB_NAME: &str = "job_name";
    /// The status a job ended in.
    pub const STATUS: &str = "status";
    /// The job's `FailureReason`.
    pub const FAILURE_REASON: &str = "failure_reason";
    /// The last lines of the job's log.
    pub const LOG_TAIL: &str = "log_tail";
    /// The builder or request field at fault.
    pub const FIELD: &str = "field";
    /// The backend that raised the error.
    pub const BACKEND: &str = "backend";
    /// The operation that raised the error.
    pub const OPERATION: &str = "operation";
    /// A model error's original HTTP status code.
    pub const ORIGINAL_STATUS_CODE: &str = "original_status_code";
    /// A model error's original message.
    pub const ORIGINAL_MESSAGE: &str = "original_message";
    /// A file or object path the error is about.
    pub const PATH: &str = "path";
    /// A model error's log stream ARN.
    pub const LOG_STREAM_ARN: &str = "log_stream_arn";
    /// The production variant that answered or failed.
    pub const VARIANT: &str = "variant";
    /// Where an asynchronous inference's result is (or will be) written.
    pub const OUTPUT_LOCATION: &str = "output_location";
    /// Where an asynchronous inference's failure is (or will be) written.
    pub const FAILURE_LOCATION: &str = "failure_location";
    /// The id of an (asynchronous) inference.
    pub const INFERENCE_ID: &str = "inference_id";
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The SDK's error: a [`ErrorKind`], a message saying what and where, optional context
/// (key/value details such as the job name) and an optional source error.
///
/// ```
/// use sagemaker_core::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::NotFound, "training job 'x' does not exist")
///     .with_context("resource", "x");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert_eq!(err.context("resource"), Some("x"));
/// assert!(!err.is_temporary());
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    context: Vec<(&'static str, String)>,
    source: Option<BoxError>,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            context: Vec::new(),
            source: None,
        }
    }

    /// An [`ErrorKind::InvalidConfig`] error naming `field`.
    pub fn invalid_config(field: &str, message: impl fmt::Display) -> Self {
        Error::new(ErrorKind::InvalidConfig, format!("{field}: {message}"))
            .with_context(context::FIELD, field)
    }

    /// An [`ErrorKind::Unsupported`] error naming the backend and the operation.
    pub fn unsupported(backend: &str, operation: &str) -> Self {
        Error::new(
            ErrorKind::Unsupported,
            format!("the {backend} backend does not support {operation}"),
        )
        .with_context(context::BACKEND, backend)
        .with_context(context::OPERATION, operation)
    }

    /// An [`ErrorKind::NotFound`] error for a resource of `what` (e.g. "training job").
    pub fn not_found(what: &str, name: &str) -> Self {
        Error::new(
            ErrorKind::NotFound,
            format!("{what} '{name}' does not exist"),
        )
        .with_context(context::RESOURCE, name)
    }

    /// An [`ErrorKind::Io`] error about `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        let path = path.as_ref();
        Error::new(ErrorKind::Io, format!("{}: {source}", path.display()))
            .with_context(context::PATH, path.display().to_string())
            .with_source(source)
    }

    /// Adds a context entry (replacing an earlier one with the same key).
    pub fn with_context(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.context.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.context.push((key, value)),
        }
        self
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Prefixes the message with where it happened, keeping kind, context and source.
    pub fn prefixed(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message (what and where), without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A context value by key (see [`context`] for the well-known keys).
    pub fn context(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All context entries, in the order they were added.
    pub fn context_entries(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.context.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// For [`ErrorKind::JobFailed`]: the failed job's name.
    pub fn job_name(&self) -> Option<&str> {
        self.context(context::JOB_NAME)
    }

    /// For [`ErrorKind::JobFailed`]: the job's `FailureReason`.
    pub fn failure_reason(&self) -> Option<&str> {
        self.context(context::FAILURE_REASON)
    }

    /// For [`ErrorKind::JobFailed`]: the last lines of the job's log.
    pub fn log_tail(&self) -> Option<&str> {
        self.context(context::LOG_TAIL)
    }

    /// Whether retrying the same call later may succeed (throttling, timeouts, transient I/O).
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled
                | ErrorKind::Timeout
                | ErrorKind::Io
                | ErrorKind::ModelNotReady
                | ErrorKind::ResultNotReady
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if !self.context.is_empty() {
            d.field("context", &self.context);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if self.kind == ErrorKind::JobFailed
            && let Some(tail) = self.log_tail()
            && !tail.is_empty()
        {
            write!(f, "\n--- last lines of the job log ---\n{tail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, e.to_string()).with_source(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new(ErrorKind::Serialization, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_replaces_and_reads_back() {
        let e = Error::new(ErrorKind::JobFailed, "boom")
            .with_context(context::JOB_NAME, "a")
            .with_context(context::JOB_NAME, "b")
            .with_context(context::LOG_TAIL, "line 1\nline 2");
        assert_eq!(e.job_name(), Some("b"));
        assert_eq!(e.context_entries().count(), 2);
        let shown = e.to_string();
        assert!(shown.starts_with("job failed: boom"), "{shown}");
        assert!(shown.contains("line 2"), "{shown}");
    }

    #[test]
    fn temporary_kinds() {
        assert!(Error::new(ErrorKind::Throttled, "x").is_temporary());
        assert!(Error::new(ErrorKind::ResultNotReady, "x").is_temporary());
        assert!(!Error::new(ErrorKind::ModelError, "x").is_temporary());
        assert!(!Error::new(ErrorKind::InvalidConfig, "x").is_temporary());
    }
}
