"""The portable artifact (``sklearn_model.json``) the entry point writes beside
``model.joblib``: for every built-in on two datasets, predictions computed from the document
alone (with numpy, the way the Rust container reads it) equal the fitted scikit-learn
estimator's own. The Rust side of the same check is ``tests/parity.rs``.

Run from the repository root:

    python -m unittest discover -s crates/frameworks/sklearn/python -p 'test_*.py' -v
"""

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
from sklearn.datasets import load_diabetes, load_iris, make_classification, make_regression

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sagemaker_sklearn_builtin as builtin  # noqa: E402

sys.path.remove(HERE)


def _datasets():
    iris = load_iris()
    xc, yc = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_classes=2, weights=[0.85], random_state=0
    )
    xc[:, 2] = 3.0  # a constant feature
    diabetes = load_diabetes()
    xr, yr = make_regression(n_samples=300, n_features=5, noise=2.0, random_state=1)
    return {
        "classification": [(iris.data, iris.target), (xc * [1, 1e3, 1, 1e-3, 1, 1], yc)],
        "regression": [(diabetes.data, diabetes.target), (xr, yr + 5e3)],
        "clustering": [(iris.data, None), (xr, None)],
    }


# A few hyperparameters per algorithm, so the document carries non-default settings too.
HYPERPARAMETERS = {
    "LogisticRegression": {"max_iter": 500},
    "KNeighborsClassifier": {"n_neighbors": 7, "weights": "distance"},
    "KNeighborsRegressor": {"metric": "manhattan"},
    "GaussianNB": {"var_smoothing": 1e-6},
    "KMeans": {"n_clusters": 3, "random_state": 0},
    "RandomForestClassifier": {"n_estimators": 10, "random_state": 0},
    "RandomForestRegressor": {"n_estimators": 10, "random_state": 0},
    "DecisionTreeClassifier": {"random_state": 0},
    "DecisionTreeRegressor": {"random_state": 0, "max_depth": 6},
    "Lasso": {"alpha": 0.1},
}


def _leaf(tree, row):
    i = 0
    while tree["children_left"][i] >= 0:
        x = float(np.float32(row[tree["feature"][i]]))
        i = tree["children_left"][i] if x <= tree["threshold"][i] else tree["children_right"][i]
    return np.asarray(tree["value"][i])


def predict_from_document(doc, x):
    """Predictions (class indices, cluster ids or values) from the document alone."""
    est = doc["estimator"]
    kind = est["kind"]
    classifier = builtin._task(doc["algorithm"]) == builtin.CLASSIFICATION
    if kind == "linear":
        return x @ np.asarray(est["coef_"]) + est["intercept_"]
    if kind == "logistic":
        z = x @ np.asarray(est["coef_"]).T + np.asarray(est["intercept_"])
        return (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else np.argmax(z, axis=1)
    if kind == "gaussian_nb":
        theta, var = np.asarray(est["theta_"]), np.asarray(est["var_"])
        jll = np.log(est["class_prior_"]) - 0.5 * np.sum(np.log(2 * np.pi * var), axis=1)
        jll = jll - 0.5 * (((x[:, None, :] - theta) ** 2) / var).sum(axis=2)
        return np.argmax(jll, axis=1)
    if kind == "k_means":
        c = np.asarray(est["cluster_centers_"])
        return np.argmin(((x[:, None, :] - c) ** 2).sum(axis=2), axis=1)
    if kind == "neighbors":
        fx, y, k = np.asarray(est["_fit_X"]), np.asarray(est["_y"]), est["n_neighbors"]
        diff = np.abs(x[:, None, :] - fx)
        p = {"euclidean": 2.0, "manhattan": 1.0}.get(est["metric"], est["p"])
        dist = (diff**p).sum(axis=2) ** (1.0 / p)
        idx = np.argsort(dist, axis=1, kind="stable")[:, :k]
        d = np.take_along_axis(dist, idx, axis=1)
        if est["weights"] == "distance":
            with np.errstate(divide="ignore"):
                w = 1.0 / d
            exact = np.isinf(w)
            w[exact.any(axis=1)] = exact[exact.any(axis=1)]
        else:
            w = np.ones_like(d)
        if not classifier:
            return (w * y[idx]).sum(axis=1) / w.sum(axis=1)
        votes = np.zeros((len(x), len(doc["classes_"])))
        for c in range(votes.shape[1]):
            votes[:, c] = (w * (y[idx] == c)).sum(axis=1)
        return np.argmax(votes, axis=1)
    trees = [est["tree_"]] if kind == "tree" else est["estimators_"]
    values = np.asarray([[_leaf(t, row) for t in trees] for row in x]).mean(axis=1)
    return np.argmax(values, axis=1) if classifier else values[:, 0]


class PortableArtifact(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sm-portable-")
        cls.data = _datasets()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def train(self, algorithm, x, y, n):
        root = os.path.join(self.tmp, "%s-%d" % (algorithm, n))
        channel = os.path.join(root, "train")
        os.makedirs(channel)
        rows = x if y is None else np.column_stack([y, x])
        np.savetxt(os.path.join(channel, "train.csv"), rows, delimiter=",", fmt="%r")
        environ = {"SM_MODEL_DIR": os.path.join(root, "model"), "SM_CHANNEL_TRAINING": channel}
        with contextlib.redirect_stdout(io.StringIO()):
            builtin.train(algorithm, dict(HYPERPARAMETERS.get(algorithm, {})), environ)
        import joblib

        model_dir = environ["SM_MODEL_DIR"]
        with open(os.path.join(model_dir, builtin.PORTABLE_FILE), encoding="utf-8") as f:
            doc = json.load(f)
        return joblib.load(os.path.join(model_dir, builtin.MODEL_FILE)), doc

    def test_every_builtin_predicts_identically_from_its_document(self):
        for algorithm, (task, _) in builtin.ALGORITHMS.items():
            for n, (x, y) in enumerate(self.data[task]):
                with self.subTest(algorithm=algorithm, dataset=n):
                    est, doc = self.train(algorithm, x, y, n)
                    self.assertEqual(doc["format"], "sagemaker-sklearn-portable")
                    self.assertEqual(doc["format_version"], 1)
                    self.assertEqual(doc["algorithm"], algorithm)
                    self.assertEqual(doc["n_features_in_"], x.shape[1])
                    ours = predict_from_document(doc, x)
                    theirs = est.predict(x)
                    if task == builtin.CLASSIFICATION:
                        theirs = np.searchsorted(est.classes_, theirs)
                        np.testing.assert_array_equal(ours, theirs)
                        self.assertEqual(len(doc["classes_"]), len(est.classes_))
                    elif task == builtin.CLUSTERING:
                        np.testing.assert_array_equal(ours, theirs)
                    else:
                        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-9)

    def test_tree_values_are_fractions(self):
        x, y = self.data["classification"][0]
        _, doc = self.train("DecisionTreeClassifier", x, y, 9)
        value = np.asarray(doc["estimator"]["tree_"]["value"])
        np.testing.assert_allclose(value.sum(axis=1), 1.0)
        self.assertEqual(doc["estimator"]["tree_"]["n_node_samples"][0], len(x))


if __name__ == "__main__":
    unittest.main()
