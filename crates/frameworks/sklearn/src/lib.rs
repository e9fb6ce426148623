//! `sagemaker-sklearn`: the scikit-learn framework of the `sagemaker` SDK.
//!
//! - [`SKLearn`]: the estimator preset, validated like the Python SDK's.
//! - [`image_uris`]: the scikit-learn image URI of every region and version.
//! - [`SklearnContainer`]: the in-process container the local backend runs for
//!   `sagemaker-scikit-learn` images. It trains the built-in [`Algorithm`]s: logistic
//!   regression on its own L-BFGS solver (which honours `max_iter` and `tol`), decision trees
//!   and random forests on our own scikit-learn-faithful trees, the others on smartcore; it
//!   writes an artifact with a manifest (algorithm, features, classes, versions).

mod artifact_format;
mod bundle;
mod cancel;
mod container;
mod data;
mod estimator;
pub mod image_uris;
mod linear;
mod logistic;
mod model;
mod naive_bayes;
mod neighbors;
mod params;
mod serving;
mod trees;

pub use bundle::{BUILTIN_MODULE, BUILTIN_MODULE_FILE, metric_definitions, python_bundle};
pub use container::{SklearnContainer, SklearnModel, TRAIN_SCORE_ROWS};
pub use estimator::{SKLearn, SKLearnBuilder};
pub use params::{Algorithm, HyperparameterDef, Task};
pub use serving::{SKLearnModel, SKLearnModelBuilder, SKLearnPredictor, sklearn_predictor};

/// The image repository the local backend maps to [`SklearnContainer`].
pub const IMAGE_REPOSITORY: &str = image_uris::REPOSITORY;
