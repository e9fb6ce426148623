//! Fitting a tree learner from validated hyperparameters: one tree (`DecisionTree*`) or a
//! forest of bootstrapped trees grown in parallel (`RandomForest*`, scikit-learn's
//! `ensemble/_forest.py` semantics).

use rayon::prelude::*;

use super::grow::{self, Presorted, Settings, Targets};
use super::{Criterion, Mt19937, RAND_R_MAX, Rng, Tree, TreeModel, argmax, normalise, to_f32_rows};
use crate::cancel::Cancel;
use crate::model::Labels;
use crate::params::{Algorithm, Params};

/// What the forest adds to one tree's settings.
#[derive(Debug)]
struct Ensemble {
    n_estimators: usize,
    bootstrap: bool,
    /// Rows drawn per bootstrap.
    n_draws: usize,
    oob_score: bool,
    threads: usize,
    class_weight: ClassWeight,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ClassWeight {
    None,
    Balanced,
    BalancedSubsample,
}

fn is_forest(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::RandomForestClassifier | Algorithm::RandomForestRegressor
    )
}

/// scikit-learn's `max_features` as a count of features.
fn max_features(params: &Params, n_features: usize) -> usize {
    let d = n_features as f64;
    let m = match params.value("max_features") {
        serde_json::Value::String(s) if s == "sqrt" => d.sqrt().floor(),
        serde_json::Value::String(s) if s == "log2" => d.log2().floor(),
        serde_json::Value::Number(n) if n.is_i64() => n.as_f64().unwrap_or(d),
        serde_json::Value::Number(n) => (n.as_f64().unwrap_or(1.0) * d).floor(),
        _ => d,
    };
    // An integer above the feature count is clamped, as the Python entry point does.
    (m as usize).clamp(1, n_features.max(1))
}

/// `n_jobs` as a thread count: `None` one thread as in scikit-learn, `-1` every core,
/// `-k` all cores but `k - 1`.
pub(crate) fn threads(n_jobs: Option<i64>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    match n_jobs {
        None => 1,
        Some(k) if k > 0 => k as usize,
        Some(k) => (cores + 1 + k).max(1) as usize,
    }
}

fn settings(
    algorithm: Algorithm,
    params: &Params,
    n_rows: usize,
    n_features: usize,
) -> Result<Settings, String> {
    let name = params.str("criterion").unwrap_or(match algorithm.task() {
        crate::params::Task::Regression => "squared_error",
        _ => "gini",
    });
    let criterion = Criterion::from_name(name)
        .ok_or_else(|| format!("hyperparameter 'criterion' of {algorithm}: unknown '{name}'"))?;
    let min_samples_split = params.usize("min_samples_split");
    if n_rows < min_samples_split {
        return Err(format!(
            "hyperparameter 'min_samples_split' of {algorithm}: {min_samples_split} is more than the {n_rows} training rows"
        ));
    }
    let min_samples_leaf = params.usize("min_samples_leaf").max(1);
    Ok(Settings {
        criterion,
        max_depth: params.opt_usize("max_depth").unwrap_or(usize::MAX),
        min_samples_split: min_samples_split.max(2 * min_samples_leaf),
        min_samples_leaf,
        min_weight_fraction_leaf: non_negative(params.f64("min_weight_fraction_leaf")),
        max_features: max_features(params, n_features),
        max_leaf_nodes: params.opt_usize("max_leaf_nodes"),
        min_impurity_decrease: non_negative(params.f64("min_impurity_decrease")),
    })
}

/// A hyperparameter absent from an algorithm's table reads as NaN: it means 0.
fn non_negative(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v }
}

fn ensemble(algorithm: Algorithm, params: &Params, n_rows: usize) -> Result<Ensemble, String> {
    let class_weight = match params.str("class_weight") {
        Some("balanced") => ClassWeight::Balanced,
        Some("balanced_subsample") => ClassWeight::BalancedSubsample,
        _ => ClassWeight::None,
    };
    if !is_forest(algorithm) {
        return Ok(Ensemble {
            n_estimators: 1,
            bootstrap: false,
            n_draws: n_rows,
            oob_score: false,
            threads: 1,
            class_weight,
        });
    }
    let bootstrap = params.bool("bootstrap");
    let oob_score = params.bool("oob_score");
    if oob_score && !bootstrap {
        return Err(format!(
            "hyperparameter 'oob_score' of {algorithm}: out-of-bag estimation is only available if bootstrap=True"
        ));
    }
    let max_samples = params.value("max_samples");
    let n_draws = match max_samples {
        serde_json::Value::Null => n_rows,
        _ if !bootstrap => {
            return Err(format!(
                "hyperparameter 'max_samples' of {algorithm}: it cannot be set if bootstrap=False; set bootstrap=True or max_samples=None"
            ));
        }
        serde_json::Value::Number(n) if n.is_i64() => {
            let m = n.as_i64().unwrap_or(0).max(0) as usize;
            if m > n_rows {
                return Err(format!(
                    "hyperparameter 'max_samples' of {algorithm}: it must be <= n_samples={n_rows} but got value {m}"
                ));
            }
            m
        }
        // Python's round: half to even.
        v => ((v.as_f64().unwrap_or(1.0) * n_rows as f64).round_ties_even() as usize).max(1),
    };
    let n_estimators = params.usize("n_estimators").max(1);
    let n_jobs = params.value("n_jobs").as_i64();
    Ok(Ensemble {
        n_estimators,
        bootstrap,
        n_draws,
        oob_score,
        threads: threads(n_jobs).min(n_estimators),
        class_weight,
    })
}

/// scikit-learn's "balanced" weight per class: `n / (classes present × count)`, 0 for a
/// class absent from `counts`.
fn balanced(counts: &[f64]) -> Vec<f64> {
    let n: f64 = counts.iter().sum();
    let present = counts.iter().filter(|&&c| c > 0.0).count() as f64;
    counts
        .iter()
        .map(|&c| if c > 0.0 { n / (present * c) } else { 0.0 })
        .collect()
}

/// The bootstrap of the tree seeded `seed`: how often each row was drawn, as
/// scikit-learn draws it (`RandomState(seed).randint(0, n_rows, n_draws)`).
fn bootstrap_counts(seed: u32, n_rows: usize, n_draws: usize) -> Vec<f64> {
    let mut rng = Mt19937::new(seed);
    let mut counts = vec![0.0; n_rows];
    for _ in 0..n_draws {
        counts[rng.randint(n_rows as u32) as usize] += 1.0;
    }
    counts
}

/// Fits a tree learner on row-major `x`. Errors name the hyperparameter or the data, as
/// scikit-learn's messages do; a stop request ends the fit with [`crate::cancel::STOPPED`].
#[expect(
    clippy::too_many_arguments,
    reason = "the shared learner signature plus the seed"
)]
pub(crate) fn fit(
    algorithm: Algorithm,
    params: &Params,
    x: &[f64],
    n_features: usize,
    labels: &Labels,
    n_classes: usize,
    seed: u32,
    cancel: &Cancel<'_>,
) -> Result<TreeModel, String> {
    let n_rows = x.len() / n_features.max(1);
    if n_rows == 0 || n_features == 0 {
        return Err(format!(
            "{algorithm} needs at least one row and one feature, got {n_rows} rows of {n_features} features"
        ));
    }
    let rows = to_f32_rows(x).map_err(|e| format!("{algorithm}: {e}"))?;
    let targets = match labels {
        Labels::Classes(y) if n_classes > 0 => Targets::Classes { y, k: n_classes },
        Labels::Values(y) => Targets::Values(y),
        _ => return Err(format!("{algorithm} needs a target column")),
    };
    let s = settings(algorithm, params, n_rows, n_features)?;
    let e = ensemble(algorithm, params, n_rows)?;
    let mut columns = vec![0f32; rows.len()];
    for (r, row) in rows.chunks_exact(n_features).enumerate() {
        for (f, &v) in row.iter().enumerate() {
            columns[f * n_rows + r] = v;
        }
    }
    let pre = Presorted::new(&columns, n_rows, n_features);
    drop(columns);
    let class_counts = |weights: Option<&[f64]>| {
        let mut c = vec![0.0; n_classes];
        if let Targets::Classes { y, .. } = targets {
            for (i, &k) in y.iter().enumerate() {
                c[k as usize] += weights.map_or(1.0, |w| w[i]);
            }
        }
        c
    };
    let full_balance =
        (e.class_weight == ClassWeight::Balanced).then(|| balanced(&class_counts(None)));
    // scikit-learn's seeds: a decision tree's own `random_state`; a forest's trees draw
    // theirs from it with `randint(2^31 - 1)`.
    let seeds: Vec<u32> = if is_forest(algorithm) {
        let mut master = Mt19937::new(seed);
        (0..e.n_estimators)
            .map(|_| master.randint(RAND_R_MAX))
            .collect()
    } else {
        vec![seed]
    };
    let grow_one = |tree_seed: u32| -> Result<Tree, String> {
        cancel.check()?;
        let mut rng = Rng::for_tree(tree_seed);
        let mut weights = e
            .bootstrap
            .then(|| bootstrap_counts(tree_seed, n_rows, e.n_draws));
        let per_class = match e.class_weight {
            ClassWeight::None => None,
            ClassWeight::Balanced => full_balance.clone(),
            ClassWeight::BalancedSubsample => Some(balanced(&class_counts(weights.as_deref()))),
        };
        if let (Some(cw), Targets::Classes { y, .. }) = (per_class, targets) {
            let w = weights.get_or_insert_with(|| vec![1.0; n_rows]);
            for (wi, &k) in w.iter_mut().zip(y) {
                *wi *= cw[k as usize];
            }
        }
        let weight_sum: f64 = weights.as_ref().map_or(n_rows as f64, |w| w.iter().sum());
        if weight_sum <= 0.0 {
            return Err(format!("{algorithm}: every sample weight is zero"));
        }
        grow::grow(&pre, targets, weights.as_deref(), &s, &mut rng, cancel)
    };
    let trees: Vec<Tree> = if e.threads <= 1 {
        seeds
            .iter()
            .map(|&sd| grow_one(sd))
            .collect::<Result<_, _>>()?
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(e.threads)
            .build()
            .map_err(|err| format!("{algorithm}: cannot start {} threads: {err}", e.threads))?;
        pool.install(|| {
            seeds
                .par_iter()
                .map(|&sd| grow_one(sd))
                .collect::<Result<_, _>>()
        })?
    };
    let mut model = TreeModel {
        n_classes: if matches!(targets, Targets::Classes { .. }) {
            n_classes
        } else {
            0
        },
        n_features,
        feature_importances: importances(&trees, n_features),
        trees,
        oob_score: None,
    };
    if e.oob_score {
        model.oob_score = Some(oob_score(&model, &rows, targets, &seeds, &e, cancel)?);
    }
    Ok(model)
}

/// The forest's `feature_importances_`: the mean over trees that split at least once,
/// normalised.
fn importances(trees: &[Tree], n_features: usize) -> Vec<f64> {
    let mut total = vec![0.0; n_features];
    let split: Vec<&Tree> = trees.iter().filter(|t| t.node_count() > 1).collect();
    for t in &split {
        for (a, v) in total.iter_mut().zip(t.feature_importances()) {
            *a += v / split.len() as f64;
        }
    }
    normalise(&mut total);
    total
}

/// scikit-learn's `oob_score_`: each row predicted by the trees whose bootstrap missed it
/// (a row no tree missed predicts zeros, as there), scored by accuracy or R².
fn oob_score(
    model: &TreeModel,
    rows: &[f32],
    targets: Targets<'_>,
    seeds: &[u32],
    e: &Ensemble,
    cancel: &Cancel<'_>,
) -> Result<f64, String> {
    let n_features = model.n_features;
    let n_rows = rows.len() / n_features;
    let k = model.n_classes.max(1);
    let mut sum = vec![0.0; n_rows * k];
    let mut seen = vec![0u32; n_rows];
    let mut one = vec![0.0; k];
    for (tree, &seed) in model.trees.iter().zip(seeds) {
        cancel.check()?;
        let counts = bootstrap_counts(seed, n_rows, e.n_draws);
        for (r, _) in counts.iter().enumerate().filter(|(_, c)| **c == 0.0) {
            one.iter_mut().for_each(|v| *v = 0.0);
            tree.accumulate(&rows[r * n_features..(r + 1) * n_features], &mut one, 1.0);
            for (s, v) in sum[r * k..(r + 1) * k].iter_mut().zip(&one) {
                *s += v;
            }
            seen[r] += 1;
        }
    }
    Ok(match targets {
        Targets::Classes { y, .. } => {
            let correct = sum
                .chunks_exact(k)
                .zip(y)
                .filter(|(p, y)| argmax(p) == **y)
                .count();
            correct as f64 / n_rows as f64
        }
        Targets::Values(y) => {
            let pred: Vec<f64> = sum
                .iter()
                .zip(&seen)
                .map(|(s, &n)| s / f64::from(n.max(1)))
                .collect();
            let mean = y.iter().sum::<f64>() / n_rows as f64;
            let ss_res: f64 = y.iter().zip(&pred).map(|(t, p)| (t - p).powi(2)).sum();
            let ss_tot: f64 = y.iter().map(|t| (t - mean).powi(2)).sum();
            if ss_tot == 0.0 {
                0.0
            } else {
                1.0 - ss_res / ss_tot
            }
        }
    })
}
