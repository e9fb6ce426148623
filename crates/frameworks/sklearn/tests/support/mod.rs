//! Shared by the parity test and the learners bench: one built-in trained through the
//! in-process container, as a local training job runs it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sagemaker_core::container::{Container, TrainingEnv, TrainingPaths, TrainingReporter};
use sagemaker_sklearn::{Algorithm, SklearnContainer, SklearnModel};
use serde_json::{Value, json};

/// Trains `algorithm` with `hps` (a JSON object) on `train_file` in a job tree under `root`,
/// reporting to `reporter`, and loads the artifact.
pub(crate) fn train_in_container(
    root: &Path,
    algorithm: Algorithm,
    hps: &Value,
    train_file: &Path,
    reporter: Arc<dyn TrainingReporter>,
) -> SklearnModel {
    let paths = TrainingPaths::new(root);
    std::fs::create_dir_all(paths.channel_dir("training")).unwrap();
    std::fs::create_dir_all(&paths.model_dir).unwrap();
    std::fs::copy(train_file, paths.channel_dir("training").join("train.csv")).unwrap();
    let mut hp: BTreeMap<String, String> = hps
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    hp.insert(
        "sagemaker_program".into(),
        json!(algorithm.name()).to_string(),
    );
    let env = TrainingEnv::new(
        "sklearn-test",
        paths.clone(),
        reporter,
        Arc::new(AtomicBool::new(false)),
    )
    .with_hyperparameters(hp)
    .with_channels([("training".to_string(), None)].into_iter().collect());
    SklearnContainer::new()
        .train(&env)
        .unwrap_or_else(|e| panic!("{algorithm} {hps}: {}", e.failure_reason()));
    SklearnModel::load(&paths.model_dir).unwrap()
}
