//! # sagemaker
//!
//! The Amazon SageMaker workflow for Rust: `Estimator` → training job → model artifact,
//! run on an in-process **local backend** (no Docker, no AWS account, no network) or on
//! SageMaker itself (feature `aws`) by changing only the [`Session`].
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
//! framework and its smartcore container; `remote` (default) remote functions
//! (`#[sagemaker::remote]`); `aws` (opt-in) the AWS backend, `AwsSession`.

pub use sagemaker_core::{
    ArtifactStore, Backend, CancellationToken, Capability, Error, ErrorKind, ObjectInfo, Result,
    Session, StorageUri, WaitConfig, WaitProgress, artifact, container, error, names, spec,
};
pub use sagemaker_estimator::{
    Estimator, EstimatorBuilder, EstimatorConfig, FitOptions, Framework, Generic,
    HyperparameterEncoding, Inputs, PythonBundle, ScriptMode, TrainingInput, TrainingJob,
};

/// Models and deployment.
pub mod model {
    pub use sagemaker_model::{
        AsyncInferenceConfig, AsyncInferenceConfigBuilder, DeployConfig, DeployConfigBuilder,
        Model, ModelBuilder, ServerlessInferenceConfig, ServerlessInferenceConfigBuilder,
        delete_all, deploy_variants, endpoint_ready,
    };
}

/// Predictors and their serializers and deserializers.
pub mod predictor {
    pub use sagemaker_predictor::codecs::*;
    pub use sagemaker_predictor::{
        AsyncInferenceResponse, AsyncPredictor, DeleteEndpoint, InvokeOptions, Predictor,
    };
}

/// Batch transform.
pub mod transformer {
    pub use sagemaker_transformer::{TransformArgs, TransformJob, Transformer, TransformerBuilder};
}

pub use sagemaker_model::{AsyncInferenceConfig, DeployConfig, Model, ServerlessInferenceConfig};
pub use sagemaker_predictor::{
    AsyncInferenceResponse, AsyncPredictor, DeleteEndpoint, InvokeOptions, Predictor,
};
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

/// Runs a function as a training job when called: see [`mod@remote`] (feature `remote`).
#[cfg(feature = "remote")]
pub use sagemaker_remote_macros::remote;

/// Remote functions: `#[sagemaker::remote]`, [`remote::RemoteExecutor`], [`remote::init`].
///
/// ```no_run
/// #[sagemaker::remote(instance_type = "ml.m5.large")]
/// fn add(a: i64, b: i64) -> Result<i64, String> {
///     a.checked_add(b).ok_or_else(|| "overflow".to_string())
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     sagemaker::remote::init(); // first: in the job's process this runs `add` and exits
///     assert_eq!(add(2, 3).await?, 5); // a training job on the default local session
///     Ok(())
/// }
/// ```
#[cfg(feature = "remote")]
pub mod remote {
    pub use sagemaker_remote::{
        ARGUMENTS_CHANNEL, BINARY_SIZE_ENV, BOOTSTRAP_CHANNEL, DEFAULT_IMAGE_VERSION,
        DEPENDENCIES_CHANNEL, FUNCTION_ENV, FUNCTION_FLAG, FileFilter, LOCAL_IMAGE, MAX_KEEP_ALIVE,
        MAX_RUNTIME_LIMIT, OUTPUT_DIR_ENV, RemoteContainer, RemoteError, RemoteExecutor,
        RemoteExecutorBuilder, RemoteFunction, RemoteFuture, RemoteSettings, RemoteSettingsBuilder,
        WORKDIR_CHANNEL, default_image_uri, default_session, get_future, instance_cpus,
        is_initialized, is_linux_x86_64_elf, list_futures, payload, registered_functions,
        set_default_session, uploaded_binary_size,
    };

    #[doc(hidden)]
    pub use sagemaker_remote::__private;

    /// Call this first thing in `main` (before anything else runs, even argument parsing).
    ///
    /// A remote call runs this same binary as the job's process; in that process `init` runs
    /// the requested function, stores its result and exits, so the rest of `main` never runs
    /// there. In any other process it returns at once, after making
    /// [`LocalSession::new()`](crate::LocalSession::new) (with the SDK's containers, the
    /// remote-function one included) the default session of remote calls.
    pub fn init() {
        #[cfg(feature = "local")]
        sagemaker_remote::set_default_session(crate::LocalSession::new);
        sagemaker_remote::init();
    }
}

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

    /// A builder (root, region, more containers) with the SDK's containers registered: the
    /// remote-function one (image [`remote::LOCAL_IMAGE`]) and, with the `sklearn` feature,
    /// the scikit-learn one.
    pub fn builder() -> sagemaker_local::LocalSessionBuilder {
        let builder = sagemaker_local::LocalSession::builder();
        #[cfg(feature = "remote")]
        let builder = builder.container(
            sagemaker_remote::LOCAL_IMAGE,
            sagemaker_remote::RemoteContainer::new(),
        );
        #[cfg(feature = "sklearn")]
        let builder = builder.container(
            sagemaker_sklearn::IMAGE_REPOSITORY,
            sagemaker_sklearn::SklearnContainer::new(),
        );
        builder
    }
}

/// The AWS backend (feature `aws`): the same program on Amazon SageMaker.
///
/// ```no_run
/// # async fn run() -> sagemaker::Result<()> {
/// let session = sagemaker::aws::AwsSession::from_env().await?;
/// println!("{}", session.default_bucket().await?);
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "aws")]
pub mod aws {
    pub use sagemaker_aws::{
        AwsBackend, AwsSession, AwsSessionBuilder, MULTIPART_THRESHOLD, PART_SIZE, S3Store,
        validate_bucket,
    };
}

#[cfg(feature = "aws")]
pub use sagemaker_aws::AwsSession;

/// The names most programs need.
pub mod prelude {
    #[cfg(feature = "aws")]
    pub use crate::AwsSession;
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
        AsyncInferenceConfig, AsyncPredictor, DeleteEndpoint, DeployConfig, Error, ErrorKind,
        Estimator, FitOptions, Inputs, InvokeOptions, Model, Predictor, Result,
        ServerlessInferenceConfig, Session, StorageUri, TrainingInput, TrainingJob, TransformArgs,
        Transformer, WaitConfig,
    };
}

// The handles users share across tasks are `Send + Sync`: a change that breaks it fails to
// compile here, not in a user's program.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<Session>();
    shared::<Estimator>();
    shared::<TrainingJob>();
    shared::<Model>();
    shared::<Predictor>();
    shared::<AsyncPredictor>();
    shared::<Transformer>();
    shared::<transformer::TransformJob>();
    shared::<Error>();
    #[cfg(feature = "sklearn")]
    {
        shared::<Estimator<SKLearn>>();
        shared::<TrainingJob<SKLearn>>();
        shared::<sklearn::SKLearnPredictor>();
        shared::<sklearn::SKLearnModel>();
    }
};
