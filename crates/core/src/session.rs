//! `Session`: the handle every user-facing type holds.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::{ArtifactStore, Backend, Capability};
use crate::error::{Error, ErrorKind, Result};
use crate::spec::{
    EndpointDescription, EndpointStatus, TrainingJobDescription, TransformJobDescription,
    TransformJobStatus,
};
use crate::uri::StorageUri;
use crate::wait::WaitConfig;

/// A handle on a backend. Cheap to clone; `Send + Sync`.
///
/// Core builds sessions from any backend with [`Session::new`]; the backend crates offer the
/// usual constructors (`LocalSession::new()` on the local backend, mirroring Python's
/// `LocalSession()`).
#[derive(Clone)]
pub struct Session {
    backend: Arc<dyn Backend>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("backend", &self.backend.name())
            .field("region", &self.backend.region())
            .finish()
    }
}

impl Session {
    /// A session on `backend`, behind the validating front: every request is checked against
    /// SageMaker's rules before `backend` sees it.
    pub fn new(backend: impl Backend) -> Self {
        Self::from_arc(Arc::new(backend))
    }

    /// A session on a shared backend (also behind the validating front).
    pub fn from_arc(backend: Arc<dyn Backend>) -> Self {
        Session {
            backend: crate::validated::Validated::wrap(backend),
        }
    }

    /// The backend, behind the validating front: whoever calls it directly (the CLI, the
    /// conformance suite, a protocol front) gets the same checks as the user-facing types.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The object store.
    pub fn store(&self) -> Arc<dyn ArtifactStore> {
        self.backend.store()
    }

    /// The region.
    pub fn region(&self) -> &str {
        self.backend.region()
    }

    /// What the backend supports.
    pub fn capabilities(&self) -> Capability {
        self.backend.capabilities()
    }

    /// The default bucket (`sagemaker-local` on the local backend).
    pub async fn default_bucket(&self) -> Result<String> {
        self.backend.default_bucket().await
    }

    /// Uploads a file or a directory to the default bucket under `key_prefix` (the Python
    /// SDK's `upload_data(path, key_prefix=...)`; its default prefix is `data`).
    ///
    /// A file goes to `s3://{bucket}/{key_prefix}/{file name}` and that URI is returned; a
    /// directory is uploaded recursively and `s3://{bucket}/{key_prefix}` is returned.
    pub async fn upload_data(
        &self,
        path: impl AsRef<Path>,
        key_prefix: &str,
    ) -> Result<StorageUri> {
        let bucket = self.default_bucket().await?;
        self.upload_data_to(path, &bucket, key_prefix).await
    }

    /// [`Session::upload_data`] into a given bucket.
    pub async fn upload_data_to(
        &self,
        path: impl AsRef<Path>,
        bucket: &str,
        key_prefix: &str,
    ) -> Result<StorageUri> {
        let path = path.as_ref();
        let prefix = key_prefix.trim_matches('/');
        let base = StorageUri::parse(&format!("s3://{bucket}/{prefix}"))?;
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io(path, e))?;
        let store = self.store();
        if meta.is_file() {
            let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("{} has no file name", path.display()),
                )
            })?;
            let uri = base.join(name);
            store.put_file(path, &uri).await?;
            return Ok(uri);
        }
        for file in crate::walk::files(path)? {
            let rel = file
                .strip_prefix(path)
                .map_err(|_| Error::new(ErrorKind::Internal, "walked outside the directory"))?;
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            store.put_file(&file, &base.join(&rel)).await?;
        }
        Ok(base)
    }

    /// Downloads the object at `uri`, or every object under it, into `local_dir`, keeping
    /// paths relative to `uri`. Returns the files written.
    pub async fn download_data(
        &self,
        uri: &StorageUri,
        local_dir: impl AsRef<Path>,
    ) -> Result<Vec<PathBuf>> {
        let local_dir = local_dir.as_ref();
        let store = self.store();
        let objects = store.list(uri).await?;
        if objects.is_empty() {
            return Err(Error::not_found("object or prefix", &uri.to_string()));
        }
        let base = uri.to_string();
        let mut written = Vec::with_capacity(objects.len());
        for obj in objects {
            let full = obj.uri.to_string();
            let rel = full
                .strip_prefix(&base)
                .unwrap_or(&full)
                .trim_start_matches('/');
            let rel = if rel.is_empty() {
                obj.uri.file_name().unwrap_or("object").to_string()
            } else {
                rel.to_string()
            };
            if rel.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(Error::new(
                    ErrorKind::UnsafeArtifact,
                    format!(
                        "refusing to download {full}: its key would leave {}",
                        local_dir.display()
                    ),
                ));
            }
            let dest = local_dir.join(&rel);
            store.get_file(&obj.uri, &dest).await?;
            written.push(dest);
        }
        Ok(written)
    }

    /// Waits until the training job is terminal and returns its description (a `Failed`
    /// job is returned, not raised: the caller decides).
    pub async fn wait_for_training_job(
        &self,
        name: &str,
        wait: &WaitConfig,
    ) -> Result<TrainingJobDescription> {
        let backend = self.backend.clone();
        wait.wait_until(
            name,
            backend.changes(),
            || {
                let backend = backend.clone();
                let name = name.to_string();
                async move { backend.describe_training_job(&name).await }
            },
            |d: &TrainingJobDescription| {
                (
                    format!("{}/{}", d.training_job_status, d.secondary_status),
                    d.training_job_status.is_terminal(),
                )
            },
        )
        .await
    }
}

impl Session {
    /// Waits until the endpoint leaves `Creating`/`Updating`/`SystemUpdating`/`RollingBack`
    /// and returns its description (a `Failed` endpoint is returned, not raised).
    pub async fn wait_for_endpoint(
        &self,
        name: &str,
        wait: &WaitConfig,
    ) -> Result<EndpointDescription> {
        let backend = self.backend.clone();
        wait.wait_until(
            name,
            backend.changes(),
            || {
                let backend = backend.clone();
                let name = name.to_string();
                async move { backend.describe_endpoint(&name).await }
            },
            |d: &EndpointDescription| {
                let busy = matches!(
                    d.endpoint_status,
                    EndpointStatus::Creating
                        | EndpointStatus::Updating
                        | EndpointStatus::SystemUpdating
                        | EndpointStatus::RollingBack
                );
                (d.endpoint_status.to_string(), !busy)
            },
        )
        .await
    }
}

impl Session {
    /// Waits until the transform job is terminal and returns its description (a `Failed`
    /// job is returned, not raised: the caller decides).
    pub async fn wait_for_transform_job(
        &self,
        name: &str,
        wait: &WaitConfig,
    ) -> Result<TransformJobDescription> {
        let backend = self.backend.clone();
        wait.wait_until(
            name,
            backend.changes(),
            || {
                let backend = backend.clone();
                let name = name.to_string();
                async move { backend.describe_transform_job(&name).await }
            },
            |d: &TransformJobDescription| {
                let running = matches!(
                    d.transform_job_status,
                    TransformJobStatus::InProgress | TransformJobStatus::Stopping
                );
                (d.transform_job_status.to_string(), !running)
            },
        )
        .await
    }
}
