//! `RemoteSettings`: the settings of the Python SDK's `@remote` decorator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sagemaker_core::spec::Tag;
use sagemaker_core::{Error, Result, Session, StorageUri};

/// The longest `MaxRuntimeInSeconds` SageMaker accepts (28 days).
pub const MAX_RUNTIME_LIMIT: u64 = 28 * 24 * 3600;
/// The longest warm-pool keep-alive SageMaker accepts.
pub const MAX_KEEP_ALIVE: u64 = 3600;

/// Which files of the local working directory a job gets (`include_local_workdir`).
///
/// A file is left out when any component of its path relative to the working directory
/// matches an ignore pattern: an exact name (`target`), or a `*` wildcard (`*.log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFilter {
    ignore: Vec<String>,
}

impl Default for FileFilter {
    /// Ignores `target`, `.git` and `.sagemaker` (build outputs, history, the local root).
    fn default() -> Self {
        FileFilter {
            ignore: vec!["target".into(), ".git".into(), ".sagemaker".into()],
        }
    }
}

impl FileFilter {
    /// The default filter plus `pattern`.
    pub fn ignoring(mut self, pattern: impl Into<String>) -> Self {
        self.ignore.push(pattern.into());
        self
    }

    /// The ignore patterns.
    pub fn patterns(&self) -> &[String] {
        &self.ignore
    }

    /// Whether a relative path (components separated by `/`) is kept.
    pub fn keeps(&self, relative: &str) -> bool {
        !relative
            .split('/')
            .any(|c| self.ignore.iter().any(|p| wildcard(p, c)))
    }
}

fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.len() >= head.len() + tail.len()
                && text.starts_with(head)
                && wildcard_rest(tail, &text[head.len()..])
        }
    }
}

fn wildcard_rest(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => text.ends_with(pattern),
        Some((mid, tail)) => (0..=text.len()).any(|i| {
            text.is_char_boundary(i)
                && text[i..].starts_with(mid)
                && wildcard_rest(tail, &text[i + mid.len()..])
        }),
    }
}

/// The validated settings of a remote function or executor (the Python decorator's keyword
/// arguments). Build with [`RemoteSettings::builder`].
///
/// ```
/// use sagemaker_remote::RemoteSettings;
///
/// let s = RemoteSettings::builder()
///     .instance_type("ml.m5.xlarge")
///     .job_name_prefix("train")
///     .environment_variable("RUST_LOG", "info")
///     .build()?;
/// assert_eq!(s.instance_type(), "ml.m5.xlarge");
/// assert_eq!(s.max_runtime_in_seconds(), 86_400);
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    b: RemoteSettingsBuilder,
    s3_root_uri: Option<StorageUri>,
}

/// Builds [`RemoteSettings`]. Setters never fail; [`RemoteSettingsBuilder::build`]
/// validates and names the field at fault.
#[derive(Debug, Clone)]
pub struct RemoteSettingsBuilder {
    session: Option<Session>,
    instance_type: Option<String>,
    instance_count: u32,
    image_uri: Option<String>,
    environment_variables: BTreeMap<String, String>,
    job_name_prefix: Option<String>,
    max_runtime_in_seconds: u64,
    max_retry_attempts: u32,
    volume_size: u32,
    tags: Vec<Tag>,
    role: Option<String>,
    s3_root_uri: Option<String>,
    dependencies: Option<PathBuf>,
    include_local_workdir: bool,
    custom_file_filter: Option<FileFilter>,
    keep_alive_period_in_seconds: u64,
    use_spot_instances: bool,
    max_wait_time_in_seconds: Option<u64>,
    executable: Option<PathBuf>,
}

impl Default for RemoteSettingsBuilder {
    fn default() -> Self {
        RemoteSettingsBuilder {
            session: None,
            instance_type: None,
            instance_count: 1,
            image_uri: None,
            environment_variables: BTreeMap::new(),
            job_name_prefix: None,
            max_runtime_in_seconds: 86_400,
            max_retry_attempts: 1,
            volume_size: 30,
            tags: Vec::new(),
            role: None,
            s3_root_uri: None,
            dependencies: None,
            include_local_workdir: false,
            custom_file_filter: None,
            keep_alive_period_in_seconds: 0,
            use_spot_instances: false,
            max_wait_time_in_seconds: None,
            executable: None,
        }
    }
}

impl RemoteSettings {
    /// A builder with the Python SDK's defaults.
    pub fn builder() -> RemoteSettingsBuilder {
        RemoteSettingsBuilder::default()
    }

    /// A builder holding these settings, to change some.
    pub fn to_builder(&self) -> RemoteSettingsBuilder {
        self.b.clone()
    }

    /// The session, when one was given (else the default one is used).
    pub fn session(&self) -> Option<&Session> {
        self.b.session.as_ref()
    }
    /// The instance type.
    pub fn instance_type(&self) -> &str {
        self.b.instance_type.as_deref().unwrap_or_default()
    }
    /// The instance count (always 1: more needs torchrun/mpirun, which Rust jobs lack).
    pub fn instance_count(&self) -> u32 {
        self.b.instance_count
    }
    /// The image URI, when given.
    pub fn image_uri(&self) -> Option<&str> {
        self.b.image_uri.as_deref()
    }
    /// Environment variables of the job.
    pub fn environment_variables(&self) -> &BTreeMap<String, String> {
        &self.b.environment_variables
    }
    /// The job name prefix, when given (default: the function's name).
    pub fn job_name_prefix(&self) -> Option<&str> {
        self.b.job_name_prefix.as_deref()
    }
    /// `MaxRuntimeInSeconds` (default 86 400).
    pub fn max_runtime_in_seconds(&self) -> u64 {
        self.b.max_runtime_in_seconds
    }
    /// `RetryStrategy.MaximumRetryAttempts` (default 1).
    pub fn max_retry_attempts(&self) -> u32 {
        self.b.max_retry_attempts
    }
    /// `VolumeSizeInGB` (default 30).
    pub fn volume_size(&self) -> u32 {
        self.b.volume_size
    }
    /// Tags of the job.
    pub fn tags(&self) -> &[Tag] {
        &self.b.tags
    }
    /// The IAM role.
    pub fn role(&self) -> Option<&str> {
        self.b.role.as_deref()
    }
    /// Where payloads go (default `s3://{default bucket}`).
    pub fn s3_root_uri(&self) -> Option<&StorageUri> {
        self.s3_root_uri.as_ref()
    }
    /// A dependencies file given to the job as the `dependencies` channel.
    pub fn dependencies(&self) -> Option<&std::path::Path> {
        self.b.dependencies.as_deref()
    }
    /// Whether the working directory is given to the job (channel `sm_rf_user_ws`, the
    /// job's working directory).
    pub fn include_local_workdir(&self) -> bool {
        self.b.include_local_workdir
    }
    /// The filter of the working directory's files.
    pub fn custom_file_filter(&self) -> FileFilter {
        self.b.custom_file_filter.clone().unwrap_or_default()
    }
    /// `KeepAlivePeriodInSeconds` of a warm pool (default 0).
    pub fn keep_alive_period_in_seconds(&self) -> u64 {
        self.b.keep_alive_period_in_seconds
    }
    /// Managed spot training.
    pub fn use_spot_instances(&self) -> bool {
        self.b.use_spot_instances
    }
    /// `MaxWaitTimeInSeconds` of spot training.
    pub fn max_wait_time_in_seconds(&self) -> Option<u64> {
        self.b.max_wait_time_in_seconds
    }
    /// The executable the job runs on a remote (non-local) backend, when not the current one.
    pub fn executable(&self) -> Option<&std::path::Path> {
        self.b.executable.as_deref()
    }
}

impl RemoteSettingsBuilder {
    /// The session the job runs on (default: `sagemaker::LocalSession::new()`).
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }
    /// The instance type (required, e.g. `ml.m5.large`); its CPU count is the job's
    /// `SM_NUM_CPUS`.
    pub fn instance_type(mut self, v: impl Into<String>) -> Self {
        self.instance_type = Some(v.into());
        self
    }
    /// The instance count (only 1 is accepted).
    pub fn instance_count(mut self, v: u32) -> Self {
        self.instance_count = v;
        self
    }
    /// The image (default: the local remote-function container; on AWS the scikit-learn image).
    pub fn image_uri(mut self, v: impl Into<String>) -> Self {
        self.image_uri = Some(v.into());
        self
    }
    /// Adds an environment variable of the job.
    pub fn environment_variable(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.environment_variables.insert(k.into(), v.into());
        self
    }
    /// The job name prefix (default: the function's name).
    pub fn job_name_prefix(mut self, v: impl Into<String>) -> Self {
        self.job_name_prefix = Some(v.into());
        self
    }
    /// `MaxRuntimeInSeconds`: the job is stopped past it and the call fails with `Timeout`.
    pub fn max_runtime_in_seconds(mut self, v: u64) -> Self {
        self.max_runtime_in_seconds = v;
        self
    }
    /// `MaxRetryAttempts` (1 to 30).
    pub fn max_retry_attempts(mut self, v: u32) -> Self {
        self.max_retry_attempts = v;
        self
    }
    /// `VolumeSizeInGB`.
    pub fn volume_size(mut self, v: u32) -> Self {
        self.volume_size = v;
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.push(Tag::new(k, v));
        self
    }
    /// The IAM role (required on AWS).
    pub fn role(mut self, v: impl Into<String>) -> Self {
        self.role = Some(v.into());
        self
    }
    /// Where payloads go: `{s3_root_uri}/{job_name}/{arguments,results,exception}/`.
    pub fn s3_root_uri(mut self, v: impl Into<String>) -> Self {
        self.s3_root_uri = Some(v.into());
        self
    }
    /// A file given to the job as the `dependencies` channel (`SM_CHANNEL_DEPENDENCIES`).
    pub fn dependencies(mut self, v: impl Into<PathBuf>) -> Self {
        self.dependencies = Some(v.into());
        self
    }
    /// Gives the job the current working directory (filtered) as its working directory.
    pub fn include_local_workdir(mut self, v: bool) -> Self {
        self.include_local_workdir = v;
        self
    }
    /// Which files of the working directory to give.
    pub fn custom_file_filter(mut self, v: FileFilter) -> Self {
        self.custom_file_filter = Some(v);
        self
    }
    /// `KeepAlivePeriodInSeconds` (0 to 3600).
    pub fn keep_alive_period_in_seconds(mut self, v: u64) -> Self {
        self.keep_alive_period_in_seconds = v;
        self
    }
    /// Managed spot training (not on the local backend).
    pub fn use_spot_instances(mut self, v: bool) -> Self {
        self.use_spot_instances = v;
        self
    }
    /// `MaxWaitTimeInSeconds` of spot training (at least the max runtime).
    pub fn max_wait_time_in_seconds(mut self, v: u64) -> Self {
        self.max_wait_time_in_seconds = Some(v);
        self
    }
    /// The Linux x86-64 executable a remote (non-local) backend runs, when the current
    /// executable is not one (cross-compile it and give its path).
    pub fn executable(mut self, v: impl Into<PathBuf>) -> Self {
        self.executable = Some(v.into());
        self
    }

    /// Validates. Errors are [`sagemaker_core::ErrorKind::InvalidConfig`] naming the field.
    pub fn build(self) -> Result<RemoteSettings> {
        match self.instance_type.as_deref() {
            None => {
                return Err(Error::invalid_config(
                    "instance_type",
                    "is required (e.g. \"ml.m5.large\")",
                ));
            }
            Some(t) if t.trim().is_empty() => {
                return Err(Error::invalid_config("instance_type", "is empty"));
            }
            _ => {}
        }
        if self.instance_count != 1 {
            return Err(Error::invalid_config(
                "instance_count",
                format!(
                    "is {}; a Rust remote function runs on one instance (more needs torchrun or mpirun)",
                    self.instance_count
                ),
            ));
        }
        if self.max_runtime_in_seconds == 0 || self.max_runtime_in_seconds > MAX_RUNTIME_LIMIT {
            return Err(Error::invalid_config(
                "max_runtime_in_seconds",
                format!(
                    "is {}; it must be between 1 and {MAX_RUNTIME_LIMIT}",
                    self.max_runtime_in_seconds
                ),
            ));
        }
        if !(1..=30).contains(&self.max_retry_attempts) {
            return Err(Error::invalid_config(
                "max_retry_attempts",
                format!(
                    "is {}; it must be between 1 and 30",
                    self.max_retry_attempts
                ),
            ));
        }
        if self.volume_size == 0 {
            return Err(Error::invalid_config(
                "volume_size",
                "must be at least 1 GB",
            ));
        }
        if self.keep_alive_period_in_seconds > MAX_KEEP_ALIVE {
            return Err(Error::invalid_config(
                "keep_alive_period_in_seconds",
                format!(
                    "is {}; it must be at most {MAX_KEEP_ALIVE}",
                    self.keep_alive_period_in_seconds
                ),
            ));
        }
        match (self.use_spot_instances, self.max_wait_time_in_seconds) {
            (false, Some(_)) => {
                return Err(Error::invalid_config(
                    "max_wait_time_in_seconds",
                    "is only for spot training (use_spot_instances)",
                ));
            }
            (true, Some(w)) if w < self.max_runtime_in_seconds => {
                return Err(Error::invalid_config(
                    "max_wait_time_in_seconds",
                    format!(
                        "is {w}; it must be at least max_runtime_in_seconds ({})",
                        self.max_runtime_in_seconds
                    ),
                ));
            }
            _ => {}
        }
        if let Some(k) = self
            .environment_variables
            .keys()
            .find(|k| k.is_empty() || k.contains('='))
        {
            return Err(Error::invalid_config(
                "environment_variables",
                format!("'{k}' is not a variable name"),
            ));
        }
        if let Some(t) = self.tags.iter().find(|t| t.key.is_empty()) {
            return Err(Error::invalid_config(
                "tags",
                format!("a tag with value '{}' has an empty key", t.value),
            ));
        }
        if let Some(p) = &self.job_name_prefix
            && crate::job_name::sanitize_base(p).is_empty()
        {
            return Err(Error::invalid_config(
                "job_name_prefix",
                format!("'{p}' has no letter or digit to start a job name with"),
            ));
        }
        if let Some(p) = &self.dependencies
            && !p.is_file()
        {
            return Err(Error::invalid_config(
                "dependencies",
                format!("{} is not a file", p.display()),
            ));
        }
        let s3_root_uri = match &self.s3_root_uri {
            None => None,
            Some(s) => Some(
                StorageUri::parse(s.trim_end_matches('/'))
                    .map_err(|e| Error::invalid_config("s3_root_uri", e.message()))?,
            ),
        };
        Ok(RemoteSettings {
            b: self,
            s3_root_uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sagemaker_core::ErrorKind;

    fn field(b: RemoteSettingsBuilder) -> String {
        let e = b.build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
        e.context("field").unwrap().to_string()
    }

    #[test]
    fn build_names_the_field_at_fault() {
        let ok = || RemoteSettings::builder().instance_type("ml.m5.large");
        assert_eq!(field(RemoteSettings::builder()), "instance_type");
        assert_eq!(field(ok().instance_count(2)), "instance_count");
        assert_eq!(
            field(ok().max_runtime_in_seconds(0)),
            "max_runtime_in_seconds"
        );
        assert_eq!(field(ok().max_retry_attempts(31)), "max_retry_attempts");
        assert_eq!(field(ok().volume_size(0)), "volume_size");
        assert_eq!(
            field(ok().keep_alive_period_in_seconds(3601)),
            "keep_alive_period_in_seconds"
        );
        assert_eq!(
            field(ok().max_wait_time_in_seconds(10)),
            "max_wait_time_in_seconds"
        );
        assert_eq!(field(ok().job_name_prefix("--")), "job_name_prefix");
        assert_eq!(field(ok().s3_root_uri("ftp://x")), "s3_root_uri");
        assert_eq!(
            field(ok().environment_variable("", "x")),
            "environment_variables"
        );
        assert_eq!(field(ok().dependencies("/no/such/file")), "dependencies");
        let s = ok().s3_root_uri("s3://bkt/p/").build().unwrap();
        assert_eq!(s.s3_root_uri().unwrap().to_string(), "s3://bkt/p");
    }

    #[test]
    fn file_filter_patterns() {
        let f = FileFilter::default().ignoring("*.log");
        assert!(f.keeps("src/main.rs"));
        assert!(!f.keeps("target/debug/x"));
        assert!(!f.keeps("a/run.log"));
        assert!(f.keeps("a/run.logs"));
        assert!(!FileFilter::default().ignoring("a*c").keeps("abbc"));
    }
}
