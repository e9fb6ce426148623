//! A `model.tar.gz` whose fitted model does not match its manifest is refused at load with a
//! typed error, never served until the first request panics.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sagemaker_core::ErrorKind;
use sagemaker_core::container::{Container, TrainingEnv, TrainingPaths, TrainingReporter};
use sagemaker_sklearn::{SklearnContainer, SklearnModel};

struct Quiet;

impl TrainingReporter for Quiet {
    fn log(&self, _line: &str) {}
    fn metric(&self, _name: &str, _value: f64) {}
}

/// Fits `algorithm` on a small 3-class, 4-feature data set; returns the model directory.
fn fit(root: &Path, algorithm: &str) -> std::path::PathBuf {
    let paths = TrainingPaths::new(root);
    let channel = paths.channel_dir("training");
    std::fs::create_dir_all(&channel).unwrap();
    std::fs::create_dir_all(&paths.model_dir).unwrap();
    let mut csv = String::new();
    for i in 0..60 {
        let class = i % 3;
        let base = class as f64 * 3.0;
        // Only the last feature separates the classes, so every fit splits on feature 3.
        csv.push_str(&format!("{class},1,1,1,{}\n", base + (i % 5) as f64 * 0.1));
    }
    std::fs::write(channel.join("train.csv"), csv).unwrap();
    let hp = BTreeMap::from([("sagemaker_program".to_string(), algorithm.to_string())]);
    let channels = BTreeMap::from([("training".to_string(), Some("text/csv".to_string()))]);
    let env = TrainingEnv::new(
        "manifest",
        paths.clone(),
        Arc::new(Quiet),
        Arc::new(AtomicBool::new(false)),
    )
    .with_hyperparameters(hp)
    .with_channels(channels);
    SklearnContainer.train(&env).unwrap();
    paths.model_dir
}

fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
}

#[test]
fn a_fitted_model_that_contradicts_its_manifest_is_refused_at_load() {
    // A tree indexes features directly: the mismatch that used to panic on the first request.
    let algorithm = "DecisionTreeClassifier";
    {
        let root = tempfile::tempdir().unwrap();
        let dir = fit(root.path(), algorithm);
        let model = SklearnModel::load(&dir).unwrap();
        assert_eq!(model.n_features(), 4, "{algorithm}");
        assert_eq!(model.classes().len(), 3, "{algorithm}");

        // Fewer features than the model was fitted on.
        edit_manifest(&dir, |m| m["n_features"] = 2.into());
        let e = SklearnModel::load(&dir).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization, "{algorithm}: {e}");
        assert!(
            e.message().contains("does not match manifest.json"),
            "{algorithm}: {e}"
        );

        // A class list shorter than the classes the model predicts.
        edit_manifest(&dir, |m| {
            m["n_features"] = 4.into();
            m["classes"] = serde_json::json!([]);
        });
        SklearnModel::load(&dir).unwrap();
        edit_manifest(&dir, |m| m["classes"] = serde_json::json!(["only"]));
        let probe = [0.0; 4];
        let predicted = SklearnModel::load(&dir).map(|m| m.predict_rows(&probe).unwrap());
        match predicted {
            // The probe row fell in class 0, which the list has: loading is right to accept.
            Ok(labels) => assert_eq!(labels, ["only"], "{algorithm}"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Serialization, "{algorithm}: {e}");
                assert!(e.message().contains("lists 1 classes"), "{algorithm}: {e}");
            }
        }
    }
}
