//! The in-process scikit-learn container: trains the built-in algorithms under SageMaker's
//! training contract and loads their artifacts for serving.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sagemaker_core::container::{
    Container, ContainerError, ExecutionParameters, Handler, InvocationError, InvocationRequest,
    InvocationResponse, ServingEnv, TrainingEnv, decode_hyperparameter,
};
use sagemaker_core::script_mode::ScriptMode;
use sagemaker_core::spec::BatchStrategy;
use sagemaker_core::{Error, ErrorKind, Result};
use sagemaker_predictor::codecs::{
    Deserializer, NpyData, NumpyDeserializer, write_npy_f64, write_npy_strings,
};
use serde_json::Value;

use crate::artifact_format;
use crate::cancel::Cancel;
use crate::data::{self, Dataset, Target};
use crate::model::{
    self, ENGINE, FORMAT_VERSION, Fitted, Labels, MANIFEST_FILE, MODEL_FILE, Manifest, Predictions,
};
use crate::params::{self, Algorithm, Task};

/// How many training rows the `train:*` metrics are computed on (the first ones).
pub const TRAIN_SCORE_ROWS: usize = 1_000;

/// The scikit-learn container, run in process on smartcore. The local backend runs it for
/// every `sagemaker-scikit-learn` image.
#[derive(Debug, Clone, Copy, Default)]
pub struct SklearnContainer;

impl SklearnContainer {
    /// The container.
    pub fn new() -> Self {
        SklearnContainer
    }
}

/// Class labels in scikit-learn's order (`np.unique`: numeric when every label is a number,
/// else lexicographic), with a lookup from text to index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClassIndex {
    pub(crate) labels: Vec<String>,
    numeric: Option<Vec<f64>>,
}

impl ClassIndex {
    pub(crate) fn from_labels(y: &[String]) -> ClassIndex {
        let numeric: Option<Vec<f64>> = y.iter().map(|s| data::parse_number(s).ok()).collect();
        match numeric {
            Some(values) => {
                let mut pairs: Vec<(f64, &String)> = values.into_iter().zip(y).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                pairs.dedup_by(|a, b| a.0 == b.0);
                ClassIndex {
                    labels: pairs.iter().map(|(_, s)| (*s).clone()).collect(),
                    numeric: Some(pairs.iter().map(|(v, _)| *v).collect()),
                }
            }
            None => {
                let mut labels: Vec<String> = y.to_vec();
                labels.sort();
                labels.dedup();
                ClassIndex {
                    labels,
                    numeric: None,
                }
            }
        }
    }

    pub(crate) fn index_of(&self, label: &str) -> Option<u32> {
        match &self.numeric {
            Some(values) => {
                let v = data::parse_number(label).ok()?;
                values
                    .binary_search_by(|x| x.total_cmp(&v))
                    .ok()
                    .map(|i| i as u32)
            }
            None => self
                .labels
                .binary_search_by(|x| x.as_str().cmp(label))
                .ok()
                .map(|i| i as u32),
        }
    }

    pub(crate) fn is_numeric(&self) -> bool {
        self.numeric.is_some()
    }
}

fn decoded_hyperparameters(env: &TrainingEnv) -> BTreeMap<String, Value> {
    env.hyperparameters
        .iter()
        .map(|(k, v)| (k.clone(), decode_hyperparameter(v)))
        .collect()
}

/// The algorithm named by `sagemaker_program`.
pub(crate) fn algorithm_of(
    hps: &BTreeMap<String, Value>,
) -> std::result::Result<Algorithm, String> {
    let program = match hps.get(sagemaker_core::script_mode::PROGRAM) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => {
            return Err("no entry point: the sagemaker_program hyperparameter is not set".into());
        }
    };
    Algorithm::from_name(&program).ok_or_else(|| {
        format!(
            "unknown entry point '{program}'; the built-in entry points are: {}",
            Algorithm::ALL
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn target_of(
    algorithm: Algorithm,
    hps: &BTreeMap<String, Value>,
) -> std::result::Result<Target, String> {
    if algorithm.task() == Task::Clustering {
        return Ok(Target::None);
    }
    match hps.get("target") {
        None => Ok(Target::Index(0)),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Target::Index)
            .ok_or_else(|| format!("target must be a column name or an integer index, got {n}")),
        Some(Value::String(s)) => Ok(Target::Name(s.clone())),
        Some(v) => Err(format!(
            "target must be a column name or an integer index, got {v}"
        )),
    }
}

fn read_channel(
    env: &TrainingEnv,
    channel: &str,
    target: &Target,
) -> std::result::Result<Dataset, ContainerError> {
    let dir = env.paths.channel_dir(channel);
    let files = data::channel_files(&dir)?;
    if files.is_empty() {
        return Err(ContainerError::client(format!(
            "channel '{channel}' holds no files"
        )));
    }
    data::read_csv_files(&files, &dir, target)
        .map_err(|e| ContainerError::client(format!("channel '{channel}': {}", e.message)))
}

/// Macro-averaged F1 over the labels present in `truth` or `predicted` (scikit-learn's
/// `f1_score(average="macro")`).
pub(crate) fn macro_f1(truth: &[Option<u32>], predicted: &[u32]) -> f64 {
    // `None` truth is a label unseen in training: its own class, never predicted.
    let key = |t: &Option<u32>| t.map(i64::from).unwrap_or(-1);
    let mut labels: Vec<i64> = truth
        .iter()
        .map(key)
        .chain(predicted.iter().map(|&p| i64::from(p)))
        .collect();
    labels.sort_unstable();
    labels.dedup();
    let mut total = 0.0;
    for &label in &labels {
        let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
        for (t, &p) in truth.iter().zip(predicted) {
            let (t, p) = (key(t) == label, i64::from(p) == label);
            match (t, p) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                _ => {}
            }
        }
        let denom = 2 * tp + fp + fn_;
        total += if denom == 0 {
            0.0
        } else {
            2.0 * tp as f64 / denom as f64
        };
    }
    total / labels.len().max(1) as f64
}

fn regression_metrics(truth: &[f64], predicted: &[f64]) -> (f64, f64) {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let ss_res: f64 = truth
        .iter()
        .zip(predicted)
        .map(|(t, p)| (t - p).powi(2))
        .sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
    let r2 = if ss_tot == 0.0 {
        if ss_res == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    };
    (r2, ss_res / n)
}

/// Sum of squared distances of rows to their cluster's centre.
fn inertia(x: &[f64], n_features: usize, clusters: &[u32]) -> f64 {
    let k = clusters
        .iter()
        .copied()
        .max()
        .map(|m| m as usize + 1)
        .unwrap_or(0);
    let mut sums = vec![0.0; k * n_features];
    let mut counts = vec![0usize; k];
    for (row, &c) in x.chunks_exact(n_features).zip(clusters) {
        counts[c as usize] += 1;
        for (s, v) in sums[c as usize * n_features..][..n_features]
            .iter_mut()
            .zip(row)
        {
            *s += v;
        }
    }
    x.chunks_exact(n_features)
        .zip(clusters)
        .map(|(row, &c)| {
            let n = counts[c as usize].max(1) as f64;
            row.iter()
                .zip(&sums[c as usize * n_features..][..n_features])
                .map(|(v, s)| (v - s / n).powi(2))
                .sum::<f64>()
        })
        .sum()
}

fn labels_for(
    algorithm: Algorithm,
    ds: &Dataset,
    shown: &str,
) -> std::result::Result<(Labels, Option<ClassIndex>), ContainerError> {
    match algorithm.task() {
        Task::Clustering => Ok((Labels::None, None)),
        Task::Classification => {
            let classes = ClassIndex::from_labels(&ds.y);
            if classes.labels.len() < 2 {
                return Err(ContainerError::client(format!(
                    "{shown}: the target column has one class only ({}); a classifier needs at least two",
                    classes.labels.first().map(String::as_str).unwrap_or("none")
                )));
            }
            let idx =
                ds.y.iter()
                    .map(|l| {
                        classes
                            .index_of(l)
                            .expect("every training label is a class")
                    })
                    .collect();
            Ok((Labels::Classes(idx), Some(classes)))
        }
        Task::Regression => {
            let mut values = Vec::with_capacity(ds.y.len());
            for (row, label) in ds.y.iter().enumerate() {
                let v = data::parse_number(label).map_err(|why| {
                    ContainerError::client(format!(
                        "{shown}, data row {}: target value '{label}' {why} ({algorithm} needs numeric targets)",
                        row + 1
                    ))
                })?;
                values.push(v);
            }
            Ok((Labels::Values(values), None))
        }
    }
}

/// The process container that runs a user's script for this image: the environment the
/// scikit-learn image sets (its `Dockerfile`s' `SAGEMAKER_TRAINING_MODULE` and
/// `SAGEMAKER_SERVING_MODULE`), interpreter from `SAGEMAKER_PYTHON` (the job's, the model's
/// or this process's) or `python3`.
fn script_container() -> sagemaker_script::ScriptContainer {
    sagemaker_script::ScriptContainer::builder()
        .image_env(
            "SAGEMAKER_TRAINING_MODULE",
            "sagemaker_sklearn_container.training:main",
        )
        .image_env(
            "SAGEMAKER_SERVING_MODULE",
            "sagemaker_sklearn_container.serving:main",
        )
        .build()
}

impl Container for SklearnContainer {
    fn train(&self, env: &TrainingEnv) -> std::result::Result<(), ContainerError> {
        // A user's script runs in a child Python process; built-in names run here.
        if ScriptMode::decode(&env.hyperparameters)
            .is_some_and(|m| sagemaker_script::is_script(&m.program))
        {
            return script_container().train(env);
        }
        let hps = decoded_hyperparameters(env);
        let algorithm = algorithm_of(&hps).map_err(ContainerError::client)?;
        let params = params::validate(algorithm, &hps).map_err(ContainerError::client)?;
        let target = target_of(algorithm, &hps).map_err(ContainerError::client)?;
        if !env.channels.contains_key("training") {
            return Err(ContainerError::client(format!(
                "the 'training' channel is missing (channels: {})",
                env.channels.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let train = read_channel(env, "training", &target)?;
        let (labels, classes) = labels_for(algorithm, &train, "channel 'training'")?;
        let n_classes = classes.as_ref().map_or(0, |c| c.labels.len());
        env.log(format!(
            "{algorithm}: {} rows, {} features{}; hyperparameters {}",
            train.n_rows(),
            train.n_features,
            classes
                .as_ref()
                .map(|c| format!(", {} classes ({})", c.labels.len(), c.labels.join(", ")))
                .unwrap_or_default(),
            params.to_json()
        ));
        if env.stop_requested() {
            return Err(ContainerError::stopped());
        }
        if !model::cancellable(algorithm) {
            env.log(format!(
                "{algorithm} runs on smartcore, which cannot be interrupted: a stop or MaxRuntimeInSeconds takes effect once the fit ends"
            ));
        }
        let started = std::time::Instant::now();
        let stop = || env.stop_requested();
        let fitted = model::fit(
            algorithm,
            &params,
            &train.x,
            train.n_features,
            &labels,
            n_classes,
            &Cancel::new(&stop),
        )
        .map_err(|e| {
            if env.stop_requested() {
                ContainerError::stopped()
            } else {
                ContainerError::algorithm(e)
            }
        })?;
        env.log(format!(
            "fit took {:.3} ms",
            started.elapsed().as_secs_f64() * 1e3
        ));
        if let Some(trees) = fitted.trees() {
            report_trees(env, trees, train.feature_names.as_deref())?;
        }
        if let Fitted::Logistic(m) = &fitted {
            env.log(format!(
                "lbfgs: {} iterations, converged: {}",
                m.n_iter(),
                m.converged()
            ));
            if !m.converged() {
                env.log(format!(
                    "ConvergenceWarning: lbfgs failed to converge after {} iterations; increase max_iter",
                    m.n_iter()
                ));
            }
        }

        // Training-set score on at most the first TRAIN_SCORE_ROWS rows (a k-NN scored on all
        // 70 000 rows would take minutes), then the held-out channel's metrics if given.
        let scored = train.head(TRAIN_SCORE_ROWS);
        let scored_labels = match &labels {
            Labels::Values(v) => Labels::Values(v[..scored.n_rows()].to_vec()),
            other => other.clone(),
        };
        let predicted = fitted
            .predict(&scored.x, scored.n_features)
            .map_err(ContainerError::algorithm)?;
        report_metrics(
            env,
            "train",
            algorithm,
            &scored,
            &scored_labels,
            &predicted,
            classes.as_ref(),
        );
        for channel in ["validation", "test"] {
            if env.channels.contains_key(channel) {
                let held_out = read_channel(env, channel, &target)?;
                if held_out.n_features != train.n_features {
                    return Err(ContainerError::client(format!(
                        "channel '{channel}' has {} features, the training channel has {}",
                        held_out.n_features, train.n_features
                    )));
                }
                let p = fitted
                    .predict(&held_out.x, held_out.n_features)
                    .map_err(ContainerError::algorithm)?;
                let held_labels = match algorithm.task() {
                    Task::Regression => {
                        labels_for(algorithm, &held_out, &format!("channel '{channel}'"))?.0
                    }
                    _ => Labels::None,
                };
                report_metrics(
                    env,
                    "validation",
                    algorithm,
                    &held_out,
                    &held_labels,
                    &p,
                    classes.as_ref(),
                );
                break;
            }
        }

        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            algorithm,
            task: algorithm.task(),
            n_features: train.n_features,
            feature_names: train.feature_names.clone(),
            target_name: train.target_name.clone(),
            target_index: train.target_index,
            classes: classes
                .as_ref()
                .map(|c| c.labels.clone())
                .unwrap_or_default(),
            numeric_classes: classes.as_ref().is_some_and(ClassIndex::is_numeric),
            hyperparameters: params.to_json(),
            training_rows: train.n_rows(),
            sdk_version: sagemaker_core::SDK_VERSION.to_string(),
            engine: ENGINE.to_string(),
        };
        let write = |name: &str, bytes: Vec<u8>| {
            std::fs::write(env.paths.model_dir.join(name), bytes)
                .map_err(|e| ContainerError::algorithm(format!("cannot write {name}: {e}")))
        };
        write(
            MANIFEST_FILE,
            serde_json::to_vec_pretty(&manifest)
                .map_err(|e| ContainerError::algorithm(e.to_string()))?,
        )?;
        write(
            MODEL_FILE,
            serde_json::to_vec(&fitted).map_err(|e| ContainerError::algorithm(e.to_string()))?,
        )?;
        if let Some(doc) = artifact_format::export(&fitted, &manifest) {
            artifact_format::write(&env.paths.model_dir, &doc)
                .map_err(|e| ContainerError::algorithm(e.message().to_string()))?;
        }
        Ok(())
    }

    fn load(&self, model_dir: &Path, env: &ServingEnv) -> Result<Arc<dyn Handler>> {
        if ScriptMode::from_model_environment(&env.environment)
            .is_some_and(|m| sagemaker_script::is_script(&m.program))
        {
            return script_container().load(model_dir, env);
        }
        Ok(Arc::new(SklearnModel::load(model_dir)?))
    }
}

fn report_metrics(
    env: &TrainingEnv,
    prefix: &str,
    algorithm: Algorithm,
    ds: &Dataset,
    labels: &Labels,
    predicted: &Predictions,
    classes: Option<&ClassIndex>,
) {
    match (algorithm.task(), predicted) {
        (Task::Classification, Predictions::Classes(p)) => {
            let classes = classes.expect("classifiers have classes");
            let truth: Vec<Option<u32>> = ds.y.iter().map(|l| classes.index_of(l)).collect();
            let correct = truth
                .iter()
                .zip(p)
                .filter(|(t, p)| **t == Some(**p))
                .count();
            env.report_metric(
                &format!("{prefix}:accuracy"),
                correct as f64 / p.len().max(1) as f64,
            );
            env.report_metric(&format!("{prefix}:f1"), macro_f1(&truth, p));
        }
        (Task::Regression, Predictions::Values(p)) => {
            if let Labels::Values(truth) = labels {
                let (r2, mse) = regression_metrics(truth, p);
                env.report_metric(&format!("{prefix}:r2"), r2);
                env.report_metric(&format!("{prefix}:mse"), mse);
            }
        }
        (Task::Clustering, Predictions::Classes(c)) => {
            env.report_metric(
                &format!("{prefix}:inertia"),
                inertia(&ds.x, ds.n_features, c),
            );
        }
        _ => {}
    }
}

/// Logs a tree learner's `feature_importances_` (and `oob_score_`) and writes them to
/// `feature_importances.json` in the job's output data (`output.tar.gz`).
fn report_trees(
    env: &TrainingEnv,
    trees: &crate::trees::TreeModel,
    names: Option<&[String]>,
) -> std::result::Result<(), ContainerError> {
    let name = |i: usize| {
        names
            .and_then(|n| n.get(i).cloned())
            .unwrap_or_else(|| format!("x{i}"))
    };
    let shown: Vec<String> = trees
        .feature_importances
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{}={v:.6}", name(i)))
        .collect();
    env.log(format!("feature_importances_: {}", shown.join(", ")));
    if let Some(score) = trees.oob_score {
        env.log(format!("oob_score_: {score:.6}"));
        env.report_metric("train:oob_score", score);
    }
    let doc = serde_json::json!({
        "feature_names": (0..trees.n_features).map(name).collect::<Vec<_>>(),
        "feature_importances_": trees.feature_importances,
        "oob_score_": trees.oob_score,
        "n_estimators": trees.trees.len(),
    });
    let dir = &env.paths.output_data_dir;
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        // Written beside, then renamed: no half-written file is ever packed.
        let tmp = dir.join(".feature_importances.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap_or_default())?;
        std::fs::rename(&tmp, dir.join("feature_importances.json"))
    };
    write().map_err(|e| {
        ContainerError::algorithm(format!(
            "cannot write feature_importances.json to {}: {e}",
            dir.display()
        ))
    })
}

/// A loaded scikit-learn artifact.
#[derive(Debug)]
pub struct SklearnModel {
    pub(crate) manifest: Manifest,
    pub(crate) fitted: Fitted,
}

impl SklearnModel {
    /// Loads `manifest.json` and `model.json` from an extracted artifact directory.
    pub fn load(model_dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            let path = model_dir.join(name);
            std::fs::read(&path).map_err(|e| Error::io(&path, e))
        };
        if !model_dir.join(MANIFEST_FILE).exists() {
            return artifact_format::load_python_artifact(model_dir);
        }
        let manifest: Manifest = serde_json::from_slice(&read(MANIFEST_FILE)?).map_err(|e| {
            Error::new(
                ErrorKind::Serialization,
                format!("{MANIFEST_FILE}: not a scikit-learn artifact manifest: {e}"),
            )
        })?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::Serialization,
                format!(
                    "{MANIFEST_FILE}: artifact format {} is not supported by this SDK (it reads format {FORMAT_VERSION})",
                    manifest.format_version
                ),
            ));
        }
        let fitted: Fitted = serde_json::from_slice(&read(MODEL_FILE)?).map_err(|e| {
            Error::new(
                ErrorKind::Serialization,
                format!(
                    "{MODEL_FILE}: cannot read this {} model ({e}); it was written by an older SDK ({}) whose {} learner this SDK replaced: retrain the model",
                    manifest.algorithm, manifest.engine, manifest.algorithm
                ),
            )
        })?;
        if let Some(trees) = fitted.trees() {
            trees.validate(manifest.n_features).map_err(|e| {
                Error::new(
                    ErrorKind::Serialization,
                    format!("{MODEL_FILE} does not match {MANIFEST_FILE}: {e}"),
                )
            })?;
        }
        let model = SklearnModel { manifest, fitted };
        model.check_against_manifest()?;
        Ok(model)
    }

    /// Refuses, at load, a fitted model that does not match its manifest (a `model.json` of
    /// another fit, an edited feature count or class list): one row of the manifest's width
    /// is predicted, and a panic, an error or a class index outside the manifest's classes is
    /// a typed error here rather than a panic on the first request.
    fn check_against_manifest(&self) -> Result<()> {
        let n = self.manifest.n_features;
        let mismatch = |why: String| {
            Error::new(
                ErrorKind::Serialization,
                format!("{MODEL_FILE} does not match {MANIFEST_FILE}: {why}"),
            )
        };
        if n == 0 {
            return Err(mismatch("the manifest declares 0 features".into()));
        }
        let probe = vec![0.0; n];
        let predicted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.fitted.predict(&probe, n)
        }))
        .map_err(|_| {
            mismatch(format!(
                "predicting one row of the manifest's {n} features fails inside the model"
            ))
        })?
        .map_err(|e| mismatch(format!("predicting one row of {n} features: {e}")))?;
        let classes = self.manifest.classes.len();
        match predicted {
            Predictions::Classes(c) if c.len() != 1 => Err(mismatch(format!(
                "one row of {n} features gave {} predictions",
                c.len()
            ))),
            Predictions::Values(v) if v.len() != 1 => Err(mismatch(format!(
                "one row of {n} features gave {} predictions",
                v.len()
            ))),
            Predictions::Classes(c) if classes > 0 && c[0] as usize >= classes => {
                Err(mismatch(format!(
                    "the model predicts class index {}, but the manifest lists {classes} classes",
                    c[0]
                )))
            }
            _ => Ok(()),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.manifest.algorithm
    }

    /// The number of features a row must have.
    pub fn n_features(&self) -> usize {
        self.manifest.n_features
    }

    /// The class labels, in index order (empty for regressors and clustering).
    pub fn classes(&self) -> &[String] {
        &self.manifest.classes
    }

    /// The feature names from the training header, if it had one.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.manifest.feature_names.as_deref()
    }

    /// Predicts row-major rows; class labels come back as their original text.
    pub fn predict_rows(&self, x: &[f64]) -> Result<Vec<String>> {
        let n = self.manifest.n_features;
        if n == 0 || !x.len().is_multiple_of(n) {
            return Err(Error::new(
                ErrorKind::Data,
                format!("{} values do not make whole rows of {n} features", x.len()),
            ));
        }
        let p = self
            .fitted
            .predict(x, n)
            .map_err(|e| Error::new(ErrorKind::ModelError, e))?;
        Ok(match p {
            Predictions::Classes(c) if !self.manifest.classes.is_empty() => c
                .into_iter()
                .map(|i| {
                    self.manifest
                        .classes
                        .get(i as usize)
                        .cloned()
                        .unwrap_or_else(|| i.to_string())
                })
                .collect(),
            Predictions::Classes(c) => c.into_iter().map(|i| i.to_string()).collect(),
            Predictions::Values(v) => v.into_iter().map(|f| f.to_string()).collect(),
        })
    }

    /// Predictions of row-major rows as CSV, one per line, written without a string per row.
    fn predict_csv(&self, x: &[f64]) -> Result<Vec<u8>> {
        let n = self.manifest.n_features;
        let p = self
            .fitted
            .predict(x, n)
            .map_err(|e| Error::new(ErrorKind::ModelError, e))?;
        let mut out = Vec::with_capacity(x.len() / n.max(1) * 12);
        match p {
            Predictions::Classes(c) => {
                for i in c {
                    match self.manifest.classes.get(i as usize) {
                        Some(label) => out.extend_from_slice(label.as_bytes()),
                        None => out.extend_from_slice(i.to_string().as_bytes()),
                    }
                    out.push(b'\n');
                }
            }
            Predictions::Values(v) => {
                use std::io::Write as _;
                for f in v {
                    let _ = writeln!(out, "{f}");
                }
            }
        }
        Ok(out)
    }

    /// Class probabilities of row-major rows, one row of `classes().len()` values per input
    /// row, for algorithms that estimate them (`LogisticRegression`).
    pub fn predict_proba_rows(&self, x: &[f64]) -> Result<Vec<Vec<f64>>> {
        let n = self.manifest.n_features;
        if n == 0 || !x.len().is_multiple_of(n) {
            return Err(Error::new(
                ErrorKind::Data,
                format!("{} values do not make whole rows of {n} features", x.len()),
            ));
        }
        let (p, k) = self.fitted.predict_proba(x, n).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{} does not estimate class probabilities",
                    self.manifest.algorithm
                ),
            )
        })?;
        Ok(p.chunks(k).map(<[f64]>::to_vec).collect())
    }

    /// Decodes CSV rows: `memchr` to find lines and commas and `fast-float2` for numbers,
    /// without allocating per row (the batch-transform hot path). Quoted lines take the
    /// general splitter.
    fn decode_csv(&self, body: &[u8]) -> std::result::Result<Vec<f64>, InvocationError> {
        let n = self.manifest.n_features;
        let mut x = Vec::with_capacity(body.len() / 8);
        let mut rows = 0;
        let mut start = 0;
        let mut line_no = 0;
        while start < body.len() {
            let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i);
            let mut line = &body[start..end];
            start = end + 1;
            line_no += 1;
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            rows += 1;
            let before = x.len();
            if memchr::memchr(b'"', line).is_some() {
                let text = std::str::from_utf8(line).map_err(|_| {
                    InvocationError::new(400, format!("row {line_no}: not UTF-8 text"))
                })?;
                for (col, f) in data::split_fields(text).iter().enumerate() {
                    x.push(parse_field(f.as_bytes(), line_no, col)?);
                }
            } else {
                let mut field_start = 0;
                let ends = memchr::memchr_iter(b',', line).chain(std::iter::once(line.len()));
                for (col, comma) in ends.enumerate() {
                    x.push(parse_field(&line[field_start..comma], line_no, col)?);
                    field_start = comma + 1;
                }
            }
            let got = x.len() - before;
            if got != n {
                return Err(InvocationError::new(
                    400,
                    format!("row {line_no}: {got} values, the model expects {n} features"),
                ));
            }
        }
        if rows == 0 {
            return Err(InvocationError::new(400, "the body holds no rows"));
        }
        Ok(x)
    }

    /// Decodes JSON Lines: one row (a list of numbers) per line.
    fn decode_json_lines(&self, body: &[u8]) -> std::result::Result<Vec<f64>, InvocationError> {
        let mut x = Vec::new();
        for (no, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let mut row = self.decode_json(line).map_err(|e| {
                InvocationError::new(e.status, format!("line {}: {}", no + 1, e.message))
            })?;
            x.append(&mut row);
        }
        if x.is_empty() {
            return Err(InvocationError::new(400, "the body holds no rows"));
        }
        Ok(x)
    }

    fn decode_npy(&self, body: &[u8]) -> std::result::Result<Vec<f64>, InvocationError> {
        let array = NumpyDeserializer::new()
            .deserialize(body, Some("application/x-npy"))
            .map_err(|e| InvocationError::new(400, format!("invalid NPY: {}", e.message())))?;
        let n = self.manifest.n_features;
        let rows_ok = match array.shape.as_slice() {
            [cols] => *cols == n,
            [_, cols] => *cols == n,
            _ => false,
        };
        if !rows_ok {
            return Err(InvocationError::new(
                400,
                format!(
                    "NPY shape {:?}: the model expects rows of {n} features",
                    array.shape
                ),
            ));
        }
        let values = match array.data {
            NpyData::F64(v) => v,
            NpyData::I64(v) => v.into_iter().map(|i| i as f64).collect(),
            _ => return Err(InvocationError::new(400, "NPY data must be numbers")),
        };
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(InvocationError::new(
                400,
                format!(
                    "row {}, column {}: the value is not a finite number",
                    i / n + 1,
                    i % n + 1
                ),
            ));
        }
        if values.is_empty() {
            return Err(InvocationError::new(400, "the body holds no rows"));
        }
        Ok(values)
    }

    fn decode_json(&self, body: &[u8]) -> std::result::Result<Vec<f64>, InvocationError> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| InvocationError::new(400, format!("invalid JSON: {e}")))?;
        let v = match v {
            Value::Object(mut m) if m.contains_key("instances") => {
                m.remove("instances").unwrap_or(Value::Null)
            }
            v => v,
        };
        let rows: Vec<Value> = match v {
            Value::Array(items) if items.iter().all(Value::is_number) => vec![Value::Array(items)],
            Value::Array(items) => items,
            _ => {
                return Err(InvocationError::new(
                    400,
                    "expected a list of rows, a single row, or {\"instances\": [...]}",
                ));
            }
        };
        let n = self.manifest.n_features;
        let mut x = Vec::with_capacity(rows.len() * n);
        for (r, row) in rows.iter().enumerate() {
            let values = row
                .as_array()
                .ok_or_else(|| InvocationError::new(400, format!("row {}: not a list", r + 1)))?;
            if values.len() != n {
                return Err(InvocationError::new(
                    400,
                    format!(
                        "row {}: {} values, the model expects {n} features",
                        r + 1,
                        values.len()
                    ),
                ));
            }
            for (c, v) in values.iter().enumerate() {
                x.push(v.as_f64().filter(|f| f.is_finite()).ok_or_else(|| {
                    InvocationError::new(
                        400,
                        format!(
                            "row {}, column {}: {v} is not a finite number",
                            r + 1,
                            c + 1
                        ),
                    )
                })?);
            }
        }
        if x.is_empty() {
            return Err(InvocationError::new(400, "the body holds no rows"));
        }
        Ok(x)
    }
}

/// Parses one CSV field as a finite number, with an error naming its row and column.
fn parse_field(field: &[u8], row: usize, col: usize) -> std::result::Result<f64, InvocationError> {
    let trimmed = field.trim_ascii();
    let why = match fast_float2::parse::<f64, _>(trimmed) {
        Ok(v) if v.is_finite() => return Ok(v),
        Ok(_) => "is not a finite number",
        Err(_) if trimmed.is_empty() => "is empty",
        Err(_) => "is not a number",
    };
    Err(InvocationError::new(
        400,
        format!(
            "row {row}, column {}: value '{}' {why}",
            col + 1,
            String::from_utf8_lossy(trimmed)
        ),
    ))
}

impl Handler for SklearnModel {
    fn execution_parameters(&self) -> Option<ExecutionParameters> {
        // What the container proposes for batch transform when the job leaves it unset: one
        // invocation per core, as SageMaker's containers size their workers.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        Some(ExecutionParameters::new(
            Some(cores),
            Some(6),
            Some(BatchStrategy::MultiRecord),
        ))
    }

    fn invoke(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError> {
        let content_type = request
            .content_type
            .as_deref()
            .unwrap_or("application/json")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        let x = match content_type {
            "text/csv" => self.decode_csv(&request.body)?,
            "application/json" => self.decode_json(&request.body)?,
            "application/x-npy" => self.decode_npy(&request.body)?,
            "application/jsonlines" => self.decode_json_lines(&request.body)?,
            other => {
                return Err(InvocationError::new(
                    415,
                    format!(
                        "content type '{other}' is not supported; use text/csv, application/json or application/x-npy"
                    ),
                ));
            }
        };
        let accept = request.accept.as_deref().unwrap_or("application/json");
        let accept = accept
            .split(',')
            .next()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        if accept == "text/csv" {
            // The batch-transform hot path: write labels straight into the answer.
            let out = self
                .predict_csv(&x)
                .map_err(|e| InvocationError::new(500, e.message().to_string()))?;
            return Ok(InvocationResponse::new(out, "text/csv"));
        }
        let predictions = self
            .predict_rows(&x)
            .map_err(|e| InvocationError::new(500, e.message().to_string()))?;
        match accept {
            "application/json" | "*/*" | "" => {
                let numeric = self.manifest.task == Task::Regression
                    || self.manifest.task == Task::Clustering
                    || self.manifest.numeric_classes;
                let values: Vec<Value> = predictions
                    .into_iter()
                    .map(|p| match (numeric, p.parse::<f64>()) {
                        (true, Ok(f)) => serde_json::Number::from_f64(f)
                            .map(Value::Number)
                            .unwrap_or(Value::String(p)),
                        _ => Value::String(p),
                    })
                    .collect();
                Ok(InvocationResponse::new(
                    Value::Array(values).to_string(),
                    "application/json",
                ))
            }
            "application/x-npy" => {
                let body = if self.manifest.task == Task::Classification
                    && !self.manifest.numeric_classes
                {
                    write_npy_strings(&predictions)
                } else {
                    let values: Vec<f64> = predictions
                        .iter()
                        .map(|p| p.parse().unwrap_or(f64::NAN))
                        .collect();
                    write_npy_f64(&[values.len()], &values)
                };
                Ok(InvocationResponse::new(body, "application/x-npy"))
            }
            other => Err(InvocationError::new(
                406,
                format!(
                    "Accept '{other}' is not supported; use application/json, text/csv or application/x-npy"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_order_is_numpys() {
        let c = ClassIndex::from_labels(&["10".into(), "9".into(), "9.0".into()]);
        assert_eq!(c.labels, vec!["9", "10"]);
        assert_eq!(c.index_of("9.0"), Some(0));
        let c = ClassIndex::from_labels(&["virginica".into(), "setosa".into()]);
        assert_eq!(c.labels, vec!["setosa", "virginica"]);
        assert_eq!(c.index_of("versicolor"), None);
    }

    #[test]
    fn f1_matches_sklearn() {
        // sklearn.metrics.f1_score([0,0,1,1,2], [0,1,1,1,0], average="macro") (scikit-learn 1.9)
        let truth = [Some(0), Some(0), Some(1), Some(1), Some(2)];
        let f1 = macro_f1(&truth, &[0, 1, 1, 1, 0]);
        assert!((f1 - 0.433_333_333_333_333_35).abs() < 1e-12, "{f1}");
        // A label unseen in training (3, here None) still counts: f1_score([0,0,1,3], [0,1,1,1]).
        let f1 = macro_f1(&[Some(0), Some(0), Some(1), None], &[0, 1, 1, 1]);
        assert!((f1 - 0.388_888_888_888_888_84).abs() < 1e-12, "{f1}");
    }

    #[test]
    fn r2_and_mse() {
        let (r2, mse) = regression_metrics(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
        assert!((r2 - 0.5).abs() < 1e-12);
        assert!((mse - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn inertia_of_two_clusters() {
        let x = [0.0, 0.0, 2.0, 0.0, 10.0, 10.0];
        assert_eq!(inertia(&x, 2, &[0, 0, 1]), 2.0);
    }
}
