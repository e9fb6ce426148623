//! # sagemaker
//!
//! The Amazon SageMaker workflow for Rust: `Estimator` → training job → model artifact,
//! run on an in-process **local backend** (no Docker, no AWS account, no network) or, later,
//! on SageMaker itself by changing only the [`Session`].
//!
//! ```
//! use sagemaker::prelude::*;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> sagemaker::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # std::env::set_current_dir(dir.path()).unwrap();
//! // A local session, rooted at ./.sagemaker (or $SAGEMAKER_LOCAL_ROOT).
//! let session = LocalSession::new()?;
//!
//! // Some training data: the label in the first column, as SageMaker's built-ins expect.
//! std::fs::write("train.csv", "label,x\n0,0.1\n0,0.3\n1,0.9\n1,1.2\n")?;
//! let train = session.upload_data("train.csv", "data").await?;
//!
//! let estimator = SKLearn::builder()
//!     .entry_point("LogisticRegression")
//!     .framework_version("1.2-1")
//!     .instance_type("local")
//!     .hyperparameter("max_iter", 200)
//!     .session(session.clone())
//!     .build()?;
//! let job = estimator.fit(train).await?;
//! let description = job.describe().await?;
//! assert_eq!(description.training_job_status, TrainingJobStatus::Completed);
//! println!("artifact: {}", job.model_data().await?);
//! # Ok(())
//! # }
//! ```
//!
//! Features: `local` (default) the local backend; `sklearn` (default) the scikit-learn
//! framework and its smartcore container.

pub use sagemaker_core::{
    ArtifactStore, Backend, CancellationToken, Capability, Error, ErrorKind, ObjectInfo, Result,
    Session, StorageUri, WaitConfig, WaitProgress, artifact, container, error, names, spec,
};
pub use sagemaker_estimator::{
    Estimator, EstimatorBuilder, EstimatorConfig, FitOptions, HyperparameterEncoding, Inputs,
    ScriptMode, TrainingInput, TrainingJob,
};

/// Models and deployment.
pub mod model {
    pub use sagemaker_model::{
        AsyncInferenceConfig, AsyncInferenceConfigBuilder, DeployConfig, Model, ModelBuilder,
        ServerlessInferenceConfig, ServerlessInferenceConfigBuilder, delete_all, deploy_variants,
        endpoint_ready,
    };
}

/// Predictors and their serializers and deserializers.
pub mod predictor {
    pub use sagemaker_predictor::codecs::*;
    pub use sagemaker_predictor::{
        AsyncInferenceResponse, AsyncPredictor, InvokeOptions, Predictor,
    };
}

/// Batch transform.
pub mod transformer {
    pub use sagemaker_transformer::{TransformArgs, TransformJob, Transformer, TransformerBuilder};
}

pub use sagemaker_model::{AsyncInferenceConfig, DeployConfig, Model, ServerlessInferenceConfig};
pub use sagemaker_predictor::{AsyncInferenceResponse, AsyncPredictor, InvokeOptions, Predictor};
pub use sagemaker_transformer::{TransformArgs, Transformer};

/// The local backend (feature `local`).
#[cfg(feature = "local")]
pub mod local {
    pub use sagemaker_local::{
        ASYNC_MAX_PAYLOAD_BYTES, AsyncInvocationStatus, AsyncNotification,
        DEFAULT_MAX_CONCURRENT_INVOCATIONS_PER_INSTANCE, DEFAULT_ROOT,
        DEFAULT_SERVERLESS_IDLE_TIMEOUT, EndpointMetrics, LOCAL_ACCOUNT, LOCAL_BUCKET,
        LOCAL_REGION, LocalBackend, LocalSessionBuilder, LocalStore, ROOT_ENV,
        SERVERLESS_MAX_PAYLOAD_BYTES,
    };
}

/// The scikit-learn framework (feature `sklearn`).
#[cfg(feature = "sklearn")]
pub mod sklearn {
    pub use sagemaker_sklearn::{
        Algorithm, HyperparameterDef, IMAGE_REPOSITORY, SKLearn, SKLearnBuilder, SKLearnModel,
        SKLearnModelBuilder, SKLearnPredictor, SklearnContainer, SklearnModel, TRAIN_SCORE_ROWS,
        Task, image_uris, sklearn_predictor,
    };
}

#[cfg(feature = "sklearn")]
pub use sagemaker_sklearn::SKLearn;

/// Local sessions with the SDK's containers registered (the scikit-learn one with the
/// `sklearn` feature), mirroring Python's `LocalSession()`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sagemaker::Result<()> {
/// let root = tempfile::tempdir().unwrap();
/// let session = sagemaker::LocalSession::builder().root(root.path()).build()?;
/// assert_eq!(session.default_bucket().await?, "sagemaker-local");
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "local")]
#[derive(Debug, Clone, Copy)]
pub struct LocalSession;

#[cfg(feature = "local")]
impl LocalSession {
    /// A session rooted at `$SAGEMAKER_LOCAL_ROOT`, else `./.sagemaker`.
    // Named like Python's `LocalSession()`: it constructs a `Session`, not a `LocalSession`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Result<Session> {
        Self::builder().build()
    }

    /// A builder (root, region, more containers) with the SDK's containers registered.
    pub fn builder() -> sagemaker_local::LocalSessionBuilder {
        let builder = sagemaker_local::LocalSession::builder();
        #[cfg(feature = "sklearn")]
        let builder = builder.container(
            sagemaker_sklearn::IMAGE_REPOSITORY,
            sagemaker_sklearn::SklearnContainer::new(),
        );
        builder
    }
}

/// The names most programs need.
pub mod prelude {
    #[cfg(feature = "local")]
    pub use crate::LocalSession;
    #[cfg(feature = "sklearn")]
    pub use crate::SKLearn;
    pub use crate::predictor::{
        CsvDeserializer, CsvSerializer, JsonDeserializer, JsonSerializer, NumpyDeserializer,
        NumpySerializer,
    };
    pub use crate::spec::{
        AssembleWith, BatchStrategy, EndpointStatus, JoinSource, SecondaryStatus, SplitType,
        TrainingJobStatus, TransformJobStatus,
    };
    pub use crate::{
        AsyncInferenceConfig, AsyncPredictor, DeployConfig, Error, ErrorKind, Estimator,
        FitOptions, Inputs, InvokeOptions, Model, Predictor, Result, ServerlessInferenceConfig,
        Session, StorageUri, TrainingInput, TrainingJob, TransformArgs, Transformer, WaitConfig,
    };
}
