"""Writes reference.json: scikit-learn 1.4.2's trees on data that `lcg_data` in
`../tests.rs` reproduces exactly. Run with the test venv's Python:

    python gen_reference.py > reference.json
"""

import json
import math

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor


def lcg_data(seed, n, f, k):
    """Rows of `f` features in [-2, 2); a class in 0..k (k > 0) or a regression target."""
    s = seed

    def u():
        nonlocal s
        s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
        return (s >> 11) / 2.0**53

    X, y = np.zeros((n, f)), np.zeros(n)
    for i in range(n):
        X[i] = [u() * 4.0 - 2.0 for _ in range(f)]
        if k > 0:
            scores = [(X[i, c % f] + 0.5 * X[i, (c + 1) % f]) + 1.5 * u() for c in range(k)]
            y[i] = int(np.argmax(scores))
        else:
            y[i] = 3.0 * X[i, 0] + math.sin(2.0 * X[i, 1]) + X[i, 2] * X[i, 3] + 0.5 * u()
    return X, y


def tree_doc(t):
    tr = t.tree_
    return {
        "children_left": tr.children_left.tolist(),
        "children_right": tr.children_right.tolist(),
        "feature": tr.feature.tolist(),
        "threshold": tr.threshold.tolist(),
        "impurity": tr.impurity.tolist(),
        "n_node_samples": tr.n_node_samples.tolist(),
        "value": tr.value.reshape(tr.node_count, -1).tolist(),
        "feature_importances": t.feature_importances_.tolist(),
    }


Xc, yc = lcg_data(7, 400, 5, 3)
Xr, yr = lcg_data(11, 400, 5, 0)
Xct, yct = lcg_data(8, 400, 5, 3)
Xrt, yrt = lcg_data(12, 400, 5, 0)
cases = {}
for name, params in {
    "gini": {},
    "entropy": {"criterion": "entropy"},
    "max_depth": {"max_depth": 3},
    "min_samples_split": {"min_samples_split": 40},
    "min_samples_leaf": {"min_samples_leaf": 15},
    "min_weight_fraction_leaf": {"min_weight_fraction_leaf": 0.05},
    "max_leaf_nodes": {"max_leaf_nodes": 12},
    "min_impurity_decrease": {"min_impurity_decrease": 0.01},
    "class_weight": {"class_weight": "balanced"},
}.items():
    t = DecisionTreeClassifier(random_state=0, **params).fit(Xc, yc)
    cases["classifier_" + name] = dict(params=params, tree=tree_doc(t))
for name, params in {
    "squared_error": {"max_depth": 8},
    "friedman_mse": {"criterion": "friedman_mse", "max_depth": 5},
    "max_depth": {"max_depth": 4},
    "max_leaf_nodes": {"max_leaf_nodes": 20},
    "min_impurity_decrease": {"min_impurity_decrease": 0.05},
}.items():
    t = DecisionTreeRegressor(random_state=0, **params).fit(Xr, yr)
    cases["regressor_" + name] = dict(params=params, tree=tree_doc(t))

forests = {}
for name, params in {
    "default": {},
    "max_features": {"max_features": None},
    "max_samples": {"max_samples": 0.3},
    "oob": {"oob_score": True},
}.items():
    scores = []
    for seed in range(5):
        f = RandomForestClassifier(n_estimators=50, random_state=seed, **params).fit(Xc, yc)
        scores.append(
            dict(test=f.score(Xct, yct), oob=getattr(f, "oob_score_", None))
        )
    forests["classifier_" + name] = dict(
        params=params,
        test=float(np.mean([s["test"] for s in scores])),
        oob=None if scores[0]["oob"] is None else float(np.mean([s["oob"] for s in scores])),
    )
for name, params in {"default": {}, "oob": {"oob_score": True}}.items():
    scores = []
    for seed in range(5):
        f = RandomForestRegressor(n_estimators=50, random_state=seed, **params).fit(Xr, yr)
        scores.append(dict(test=f.score(Xrt, yrt), oob=getattr(f, "oob_score_", None)))
    forests["regressor_" + name] = dict(
        params=params,
        test=float(np.mean([s["test"] for s in scores])),
        oob=None if scores[0]["oob"] is None else float(np.mean([s["oob"] for s in scores])),
    )
exact = {}
for name, (cls, params) in {
    "rfc_default": (RandomForestClassifier, dict(n_estimators=3, max_depth=8, random_state=0)),
    "rfc_no_bootstrap": (RandomForestClassifier, dict(n_estimators=2, bootstrap=False, max_depth=8, random_state=0)),
    "rfc_max_samples": (RandomForestClassifier, dict(n_estimators=3, max_samples=0.3, max_depth=8, random_state=1)),
    "rfc_oob": (RandomForestClassifier, dict(n_estimators=10, oob_score=True, max_depth=6, random_state=3)),
    "rfr_default": (RandomForestRegressor, dict(n_estimators=2, max_depth=6, random_state=0)),
    "rfr_oob": (RandomForestRegressor, dict(n_estimators=10, oob_score=True, max_depth=6, random_state=4)),
}.items():
    regressor = cls is RandomForestRegressor
    X, y, Xt = (Xr, yr, Xrt) if regressor else (Xc, yc, Xct)
    f = cls(**params).fit(X, y)
    exact[name] = dict(
        params={k: v for k, v in params.items()},
        trees=[
            {k: v for k, v in tree_doc(t).items() if k in ("n_node_samples", "feature", "threshold")}
            for t in f.estimators_
        ],
        predict=(f.predict(Xt[:100]) if regressor else f.predict_proba(Xt[:100])).reshape(-1).tolist(),
        feature_importances=f.feature_importances_.tolist(),
        oob=getattr(f, "oob_score_", None),
    )
print(
    json.dumps(
        {
            "sklearn": __import__("sklearn").__version__,
            "trees": cases,
            "forests": forests,
            "exact_forests": exact,
        }
    )
)
