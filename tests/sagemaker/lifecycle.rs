//! The 0.2 API shape: a job deploys itself, concurrent fits on one estimator, and a local
//! root written by 0.1 still loads.

use std::path::Path;

use sagemaker::prelude::*;
use sagemaker::spec::{ListTrainingJobs, TransformJobStatus};
use sagemaker_test_support::{iris_csv, session, sklearn, upload};

/// One estimator, several fits at once: each `fit` returns its own job, deploying from that
/// handle uses exactly that job's artifact, and "the latest job" of the estimator is the fit
/// that started last, however the fits finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fits_on_one_estimator_do_not_race() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = upload(&s, root.path(), "iris.csv", &iris_csv()).await;
    let est = sklearn(&s, "LogisticRegression")
        .hyperparameter("target", "species")
        .base_job_name("race")
        .build()
        .unwrap();
    // join! polls the four futures in order, so the fits start in this order.
    let (a, b, c, d) = tokio::join!(
        est.fit(data.clone()),
        est.fit(data.clone()),
        est.fit(data.clone()),
        est.fit(data.clone())
    );
    let jobs = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    let names: std::collections::BTreeSet<&str> = jobs.iter().map(|j| j.name()).collect();
    assert_eq!(names.len(), 4, "four distinct jobs: {names:?}");
    assert_eq!(
        est.latest_training_job().unwrap().name(),
        jobs[3].name(),
        "the latest job is the fit that started last"
    );
    // Each job deploys its own artifact, whatever the estimator's latest job is.
    let predictor = jobs[1]
        .deploy(
            DeployConfig::builder()
                .instance_type("local")
                .endpoint_name("race-b")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let endpoint = predictor.describe_endpoint().await.unwrap();
    let config = s
        .backend()
        .describe_endpoint_config(&endpoint.endpoint_config_name)
        .await
        .unwrap();
    let model = s
        .backend()
        .describe_model(&config.production_variants[0].model_name)
        .await
        .unwrap();
    assert_eq!(
        model.primary_container.model_data_url,
        Some(jobs[1].model_data().await.unwrap())
    );
    // A typed predictor: the scikit-learn codecs, no hand wrapping.
    let labels: serde_json::Value = predictor
        .predict(&vec![vec![5.1, 3.5, 1.4, 0.2]])
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["setosa"]));
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
}

/// Copies a directory tree (the committed fixture) to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A local root written by release 0.1 (`tests/fixtures/local-root-0.1`: the iris example's
/// training and transform jobs, and an endpoint left behind by `sagemaker serve`) still loads:
/// jobs describe and attach, the artifact deploys and predicts, and the endpoint whose process
/// is gone is not reported alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_root_written_by_0_1_still_loads() {
    const JOB: &str = "sagemaker-scikit-learn-2026-12-02-11-27-24-831";
    const TRANSFORM: &str = "sagemaker-scikit-learn-2026-12-02-11-27-24-947";
    let root = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local-root-0.1"),
        root.path(),
    );
    let s = session(root.path());

    let jobs = s
        .backend()
        .list_training_jobs(&ListTrainingJobs::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let d = s.backend().describe_training_job(JOB).await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    assert!(d.metric("validation:accuracy").unwrap() > 0.9);
    assert!(
        s.backend()
            .training_job_logs(JOB)
            .await
            .unwrap()
            .contains("accuracy")
    );

    let est = Estimator::attach(JOB, s.clone()).await.unwrap();
    assert_eq!(est.latest_training_job().unwrap().name(), JOB);
    let predictor = TrainingJob::new(JOB, s.clone())
        .with_framework::<SKLearn>()
        .deploy(
            DeployConfig::builder()
                .instance_type("local")
                .endpoint_name("from-0-1")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let labels: serde_json::Value = predictor
        .predict(&vec![vec![5.1, 3.5, 1.4, 0.2]])
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["setosa"]));
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();

    let t = s.backend().describe_transform_job(TRANSFORM).await.unwrap();
    assert_eq!(t.transform_job_status, TransformJobStatus::Completed);
    let model = s
        .backend()
        .describe_model("fixture-endpoint")
        .await
        .unwrap();
    assert!(model.primary_container.model_data_url.is_some());
    let config = s
        .backend()
        .describe_endpoint_config("fixture-endpoint")
        .await
        .unwrap();
    assert_eq!(config.production_variants[0].model_name, "fixture-endpoint");
    // The process that served it is gone: the endpoint must not look InService.
    let e = s
        .backend()
        .describe_endpoint("fixture-endpoint")
        .await
        .unwrap();
    assert_ne!(e.endpoint_status, EndpointStatus::InService, "{e:?}");
}
