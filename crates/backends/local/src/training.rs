//! Training jobs on the local backend: the `/opt/ml` layout, the container run, the artifact
//! upload, statuses with timestamps, persisted records, stop.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sagemaker_core::container::{
    Container, ContainerErrorKind, TrainingEnv, TrainingPaths, TrainingReporter,
};
use sagemaker_core::script_mode::ScriptMode;
use sagemaker_core::spec::*;
use sagemaker_core::{Error, ErrorKind, Result, StorageUri, artifact};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::owner::Owner;
use crate::store::write_atomic;
use crate::{Inner, lock, records};

const JOB_FILE: &str = "job.json";
const LOG_FILE: &str = "log.txt";
const STOP_MARKER: &str = "stop-requested";
const WORK_DIR: &str = "opt-ml";
/// How often a running job looks for a stop requested by another process.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Each channel's files: (source, path relative to the channel root).
type ChannelFiles = Vec<(String, Vec<(PathBuf, PathBuf)>)>;

/// A job as persisted under `{root}/training-jobs/{name}/job.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JobRecord {
    pub(crate) description: TrainingJobDescription,
    pub(crate) owner: Owner,
}

/// A job running in this process.
pub(crate) struct LiveJob {
    record: Mutex<JobRecord>,
    stop: Arc<AtomicBool>,
}

pub(crate) fn jobs_dir(root: &Path) -> PathBuf {
    root.join("training-jobs")
}

fn job_dir(root: &Path, name: &str) -> PathBuf {
    jobs_dir(root).join(name)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn ceil_seconds(from: OffsetDateTime, to: OffsetDateTime) -> u64 {
    let d = (to - from).as_seconds_f64().max(0.0);
    d.ceil() as u64
}

impl Inner {
    fn persist(&self, record: &JobRecord) -> Result<()> {
        let path = job_dir(&self.root, &record.description.training_job_name).join(JOB_FILE);
        records::write(&path, record)?;
        self.tick();
        Ok(())
    }

    /// Applies `f` to a live job's record, persists it and wakes waiters.
    fn update(
        &self,
        job: &LiveJob,
        f: impl FnOnce(&mut TrainingJobDescription),
    ) -> Result<TrainingJobDescription> {
        let mut record = lock(&job.record);
        f(&mut record.description);
        record.description.last_modified_time = now();
        self.persist(&record)?;
        Ok(record.description.clone())
    }

    fn read_record(&self, name: &str) -> Result<JobRecord> {
        records::read(
            &job_dir(&self.root, name).join(JOB_FILE),
            "training job",
            name,
        )
    }

    /// The description of a job, from memory when it runs here, else from disk. A job whose
    /// owning process has gone is reported (and persisted) as `Failed`, never `InProgress`.
    pub(crate) fn describe_training_job(&self, name: &str) -> Result<TrainingJobDescription> {
        if let Some(job) = lock(&self.training).get(name).cloned() {
            return Ok(lock(&job.record).description.clone());
        }
        let mut record = self.read_record(name)?;
        if !record.description.training_job_status.is_terminal() && !record.owner.is_alive() {
            let t = now();
            let d = &mut record.description;
            d.training_job_status = TrainingJobStatus::Failed;
            d.secondary_status = SecondaryStatus::Failed;
            d.failure_reason = Some(format!(
                "InternalServerError: the process that ran this job (pid {}) exited before the job finished",
                record.owner.pid
            ));
            d.training_end_time.get_or_insert(t);
            d.last_modified_time = t;
            self.persist(&record)?;
        }
        Ok(record.description)
    }

    pub(crate) fn list_training_jobs(
        &self,
        filter: &ListTrainingJobs,
    ) -> Result<Vec<TrainingJobSummary>> {
        let mut out = Vec::new();
        for name in records::list(&jobs_dir(&self.root), "")? {
            // A job directory whose record is not written yet is skipped, not an error.
            match self.describe_training_job(&name) {
                Ok(d) => {
                    let summary = TrainingJobSummary::from(&d);
                    if filter.matches(&summary) {
                        out.push(summary);
                    }
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| {
            b.creation_time
                .cmp(&a.creation_time)
                .then_with(|| b.training_job_name.cmp(&a.training_job_name))
        });
        if let Some(n) = filter.max_results {
            out.truncate(n);
        }
        Ok(out)
    }

    pub(crate) fn training_job_logs(&self, name: &str) -> Result<String> {
        let dir = job_dir(&self.root, name);
        if !dir.join(JOB_FILE).exists() {
            return Err(Error::not_found("training job", name));
        }
        let path = dir.join(LOG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    pub(crate) fn stop_training_job(&self, name: &str) -> Result<()> {
        if let Some(job) = lock(&self.training).get(name).cloned() {
            let status = lock(&job.record).description.training_job_status;
            if status.is_terminal() {
                return Err(not_in_progress(name, status));
            }
            job.stop.store(true, Ordering::SeqCst);
            self.update(&job, |d| {
                d.training_job_status = TrainingJobStatus::Stopping;
            })?;
            tracing::info!(target: "sagemaker::local", job = name, "stop requested");
            return Ok(());
        }
        // Run by another process: leave a marker it looks for, and record the request.
        let mut record = self.read_record(name)?;
        let status = record.description.training_job_status;
        if status.is_terminal() {
            return Err(not_in_progress(name, status));
        }
        let marker = job_dir(&self.root, name).join(STOP_MARKER);
        std::fs::write(&marker, b"").map_err(|e| Error::io(&marker, e))?;
        record.description.training_job_status = TrainingJobStatus::Stopping;
        record.description.last_modified_time = now();
        self.persist(&record)
    }

    /// Validates and records a job, then starts it on the runtime.
    pub(crate) fn create_training_job(
        self: &Arc<Self>,
        spec: TrainingJobSpec,
    ) -> Result<TrainingJobDescription> {
        let name = spec.training_job_name.clone();
        let container = self.container_for(&spec.algorithm_specification.training_image)?;
        metric_regexes(&spec)?;
        if spec.resource_config.instance_count != 1 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the local backend runs training on one instance; InstanceCount is {}",
                    spec.resource_config.instance_count
                ),
            )
            .with_context(
                sagemaker_core::error::context::FIELD,
                "ResourceConfig.InstanceCount",
            ));
        }
        if spec.algorithm_specification.training_input_mode == TrainingInputMode::Pipe
            || spec
                .input_data_config
                .iter()
                .any(|c| c.input_mode == Some(TrainingInputMode::Pipe))
        {
            return Err(Error::unsupported("local", "Pipe input mode"));
        }
        let mut channel_files = Vec::new();
        for channel in &spec.input_data_config {
            channel_files.push((channel.channel_name.clone(), self.channel_files(channel)?));
        }
        self.store
            .path_of(&spec.output_data_config.s3_output_path)?;
        let code = self.script_code(&spec)?;

        let dir = job_dir(&self.root, &name);
        std::fs::create_dir_all(jobs_dir(&self.root))
            .map_err(|e| Error::io(jobs_dir(&self.root), e))?;
        // create_dir is atomic across processes: the loser of a name race gets AlreadyExists.
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("training job '{name}' already exists"),
                )
                .with_context(sagemaker_core::error::context::RESOURCE, name));
            }
            Err(e) => return Err(Error::io(&dir, e)),
        }

        let t = now();
        let arn = sagemaker_core::arn(&self.region, crate::LOCAL_ACCOUNT, "training-job", &name);
        let record = JobRecord {
            description: TrainingJobDescription::from_spec(&spec, arn, t),
            owner: Owner::current(),
        };
        self.persist(&record)?;
        let description = record.description.clone();
        let job = Arc::new(LiveJob {
            record: Mutex::new(record),
            stop: Arc::new(AtomicBool::new(false)),
        });
        lock(&self.training).insert(name.clone(), job.clone());
        tracing::info!(target: "sagemaker::local", job = %name, status = "InProgress", secondary = "Starting", "training job created");

        let inner = self.clone();
        tokio::spawn(async move {
            inner.run(job, spec, container, (channel_files, code)).await;
            lock(&inner.training).remove(&name);
            inner.tick();
        });
        Ok(description)
    }

    /// A script-mode job's `sourcedir.tar.gz` in the store (`sagemaker_submit_directory =
    /// s3://...`, as the Python SDK uploads it), to stage into `/opt/ml/code` as the training
    /// toolkit downloads it. `file://` code is read by the container itself.
    fn script_code(&self, spec: &TrainingJobSpec) -> Result<Option<PathBuf>> {
        let Some(dir) = ScriptMode::decode(&spec.hyper_parameters)
            .and_then(|m| m.submit_directory)
            .filter(|d| d.starts_with("s3://"))
        else {
            return Ok(None);
        };
        let uri: StorageUri = dir.parse()?;
        let path = self.store.path_of(&uri)?;
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("sagemaker_submit_directory: no sourcedir.tar.gz at {dir}"),
            )
            .with_context(sagemaker_core::error::context::PATH, dir));
        }
        Ok(Some(path))
    }

    /// The files of a channel with their path relative to the channel root.
    fn channel_files(&self, channel: &Channel) -> Result<Vec<(PathBuf, PathBuf)>> {
        let source = &channel.data_source.s3_data_source;
        if source.s3_data_type != S3DataType::S3Prefix {
            return Err(Error::unsupported(
                "local",
                &format!("{} channels", source.s3_data_type),
            ));
        }
        let uri = &source.s3_uri;
        let path = self.store.path_of(uri)?;
        let missing = || {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "channel '{}': no data at {uri} (looked in {})",
                    channel.channel_name,
                    path.display()
                ),
            )
            .with_context(sagemaker_core::error::context::PATH, uri.to_string())
        };
        let files: Vec<(PathBuf, PathBuf)> = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                let name = path.file_name().map(PathBuf::from).ok_or_else(missing)?;
                vec![(path.clone(), name)]
            }
            Ok(_) => crate::store::walk(&path)?
                .into_iter()
                .map(|(f, _)| {
                    let rel = f.strip_prefix(&path).unwrap_or(&f).to_path_buf();
                    (f, rel)
                })
                .collect(),
            Err(_) if uri.is_s3() => {
                // An S3 key prefix that is not a directory: the objects whose keys start with it.
                let (Some(parent), Some(stem)) = (path.parent(), path.file_name()) else {
                    return Err(missing());
                };
                let stem = stem.to_string_lossy().into_owned();
                crate::store::walk(parent)?
                    .into_iter()
                    .filter_map(|(f, _)| {
                        let rel = f.strip_prefix(parent).ok()?.to_path_buf();
                        rel.to_string_lossy().starts_with(&stem).then_some((f, rel))
                    })
                    .collect()
            }
            Err(_) => return Err(missing()),
        };
        if files.is_empty() {
            return Err(missing());
        }
        Ok(files)
    }

    async fn run(
        self: &Arc<Self>,
        job: Arc<LiveJob>,
        spec: TrainingJobSpec,
        container: Arc<dyn Container>,
        (channel_files, code): (ChannelFiles, Option<PathBuf>),
    ) {
        let name = spec.training_job_name.clone();
        let dir = job_dir(&self.root, &name);
        let definitions = metric_regexes(&spec).unwrap_or_default();
        let log = match JobLog::create(&dir.join(LOG_FILE), &name, definitions) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                self.finish_failed(
                    &job,
                    format!("InternalServerError: cannot create the job log: {e}"),
                );
                return;
            }
        };
        log.platform("Starting - Preparing the instances for training");
        let paths = TrainingPaths::new(dir.join(WORK_DIR));

        // Downloading: lay out /opt/ml and make the channels' files visible.
        self.transition(
            &job,
            &log,
            SecondaryStatus::Downloading,
            "Downloading input data",
        );
        let prepared = {
            let spec = spec.clone();
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || {
                prepare_layout(&spec, &paths, &channel_files)?;
                stage_code(code.as_deref(), &paths)
            })
            .await
            .unwrap_or_else(|e| Err(Error::new(ErrorKind::Internal, e.to_string())))
        };
        if let Err(e) = prepared {
            log.platform(&format!("Failed - {e}"));
            self.finish_failed(&job, format!("ClientError: {}", e.message()));
            return;
        }
        if job.stop.load(Ordering::SeqCst) || dir.join(STOP_MARKER).exists() {
            self.finish_stopped(&job, &log, SecondaryStatus::Stopped);
            return;
        }

        // Training: the container runs on a blocking thread, off the async runtime.
        let started = now();
        let _ = self.update(&job, |d| {
            d.training_start_time = Some(started);
        });
        self.transition(
            &job,
            &log,
            SecondaryStatus::Training,
            "Training image download completed. Training in progress.",
        );
        let mut env_vars = self.container_environment(&spec.environment);
        env_vars.insert("TRAINING_JOB_NAME".into(), name.clone());
        env_vars.insert(
            "TRAINING_JOB_ARN".into(),
            lock(&job.record).description.training_job_arn.clone(),
        );
        let channels: BTreeMap<String, Option<String>> = spec
            .input_data_config
            .iter()
            .map(|c| (c.channel_name.clone(), c.content_type.clone()))
            .collect();
        let env = TrainingEnv::new(name.clone(), paths.clone(), log.clone(), job.stop.clone())
            .with_hyperparameters(spec.hyper_parameters.clone())
            .with_channels(channels)
            .with_environment(env_vars)
            .with_instance_type(spec.resource_config.instance_type.clone())
            .with_container_command(
                spec.algorithm_specification.container_entrypoint.clone(),
                spec.algorithm_specification.container_arguments.clone(),
            );
        let train = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| container.train(&env)))
        });
        tokio::pin!(train);
        let max_runtime = Duration::from_secs(spec.stopping_condition.max_runtime_in_seconds);
        let deadline = tokio::time::sleep(max_runtime);
        tokio::pin!(deadline);
        let mut runtime_exceeded = false;
        let mut stop_poll = tokio::time::interval(STOP_POLL);
        let outcome = loop {
            tokio::select! {
                r = &mut train => break r,
                _ = &mut deadline, if !runtime_exceeded => {
                    runtime_exceeded = true;
                    log.platform(&format!("MaxRuntimeExceeded - the job ran past MaxRuntimeInSeconds ({}s); stopping", max_runtime.as_secs()));
                    job.stop.store(true, Ordering::SeqCst);
                }
                _ = stop_poll.tick() => {
                    if !job.stop.load(Ordering::SeqCst) && dir.join(STOP_MARKER).exists() {
                        job.stop.store(true, Ordering::SeqCst);
                    }
                }
            }
        };
        let stop_requested = job.stop.load(Ordering::SeqCst);
        let stopped_status = if runtime_exceeded {
            SecondaryStatus::MaxRuntimeExceeded
        } else {
            SecondaryStatus::Stopped
        };
        match outcome {
            Err(join) => {
                self.finish_failed(
                    &job,
                    format!("InternalServerError: the training thread failed: {join}"),
                );
            }
            Ok(Err(panic)) => {
                let msg = crate::guard::panic_message(panic.as_ref());
                log.platform(&format!("AlgorithmError - the container panicked: {msg}"));
                self.finish_failed(
                    &job,
                    format!("AlgorithmError: the container panicked: {msg}"),
                );
            }
            Ok(Ok(Err(e))) if e.kind == ContainerErrorKind::Stopped || stop_requested => {
                let _ = e;
                self.pack_stopped_model(&job, &log, &spec, &paths).await;
                self.finish_stopped(&job, &log, stopped_status);
            }
            Ok(Ok(Err(e))) => {
                // A container may write its own reason to /opt/ml/output/failure, as on SageMaker.
                let reason = std::fs::read_to_string(paths.failure_file())
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| e.failure_reason());
                log.platform(&format!("Failed - {reason}"));
                self.finish_failed(&job, reason);
            }
            Ok(Ok(Ok(()))) if stop_requested => {
                self.pack_stopped_model(&job, &log, &spec, &paths).await;
                self.finish_stopped(&job, &log, stopped_status);
            }
            Ok(Ok(Ok(()))) => self.upload_and_complete(&job, &log, &spec, &paths).await,
        }
        // The inputs are links or copies and the model is now in the tarball: free the space.
        let _ = std::fs::remove_dir_all(&paths.data_dir);
        let _ = std::fs::remove_dir_all(&paths.model_dir);
    }

    /// A stopped job keeps what `model/` holds, as SageMaker uploads the artifacts of a
    /// Stopped job (an empty `model/` gives no artifact).
    async fn pack_stopped_model(
        &self,
        job: &LiveJob,
        log: &JobLog,
        spec: &TrainingJobSpec,
        paths: &TrainingPaths,
    ) {
        let has_model = std::fs::read_dir(&paths.model_dir).is_ok_and(|mut d| d.next().is_some());
        if !has_model {
            return;
        }
        let uri = spec
            .output_data_config
            .s3_output_path
            .join(&format!("{}/output/model.tar.gz", spec.training_job_name));
        let (store, dir, dest) = (self.store.clone(), paths.model_dir.clone(), uri.clone());
        let packed = tokio::task::spawn_blocking(move || pack_to(&store, &dir, &dest))
            .await
            .unwrap_or_else(|e| Err(Error::new(ErrorKind::Internal, e.to_string())));
        match packed {
            Ok(()) => {
                log.platform("Uploading - the model the job wrote before it stopped");
                let _ = self.update(job, |d| {
                    d.model_artifacts = Some(ModelArtifacts {
                        s3_model_artifacts: uri,
                    });
                });
            }
            Err(e) => log.platform(&format!("cannot upload the stopped job's model: {e}")),
        }
    }

    async fn upload_and_complete(
        &self,
        job: &LiveJob,
        log: &Arc<JobLog>,
        spec: &TrainingJobSpec,
        paths: &TrainingPaths,
    ) {
        self.transition(
            job,
            log,
            SecondaryStatus::Uploading,
            "Uploading generated training model",
        );
        let output = spec
            .output_data_config
            .s3_output_path
            .join(&format!("{}/output", spec.training_job_name));
        let model_uri = output.join("model.tar.gz");
        let output_uri = output.join("output.tar.gz");
        let store = self.store.clone();
        let paths = paths.clone();
        let (m, o) = (model_uri.clone(), output_uri.clone());
        let uploaded = tokio::task::spawn_blocking(move || -> Result<()> {
            pack_to(&store, &paths.model_dir, &m)?;
            let has_output = std::fs::read_dir(&paths.output_data_dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if has_output {
                pack_to(&store, &paths.output_data_dir, &o)?;
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|e| Err(Error::new(ErrorKind::Internal, e.to_string())));
        if let Err(e) = uploaded {
            log.platform(&format!("Failed - cannot upload the model: {e}"));
            self.finish_failed(
                job,
                format!(
                    "InternalServerError: cannot upload the model: {}",
                    e.message()
                ),
            );
            return;
        }
        // Log first: whoever sees the final status must also see the final log line.
        log.platform("Completed - Training job completed");
        let t = now();
        let metrics = log.final_metrics();
        let result = self.update(job, |d| {
            d.model_artifacts = Some(ModelArtifacts {
                s3_model_artifacts: model_uri.clone(),
            });
            d.final_metric_data_list = metrics;
            end_transitions(d, t);
            d.training_job_status = TrainingJobStatus::Completed;
            d.secondary_status = SecondaryStatus::Completed;
            d.secondary_status_transitions
                .push(SecondaryStatusTransition::new(
                    SecondaryStatus::Completed,
                    t,
                    "Training job completed",
                ));
            set_end(d, t);
        });
        if let Ok(d) = result {
            tracing::info!(
                target: "sagemaker::local",
                job = %d.training_job_name,
                status = "Completed",
                artifact = %model_uri,
                "training job completed"
            );
        }
    }

    fn transition(&self, job: &LiveJob, log: &JobLog, status: SecondaryStatus, message: &str) {
        let t = now();
        let result = self.update(job, |d| {
            end_transitions(d, t);
            d.secondary_status = status;
            d.secondary_status_transitions
                .push(SecondaryStatusTransition::new(status, t, message));
        });
        log.platform(&format!("{status} - {message}"));
        if let Ok(d) = result {
            tracing::info!(target: "sagemaker::local", job = %d.training_job_name, status = %d.training_job_status, secondary = %status, "{message}");
        }
    }

    fn finish_failed(&self, job: &LiveJob, reason: String) {
        let t = now();
        let result = self.update(job, |d| {
            end_transitions(d, t);
            d.training_job_status = TrainingJobStatus::Failed;
            d.secondary_status = SecondaryStatus::Failed;
            d.secondary_status_transitions
                .push(SecondaryStatusTransition::new(
                    SecondaryStatus::Failed,
                    t,
                    reason.clone(),
                ));
            d.failure_reason = Some(reason.clone());
            set_end(d, t);
        });
        if let Ok(d) = result {
            tracing::warn!(target: "sagemaker::local", job = %d.training_job_name, status = "Failed", reason = %reason, "training job failed");
        }
    }

    fn finish_stopped(&self, job: &LiveJob, log: &JobLog, secondary: SecondaryStatus) {
        log.platform(&format!("{secondary} - Training job stopped"));
        let t = now();
        let metrics = log.final_metrics();
        let result = self.update(job, |d| {
            end_transitions(d, t);
            d.training_job_status = TrainingJobStatus::Stopped;
            d.secondary_status = secondary;
            d.final_metric_data_list = metrics;
            d.secondary_status_transitions
                .push(SecondaryStatusTransition::new(
                    secondary,
                    t,
                    "Training job stopped",
                ));
            set_end(d, t);
        });
        if let Ok(d) = result {
            tracing::info!(target: "sagemaker::local", job = %d.training_job_name, status = "Stopped", "training job stopped");
        }
    }
}

/// The job's `MetricDefinitions`, compiled; a bad regex names the definition.
fn metric_regexes(spec: &TrainingJobSpec) -> Result<Vec<(String, regex::Regex)>> {
    spec.algorithm_specification
        .metric_definitions
        .iter()
        .map(|d| {
            regex::Regex::new(&d.regex)
                .map(|re| (d.name.clone(), re))
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Validation,
                        format!(
                            "MetricDefinitions '{}': invalid regex '{}': {e}",
                            d.name, d.regex
                        ),
                    )
                })
        })
        .collect()
}

fn not_in_progress(name: &str, status: TrainingJobStatus) -> Error {
    Error::new(
        ErrorKind::Validation,
        format!("training job '{name}' is {status}; only an InProgress job can be stopped"),
    )
    .with_context(sagemaker_core::error::context::RESOURCE, name)
}

fn end_transitions(d: &mut TrainingJobDescription, t: OffsetDateTime) {
    if let Some(last) = d.secondary_status_transitions.last_mut()
        && last.end_time.is_none()
    {
        last.end_time = Some(t);
    }
}

fn set_end(d: &mut TrainingJobDescription, t: OffsetDateTime) {
    d.training_end_time = Some(t);
    if let Some(start) = d.training_start_time {
        let secs = ceil_seconds(start, t);
        d.training_time_in_seconds = Some(secs);
        d.billable_time_in_seconds = Some(secs);
    }
}

fn pack_to(store: &crate::store::LocalStore, dir: &Path, uri: &StorageUri) -> Result<()> {
    let dest = store.path_of(uri)?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    artifact::pack_dir(dir, &dest).map(|_| ())
}

/// Extracts a script's `sourcedir.tar.gz` into `/opt/ml/code`, with the artifact limits.
fn stage_code(archive: Option<&Path>, paths: &TrainingPaths) -> Result<()> {
    match archive {
        Some(archive) => artifact::extract_file(
            archive,
            &paths.root.join("code"),
            artifact::ExtractLimits::default(),
        )
        .map(|_| ())
        .map_err(|e| e.prefixed("sagemaker_submit_directory")),
        None => Ok(()),
    }
}

/// Creates `/opt/ml`, the config files of the training contract, and the channel files
/// (hard links where possible, copies otherwise: the container may not change the source).
fn prepare_layout(
    spec: &TrainingJobSpec,
    paths: &TrainingPaths,
    channels: &[(String, Vec<(PathBuf, PathBuf)>)],
) -> Result<()> {
    for dir in [
        &paths.config_dir,
        &paths.data_dir,
        &paths.model_dir,
        &paths.output_data_dir,
    ] {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let hp = serde_json::to_vec_pretty(&spec.hyper_parameters)?;
    write_atomic(&paths.config_dir.join("hyperparameters.json"), &hp)?;
    let mut input_config = serde_json::Map::new();
    for c in &spec.input_data_config {
        let mut m = serde_json::Map::new();
        if let Some(ct) = &c.content_type {
            m.insert("ContentType".into(), ct.clone().into());
        }
        let mode = c
            .input_mode
            .unwrap_or(spec.algorithm_specification.training_input_mode);
        m.insert("TrainingInputMode".into(), mode.as_str().into());
        m.insert(
            "S3DistributionType".into(),
            c.data_source
                .s3_data_source
                .s3_data_distribution_type
                .as_str()
                .into(),
        );
        m.insert(
            "RecordWrapperType".into(),
            c.record_wrapper_type
                .unwrap_or(RecordWrapperType::None)
                .as_str()
                .into(),
        );
        input_config.insert(c.channel_name.clone(), m.into());
    }
    write_atomic(
        &paths.config_dir.join("inputdataconfig.json"),
        &serde_json::to_vec_pretty(&input_config)?,
    )?;
    let resource = serde_json::json!({
        "current_host": "algo-1",
        "hosts": ["algo-1"],
        "network_interface_name": "eth0",
        "current_instance_type": spec.resource_config.instance_type,
    });
    write_atomic(
        &paths.config_dir.join("resourceconfig.json"),
        &serde_json::to_vec_pretty(&resource)?,
    )?;
    for (channel, files) in channels {
        let root = paths.channel_dir(channel);
        for (src, rel) in files {
            let dest = root.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            if std::fs::hard_link(src, &dest).is_err() {
                std::fs::copy(src, &dest).map_err(|e| Error::io(src, e))?;
            }
        }
    }
    Ok(())
}

/// The job's log file plus the metrics it reported.
struct JobLog {
    file: Mutex<std::fs::File>,
    job: String,
    metrics: Mutex<Vec<MetricData>>,
    /// `MetricDefinitions`: a log line matching a regex reports its first group.
    definitions: Vec<(String, regex::Regex)>,
}

impl JobLog {
    fn create(
        path: &Path,
        job: &str,
        definitions: Vec<(String, regex::Regex)>,
    ) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(JobLog {
            file: Mutex::new(file),
            job: job.to_string(),
            metrics: Mutex::new(Vec::new()),
            definitions,
        })
    }

    fn write_line(&self, line: &str) {
        let mut file = lock(&self.file);
        // One write per line so another process tailing the file sees whole lines.
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }

    fn platform(&self, line: &str) {
        self.write_line(&format!("[sagemaker] {line}"));
    }

    fn final_metrics(&self) -> Vec<MetricData> {
        lock(&self.metrics).clone()
    }
}

impl TrainingReporter for JobLog {
    fn log(&self, line: &str) {
        for l in line.lines() {
            tracing::debug!(target: "sagemaker::job", job = %self.job, "{l}");
            self.write_line(l);
            for (name, re) in &self.definitions {
                if let Some(value) = re
                    .captures(l)
                    .and_then(|c| c.get(1))
                    .and_then(|m| m.as_str().trim().parse::<f64>().ok())
                {
                    self.record_metric(name, value);
                }
            }
        }
    }

    fn metric(&self, name: &str, value: f64) {
        self.write_line(&format!("#metrics {name}={value}"));
        self.record_metric(name, value);
    }
}

impl JobLog {
    fn record_metric(&self, name: &str, value: f64) {
        let mut metrics = lock(&self.metrics);
        let m = MetricData::new(name, value, now());
        match metrics.iter_mut().find(|x| x.metric_name == name) {
            Some(existing) => *existing = m,
            None => metrics.push(m),
        }
    }
}
