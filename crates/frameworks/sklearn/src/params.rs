//! The built-in algorithms and the scikit-learn hyperparameters each accepts, with
//! scikit-learn's names, defaults and type rules.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// What an algorithm predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Task {
    /// Class labels.
    Classification,
    /// Numbers.
    Regression,
    /// Cluster ids (no target).
    Clustering,
}

/// The built-in entry points, named after the scikit-learn estimators they mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// `sklearn.linear_model.LogisticRegression` (lbfgs; multinomial for 3+ classes).
    LogisticRegression,
    /// `sklearn.linear_model.LinearRegression`.
    LinearRegression,
    /// `sklearn.linear_model.Ridge`.
    Ridge,
    /// `sklearn.linear_model.Lasso`.
    Lasso,
    /// `sklearn.linear_model.ElasticNet`.
    ElasticNet,
    /// `sklearn.tree.DecisionTreeClassifier`.
    DecisionTreeClassifier,
    /// `sklearn.tree.DecisionTreeRegressor`.
    DecisionTreeRegressor,
    /// `sklearn.ensemble.RandomForestClassifier`.
    RandomForestClassifier,
    /// `sklearn.ensemble.RandomForestRegressor`.
    RandomForestRegressor,
    /// `sklearn.neighbors.KNeighborsClassifier`.
    KNeighborsClassifier,
    /// `sklearn.neighbors.KNeighborsRegressor`.
    KNeighborsRegressor,
    /// `sklearn.naive_bayes.GaussianNB`.
    GaussianNB,
    /// `sklearn.cluster.KMeans`.
    KMeans,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    PositiveFloat,
    NonNegativeFloat,
    Fraction,
    IntAtLeast(i64),
    OptionalIntAtLeast(i64),
    Bool,
    Choice(&'static [&'static str]),
    OptionalChoice(&'static [&'static str]),
    Seed,
    MaxFeatures,
    Priors,
    /// A number in `[lo, hi]`.
    FloatIn(f64, f64),
    /// `n_jobs`: null or a non-zero integer (negative counts back from every core).
    NJobs,
    /// `max_samples`: null, an integer >= 1 or a fraction in (0, 1].
    MaxSamples,
}

/// One accepted hyperparameter.
#[derive(Debug, Clone, Copy)]
pub struct HyperparameterDef {
    /// scikit-learn's name.
    pub name: &'static str,
    /// scikit-learn's default, as JSON text.
    pub default: &'static str,
    kind: Kind,
}

impl HyperparameterDef {
    /// The accepted values as JSON: `["int_at_least", 1]`, `["choice", ["a", "b"]]`,
    /// `["positive_float"]`, … (the same rule tuples as the bundled Python entry point's
    /// table, which a test compares with this one).
    ///
    /// ```
    /// use sagemaker_sklearn::Algorithm;
    /// let k = Algorithm::KNeighborsClassifier.hyperparameters()[0];
    /// assert_eq!(k.name, "n_neighbors");
    /// assert_eq!(k.range(), serde_json::json!(["int_at_least", 1]));
    /// ```
    pub fn range(&self) -> Value {
        let tag = |t: &str| Value::from(vec![Value::from(t)]);
        let with = |t: &str, v: Value| Value::from(vec![Value::from(t), v]);
        match self.kind {
            Kind::PositiveFloat => tag("positive_float"),
            Kind::NonNegativeFloat => tag("non_negative_float"),
            Kind::Fraction => tag("fraction"),
            Kind::IntAtLeast(n) => with("int_at_least", n.into()),
            Kind::OptionalIntAtLeast(n) => with("opt_int_at_least", n.into()),
            Kind::Bool => tag("bool"),
            Kind::Choice(c) => with("choice", c.to_vec().into()),
            Kind::OptionalChoice(c) => with("opt_choice", c.to_vec().into()),
            Kind::Seed => tag("seed"),
            Kind::MaxFeatures => tag("max_features"),
            Kind::Priors => tag("priors"),
            Kind::FloatIn(lo, hi) => Value::from(vec![
                Value::from("float_in"),
                Value::from(lo),
                Value::from(hi),
            ]),
            Kind::NJobs => tag("n_jobs"),
            Kind::MaxSamples => tag("max_samples"),
        }
    }
}

const fn hp(name: &'static str, default: &'static str, kind: Kind) -> HyperparameterDef {
    HyperparameterDef {
        name,
        default,
        kind,
    }
}

const SEED: HyperparameterDef = hp("random_state", "null", Kind::Seed);
const MAX_DEPTH: HyperparameterDef = hp("max_depth", "null", Kind::OptionalIntAtLeast(1));
const MIN_SPLIT: HyperparameterDef = hp("min_samples_split", "2", Kind::IntAtLeast(2));
const MIN_LEAF: HyperparameterDef = hp("min_samples_leaf", "1", Kind::IntAtLeast(1));
const CRITERION: HyperparameterDef = hp(
    "criterion",
    "\"gini\"",
    Kind::Choice(&["gini", "entropy", "log_loss"]),
);
const REG_CRITERION: HyperparameterDef = hp(
    "criterion",
    "\"squared_error\"",
    Kind::Choice(&["squared_error", "friedman_mse"]),
);
const MIN_WEIGHT_LEAF: HyperparameterDef =
    hp("min_weight_fraction_leaf", "0.0", Kind::FloatIn(0.0, 0.5));
const MAX_LEAF_NODES: HyperparameterDef = hp("max_leaf_nodes", "null", Kind::OptionalIntAtLeast(2));
const MIN_DECREASE: HyperparameterDef = hp("min_impurity_decrease", "0.0", Kind::NonNegativeFloat);
const TREE_MAX_FEATURES: HyperparameterDef = hp("max_features", "null", Kind::MaxFeatures);
const N_ESTIMATORS: HyperparameterDef = hp("n_estimators", "100", Kind::IntAtLeast(1));
const BOOTSTRAP: HyperparameterDef = hp("bootstrap", "true", Kind::Bool);
const OOB_SCORE: HyperparameterDef = hp("oob_score", "false", Kind::Bool);
const N_JOBS: HyperparameterDef = hp("n_jobs", "null", Kind::NJobs);
const MAX_SAMPLES: HyperparameterDef = hp("max_samples", "null", Kind::MaxSamples);
const KNN: [HyperparameterDef; 5] = [
    hp("n_neighbors", "5", Kind::IntAtLeast(1)),
    hp(
        "weights",
        "\"uniform\"",
        Kind::Choice(&["uniform", "distance"]),
    ),
    hp(
        "algorithm",
        "\"auto\"",
        Kind::Choice(&["auto", "brute", "kd_tree", "ball_tree"]),
    ),
    hp("p", "2", Kind::PositiveFloat),
    hp(
        "metric",
        "\"minkowski\"",
        Kind::Choice(&["minkowski", "euclidean", "manhattan"]),
    ),
];
const FIT_INTERCEPT: HyperparameterDef = hp("fit_intercept", "true", Kind::Bool);
const SELECTION: HyperparameterDef = hp(
    "selection",
    "\"cyclic\"",
    Kind::Choice(&["cyclic", "random"]),
);
const POSITIVE: HyperparameterDef = hp("positive", "false", Kind::Bool);

impl Algorithm {
    /// Every built-in algorithm.
    pub const ALL: &'static [Algorithm] = &[
        Algorithm::LogisticRegression,
        Algorithm::LinearRegression,
        Algorithm::Ridge,
        Algorithm::Lasso,
        Algorithm::ElasticNet,
        Algorithm::DecisionTreeClassifier,
        Algorithm::DecisionTreeRegressor,
        Algorithm::RandomForestClassifier,
        Algorithm::RandomForestRegressor,
        Algorithm::KNeighborsClassifier,
        Algorithm::KNeighborsRegressor,
        Algorithm::GaussianNB,
        Algorithm::KMeans,
    ];

    /// The entry-point name (the scikit-learn class name).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::LogisticRegression => "LogisticRegression",
            Algorithm::LinearRegression => "LinearRegression",
            Algorithm::Ridge => "Ridge",
            Algorithm::Lasso => "Lasso",
            Algorithm::ElasticNet => "ElasticNet",
            Algorithm::DecisionTreeClassifier => "DecisionTreeClassifier",
            Algorithm::DecisionTreeRegressor => "DecisionTreeRegressor",
            Algorithm::RandomForestClassifier => "RandomForestClassifier",
            Algorithm::RandomForestRegressor => "RandomForestRegressor",
            Algorithm::KNeighborsClassifier => "KNeighborsClassifier",
            Algorithm::KNeighborsRegressor => "KNeighborsRegressor",
            Algorithm::GaussianNB => "GaussianNB",
            Algorithm::KMeans => "KMeans",
        }
    }

    /// The algorithm for an entry-point name, if it is a built-in one.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// What it predicts.
    pub fn task(self) -> Task {
        match self {
            Algorithm::LogisticRegression
            | Algorithm::DecisionTreeClassifier
            | Algorithm::RandomForestClassifier
            | Algorithm::KNeighborsClassifier
            | Algorithm::GaussianNB => Task::Classification,
            Algorithm::KMeans => Task::Clustering,
            _ => Task::Regression,
        }
    }

    /// The scikit-learn hyperparameters it accepts (besides `target` for supervised ones).
    pub fn hyperparameters(self) -> &'static [HyperparameterDef] {
        const LOGISTIC: &[HyperparameterDef] = &[
            hp("C", "1.0", Kind::PositiveFloat),
            hp("max_iter", "100", Kind::IntAtLeast(1)),
            hp("tol", "0.0001", Kind::PositiveFloat),
            hp("fit_intercept", "true", Kind::Bool),
            hp("penalty", "\"l2\"", Kind::OptionalChoice(&["l2", "none"])),
            hp("solver", "\"lbfgs\"", Kind::Choice(&["lbfgs"])),
            SEED,
        ];
        const LINEAR: &[HyperparameterDef] = &[FIT_INTERCEPT];
        const RIDGE: &[HyperparameterDef] =
            &[hp("alpha", "1.0", Kind::NonNegativeFloat), FIT_INTERCEPT];
        const LASSO: &[HyperparameterDef] = &[
            hp("alpha", "1.0", Kind::PositiveFloat),
            hp("max_iter", "1000", Kind::IntAtLeast(1)),
            hp("tol", "0.0001", Kind::PositiveFloat),
            FIT_INTERCEPT,
            POSITIVE,
            SELECTION,
            SEED,
        ];
        const ELASTIC: &[HyperparameterDef] = &[
            hp("alpha", "1.0", Kind::PositiveFloat),
            hp("l1_ratio", "0.5", Kind::Fraction),
            hp("max_iter", "1000", Kind::IntAtLeast(1)),
            hp("tol", "0.0001", Kind::PositiveFloat),
            FIT_INTERCEPT,
            POSITIVE,
            SELECTION,
            SEED,
        ];
        const DTC: &[HyperparameterDef] = &[
            CRITERION,
            MAX_DEPTH,
            MIN_SPLIT,
            MIN_LEAF,
            MIN_WEIGHT_LEAF,
            TREE_MAX_FEATURES,
            SEED,
            MAX_LEAF_NODES,
            MIN_DECREASE,
            hp("class_weight", "null", Kind::OptionalChoice(&["balanced"])),
        ];
        const DTR: &[HyperparameterDef] = &[
            REG_CRITERION,
            MAX_DEPTH,
            MIN_SPLIT,
            MIN_LEAF,
            MIN_WEIGHT_LEAF,
            TREE_MAX_FEATURES,
            SEED,
            MAX_LEAF_NODES,
            MIN_DECREASE,
        ];
        const RFC: &[HyperparameterDef] = &[
            N_ESTIMATORS,
            CRITERION,
            MAX_DEPTH,
            MIN_SPLIT,
            MIN_LEAF,
            MIN_WEIGHT_LEAF,
            hp("max_features", "\"sqrt\"", Kind::MaxFeatures),
            MAX_LEAF_NODES,
            MIN_DECREASE,
            BOOTSTRAP,
            OOB_SCORE,
            N_JOBS,
            SEED,
            hp(
                "class_weight",
                "null",
                Kind::OptionalChoice(&["balanced", "balanced_subsample"]),
            ),
            MAX_SAMPLES,
        ];
        const RFR: &[HyperparameterDef] = &[
            N_ESTIMATORS,
            REG_CRITERION,
            MAX_DEPTH,
            MIN_SPLIT,
            MIN_LEAF,
            MIN_WEIGHT_LEAF,
            hp("max_features", "1.0", Kind::MaxFeatures),
            MAX_LEAF_NODES,
            MIN_DECREASE,
            BOOTSTRAP,
            OOB_SCORE,
            N_JOBS,
            SEED,
            MAX_SAMPLES,
        ];
        const NB: &[HyperparameterDef] = &[
            hp("priors", "null", Kind::Priors),
            hp("var_smoothing", "1e-9", Kind::NonNegativeFloat),
        ];
        const KMEANS: &[HyperparameterDef] = &[
            hp("n_clusters", "8", Kind::IntAtLeast(1)),
            hp("max_iter", "300", Kind::IntAtLeast(1)),
            SEED,
        ];
        match self {
            Algorithm::LogisticRegression => LOGISTIC,
            Algorithm::LinearRegression => LINEAR,
            Algorithm::Ridge => RIDGE,
            Algorithm::Lasso => LASSO,
            Algorithm::ElasticNet => ELASTIC,
            Algorithm::DecisionTreeClassifier => DTC,
            Algorithm::DecisionTreeRegressor => DTR,
            Algorithm::RandomForestClassifier => RFC,
            Algorithm::RandomForestRegressor => RFR,
            Algorithm::KNeighborsClassifier | Algorithm::KNeighborsRegressor => &KNN,
            Algorithm::GaussianNB => NB,
            Algorithm::KMeans => KMEANS,
        }
    }

    /// The accepted hyperparameter names, for messages.
    pub fn accepted_names(self) -> Vec<&'static str> {
        let mut names: Vec<&str> = self.hyperparameters().iter().map(|h| h.name).collect();
        if self.task() != Task::Clustering {
            names.push("target");
        }
        names
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Hyperparameters validated against an algorithm, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    values: BTreeMap<&'static str, Value>,
}

/// Whether a key is the SDK's or SageMaker's, not the algorithm's (the built-ins also keep
/// every `_`-prefixed key for the platform).
pub(crate) fn is_reserved(key: &str) -> bool {
    sagemaker_core::script_mode::is_reserved(key) || key.starts_with('_')
}

/// Validates user hyperparameters (decoded JSON values) for `algorithm`. The error names
/// the hyperparameter and lists the accepted ones.
pub(crate) fn validate(
    algorithm: Algorithm,
    given: &BTreeMap<String, Value>,
) -> Result<Params, String> {
    let defs = algorithm.hyperparameters();
    for key in given.keys() {
        if is_reserved(key) {
            continue;
        }
        if key == "target" {
            if algorithm.task() == Task::Clustering {
                return Err(format!(
                    "{algorithm} takes no target; remove the 'target' hyperparameter"
                ));
            }
            continue;
        }
        if !defs.iter().any(|d| d.name == key) {
            return Err(format!(
                "hyperparameter '{key}' is not accepted by {algorithm}; accepted: {}",
                algorithm.accepted_names().join(", ")
            ));
        }
    }
    let mut values = BTreeMap::new();
    for def in defs {
        let value = match given.get(def.name) {
            Some(v) => check(def, v)
                .map_err(|why| format!("hyperparameter '{}' of {algorithm}: {why}", def.name))?,
            None => serde_json::from_str(def.default).expect("defaults are valid JSON"),
        };
        values.insert(def.name, value);
    }
    Ok(Params { values })
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn check(def: &HyperparameterDef, v: &Value) -> Result<Value, String> {
    let got = || format!("got {v}");
    let is_null = |v: &Value| v.is_null() || v.as_str().is_some_and(|s| s == "None" || s == "null");
    match def.kind {
        Kind::PositiveFloat => match as_f64(v) {
            Some(f) if f > 0.0 && f.is_finite() => Ok(f.into()),
            _ => Err(format!("expected a number > 0, {}", got())),
        },
        Kind::NonNegativeFloat => match as_f64(v) {
            Some(f) if f >= 0.0 && f.is_finite() => Ok(f.into()),
            _ => Err(format!("expected a number >= 0, {}", got())),
        },
        Kind::Fraction => match as_f64(v) {
            Some(f) if (0.0..=1.0).contains(&f) => Ok(f.into()),
            _ => Err(format!("expected a number from 0 to 1, {}", got())),
        },
        Kind::IntAtLeast(min) => match as_i64(v) {
            Some(i) if i >= min => Ok(i.into()),
            _ => Err(format!("expected an integer >= {min}, {}", got())),
        },
        Kind::OptionalIntAtLeast(min) => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            match as_i64(v) {
                Some(i) if i >= min => Ok(i.into()),
                _ => Err(format!("expected null or an integer >= {min}, {}", got())),
            }
        }
        Kind::Seed => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            match as_i64(v) {
                Some(i) if i >= 0 => Ok(i.into()),
                _ => Err(format!("expected null or an integer >= 0, {}", got())),
            }
        }
        Kind::Bool => match v {
            Value::Bool(b) => Ok((*b).into()),
            Value::String(s) if s == "True" || s == "true" => Ok(true.into()),
            Value::String(s) if s == "False" || s == "false" => Ok(false.into()),
            _ => Err(format!("expected true or false, {}", got())),
        },
        Kind::Choice(choices) => match v.as_str() {
            Some(s) if choices.contains(&s) => Ok(s.into()),
            _ => Err(format!("expected one of {}, {}", choices.join(", "), got())),
        },
        Kind::OptionalChoice(choices) => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            match v.as_str() {
                Some(s) if choices.contains(&s) => {
                    Ok(if s == "none" { Value::Null } else { s.into() })
                }
                _ => Err(format!(
                    "expected null or one of {}, {}",
                    choices.join(", "),
                    got()
                )),
            }
        }
        Kind::MaxFeatures => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            if let Some(s) = v.as_str().filter(|s| *s == "sqrt" || *s == "log2") {
                return Ok(s.into());
            }
            match v {
                Value::Number(n) if n.is_i64() && n.as_i64().unwrap_or(0) >= 1 => Ok(v.clone()),
                Value::Number(n) if n.as_f64().is_some_and(|f| f > 0.0 && f <= 1.0) => {
                    Ok(v.clone())
                }
                _ => Err(format!(
                    "expected \"sqrt\", \"log2\", null, an integer >= 1 or a fraction in (0, 1], {}",
                    got()
                )),
            }
        }
        Kind::FloatIn(lo, hi) => match as_f64(v) {
            Some(f) if (lo..=hi).contains(&f) => Ok(f.into()),
            _ => Err(format!("expected a number from {lo} to {hi}, {}", got())),
        },
        Kind::NJobs => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            match as_i64(v) {
                Some(i) if i != 0 => Ok(i.into()),
                _ => Err(format!(
                    "expected null, -1 (every core) or a non-zero integer, {}",
                    got()
                )),
            }
        }
        Kind::MaxSamples => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            match v {
                Value::Number(n) if n.is_i64() && n.as_i64().unwrap_or(0) >= 1 => Ok(v.clone()),
                Value::Number(n) if n.as_f64().is_some_and(|f| f > 0.0 && f <= 1.0) => {
                    Ok(v.clone())
                }
                _ => Err(format!(
                    "expected null, an integer >= 1 or a fraction in (0, 1], {}",
                    got()
                )),
            }
        }
        Kind::Priors => {
            if is_null(v) {
                return Ok(Value::Null);
            }
            match v.as_array() {
                Some(a)
                    if !a.is_empty() && a.iter().all(|x| as_f64(x).is_some_and(|f| f >= 0.0)) =>
                {
                    let sum: f64 = a.iter().filter_map(as_f64).sum();
                    if (sum - 1.0).abs() > 1e-6 {
                        return Err(format!("the priors must sum to 1, they sum to {sum}"));
                    }
                    Ok(v.clone())
                }
                _ => Err(format!(
                    "expected null or a list of probabilities, {}",
                    got()
                )),
            }
        }
    }
}

impl Params {
    pub(crate) fn f64(&self, name: &str) -> f64 {
        self.values.get(name).and_then(as_f64).unwrap_or(f64::NAN)
    }

    pub(crate) fn usize(&self, name: &str) -> usize {
        self.values.get(name).and_then(as_i64).unwrap_or(0).max(0) as usize
    }

    pub(crate) fn opt_usize(&self, name: &str) -> Option<usize> {
        self.values
            .get(name)
            .and_then(as_i64)
            .map(|i| i.max(0) as usize)
    }

    pub(crate) fn bool(&self, name: &str) -> bool {
        self.values
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    pub(crate) fn value(&self, name: &str) -> &Value {
        self.values.get(name).unwrap_or(&Value::Null)
    }

    /// The values, for the artifact's manifest.
    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.values
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn defaults_are_sklearns() {
        let p = validate(Algorithm::LogisticRegression, &BTreeMap::new()).unwrap();
        assert_eq!(p.f64("C"), 1.0);
        assert_eq!(p.usize("max_iter"), 100);
        assert_eq!(p.f64("tol"), 1e-4);
        let p = validate(Algorithm::KNeighborsClassifier, &BTreeMap::new()).unwrap();
        assert_eq!(p.usize("n_neighbors"), 5);
        let p = validate(Algorithm::RandomForestClassifier, &BTreeMap::new()).unwrap();
        assert_eq!(p.usize("n_estimators"), 100);
        assert_eq!(p.str("max_features"), Some("sqrt"));
    }

    #[test]
    fn unknown_and_mistyped_are_refused_with_the_accepted_list() {
        let e = validate(
            Algorithm::LogisticRegression,
            &given(&[("max_depth", json!(3))]),
        )
        .unwrap_err();
        assert!(
            e.contains("'max_depth' is not accepted by LogisticRegression"),
            "{e}"
        );
        assert!(e.contains("C, max_iter, tol"), "{e}");
        let e = validate(
            Algorithm::LogisticRegression,
            &given(&[("max_iter", json!("lots"))]),
        )
        .unwrap_err();
        assert!(
            e.contains("'max_iter'") && e.contains("integer >= 1"),
            "{e}"
        );
        let e = validate(Algorithm::LogisticRegression, &given(&[("C", json!(0))])).unwrap_err();
        assert!(e.contains("> 0"), "{e}");
        let e = validate(Algorithm::KMeans, &given(&[("target", json!("y"))])).unwrap_err();
        assert!(e.contains("takes no target"), "{e}");
        let e = validate(
            Algorithm::GaussianNB,
            &given(&[("priors", json!([0.5, 0.2]))]),
        )
        .unwrap_err();
        assert!(e.contains("sum to 1"), "{e}");
    }

    #[test]
    fn reserved_and_target_pass_and_values_convert() {
        let p = validate(
            Algorithm::LogisticRegression,
            &given(&[
                ("sagemaker_program", json!("LogisticRegression")),
                ("target", json!("species")),
                ("max_iter", json!("200")),
                ("penalty", json!("none")),
            ]),
        )
        .unwrap();
        assert_eq!(p.usize("max_iter"), 200);
        assert_eq!(p.value("penalty"), &Value::Null);
    }
}
