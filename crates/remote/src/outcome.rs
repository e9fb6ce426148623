//! What a finished remote-function job returns: the exception payload's format, and the
//! call's outcome read from a terminal job (its result, its error, or why it has neither).

use sagemaker_core::error::context;
use sagemaker_core::spec::*;
use std::fmt;

use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::payload::{self, Identity, PayloadKind};

/// What a remote call returns when it fails: the function's own error, or the SDK's.
///
/// Neither is lost: [`RemoteError::Function`] is exactly the `E` the function returned in
/// the job (deserialized), [`RemoteError::Sdk`] is an [`Error`] of the SDK
/// ([`ErrorKind::JobFailed`] for a crash, a panic or `std::process::exit`, with the job's
/// failure reason and log tail; [`ErrorKind::Timeout`]; [`ErrorKind::Cancelled`];
/// [`ErrorKind::Serialization`] for a payload that fails its integrity or version check; ...).
#[derive(Debug)]
pub enum RemoteError<E> {
    /// The function ran and returned `Err(e)`.
    Function(E),
    /// The job could not run the function to its end, or its payloads were refused.
    Sdk(Error),
}

impl<E> RemoteError<E> {
    /// The function's error, if that is what this is.
    pub fn into_function(self) -> Option<E> {
        match self {
            RemoteError::Function(e) => Some(e),
            RemoteError::Sdk(_) => None,
        }
    }

    /// The SDK's error, if that is what this is.
    pub fn sdk(&self) -> Option<&Error> {
        match self {
            RemoteError::Function(_) => None,
            RemoteError::Sdk(e) => Some(e),
        }
    }

    /// The SDK error's kind (`None` for the function's own error).
    pub fn kind(&self) -> Option<ErrorKind> {
        self.sdk().map(Error::kind)
    }
}

impl<E> From<Error> for RemoteError<E> {
    fn from(e: Error) -> Self {
        RemoteError::Sdk(e)
    }
}

impl<E: fmt::Debug> fmt::Display for RemoteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Function(e) => write!(f, "the remote function returned an error: {e:?}"),
            RemoteError::Sdk(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for RemoteError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RemoteError::Function(_) => None,
            RemoteError::Sdk(e) => Some(e),
        }
    }
}

/// The payload prefix of a job: `{S3OutputPath}/{job name}`.
pub(crate) fn job_base(d: &TrainingJobDescription) -> StorageUri {
    d.output_data_config
        .s3_output_path
        .join(&d.training_job_name)
}

/// The exception payload: the function's error or an SDK error raised in the job.
#[derive(Serialize, Deserialize)]
pub(crate) enum Exception<E> {
    Function(E),
    Sdk { kind: String, message: String },
}

pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Serialization => "Serialization",
        ErrorKind::NotFound => "NotFound",
        ErrorKind::InvalidConfig => "InvalidConfig",
        ErrorKind::Io => "Io",
        _ => "Internal",
    }
}

fn kind_from_name(name: &str) -> ErrorKind {
    match name {
        "Serialization" => ErrorKind::Serialization,
        "NotFound" => ErrorKind::NotFound,
        "InvalidConfig" => ErrorKind::InvalidConfig,
        "Io" => ErrorKind::Io,
        _ => ErrorKind::Internal,
    }
}

/// The payload a completed job left: `results/` or `exception/` under `{s3_root_uri}/{job}/`,
/// else (on a non-local backend, where the job writes them into `SM_MODEL_DIR`) from the
/// job's `model.tar.gz`, which is then copied to `{s3_root_uri}/{job}/` so later readers
/// (`get_future`, another `result()`) find it there.
async fn completed_payload(
    session: &Session,
    who: Identity,
    d: &TrainingJobDescription,
) -> Result<(PayloadKind, Vec<u8>)> {
    let base = job_base(d);
    let store = session.store();
    let key = payload::PayloadKey::of_job(&d.environment);
    let key = key.as_ref();
    if session.backend().name() == "local" {
        let bytes = payload::get(store.as_ref(), &base, PayloadKind::Results, who, key).await?;
        return Ok((PayloadKind::Results, bytes));
    }
    for kind in [PayloadKind::Results, PayloadKind::Exception] {
        if payload::exists(store.as_ref(), &base, kind).await? {
            return Ok((
                kind,
                payload::get(store.as_ref(), &base, kind, who, key).await?,
            ));
        }
    }
    let name = d.training_job_name.as_str();
    let artifact = d
        .model_artifacts
        .as_ref()
        .map(|m| m.s3_model_artifacts.clone())
        .unwrap_or_else(|| base.join("output").join("model.tar.gz"));
    let missing = |why: String| {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "job {name} completed but the result of '{}' is missing: {why}",
                who.function
            ),
        )
        .with_context(context::JOB_NAME, name)
        .with_context(context::PATH, artifact.to_string())
    };
    let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let archive = tmp.path().join("model.tar.gz");
    store.get_file(&artifact, &archive).await.map_err(|e| {
        let err = missing(format!(
            "its output {artifact} cannot be read ({})",
            e.message()
        ));
        if e.kind() == ErrorKind::NotFound {
            err.with_source(e)
        } else {
            Error::new(e.kind(), err.message().to_string())
                .with_context(context::JOB_NAME, name)
                .with_source(e)
        }
    })?;
    let dest = tmp.path().join("model");
    let (a, dst) = (archive.clone(), dest.clone());
    tokio::task::spawn_blocking(move || {
        sagemaker_core::artifact::extract_file(&a, &dst, Default::default())
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Internal, format!("extraction failed: {e}")))??;
    for kind in [PayloadKind::Results, PayloadKind::Exception] {
        let dir = dest.join(kind.dir());
        let meta_path = dir.join(payload::METADATA_FILE);
        if !meta_path.is_file() {
            continue;
        }
        let bytes = payload::read_dir(&dir, who, key)?;
        let meta = std::fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let uri = payload::dir_uri(&base, kind);
        store
            .put_bytes(bytes.clone(), &uri.join(payload::PAYLOAD_FILE))
            .await?;
        store
            .put_bytes(meta, &uri.join(payload::METADATA_FILE))
            .await?;
        tracing::debug!(target: "sagemaker::remote", job = name, "copied {} from {artifact} to {uri}", kind.dir());
        return Ok((kind, bytes));
    }
    Err(missing(format!(
        "its output {artifact} holds neither {}/ nor {}/",
        PayloadKind::Results.dir(),
        PayloadKind::Exception.dir()
    )))
}

/// Decodes an exception payload into the call's error.
fn decode_exception<E: DeserializeOwned>(
    bytes: &[u8],
    who: Identity,
    d: &TrainingJobDescription,
) -> RemoteError<E> {
    let name = d.training_job_name.as_str();
    let exc: Exception<E> = match serde_json::from_slice(bytes) {
        Ok(x) => x,
        Err(e) => {
            return RemoteError::Sdk(
                Error::new(
                    ErrorKind::Serialization,
                    format!(
                        "the error returned by '{}' in job {name} does not decode as the error type: {e}",
                        who.function
                    ),
                )
                .with_context(context::JOB_NAME, name),
            );
        }
    };
    match exc {
        Exception::Function(e) => RemoteError::Function(e),
        Exception::Sdk { kind, message } => RemoteError::Sdk(
            Error::new(kind_from_name(&kind), format!("in job {name}: {message}"))
                .with_context(context::JOB_NAME, name)
                .with_context(
                    context::FAILURE_REASON,
                    d.failure_reason.clone().unwrap_or_default(),
                ),
        ),
    }
}

/// Turns a terminal job into the call's outcome.
pub(crate) async fn outcome<T: DeserializeOwned, E: DeserializeOwned>(
    session: &Session,
    who: Identity,
    d: &TrainingJobDescription,
) -> std::result::Result<T, RemoteError<E>> {
    let base = job_base(d);
    let store = session.store();
    let name = d.training_job_name.as_str();
    match d.training_job_status {
        TrainingJobStatus::Completed => {
            let (kind, bytes) = completed_payload(session, who, d).await?;
            if kind == PayloadKind::Exception {
                return Err(decode_exception(&bytes, who, d));
            }
            serde_json::from_slice(&bytes).map_err(|e| {
                RemoteError::Sdk(
                    Error::new(
                        ErrorKind::Serialization,
                        format!(
                            "the value returned by '{}' in job {name} does not decode as the return type: {e}",
                            who.function
                        ),
                    )
                    .with_context(context::JOB_NAME, name),
                )
            })
        }
        TrainingJobStatus::Failed => {
            if payload::exists(store.as_ref(), &base, PayloadKind::Exception).await? {
                let key = payload::PayloadKey::of_job(&d.environment);
                let bytes = payload::get(
                    store.as_ref(),
                    &base,
                    PayloadKind::Exception,
                    who,
                    key.as_ref(),
                )
                .await?;
                return Err(decode_exception(&bytes, who, d));
            }
            // No exception object: a crash, a panic or an exit. The job's error says why.
            let job = sagemaker_estimator::TrainingJob::new(name, session.clone());
            match job.wait().await {
                Err(e) => Err(RemoteError::Sdk(e)),
                Ok(_) => Err(RemoteError::Sdk(Error::new(
                    ErrorKind::Internal,
                    format!("job {name} failed and then was reported otherwise"),
                ))),
            }
        }
        TrainingJobStatus::Stopped if d.secondary_status == SecondaryStatus::MaxRuntimeExceeded => {
            Err(RemoteError::Sdk(
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "job {name} ran past its max_runtime_in_seconds ({}) and was stopped",
                        d.stopping_condition.max_runtime_in_seconds
                    ),
                )
                .with_context(context::JOB_NAME, name)
                .with_context(context::STATUS, "Stopped"),
            ))
        }
        TrainingJobStatus::Stopped => Err(RemoteError::Sdk(
            Error::new(
                ErrorKind::Cancelled,
                format!("job {name} was stopped before '{}' returned", who.function),
            )
            .with_context(context::JOB_NAME, name)
            .with_context(context::STATUS, "Stopped"),
        )),
        status => Err(RemoteError::Sdk(Error::new(
            ErrorKind::Internal,
            format!("job {name} is {status}, not finished"),
        ))),
    }
}
