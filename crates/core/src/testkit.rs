//! The conformance suite every backend runs (feature `testkit`).
//!
//! Each function takes a [`Session`] and the image name under which the backend runs a
//! [`ConformanceContainer`] (register it on the local backend; on AWS, an image that follows
//! the same contract). Checks panic with a message saying what differs; functions skip
//! (returning `false`) what the backend's [`crate::Capability`] does not claim.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::container::{
    Container, ContainerError, Handler, InvocationError, InvocationRequest, InvocationResponse,
    ServingEnv, TrainingEnv,
};
use crate::spec::*;
use crate::{Error, ErrorKind, Result, Session, StorageUri, WaitConfig, names};

/// A container with a fixed, checkable behaviour.
///
/// Training, driven by hyperparameters: it copies every file of channel `training` into the
/// model directory and reports the metric `train:files`; `fail=<message>` writes `<message>`
/// to `output/failure` and fails; `sleep_ms=<n>` sleeps in 5 ms steps, returning early when a
/// stop is requested; `panic=<message>` panics.
///
/// Serving: loading sleeps `CONFORMANCE_LOAD_MS` milliseconds when the model's environment
/// sets it; it answers `{model files}|{body}` (the model directory's file names, sorted and
/// comma-separated) with the request's Accept as Content-Type (default `text/plain`) and
/// `echo={custom attributes}` as custom attributes; a body `status:<code>:<message>` makes it
/// answer that error instead, a body starting `sleep:<ms>` sleeps that long first, and a body
/// `env:<NAME>` answers `<NAME>=<value>` from the serving environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConformanceContainer;

impl Container for ConformanceContainer {
    fn train(&self, env: &TrainingEnv) -> std::result::Result<(), ContainerError> {
        env.log("conformance container: training");
        if let Some(serde_json::Value::String(msg)) = env.hyperparameter("panic") {
            panic!("{msg}");
        }
        if let Some(ms) = env.hyperparameter("sleep_ms").and_then(|v| v.as_u64()) {
            let mut left = ms;
            while left > 0 {
                if env.stop_requested() {
                    env.log("conformance container: stop requested");
                    return Err(ContainerError::stopped());
                }
                std::thread::sleep(Duration::from_millis(5));
                left = left.saturating_sub(5);
            }
        }
        if let Some(msg) = env.hyperparameter("fail") {
            let msg = msg
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| msg.to_string());
            let _ = std::fs::write(env.paths.failure_file(), format!("ClientError: {msg}"));
            env.log(format!("conformance container: failing with {msg}"));
            return Err(ContainerError::client(msg));
        }
        let dir = env.paths.channel_dir("training");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir)
            .map_err(|e| ContainerError::client(format!("{}: {e}", dir.display())))?
        {
            let entry = entry.map_err(|e| ContainerError::client(e.to_string()))?;
            if entry.path().is_file() {
                std::fs::copy(entry.path(), env.paths.model_dir.join(entry.file_name()))
                    .map_err(|e| ContainerError::algorithm(e.to_string()))?;
                files += 1;
            }
        }
        env.report_metric("train:files", files as f64);
        env.log(format!("conformance container: copied {files} files"));
        Ok(())
    }

    fn load(
        &self,
        model_dir: &std::path::Path,
        env: &ServingEnv,
    ) -> Result<std::sync::Arc<dyn Handler>> {
        if let Some(ms) = env
            .environment
            .get("CONFORMANCE_LOAD_MS")
            .and_then(|v| v.parse().ok())
        {
            std::thread::sleep(Duration::from_millis(ms));
        }
        let mut files: Vec<String> = std::fs::read_dir(model_dir)
            .map_err(|e| Error::io(model_dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        Ok(std::sync::Arc::new(EchoHandler {
            files: files.join(","),
            env: env.environment.clone(),
        }))
    }
}

struct EchoHandler {
    files: String,
    env: BTreeMap<String, String>,
}

impl Handler for EchoHandler {
    fn invoke(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError> {
        if let Some(name) = request.body.strip_prefix(b"env:") {
            let name = String::from_utf8_lossy(name).trim().to_string();
            let value = self
                .env
                .get(&name)
                .cloned()
                .unwrap_or_else(|| "(unset)".into());
            return Ok(InvocationResponse::new(
                format!("{name}={value}"),
                "text/plain",
            ));
        }
        if let Some(rest) = request.body.strip_prefix(b"sleep:") {
            let ms = String::from_utf8_lossy(rest).trim().parse().unwrap_or(0);
            std::thread::sleep(Duration::from_millis(ms));
        }
        if let Some(rest) = request.body.strip_prefix(b"status:") {
            let text = String::from_utf8_lossy(rest);
            let (code, message) = text.split_once(':').unwrap_or((&text, ""));
            return Err(InvocationError::new(code.parse().unwrap_or(500), message));
        }
        let mut body = format!("{}|", self.files).into_bytes();
        body.extend_from_slice(&request.body);
        let mut response = InvocationResponse::new(
            body,
            request
                .accept
                .clone()
                .unwrap_or_else(|| "text/plain".into()),
        );
        response.custom_attributes = request
            .custom_attributes
            .as_ref()
            .map(|a| format!("echo={a}"));
        Ok(response)
    }
}

/// A serving container that reports what it went through, for concurrency and queueing
/// tests: it counts loads and requests in flight (and the most ever at once), echoes each
/// body, answers a body `fail:<message>` with a 400 error, works `<ms>` milliseconds on a
/// body `sleep:<ms>`, and holds a body `hold` at a gate
/// until [`Probe::release`] (see [`Probe::wait_held`]).
#[derive(Debug, Clone, Default)]
pub struct ProbeContainer {
    probe: std::sync::Arc<Probe>,
}

impl ProbeContainer {
    /// A container and the probe that watches it.
    pub fn new() -> (Self, std::sync::Arc<Probe>) {
        let probe = std::sync::Arc::new(Probe::default());
        (
            ProbeContainer {
                probe: probe.clone(),
            },
            probe,
        )
    }
}

/// What a [`ProbeContainer`] saw.
#[derive(Debug, Default)]
pub struct Probe {
    loads: std::sync::atomic::AtomicU32,
    in_flight: std::sync::atomic::AtomicU32,
    max_in_flight: std::sync::atomic::AtomicU32,
    invocations: std::sync::atomic::AtomicU64,
    gate: std::sync::Mutex<Gate>,
    changed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct Gate {
    released: bool,
    held: usize,
}

impl Probe {
    /// How many times the model was loaded.
    pub fn loads(&self) -> u32 {
        self.loads.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The most requests that ran at once.
    pub fn max_in_flight(&self) -> u32 {
        self.max_in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests answered or failed so far.
    pub fn invocations(&self) -> u64 {
        self.invocations.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Blocks until `n` `hold` requests wait at the gate.
    pub fn wait_held(&self, n: usize) {
        let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        while gate.held < n {
            gate = self.changed.wait(gate).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Opens the gate for good: held requests and later ones pass.
    pub fn release(&self) {
        self.gate.lock().unwrap_or_else(|p| p.into_inner()).released = true;
        self.changed.notify_all();
    }
}

impl Container for ProbeContainer {
    fn train(&self, _env: &TrainingEnv) -> std::result::Result<(), ContainerError> {
        Ok(())
    }

    fn load(
        &self,
        _model_dir: &std::path::Path,
        _env: &ServingEnv,
    ) -> Result<std::sync::Arc<dyn Handler>> {
        self.probe
            .loads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(std::sync::Arc::new(self.clone()))
    }
}

impl Handler for ProbeContainer {
    fn invoke(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError> {
        use std::sync::atomic::Ordering::SeqCst;
        let p = &self.probe;
        let now = p.in_flight.fetch_add(1, SeqCst) + 1;
        p.max_in_flight.fetch_max(now, SeqCst);
        if request.body == b"hold" {
            let mut gate = p.gate.lock().unwrap_or_else(|e| e.into_inner());
            gate.held += 1;
            p.changed.notify_all();
            while !gate.released {
                gate = p.changed.wait(gate).unwrap_or_else(|e| e.into_inner());
            }
        } else if let Some(ms) = request.body.strip_prefix(b"sleep:") {
            let ms = String::from_utf8_lossy(ms)
                .split_whitespace()
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            std::thread::sleep(Duration::from_millis(ms));
        } else {
            // Give other requests a chance to overlap with this one.
            std::thread::yield_now();
        }
        let answer = match request.body.strip_prefix(b"fail:") {
            Some(msg) => Err(InvocationError::new(400, String::from_utf8_lossy(msg))),
            None => Ok(InvocationResponse::new(
                request.body.clone(),
                request
                    .accept
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
            )),
        };
        p.in_flight.fetch_sub(1, SeqCst);
        p.invocations.fetch_add(1, SeqCst);
        answer
    }
}

fn spec(
    session_bucket: &str,
    image: &str,
    name: &str,
    data: &StorageUri,
    hp: &[(&str, &str)],
) -> TrainingJobSpec {
    TrainingJobSpec {
        vpc_config: None,
        training_job_name: name.to_string(),
        algorithm_specification: AlgorithmSpecification {
            training_image: image.to_string(),
            training_input_mode: TrainingInputMode::File,
            metric_definitions: vec![],
            container_entrypoint: Vec::new(),
            container_arguments: Vec::new(),
        },
        role_arn: Some("arn:aws:iam::000000000000:role/SageMakerRole".into()),
        input_data_config: vec![Channel {
            channel_name: "training".into(),
            data_source: DataSource {
                s3_data_source: S3DataSource {
                    s3_data_type: S3DataType::S3Prefix,
                    s3_uri: data.clone(),
                    s3_data_distribution_type: S3DataDistributionType::FullyReplicated,
                },
            },
            content_type: Some("text/csv".into()),
            compression_type: None,
            record_wrapper_type: None,
            input_mode: None,
        }],
        output_data_config: OutputDataConfig {
            s3_output_path: StorageUri::s3(session_bucket, "conformance-output"),
            kms_key_id: None,
        },
        resource_config: ResourceConfig {
            instance_count: 1,
            instance_type: "ml.m5.large".into(),
            volume_size_in_gb: 30,
        },
        stopping_condition: StoppingCondition {
            max_runtime_in_seconds: 3600,
        },
        hyper_parameters: hp
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        environment: BTreeMap::new(),
        tags: vec![Tag::new("suite", "conformance")],
    }
}

async fn upload_fixture(session: &Session) -> Result<StorageUri> {
    let bucket = session.default_bucket().await?;
    let prefix = StorageUri::s3(
        &bucket,
        format!("conformance/{}", names::sagemaker_timestamp()),
    );
    session
        .store()
        .put_bytes(b"a,b\n1,2\n".to_vec(), &prefix.join("part-1.csv"))
        .await?;
    session
        .store()
        .put_bytes(b"a,b\n3,4\n".to_vec(), &prefix.join("part-2.csv"))
        .await?;
    Ok(prefix)
}

fn wait() -> WaitConfig {
    WaitConfig::default()
        .poll_interval(Duration::from_millis(50))
        .timeout(Duration::from_secs(120))
}

/// A job runs to `Completed` through SageMaker's phases, writes its artifact, and shows up
/// in describe, list and logs with consistent fields.
pub async fn training_job_lifecycle(session: &Session, image: &str) -> Result<bool> {
    if !session.capabilities().training {
        return Ok(false);
    }
    let backend = session.backend();
    let data = upload_fixture(session).await?;
    let bucket = session.default_bucket().await?;
    let name = names::name_from_base("conformance");
    let created = backend
        .create_training_job(spec(&bucket, image, &name, &data, &[("epochs", "3")]))
        .await?;
    assert_eq!(created.training_job_name, name);
    assert_eq!(created.training_job_status, TrainingJobStatus::InProgress);
    assert!(
        created
            .training_job_arn
            .ends_with(&format!("training-job/{name}"))
    );

    let d = session.wait_for_training_job(&name, &wait()).await?;
    assert_eq!(
        d.training_job_status,
        TrainingJobStatus::Completed,
        "{:?}",
        d.failure_reason
    );
    assert_eq!(d.secondary_status, SecondaryStatus::Completed);
    let phases: Vec<_> = d
        .secondary_status_transitions
        .iter()
        .map(|t| t.status)
        .collect();
    assert_eq!(
        phases,
        [
            SecondaryStatus::Starting,
            SecondaryStatus::Downloading,
            SecondaryStatus::Training,
            SecondaryStatus::Uploading,
            SecondaryStatus::Completed
        ]
    );
    for pair in d.secondary_status_transitions.windows(2) {
        assert!(
            pair[0].start_time <= pair[1].start_time,
            "transitions out of order"
        );
        assert_eq!(
            pair[0].end_time,
            Some(pair[1].start_time),
            "a phase ends when the next begins"
        );
    }
    let start = d.training_start_time.expect("training_start_time");
    let end = d.training_end_time.expect("training_end_time");
    assert!(d.creation_time <= start && start <= end);
    assert!(d.training_time_in_seconds.is_some() && d.billable_time_in_seconds.is_some());
    assert_eq!(
        d.hyper_parameters.get("epochs").map(String::as_str),
        Some("3")
    );
    assert_eq!(d.metric("train:files"), Some(2.0));
    let artifact = d
        .model_artifacts
        .as_ref()
        .expect("model artifacts")
        .s3_model_artifacts
        .clone();
    assert_eq!(
        artifact,
        StorageUri::s3(
            &bucket,
            format!("conformance-output/{name}/output/model.tar.gz")
        )
    );
    assert!(
        session.store().exists(&artifact).await?,
        "{artifact} is missing"
    );

    let listed = backend
        .list_training_jobs(&ListTrainingJobs::new().name_contains(name.as_str()))
        .await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].training_job_status, TrainingJobStatus::Completed);
    let failed_only = backend
        .list_training_jobs(
            &ListTrainingJobs::new()
                .name_contains(name.as_str())
                .status_equals(TrainingJobStatus::Failed),
        )
        .await?;
    assert!(failed_only.is_empty());

    let logs = backend.training_job_logs(&name).await?;
    assert!(
        logs.contains("conformance container: copied 2 files"),
        "log was:\n{logs}"
    );
    Ok(true)
}

/// Invalid, duplicate and unknown names, missing data, and failing or panicking containers
/// give the documented errors and states.
pub async fn training_job_errors(session: &Session, image: &str) -> Result<bool> {
    if !session.capabilities().training {
        return Ok(false);
    }
    let backend = session.backend();
    let data = upload_fixture(session).await?;
    let bucket = session.default_bucket().await?;

    let e = backend
        .create_training_job(spec(&bucket, image, "bad_name!", &data, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");

    let e = backend
        .describe_training_job("no-such-job-conformance")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = backend
        .stop_training_job("no-such-job-conformance")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    let missing = StorageUri::s3(&bucket, "conformance/does-not-exist/");
    let e = backend
        .create_training_job(spec(
            &bucket,
            image,
            &names::name_from_base("conformance-missing"),
            &missing,
            &[],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Validation),
        "{e}"
    );
    assert!(e.message().contains("does-not-exist"), "{e}");

    let name = names::name_from_base("conformance-dup");
    backend
        .create_training_job(spec(&bucket, image, &name, &data, &[]))
        .await?;
    let e = backend
        .create_training_job(spec(&bucket, image, &name, &data, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    session.wait_for_training_job(&name, &wait()).await?;

    let name = names::name_from_base("conformance-fail");
    backend
        .create_training_job(spec(&bucket, image, &name, &data, &[("fail", "bad row 7")]))
        .await?;
    let d = session.wait_for_training_job(&name, &wait()).await?;
    assert_eq!(d.training_job_status, TrainingJobStatus::Failed);
    assert_eq!(d.failure_reason.as_deref(), Some("ClientError: bad row 7"));
    assert!(d.model_artifacts.is_none());
    let e = backend.stop_training_job(&name).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Validation,
        "stopping a finished job: {e}"
    );

    let name = names::name_from_base("conformance-panic");
    backend
        .create_training_job(spec(&bucket, image, &name, &data, &[("panic", "\"boom\"")]))
        .await?;
    let d = session.wait_for_training_job(&name, &wait()).await?;
    assert_eq!(d.training_job_status, TrainingJobStatus::Failed);
    let reason = d.failure_reason.unwrap_or_default();
    assert!(
        reason.starts_with("AlgorithmError") && reason.contains("boom"),
        "{reason}"
    );
    Ok(true)
}

/// A running job stops: `Stopping` then `Stopped`, no artifact; waiting is not an error.
pub async fn training_job_stop(session: &Session, image: &str) -> Result<bool> {
    if !session.capabilities().training {
        return Ok(false);
    }
    let backend = session.backend();
    let data = upload_fixture(session).await?;
    let bucket = session.default_bucket().await?;
    let name = names::name_from_base("conformance-stop");
    backend
        .create_training_job(spec(&bucket, image, &name, &data, &[("sleep_ms", "60000")]))
        .await?;
    // Wait until the container is training, so the stop interrupts it.
    WaitConfig::default()
        .poll_interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(60))
        .wait_until(
            &name,
            backend.changes(),
            || backend.describe_training_job(&name),
            |d: &TrainingJobDescription| {
                (
                    d.secondary_status.to_string(),
                    d.secondary_status == SecondaryStatus::Training,
                )
            },
        )
        .await?;
    backend.stop_training_job(&name).await?;
    let d = session.wait_for_training_job(&name, &wait()).await?;
    assert_eq!(d.training_job_status, TrainingJobStatus::Stopped);
    assert!(d.model_artifacts.is_none());
    assert!(d.training_end_time.is_some());
    Ok(true)
}

/// Trains the conformance container on the fixture and creates a model of its artifact;
/// returns the model's name.
async fn trained_model(session: &Session, image: &str, base: &str) -> Result<String> {
    let backend = session.backend();
    let data = upload_fixture(session).await?;
    let bucket = session.default_bucket().await?;
    let job = names::name_from_base(&format!("{base}-train"));
    backend
        .create_training_job(spec(&bucket, image, &job, &data, &[]))
        .await?;
    let trained = session.wait_for_training_job(&job, &wait()).await?;
    let artifact = trained
        .model_artifacts
        .expect("a completed job has artifacts")
        .s3_model_artifacts;
    let model = names::name_from_base(&format!("{base}-model"));
    backend
        .create_model(ModelSpec {
            vpc_config: None,
            model_name: model.clone(),
            primary_container: ContainerDefinition {
                image: image.to_string(),
                model_data_url: Some(artifact),
                environment: BTreeMap::new(),
            },
            execution_role_arn: None,
            tags: vec![],
        })
        .await?;
    Ok(model)
}

/// A model from a training artifact serves through an endpoint: create, wait, invoke with
/// headers, model errors, describe and list, delete and the errors after it.
pub async fn endpoint_lifecycle(session: &Session, image: &str) -> Result<bool> {
    let caps = session.capabilities();
    if !caps.training || !caps.endpoints {
        return Ok(false);
    }
    let backend = session.backend();
    let model = trained_model(session, image, "conformance-serve").await?;
    let endpoint = names::name_from_base("conformance-endpoint");
    backend
        .create_endpoint_config(EndpointConfigSpec {
            endpoint_config_name: endpoint.clone(),
            production_variants: vec![ProductionVariant {
                variant_name: crate::DEFAULT_VARIANT_NAME.into(),
                model_name: model.clone(),
                initial_instance_count: Some(2),
                instance_type: Some("ml.m5.large".into()),
                initial_variant_weight: 1.0,
                serverless_config: None,
            }],
            async_inference_config: None,
            tags: vec![],
        })
        .await?;
    let created = backend
        .create_endpoint(EndpointSpec {
            endpoint_name: endpoint.clone(),
            endpoint_config_name: endpoint.clone(),
            tags: vec![],
        })
        .await?;
    assert_eq!(created.endpoint_status, EndpointStatus::Creating);
    let d = session.wait_for_endpoint(&endpoint, &wait()).await?;
    assert_eq!(
        d.endpoint_status,
        EndpointStatus::InService,
        "{:?}",
        d.failure_reason
    );
    assert_eq!(d.production_variants.len(), 1);
    assert_eq!(d.production_variants[0].current_instance_count, 2);
    assert!(backend.list_endpoints().await?.contains(&endpoint));

    let mut request = InvokeEndpointRequest::new(endpoint.clone(), b"hello".to_vec());
    request.content_type = Some("text/plain".into());
    request.accept = Some("text/x-echo".into());
    request.custom_attributes = Some("trace=1".into());
    let answer = backend.invoke_endpoint(request).await?;
    assert_eq!(answer.body, b"part-1.csv,part-2.csv|hello");
    assert_eq!(answer.content_type.as_deref(), Some("text/x-echo"));
    assert_eq!(
        answer.invoked_production_variant.as_deref(),
        Some("AllTraffic")
    );
    assert_eq!(answer.custom_attributes.as_deref(), Some("echo=trace=1"));

    let e = backend
        .invoke_endpoint(InvokeEndpointRequest::new(
            endpoint.clone(),
            b"status:415:no such type".to_vec(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelError, "{e}");
    assert_eq!(
        e.context(crate::error::context::ORIGINAL_STATUS_CODE),
        Some("415")
    );
    assert_eq!(
        e.context(crate::error::context::ORIGINAL_MESSAGE),
        Some("no such type")
    );
    assert!(e.message().contains("Received client error (415)"), "{e}");
    let mut bad_variant = InvokeEndpointRequest::new(endpoint.clone(), b"x".to_vec());
    bad_variant.target_variant = Some("Nope".into());
    let e = backend.invoke_endpoint(bad_variant).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    // Still serving after the errors.
    let answer = backend
        .invoke_endpoint(InvokeEndpointRequest::new(
            endpoint.clone(),
            b"again".to_vec(),
        ))
        .await?;
    assert!(answer.body.ends_with(b"|again"));

    backend.delete_endpoint(&endpoint).await?;
    let e = backend
        .invoke_endpoint(InvokeEndpointRequest::new(endpoint.clone(), b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        e.message()
            .contains(&format!("Endpoint {endpoint} of account")),
        "{e}"
    );
    assert_eq!(
        backend
            .describe_endpoint(&endpoint)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    backend.delete_endpoint_config(&endpoint).await?;
    backend.delete_model(&model).await?;
    assert_eq!(
        backend.describe_model(&model).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    Ok(true)
}

/// A batch transform of a trained model: one `.out` per input with the answers in order,
/// `Completed` with start and end times; an unknown model is refused.
pub async fn transform_job_lifecycle(session: &Session, image: &str) -> Result<bool> {
    let caps = session.capabilities();
    if !caps.training || !caps.batch_transform {
        return Ok(false);
    }
    let backend = session.backend();
    let bucket = session.default_bucket().await?;
    let model = trained_model(session, image, "conformance-batch").await?;
    let input = StorageUri::s3(
        &bucket,
        format!("conformance-batch/{}", names::sagemaker_timestamp()),
    );
    session
        .store()
        .put_bytes(b"a\nb\n".to_vec(), &input.join("sub/in.txt"))
        .await?;
    let output = StorageUri::s3(
        &bucket,
        format!("conformance-batch-out/{}", names::sagemaker_timestamp()),
    );
    let transform = |name: &str, model: &str| TransformJobSpec {
        transform_job_name: name.to_string(),
        model_name: model.to_string(),
        max_concurrent_transforms: Some(2),
        max_payload_in_mb: Some(1),
        batch_strategy: Some(BatchStrategy::SingleRecord),
        environment: BTreeMap::new(),
        transform_input: TransformInput {
            data_source: TransformDataSource {
                s3_data_source: TransformS3DataSource {
                    s3_data_type: S3DataType::S3Prefix,
                    s3_uri: input.clone(),
                },
            },
            content_type: Some("text/plain".into()),
            compression_type: CompressionType::None,
            split_type: SplitType::Line,
        },
        transform_output: TransformOutput {
            s3_output_path: output.clone(),
            accept: Some("text/plain".into()),
            assemble_with: AssembleWith::Line,
            kms_key_id: None,
        },
        transform_resources: TransformResources {
            instance_type: "ml.m5.large".into(),
            instance_count: 1,
        },
        data_processing: None,
        tags: vec![],
    };
    let name = names::name_from_base("conformance-batch");
    backend
        .create_transform_job(transform(&name, &model))
        .await?;
    let d = session.wait_for_transform_job(&name, &wait()).await?;
    assert_eq!(
        d.transform_job_status,
        TransformJobStatus::Completed,
        "{:?}",
        d.failure_reason
    );
    assert!(d.transform_start_time.is_some() && d.transform_end_time.is_some());
    let out = session
        .store()
        .get_bytes(&output.join("sub/in.txt.out"))
        .await?;
    assert_eq!(out, b"part-1.csv,part-2.csv|a\npart-1.csv,part-2.csv|b\n");

    let e = backend
        .create_transform_job(transform(
            &names::name_from_base("conformance-batch-x"),
            "no-such-model-conformance",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    backend.delete_model(&model).await?;
    Ok(true)
}

/// The control plane alone, for any backend that claims training, endpoints and batch
/// transform, including mock servers that run no container: every create call's fields come
/// back from describe, lists find the resources, unknown names are `NotFound`, deletes
/// delete. It does not wait for results a container would produce.
pub async fn control_plane(session: &Session, image: &str) -> Result<bool> {
    let caps = session.capabilities();
    if !caps.training || !caps.endpoints || !caps.batch_transform {
        return Ok(false);
    }
    let backend = session.backend();
    let data = upload_fixture(session).await?;
    let bucket = session.default_bucket().await?;
    let job = names::name_from_base("conformance-cp");
    let sent = spec(&bucket, image, &job, &data, &[("epochs", "3")]);
    let created = backend.create_training_job(sent.clone()).await?;
    assert_eq!(created.training_job_name, job);
    let d = backend.describe_training_job(&job).await?;
    assert_eq!(d.training_job_name, job);
    assert!(d.training_job_arn.ends_with(&format!("training-job/{job}")));
    assert_eq!(d.algorithm_specification.training_image, image);
    assert_eq!(d.input_data_config, sent.input_data_config);
    assert_eq!(d.output_data_config, sent.output_data_config);
    assert_eq!(d.resource_config, sent.resource_config);
    assert_eq!(d.stopping_condition, sent.stopping_condition);
    assert_eq!(d.hyper_parameters, sent.hyper_parameters);
    let listed = backend
        .list_training_jobs(&ListTrainingJobs::new().name_contains(job.as_str()))
        .await?;
    assert_eq!(listed.len(), 1, "{listed:?}");
    for e in [
        backend.describe_training_job("no-such-job-cp").await.err(),
        backend.describe_model("no-such-model-cp").await.err(),
        backend.describe_endpoint("no-such-endpoint-cp").await.err(),
        backend
            .describe_endpoint_config("no-such-config-cp")
            .await
            .err(),
        backend
            .describe_transform_job("no-such-transform-cp")
            .await
            .err(),
    ] {
        let e = e.expect("an unknown name is an error");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    }

    let trained = session.wait_for_training_job(&job, &wait()).await?;
    let artifact = trained
        .model_artifacts
        .map(|a| a.s3_model_artifacts)
        .unwrap_or_else(|| {
            StorageUri::s3(
                &bucket,
                format!("conformance-output/{job}/output/model.tar.gz"),
            )
        });
    let model = names::name_from_base("conformance-cp-model");
    let mut environment = BTreeMap::new();
    environment.insert("SAGEMAKER_PROGRAM".to_string(), "serve.py".to_string());
    backend
        .create_model(ModelSpec {
            vpc_config: None,
            model_name: model.clone(),
            primary_container: ContainerDefinition {
                image: image.to_string(),
                model_data_url: Some(artifact.clone()),
                environment: environment.clone(),
            },
            execution_role_arn: Some("arn:aws:iam::000000000000:role/SageMakerRole".into()),
            tags: vec![],
        })
        .await?;
    let m = backend.describe_model(&model).await?;
    assert_eq!(m.primary_container.image, image);
    assert_eq!(m.primary_container.model_data_url, Some(artifact));
    assert_eq!(m.primary_container.environment, environment);
    assert!(backend.list_models().await?.contains(&model));

    let endpoint = names::name_from_base("conformance-cp-ep");
    let variant = ProductionVariant {
        variant_name: "AllTraffic".into(),
        model_name: model.clone(),
        initial_instance_count: Some(1),
        instance_type: Some("ml.m5.large".into()),
        initial_variant_weight: 1.0,
        serverless_config: None,
    };
    backend
        .create_endpoint_config(EndpointConfigSpec {
            endpoint_config_name: endpoint.clone(),
            production_variants: vec![variant.clone()],
            async_inference_config: None,
            tags: vec![],
        })
        .await?;
    let c = backend.describe_endpoint_config(&endpoint).await?;
    assert_eq!(c.production_variants, vec![variant]);
    assert!(backend.list_endpoint_configs().await?.contains(&endpoint));
    backend
        .create_endpoint(EndpointSpec {
            endpoint_name: endpoint.clone(),
            endpoint_config_name: endpoint.clone(),
            tags: vec![],
        })
        .await?;
    let e = session.wait_for_endpoint(&endpoint, &wait()).await?;
    assert_eq!(
        e.endpoint_status,
        EndpointStatus::InService,
        "{:?}",
        e.failure_reason
    );
    assert_eq!(e.endpoint_config_name, endpoint);
    assert_eq!(e.production_variants[0].variant_name, "AllTraffic");
    assert!(backend.list_endpoints().await?.contains(&endpoint));

    let transform = names::name_from_base("conformance-cp-batch");
    let out = StorageUri::s3(&bucket, format!("conformance-cp-out/{transform}"));
    let sent = TransformJobSpec {
        transform_job_name: transform.clone(),
        model_name: model.clone(),
        max_concurrent_transforms: Some(2),
        max_payload_in_mb: Some(1),
        batch_strategy: Some(BatchStrategy::MultiRecord),
        environment: BTreeMap::new(),
        transform_input: TransformInput {
            data_source: TransformDataSource {
                s3_data_source: TransformS3DataSource {
                    s3_data_type: S3DataType::S3Prefix,
                    s3_uri: data.clone(),
                },
            },
            content_type: Some("text/csv".into()),
            compression_type: CompressionType::None,
            split_type: SplitType::Line,
        },
        transform_output: TransformOutput {
            s3_output_path: out,
            accept: Some("text/csv".into()),
            assemble_with: AssembleWith::Line,
            kms_key_id: None,
        },
        transform_resources: TransformResources {
            instance_type: "ml.m5.large".into(),
            instance_count: 1,
        },
        data_processing: Some(DataProcessing {
            input_filter: Some("$[1:]".into()),
            output_filter: Some("$[0,-1]".into()),
            join_source: Some(JoinSource::Input),
        }),
        tags: vec![],
    };
    backend.create_transform_job(sent.clone()).await?;
    let t = backend.describe_transform_job(&transform).await?;
    assert_eq!(t.spec.transform_input, sent.transform_input);
    assert_eq!(t.spec.transform_output, sent.transform_output);
    assert_eq!(t.spec.transform_resources, sent.transform_resources);
    assert_eq!(t.spec.data_processing, sent.data_processing);
    assert_eq!(t.spec.batch_strategy, sent.batch_strategy);
    session.wait_for_transform_job(&transform, &wait()).await?;

    backend.delete_endpoint(&endpoint).await?;
    backend.delete_endpoint_config(&endpoint).await?;
    backend.delete_model(&model).await?;
    let gone = backend.describe_endpoint(&endpoint).await;
    // A deleted endpoint may linger in `Deleting` for a moment on a real service.
    assert!(
        gone.as_ref().map_or_else(
            |e| e.kind() == ErrorKind::NotFound,
            |d| d.endpoint_status == EndpointStatus::Deleting
        ),
        "{gone:?}"
    );
    let e = backend.describe_model(&model).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    Ok(true)
}

/// Which checks a backend can take part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// A backend that runs containers (the local backend, AWS itself): every check.
    Full,
    /// A mock of the service that stores requests but runs no container (moto): jobs are
    /// done at once, write no artifact or log, and stop/update are not implemented, so only
    /// [`control_plane`] runs; request shapes of the rest are pinned by mock-client tests.
    MockServer,
}

/// Serverless and asynchronous endpoints (each part skips when its capability is not
/// claimed): the service's limits on `ServerlessConfig` and on mixing it with instances or
/// `AsyncInferenceConfig`; a serverless variant serves and reports its config; an
/// asynchronous endpoint writes each result to its output location and a model failure to
/// its failure location.
pub async fn serverless_and_async_inference(session: &Session, image: &str) -> Result<bool> {
    let caps = session.capabilities();
    if !caps.training || !caps.endpoints || !(caps.serverless || caps.async_inference) {
        return Ok(false);
    }
    let backend = session.backend();
    let bucket = session.default_bucket().await?;
    let model = trained_model(session, image, "conformance-sa").await?;
    let variant = |serverless: Option<ProductionVariantServerlessConfig>| ProductionVariant {
        variant_name: crate::DEFAULT_VARIANT_NAME.into(),
        model_name: model.clone(),
        initial_instance_count: serverless.is_none().then_some(1),
        instance_type: serverless.is_none().then(|| "ml.m5.large".to_string()),
        initial_variant_weight: 1.0,
        serverless_config: serverless,
    };
    let config =
        |name: &str, v: ProductionVariant, a: Option<AsyncInferenceConfig>| EndpointConfigSpec {
            endpoint_config_name: name.to_string(),
            production_variants: vec![v],
            async_inference_config: a,
            tags: vec![],
        };
    let sc = |memory, max, provisioned| ProductionVariantServerlessConfig {
        memory_size_in_mb: memory,
        max_concurrency: max,
        provisioned_concurrency: provisioned,
    };
    let mut async_config = AsyncInferenceConfig::default();
    async_config.output_config.s3_output_path =
        Some(StorageUri::s3(&bucket, "conformance-async/out"));
    async_config.output_config.s3_failure_path =
        Some(StorageUri::s3(&bucket, "conformance-async/failed"));

    if caps.serverless {
        for (bad, field) in [
            (sc(1500, 5, None), "MemorySizeInMB"),
            (sc(8192, 5, None), "MemorySizeInMB"),
            (sc(2048, 0, None), "MaxConcurrency"),
            (sc(2048, 201, None), "MaxConcurrency"),
            (sc(2048, 5, Some(6)), "ProvisionedConcurrency"),
        ] {
            let e = backend
                .create_endpoint_config(config(
                    &names::name_from_base("conformance-bad"),
                    variant(Some(bad)),
                    None,
                ))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}: {e}");
            assert!(e.message().contains(field), "{bad:?}: {e}");
        }
        let mut both = variant(Some(sc(2048, 5, None)));
        both.instance_type = Some("ml.m5.large".into());
        let e = backend
            .create_endpoint_config(config(
                &names::name_from_base("conformance-bad"),
                both,
                None,
            ))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        if caps.async_inference {
            let e = backend
                .create_endpoint_config(config(
                    &names::name_from_base("conformance-bad"),
                    variant(Some(sc(2048, 5, None))),
                    Some(async_config.clone()),
                ))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        }

        let endpoint = names::name_from_base("conformance-serverless");
        backend
            .create_endpoint_config(config(&endpoint, variant(Some(sc(2048, 2, None))), None))
            .await?;
        backend
            .create_endpoint(EndpointSpec {
                endpoint_name: endpoint.clone(),
                endpoint_config_name: endpoint.clone(),
                tags: vec![],
            })
            .await?;
        let d = session.wait_for_endpoint(&endpoint, &wait()).await?;
        assert_eq!(d.endpoint_status, EndpointStatus::InService, "{d:?}");
        assert_eq!(
            d.production_variants[0].current_serverless_config,
            Some(sc(2048, 2, None))
        );
        let answer = backend
            .invoke_endpoint(InvokeEndpointRequest::new(
                endpoint.clone(),
                b"cold".to_vec(),
            ))
            .await?;
        assert_eq!(answer.body, b"part-1.csv,part-2.csv|cold");
        let e = backend
            .invoke_endpoint(InvokeEndpointRequest::new(
                endpoint.clone(),
                vec![b'x'; 4 * 1024 * 1024 + 1],
            ))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PayloadTooLarge, "{e}");
        backend.delete_endpoint(&endpoint).await?;
        backend.delete_endpoint_config(&endpoint).await?;
    }

    if caps.async_inference {
        let endpoint = names::name_from_base("conformance-async");
        backend
            .create_endpoint_config(config(&endpoint, variant(None), Some(async_config)))
            .await?;
        let described = backend.describe_endpoint_config(&endpoint).await?;
        assert_eq!(
            described
                .async_inference_config
                .as_ref()
                .and_then(|a| a.output_config.s3_output_path.clone()),
            Some(StorageUri::s3(&bucket, "conformance-async/out"))
        );
        backend
            .create_endpoint(EndpointSpec {
                endpoint_name: endpoint.clone(),
                endpoint_config_name: endpoint.clone(),
                tags: vec![],
            })
            .await?;
        session.wait_for_endpoint(&endpoint, &wait()).await?;
        let store = session.store();
        let mut answers = Vec::new();
        for body in ["one", "status:400:no good"] {
            let input = StorageUri::s3(
                &bucket,
                format!("conformance-async/in/{}", names::unique_id()),
            );
            store.put_bytes(body.as_bytes().to_vec(), &input).await?;
            let mut request = InvokeEndpointAsyncRequest::new(endpoint.clone(), input);
            request.content_type = Some("text/plain".into());
            request.inference_id = Some(format!("id-{}", answers.len()));
            let r = backend.invoke_endpoint_async(request).await?;
            assert_eq!(r.inference_id, format!("id-{}", answers.len()));
            assert!(
                r.output_location
                    .to_string()
                    .starts_with(&format!("s3://{bucket}/conformance-async/out/")),
                "{r:?}"
            );
            answers.push(r);
        }
        let written = |uri: StorageUri| {
            let store = store.clone();
            async move {
                wait()
                    .wait_until(
                        &uri.to_string(),
                        backend.changes(),
                        || store.exists(&uri),
                        |e| (e.to_string(), *e),
                    )
                    .await?;
                store.get_bytes(&uri).await
            }
        };
        let ok = written(answers[0].output_location.clone()).await?;
        assert_eq!(ok, b"part-1.csv,part-2.csv|one");
        let failure = answers[1]
            .failure_location
            .clone()
            .expect("a failure path was configured");
        assert!(
            failure
                .to_string()
                .starts_with(&format!("s3://{bucket}/conformance-async/failed/")),
            "{failure}"
        );
        let failed = String::from_utf8_lossy(&written(failure).await?).into_owned();
        assert!(failed.contains("no good"), "{failed}");
        assert!(!store.exists(&answers[1].output_location).await?);
        backend.delete_endpoint(&endpoint).await?;
        backend.delete_endpoint_config(&endpoint).await?;
    }
    backend.delete_model(&model).await?;
    Ok(true)
}

/// Every check above, in order. Returns how many ran (the others were skipped).
pub async fn run_all(session: &Session, image: &str) -> Result<usize> {
    run_profile(session, image, Profile::Full).await
}

/// The checks of `profile`, in order. Returns how many ran (the others were skipped).
pub async fn run_profile(session: &Session, image: &str, profile: Profile) -> Result<usize> {
    let mut ran = usize::from(control_plane(session, image).await?);
    if profile == Profile::MockServer {
        return Ok(ran);
    }
    for ok in [
        training_job_lifecycle(session, image).await?,
        training_job_errors(session, image).await?,
        training_job_stop(session, image).await?,
        endpoint_lifecycle(session, image).await?,
        transform_job_lifecycle(session, image).await?,
        serverless_and_async_inference(session, image).await?,
    ] {
        ran += usize::from(ok);
    }
    Ok(ran)
}
