//! A local root written by sagemaker 0.1 (`tests/fixtures/root-0.1`: a completed training
//! job, a model, an endpoint config and a completed transform job, as that release persists
//! them) still loads: every record describes and lists as it was written.

use std::path::Path;

use sagemaker_core::spec::*;
use sagemaker_core::{ErrorKind, StorageUri};
use sagemaker_local::LocalSession;

/// Copies the committed fixture into a fresh directory, so reading it can never change it.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[tokio::test]
async fn a_root_written_by_release_0_1_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/root-0.1");
    copy_tree(&fixture, dir.path());
    let session = LocalSession::builder().root(dir.path()).build().unwrap();
    let backend = session.backend();

    let job = backend.describe_training_job("fixture-job").await.unwrap();
    assert_eq!(job.training_job_status, TrainingJobStatus::Completed);
    assert_eq!(job.hyper_parameters["max_iter"], "200");
    assert_eq!(
        job.model_artifacts.unwrap().s3_model_artifacts,
        StorageUri::s3("sagemaker-local", "out/fixture-job/output/model.tar.gz")
    );
    let jobs = backend
        .list_training_jobs(&ListTrainingJobs::default())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].training_job_name, "fixture-job");

    let model = backend.describe_model("fixture-model").await.unwrap();
    assert_eq!(model.primary_container.image, "conformance");
    assert_eq!(backend.list_models().await.unwrap(), ["fixture-model"]);

    let config = backend
        .describe_endpoint_config("fixture-config")
        .await
        .unwrap();
    assert_eq!(config.production_variants[0].model_name, "fixture-model");
    assert_eq!(
        backend.list_endpoint_configs().await.unwrap(),
        ["fixture-config"]
    );

    let transform = backend
        .describe_transform_job("fixture-transform")
        .await
        .unwrap();
    assert_eq!(
        transform.transform_job_status,
        TransformJobStatus::Completed
    );
    assert_eq!(transform.transform_job_name, "fixture-transform");

    // A record that is not there is still NotFound, not a parse error.
    let missing = backend.describe_training_job("absent").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}
