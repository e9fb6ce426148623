//! Custom containers: one trains and serves through the facade, a panic fails the job.

use std::path::Path;

use sagemaker::container::{Container, ContainerError, Handler, ServingEnv, TrainingEnv};
use sagemaker::prelude::*;
use sagemaker_test_support::upload;

/// A custom container: predicts the mean label. Panics when asked to.
struct MeanContainer;

impl Container for MeanContainer {
    fn train(&self, env: &TrainingEnv) -> Result<(), ContainerError> {
        if env.hyperparameters.get("panic").map(String::as_str) == Some("True") {
            panic!("the custom container was told to panic");
        }
        let dir = env.paths.channel_dir("training");
        let mut sum = 0.0;
        let mut n = 0.0;
        for entry in std::fs::read_dir(&dir).map_err(|e| ContainerError::client(e.to_string()))? {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines() {
                sum += line
                    .parse::<f64>()
                    .map_err(|e| ContainerError::client(format!("{line}: {e}")))?;
                n += 1.0;
            }
        }
        env.report_metric("train:mean", sum / n);
        std::fs::write(env.paths.model_dir.join("mean.txt"), (sum / n).to_string()).unwrap();
        Ok(())
    }

    fn load(
        &self,
        _dir: &Path,
        _env: &ServingEnv,
    ) -> sagemaker::Result<std::sync::Arc<dyn Handler>> {
        Err(sagemaker::Error::unsupported("mean container", "serving"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_containers_train_and_a_panic_fails_the_job() {
    let root = tempfile::tempdir().unwrap();
    let s = LocalSession::builder()
        .root(root.path())
        .container("mean-trainer", MeanContainer)
        .build()
        .unwrap();
    let data = upload(&s, root.path(), "y.txt", "1\n2\n6\n").await;
    let est = Estimator::builder()
        .image_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/mean-trainer:3")
        .instance_type("local")
        .hyperparameter("panic", false)
        .session(s.clone())
        .build()
        .unwrap();
    let job = est.fit(data.clone()).await.unwrap();
    assert!(job.name().starts_with("mean-trainer-"));
    assert_eq!(
        job.describe().await.unwrap().metric("train:mean"),
        Some(3.0)
    );
    assert_eq!(
        job.describe().await.unwrap().hyper_parameters["panic"],
        "False"
    );

    let est = Estimator::builder()
        .image_uri("mean-trainer")
        .instance_type("local")
        .hyperparameter("panic", true)
        .session(s.clone())
        .build()
        .unwrap();
    let e = est.fit(data).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::JobFailed);
    let reason = e.failure_reason().unwrap();
    assert!(
        reason.starts_with("AlgorithmError: the container panicked"),
        "{reason}"
    );
    assert!(reason.contains("told to panic"), "{reason}");
    // The backend keeps working after a panic.
    let est = Estimator::builder()
        .image_uri("mean-trainer")
        .instance_type("local")
        .session(s.clone())
        .build()
        .unwrap();
    let y = upload(&s, root.path(), "y2.txt", "4\n").await;
    assert_eq!(
        est.fit(y)
            .await
            .unwrap()
            .describe()
            .await
            .unwrap()
            .metric("train:mean"),
        Some(4.0)
    );
}
