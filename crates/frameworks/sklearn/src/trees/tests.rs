//! The trees against scikit-learn 1.4.2's (`testdata/reference.json`, written by
//! `testdata/gen_reference.py` on data that [`lcg_data`] reproduces), and each
//! hyperparameter's effect.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::cancel::{Cancel, STOPPED};
use crate::model::Labels;
use crate::params::{self, Algorithm};

const REFERENCE: &str = include_str!("testdata/reference.json");

/// `lcg_data` of `gen_reference.py`: rows of `f` features in [-2, 2) and a class in `0..k`
/// (`k > 0`) or a regression target.
fn lcg_data(seed: u64, n: usize, f: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut s = seed;
    let mut u = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let row: Vec<f64> = (0..f).map(|_| u() * 4.0 - 2.0).collect();
        if k > 0 {
            let scores: Vec<f64> = (0..k)
                .map(|c| row[c % f] + 0.5 * row[(c + 1) % f] + 1.5 * u())
                .collect();
            y.push(f64::from(argmax(&scores)));
        } else {
            y.push(3.0 * row[0] + (2.0 * row[1]).sin() + row[2] * row[3] + 0.5 * u());
        }
        x.extend(row);
    }
    (x, y)
}

fn classes((x, y): (Vec<f64>, Vec<f64>)) -> (Vec<f64>, Labels) {
    (
        x,
        Labels::Classes(y.into_iter().map(|v| v as u32).collect()),
    )
}

fn values((x, y): (Vec<f64>, Vec<f64>)) -> (Vec<f64>, Labels) {
    (x, Labels::Values(y))
}

fn fit_with(
    algorithm: Algorithm,
    hps: Value,
    data: &(Vec<f64>, Labels),
    cancel: &Cancel<'_>,
) -> Result<TreeModel, String> {
    let given: BTreeMap<String, Value> = hps
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let p = params::validate(algorithm, &given)?;
    let seed = p.opt_usize("random_state").unwrap_or(0) as u32;
    let k = match &data.1 {
        Labels::Classes(c) => c.iter().max().map_or(0, |m| *m as usize + 1),
        _ => 0,
    };
    fit(algorithm, &p, &data.0, 5, &data.1, k, seed, cancel)
}

fn fit_ok(algorithm: Algorithm, hps: Value, data: &(Vec<f64>, Labels)) -> TreeModel {
    fit_with(algorithm, hps, data, &Cancel::NEVER).unwrap()
}

fn reference() -> Value {
    serde_json::from_str(REFERENCE).unwrap()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    let flat: Vec<f64> = match v.as_array().unwrap().first() {
        Some(Value::Array(_)) => v
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
            .collect(),
        _ => v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect(),
    };
    flat
}

/// Asserts our tree is scikit-learn's: same nodes in the same order, with the same samples,
/// values and impurities; the same feature and threshold wherever a node is large enough
/// that no two features can cut it into the same halves (below that, which of two equal
/// splits wins depends on the random feature order).
fn same_tree(name: &str, ours: &Tree, want: &Value) -> Result<(), String> {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_same_tree(name, ours, want)
    }));
    r.map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| format!("{name}: differs"))
    })
}

fn assert_same_tree(name: &str, ours: &Tree, want: &Value) {
    let n_nodes: Vec<i64> = ours.n_node_samples.iter().map(|&n| i64::from(n)).collect();
    assert_eq!(
        n_nodes,
        ints(&want["n_node_samples"]),
        "{name}: n_node_samples"
    );
    let left: Vec<i64> = ours.children_left.iter().map(|&c| i64::from(c)).collect();
    assert_eq!(left, ints(&want["children_left"]), "{name}: children_left");
    let right: Vec<i64> = ours.children_right.iter().map(|&c| i64::from(c)).collect();
    assert_eq!(
        right,
        ints(&want["children_right"]),
        "{name}: children_right"
    );
    let (feature, threshold) = (ints(&want["feature"]), floats(&want["threshold"]));
    for i in 0..ours.node_count() {
        {
            assert_eq!(
                i64::from(ours.feature[i]),
                feature[i],
                "{name}: feature of node {i}"
            );
            assert_eq!(
                ours.threshold[i], threshold[i],
                "{name}: threshold of node {i}"
            );
        }
    }
    for (what, a, b) in [
        ("impurity", &ours.impurity, floats(&want["impurity"])),
        ("value", &ours.value, floats(&want["value"])),
    ] {
        assert_eq!(a.len(), b.len(), "{name}: {what}");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                "{name}: {what}[{i}] {x} vs {y}"
            );
        }
    }
}

#[test]
fn single_trees_are_scikit_learns() {
    let reference = reference();
    let c = classes(lcg_data(7, 400, 5, 3));
    let r = values(lcg_data(11, 400, 5, 0));
    let cases = reference["trees"].as_object().unwrap();
    assert_eq!(cases.len(), 14);
    let mut failures = Vec::new();
    for (name, case) in cases {
        let mut hps = case["params"].clone();
        hps["random_state"] = json!(0);
        let (algorithm, data) = if name.starts_with("classifier") {
            (Algorithm::DecisionTreeClassifier, &c)
        } else {
            (Algorithm::DecisionTreeRegressor, &r)
        };
        let model = fit_ok(algorithm, hps, data);
        assert_eq!(model.trees.len(), 1);
        if name == "classifier_class_weight" {
            // Fractional weights: sums rounded differently break a few near-ties deep in
            // the tree, so only the size is compared.
            let want = case["tree"]["n_node_samples"].as_array().unwrap().len();
            let got = model.trees[0].node_count();
            assert!(
                got.abs_diff(want) <= want / 20,
                "{name}: {got} nodes vs {want}"
            );
            continue;
        }
        if let Err(e) = same_tree(name, &model.trees[0], &case["tree"]) {
            failures.push(e.chars().take(300).collect::<String>());
            continue;
        }
        let want = floats(&case["tree"]["feature_importances"]);
        for (a, b) in model.feature_importances.iter().zip(&want) {
            assert!(
                (a - b).abs() < 1e-9,
                "{name}: importances {:?} vs {want:?}",
                model.feature_importances
            );
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn each_hyperparameter_changes_the_tree_as_scikit_learns_does() {
    // The reference cases differ from the default tree exactly where scikit-learn's do.
    let reference = reference();
    let trees = &reference["trees"];
    let count = |name: &str| {
        trees[name]["tree"]["n_node_samples"]
            .as_array()
            .unwrap()
            .len()
    };
    for name in [
        "classifier_entropy",
        "classifier_max_depth",
        "classifier_min_samples_split",
        "classifier_min_samples_leaf",
        "classifier_min_weight_fraction_leaf",
        "classifier_max_leaf_nodes",
        "classifier_min_impurity_decrease",
        "classifier_class_weight",
    ] {
        assert_ne!(
            trees[name]["tree"], trees["classifier_gini"]["tree"],
            "{name} should change the tree"
        );
    }
    assert_eq!(count("classifier_max_leaf_nodes"), 2 * 12 - 1);
    // `log_loss` is `entropy`.
    let c = classes(lcg_data(7, 400, 5, 3));
    let a = fit_ok(
        Algorithm::DecisionTreeClassifier,
        json!({"criterion": "log_loss"}),
        &c,
    );
    let b = fit_ok(
        Algorithm::DecisionTreeClassifier,
        json!({"criterion": "entropy"}),
        &c,
    );
    assert_eq!(a.trees[0].n_node_samples, b.trees[0].n_node_samples);
    assert_eq!(a.trees[0].n_node_samples.len(), count("classifier_entropy"));
}

#[test]
fn max_features_draws_features_and_random_state_fixes_the_draw() {
    let c = classes(lcg_data(7, 400, 5, 3));
    let fit = |hps: Value| fit_ok(Algorithm::DecisionTreeClassifier, hps, &c);
    let all = fit(json!({"random_state": 1}));
    let one_a = fit(json!({"random_state": 1, "max_features": 1}));
    let one_b = fit(json!({"random_state": 1, "max_features": 1}));
    let one_c = fit(json!({"random_state": 2, "max_features": 1}));
    assert_eq!(one_a.trees[0].feature, one_b.trees[0].feature);
    assert_ne!(one_a.trees[0].feature, one_c.trees[0].feature);
    assert_ne!(one_a.trees[0].feature, all.trees[0].feature);
}

fn accuracy(model: &TreeModel, (x, y): &(Vec<f64>, Labels)) -> f64 {
    let Labels::Classes(y) = y else {
        unreachable!()
    };
    let p = model.predict_classes(x, 5).unwrap();
    p.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

fn r2(model: &TreeModel, (x, y): &(Vec<f64>, Labels)) -> f64 {
    let Labels::Values(y) = y else { unreachable!() };
    let p = model.average(x, 5).unwrap();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let res: f64 = y.iter().zip(&p).map(|(a, b)| (a - b).powi(2)).sum();
    let tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    1.0 - res / tot
}

#[test]
fn forests_score_as_scikit_learns() {
    let reference = reference();
    let forests = &reference["forests"];
    let c = classes(lcg_data(7, 400, 5, 3));
    let ct = classes(lcg_data(8, 400, 5, 3));
    let r = values(lcg_data(11, 400, 5, 0));
    let rt = values(lcg_data(12, 400, 5, 0));
    for (name, case) in forests.as_object().unwrap() {
        let regressor = name.starts_with("regressor");
        let (mut test, mut oob) = (0.0, 0.0);
        for seed in 0..5 {
            let mut hps = case["params"].clone();
            hps["n_estimators"] = json!(50);
            hps["random_state"] = json!(seed);
            let (m, score) = if regressor {
                let m = fit_ok(Algorithm::RandomForestRegressor, hps, &r);
                let s = r2(&m, &rt);
                (m, s)
            } else {
                let m = fit_ok(Algorithm::RandomForestClassifier, hps, &c);
                let s = accuracy(&m, &ct);
                (m, s)
            };
            test += score / 5.0;
            oob += m.oob_score.unwrap_or(f64::NAN) / 5.0;
        }
        let want = case["test"].as_f64().unwrap();
        assert!(
            (test - want).abs() < 0.03,
            "{name}: test score {test} vs scikit-learn's {want}"
        );
        if let Some(want) = case["oob"].as_f64() {
            assert!(
                (oob - want).abs() < 0.03,
                "{name}: oob {oob} vs scikit-learn's {want}"
            );
        } else {
            assert!(oob.is_nan(), "{name}: an oob score without oob_score");
        }
    }
}

#[test]
fn forests_are_scikit_learns_for_the_same_random_state() {
    // The same seeds, bootstraps and feature draws as scikit-learn: the same trees, so the
    // same predictions.
    let reference = reference();
    let c = classes(lcg_data(7, 400, 5, 3));
    let ct = lcg_data(8, 100, 5, 3).0;
    let r = values(lcg_data(11, 400, 5, 0));
    let rt = lcg_data(12, 100, 5, 0).0;
    for (name, case) in reference["exact_forests"].as_object().unwrap() {
        let regressor = name.starts_with("rfr");
        let model = if regressor {
            fit_ok(Algorithm::RandomForestRegressor, case["params"].clone(), &r)
        } else {
            fit_ok(
                Algorithm::RandomForestClassifier,
                case["params"].clone(),
                &c,
            )
        };
        let want_trees = case["trees"].as_array().unwrap();
        assert_eq!(model.trees.len(), want_trees.len(), "{name}");
        for (t, (ours, want)) in model.trees.iter().zip(want_trees).enumerate() {
            let n: Vec<i64> = ours.n_node_samples.iter().map(|&v| i64::from(v)).collect();
            assert_eq!(n, ints(&want["n_node_samples"]), "{name}: tree {t}");
            let f: Vec<i64> = ours.feature.iter().map(|&v| i64::from(v)).collect();
            assert_eq!(f, ints(&want["feature"]), "{name}: tree {t}");
            assert_eq!(
                ours.threshold,
                floats(&want["threshold"]),
                "{name}: tree {t}"
            );
        }
        let got = model.average(if regressor { &rt } else { &ct }, 5).unwrap();
        let want = floats(&case["predict"]);
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{name}: {a} vs {b}"
            );
        }
        for (a, b) in model
            .feature_importances
            .iter()
            .zip(floats(&case["feature_importances"]))
        {
            assert!((a - b).abs() < 1e-9, "{name}: importances");
        }
        match case["oob"].as_f64() {
            Some(want) => {
                let got = model.oob_score.unwrap();
                assert!((got - want).abs() < 1e-9, "{name}: oob {got} vs {want}");
            }
            None => assert!(model.oob_score.is_none()),
        }
    }
}

#[test]
fn forest_hyperparameters_act_as_scikit_learns() {
    let c = classes(lcg_data(7, 400, 5, 3));
    let rfc = |hps: Value| fit_ok(Algorithm::RandomForestClassifier, hps, &c);
    // A bootstrap draws n rows with replacement: the root sees fewer distinct rows and
    // weighs n; max_samples draws fewer.
    let boot = rfc(json!({"n_estimators": 4, "random_state": 3}));
    let small = rfc(json!({"n_estimators": 4, "random_state": 3, "max_samples": 0.3}));
    for (b, s) in boot.trees.iter().zip(&small.trees) {
        assert!(b.n_node_samples[0] < 400 && b.n_node_samples[0] > 200);
        assert_eq!(b.weighted_n_node_samples[0], 400.0);
        assert!(s.n_node_samples[0] <= 120);
        assert_eq!(s.weighted_n_node_samples[0], 120.0);
    }
    let counted = rfc(json!({"n_estimators": 4, "random_state": 3, "max_samples": 50}));
    assert!(
        counted
            .trees
            .iter()
            .all(|t| t.weighted_n_node_samples[0] == 50.0)
    );
    assert_eq!(boot.trees.len(), 4);
    // The same seed gives the same forest whatever the thread count; another seed another.
    let one = rfc(json!({"n_estimators": 6, "random_state": 5, "n_jobs": 1}));
    let two = rfc(json!({"n_estimators": 6, "random_state": 5, "n_jobs": 2}));
    let all = rfc(json!({"n_estimators": 6, "random_state": 5, "n_jobs": -1}));
    let other = rfc(json!({"n_estimators": 6, "random_state": 6}));
    let doc = |m: &TreeModel| serde_json::to_string(m).unwrap();
    assert_eq!(doc(&one), doc(&two));
    assert_eq!(doc(&one), doc(&all));
    assert_ne!(doc(&one), doc(&other));
    // Balanced class weights: each class weighs n / k in total.
    let balanced = rfc(json!({"n_estimators": 2, "bootstrap": false, "class_weight": "balanced"}));
    let sub =
        rfc(json!({"n_estimators": 2, "random_state": 1, "class_weight": "balanced_subsample"}));
    for t in balanced.trees.iter().chain(&sub.trees) {
        assert!((t.weighted_n_node_samples[0] - 400.0).abs() < 1e-9);
        for v in &t.value[..3] {
            assert!((v - 1.0 / 3.0).abs() < 1e-9, "{:?}", &t.value[..3]);
        }
    }
    // Probabilities are averaged class fractions.
    let proba = boot.average(&c.0[..50], 5).unwrap();
    for row in proba.chunks(3) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    let sum: f64 = boot.feature_importances.iter().sum();
    assert!((sum - 1.0).abs() < 1e-9);
    // The regressor's default max_features is 1.0: without bootstrap every tree sees every
    // feature at the root and picks the same split; with 1 feature they differ.
    let r = values(lcg_data(11, 400, 5, 0));
    let rfr = |hps: Value| fit_ok(Algorithm::RandomForestRegressor, hps, &r);
    let all = rfr(json!({"n_estimators": 4, "bootstrap": false, "random_state": 0}));
    assert!(
        all.trees
            .iter()
            .all(|t| t.feature[0] == all.trees[0].feature[0])
    );
    assert!(
        all.trees
            .iter()
            .all(|t| t.n_node_samples[1] == all.trees[0].n_node_samples[1])
    );
    let one =
        rfr(json!({"n_estimators": 4, "bootstrap": false, "random_state": 0, "max_features": 1}));
    assert!(
        one.trees
            .iter()
            .any(|t| t.feature[0] != one.trees[0].feature[0])
    );
}

#[test]
fn bad_input_is_refused_with_scikit_learns_words() {
    let c = classes(lcg_data(7, 40, 5, 3));
    let err = |algorithm, hps: Value, data: &(Vec<f64>, Labels)| {
        fit_with(algorithm, hps, data, &Cancel::NEVER).unwrap_err()
    };
    let e = err(
        Algorithm::RandomForestClassifier,
        json!({"oob_score": true, "bootstrap": false}),
        &c,
    );
    assert!(
        e.contains("'oob_score'") && e.contains("bootstrap=True"),
        "{e}"
    );
    let e = err(
        Algorithm::RandomForestClassifier,
        json!({"max_samples": 41}),
        &c,
    );
    assert!(
        e.contains("'max_samples'") && e.contains("n_samples=40"),
        "{e}"
    );
    let e = err(
        Algorithm::RandomForestClassifier,
        json!({"max_samples": 10, "bootstrap": false}),
        &c,
    );
    assert!(
        e.contains("'max_samples'") && e.contains("bootstrap=False"),
        "{e}"
    );
    let e = err(
        Algorithm::DecisionTreeClassifier,
        json!({"min_samples_split": 41}),
        &c,
    );
    assert!(
        e.contains("'min_samples_split'") && e.contains("40 training rows"),
        "{e}"
    );
    for (bad, words) in [
        (f64::NAN, "Input X contains NaN"),
        (f64::INFINITY, "Input X contains infinity"),
        (1e39, "too large for dtype('float32')"),
    ] {
        let mut data = c.clone();
        data.0[7] = bad;
        let e = err(Algorithm::DecisionTreeClassifier, json!({}), &data);
        assert!(e.contains(words) && e.contains("value 8"), "{e}");
    }
    for (hp, value, words) in [
        (
            "criterion",
            json!("absolute"),
            "expected one of gini, entropy, log_loss",
        ),
        ("min_weight_fraction_leaf", json!(0.6), "from 0 to 0.5"),
        ("max_leaf_nodes", json!(1), "integer >= 2"),
        ("min_impurity_decrease", json!(-1.0), ">= 0"),
        ("n_jobs", json!(0), "non-zero integer"),
        ("max_samples", json!(1.5), "fraction in (0, 1]"),
        ("class_weight", json!("lopsided"), "balanced"),
    ] {
        let e = err(Algorithm::RandomForestClassifier, json!({ hp: value }), &c);
        assert!(e.contains(&format!("'{hp}'")) && e.contains(words), "{e}");
    }
    let e = err(
        Algorithm::DecisionTreeRegressor,
        json!({"criterion": "gini"}),
        &values(lcg_data(11, 40, 5, 0)),
    );
    assert!(e.contains("squared_error, friedman_mse"), "{e}");
}

#[test]
fn a_cancelled_fit_stops_between_nodes_and_trees() {
    let c = classes(lcg_data(7, 400, 5, 3));
    let calls = AtomicUsize::new(0);
    let after_ten = || calls.fetch_add(1, Ordering::Relaxed) >= 10;
    let cancel = Cancel::new(&after_ten);
    let e = fit_with(Algorithm::DecisionTreeClassifier, json!({}), &c, &cancel).unwrap_err();
    assert_eq!(e, STOPPED);
    // Ten nodes of a 139-node tree were grown, no more.
    assert_eq!(calls.load(Ordering::Relaxed), 11);
    let e = fit_with(
        Algorithm::RandomForestClassifier,
        json!({"n_jobs": 2}),
        &c,
        &cancel,
    )
    .unwrap_err();
    assert_eq!(e, STOPPED);
}

#[test]
fn a_loaded_tree_is_checked_before_use() {
    let c = classes(lcg_data(7, 100, 5, 3));
    let mut m = fit_ok(
        Algorithm::DecisionTreeClassifier,
        json!({"max_depth": 2}),
        &c,
    );
    assert!(m.validate(5).is_ok());
    assert!(m.validate(4).unwrap_err().contains("manifest says 4"));
    m.trees[0].children_left[0] = 0;
    assert!(m.validate(5).unwrap_err().contains("node 0"));
    // Thresholds compare in float32 as scikit-learn's float32 features against float64
    // thresholds do.
    assert_eq!(f32_at_most(0.1), 0.099_999_994);
    assert_eq!(f32_at_most(f64::from(0.1f32)), 0.1f32);
}
