//! `sagemaker-estimator`: the generic [`Estimator`], [`TrainingInput`] and [`TrainingJob`].
//!
//! Written once above the backend traits: the same code trains on the local backend and on
//! SageMaker.

mod estimator;
mod framework;
mod input;
mod job;

pub use estimator::{
    Estimator, EstimatorBuilder, EstimatorConfig, FitOptions, HyperparameterEncoding, PythonBundle,
    ScriptMode, upload_python_bundle,
};
pub use framework::{Framework, Generic};
pub use input::{Inputs, TrainingInput};
pub use job::{LOG_TAIL_LINES, TrainingJob};
