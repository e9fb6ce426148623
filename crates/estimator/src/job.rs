//! `TrainingJob`: a handle on one training job.

use std::marker::PhantomData;

use sagemaker_core::error::context;
use sagemaker_core::script_mode::ScriptMode;
use sagemaker_core::spec::{TrainingJobDescription, TrainingJobStatus};
use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri, WaitConfig, names};
use sagemaker_model::{DeployConfig, Model, ModelBuilder};
use sagemaker_transformer::{Transformer, TransformerBuilder};

use crate::framework::{Framework, Generic};

/// How many log lines a `JobFailed` error carries.
pub const LOG_TAIL_LINES: usize = 20;

/// A handle on a training job (the Python SDK's `_TrainingJob`). Cheap to clone.
///
/// [`Estimator::fit`](crate::Estimator::fit) returns it; from it, [`TrainingJob::deploy`],
/// [`TrainingJob::create_model`] and [`TrainingJob::transformer`] use exactly this job's
/// artifact, whatever else runs on the same estimator. `F` is the estimator's [`Framework`]:
/// it decides the predictor `deploy` returns.
///
/// ```
/// # async fn run(estimator: sagemaker_estimator::Estimator, train: sagemaker_core::StorageUri)
/// # -> sagemaker_core::Result<()> {
/// use sagemaker_model::DeployConfig;
///
/// let job = estimator.fit(train).await?;
/// let predictor = job
///     .deploy(DeployConfig::builder().instance_type("ml.m5.large").build()?)
///     .await?;
/// # let _ = predictor;
/// # Ok(())
/// # }
/// ```
pub struct TrainingJob<F: Framework = Generic> {
    name: String,
    session: Session,
    framework: PhantomData<fn() -> F>,
}

impl<F: Framework> Clone for TrainingJob<F> {
    fn clone(&self) -> Self {
        TrainingJob {
            name: self.name.clone(),
            session: self.session.clone(),
            framework: PhantomData,
        }
    }
}

impl<F: Framework> std::fmt::Debug for TrainingJob<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainingJob")
            .field("name", &self.name)
            .field("session", &self.session)
            .finish()
    }
}

impl TrainingJob {
    /// A handle on an existing job by name (no call is made).
    pub fn new(name: impl Into<String>, session: Session) -> Self {
        Self::of(name.into(), session)
    }
}

impl<F: Framework> TrainingJob<F> {
    pub(crate) fn of(name: String, session: Session) -> Self {
        TrainingJob {
            name,
            session,
            framework: PhantomData,
        }
    }

    /// The same job, seen through another framework (for a job attached by name).
    pub fn with_framework<G: Framework>(self) -> TrainingJob<G> {
        TrainingJob::of(self.name, self.session)
    }

    /// The job name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The session the job runs on.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// `DescribeTrainingJob`.
    pub async fn describe(&self) -> Result<TrainingJobDescription> {
        self.session
            .backend()
            .describe_training_job(&self.name)
            .await
    }

    /// Waits until the job ends (default [`WaitConfig`]); see [`TrainingJob::wait_with`].
    pub async fn wait(&self) -> Result<TrainingJobDescription> {
        self.wait_with(&WaitConfig::default()).await
    }

    /// Waits until the job ends. `Completed` and `Stopped` return the description (a stopped
    /// job is not an error, as in the Python SDK); `Failed` returns
    /// [`ErrorKind::JobFailed`] carrying the job name, status, failure reason and the last
    /// lines of the job's log.
    pub async fn wait_with(&self, wait: &WaitConfig) -> Result<TrainingJobDescription> {
        let d = self.session.wait_for_training_job(&self.name, wait).await?;
        match d.training_job_status {
            TrainingJobStatus::Failed => Err(self.failure(&d).await),
            TrainingJobStatus::Stopped => {
                tracing::warn!(target: "sagemaker", job = %self.name, "training job was stopped");
                Ok(d)
            }
            _ => Ok(d),
        }
    }

    /// The `JobFailed` error for a failed job's description.
    pub(crate) async fn failure(&self, d: &TrainingJobDescription) -> Error {
        let reason = d
            .failure_reason
            .clone()
            .unwrap_or_else(|| "(no reason given)".into());
        let tail = match self.logs().await {
            Ok(log) => tail_lines(&log, LOG_TAIL_LINES),
            Err(e) => format!("(the log could not be read: {e})"),
        };
        Error::new(
            ErrorKind::JobFailed,
            format!(
                "Error for Training job {}: {}. Reason: {reason}",
                self.name, d.training_job_status
            ),
        )
        .with_context(context::JOB_NAME, self.name.clone())
        .with_context(context::STATUS, d.training_job_status.as_str())
        .with_context(context::FAILURE_REASON, reason)
        .with_context(context::LOG_TAIL, tail)
    }

    /// The job's log so far.
    pub async fn logs(&self) -> Result<String> {
        self.session.backend().training_job_logs(&self.name).await
    }

    /// `StopTrainingJob`. The job ends `Stopped`; a stopped job leaves no model artifact.
    pub async fn stop(&self) -> Result<()> {
        self.session.backend().stop_training_job(&self.name).await
    }

    /// The `model.tar.gz` URI of a completed job. A job without an artifact (still running,
    /// failed or stopped) is an [`ErrorKind::NotFound`] error saying why.
    pub async fn model_data(&self) -> Result<StorageUri> {
        self.artifact_of(self.describe().await?)
    }

    /// A [`Model`] of this job's artifact (not created yet), served by the training image
    /// with the job's role, VPC and, for a script-mode job, the script-mode environment
    /// (`SAGEMAKER_PROGRAM`, `SAGEMAKER_SUBMIT_DIRECTORY`, ...) as the Python SDK's
    /// `Estimator.create_model` builds it. One `DescribeTrainingJob` is made.
    pub async fn create_model(&self) -> Result<Model> {
        self.model_builder().await?.build()
    }

    /// Deploys this job's model to an endpoint (the Python SDK's `Estimator.deploy`): the
    /// model and the endpoint are both named `name_from_base(base)`, `base` being the job's
    /// base name, unless the config names the endpoint.
    pub async fn deploy(&self, config: DeployConfig) -> Result<F::Predictor> {
        let base = names::base_from_name(&self.name).to_string();
        self.deploy_named(&base, config).await
    }

    pub(crate) async fn deploy_named(
        &self,
        base: &str,
        config: DeployConfig,
    ) -> Result<F::Predictor> {
        let name = match config.endpoint_name() {
            Some(n) => n.to_string(),
            None => names::name_from_base(base),
        };
        let model = self.model_builder().await?.name(name.clone()).build()?;
        let config = config.with_endpoint_name(name);
        Ok(F::predictor(model.deploy(config).await?))
    }

    /// A [`Transformer`] for this job's model (the Python SDK's `Estimator.transformer`): the
    /// model is created now, named `name_from_base(base)`, and transform jobs are named after
    /// the job's base name.
    pub async fn transformer(&self, config: TransformerBuilder) -> Result<Transformer> {
        let base = names::base_from_name(&self.name).to_string();
        self.transformer_named(&base, config).await
    }

    pub(crate) async fn transformer_named(
        &self,
        base: &str,
        config: TransformerBuilder,
    ) -> Result<Transformer> {
        let model = self
            .model_builder()
            .await?
            .name(names::name_from_base(base))
            .build()?;
        model
            .transformer(config.default_base_transform_job_name(base.to_string()))
            .await
    }

    /// The model builder of [`TrainingJob::create_model`].
    pub async fn model_builder(&self) -> Result<ModelBuilder> {
        // One DescribeTrainingJob gives the artifact, the image and the script-mode settings
        // the job ran with.
        let job = self.describe().await?;
        let hyper_parameters = job.hyper_parameters.clone();
        let mut builder = Model::builder()
            .image_uri(job.algorithm_specification.training_image.clone())
            .session(self.session.clone());
        if let Some(role) = &job.role_arn {
            builder = builder.role(role.clone());
        }
        if let Some(vpc) = &job.vpc_config {
            builder = builder.vpc_config(vpc.clone());
        }
        if let Some(ran) = ScriptMode::decode(&hyper_parameters) {
            // The serving container reads the same script-mode settings, as environment; the
            // program and code location are the ones the job ran (on AWS, the uploaded
            // `sourcedir.tar.gz`).
            let mut mode = ScriptMode::new(ran.program)
                .container_log_level(ran.container_log_level)
                .region(self.session.region());
            mode.submit_directory = ran.submit_directory;
            for (key, value) in mode.model_environment() {
                builder = builder.env(key, value);
            }
        }
        Ok(builder.model_data(self.artifact_of(job)?.to_string()))
    }

    /// The artifact of this job's description `d`, or why there is none.
    pub(crate) fn artifact_of(&self, d: TrainingJobDescription) -> Result<StorageUri> {
        match d.model_artifacts {
            Some(a) => Ok(a.s3_model_artifacts),
            None => {
                let why = match (d.training_job_status, &d.failure_reason) {
                    (TrainingJobStatus::Failed, Some(r)) => format!("it failed: {r}"),
                    (status, _) => format!("its status is {status}"),
                };
                Err(Error::new(
                    ErrorKind::NotFound,
                    format!("training job '{}' has no model artifact: {why}", self.name),
                )
                .with_context(context::JOB_NAME, self.name.clone())
                .with_context(context::STATUS, d.training_job_status.as_str()))
            }
        }
    }
}

/// The last `n` lines of `text`.
pub(crate) fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(super::tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(super::tail_lines("a", 5), "a");
    }
}
