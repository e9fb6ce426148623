//! Fitting and predicting: the built-in algorithms over smartcore (and our own logistic
//! regression solver), plus the artifact format.

use serde::{Deserialize, Serialize};
use smartcore::algorithm::neighbour::KNNAlgorithmName;
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::elastic_net::{ElasticNet, ElasticNetParameters};
use smartcore::linear::lasso::{Lasso, LassoParameters};
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::linear::ridge_regression::{RidgeRegression, RidgeRegressionParameters};
use smartcore::metrics::distance::euclidian::Euclidian;
use smartcore::naive_bayes::gaussian::{GaussianNB, GaussianNBParameters};
use smartcore::neighbors::KNNWeightFunction;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};
use smartcore::neighbors::knn_regressor::{KNNRegressor, KNNRegressorParameters};

use crate::cancel::Cancel;
use crate::logistic::{LogisticModel, LogisticParams};
use crate::params::{Algorithm, Params, Task};
use crate::trees::{self, TreeModel};

type M = DenseMatrix<f64>;

/// A fitted model of any built-in algorithm.
#[derive(Debug, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Fitted {
    Logistic(LogisticModel),
    Linear(LinearRegression<f64, f64, M, Vec<f64>>),
    Ridge(RidgeRegression<f64, f64, M, Vec<f64>>),
    Lasso(Lasso<f64, f64, M, Vec<f64>>),
    ElasticNet(ElasticNet<f64, f64, M, Vec<f64>>),
    TreeClassifier(TreeModel),
    TreeRegressor(TreeModel),
    ForestClassifier(TreeModel),
    ForestRegressor(TreeModel),
    KnnClassifier(KNNClassifier<f64, u32, M, Vec<u32>, Euclidian<f64>>),
    KnnRegressor(KNNRegressor<f64, f64, M, Vec<f64>, Euclidian<f64>>),
    GaussianNb(GaussianNB<f64, u32, M, Vec<u32>>),
    KMeans(KMeans<f64, u32, M, Vec<u32>>),
}

/// What a model predicts for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predictions {
    /// Class (or cluster) indices.
    Classes(Vec<u32>),
    /// Numbers.
    Values(Vec<f64>),
}

/// The labels a fit sees.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Labels {
    Classes(Vec<u32>),
    Values(Vec<f64>),
    None,
}

fn matrix(x: &[f64], n_features: usize) -> Result<M, String> {
    let rows = x.len() / n_features.max(1);
    DenseMatrix::new(rows, n_features, x.to_vec(), false).map_err(|e| e.to_string())
}

/// A seed for `random_state`: the given one, or (None, as scikit-learn) a fresh one.
fn seed(params: &Params) -> u64 {
    params
        .opt_usize("random_state")
        .map(|s| s as u64)
        .unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            (t as u64) ^ u64::from(std::process::id()).rotate_left(32)
        })
}

fn knn_algorithm(params: &Params) -> KNNAlgorithmName {
    match params.str("algorithm") {
        Some("kd_tree") | Some("ball_tree") => KNNAlgorithmName::CoverTree,
        _ => KNNAlgorithmName::LinearSearch,
    }
}

fn knn_weight(params: &Params) -> KNNWeightFunction {
    match params.str("weights") {
        Some("distance") => KNNWeightFunction::Distance,
        _ => KNNWeightFunction::Uniform,
    }
}

/// Whether `algorithm`'s fit polls the cancellation flag (our own learners do; smartcore's
/// cannot be interrupted).
pub(crate) fn cancellable(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::LogisticRegression
            | Algorithm::DecisionTreeClassifier
            | Algorithm::DecisionTreeRegressor
            | Algorithm::RandomForestClassifier
            | Algorithm::RandomForestRegressor
    )
}

/// Fits `algorithm` on row-major `x` with `labels`. `n_classes` is the number of classes for
/// classifiers. Errors are messages for a `ClientError`/`AlgorithmError`; our own learners
/// poll `cancel` (smartcore's cannot) and end with [`crate::cancel::STOPPED`].
pub(crate) fn fit(
    algorithm: Algorithm,
    params: &Params,
    x: &[f64],
    n_features: usize,
    labels: &Labels,
    n_classes: usize,
    cancel: &Cancel<'_>,
) -> Result<Fitted, String> {
    let fail = |e: smartcore::error::Failed| format!("{algorithm} failed to fit: {e}");
    let classes = || match labels {
        Labels::Classes(c) => Ok(c.clone()),
        _ => Err(format!("{algorithm} needs class labels")),
    };
    let values = || match labels {
        Labels::Values(v) => Ok(v.clone()),
        _ => Err(format!("{algorithm} needs numeric targets")),
    };
    Ok(match algorithm {
        Algorithm::LogisticRegression => {
            let y: Vec<usize> = classes()?.into_iter().map(|c| c as usize).collect();
            let p = LogisticParams {
                c: params.f64("C"),
                max_iter: params.usize("max_iter"),
                tol: params.f64("tol"),
                fit_intercept: params.bool("fit_intercept"),
                penalty: !params.value("penalty").is_null(),
            };
            Fitted::Logistic(LogisticModel::fit_cancellable(
                x, n_features, &y, n_classes, &p, cancel,
            )?)
        }
        Algorithm::LinearRegression => Fitted::Linear(
            LinearRegression::fit(
                &matrix(x, n_features)?,
                &values()?,
                LinearRegressionParameters::default(),
            )
            .map_err(fail)?,
        ),
        Algorithm::Ridge => Fitted::Ridge(
            RidgeRegression::fit(
                &matrix(x, n_features)?,
                &values()?,
                RidgeRegressionParameters::default()
                    .with_alpha(params.f64("alpha"))
                    .with_normalize(false),
            )
            .map_err(fail)?,
        ),
        // smartcore's Lasso minimises (1/n)·RSS + α‖w‖₁; scikit-learn's (1/2n)·RSS + α‖w‖₁.
        Algorithm::Lasso => Fitted::Lasso(
            Lasso::fit(
                &matrix(x, n_features)?,
                &values()?,
                LassoParameters::default()
                    .with_alpha(2.0 * params.f64("alpha"))
                    .with_normalize(false)
                    .with_tol(params.f64("tol"))
                    .with_max_iter(params.usize("max_iter")),
            )
            .map_err(fail)?,
        ),
        // smartcore's ElasticNet minimises RSS + nα·l1·‖w‖₁ + nα(1−l1)‖w‖²; scikit-learn's
        // objective times 2n is RSS + 2nα·l1·‖w‖₁ + nα(1−l1)‖w‖²: solve for smartcore's α, l1.
        Algorithm::ElasticNet => {
            let (alpha, l1) = (params.f64("alpha"), params.f64("l1_ratio"));
            Fitted::ElasticNet(
                ElasticNet::fit(
                    &matrix(x, n_features)?,
                    &values()?,
                    ElasticNetParameters::default()
                        .with_alpha(alpha * (1.0 + l1))
                        .with_l1_ratio(2.0 * l1 / (1.0 + l1))
                        .with_normalize(false)
                        .with_tol(params.f64("tol"))
                        .with_max_iter(params.usize("max_iter")),
                )
                .map_err(fail)?,
            )
        }
        Algorithm::DecisionTreeClassifier
        | Algorithm::DecisionTreeRegressor
        | Algorithm::RandomForestClassifier
        | Algorithm::RandomForestRegressor => {
            let m = trees::fit(
                algorithm,
                params,
                x,
                n_features,
                labels,
                n_classes,
                // numpy seeds are 32-bit; scikit-learn refuses larger ones.
                seed(params) as u32,
                cancel,
            )?;
            match algorithm {
                Algorithm::DecisionTreeClassifier => Fitted::TreeClassifier(m),
                Algorithm::DecisionTreeRegressor => Fitted::TreeRegressor(m),
                Algorithm::RandomForestClassifier => Fitted::ForestClassifier(m),
                _ => Fitted::ForestRegressor(m),
            }
        }
        Algorithm::KNeighborsClassifier => {
            let k = params.usize("n_neighbors");
            let y = classes()?;
            if k > y.len() {
                return Err(format!(
                    "n_neighbors ({k}) is larger than the {} training rows",
                    y.len()
                ));
            }
            let p = KNNClassifierParameters::default()
                .with_k(k)
                .with_algorithm(knn_algorithm(params))
                .with_weight(knn_weight(params));
            Fitted::KnnClassifier(KNNClassifier::fit(&matrix(x, n_features)?, &y, p).map_err(fail)?)
        }
        Algorithm::KNeighborsRegressor => {
            let k = params.usize("n_neighbors");
            let y = values()?;
            if k > y.len() {
                return Err(format!(
                    "n_neighbors ({k}) is larger than the {} training rows",
                    y.len()
                ));
            }
            let p = KNNRegressorParameters::default()
                .with_k(k)
                .with_algorithm(knn_algorithm(params))
                .with_weight(knn_weight(params));
            Fitted::KnnRegressor(KNNRegressor::fit(&matrix(x, n_features)?, &y, p).map_err(fail)?)
        }
        Algorithm::GaussianNB => {
            let mut p = GaussianNBParameters::default();
            if let Some(priors) = params.value("priors").as_array() {
                if priors.len() != n_classes {
                    return Err(format!(
                        "priors has {} values but there are {n_classes} classes",
                        priors.len()
                    ));
                }
                p = p.with_priors(priors.iter().filter_map(|v| v.as_f64()).collect());
            }
            Fitted::GaussianNb(
                GaussianNB::fit(&matrix(x, n_features)?, &classes()?, p).map_err(fail)?,
            )
        }
        Algorithm::KMeans => {
            let k = params.usize("n_clusters");
            let rows = x.len() / n_features.max(1);
            if k > rows {
                return Err(format!(
                    "n_clusters ({k}) is larger than the {rows} training rows"
                ));
            }
            let mut p = KMeansParameters::default()
                .with_k(k)
                .with_max_iter(params.usize("max_iter"));
            p.seed = Some(seed(params));
            Fitted::KMeans(KMeans::fit(&matrix(x, n_features)?, p).map_err(fail)?)
        }
    })
}

impl Fitted {
    /// Class probabilities, row-major `rows × classes`, for models that have them
    /// (`LogisticRegression`, the tree classifiers); `None` for the others.
    pub(crate) fn predict_proba(&self, x: &[f64], n_features: usize) -> Option<(Vec<f64>, usize)> {
        match self {
            Fitted::Logistic(m) if m.n_features() == n_features => {
                Some((m.predict_proba(x), m.n_classes()))
            }
            Fitted::TreeClassifier(m) | Fitted::ForestClassifier(m) => {
                m.average(x, n_features).ok().map(|p| (p, m.n_classes))
            }
            _ => None,
        }
    }

    /// The tree learners' fitted model (for `feature_importances_` and `oob_score_`).
    pub(crate) fn trees(&self) -> Option<&TreeModel> {
        match self {
            Fitted::TreeClassifier(m)
            | Fitted::TreeRegressor(m)
            | Fitted::ForestClassifier(m)
            | Fitted::ForestRegressor(m) => Some(m),
            _ => None,
        }
    }

    /// Predicts row-major `x`.
    pub(crate) fn predict(&self, x: &[f64], n_features: usize) -> Result<Predictions, String> {
        let fail = |e: smartcore::error::Failed| format!("prediction failed: {e}");
        Ok(match self {
            Fitted::Logistic(m) => {
                Predictions::Classes(m.predict(x).into_iter().map(|c| c as u32).collect())
            }
            Fitted::Linear(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::Ridge(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::Lasso(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::ElasticNet(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::TreeClassifier(m) | Fitted::ForestClassifier(m) => {
                Predictions::Classes(m.predict_classes(x, n_features)?)
            }
            Fitted::TreeRegressor(m) | Fitted::ForestRegressor(m) => {
                Predictions::Values(m.average(x, n_features)?)
            }
            Fitted::KnnClassifier(m) => {
                Predictions::Classes(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::KnnRegressor(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::GaussianNb(m) => {
                Predictions::Classes(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::KMeans(m) => {
                Predictions::Classes(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
        })
    }
}

/// What the artifact says about the model, beside the fitted parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) format_version: u32,
    pub(crate) algorithm: Algorithm,
    pub(crate) task: Task,
    pub(crate) n_features: usize,
    pub(crate) feature_names: Option<Vec<String>>,
    pub(crate) target_name: Option<String>,
    pub(crate) target_index: Option<usize>,
    /// The original class labels, in index order (classifiers).
    pub(crate) classes: Vec<String>,
    /// Whether the class labels are numbers (served back as numbers in JSON).
    pub(crate) numeric_classes: bool,
    pub(crate) hyperparameters: serde_json::Value,
    pub(crate) training_rows: usize,
    pub(crate) sdk_version: String,
    pub(crate) engine: String,
}

/// The current artifact format.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// The manifest's file name inside the model directory.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";
/// The fitted model's file name inside the model directory.
pub(crate) const MODEL_FILE: &str = "model.json";
/// The engine recorded in manifests.
pub(crate) const ENGINE: &str = "smartcore 0.7";
