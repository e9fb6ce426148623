//! `sagemaker-core`: the small core of the `sagemaker` SDK.
//!
//! It holds what every backend and every user-facing type shares: the [`Session`] handle, the
//! [`Backend`] and [`ArtifactStore`] traits (the SageMaker control plane, data plane and
//! storage), the in-process [`Container`](container::Container) contract, request specs and
//! descriptions mirroring the SageMaker API ([`spec`]), naming rules ([`names`]),
//! [`StorageUri`], [`WaitConfig`], safe artifact packing ([`artifact`]) and the one [`Error`].
//!
//! Users normally depend on the `sagemaker` facade crate instead of this one.

pub mod artifact;
pub mod backend;
pub mod container;
pub mod error;
pub mod images;
pub mod jsonpath;
pub mod names;
pub mod script_mode;
pub mod session;
pub mod spec;
mod tar_meta;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod uri;
mod validated;
pub mod wait;
pub mod walk;

pub use backend::{ArtifactStore, Backend, Capability, ObjectInfo};
pub use error::{Error, ErrorKind, Result};
pub use session::Session;
pub use uri::StorageUri;
pub use wait::{CancellationToken, WaitConfig, WaitProgress};

/// The version of the SDK, recorded in artifacts and job records.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The default variant name of an endpoint config.
pub const DEFAULT_VARIANT_NAME: &str = "AllTraffic";

/// The ARN SageMaker gives a resource: `arn:aws:sagemaker:{region}:{account}:{kind}/{name}`
/// (names are lower-cased in ARNs, as the service does).
///
/// ```
/// assert_eq!(
///     sagemaker_core::arn("us-east-1", "000000000000", "training-job", "My-Job"),
///     "arn:aws:sagemaker:us-east-1:000000000000:training-job/my-job"
/// );
/// ```
pub fn arn(region: &str, account: &str, kind: &str, name: &str) -> String {
    format!(
        "arn:aws:sagemaker:{region}:{account}:{kind}/{}",
        name.to_ascii_lowercase()
    )
}
