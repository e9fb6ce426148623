//! Script mode's reserved settings: the `sagemaker_*` hyperparameters a framework estimator
//! adds to a training job and the `SAGEMAKER_*` environment of the model that serves it.
//!
//! One type, [`ScriptMode`], owns these keys: the estimator encodes them, the local script
//! runner and the framework containers decode them, and a job that is attached later gives
//! them back. The encoding is the Python SDK's (`Framework.hyperparameters` JSON-encodes every
//! value, `_script_mode_hyperparam_update` adds the five entries); the decoding is the
//! SageMaker training toolkit's (`json.loads` each value, keep the raw text when that fails).
//! See the SDK's `sagemaker/estimator.py` and `sagemaker/model.py`, and the toolkit's
//! `sagemaker_training/environment.py` and `params.py`.

use std::collections::BTreeMap;

use serde_json::Value;

/// `sagemaker_program`: the entry point, relative to the submit directory.
pub const PROGRAM: &str = "sagemaker_program";
/// `sagemaker_submit_directory`: where the code is (`s3://…/sourcedir.tar.gz`, `file://dir`).
pub const SUBMIT_DIRECTORY: &str = "sagemaker_submit_directory";
/// `sagemaker_container_log_level`: Python's logging level (`logging.INFO` = 20).
pub const CONTAINER_LOG_LEVEL: &str = "sagemaker_container_log_level";
/// `sagemaker_job_name`: the training job's name.
pub const JOB_NAME: &str = "sagemaker_job_name";
/// `sagemaker_region`: the session's region.
pub const REGION: &str = "sagemaker_region";

/// The five keys the Python SDK adds to a script-mode job, in its order.
pub const SDK_KEYS: [&str; 5] = [
    PROGRAM,
    SUBMIT_DIRECTORY,
    CONTAINER_LOG_LEVEL,
    JOB_NAME,
    REGION,
];

/// The keys the training toolkit reserves (`SAGEMAKER_HYPERPARAMETERS` in its `params.py`):
/// the SDK's five plus four the platform or the toolkit itself may set. Any other key that
/// starts with `sagemaker_` is reserved too (see [`is_reserved`]).
pub const RESERVED_KEYS: [&str; 9] = [
    PROGRAM,
    SUBMIT_DIRECTORY,
    CONTAINER_LOG_LEVEL,
    JOB_NAME,
    REGION,
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_s3_output",
    "default_user_module_name",
    "_tuning_objective_metric",
];

/// `SAGEMAKER_PROGRAM`: the serving container's entry point.
pub const ENV_PROGRAM: &str = "SAGEMAKER_PROGRAM";
/// `SAGEMAKER_SUBMIT_DIRECTORY`: where the serving container finds the code.
pub const ENV_SUBMIT_DIRECTORY: &str = "SAGEMAKER_SUBMIT_DIRECTORY";
/// `SAGEMAKER_CONTAINER_LOG_LEVEL`: the serving container's log level.
pub const ENV_CONTAINER_LOG_LEVEL: &str = "SAGEMAKER_CONTAINER_LOG_LEVEL";
/// `SAGEMAKER_REGION`: the region the serving container reports.
pub const ENV_REGION: &str = "SAGEMAKER_REGION";

/// The default `sagemaker_container_log_level` (Python's `logging.INFO`).
pub const DEFAULT_LOG_LEVEL: u32 = 20;

/// Whether the training toolkit keeps `key` away from the user's script: one of
/// [`RESERVED_KEYS`] or any key that starts with `sagemaker_`.
///
/// ```
/// use sagemaker_core::script_mode::is_reserved;
/// assert!(is_reserved("sagemaker_program"));
/// assert!(is_reserved("sagemaker_anything"));
/// assert!(is_reserved("_tuning_objective_metric"));
/// assert!(!is_reserved("max_iter"));
/// ```
pub fn is_reserved(key: &str) -> bool {
    key.starts_with("sagemaker_") || RESERVED_KEYS.contains(&key)
}

/// A script-mode job's or model's reserved settings.
///
/// ```
/// use std::collections::BTreeMap;
/// use sagemaker_core::script_mode::ScriptMode;
///
/// let mode = ScriptMode::new("train.py")
///     .submit_directory("s3://bucket/job/source/sourcedir.tar.gz")
///     .job_name("job")
///     .region("us-east-1");
/// let mut hps = BTreeMap::from([("max_iter".to_string(), "100".to_string())]);
/// mode.encode_into(&mut hps);
/// assert_eq!(hps["sagemaker_program"], "\"train.py\"");
/// assert_eq!(hps["sagemaker_container_log_level"], "20");
///
/// // The toolkit's decoding gives the same settings back, and the user's keys stay.
/// assert_eq!(ScriptMode::decode(&hps), Some(mode.clone()));
/// assert_eq!(ScriptMode::take_from(&mut hps), Some(mode.clone()));
/// assert_eq!(hps.keys().collect::<Vec<_>>(), ["max_iter"]);
///
/// // The serving container reads the same settings as environment.
/// let env = mode.model_environment();
/// assert_eq!(env["SAGEMAKER_PROGRAM"], "train.py");
/// assert_eq!(ScriptMode::from_model_environment(&env).unwrap().program, "train.py");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScriptMode {
    /// `sagemaker_program` / `SAGEMAKER_PROGRAM`.
    pub program: String,
    /// `sagemaker_submit_directory` / `SAGEMAKER_SUBMIT_DIRECTORY`.
    pub submit_directory: Option<String>,
    /// `sagemaker_container_log_level` / `SAGEMAKER_CONTAINER_LOG_LEVEL`.
    pub container_log_level: u32,
    /// `sagemaker_job_name` (training only).
    pub job_name: Option<String>,
    /// `sagemaker_region` / `SAGEMAKER_REGION`.
    pub region: Option<String>,
}

impl ScriptMode {
    /// Settings running `program`, at the default log level.
    pub fn new(program: impl Into<String>) -> Self {
        ScriptMode {
            program: program.into(),
            submit_directory: None,
            container_log_level: DEFAULT_LOG_LEVEL,
            job_name: None,
            region: None,
        }
    }

    /// Sets where the code is.
    pub fn submit_directory(mut self, dir: impl Into<String>) -> Self {
        self.submit_directory = Some(dir.into());
        self
    }

    /// Sets the log level.
    pub fn container_log_level(mut self, level: u32) -> Self {
        self.container_log_level = level;
        self
    }

    /// Sets the job name.
    pub fn job_name(mut self, name: impl Into<String>) -> Self {
        self.job_name = Some(name.into());
        self
    }

    /// Sets the region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Adds the settings to a job's hyperparameters, each value JSON-encoded as the Python
    /// SDK sends it (`train.py` → `"\"train.py\""`, `20` → `"20"`).
    pub fn encode_into(&self, hyperparameters: &mut BTreeMap<String, String>) {
        let text = |s: &str| Value::String(s.to_string()).to_string();
        hyperparameters.insert(PROGRAM.into(), text(&self.program));
        if let Some(dir) = &self.submit_directory {
            hyperparameters.insert(SUBMIT_DIRECTORY.into(), text(dir));
        }
        hyperparameters.insert(
            CONTAINER_LOG_LEVEL.into(),
            self.container_log_level.to_string(),
        );
        if let Some(name) = &self.job_name {
            hyperparameters.insert(JOB_NAME.into(), text(name));
        }
        if let Some(region) = &self.region {
            hyperparameters.insert(REGION.into(), text(region));
        }
    }

    /// The settings of a job's hyperparameters, decoded as the training toolkit decodes them;
    /// `None` when `sagemaker_program` is absent (not a script-mode job).
    pub fn decode(hyperparameters: &BTreeMap<String, String>) -> Option<ScriptMode> {
        let get = |key: &str| hyperparameters.get(key).map(|raw| decode_text(raw));
        Some(ScriptMode {
            program: get(PROGRAM)?,
            submit_directory: get(SUBMIT_DIRECTORY),
            container_log_level: get(CONTAINER_LOG_LEVEL)
                .and_then(|l| l.parse().ok())
                .unwrap_or(DEFAULT_LOG_LEVEL),
            job_name: get(JOB_NAME),
            region: get(REGION),
        })
    }

    /// [`ScriptMode::decode`], removing the SDK's five keys ([`SDK_KEYS`]) from
    /// `hyperparameters` so only the user's remain (what `attach` gives back).
    pub fn take_from(hyperparameters: &mut BTreeMap<String, String>) -> Option<ScriptMode> {
        let decoded = Self::decode(hyperparameters);
        for key in SDK_KEYS {
            hyperparameters.remove(key);
        }
        decoded
    }

    /// The model environment the Python SDK's `_script_mode_env_vars` gives a model served
    /// by this code: `SAGEMAKER_PROGRAM`, `SAGEMAKER_SUBMIT_DIRECTORY` (when known),
    /// `SAGEMAKER_CONTAINER_LOG_LEVEL` and `SAGEMAKER_REGION` (when known).
    pub fn model_environment(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::from([
            (ENV_PROGRAM.to_string(), self.program.clone()),
            (
                ENV_CONTAINER_LOG_LEVEL.to_string(),
                self.container_log_level.to_string(),
            ),
        ]);
        if let Some(dir) = &self.submit_directory {
            env.insert(ENV_SUBMIT_DIRECTORY.into(), dir.clone());
        }
        if let Some(region) = &self.region {
            env.insert(ENV_REGION.into(), region.clone());
        }
        env
    }

    /// The settings of a model's environment; `None` without `SAGEMAKER_PROGRAM`.
    pub fn from_model_environment(environment: &BTreeMap<String, String>) -> Option<ScriptMode> {
        Some(ScriptMode {
            program: environment.get(ENV_PROGRAM)?.clone(),
            submit_directory: environment.get(ENV_SUBMIT_DIRECTORY).cloned(),
            container_log_level: environment
                .get(ENV_CONTAINER_LOG_LEVEL)
                .and_then(|l| l.parse().ok())
                .unwrap_or(DEFAULT_LOG_LEVEL),
            job_name: None,
            region: environment.get(ENV_REGION).cloned(),
        })
    }

    /// The user's hyperparameters of a job: every key but the reserved ones ([`is_reserved`]),
    /// as the training toolkit's `split_by_criteria` leaves them for the script.
    pub fn user_hyperparameters(
        hyperparameters: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        hyperparameters
            .iter()
            .filter(|(k, _)| !is_reserved(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// A JSON string's text, else the raw value (the toolkit keeps what does not parse; a
/// number or `true` is kept as its text here, since the settings are strings).
fn decode_text(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::String(s)) => s,
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_the_python_sdk() {
        let mut hps = BTreeMap::new();
        ScriptMode::new("train.py")
            .submit_directory("file:///src")
            .container_log_level(10)
            .job_name("j")
            .region("eu-west-1")
            .encode_into(&mut hps);
        assert_eq!(
            hps,
            BTreeMap::from([
                ("sagemaker_program".to_string(), "\"train.py\"".to_string()),
                (
                    "sagemaker_submit_directory".to_string(),
                    "\"file:///src\"".to_string()
                ),
                (
                    "sagemaker_container_log_level".to_string(),
                    "10".to_string()
                ),
                ("sagemaker_job_name".to_string(), "\"j\"".to_string()),
                ("sagemaker_region".to_string(), "\"eu-west-1\"".to_string()),
            ])
        );
    }

    #[test]
    fn decodes_raw_values_like_the_toolkit() {
        // Another client may send plain strings: they are kept as given.
        let hps = BTreeMap::from([
            ("sagemaker_program".to_string(), "train.py".to_string()),
            (
                "sagemaker_container_log_level".to_string(),
                "oops".to_string(),
            ),
        ]);
        let mode = ScriptMode::decode(&hps).unwrap();
        assert_eq!(mode.program, "train.py");
        assert_eq!(mode.container_log_level, DEFAULT_LOG_LEVEL);
        assert_eq!(mode.submit_directory, None);
        assert_eq!(ScriptMode::decode(&BTreeMap::new()), None);
    }

    #[test]
    fn user_hyperparameters_drop_every_reserved_key() {
        let hps = BTreeMap::from([
            ("max_iter".to_string(), "1".to_string()),
            ("sagemaker_s3_output".to_string(), "x".to_string()),
            ("sagemaker_other".to_string(), "x".to_string()),
            ("_tuning_objective_metric".to_string(), "x".to_string()),
        ]);
        assert_eq!(
            ScriptMode::user_hyperparameters(&hps)
                .keys()
                .collect::<Vec<_>>(),
            ["max_iter"]
        );
    }
}
