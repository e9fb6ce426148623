//! The portable artifact: `sklearn_model.json`, a versioned JSON document that mirrors the
//! fitted attributes of the scikit-learn estimator (`coef_`, `theta_`, `tree_`, …), written
//! beside the model by the in-process container and by the bundled Python entry point (from
//! the fitted scikit-learn estimator, beside `model.joblib`). The Rust container serves an
//! AWS-trained `model.tar.gz` from it without unpickling anything. The format is documented
//! in `docs/artifacts.md`; this module is its reader, writer and predictor.

use std::path::Path;

use sagemaker_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Fitted, Manifest, Predictions};
use crate::neighbors::{KnnModel, KnnTarget, Metric, Weights};
use crate::params::{Algorithm, Task};

/// The portable document's file name inside the model directory.
pub(crate) const PORTABLE_FILE: &str = "sklearn_model.json";
/// The `format` field of every portable document.
pub(crate) const PORTABLE_FORMAT: &str = "sagemaker-sklearn-portable";
/// The version this SDK writes and reads.
pub(crate) const PORTABLE_VERSION: u32 = 1;
/// The largest portable document read (a k-NN model holds its training rows).
const MAX_PORTABLE_BYTES: u64 = 4 << 30;

/// The portable document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PortableDoc {
    pub(crate) format: String,
    pub(crate) format_version: u32,
    pub(crate) algorithm: Algorithm,
    /// Who wrote it: `scikit-learn 1.4.2` or `sagemaker-sklearn 0.1.0`.
    pub(crate) producer: String,
    pub(crate) n_features_in_: usize,
    /// The class labels in index order (numbers or strings); empty for regressors.
    #[serde(default)]
    pub(crate) classes_: Vec<Value>,
    /// The estimator's fitted attributes.
    pub(crate) estimator: PortableEstimator,
}

/// One decision tree in scikit-learn's `tree_` layout: node `i`'s children are
/// `children_left[i]`/`children_right[i]` (`-1` at a leaf), a row goes left when
/// `float32(x[feature[i]]) <= threshold[i]`, and `value[i]` holds class fractions
/// (classifiers) or the mean target (regressors, one value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PortableTree {
    pub(crate) children_left: Vec<i64>,
    pub(crate) children_right: Vec<i64>,
    pub(crate) feature: Vec<i64>,
    pub(crate) threshold: Vec<f64>,
    pub(crate) value: Vec<Vec<f64>>,
    pub(crate) n_node_samples: Vec<i64>,
}

/// The fitted attributes of each estimator family, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum PortableEstimator {
    /// `LinearRegression`, `Ridge`, `Lasso`, `ElasticNet`.
    Linear { coef_: Vec<f64>, intercept_: f64 },
    /// `LogisticRegression`: one row per class (one row for two classes).
    Logistic {
        coef_: Vec<Vec<f64>>,
        intercept_: Vec<f64>,
    },
    /// `GaussianNB`.
    GaussianNb {
        theta_: Vec<Vec<f64>>,
        var_: Vec<Vec<f64>>,
        class_prior_: Vec<f64>,
    },
    /// `KNeighborsClassifier/Regressor`: the training rows, their targets (class indices
    /// for a classifier) and the search parameters.
    Neighbors {
        #[serde(rename = "_fit_X")]
        fit_x: Vec<Vec<f64>>,
        #[serde(rename = "_y")]
        y: Vec<f64>,
        n_neighbors: usize,
        weights: String,
        metric: String,
        p: f64,
    },
    /// `KMeans`.
    KMeans { cluster_centers_: Vec<Vec<f64>> },
    /// `DecisionTreeClassifier/Regressor`.
    Tree { tree_: PortableTree },
    /// `RandomForestClassifier/Regressor`: the trees' `tree_`s.
    Forest { estimators_: Vec<PortableTree> },
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Serialization, format!("{PORTABLE_FILE}: {what}"))
}

fn rows(x: &[f64], d: usize) -> Vec<Vec<f64>> {
    x.chunks_exact(d.max(1)).map(<[f64]>::to_vec).collect()
}

/// A field of a model serialised by serde (for models whose fields are private to their
/// solver module: the export then needs no access to the solver's internals).
fn field<T: serde::de::DeserializeOwned>(v: &Value, name: &str) -> Option<T> {
    serde_json::from_value(v.get(name)?.clone()).ok()
}

/// The portable attributes of a fitted model, when its family has an export.
pub(crate) fn export(fitted: &Fitted, manifest: &Manifest) -> Option<PortableDoc> {
    let d = manifest.n_features;
    let estimator = match fitted {
        Fitted::Linear(m) | Fitted::Ridge(m) | Fitted::Lasso(m) | Fitted::ElasticNet(m) => {
            PortableEstimator::Linear {
                coef_: m.coef.clone(),
                intercept_: m.intercept,
            }
        }
        Fitted::Logistic(m) => {
            let v = serde_json::to_value(m).ok()?;
            let coef: Vec<f64> = field(&v, "coef")?;
            PortableEstimator::Logistic {
                coef_: rows(&coef, d),
                intercept_: field(&v, "intercept")?,
            }
        }
        Fitted::GaussianNb(m) => PortableEstimator::GaussianNb {
            theta_: rows(&m.theta, d),
            var_: rows(&m.var, d),
            class_prior_: m.class_prior.clone(),
        },
        Fitted::KnnClassifier(m) | Fitted::KnnRegressor(m) => {
            let (metric, p) = match m.metric {
                Metric::Euclidean => ("euclidean", 2.0),
                Metric::Manhattan => ("manhattan", 1.0),
                Metric::Minkowski { p } => ("minkowski", p),
            };
            PortableEstimator::Neighbors {
                fit_x: rows(&m.x, d),
                y: match &m.target {
                    KnnTarget::Classes { y, .. } => y.iter().map(|&c| f64::from(c)).collect(),
                    KnnTarget::Values(v) => v.clone(),
                },
                n_neighbors: m.n_neighbors,
                weights: match m.weights {
                    Weights::Uniform => "uniform",
                    Weights::Distance => "distance",
                }
                .into(),
                metric: metric.into(),
                p,
            }
        }
        Fitted::KMeans(m) => PortableEstimator::KMeans {
            cluster_centers_: field(&serde_json::to_value(m).ok()?, "centroids")?,
        },
        Fitted::Portable(m) => return Some(m.doc.clone()),
        _ => return None,
    };
    let classes_ = if manifest.numeric_classes {
        manifest
            .classes
            .iter()
            .map(|c| {
                crate::data::parse_number(c)
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::String(c.clone()), Value::Number)
            })
            .collect()
    } else {
        manifest
            .classes
            .iter()
            .cloned()
            .map(Value::String)
            .collect()
    };
    Some(PortableDoc {
        format: PORTABLE_FORMAT.into(),
        format_version: PORTABLE_VERSION,
        algorithm: manifest.algorithm,
        producer: format!("sagemaker-sklearn {}", sagemaker_core::SDK_VERSION),
        n_features_in_: d,
        classes_,
        estimator,
    })
}

/// Writes `doc` into `model_dir` through a temporary file renamed into place, so a reader
/// never sees half a document.
pub(crate) fn write(model_dir: &Path, doc: &PortableDoc) -> Result<()> {
    let path = model_dir.join(PORTABLE_FILE);
    let tmp = model_dir.join(format!(".{PORTABLE_FILE}.tmp"));
    let bytes = serde_json::to_vec(doc).map_err(bad)?;
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
}

/// Reads and checks the portable document of `model_dir`.
pub(crate) fn read(model_dir: &Path) -> Result<PortableDoc> {
    let path = model_dir.join(PORTABLE_FILE);
    let len = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .len();
    if len > MAX_PORTABLE_BYTES {
        return Err(bad(format!(
            "{len} bytes is above the limit of {MAX_PORTABLE_BYTES}"
        )));
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let doc: PortableDoc = serde_json::from_slice(&bytes).map_err(bad)?;
    if doc.format != PORTABLE_FORMAT {
        return Err(bad(format!(
            "format '{}' is not '{PORTABLE_FORMAT}'",
            doc.format
        )));
    }
    if doc.format_version != PORTABLE_VERSION {
        return Err(bad(format!(
            "format version {} is not supported (this SDK reads version {PORTABLE_VERSION}); retrain the model or upgrade the SDK",
            doc.format_version
        )));
    }
    PortableModel::check(&doc)?;
    Ok(doc)
}

/// The manifest the bundled Python entry point writes beside `model.joblib`.
pub(crate) const PYTHON_MANIFEST_FILE: &str = "builtin_manifest.json";
/// The pickle the Python entry point writes (never read here).
const PYTHON_MODEL_FILE: &str = "model.joblib";
/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Loads an artifact written by the bundled Python entry point (a model trained by real
/// scikit-learn, e.g. on AWS): its manifest and its portable document.
pub(crate) fn load_python_artifact(model_dir: &Path) -> Result<crate::SklearnModel> {
    let manifest_path = model_dir.join(PYTHON_MANIFEST_FILE);
    if !manifest_path.exists() {
        return Err(Error::new(
            ErrorKind::Serialization,
            format!(
                "{}: neither {} nor {PYTHON_MANIFEST_FILE} is here; this is not a scikit-learn built-in artifact",
                model_dir.display(),
                crate::model::MANIFEST_FILE
            ),
        ));
    }
    if !model_dir.join(PORTABLE_FILE).exists() {
        let pickle = if model_dir.join(PYTHON_MODEL_FILE).exists() {
            format!(" (only {PYTHON_MODEL_FILE}, which the Rust container never unpickles)")
        } else {
            String::new()
        };
        return Err(Error::new(
            ErrorKind::Serialization,
            format!(
                "{}: the artifact has no {PORTABLE_FILE}{pickle}; it was written by an older entry point: retrain the model with this SDK's entry point",
                model_dir.display()
            ),
        ));
    }
    let len = std::fs::metadata(&manifest_path)
        .map_err(|e| Error::io(&manifest_path, e))?
        .len();
    if len > MAX_MANIFEST_BYTES {
        return Err(bad(format!("{PYTHON_MANIFEST_FILE} is {len} bytes")));
    }
    let bytes = std::fs::read(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::Serialization,
            format!("{PYTHON_MANIFEST_FILE}: not a scikit-learn built-in manifest: {e}"),
        )
    })?;
    let doc = read(model_dir)?;
    if doc.algorithm != manifest.algorithm || doc.n_features_in_ != manifest.n_features {
        return Err(bad(format!(
            "the document ({}, {} features) does not match {PYTHON_MANIFEST_FILE} ({}, {} features)",
            doc.algorithm, doc.n_features_in_, manifest.algorithm, manifest.n_features
        )));
    }
    if doc.classes_.len() != manifest.classes.len() {
        return Err(bad(format!(
            "{} classes_ but {PYTHON_MANIFEST_FILE} lists {}",
            doc.classes_.len(),
            manifest.classes.len()
        )));
    }
    Ok(crate::SklearnModel {
        manifest,
        fitted: Fitted::Portable(Box::new(PortableModel::new(doc)?)),
    })
}

/// A model served from its portable document (an AWS-trained artifact).
#[derive(Debug)]
pub(crate) struct PortableModel {
    pub(crate) doc: PortableDoc,
    /// The k-NN search, rebuilt from the stored training rows.
    knn: Option<KnnModel>,
}

impl PortableModel {
    /// The model of a checked document.
    pub(crate) fn new(doc: PortableDoc) -> Result<PortableModel> {
        Self::check(&doc)?;
        let knn = match &doc.estimator {
            PortableEstimator::Neighbors {
                fit_x,
                y,
                n_neighbors,
                weights,
                metric,
                p,
            } => {
                let x: Vec<f64> = fit_x.iter().flatten().copied().collect();
                let target = if doc.algorithm.task() == Task::Classification {
                    KnnTarget::Classes {
                        y: y.iter().map(|&c| c as u32).collect(),
                        n_classes: doc.classes_.len(),
                    }
                } else {
                    KnnTarget::Values(y.clone())
                };
                let w = if weights == "distance" {
                    Weights::Distance
                } else {
                    Weights::Uniform
                };
                Some(
                    KnnModel::fit(
                        &x,
                        doc.n_features_in_,
                        target,
                        *n_neighbors,
                        w,
                        Metric::from_params(metric, *p),
                    )
                    .map_err(bad)?,
                )
            }
            _ => None,
        };
        Ok(PortableModel { doc, knn })
    }

    /// Shapes and indices consistent with `n_features_in_` and `classes_`, and every tree's
    /// children after their parent (so a walk always ends).
    fn check(doc: &PortableDoc) -> Result<()> {
        let d = doc.n_features_in_;
        let k = doc.classes_.len();
        let classifier = doc.algorithm.task() == Task::Classification;
        if d == 0 {
            return Err(bad("n_features_in_ is 0"));
        }
        if classifier && k < 2 {
            return Err(bad("a classifier needs at least two classes_"));
        }
        let widths_ok =
            |m: &[Vec<f64>], rows: usize| m.len() == rows && m.iter().all(|r| r.len() == d);
        let ok = match &doc.estimator {
            PortableEstimator::Linear { coef_, .. } => coef_.len() == d,
            PortableEstimator::Logistic { coef_, intercept_ } => {
                let r = if k == 2 { 1 } else { k };
                widths_ok(coef_, r) && intercept_.len() == r
            }
            PortableEstimator::GaussianNb {
                theta_,
                var_,
                class_prior_,
            } => {
                widths_ok(theta_, k)
                    && widths_ok(var_, k)
                    && class_prior_.len() == k
                    && var_.iter().flatten().all(|v| *v > 0.0)
            }
            PortableEstimator::Neighbors {
                fit_x,
                y,
                n_neighbors,
                ..
            } => {
                widths_ok(fit_x, y.len())
                    && *n_neighbors >= 1
                    && *n_neighbors <= y.len()
                    && (!classifier || y.iter().all(|c| *c >= 0.0 && (*c as usize) < k))
            }
            PortableEstimator::KMeans { cluster_centers_ } => {
                !cluster_centers_.is_empty() && widths_ok(cluster_centers_, cluster_centers_.len())
            }
            PortableEstimator::Tree { tree_ } => tree_ok(tree_, d, classifier.then_some(k)),
            PortableEstimator::Forest { estimators_ } => {
                !estimators_.is_empty()
                    && estimators_
                        .iter()
                        .all(|t| tree_ok(t, d, classifier.then_some(k)))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(bad(format!(
                "the {} attributes do not fit {d} features and {k} classes",
                doc.algorithm
            )))
        }
    }

    /// Predictions of row-major rows (`n_features_in_` per row).
    pub(crate) fn predict(&self, x: &[f64]) -> Predictions {
        let d = self.doc.n_features_in_;
        let classifier = self.doc.algorithm.task() == Task::Classification;
        match &self.doc.estimator {
            PortableEstimator::Linear { coef_, intercept_ } => Predictions::Values(
                x.chunks_exact(d)
                    .map(|r| dot(r, coef_) + intercept_)
                    .collect(),
            ),
            PortableEstimator::KMeans { cluster_centers_ } => {
                Predictions::Classes(
                    x.chunks_exact(d)
                        .map(|r| {
                            argmax(cluster_centers_.iter().map(|c| {
                                -c.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
                            }))
                        })
                        .collect(),
                )
            }
            PortableEstimator::Neighbors { .. } => {
                let knn = self.knn.as_ref().expect("built with the document");
                match knn.predict_classes(x) {
                    Some(c) => Predictions::Classes(c),
                    None => Predictions::Values(knn.predict_values(x).unwrap_or_default()),
                }
            }
            PortableEstimator::Tree { tree_ } if !classifier => {
                Predictions::Values(x.chunks_exact(d).map(|r| leaf(tree_, r)[0]).collect())
            }
            PortableEstimator::Forest { estimators_ } if !classifier => Predictions::Values(
                x.chunks_exact(d)
                    .map(|r| {
                        estimators_.iter().map(|t| leaf(t, r)[0]).sum::<f64>()
                            / estimators_.len() as f64
                    })
                    .collect(),
            ),
            _ => {
                let (p, k) = self.scores(x);
                Predictions::Classes(
                    p.chunks_exact(k)
                        .map(|s| argmax(s.iter().copied()))
                        .collect(),
                )
            }
        }
    }

    /// Per-class scores whose argmax is the prediction (classifiers), `rows × classes`.
    fn scores(&self, x: &[f64]) -> (Vec<f64>, usize) {
        let d = self.doc.n_features_in_;
        let k = self.doc.classes_.len();
        let mut out = Vec::with_capacity(x.len() / d * k);
        for r in x.chunks_exact(d) {
            match &self.doc.estimator {
                PortableEstimator::Logistic { coef_, intercept_ } if k == 2 => {
                    let z = dot(r, &coef_[0]) + intercept_[0];
                    out.extend([-z, z]);
                }
                PortableEstimator::Logistic { coef_, intercept_ } => {
                    out.extend(coef_.iter().zip(intercept_).map(|(w, b)| dot(r, w) + b));
                }
                PortableEstimator::GaussianNb {
                    theta_,
                    var_,
                    class_prior_,
                } => out.extend((0..k).map(|c| {
                    class_prior_[c].ln()
                        - 0.5
                            * var_[c]
                                .iter()
                                .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                                .sum::<f64>()
                        - 0.5
                            * r.iter()
                                .zip(&theta_[c])
                                .zip(&var_[c])
                                .map(|((x, m), v)| (x - m) * (x - m) / v)
                                .sum::<f64>()
                })),
                PortableEstimator::Tree { tree_ } => out.extend_from_slice(leaf(tree_, r)),
                PortableEstimator::Forest { estimators_ } => {
                    let start = out.len();
                    out.resize(start + k, 0.0);
                    for t in estimators_ {
                        for (o, v) in out[start..].iter_mut().zip(leaf(t, r)) {
                            *o += v / estimators_.len() as f64;
                        }
                    }
                }
                _ => out.extend(std::iter::repeat_n(0.0, k)),
            }
        }
        (out, k)
    }

    /// Class probabilities for the families scikit-learn computes them from these
    /// attributes without further state (k-NN, trees and forests); `None` otherwise.
    pub(crate) fn predict_proba(&self, x: &[f64]) -> Option<(Vec<f64>, usize)> {
        match &self.doc.estimator {
            PortableEstimator::Neighbors { .. } => self.knn.as_ref()?.predict_proba(x),
            PortableEstimator::Tree { .. } | PortableEstimator::Forest { .. }
                if self.doc.algorithm.task() == Task::Classification =>
            {
                Some(self.scores(x))
            }
            _ => None,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The index of the largest value, the first one on a tie (numpy's `argmax`).
fn argmax(values: impl Iterator<Item = f64>) -> u32 {
    let mut best = (0u32, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i as u32, v);
        }
    }
    best.0
}

fn tree_ok(t: &PortableTree, d: usize, classes: Option<usize>) -> bool {
    let n = t.children_left.len();
    let width = classes.unwrap_or(1);
    n > 0
        && [
            t.children_right.len(),
            t.feature.len(),
            t.threshold.len(),
            t.value.len(),
            t.n_node_samples.len(),
        ]
        .iter()
        .all(|&l| l == n)
        && t.value.iter().all(|v| v.len() == width)
        && (0..n).all(|i| {
            let (l, r) = (t.children_left[i], t.children_right[i]);
            (l == -1 && r == -1)
                || (l > i as i64
                    && r > i as i64
                    && (l as usize) < n
                    && (r as usize) < n
                    && t.feature[i] >= 0
                    && (t.feature[i] as usize) < d)
        })
}

/// The `value` row of the leaf `row` falls into. scikit-learn compares the row's value as
/// float32 with the (float64) threshold.
fn leaf<'t>(t: &'t PortableTree, row: &[f64]) -> &'t [f64] {
    let mut i = 0usize;
    while t.children_left[i] >= 0 {
        let x = f64::from(row[t.feature[i] as usize] as f32);
        i = if x <= t.threshold[i] {
            t.children_left[i] as usize
        } else {
            t.children_right[i] as usize
        };
    }
    &t.value[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(algorithm: Algorithm, classes: usize, estimator: PortableEstimator) -> PortableDoc {
        PortableDoc {
            format: PORTABLE_FORMAT.into(),
            format_version: PORTABLE_VERSION,
            algorithm,
            producer: "test".into(),
            n_features_in_: 2,
            classes_: (0..classes).map(|c| Value::from(c as u64)).collect(),
            estimator,
        }
    }

    fn stump() -> PortableTree {
        PortableTree {
            children_left: vec![1, -1, -1],
            children_right: vec![2, -1, -1],
            feature: vec![1, -2, -2],
            threshold: vec![0.5, -2.0, -2.0],
            value: vec![vec![0.5, 0.5], vec![0.9, 0.1], vec![0.2, 0.8]],
            n_node_samples: vec![10, 5, 5],
        }
    }

    #[test]
    fn trees_walk_with_float32_comparisons() {
        let m = PortableModel::new(doc(
            Algorithm::DecisionTreeClassifier,
            2,
            PortableEstimator::Tree { tree_: stump() },
        ))
        .unwrap();
        // 0.50000001 rounds to 0.5 as float32: left, as in scikit-learn.
        assert_eq!(
            m.predict(&[0.0, 0.500_000_01, 0.0, 0.51]),
            Predictions::Classes(vec![0, 1])
        );
        let (p, _) = m.predict_proba(&[0.0, 0.9]).unwrap();
        assert_eq!(p, vec![0.2, 0.8]);
    }

    #[test]
    fn malformed_documents_are_refused() {
        let mut t = stump();
        t.children_left[0] = 0; // a cycle
        let e = PortableModel::new(doc(
            Algorithm::DecisionTreeClassifier,
            2,
            PortableEstimator::Tree { tree_: t },
        ))
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization);
        let e = PortableModel::new(doc(
            Algorithm::Ridge,
            0,
            PortableEstimator::Linear {
                coef_: vec![1.0],
                intercept_: 0.0,
            },
        ))
        .unwrap_err();
        assert!(e.message().contains("do not fit 2 features"), "{e}");
    }

    #[test]
    fn a_round_trip_through_disk_keeps_predictions() {
        let dir = tempfile::tempdir().unwrap();
        let d = doc(
            Algorithm::LogisticRegression,
            2,
            PortableEstimator::Logistic {
                coef_: vec![vec![1.0, -1.0]],
                intercept_: vec![0.25],
            },
        );
        write(dir.path(), &d).unwrap();
        let back = read(dir.path()).unwrap();
        assert_eq!(back, d);
        let m = PortableModel::new(back).unwrap();
        assert_eq!(
            m.predict(&[1.0, 1.0, 0.0, 1.0]),
            Predictions::Classes(vec![1, 0])
        );
        let mut v2 = d.clone();
        v2.format_version = 2;
        write(dir.path(), &v2).unwrap();
        let e = read(dir.path()).unwrap_err();
        assert!(e.message().contains("retrain"), "{e}");
    }
}
