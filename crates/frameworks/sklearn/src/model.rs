//! Fitting and predicting: the built-in algorithms over smartcore (and our own logistic
//! regression solver), plus the artifact format.

use serde::{Deserialize, Serialize};
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, DecisionTreeClassifierParameters, SplitCriterion,
};
use smartcore::tree::decision_tree_regressor::{
    DecisionTreeRegressor, DecisionTreeRegressorParameters,
};

use crate::artifact_format::PortableModel;
use crate::linear::{EnetParams, LinearModel};
use crate::logistic::{LogisticModel, LogisticParams};
use crate::naive_bayes::GaussianNbModel;
use crate::neighbors::{KnnModel, KnnTarget, Metric, Weights};
use crate::params::{Algorithm, Params, Task};

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
    TreeClassifier(DecisionTreeClassifier<f64, u32, M, Vec<u32>>),
    TreeRegressor(DecisionTreeRegressor<f64, f64, M, Vec<f64>>),
    ForestClassifier(RandomForestClassifier<f64, u32, M, Vec<u32>>),
    ForestRegressor(RandomForestRegressor<f64, f64, M, Vec<f64>>),
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

fn max_features(params: &Params, n_features: usize) -> usize {
    let d = n_features as f64;
    let m = match params.value("max_features") {
        serde_json::Value::String(s) if s == "sqrt" => d.sqrt().floor(),
        serde_json::Value::String(s) if s == "log2" => d.log2().floor(),
        serde_json::Value::Number(n) if n.is_i64() => n.as_f64().unwrap_or(d),
        serde_json::Value::Number(n) => (n.as_f64().unwrap_or(1.0) * d).floor(),
        _ => d,
    };
    (m as usize).clamp(1, n_features.max(1))
}

fn depth(params: &Params) -> Option<u16> {
    params
        .opt_usize("max_depth")
        .map(|d| d.min(u16::MAX as usize) as u16)
}

fn criterion(params: &Params) -> SplitCriterion {
    match params.str("criterion") {
        Some("entropy") => SplitCriterion::Entropy,
        _ => SplitCriterion::Gini,
    }
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

/// Fits `algorithm` on row-major `x` with `labels`. `n_classes` is the number of classes for
/// classifiers. Errors are messages for a `ClientError`/`AlgorithmError`.
pub(crate) fn fit(
    algorithm: Algorithm,
    params: &Params,
    x: &[f64],
    n_features: usize,
    labels: &Labels,
    n_classes: usize,
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
            Fitted::Logistic(LogisticModel::fit(x, n_features, &y, n_classes, &p))
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
        Algorithm::DecisionTreeClassifier => {
            let mut p = DecisionTreeClassifierParameters::default()
                .with_criterion(criterion(params))
                .with_min_samples_leaf(params.usize("min_samples_leaf"))
                .with_min_samples_split(params.usize("min_samples_split"));
            p.max_depth = depth(params);
            p.seed = Some(seed(params));
            Fitted::TreeClassifier(
                DecisionTreeClassifier::fit(&matrix(x, n_features)?, &classes()?, p)
                    .map_err(fail)?,
            )
        }
        Algorithm::DecisionTreeRegressor => {
            let mut p = DecisionTreeRegressorParameters::default()
                .with_min_samples_leaf(params.usize("min_samples_leaf"))
                .with_min_samples_split(params.usize("min_samples_split"));
            p.max_depth = depth(params);
            p.seed = Some(seed(params));
            Fitted::TreeRegressor(
                DecisionTreeRegressor::fit(&matrix(x, n_features)?, &values()?, p).map_err(fail)?,
            )
        }
        Algorithm::RandomForestClassifier => {
            let n_trees = params.usize("n_estimators");
            if n_trees > u16::MAX as usize {
                return Err(format!(
                    "n_estimators {n_trees} is above the limit of {}",
                    u16::MAX
                ));
            }
            let mut p = RandomForestClassifierParameters::default()
                .with_criterion(criterion(params))
                .with_n_trees(n_trees as u16)
                .with_m(max_features(params, n_features))
                .with_min_samples_leaf(params.usize("min_samples_leaf"))
                .with_min_samples_split(params.usize("min_samples_split"))
                .with_seed(seed(params));
            p.max_depth = depth(params);
            Fitted::ForestClassifier(
                RandomForestClassifier::fit(&matrix(x, n_features)?, &classes()?, p)
                    .map_err(fail)?,
            )
        }
        Algorithm::RandomForestRegressor => {
            let mut p = RandomForestRegressorParameters::default()
                .with_n_trees(params.usize("n_estimators"))
                .with_m(max_features(params, n_features))
                .with_min_samples_leaf(params.usize("min_samples_leaf"))
                .with_min_samples_split(params.usize("min_samples_split"))
                .with_seed(seed(params));
            p.max_depth = depth(params);
            Fitted::ForestRegressor(
                RandomForestRegressor::fit(&matrix(x, n_features)?, &values()?, p).map_err(fail)?,
            )
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
    /// (`LogisticRegression`); `None` for the others.
    pub(crate) fn predict_proba(&self, x: &[f64], n_features: usize) -> Option<(Vec<f64>, usize)> {
        match self {
            Fitted::Logistic(m) if m.n_features() == n_features => {
                Some((m.predict_proba(x), m.n_classes()))
            }
            Fitted::KnnClassifier(m) if m.n_features == n_features => m.predict_proba(x),
            Fitted::GaussianNb(m) => Some((m.predict_proba(x), m.classes())),
            Fitted::Portable(m) => m.predict_proba(x),
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
            Fitted::TreeClassifier(m) => {
                Predictions::Classes(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::TreeRegressor(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::ForestClassifier(m) => {
                Predictions::Classes(m.predict(&matrix(x, n_features)?).map_err(fail)?)
            }
            Fitted::ForestRegressor(m) => {
                Predictions::Values(m.predict(&matrix(x, n_features)?).map_err(fail)?)
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
