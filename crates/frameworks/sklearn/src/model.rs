//! Fitting and predicting: the built-in algorithms over smartcore (and our own logistic
//! regression solver), plus the artifact format.

use serde::{Deserialize, Serialize};
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::artifact_format::PortableModel;
use crate::cancel::Cancel;
use crate::linear::{EnetParams, LinearModel};
use crate::logistic::{LogisticModel, LogisticParams};
use crate::naive_bayes::GaussianNbModel;
use crate::neighbors::{KnnModel, KnnTarget, Metric, Weights};
use crate::params::{Algorithm, Params, Task};
use crate::trees::{self, TreeModel};

type M = DenseMatrix<f64>;

/// A fitted model of any built-in algorithm.
#[derive(Debug, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Fitted {
    Logistic(LogisticModel),
    Linear(LinearModel),
    Ridge(LinearModel),
    Lasso(LinearModel),
    ElasticNet(LinearModel),
    TreeClassifier(TreeModel),
    TreeRegressor(TreeModel),
    ForestClassifier(TreeModel),
    ForestRegressor(TreeModel),
    KnnClassifier(KnnModel),
    KnnRegressor(KnnModel),
    GaussianNb(GaussianNbModel),
    KMeans(KMeans<f64, u32, M, Vec<u32>>),
    /// An AWS-trained model served from its portable document (never written back).
    #[serde(skip)]
    Portable(Box<PortableModel>),
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

fn enet_params(params: &Params, l1_ratio: f64) -> EnetParams {
    EnetParams {
        alpha: params.f64("alpha"),
        l1_ratio,
        fit_intercept: params.bool("fit_intercept"),
        max_iter: params.usize("max_iter"),
        tol: params.f64("tol"),
        positive: params.bool("positive"),
        random: (params.str("selection") == Some("random")).then(|| seed(params)),
    }
}

fn knn(
    params: &Params,
    x: &[f64],
    n_features: usize,
    target: KnnTarget,
) -> Result<KnnModel, String> {
    let weights = match params.str("weights") {
        Some("distance") => Weights::Distance,
        _ => Weights::Uniform,
    };
    let metric = Metric::from_params(params.str("metric").unwrap_or("minkowski"), params.f64("p"));
    KnnModel::fit(
        x,
        n_features,
        target,
        params.usize("n_neighbors"),
        weights,
        metric,
    )
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
        Algorithm::LinearRegression => Fitted::Linear(LinearModel::fit_ols(
            x,
            n_features,
            &values()?,
            params.bool("fit_intercept"),
        )),
        Algorithm::Ridge => Fitted::Ridge(LinearModel::fit_ridge(
            x,
            n_features,
            &values()?,
            params.f64("alpha"),
            params.bool("fit_intercept"),
        )),
        Algorithm::Lasso => Fitted::Lasso(LinearModel::fit_enet(
            x,
            n_features,
            &values()?,
            &enet_params(params, 1.0),
        )),
        Algorithm::ElasticNet => Fitted::ElasticNet(LinearModel::fit_enet(
            x,
            n_features,
            &values()?,
            &enet_params(params, params.f64("l1_ratio")),
        )),
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
        Algorithm::KNeighborsClassifier => Fitted::KnnClassifier(knn(
            params,
            x,
            n_features,
            KnnTarget::Classes {
                y: classes()?,
                n_classes,
            },
        )?),
        Algorithm::KNeighborsRegressor => {
            Fitted::KnnRegressor(knn(params, x, n_features, KnnTarget::Values(values()?))?)
        }
        Algorithm::GaussianNB => {
            let priors: Option<Vec<f64>> = params
                .value("priors")
                .as_array()
                .map(|p| p.iter().filter_map(serde_json::Value::as_f64).collect());
            Fitted::GaussianNb(GaussianNbModel::fit(
                x,
                n_features,
                &classes()?,
                n_classes,
                params.f64("var_smoothing"),
                priors.as_deref(),
            )?)
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
            Fitted::KnnClassifier(m) if m.n_features == n_features => m.predict_proba(x),
            Fitted::GaussianNb(m) => Some((m.predict_proba(x), m.classes())),
            Fitted::Portable(m) => m.predict_proba(x),
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
            Fitted::Linear(m) | Fitted::Ridge(m) | Fitted::Lasso(m) | Fitted::ElasticNet(m) => {
                Predictions::Values(m.predict(x))
            }
            Fitted::TreeClassifier(m) | Fitted::ForestClassifier(m) => {
                Predictions::Classes(m.predict_classes(x, n_features)?)
            }
            Fitted::TreeRegressor(m) | Fitted::ForestRegressor(m) => {
                Predictions::Values(m.average(x, n_features)?)
            }
            Fitted::KnnClassifier(m) => {
                Predictions::Classes(m.predict_classes(x).ok_or("not a classifier")?)
            }
            Fitted::KnnRegressor(m) => {
                Predictions::Values(m.predict_values(x).ok_or("not a regressor")?)
            }
            Fitted::GaussianNb(m) => Predictions::Classes(m.predict(x)),
            Fitted::Portable(m) => m.predict(x),
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
    /// Absent from the Python entry point's manifest.
    #[serde(default)]
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
