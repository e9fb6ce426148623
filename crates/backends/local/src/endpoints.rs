//! Models, endpoint configs and endpoints on the local backend, and the in-process
//! `InvokeEndpoint` every caller (the `Predictor`, the HTTP server) goes through.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use sagemaker_core::artifact::{self, ExtractLimits};
use sagemaker_core::container::{Handler, InvocationRequest, ServingEnv};
use sagemaker_core::error::context;
use sagemaker_core::spec::*;
use sagemaker_core::{Error, ErrorKind, Result, StorageUri, names};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::async_inference::{AsyncQueue, DEFAULT_MAX_CONCURRENT_INVOCATIONS_PER_INSTANCE};
use crate::owner::Owner;
use crate::serverless::{SERVERLESS_MAX_PAYLOAD_BYTES, ServerlessPool};
use crate::{Inner, LOCAL_ACCOUNT, lock, records};

/// SageMaker's limit on an `InvokeEndpoint` payload: 6 MB.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// An endpoint as persisted under `{root}/endpoints/{name}/endpoint.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EndpointRecord {
    pub(crate) description: EndpointDescription,
    pub(crate) owner: Owner,
}

/// One loaded production variant: its replicas share the load round-robin; a serverless
/// variant has a pool of on-demand workers instead.
pub(crate) struct LiveVariant {
    name: String,
    weight: f64,
    replicas: Vec<Arc<dyn Handler>>,
    serverless: Option<Arc<ServerlessPool>>,
    next: AtomicU64,
}

/// What an endpoint serves right now. Swapped whole on update; in-flight requests keep the
/// `Arc` they started with, so deleting or updating drains them instead of failing them.
pub(crate) struct Serving {
    variants: Vec<LiveVariant>,
    total_weight: f64,
    picks: AtomicU64,
}

/// An endpoint hosted by this process.
pub(crate) struct LiveEndpoint {
    serving: RwLock<Option<Arc<Serving>>>,
    record: Mutex<EndpointRecord>,
    /// The request queue of an asynchronous endpoint.
    pub(crate) async_queue: Option<Arc<AsyncQueue>>,
}

impl Drop for LiveEndpoint {
    fn drop(&mut self) {
        // The backend went away without deleting the endpoint: end the queued requests and
        // let the workers exit.
        if let Some(q) = &self.async_queue {
            q.close("the local backend hosting the endpoint was dropped", false);
        }
    }
}

impl LiveEndpoint {
    /// The serverless pools of what is serving now.
    pub(crate) fn serverless_pools(&self) -> Vec<Arc<ServerlessPool>> {
        self.serving
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| {
                s.variants
                    .iter()
                    .filter_map(|v| v.serverless.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn dir_of(root: &Path, kind: &str) -> PathBuf {
    root.join(kind)
}

impl Inner {
    // ---- models -------------------------------------------------------------------------

    fn model_path(&self, name: &str) -> PathBuf {
        dir_of(&self.root, "models").join(format!("{name}.json"))
    }

    pub(crate) fn create_model(&self, spec: ModelSpec) -> Result<ModelDescription> {
        self.container_for(&spec.primary_container.image)?;
        if let Some(uri) = &spec.primary_container.model_data_url {
            let path = self.store.path_of(uri)?;
            if !path.exists() {
                return Err(Error::new(
                    ErrorKind::Validation,
                    format!("Could not find model data at {uri}."),
                )
                .with_context(context::PATH, uri.to_string()));
            }
        }
        let d = ModelDescription::new(
            spec.model_name.clone(),
            sagemaker_core::arn(&self.region, LOCAL_ACCOUNT, "model", &spec.model_name),
            spec.primary_container,
            spec.execution_role_arn,
            now(),
        );
        records::create(&self.model_path(&d.model_name), &d, "model", &d.model_name)?;
        tracing::info!(target: "sagemaker::local", model = %d.model_name, "model created");
        Ok(d)
    }

    pub(crate) fn describe_model(&self, name: &str) -> Result<ModelDescription> {
        records::read(&self.model_path(name), "model", name)
            .map_err(|e| not_found_as_validation(e, "model", name))
    }

    pub(crate) fn list_models(&self) -> Result<Vec<String>> {
        records::list(&dir_of(&self.root, "models"), ".json")
    }

    /// Deletes the model record. As on SageMaker, endpoints already serving it keep serving.
    pub(crate) fn delete_model(&self, name: &str) -> Result<()> {
        let path = self.model_path(name);
        std::fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                not_found_as_validation(Error::not_found("model", name), "model", name)
            }
            _ => Error::io(&path, e),
        })?;
        tracing::info!(target: "sagemaker::local", model = name, "model deleted");
        Ok(())
    }

    // ---- endpoint configs ---------------------------------------------------------------

    fn config_path(&self, name: &str) -> PathBuf {
        dir_of(&self.root, "endpoint-configs").join(format!("{name}.json"))
    }

    pub(crate) fn create_endpoint_config(
        &self,
        spec: EndpointConfigSpec,
    ) -> Result<EndpointConfigDescription> {
        // SageMaker's rules were checked by the session's front (`EndpointConfigSpec::validate`);
        // what is left is the local backend's own: models and paths that exist here.
        for v in &spec.production_variants {
            self.describe_model(&v.model_name)?;
        }
        if let Some(a) = &spec.async_inference_config {
            let Some(out) = &a.output_config.s3_output_path else {
                return Err(Error::new(
                    ErrorKind::Validation,
                    "AsyncInferenceConfig.OutputConfig.S3OutputPath is required on the local backend",
                ));
            };
            self.store.path_of(out)?;
            if let Some(f) = &a.output_config.s3_failure_path {
                self.store.path_of(f)?;
            }
        }
        let d = EndpointConfigDescription::new(
            spec.endpoint_config_name.clone(),
            sagemaker_core::arn(
                &self.region,
                LOCAL_ACCOUNT,
                "endpoint-config",
                &spec.endpoint_config_name,
            ),
            spec.production_variants,
            now(),
        )
        .with_async_inference_config(spec.async_inference_config);
        records::create(
            &self.config_path(&d.endpoint_config_name),
            &d,
            "endpoint config",
            &d.endpoint_config_name,
        )?;
        Ok(d)
    }

    pub(crate) fn describe_endpoint_config(&self, name: &str) -> Result<EndpointConfigDescription> {
        records::read(&self.config_path(name), "endpoint config", name)
            .map_err(|e| not_found_as_validation(e, "endpoint configuration", name))
    }

    pub(crate) fn list_endpoint_configs(&self) -> Result<Vec<String>> {
        records::list(&dir_of(&self.root, "endpoint-configs"), ".json")
    }

    pub(crate) fn delete_endpoint_config(&self, name: &str) -> Result<()> {
        let path = self.config_path(name);
        std::fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_found_as_validation(
                Error::not_found("endpoint config", name),
                "endpoint configuration",
                name,
            ),
            _ => Error::io(&path, e),
        })
    }

    // ---- endpoints ----------------------------------------------------------------------

    fn endpoint_dir(&self, name: &str) -> PathBuf {
        dir_of(&self.root, "endpoints").join(name)
    }

    fn persist_endpoint(&self, record: &EndpointRecord) -> Result<()> {
        let path = self
            .endpoint_dir(&record.description.endpoint_name)
            .join("endpoint.json");
        records::write(&path, record)?;
        self.tick();
        Ok(())
    }

    fn update_endpoint_record(
        &self,
        live: &LiveEndpoint,
        f: impl FnOnce(&mut EndpointDescription),
    ) {
        let mut record = lock(&live.record);
        f(&mut record.description);
        record.description.last_modified_time = now();
        if let Err(e) = self.persist_endpoint(&record) {
            tracing::warn!(target: "sagemaker::local", endpoint = %record.description.endpoint_name, "cannot persist the endpoint record: {e}");
        }
    }

    pub(crate) fn create_endpoint(
        self: &Arc<Self>,
        spec: EndpointSpec,
    ) -> Result<EndpointDescription> {
        let name = spec.endpoint_name.clone();
        let config = self.describe_endpoint_config(&spec.endpoint_config_name)?;
        let dir = self.endpoint_dir(&name);
        std::fs::create_dir_all(dir_of(&self.root, "endpoints"))
            .map_err(|e| Error::io(&self.root, e))?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "Cannot create already existing endpoint \"{}\".",
                        sagemaker_core::arn(&self.region, LOCAL_ACCOUNT, "endpoint", &name)
                    ),
                )
                .with_context(context::RESOURCE, name));
            }
            Err(e) => return Err(Error::io(&dir, e)),
        }
        let t = now();
        let record = EndpointRecord {
            description: EndpointDescription::new(
                name.clone(),
                sagemaker_core::arn(&self.region, LOCAL_ACCOUNT, "endpoint", &name),
                config.endpoint_config_name.clone(),
                EndpointStatus::Creating,
                t,
            ),
            owner: Owner::current(),
        };
        let async_queue = match &config.async_inference_config {
            None => None,
            Some(a) => {
                let per_instance = a
                    .client_config
                    .and_then(|c| c.max_concurrent_invocations_per_instance)
                    .unwrap_or(DEFAULT_MAX_CONCURRENT_INVOCATIONS_PER_INSTANCE);
                let instances: u32 = config
                    .production_variants
                    .iter()
                    .map(|v| v.initial_instance_count.unwrap_or(1).max(1))
                    .sum();
                Some(AsyncQueue::start(
                    self,
                    &name,
                    a.clone(),
                    (instances * per_instance) as usize,
                )?)
            }
        };
        if let Err(e) = self.persist_endpoint(&record) {
            if let Some(q) = &async_queue {
                q.close("the endpoint could not be created", true);
            }
            return Err(e);
        }
        let description = record.description.clone();
        let live = Arc::new(LiveEndpoint {
            serving: RwLock::new(None),
            record: Mutex::new(record),
            async_queue,
        });
        lock(&self.endpoints).insert(name.clone(), live.clone());
        self.ensure_server()?;
        tracing::info!(target: "sagemaker::local", endpoint = %name, status = "Creating", "endpoint created");

        let inner = self.clone();
        tokio::task::spawn_blocking(move || match inner.load_config(&name, &config, 0) {
            Ok(serving) => {
                let summaries = serving.summaries();
                *live.serving.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(serving));
                inner.update_endpoint_record(&live, |d| {
                    d.endpoint_status = EndpointStatus::InService;
                    d.production_variants = summaries;
                });
                tracing::info!(target: "sagemaker::local", endpoint = %name, status = "InService", "endpoint in service");
            }
            Err(e) => {
                let reason = e.message().to_string();
                inner.update_endpoint_record(&live, |d| {
                    d.endpoint_status = EndpointStatus::Failed;
                    d.failure_reason = Some(reason.clone());
                });
                tracing::warn!(target: "sagemaker::local", endpoint = %name, status = "Failed", reason = %reason, "endpoint failed");
            }
        });
        Ok(description)
    }

    /// Loads every variant of `config`: extracts each model's artifact safely and loads it
    /// once per instance. `generation` keeps the directories of an update apart from the
    /// ones still serving.
    fn load_config(
        &self,
        endpoint: &str,
        config: &EndpointConfigDescription,
        generation: u64,
    ) -> Result<Serving> {
        let mut variants = Vec::new();
        for v in &config.production_variants {
            let model = self.describe_model(&v.model_name)?;
            let container = self.container_for(&model.primary_container.image)?;
            let dir = self
                .endpoint_dir(endpoint)
                .join(format!("{}-{generation}", v.variant_name))
                .join("model");
            let model_dir = match &model.primary_container.model_data_url {
                Some(uri) => self.extract_model(uri, &dir)?,
                None => {
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                    dir
                }
            };
            let env =
                ServingEnv::new(self.container_environment(&model.primary_container.environment));
            if let Some(sc) = v.serverless_config {
                let pool = ServerlessPool::new(
                    endpoint,
                    &v.variant_name,
                    sc,
                    container,
                    model_dir,
                    env,
                    self.serverless_idle_timeout,
                    self.changes.clone(),
                )
                .map_err(|e| {
                    e.prefixed(format!(
                        "variant {} (model {})",
                        v.variant_name, v.model_name
                    ))
                })?;
                variants.push(LiveVariant {
                    name: v.variant_name.clone(),
                    weight: f64::from(v.initial_variant_weight),
                    replicas: Vec::new(),
                    serverless: Some(pool),
                    next: AtomicU64::new(0),
                });
                continue;
            }
            let count = v.initial_instance_count.unwrap_or(1).max(1);
            let mut replicas = Vec::with_capacity(count as usize);
            for _ in 0..count {
                replicas.push(container.load(&model_dir, &env).map_err(|e| {
                    e.prefixed(format!(
                        "variant {} (model {})",
                        v.variant_name, v.model_name
                    ))
                })?);
            }
            variants.push(LiveVariant {
                name: v.variant_name.clone(),
                weight: f64::from(v.initial_variant_weight),
                replicas,
                serverless: None,
                next: AtomicU64::new(0),
            });
        }
        let total_weight = variants.iter().map(|v| v.weight).sum();
        Ok(Serving {
            variants,
            total_weight,
            picks: AtomicU64::new(0),
        })
    }

    /// Makes the model directory for `uri`: a `model.tar.gz` is extracted safely into `dest`;
    /// a `file://` directory is used in place.
    fn extract_model(&self, uri: &StorageUri, dest: &Path) -> Result<PathBuf> {
        let path = self.store.path_of(uri)?;
        if path.is_dir() {
            return Ok(path);
        }
        if dest.exists() {
            std::fs::remove_dir_all(dest).map_err(|e| Error::io(dest, e))?;
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        artifact::extract_file(&path, dest, ExtractLimits::default())
            .map_err(|e| e.prefixed(format!("model data {uri}")))?;
        Ok(dest.to_path_buf())
    }

    pub(crate) fn describe_endpoint(&self, name: &str) -> Result<EndpointDescription> {
        if let Some(live) = lock(&self.endpoints).get(name).cloned() {
            return Ok(lock(&live.record).description.clone());
        }
        let path = self.endpoint_dir(name).join("endpoint.json");
        let mut record: EndpointRecord = records::read(&path, "endpoint", name)
            .map_err(|e| not_found_as_validation(e, "endpoint", name))?;
        // Hosted by a process that has gone: it serves nothing, whatever the record says.
        if record.description.endpoint_status != EndpointStatus::Failed && !record.owner.is_alive()
        {
            record.description.endpoint_status = EndpointStatus::Failed;
            record.description.failure_reason = Some(format!(
                "the process that hosted this endpoint (pid {}) has exited",
                record.owner.pid
            ));
        }
        Ok(record.description)
    }

    pub(crate) fn list_endpoints(&self) -> Result<Vec<String>> {
        records::list(&dir_of(&self.root, "endpoints"), "")
    }

    pub(crate) fn update_endpoint(self: &Arc<Self>, name: &str, config_name: &str) -> Result<()> {
        let live = lock(&self.endpoints)
            .get(name)
            .cloned()
            .ok_or_else(|| self.not_hosted_here(name))?;
        let status = lock(&live.record).description.endpoint_status;
        if status != EndpointStatus::InService {
            return Err(Error::new(
                ErrorKind::Validation,
                format!(
                    "Cannot update endpoint {name}: it is {status}; only an InService endpoint can be updated."
                ),
            ));
        }
        let config = self.describe_endpoint_config(config_name)?;
        self.update_endpoint_record(&live, |d| {
            d.endpoint_status = EndpointStatus::Updating;
            d.failure_reason = None;
        });
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let inner = self.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(
            move || match inner.load_config(&name, &config, generation) {
                Ok(serving) => {
                    let summaries = serving.summaries();
                    // The swap: requests already running finish on the old variants.
                    *live.serving.write().unwrap_or_else(|p| p.into_inner()) =
                        Some(Arc::new(serving));
                    inner.update_endpoint_record(&live, |d| {
                        d.endpoint_status = EndpointStatus::InService;
                        d.endpoint_config_name = config.endpoint_config_name.clone();
                        d.production_variants = summaries;
                    });
                }
                Err(e) => {
                    // As SageMaker: the update fails, the endpoint keeps serving the old config.
                    inner.update_endpoint_record(&live, |d| {
                        d.endpoint_status = EndpointStatus::InService;
                        d.failure_reason = Some(format!(
                            "UpdateEndpoint failed and was rolled back: {}",
                            e.message()
                        ));
                    });
                }
            },
        );
        Ok(())
    }

    pub(crate) fn delete_endpoint(&self, name: &str) -> Result<()> {
        let live = lock(&self.endpoints).remove(name);
        let dir = self.endpoint_dir(name);
        if live.is_none() && !dir.join("endpoint.json").exists() {
            return Err(not_found_as_validation(
                Error::not_found("endpoint", name),
                "endpoint",
                name,
            ));
        }
        if let Some(live) = live {
            // New requests no longer find it; running ones hold their own Arc and finish.
            live.serving
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            // Queued asynchronous requests fail explicitly; running ones end (their
            // invocation finds no endpoint and fails, or has already answered).
            if let Some(q) = &live.async_queue {
                q.close(
                    &format!("Endpoint {name} was deleted before the request ran"),
                    true,
                );
            }
        }
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        self.tick();
        tracing::info!(target: "sagemaker::local", endpoint = name, "endpoint deleted");
        Ok(())
    }

    fn not_hosted_here(&self, name: &str) -> Error {
        match self.describe_endpoint(name) {
            Ok(d) => Error::new(
                ErrorKind::Validation,
                format!(
                    "Endpoint {name} is hosted by another process ({}); call it over that process's HTTP server",
                    d.endpoint_status
                ),
            ),
            Err(e) => e,
        }
    }

    /// `InvokeEndpoint`, in process. The HTTP server calls this too, so both give the same
    /// answers and errors.
    pub(crate) fn invoke_endpoint(
        &self,
        request: &InvokeEndpointRequest,
    ) -> Result<InvokeEndpointResponse> {
        self.invoke_with_limit(request, MAX_PAYLOAD_BYTES)
    }

    /// `InvokeEndpointAsync`, in process: checks the request, queues it and answers with
    /// where the result or the failure will be written.
    pub(crate) fn invoke_endpoint_async(
        &self,
        request: InvokeEndpointAsyncRequest,
    ) -> Result<InvokeEndpointAsyncResponse> {
        // The HTTP server calls this directly, so the runtime API's own limits are checked here
        // too (a session's front already checked them).
        request.validate_limits()?;
        if let Some(attrs) = &request.custom_attributes {
            validate_custom_attributes(attrs)?;
        }
        let name = request.endpoint_name.clone();
        let live = self.live_endpoint(&name)?;
        self.serving_of(&live, &name)?;
        let Some(queue) = live.async_queue.clone() else {
            return Err(Error::new(
                ErrorKind::Validation,
                format!(
                    "Endpoint {name} is not an asynchronous endpoint (its config has no AsyncInferenceConfig); call InvokeEndpoint"
                ),
            ));
        };
        let input = &request.input_location;
        let path = self.store.path_of(input)?;
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("Could not find the input at {input}."),
            )
            .with_context(context::PATH, input.to_string()));
        }
        let id = names::unique_id();
        let inference_id = request.inference_id.clone().unwrap_or_else(|| id.clone());
        let (output, failure) = queue.locations(&id);
        if !queue.push(
            request,
            inference_id.clone(),
            output.clone(),
            failure.clone(),
        ) {
            return Err(endpoint_not_found(&name));
        }
        Ok(InvokeEndpointAsyncResponse::new(
            inference_id,
            output,
            Some(failure),
        ))
    }

    fn live_endpoint(&self, name: &str) -> Result<Arc<LiveEndpoint>> {
        let live = lock(&self.endpoints).get(name).cloned();
        live.ok_or_else(|| match self.describe_endpoint(name) {
            Ok(_) => self.not_hosted_here(name),
            Err(_) => endpoint_not_found(name),
        })
    }

    fn serving_of(&self, live: &LiveEndpoint, name: &str) -> Result<Arc<Serving>> {
        let serving = live
            .serving
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        serving.ok_or_else(|| {
            let d = lock(&live.record).description.clone();
            match d.endpoint_status {
                EndpointStatus::Creating => Error::new(
                    ErrorKind::ModelNotReady,
                    format!("Model for endpoint {name} is not ready yet; it is still loading."),
                ),
                status => Error::new(
                    ErrorKind::Validation,
                    format!(
                        "Endpoint {name} is {status}{}",
                        d.failure_reason
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ),
                ),
            }
        })
    }

    /// `InvokeEndpoint` with a payload limit (6 MB real-time, 1 GB for queued async
    /// requests; serverless variants have their own 4 MB).
    pub(crate) fn invoke_with_limit(
        &self,
        request: &InvokeEndpointRequest,
        limit: usize,
    ) -> Result<InvokeEndpointResponse> {
        if request.body.len() > limit {
            return Err(Error::new(
                ErrorKind::PayloadTooLarge,
                format!("HTTP content length exceeded {limit} bytes."),
            ));
        }
        if let Some(attrs) = &request.custom_attributes {
            validate_custom_attributes(attrs)?;
        }
        let name = &request.endpoint_name;
        let live = self.live_endpoint(name)?;
        let serving = self.serving_of(&live, name)?;
        let variant = serving.pick(request.target_variant.as_deref(), name)?;
        let lease;
        let replica = match &variant.serverless {
            Some(pool) => {
                if request.body.len() > SERVERLESS_MAX_PAYLOAD_BYTES {
                    return Err(Error::new(
                        ErrorKind::PayloadTooLarge,
                        format!(
                            "HTTP content length exceeded {SERVERLESS_MAX_PAYLOAD_BYTES} bytes."
                        ),
                    ));
                }
                lease = pool.acquire()?;
                lease.handler.as_ref().expect("a lease holds a worker")
            }
            None => {
                &variant.replicas[(variant.next.fetch_add(1, Ordering::Relaxed)
                    % variant.replicas.len() as u64) as usize]
            }
        };
        let mut invocation = InvocationRequest::default();
        invocation.body = request.body.clone();
        invocation.content_type = request.content_type.clone();
        invocation.accept = request.accept.clone();
        invocation.custom_attributes = request.custom_attributes.clone();
        invocation.target_variant = request.target_variant.clone();
        invocation.inference_id = request.inference_id.clone();
        // A panicking model answers 500 like a crashed container; the replica keeps serving.
        match crate::guard::invoke(replica.as_ref(), &invocation) {
            Ok(r) => {
                let mut answer = InvokeEndpointResponse::default();
                answer.body = r.body;
                answer.content_type = Some(r.content_type);
                answer.invoked_production_variant = Some(variant.name.clone());
                answer.custom_attributes = r.custom_attributes;
                Ok(answer)
            }
            Err(e) => {
                let side = if e.status < 500 { "client" } else { "server" };
                let log_group = format!("/aws/sagemaker/Endpoints/{name}");
                Err(Error::new(
                    ErrorKind::ModelError,
                    format!(
                        "Received {side} error ({}) from primary with message \"{}\". See the local log group {log_group} for more information.",
                        e.status, e.message
                    ),
                )
                .with_context(context::ORIGINAL_STATUS_CODE, e.status.to_string())
                .with_context(context::ORIGINAL_MESSAGE, e.message)
                .with_context(
                    context::LOG_STREAM_ARN,
                    format!("arn:aws:logs:{}:{LOCAL_ACCOUNT}:log-group:{log_group}", self.region),
                )
                .with_context(context::VARIANT, variant.name.clone()))
            }
        }
    }
}

impl Serving {
    fn summaries(&self) -> Vec<ProductionVariantSummary> {
        self.variants
            .iter()
            .map(|v| {
                ProductionVariantSummary::new(
                    v.name.clone(),
                    v.weight as f32,
                    v.replicas.len() as u32,
                )
                .with_serverless_config(v.serverless.as_ref().map(|p| p.config))
            })
            .collect()
    }

    /// The variant for a request: the one named, else one drawn by weight. Draws follow a
    /// low-discrepancy sequence, so traffic splits by weight closely even over few requests.
    fn pick(&self, target: Option<&str>, endpoint: &str) -> Result<&LiveVariant> {
        if let Some(target) = target {
            return self
                .variants
                .iter()
                .find(|v| v.name == target)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Validation,
                        format!("Variant {target} not found for endpoint {endpoint}."),
                    )
                });
        }
        if self.variants.len() == 1 {
            return Ok(&self.variants[0]);
        }
        const GOLDEN: f64 = 0.618_033_988_749_894_9;
        let n = self.picks.fetch_add(1, Ordering::Relaxed);
        let mut x = ((n as f64 * GOLDEN).fract()) * self.total_weight;
        for v in &self.variants {
            if x < v.weight {
                return Ok(v);
            }
            x -= v.weight;
        }
        Ok(self
            .variants
            .iter()
            .rev()
            .find(|v| v.weight > 0.0)
            .unwrap_or(&self.variants[0]))
    }
}

fn endpoint_not_found(name: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("Endpoint {name} of account {LOCAL_ACCOUNT} not found."),
    )
    .with_context(context::RESOURCE, name)
}

/// SageMaker answers unknown names with `ValidationException` "Could not find ..."; the
/// kind stays `NotFound` so callers can branch on it, the message is SageMaker's.
fn not_found_as_validation(e: Error, what: &str, name: &str) -> Error {
    if e.kind() == ErrorKind::NotFound {
        Error::new(
            ErrorKind::NotFound,
            format!("Could not find {what} \"{name}\"."),
        )
        .with_context(context::RESOURCE, name)
    } else {
        e
    }
}

/// The live endpoints of a backend.
pub(crate) type LiveEndpoints = Mutex<HashMap<String, Arc<LiveEndpoint>>>;
