//! `TrainingJob`: a handle on one training job.

use sagemaker_core::error::context;
use sagemaker_core::spec::{TrainingJobDescription, TrainingJobStatus};
use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri, WaitConfig};

/// How many log lines a `JobFailed` error carries.
pub const LOG_TAIL_LINES: usize = 20;

/// A handle on a training job (the Python SDK's `_TrainingJob`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct TrainingJob {
    name: String,
    session: Session,
}

impl TrainingJob {
    /// A handle on an existing job by name (no call is made).
    pub fn new(name: impl Into<String>, session: Session) -> Self {
        TrainingJob {
            name: name.into(),
            session,
        }
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
