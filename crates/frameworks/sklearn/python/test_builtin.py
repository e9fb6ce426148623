"""Tests of the embedded built-in entry point (``sagemaker_sklearn_builtin.py``) for real.

Each built-in algorithm is trained as SageMaker's sklearn image runs it: the wrapper ``X.py``
the Rust SDK puts next to the module in ``sourcedir.tar.gz`` is started as a subprocess
(``python X.py --hp value ...``, cwd = the code folder) with the ``SM_*`` variables and an
``/opt/ml``-like tree in a temporary folder. Then the serving functions are called in process
for every request content type and accept type.

Run from the repository root (Python with scikit-learn, e.g. from
xtask/python/requirements-test.txt):

    python -m unittest discover -s crates/frameworks/sklearn/python -p 'test_*.py' -v
"""

import concurrent.futures
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import adjusted_rand_score, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE_FILE = os.path.join(HERE, "sagemaker_sklearn_builtin.py")

# The wrapper the Rust side writes as `X.py` for algorithm X (exactly this text).
WRAPPER = (
    "from sagemaker_sklearn_builtin import input_fn, model_fn, output_fn, predict_fn, main"
    "  # noqa: F401\n"
    "\n"
    'if __name__ == "__main__":\n'
    '    main("{algorithm}")\n'
)

# The MetricDefinitions the Rust side gives a built-in job (Name -> Regex), copied verbatim.
METRIC_REGEXES = {
    "train:accuracy": r"#metrics train:accuracy=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "train:f1": r"#metrics train:f1=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "validation:accuracy": (
        r"#metrics validation:accuracy=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
    ),
    "validation:f1": r"#metrics validation:f1=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "train:r2": r"#metrics train:r2=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "train:mse": r"#metrics train:mse=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "validation:r2": r"#metrics validation:r2=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "validation:mse": r"#metrics validation:mse=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "train:inertia": r"#metrics train:inertia=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)",
    "validation:inertia": (
        r"#metrics validation:inertia=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
    ),
}
METRICS_OF_TASK = {
    "classification": ["accuracy", "f1"],
    "regression": ["r2", "mse"],
    "clustering": ["inertia"],
}

CONTENT_TYPES = [
    "text/csv",
    "text/csv; charset=utf-8",
    "application/json",
    "application/json+instances",  # {"instances": [...]} sent as application/json
    "application/jsonlines",
    "application/x-npy",
    None,  # no Content-Type: JSON
]
ACCEPTS = ["application/json", "text/csv", "application/x-npy", "*/*", None]

# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------

IRIS = load_iris()
IRIS_NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_X_TRAIN, IRIS_X_VAL, IRIS_Y_TRAIN, IRIS_Y_VAL = train_test_split(
    IRIS.data, IRIS.target, test_size=0.2, random_state=0, stratify=IRIS.target
)
DIABETES = load_diabetes()
DIAB_NAMES = list(DIABETES.feature_names)
DIAB_X_TRAIN, DIAB_X_VAL, DIAB_Y_TRAIN, DIAB_Y_VAL = train_test_split(
    DIABETES.data, DIABETES.target, test_size=0.2, random_state=4
)


def num(v):
    return repr(float(v))


def csv_text(x, y=None, header=None, target_at=None, labels=None):
    """Rows as CSV; the label (``y`` mapped through ``labels``) inserted at ``target_at``."""
    lines = []
    if header is not None:
        lines.append(",".join(header))
    for i, row in enumerate(x):
        fields = [num(v) for v in row]
        if y is not None:
            label = labels[y[i]] if labels is not None else str(int(y[i]))
            pos = len(fields) if target_at == -1 else target_at
            fields.insert(pos, label)
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def with_target(names, target_name, at):
    names = list(names)
    names.insert(len(names) if at == -1 else at, target_name)
    return names


SPECIES = list(IRIS.target_names)


def iris_files(header, target_name, at, labels):
    h = with_target(IRIS_NAMES, target_name, at) if header else None
    return {
        "training": {"train.csv": csv_text(IRIS_X_TRAIN, IRIS_Y_TRAIN, h, at, labels)},
        "validation": {"val.csv": csv_text(IRIS_X_VAL, IRIS_Y_VAL, h, at, labels)},
    }


def diabetes_files(held_out_channel="validation", split_train=False):
    header = DIAB_NAMES + ["target"]

    def text(x, y):
        lines = [",".join(header)]
        lines += [",".join([num(v) for v in row] + [num(t)]) for row, t in zip(x, y)]
        return "\n".join(lines) + "\n"

    if split_train:
        half = len(DIAB_X_TRAIN) // 2
        train = {
            "part-0.csv": text(DIAB_X_TRAIN[:half], DIAB_Y_TRAIN[:half]),
            "part-1.csv": text(DIAB_X_TRAIN[half:], DIAB_Y_TRAIN[half:]),
        }
    else:
        train = {"train.csv": text(DIAB_X_TRAIN, DIAB_Y_TRAIN)}
    return {"training": train, held_out_channel: {"held.csv": text(DIAB_X_VAL, DIAB_Y_VAL)}}


# (algorithm, hyperparameters, files, task, expected labels of the held-out rows, threshold)
CASES = {
    # String labels, named target, single-letter hyperparameter (-C), a bool.
    "LogisticRegression": (
        {"target": "species", "max_iter": 300, "C": 1.0, "fit_intercept": True},
        iris_files(True, "species", -1, SPECIES),
    ),
    # No header: the label is the first column (the default target 0); numeric labels.
    "DecisionTreeClassifier": (
        {"max_depth": 4, "random_state": 0, "criterion": "entropy"},
        iris_files(False, None, 0, None),
    ),
    # Header, numeric labels in a `target` column; null max_depth (the toolkit's empty arg).
    "RandomForestClassifier": (
        {"target": "target", "n_estimators": 50, "random_state": 0, "max_depth": None},
        iris_files(True, "target", -1, None),
    ),
    # String labels, target by index from the end.
    "KNeighborsClassifier": (
        {"target": -1, "n_neighbors": 7, "weights": "distance"},
        iris_files(True, "species", -1, SPECIES),
    ),
    # String labels in the first column of a header; priors as a list.
    "GaussianNB": (
        {"target": "variety", "priors": [0.3, 0.3, 0.4]},
        iris_files(True, "variety", 0, SPECIES),
    ),
    "LinearRegression": ({"target": "target"}, diabetes_files(split_train=True)),
    "Ridge": ({"target": "target", "alpha": 0.1}, diabetes_files("test")),
    "Lasso": ({"target": "target", "alpha": 0.05}, diabetes_files()),
    "ElasticNet": ({"target": "target", "alpha": 0.001, "l1_ratio": 0.5}, diabetes_files()),
    "DecisionTreeRegressor": (
        {"target": "target", "max_depth": 3, "random_state": 0},
        diabetes_files(),
    ),
    "RandomForestRegressor": (
        {
            "target": "target",
            "n_estimators": 60,
            "random_state": 0,
            "max_features": 0.5,
            "max_depth": 6,
        },
        diabetes_files(),
    ),
    "KNeighborsRegressor": ({"target": "target", "n_neighbors": 10}, diabetes_files()),
    "KMeans": (
        {"n_clusters": 3, "random_state": 0},
        {
            "training": {"train.csv": csv_text(IRIS_X_TRAIN, header=IRIS_NAMES)},
            "validation": {"val.csv": csv_text(IRIS_X_VAL, header=IRIS_NAMES)},
        },
    ),
}
TASKS = {
    "LogisticRegression": "classification",
    "DecisionTreeClassifier": "classification",
    "RandomForestClassifier": "classification",
    "KNeighborsClassifier": "classification",
    "GaussianNB": "classification",
    "KMeans": "clustering",
}
# Held-out R² a regressor must reach on diabetes (scikit-learn 1.4.2 reaches 0.35-0.47 here).
R2_MIN = {"DecisionTreeRegressor": 0.25}
R2_DEFAULT_MIN = 0.3

# ------------------------------------------------------------------------------------------
# A simulated training container
# ------------------------------------------------------------------------------------------


def toolkit_args(hps):
    """The command line the training toolkit builds: sorted keys, `-k` for one letter."""
    args = []
    for key in sorted(hps):
        args.append(("--%s" if len(key) > 1 else "-%s") % key)
        value = hps[key]
        if value is None:
            args.append("")
        elif isinstance(value, dict):
            args.append(",".join("%s=%s" % (k, v) for k, v in sorted(value.items())))
        else:
            args.append(str(value))
    return args


def env_value(value):
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class Job:
    def __init__(self, root, algorithm, hps, files):
        self.algorithm = algorithm
        self.hps = hps
        self.opt = os.path.join(root, "opt", "ml")
        self.code = os.path.join(self.opt, "code")
        self.model_dir = os.path.join(self.opt, "model")
        self.output = os.path.join(self.opt, "output")
        config = os.path.join(self.opt, "input", "config")
        data = os.path.join(self.opt, "input", "data")
        for d in (self.code, self.model_dir, os.path.join(self.output, "data"), config):
            os.makedirs(d, exist_ok=True)
        for channel, contents in files.items():
            os.makedirs(os.path.join(data, channel), exist_ok=True)
            for name, text in contents.items():
                with open(os.path.join(data, channel, name), "w", encoding="utf-8") as f:
                    f.write(text)
        shutil.copy(MODULE_FILE, self.code)
        with open(os.path.join(self.code, algorithm + ".py"), "w", encoding="utf-8") as f:
            f.write(WRAPPER.format(algorithm=algorithm))
        api = {k: json.dumps(v) for k, v in hps.items()}
        api.update(
            sagemaker_program=json.dumps(algorithm + ".py"),
            sagemaker_submit_directory=json.dumps("s3://bucket/job/source/sourcedir.tar.gz"),
            sagemaker_container_log_level="20",
            sagemaker_region=json.dumps("us-east-1"),
        )
        with open(os.path.join(config, "hyperparameters.json"), "w") as f:
            json.dump(api, f)
        channels = sorted(files)
        with open(os.path.join(config, "inputdataconfig.json"), "w") as f:
            json.dump({c: {"TrainingInputMode": "File"} for c in channels}, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "PYTHONPATH"))}
        env.update(
            SM_MODEL_DIR=self.model_dir,
            SM_INPUT_DIR=os.path.join(self.opt, "input"),
            SM_INPUT_CONFIG_DIR=config,
            SM_OUTPUT_DIR=self.output,
            SM_OUTPUT_DATA_DIR=os.path.join(self.output, "data"),
            SM_OUTPUT_INTERMEDIATE_DIR=os.path.join(self.output, "intermediate"),
            SM_CHANNELS=json.dumps(channels),
            SM_HPS=json.dumps(hps),
            SM_USER_ENTRY_POINT=algorithm + ".py",
            SM_MODULE_NAME=algorithm,
            SM_MODULE_DIR="s3://bucket/job/source/sourcedir.tar.gz",
            SM_CURRENT_HOST="algo-1",
            SM_HOSTS='["algo-1"]',
            SM_NUM_CPUS=str(os.cpu_count() or 1),
            SM_NUM_GPUS="0",
            SM_LOG_LEVEL="20",
            SM_USER_ARGS=json.dumps(toolkit_args(hps)),
        )
        for c in channels:
            env["SM_CHANNEL_" + c.upper()] = os.path.join(data, c)
        for k, v in hps.items():
            env["SM_HP_" + k.upper()] = "" if v is None else env_value(v)
        self.env = env
        self.proc = None

    def run(self):
        self.proc = subprocess.run(
            [sys.executable, self.algorithm + ".py"] + toolkit_args(self.hps),
            cwd=self.code,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return self

    def failure(self):
        path = os.path.join(self.output, "failure")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return f.read()

    def metrics(self):
        """Metric name -> values scraped from the log with the MetricDefinitions regexes."""
        found = {}
        for line in self.proc.stdout.splitlines():
            for name, regex in METRIC_REGEXES.items():
                m = re.search(regex, line)
                if m:
                    found.setdefault(name, []).append(float(m.group(1)))
        return found


def import_serving(job):
    """Imports the wrapper as the serving toolkit does (module SAGEMAKER_PROGRAM)."""
    sys.path.insert(0, job.code)
    try:
        sys.modules.pop(job.algorithm, None)
        return importlib.import_module(job.algorithm)
    finally:
        sys.path.remove(job.code)


def held_out_x(algorithm):
    if TASKS.get(algorithm, "regression") == "regression":
        return DIAB_X_VAL
    return IRIS_X_VAL


def encode(x, content_type):
    """A request body for rows ``x`` as the client sends it (str for the toolkit's UTF-8
    types, as sagemaker-containers decodes them; bytes otherwise)."""
    rows = [[float(v) for v in row] for row in x]
    if content_type is None or content_type == "application/json":
        return json.dumps(rows)
    if content_type == "application/json+instances":
        return json.dumps({"instances": rows})
    if content_type.startswith("text/csv"):
        return "\n".join(",".join(num(v) for v in row) for row in rows) + "\n"
    if content_type == "application/jsonlines":
        return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()
    if content_type == "application/x-npy":
        buf = io.BytesIO()
        np.save(buf, np.asarray(rows, dtype=np.float64))
        return buf.getvalue()
    raise AssertionError(content_type)


def wire_type(content_type):
    return "application/json" if content_type == "application/json+instances" else content_type


def decode(body, content_type):
    if content_type == "text/csv":
        text = body.decode("utf-8")
        assert text.endswith("\n"), text
        return text[:-1].split("\n")
    if content_type == "application/json":
        return json.loads(body.decode("utf-8"))
    if content_type == "application/x-npy":
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise AssertionError(content_type)


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


class BuiltinAlgorithms(unittest.TestCase):
    """Every built-in algorithm trained in a simulated container, then served."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sm-builtin-")
        jobs = [
            Job(os.path.join(cls.tmp, name), name, hps, files)
            for name, (hps, files) in CASES.items()
        ]
        workers = max(2, os.cpu_count() or 2)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            cls.jobs = {j.algorithm: j for j in pool.map(Job.run, jobs)}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_algorithm_is_covered(self):
        module = import_serving(self.jobs["LogisticRegression"])
        builtin = sys.modules["sagemaker_sklearn_builtin"]
        self.assertEqual(sorted(builtin.ALGORITHMS), sorted(CASES))
        self.assertEqual(len(CASES), 13)
        for name in ("input_fn", "model_fn", "output_fn", "predict_fn", "main"):
            self.assertTrue(callable(getattr(module, name)), name)
        # The regexes above are the ones the module documents for the Rust side.
        for algorithm in CASES:
            for d in builtin.metric_definitions(algorithm):
                self.assertEqual(METRIC_REGEXES[d["Name"]], d["Regex"], d["Name"])

    def check_job(self, algorithm):
        job = self.jobs[algorithm]
        out = "stdout:\n%s\nstderr:\n%s" % (job.proc.stdout, job.proc.stderr)
        self.assertEqual(job.proc.returncode, 0, out)
        self.assertIsNone(job.failure(), out)
        task = TASKS.get(algorithm, "regression")
        metrics = job.metrics()
        expected = ["%s:%s" % (p, m) for p in ("train", "validation") for m in METRICS_OF_TASK[task]]
        self.assertEqual(sorted(metrics), sorted(expected), out)
        for name in expected:
            self.assertEqual(len(metrics[name]), 1, name)
        self.assertTrue(os.path.isfile(os.path.join(job.model_dir, "model.joblib")))
        import joblib

        estimator = joblib.load(os.path.join(job.model_dir, "model.joblib"))
        self.assertEqual(type(estimator).__name__, algorithm)
        return job, {k: v[0] for k, v in metrics.items()}, estimator

    def serve_everything(self, job, estimator, expected_texts, numeric):
        """Every content type x accept; the answers must be `estimator.predict` of the rows."""
        module = import_serving(job)
        model = module.model_fn(job.model_dir)
        x = held_out_x(job.algorithm)
        predicted = estimator.predict(x)
        for content_type in CONTENT_TYPES:
            data = module.input_fn(encode(x, content_type), wire_type(content_type))
            np.testing.assert_array_equal(data, x)
            prediction = module.predict_fn(data, model)
            for accept in ACCEPTS:
                with self.subTest(content_type=content_type, accept=accept):
                    body, ctype = module.output_fn(prediction, accept)
                    want = "application/json" if accept in (None, "*/*") else accept
                    self.assertEqual(ctype, want)
                    got = decode(body, ctype)
                    if ctype == "text/csv":
                        self.assertEqual(got, expected_texts)
                        if numeric:
                            np.testing.assert_array_equal(
                                np.asarray(got, dtype=float), predicted.astype(float)
                            )
                    elif ctype == "application/json":
                        if numeric:
                            self.assertTrue(all(isinstance(v, float) for v in got))
                            np.testing.assert_array_equal(np.asarray(got), predicted.astype(float))
                        else:
                            self.assertEqual(got, list(predicted))
                            self.assertEqual(
                                body, json.dumps(list(predicted), separators=(",", ":")).encode()
                            )
                    else:
                        self.assertEqual(got.shape, (len(x),))
                        if numeric:
                            self.assertEqual(got.dtype, np.dtype("<f8"))
                            np.testing.assert_array_equal(got, predicted.astype(float))
                        else:
                            self.assertEqual(got.dtype.kind, "U")
                            self.assertEqual(list(got), list(predicted))
                            buf = io.BytesIO()
                            np.save(buf, np.array([str(p) for p in predicted]))
                            self.assertEqual(body, buf.getvalue())
        # One row sent as a flat JSON list, and as a 1-D NPY array.
        one = module.input_fn(json.dumps([float(v) for v in x[0]]), "application/json")
        self.assertEqual(one.shape, (1, x.shape[1]))
        buf = io.BytesIO()
        np.save(buf, x[0])
        one = module.input_fn(buf.getvalue(), "application/x-npy")
        prediction = module.predict_fn(one, model)
        np.testing.assert_array_equal(prediction.values, estimator.predict(x[:1]))
        body, _ = module.output_fn(prediction, "text/csv")
        self.assertEqual(body.decode(), prediction.texts[0] + "\n")
        self.assertEqual(float(prediction.texts[0]) if numeric else prediction.texts[0],
                         float(prediction.values[0]) if numeric else str(prediction.values[0]))
        return model

    def check_classifier(self, algorithm, labels):
        job, metrics, estimator = self.check_job(algorithm)
        x, truth = IRIS_X_VAL, IRIS_Y_VAL
        predicted = estimator.predict(x)
        truth_labels = [labels[t] for t in truth] if labels else list(truth)
        if labels:
            self.assertEqual(list(estimator.classes_), labels)
            texts = [str(p) for p in predicted]
        else:
            self.assertEqual(list(estimator.classes_), [0, 1, 2])
            texts = [str(int(p)) for p in predicted]
        accuracy = float(np.mean([p == t for p, t in zip(predicted, truth_labels)]))
        self.assertGreaterEqual(accuracy, 0.9, algorithm)
        self.assertAlmostEqual(metrics["validation:accuracy"], accuracy, places=12)
        self.assertGreaterEqual(metrics["validation:f1"], 0.85)
        self.assertGreaterEqual(metrics["train:accuracy"], 0.9)
        self.serve_everything(job, estimator, texts, numeric=not labels)

    def check_regressor(self, algorithm):
        job, metrics, estimator = self.check_job(algorithm)
        predicted = estimator.predict(DIAB_X_VAL)
        r2 = r2_score(DIAB_Y_VAL, predicted)
        self.assertGreaterEqual(r2, R2_MIN.get(algorithm, R2_DEFAULT_MIN), algorithm)
        self.assertAlmostEqual(metrics["validation:r2"], r2, places=9)
        mse = mean_squared_error(DIAB_Y_VAL, predicted)
        self.assertAlmostEqual(metrics["validation:mse"] / mse, 1.0, places=9)
        train_r2 = r2_score(DIAB_Y_TRAIN, estimator.predict(DIAB_X_TRAIN))
        self.assertAlmostEqual(metrics["train:r2"], train_r2, places=9)
        self.serve_everything(job, estimator, [repr_rust(p) for p in predicted], numeric=True)

    def test_logistic_regression_string_labels(self):
        self.check_classifier("LogisticRegression", SPECIES)
        log = self.jobs["LogisticRegression"].proc.stdout
        self.assertIn("LogisticRegression: 120 rows, 4 features, 3 classes", log)
        self.assertIn("setosa, versicolor, virginica", log)

    def test_decision_tree_classifier_no_header_first_column(self):
        self.check_classifier("DecisionTreeClassifier", None)

    def test_random_forest_classifier_numeric_target_column(self):
        self.check_classifier("RandomForestClassifier", None)
        estimator = self.check_job("RandomForestClassifier")[2]
        self.assertIsNone(estimator.max_depth)
        self.assertEqual(estimator.n_estimators, 50)

    def test_k_neighbors_classifier(self):
        self.check_classifier("KNeighborsClassifier", SPECIES)

    def test_gaussian_nb_priors(self):
        self.check_classifier("GaussianNB", SPECIES)
        estimator = self.check_job("GaussianNB")[2]
        np.testing.assert_allclose(estimator.class_prior_, [0.3, 0.3, 0.4])

    def test_linear_regression_two_files(self):
        self.check_regressor("LinearRegression")
        with open(os.path.join(self.jobs["LinearRegression"].model_dir, "builtin_manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["training_rows"], len(DIAB_X_TRAIN))
        self.assertEqual(manifest["feature_names"], DIAB_NAMES)
        self.assertEqual(manifest["target_name"], "target")

    def test_ridge_test_channel(self):
        self.check_regressor("Ridge")

    def test_lasso(self):
        self.check_regressor("Lasso")

    def test_elastic_net(self):
        self.check_regressor("ElasticNet")
        estimator = self.check_job("ElasticNet")[2]
        self.assertEqual((estimator.alpha, estimator.l1_ratio), (0.001, 0.5))

    def test_decision_tree_regressor(self):
        self.check_regressor("DecisionTreeRegressor")

    def test_random_forest_regressor(self):
        self.check_regressor("RandomForestRegressor")

    def test_k_neighbors_regressor(self):
        self.check_regressor("KNeighborsRegressor")

    def test_kmeans(self):
        job, metrics, estimator = self.check_job("KMeans")
        clusters = estimator.predict(IRIS_X_VAL)
        self.assertGreaterEqual(adjusted_rand_score(IRIS_Y_VAL, clusters), 0.6)
        inertia = sum(
            float(((IRIS_X_VAL[clusters == c] - IRIS_X_VAL[clusters == c].mean(axis=0)) ** 2).sum())
            for c in np.unique(clusters)
        )
        self.assertAlmostEqual(metrics["validation:inertia"] / inertia, 1.0, places=9)
        self.assertGreater(metrics["train:inertia"], metrics["validation:inertia"])
        self.serve_everything(job, estimator, [str(int(c)) for c in clusters], numeric=True)

    def test_serving_bad_requests(self):
        job = self.jobs["LogisticRegression"]
        module = import_serving(job)
        model = module.model_fn(job.model_dir)
        bad = [
            ("5.1,3.5,1.4\n", "text/csv", 400, "row 1: 3 values, the model expects 4 features"),
            ("1,2,3,4\n1,2,abc,4\n", "text/csv", 400, "row 2, column 3: value 'abc' is not a number"),
            ("1,2,3,nan\n", "text/csv", 400, "row 1, column 4: value 'nan' is not a finite number"),
            ("1,2,,4\n", "text/csv", 400, "row 1, column 3: value '' is empty"),
            ("\n\n", "text/csv", 400, "the body holds no rows"),
            ("[[1,2,3]]", "application/json", 400, "row 1: 3 values, the model expects 4 features"),
            ('[[1,2,3,"x"]]', "application/json", 400, 'row 1, column 4: "x" is not a finite number'),
            ("[[1,2,3,4]", "application/json", 400, "invalid JSON"),
            ('{"rows": []}', "application/json", 400, 'expected a list of rows, a single row, or {"instances": [...]}'),
            (b"[1,2,3,4]\n[1,2]\n", "application/jsonlines", 400, "line 2: row 1: 2 values, the model expects 4 features"),
            (b"not npy", "application/x-npy", 400, "invalid NPY"),
            ("1,2,3,4", "text/plain", 415, "content type 'text/plain' is not supported; use text/csv, application/json or application/x-npy"),
        ]
        buf = io.BytesIO()
        np.save(buf, np.zeros((2, 3)))
        bad.append((buf.getvalue(), "application/x-npy", 400, "NPY shape [2, 3]: the model expects rows of 4 features"))
        for body, content_type, status, message in bad:
            with self.subTest(body=body, content_type=content_type):
                with self.assertRaises(ValueError) as ctx:
                    module.input_fn(body, content_type)
                self.assertEqual(ctx.exception.status_code, status)
                self.assertIn(message, str(ctx.exception))
        prediction = module.predict_fn(module.input_fn("1,2,3,4\n", "text/csv"), model)
        with self.assertRaises(ValueError) as ctx:
            module.output_fn(prediction, "image/png")
        self.assertEqual(ctx.exception.status_code, 406)
        self.assertIn("Accept 'image/png' is not supported", str(ctx.exception))
        # predict_fn checks the width itself too (input_fn before any model_fn).
        with self.assertRaises(ValueError) as ctx:
            module.predict_fn(np.zeros((2, 5)), model)
        self.assertIn("5 values per row, the model expects 4 features", str(ctx.exception))


def repr_rust(v):
    """Rust's `{}` of a float, as the local endpoint's CSV answers print it."""
    return sys.modules["sagemaker_sklearn_builtin"].fmt_f64(v)


class BadTrainingInput(unittest.TestCase):
    """Bad hyperparameters and data fail the job: exit status 1, stderr and the failure file."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sm-builtin-bad-")
        files = iris_files(True, "label", -1, SPECIES)
        cases = {
            "unknown": ("LogisticRegression", {"target": "label", "max_depth": 3}, files),
            "bad_value": ("LogisticRegression", {"target": "label", "max_iter": "lots"}, files),
            "missing_target": ("RandomForestClassifier", {"target": "species"}, files),
            "kmeans_target": ("KMeans", {"target": "label", "n_clusters": 3}, files),
            "priors": ("GaussianNB", {"target": "label", "priors": [0.5, 0.2]}, files),
            "no_training": ("Ridge", {}, {"validation": files["validation"]}),
            "string_regression": ("Ridge", {"target": "label"}, files),
            "ragged": (
                "DecisionTreeClassifier",
                {},
                {"training": {"train.csv": "0,1.5,2\n1,3\n"}},
            ),
        }
        jobs = [
            (key, Job(os.path.join(cls.tmp, key), algorithm, hps, f))
            for key, (algorithm, hps, f) in cases.items()
        ]
        workers = max(2, os.cpu_count() or 2)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            ran = list(pool.map(lambda kj: (kj[0], kj[1].run()), jobs))
        cls.jobs = dict(ran)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check_fails(self, key, message):
        job = self.jobs[key]
        self.assertEqual(job.proc.returncode, 1, job.proc.stdout + job.proc.stderr)
        self.assertIn(message, job.proc.stderr)
        self.assertIn(message, job.failure())
        self.assertFalse(os.path.exists(os.path.join(job.model_dir, "model.joblib")))

    def test_unknown_hyperparameter(self):
        self.check_fails(
            "unknown",
            "hyperparameter 'max_depth' is not accepted by LogisticRegression; accepted: "
            "C, max_iter, tol, fit_intercept, penalty, solver, random_state, target",
        )

    def test_bad_value(self):
        self.check_fails(
            "bad_value",
            "hyperparameter 'max_iter' of LogisticRegression: expected an integer >= 1, "
            'got "lots"',
        )

    def test_missing_target_column(self):
        self.check_fails(
            "missing_target",
            "channel 'training': target column 'species' is missing from train.csv "
            "(columns: sepal_length, sepal_width, petal_length, petal_width, label)",
        )

    def test_kmeans_takes_no_target(self):
        self.check_fails("kmeans_target", "KMeans takes no target; remove the 'target' hyperparameter")

    def test_priors_must_sum_to_one(self):
        self.check_fails(
            "priors", "hyperparameter 'priors' of GaussianNB: the priors must sum to 1, they sum to 0.7"
        )

    def test_training_channel_missing(self):
        self.check_fails("no_training", "the 'training' channel is missing (channels: validation)")

    def test_regression_needs_numbers(self):
        self.check_fails(
            "string_regression",
            "channel 'training', data row 1: target value 'setosa' is not a number "
            "(Ridge needs numeric targets)",
        )

    def test_ragged_row(self):
        self.check_fails(
            "ragged", "channel 'training': train.csv, line 2: 2 columns, expected 3 (ragged row)"
        )


class Hyperparameters(unittest.TestCase):
    """params.rs's rules, in process."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, HERE)
        try:
            cls.m = importlib.import_module("sagemaker_sklearn_builtin")
        finally:
            sys.path.remove(HERE)

    def test_defaults_are_sklearns(self):
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        from sklearn.linear_model import LogisticRegression

        m = self.m
        p = m.validate("LogisticRegression", {})
        self.assertEqual((p["C"], p["max_iter"], p["tol"], p["penalty"]), (1.0, 100, 1e-4, "l2"))
        self.assertEqual(m.validate("KNeighborsClassifier", {})["n_neighbors"], 5)
        self.assertEqual(m.validate("RandomForestClassifier", {})["max_features"], "sqrt")
        for name, cls in [
            ("LogisticRegression", LogisticRegression),
            ("RandomForestClassifier", RandomForestClassifier),
            ("RandomForestRegressor", RandomForestRegressor),
        ]:
            defaults = cls().get_params()
            for key, value in m.validate(name, {}).items():
                self.assertEqual(defaults[key], value, (name, key))

    def test_values_convert_like_the_local_container(self):
        m = self.m
        p = m.validate(
            "LogisticRegression",
            {"sagemaker_program": "x", "target": "y", "max_iter": "200", "penalty": "none",
             "fit_intercept": "False"},
        )
        self.assertEqual((p["max_iter"], p["penalty"], p["fit_intercept"]), (200, None, False))
        self.assertEqual(m.validate("RandomForestClassifier", {"max_features": 2})["max_features"], 2)
        self.assertEqual(m.validate("RandomForestClassifier", {"max_features": 0.5})["max_features"], 0.5)
        self.assertIsNone(m.validate("DecisionTreeClassifier", {"max_depth": "None"})["max_depth"])
        for algorithm, hps, message in [
            ("LogisticRegression", {"C": 0}, "expected a number > 0, got 0"),
            ("RandomForestClassifier", {"max_features": 0}, 'expected "sqrt", "log2", null'),
            ("ElasticNet", {"l1_ratio": 1.5}, "expected a number from 0 to 1, got 1.5"),
            ("KNeighborsClassifier", {"weights": "far"}, "expected one of uniform, distance"),
            ("DecisionTreeClassifier", {"random_state": -1}, "expected null or an integer >= 0"),
            ("LogisticRegression", {"fit_intercept": "yes"}, "expected true or false"),
        ]:
            with self.assertRaises(m.ClientError) as ctx:
                m.validate(algorithm, hps)
            self.assertIn(message, str(ctx.exception))

    def test_command_line_decoding(self):
        m = self.m
        env = {"SM_HPS": json.dumps({"target": "1", "max_depth": None, "priors": [0.5, 0.5]})}
        hps = m.load_hyperparameters(
            ["--max_depth", "", "--priors", "[0.5, 0.5]", "--target", "1", "-C", "2"], env
        )
        # Typed from SM_HPS where the text agrees: the column named "1" stays a name.
        self.assertEqual(hps, {"max_depth": None, "priors": [0.5, 0.5], "target": "1", "C": 2})
        self.assertEqual(m.load_hyperparameters(["--target", "-1"], {}), {"target": -1})
        self.assertEqual(m.load_hyperparameters([], env)["target"], "1")

    def test_number_formats(self):
        m = self.m
        self.assertEqual(m.fmt_f64(1.0), "1")
        self.assertEqual(m.fmt_f64(0.1), "0.1")
        self.assertEqual(m.fmt_f64(1e-7), "0.0000001")
        self.assertEqual(m.fmt_f64(1e16), "10000000000000000")
        self.assertEqual(m.parse_number("1_0"), (None, "is not a number"))
        self.assertEqual(m.parse_number("inf"), (None, "is not a finite number"))
        self.assertEqual(m.split_fields('"a",b, "x, ""y"""'), ["a", "b", 'x, "y"'])


if __name__ == "__main__":
    unittest.main()
