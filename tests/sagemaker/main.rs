//! End-to-end tests through the facade on the local backend, one module per capability, in
//! one test binary (one link for all of them).

mod containers;
mod errors;
mod inference;
mod lifecycle;
mod serverless_async;
mod training;
mod transform;

use std::path::Path;

use sagemaker::prelude::*;
use sagemaker_test_support::{iris_csv, iris_logistic, upload};

/// The iris `LogisticRegression` trained under `base` on session `s` (data written under `root`).
async fn trained_iris(s: &Session, root: &Path, base: &str) -> Estimator<SKLearn> {
    let data = upload(s, root, "iris.csv", &iris_csv()).await;
    let est = iris_logistic(s).base_job_name(base).build().unwrap();
    est.fit(data).await.unwrap();
    est
}
