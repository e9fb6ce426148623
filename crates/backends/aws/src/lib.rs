//! # sagemaker-aws
//!
//! The AWS backend of the `sagemaker` SDK: the same [`Session`] the local backend gives, but
//! every call goes to Amazon SageMaker, SageMaker Runtime, S3, STS and CloudWatch Logs
//! through the official AWS SDK for Rust. Requests have the shapes the Python SDK sends.
//!
//! ```no_run
//! # async fn run() -> sagemaker_core::Result<()> {
//! use sagemaker_aws::AwsSession;
//!
//! // The standard credential and region chain (environment, profile, SSO, instance role).
//! let session = AwsSession::from_env().await?;
//! println!("default bucket: {}", session.default_bucket().await?);
//! # Ok(())
//! # }
//! ```
//!
//! To test code without an AWS account, point a hermetic session at a mock server such as
//! moto (see `docs/aws.md`):
//!
//! ```
//! use sagemaker_aws::AwsSession;
//!
//! let session = AwsSession::builder()
//!     .region("us-east-1")
//!     .static_credentials("testing", "testing")
//!     .endpoint_url("http://127.0.0.1:5000")
//!     .max_attempts(1)
//!     .build()
//!     .unwrap();
//! assert_eq!(session.region(), "us-east-1");
//! assert_eq!(session.backend().name(), "aws");
//! ```

#![deny(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_types::retry::RetryConfig;
use sagemaker_core::{Error, ErrorKind, Result, Session};

mod backend;
mod convert;
mod error;
mod logs;
mod paginate;
mod s3;

pub use backend::AwsBackend;
pub use s3::{MULTIPART_THRESHOLD, PART_SIZE, S3Store, validate_bucket};

/// Builds AWS sessions (the Python SDK's `sagemaker.Session()`).
#[derive(Debug, Clone, Copy)]
pub struct AwsSession;

impl AwsSession {
    /// A session from the standard AWS configuration chain: `AWS_REGION`/profile for the
    /// region; environment variables, the shared credentials file, web identity, or the
    /// container/instance role for credentials; `AWS_ENDPOINT_URL` if set.
    ///
    /// Fails before any request is sent when no region or no credentials are found, naming
    /// what is missing.
    pub async fn from_env() -> Result<Session> {
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let provider = config.credentials_provider().ok_or_else(no_credentials)?;
        if let Err(e) = provider.provide_credentials().await {
            return Err(no_credentials().with_source(e));
        }
        AwsSession::builder().sdk_config(config).build()
    }

    /// A builder: a shared `SdkConfig`, or a hermetic configuration (region, static
    /// credentials, endpoint URL, retries), and injected clients for tests.
    pub fn builder() -> AwsSessionBuilder {
        AwsSessionBuilder::default()
    }
}

fn no_credentials() -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile \
         (AWS_PROFILE and ~/.aws/credentials), a web identity token, or run with an instance or \
         container role; for tests use AwsSession::builder().static_credentials(..)",
    )
    .with_context(sagemaker_core::error::context::FIELD, "credentials")
}

/// Builds an AWS [`Session`]; [`AwsSessionBuilder::build`] validates.
#[derive(Debug, Clone, Default)]
pub struct AwsSessionBuilder {
    sdk_config: Option<SdkConfig>,
    region: Option<String>,
    credentials: Option<(String, String)>,
    endpoint_url: Option<String>,
    max_attempts: Option<u32>,
    default_bucket: Option<String>,
    account_id: Option<String>,
    log_poll_interval: Option<Duration>,
    sagemaker: Option<aws_sdk_sagemaker::Client>,
    runtime: Option<aws_sdk_sagemakerruntime::Client>,
    s3: Option<aws_sdk_s3::Client>,
    sts: Option<aws_sdk_sts::Client>,
    logs: Option<aws_sdk_cloudwatchlogs::Client>,
}

impl AwsSessionBuilder {
    /// A shared AWS configuration (e.g. from `aws_config::load_defaults`). Region,
    /// credentials, endpoint and retries set on this builder override it.
    pub fn sdk_config(mut self, config: SdkConfig) -> Self {
        self.sdk_config = Some(config);
        self
    }

    /// The region (`us-east-1`, ...).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Static credentials (an access key id and a secret). Never logged.
    pub fn static_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some((access_key_id.into(), secret_access_key.into()));
        self
    }

    /// One endpoint URL for every service (a mock server such as moto, or a VPC endpoint);
    /// S3 then uses path-style addressing.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// The most attempts per call, the first included (the AWS default is 3; `1` disables
    /// retries, which tests against mock servers want).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// The default bucket, instead of `sagemaker-{region}-{account}`.
    pub fn default_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.default_bucket = Some(bucket.into());
        self
    }

    /// The account id, instead of asking STS (`GetCallerIdentity`).
    pub fn account_id(mut self, account: impl Into<String>) -> Self {
        self.account_id = Some(account.into());
        self
    }

    /// How often log tailing asks CloudWatch Logs for new events (default 5 s).
    pub fn log_poll_interval(mut self, interval: Duration) -> Self {
        self.log_poll_interval = Some(interval);
        self
    }

    /// An injected SageMaker client (tests).
    pub fn sagemaker_client(mut self, client: aws_sdk_sagemaker::Client) -> Self {
        self.sagemaker = Some(client);
        self
    }

    /// An injected SageMaker Runtime client (tests).
    pub fn runtime_client(mut self, client: aws_sdk_sagemakerruntime::Client) -> Self {
        self.runtime = Some(client);
        self
    }

    /// An injected S3 client (tests).
    pub fn s3_client(mut self, client: aws_sdk_s3::Client) -> Self {
        self.s3 = Some(client);
        self
    }

    /// An injected STS client (tests).
    pub fn sts_client(mut self, client: aws_sdk_sts::Client) -> Self {
        self.sts = Some(client);
        self
    }

    /// An injected CloudWatch Logs client (tests).
    pub fn logs_client(mut self, client: aws_sdk_cloudwatchlogs::Client) -> Self {
        self.logs = Some(client);
        self
    }

    /// Validates and builds the session.
    pub fn build(self) -> Result<Session> {
        Ok(Session::new(self.build_backend()?))
    }

    /// Validates and builds the backend alone.
    pub fn build_backend(self) -> Result<AwsBackend> {
        let all_injected = self.sagemaker.is_some()
            && self.runtime.is_some()
            && self.s3.is_some()
            && self.sts.is_some()
            && self.logs.is_some();
        let mut builder = match &self.sdk_config {
            Some(c) => c.to_builder(),
            None => SdkConfig::builder().behavior_version(BehaviorVersion::latest()),
        };
        if let Some(region) = &self.region {
            if region.is_empty() {
                return Err(Error::invalid_config("region", "the region is empty"));
            }
            builder.set_region(Some(Region::new(region.clone())));
        }
        if let Some((id, secret)) = &self.credentials {
            if id.is_empty() || secret.is_empty() {
                return Err(Error::invalid_config(
                    "credentials",
                    "static credentials need a non-empty access key id and secret",
                ));
            }
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(
                Credentials::new(id.clone(), secret.clone(), None, None, "sagemaker-static"),
            )));
        }
        if let Some(url) = &self.endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::invalid_config(
                    "endpoint_url",
                    format!("'{url}' is not an http:// or https:// URL"),
                ));
            }
            builder.set_endpoint_url(Some(url.clone()));
        }
        if let Some(n) = self.max_attempts {
            let retry = if n <= 1 {
                RetryConfig::disabled()
            } else {
                RetryConfig::standard().with_max_attempts(n)
            };
            builder.set_retry_config(Some(retry));
        }
        let config = builder.build();
        let region = config
            .region()
            .map(|r| r.to_string())
            .or_else(|| self.region.clone())
            .filter(|r| !r.is_empty());
        let Some(region) = region else {
            return Err(Error::invalid_config(
                "region",
                "no AWS region: set AWS_REGION (or a profile's region) or call .region(..)",
            ));
        };
        if !all_injected && config.credentials_provider().is_none() {
            return Err(no_credentials());
        }
        if let Some(bucket) = &self.default_bucket {
            validate_bucket(bucket)?;
        }
        let path_style = config.endpoint_url().is_some();
        let sagemaker = self
            .sagemaker
            .unwrap_or_else(|| aws_sdk_sagemaker::Client::new(&config));
        let runtime = self
            .runtime
            .unwrap_or_else(|| aws_sdk_sagemakerruntime::Client::new(&config));
        let s3 = self.s3.unwrap_or_else(|| {
            aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(path_style)
                    .build(),
            )
        });
        let sts = self
            .sts
            .unwrap_or_else(|| aws_sdk_sts::Client::new(&config));
        let logs = self
            .logs
            .unwrap_or_else(|| aws_sdk_cloudwatchlogs::Client::new(&config));
        Ok(AwsBackend::new(backend::Clients {
            region,
            sagemaker,
            runtime,
            store: Arc::new(S3Store::new(s3)),
            sts,
            logs,
            default_bucket: self.default_bucket,
            account_id: self.account_id,
            log_poll_interval: self.log_poll_interval.unwrap_or(Duration::from_secs(5)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_region_and_credentials_are_named_before_any_request() {
        let e = AwsSession::builder()
            .static_credentials("a", "b")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.message().contains("no AWS region"), "{e}");

        let e = AwsSession::builder()
            .region("us-east-1")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.message().contains("no AWS credentials"), "{e}");
        assert!(e.message().contains("AWS_ACCESS_KEY_ID"), "{e}");

        let e = AwsSession::builder()
            .region("us-east-1")
            .static_credentials("a", "b")
            .endpoint_url("127.0.0.1:5000")
            .build()
            .unwrap_err();
        assert_eq!(e.context("field"), Some("endpoint_url"));

        let e = AwsSession::builder()
            .region("us-east-1")
            .static_credentials("a", "b")
            .default_bucket("Bad_Bucket")
            .build()
            .unwrap_err();
        assert!(e.message().contains("not a valid S3 bucket name"), "{e}");
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let session = AwsSession::builder()
            .region("eu-west-1")
            .static_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI-secret")
            .build()
            .unwrap();
        assert_eq!(session.region(), "eu-west-1");
        let backend = format!("{:?}", session.backend().name());
        assert!(!backend.contains("wJalrXUtnFEMI"));
    }
}
