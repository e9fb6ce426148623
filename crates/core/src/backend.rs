//! The backend traits: the SageMaker control plane, data plane and object storage.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::spec::*;
use crate::uri::StorageUri;

/// What a backend supports. The conformance suite skips what a backend does not claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Capability {
    /// Training jobs.
    pub training: bool,
    /// Running user Python scripts (`entry_point` files) in framework containers.
    pub python_scripts: bool,
    /// Running user Python scripts from a `file://` source directory in place, without
    /// uploading it (the Python SDK's `local_code`).
    pub local_code: bool,
    /// Models, endpoint configs and endpoints.
    pub endpoints: bool,
    /// Batch transform jobs.
    pub batch_transform: bool,
    /// `file://` URIs for inputs and outputs.
    pub file_uris: bool,
    /// Serverless endpoint variants (`ServerlessConfig`).
    pub serverless: bool,
    /// Asynchronous endpoints (`AsyncInferenceConfig`, `InvokeEndpointAsync`).
    pub async_inference: bool,
}

impl Capability {
    /// No capabilities; set fields with the `with_*` methods.
    pub fn none() -> Self {
        Capability::default()
    }

    /// Sets [`Capability::training`].
    pub fn with_training(mut self, v: bool) -> Self {
        self.training = v;
        self
    }

    /// Sets [`Capability::python_scripts`].
    pub fn with_python_scripts(mut self, v: bool) -> Self {
        self.python_scripts = v;
        self
    }

    /// Sets [`Capability::local_code`].
    pub fn with_local_code(mut self, v: bool) -> Self {
        self.local_code = v;
        self
    }

    /// Sets [`Capability::endpoints`].
    pub fn with_endpoints(mut self, v: bool) -> Self {
        self.endpoints = v;
        self
    }

    /// Sets [`Capability::batch_transform`].
    pub fn with_batch_transform(mut self, v: bool) -> Self {
        self.batch_transform = v;
        self
    }

    /// Sets [`Capability::file_uris`].
    pub fn with_file_uris(mut self, v: bool) -> Self {
        self.file_uris = v;
        self
    }

    /// Sets [`Capability::serverless`].
    pub fn with_serverless(mut self, v: bool) -> Self {
        self.serverless = v;
        self
    }

    /// Sets [`Capability::async_inference`].
    pub fn with_async_inference(mut self, v: bool) -> Self {
        self.async_inference = v;
        self
    }
}

/// An object in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// Where it is.
    pub uri: StorageUri,
    /// Its size in bytes.
    pub size: u64,
}

impl ObjectInfo {
    /// An object.
    pub fn new(uri: StorageUri, size: u64) -> Self {
        ObjectInfo { uri, size }
    }
}

/// Object storage: S3 on AWS, a directory tree on the local backend.
///
/// Writes are atomic: a reader sees the whole object or nothing.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Uploads a local file.
    async fn put_file(&self, local: &Path, uri: &StorageUri) -> Result<()>;
    /// Uploads bytes.
    async fn put_bytes(&self, bytes: Vec<u8>, uri: &StorageUri) -> Result<()>;
    /// Downloads an object into memory.
    async fn get_bytes(&self, uri: &StorageUri) -> Result<Vec<u8>>;
    /// Downloads an object to a local file (atomically).
    async fn get_file(&self, uri: &StorageUri, local: &Path) -> Result<()>;
    /// Every object under a prefix (recursively), sorted by URI. A URI naming one object
    /// lists that object.
    async fn list(&self, prefix: &StorageUri) -> Result<Vec<ObjectInfo>>;
    /// Whether an object exists.
    async fn exists(&self, uri: &StorageUri) -> Result<bool>;
    /// Deletes an object (not an error if it does not exist).
    async fn delete(&self, uri: &StorageUri) -> Result<()>;
    /// Where the object lives on this machine's disk, when the store is local. Lets the
    /// local backend read data in place instead of copying it.
    fn local_path(&self, _uri: &StorageUri) -> Option<PathBuf> {
        None
    }
}

/// A SageMaker backend: control plane, data plane and storage.
///
/// Operations mirror the SageMaker API one to one: one spec in, one description out. What a
/// backend has not built returns [`crate::ErrorKind::Unsupported`] naming the backend and
/// the operation (the default implementations do exactly that).
///
/// A backend receives only requests that passed SageMaker's rules: [`crate::Session`] puts a
/// validating front before it (each spec's `validate`, every name checked), so a backend checks
/// only what is its own. A method added here must also be forwarded by that front
/// (`crates/core/src/validated.rs`), or sessions would answer `Unsupported` for it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// A short name for messages (`local`, `aws`).
    fn name(&self) -> &str;
    /// What this backend supports.
    fn capabilities(&self) -> Capability;
    /// The region (the local backend reports a fixed one).
    fn region(&self) -> &str;
    /// The object store.
    fn store(&self) -> Arc<dyn ArtifactStore>;
    /// The default bucket (`sagemaker-{region}-{account}` on AWS, `sagemaker-local` locally).
    async fn default_bucket(&self) -> Result<String>;
    /// A feed that ticks whenever any resource's state changes, so waits wake at once.
    /// `None` means waits poll.
    fn changes(&self) -> Option<watch::Receiver<u64>> {
        None
    }

    /// The base URL of the SageMaker Runtime API this backend serves to other programs (the
    /// local backend's HTTP server, once started), for curl and AWS SDK clients.
    fn runtime_url(&self) -> Option<String> {
        None
    }

    /// Whether this is the session's validating front (which never wraps itself twice).
    #[doc(hidden)]
    fn is_validating_front(&self) -> bool {
        false
    }

    /// Checks a `CreateTrainingJob` request as far as this backend can without sending it
    /// (names, role, storage URIs), so a caller can refuse bad input before it uploads
    /// anything. The default accepts every request; `create_training_job` checks again.
    async fn validate_training_job(&self, spec: &TrainingJobSpec) -> Result<()> {
        let _ = spec;
        Ok(())
    }

    /// `CreateTrainingJob`: validates, records and starts the job.
    async fn create_training_job(&self, spec: TrainingJobSpec) -> Result<TrainingJobDescription> {
        let _ = spec;
        Err(Error::unsupported(self.name(), "CreateTrainingJob"))
    }
    /// `DescribeTrainingJob`.
    async fn describe_training_job(&self, name: &str) -> Result<TrainingJobDescription> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DescribeTrainingJob"))
    }
    /// `ListTrainingJobs`, newest first.
    async fn list_training_jobs(
        &self,
        filter: &ListTrainingJobs,
    ) -> Result<Vec<TrainingJobSummary>> {
        let _ = filter;
        Err(Error::unsupported(self.name(), "ListTrainingJobs"))
    }
    /// `StopTrainingJob`.
    async fn stop_training_job(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::unsupported(self.name(), "StopTrainingJob"))
    }
    /// The job's log so far (CloudWatch on AWS, a file locally).
    async fn training_job_logs(&self, name: &str) -> Result<String> {
        let _ = name;
        Err(Error::unsupported(self.name(), "training job logs"))
    }

    /// `CreateModel`.
    async fn create_model(&self, spec: ModelSpec) -> Result<ModelDescription> {
        let _ = spec;
        Err(Error::unsupported(self.name(), "CreateModel"))
    }
    /// `DescribeModel`.
    async fn describe_model(&self, name: &str) -> Result<ModelDescription> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DescribeModel"))
    }
    /// `ListModels` (names).
    async fn list_models(&self) -> Result<Vec<String>> {
        Err(Error::unsupported(self.name(), "ListModels"))
    }
    /// `DeleteModel`.
    async fn delete_model(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DeleteModel"))
    }

    /// `CreateEndpointConfig`.
    async fn create_endpoint_config(
        &self,
        spec: EndpointConfigSpec,
    ) -> Result<EndpointConfigDescription> {
        let _ = spec;
        Err(Error::unsupported(self.name(), "CreateEndpointConfig"))
    }
    /// `DescribeEndpointConfig`.
    async fn describe_endpoint_config(&self, name: &str) -> Result<EndpointConfigDescription> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DescribeEndpointConfig"))
    }
    /// `ListEndpointConfigs` (names).
    async fn list_endpoint_configs(&self) -> Result<Vec<String>> {
        Err(Error::unsupported(self.name(), "ListEndpointConfigs"))
    }
    /// `DeleteEndpointConfig`.
    async fn delete_endpoint_config(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DeleteEndpointConfig"))
    }

    /// `CreateEndpoint`.
    async fn create_endpoint(&self, spec: EndpointSpec) -> Result<EndpointDescription> {
        let _ = spec;
        Err(Error::unsupported(self.name(), "CreateEndpoint"))
    }
    /// `DescribeEndpoint`.
    async fn describe_endpoint(&self, name: &str) -> Result<EndpointDescription> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DescribeEndpoint"))
    }
    /// `ListEndpoints` (names).
    async fn list_endpoints(&self) -> Result<Vec<String>> {
        Err(Error::unsupported(self.name(), "ListEndpoints"))
    }
    /// `UpdateEndpoint`: switch to another endpoint config.
    async fn update_endpoint(&self, name: &str, endpoint_config_name: &str) -> Result<()> {
        let _ = (name, endpoint_config_name);
        Err(Error::unsupported(self.name(), "UpdateEndpoint"))
    }
    /// `DeleteEndpoint`.
    async fn delete_endpoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DeleteEndpoint"))
    }
    /// `InvokeEndpoint` (the runtime API).
    async fn invoke_endpoint(
        &self,
        request: InvokeEndpointRequest,
    ) -> Result<InvokeEndpointResponse> {
        let _ = request;
        Err(Error::unsupported(self.name(), "InvokeEndpoint"))
    }
    /// `InvokeEndpointAsync` (the runtime API): queues a request whose input is an object in
    /// the store and answers at once with where the result or the failure will be written.
    async fn invoke_endpoint_async(
        &self,
        request: InvokeEndpointAsyncRequest,
    ) -> Result<InvokeEndpointAsyncResponse> {
        let _ = request;
        Err(Error::unsupported(self.name(), "InvokeEndpointAsync"))
    }

    /// `CreateTransformJob`.
    async fn create_transform_job(
        &self,
        spec: TransformJobSpec,
    ) -> Result<TransformJobDescription> {
        let _ = spec;
        Err(Error::unsupported(self.name(), "CreateTransformJob"))
    }
    /// `DescribeTransformJob`.
    async fn describe_transform_job(&self, name: &str) -> Result<TransformJobDescription> {
        let _ = name;
        Err(Error::unsupported(self.name(), "DescribeTransformJob"))
    }
    /// The transform job's log so far.
    async fn transform_job_logs(&self, name: &str) -> Result<String> {
        let _ = name;
        Err(Error::unsupported(self.name(), "transform job logs"))
    }
    /// `StopTransformJob`.
    async fn stop_transform_job(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::unsupported(self.name(), "StopTransformJob"))
    }
}
