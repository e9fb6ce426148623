//! The `SKLearn` estimator preset.

use std::collections::BTreeMap;
use std::time::Duration;

use sagemaker_core::{Error, Result, Session};
use sagemaker_estimator::{Estimator, Framework, HyperparameterEncoding, ScriptMode};
use sagemaker_predictor::Predictor;
use serde_json::Value;

use crate::bundle;
use crate::image_uris::{self, ImageScope};
use crate::params::{self, Algorithm};
use crate::serving::{SKLearnPredictor, sklearn_predictor};

/// The scikit-learn estimator (the Python SDK's `sagemaker.sklearn.SKLearn`): an
/// [`Estimator<SKLearn>`](Estimator) with the scikit-learn image, JSON-encoded hyperparameters
/// and script mode, whose `deploy` returns an [`SKLearnPredictor`] (string-safe codecs).
///
/// The entry point is a built-in algorithm named after its scikit-learn estimator
/// (`LogisticRegression`, `RandomForestClassifier`, ... see [`Algorithm`]), which every
/// backend runs, or a user's Python script (`train.py` with `source_dir`), which needs a
/// backend that runs Python (AWS).
///
/// ```
/// # fn session() -> sagemaker_core::Session {
/// #     sagemaker_local::LocalSession::builder().root(tempfile::tempdir().unwrap().keep()).build().unwrap()
/// # }
/// use sagemaker_sklearn::SKLearn;
///
/// let estimator = SKLearn::builder()
///     .entry_point("LogisticRegression")
///     .framework_version("1.2-1")
///     .instance_type("ml.m5.large")
///     .hyperparameter("max_iter", 200)
///     .hyperparameter("target", "species")
///     .session(session())
///     .build()
///     .unwrap();
/// let hps = &estimator.config().hyperparameters;
/// assert_eq!(hps["max_iter"], "200");
/// assert_eq!(hps["target"], "\"species\"");
/// assert!(estimator.config().image_uri.ends_with("/sagemaker-scikit-learn:1.2-1-cpu-py3"));
///
/// let err = SKLearn::builder()
///     .entry_point("LogisticRegression")
///     .framework_version("1.2-1")
///     .instance_type("ml.m5.large")
///     .hyperparameter("n_estimators", 10)
///     .session(session())
///     .build()
///     .unwrap_err();
/// assert!(err.message().contains("accepted: C, max_iter"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SKLearn;

impl SKLearn {
    /// A builder.
    pub fn builder() -> SKLearnBuilder {
        SKLearnBuilder::default()
    }
}

impl Framework for SKLearn {
    type Predictor = SKLearnPredictor;

    fn predictor(predictor: Predictor) -> SKLearnPredictor {
        sklearn_predictor(predictor)
    }
}

/// Builds an `SKLearn` estimator; [`SKLearnBuilder::build`] validates as the Python SDK does.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct SKLearnBuilder {
    entry_point: Option<String>,
    source_dir: Option<String>,
    framework_version: Option<String>,
    py_version: Option<String>,
    image_uri: Option<String>,
    image_uri_region: Option<String>,
    instance_type: Option<String>,
    instance_count: Option<u32>,
    container_log_level: Option<u32>,
    hyperparameters: Vec<(String, Value)>,
    session: Option<Session>,
    inner: sagemaker_estimator::EstimatorBuilder,
}

macro_rules! forward {
    ($(#[$doc:meta] $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[$doc]
        pub fn $name(mut self, $($arg: $ty),*) -> Self {
            self.inner = self.inner.$name($($arg),*);
            self
        }
    )*};
}

impl SKLearnBuilder {
    /// The entry point (required): a built-in algorithm name or a Python script.
    pub fn entry_point(mut self, entry_point: impl Into<String>) -> Self {
        self.entry_point = Some(entry_point.into());
        self
    }

    /// The directory holding a script entry point and its dependencies.
    pub fn source_dir(mut self, dir: impl Into<String>) -> Self {
        self.source_dir = Some(dir.into());
        self
    }

    /// The scikit-learn image version, e.g. `1.2-1` (required unless `image_uri` is given).
    pub fn framework_version(mut self, v: impl Into<String>) -> Self {
        self.framework_version = Some(v.into());
        self
    }

    /// The Python version (`py3`, the only one).
    pub fn py_version(mut self, v: impl Into<String>) -> Self {
        self.py_version = Some(v.into());
        self
    }

    /// An explicit image URI (instead of `framework_version`).
    pub fn image_uri(mut self, uri: impl Into<String>) -> Self {
        self.image_uri = Some(uri.into());
        self
    }

    /// The region whose image to use (default: the session's).
    pub fn image_uri_region(mut self, region: impl Into<String>) -> Self {
        self.image_uri_region = Some(region.into());
        self
    }

    /// The instance type (required); GPU types are refused.
    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = Some(t.into());
        self
    }

    /// The instance count: scikit-learn trains on one instance, so only 1 is accepted.
    pub fn instance_count(mut self, n: u32) -> Self {
        self.instance_count = Some(n);
        self
    }

    /// `sagemaker_container_log_level` (default 20, Python's `logging.INFO`).
    pub fn container_log_level(mut self, level: u32) -> Self {
        self.container_log_level = Some(level);
        self
    }

    /// Sets one hyperparameter (scikit-learn's names; `target` picks the label column).
    pub fn hyperparameter(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.hyperparameters.push((name.into(), value.into()));
        self
    }

    /// Sets several hyperparameters.
    pub fn hyperparameters<K: Into<String>, V: Into<Value>>(
        mut self,
        hps: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.hyperparameters
            .extend(hps.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// The session (required).
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    forward! {
        /// The IAM role (required on AWS, optional locally).
        role(role: impl Into<String>);
        /// Volume size in GB (default 30).
        volume_size(gb: u32);
        /// Longest run (default 24 h).
        max_run(max_run: Duration);
        /// Where artifacts go.
        output_path(uri: impl Into<String>);
        /// KMS key for the output.
        output_kms_key(key: impl Into<String>);
        /// The prefix of generated job names (default `sagemaker-scikit-learn`).
        base_job_name(base: impl Into<String>);
        /// Sets an environment variable of the training container.
        environment(name: impl Into<String>, value: impl Into<String>);
        /// Adds a tag.
        tag(key: impl Into<String>, value: impl Into<String>);
        /// Adds a metric definition.
        metric_definition(name: impl Into<String>, regex: impl Into<String>);
        /// The VPC subnets (give security groups too).
        subnets(subnets: Vec<String>);
        /// The VPC security group ids (give subnets too).
        security_group_ids(ids: Vec<String>);
    }

    /// Validates and builds the [`Estimator`].
    pub fn build(self) -> Result<Estimator<SKLearn>> {
        let session = self.session.ok_or_else(|| {
            Error::invalid_config("session", "required (e.g. LocalSession::new()?)")
        })?;
        let entry_point = self
            .entry_point
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid_config(
                    "entry_point",
                    "required: a built-in algorithm name or a Python script",
                )
            })?;
        let py_version = self.py_version.unwrap_or_else(|| "py3".into());
        if py_version != "py3" {
            return Err(Error::invalid_config(
                "py_version",
                format!("Python version {py_version} is not supported; use py3"),
            ));
        }
        let instance_type = self.instance_type.ok_or_else(|| {
            Error::invalid_config(
                "instance_type",
                "required (e.g. \"ml.m5.large\" or \"local\")",
            )
        })?;
        if image_uris::is_gpu_instance(&instance_type) {
            return Err(Error::invalid_config(
                "instance_type",
                format!("GPU training is not supported for Scikit-Learn (got {instance_type})"),
            ));
        }
        let instance_count = self.instance_count.unwrap_or(1);
        if instance_count != 1 {
            return Err(Error::invalid_config(
                "instance_count",
                format!(
                    "Scikit-Learn does not support distributed training; instance_count must be 1, got {instance_count}"
                ),
            ));
        }
        let image_uri = match (self.image_uri, &self.framework_version) {
            (Some(uri), _) => uri,
            (None, Some(version)) => {
                let region = self.image_uri_region.as_deref().unwrap_or(session.region());
                image_uris::image_uri(region, version, &instance_type, ImageScope::Training)?
            }
            (None, None) => {
                return Err(Error::invalid_config(
                    "framework_version",
                    "framework_version or py_version was None, yet image_uri was also None. Either specify both framework_version and py_version, or specify image_uri.",
                ));
            }
        };
        let mut builtin = None;
        let script = match Algorithm::from_name(&entry_point) {
            Some(algorithm) if self.source_dir.is_none() => {
                let given: BTreeMap<String, Value> = self.hyperparameters.iter().cloned().collect();
                params::validate(algorithm, &given)
                    .map_err(|why| Error::invalid_config("hyperparameters", why))?;
                builtin = Some(algorithm);
                ScriptMode::new(entry_point, false).python_bundle(bundle::python_bundle(algorithm))
            }
            _ if entry_point.ends_with(".py") || self.source_dir.is_some() => {
                let mut s = ScriptMode::new(entry_point, true);
                if let Some(dir) = self.source_dir {
                    s = s.source_dir(dir);
                }
                s
            }
            _ => {
                return Err(Error::invalid_config(
                    "entry_point",
                    format!(
                        "'{entry_point}' is neither a built-in algorithm ({}) nor a Python script (.py)",
                        Algorithm::ALL
                            .iter()
                            .map(|a| a.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        };
        let script = script.container_log_level(self.container_log_level.unwrap_or(20));
        let mut inner = self.inner;
        if let Some(algorithm) = builtin {
            // What the containers print, so the job's final metrics are captured on every
            // backend (on AWS, only `MetricDefinitions` turn log lines into metrics).
            for (name, regex) in bundle::metric_definitions(algorithm) {
                inner = inner.metric_definition(name, regex);
            }
        }
        inner
            .image_uri(image_uri)
            .instance_type(instance_type)
            .instance_count(instance_count)
            .hyperparameters(self.hyperparameters)
            .hyperparameter_encoding(HyperparameterEncoding::Json)
            .script_mode(script)
            .session(session)
            .build()
            .map(Estimator::with_framework)
    }
}
