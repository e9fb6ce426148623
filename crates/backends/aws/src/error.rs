//! AWS SDK errors mapped into the SDK's one [`Error`].

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_types::error::display::DisplayErrorContext;
use sagemaker_core::error::context;
use sagemaker_core::{Error, ErrorKind};

type SdkError<E> =
    aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>;

/// Error codes the services use for rate limiting (SageMaker, S3, STS, CloudWatch Logs).
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "ProvisionedThroughputExceededException",
];

/// Maps an AWS SDK error of `operation` (the API's name, e.g. `DescribeTrainingJob`) about
/// `resource` into the SDK's error.
///
/// SageMaker reports a missing job, model or endpoint as a `ValidationException` whose
/// message says it "Could not find" (or "does not exist"); that becomes `NotFound`.
pub(crate) fn map<E>(operation: &str, resource: &str, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (kind, message) = match &err {
        aws_sdk_s3::error::SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("");
            let msg = e.message().unwrap_or("").to_string();
            (
                classify(code, &msg, status),
                format_service(code, &msg, status),
            )
        }
        aws_sdk_s3::error::SdkError::TimeoutError(_) => (
            ErrorKind::Timeout,
            "the request timed out before the service answered".to_string(),
        ),
        aws_sdk_s3::error::SdkError::DispatchFailure(d) => {
            let kind = if d.is_user() {
                ErrorKind::InvalidConfig
            } else {
                ErrorKind::Io
            };
            (
                kind,
                format!("could not send the request: {}", DisplayErrorContext(&err)),
            )
        }
        aws_sdk_s3::error::SdkError::ResponseError(_) => {
            // E.g. an HTML error page: a proxy, or a mock server without this operation.
            let kind = match status {
                Some(429) => ErrorKind::Throttled,
                Some(500..=599) => ErrorKind::Internal,
                _ => ErrorKind::Internal,
            };
            (
                kind,
                format!(
                    "the service answered HTTP {} with a body that is not a {operation} response",
                    status.map_or("?".to_string(), |s| s.to_string())
                ),
            )
        }
        aws_sdk_s3::error::SdkError::ConstructionFailure(_) => (
            ErrorKind::InvalidConfig,
            format!("could not build the request: {}", DisplayErrorContext(&err)),
        ),
        _ => (ErrorKind::Internal, DisplayErrorContext(&err).to_string()),
    };
    let mut out = Error::new(kind, format!("{operation} '{resource}': {message}"))
        .with_context(context::BACKEND, "aws")
        .with_context(context::OPERATION, operation);
    if !resource.is_empty() {
        out = out.with_context(context::RESOURCE, resource);
    }
    out.with_source(err)
}

fn format_service(code: &str, msg: &str, status: Option<u16>) -> String {
    match (code.is_empty(), msg.is_empty()) {
        (false, false) => format!("{code}: {msg}"),
        (false, true) => code.to_string(),
        (true, false) => msg.to_string(),
        (true, true) => format!("HTTP {}", status.map_or("?".to_string(), |s| s.to_string())),
    }
}

/// The kind of a service error, from its code, message and HTTP status.
pub(crate) fn classify(code: &str, message: &str, status: Option<u16>) -> ErrorKind {
    if THROTTLING_CODES.contains(&code) || status == Some(429) {
        return ErrorKind::Throttled;
    }
    let lower = message.to_ascii_lowercase();
    match code {
        "ResourceNotFound"
        | "ResourceNotFoundException"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NotFound"
        | "NoSuchUpload" => ErrorKind::NotFound,
        "ResourceInUse" | "ResourceInUseException" | "BucketAlreadyExists" => {
            ErrorKind::AlreadyExists
        }
        "ValidationException" | "ValidationError"
            if lower.contains("could not find")
                || lower.contains("does not exist")
                || lower.contains("not found") =>
        {
            ErrorKind::NotFound
        }
        "ValidationException" | "ValidationError"
            if lower.contains("already exist") || lower.contains("cannot create a duplicate") =>
        {
            ErrorKind::AlreadyExists
        }
        "ModelError" => ErrorKind::ModelError,
        "ModelNotReadyException" => ErrorKind::ModelNotReady,
        "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "InternalFailure"
        | "InternalServerError"
        | "InternalError" => ErrorKind::Throttled,
        _ if status == Some(413) => ErrorKind::PayloadTooLarge,
        _ if status == Some(404) => ErrorKind::NotFound,
        _ => ErrorKind::Validation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_to_kinds() {
        let c = |code, msg, status| classify(code, msg, status);
        assert_eq!(
            c(
                "ValidationException",
                "Could not find training job 'arn:...:training-job/x'",
                Some(400)
            ),
            ErrorKind::NotFound
        );
        assert_eq!(
            c(
                "ValidationException",
                "Requested resource not found.",
                Some(400)
            ),
            ErrorKind::NotFound
        );
        assert_eq!(
            c("ValidationException", "1 validation error", Some(400)),
            ErrorKind::Validation
        );
        assert_eq!(
            c(
                "ResourceInUse",
                "Training job names must be unique",
                Some(400)
            ),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            c(
                "ValidationException",
                "Cannot create a duplicate endpoint configuration",
                Some(400)
            ),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            c("ThrottlingException", "Rate exceeded", Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(c("SlowDown", "", Some(503)), ErrorKind::Throttled);
        assert_eq!(c("", "", Some(429)), ErrorKind::Throttled);
        assert_eq!(c("NoSuchKey", "", Some(404)), ErrorKind::NotFound);
        assert_eq!(c("", "", Some(404)), ErrorKind::NotFound);
        assert_eq!(c("", "", Some(413)), ErrorKind::PayloadTooLarge);
        assert_eq!(c("ModelError", "boom", Some(424)), ErrorKind::ModelError);
        assert_eq!(
            c("ModelNotReadyException", "", Some(429)),
            ErrorKind::Throttled,
            "429 wins: the service asks the caller to back off"
        );
        assert_eq!(
            c("ModelNotReadyException", "", Some(400)),
            ErrorKind::ModelNotReady
        );
        assert_eq!(
            c("AccessDeniedException", "not authorized", Some(400)),
            ErrorKind::Validation
        );
    }
}
