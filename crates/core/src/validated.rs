//! The one door to a backend: every request is checked against SageMaker's rules
//! ([`crate::spec`]'s `validate`) and every resource name against the naming rule before the
//! backend sees it.
//!
//! [`Session::new`](crate::Session::new) installs it and
//! [`Session::backend`](crate::Session::backend) hands it out, so user-facing types, the CLI,
//! the conformance suite and any future protocol front all cross it. A name that breaks the
//! rule never reaches a backend, so no backend can be tricked into turning `../x` into a path.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::backend::{ArtifactStore, Backend, Capability};
use crate::error::Result;
use crate::names::validate_name;
use crate::spec::*;

/// A backend behind the validating front.
pub(crate) struct Validated {
    inner: Arc<dyn Backend>,
}

impl Validated {
    /// Wraps `inner`, unless it already is a validating front.
    pub(crate) fn wrap(inner: Arc<dyn Backend>) -> Arc<dyn Backend> {
        if inner.is_validating_front() {
            return inner;
        }
        Arc::new(Validated { inner })
    }

    fn caps(&self) -> Capability {
        self.inner.capabilities()
    }
}

#[async_trait]
impl Backend for Validated {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capability {
        self.inner.capabilities()
    }
    fn region(&self) -> &str {
        self.inner.region()
    }
    fn store(&self) -> Arc<dyn ArtifactStore> {
        self.inner.store()
    }
    async fn default_bucket(&self) -> Result<String> {
        self.inner.default_bucket().await
    }
    fn changes(&self) -> Option<watch::Receiver<u64>> {
        self.inner.changes()
    }
    fn runtime_url(&self) -> Option<String> {
        self.inner.runtime_url()
    }
    fn is_validating_front(&self) -> bool {
        true
    }

    async fn validate_training_job(&self, spec: &TrainingJobSpec) -> Result<()> {
        spec.validate(&self.caps())?;
        self.inner.validate_training_job(spec).await
    }
    async fn create_training_job(&self, spec: TrainingJobSpec) -> Result<TrainingJobDescription> {
        spec.validate(&self.caps())?;
        self.inner.create_training_job(spec).await
    }
    async fn describe_training_job(&self, name: &str) -> Result<TrainingJobDescription> {
        validate_name("training job", name)?;
        self.inner.describe_training_job(name).await
    }
    async fn list_training_jobs(
        &self,
        filter: &ListTrainingJobs,
    ) -> Result<Vec<TrainingJobSummary>> {
        self.inner.list_training_jobs(filter).await
    }
    async fn stop_training_job(&self, name: &str) -> Result<()> {
        validate_name("training job", name)?;
        self.inner.stop_training_job(name).await
    }
    async fn training_job_logs(&self, name: &str) -> Result<String> {
        validate_name("training job", name)?;
        self.inner.training_job_logs(name).await
    }

    async fn create_model(&self, spec: ModelSpec) -> Result<ModelDescription> {
        spec.validate(&self.caps())?;
        self.inner.create_model(spec).await
    }
    async fn describe_model(&self, name: &str) -> Result<ModelDescription> {
        validate_name("model", name)?;
        self.inner.describe_model(name).await
    }
    async fn list_models(&self) -> Result<Vec<String>> {
        self.inner.list_models().await
    }
    async fn delete_model(&self, name: &str) -> Result<()> {
        validate_name("model", name)?;
        self.inner.delete_model(name).await
    }

    async fn create_endpoint_config(
        &self,
        spec: EndpointConfigSpec,
    ) -> Result<EndpointConfigDescription> {
        spec.validate(&self.caps())?;
        self.inner.create_endpoint_config(spec).await
    }
    async fn describe_endpoint_config(&self, name: &str) -> Result<EndpointConfigDescription> {
        validate_name("endpoint config", name)?;
        self.inner.describe_endpoint_config(name).await
    }
    async fn list_endpoint_configs(&self) -> Result<Vec<String>> {
        self.inner.list_endpoint_configs().await
    }
    async fn delete_endpoint_config(&self, name: &str) -> Result<()> {
        validate_name("endpoint config", name)?;
        self.inner.delete_endpoint_config(name).await
    }

    async fn create_endpoint(&self, spec: EndpointSpec) -> Result<EndpointDescription> {
        spec.validate(&self.caps())?;
        self.inner.create_endpoint(spec).await
    }
    async fn describe_endpoint(&self, name: &str) -> Result<EndpointDescription> {
        validate_name("endpoint", name)?;
        self.inner.describe_endpoint(name).await
    }
    async fn list_endpoints(&self) -> Result<Vec<String>> {
        self.inner.list_endpoints().await
    }
    async fn update_endpoint(&self, name: &str, endpoint_config_name: &str) -> Result<()> {
        validate_name("endpoint", name)?;
        validate_name("endpoint config", endpoint_config_name)?;
        self.inner.update_endpoint(name, endpoint_config_name).await
    }
    async fn delete_endpoint(&self, name: &str) -> Result<()> {
        validate_name("endpoint", name)?;
        self.inner.delete_endpoint(name).await
    }
    async fn invoke_endpoint(
        &self,
        request: InvokeEndpointRequest,
    ) -> Result<InvokeEndpointResponse> {
        request.validate(&self.caps())?;
        self.inner.invoke_endpoint(request).await
    }
    async fn invoke_endpoint_async(
        &self,
        request: InvokeEndpointAsyncRequest,
    ) -> Result<InvokeEndpointAsyncResponse> {
        request.validate(&self.caps())?;
        self.inner.invoke_endpoint_async(request).await
    }

    async fn create_transform_job(
        &self,
        spec: TransformJobSpec,
    ) -> Result<TransformJobDescription> {
        spec.validate(&self.caps())?;
        self.inner.create_transform_job(spec).await
    }
    async fn describe_transform_job(&self, name: &str) -> Result<TransformJobDescription> {
        validate_name("transform job", name)?;
        self.inner.describe_transform_job(name).await
    }
    async fn transform_job_logs(&self, name: &str) -> Result<String> {
        validate_name("transform job", name)?;
        self.inner.transform_job_logs(name).await
    }
    async fn stop_transform_job(&self, name: &str) -> Result<()> {
        validate_name("transform job", name)?;
        self.inner.stop_transform_job(name).await
    }
}
