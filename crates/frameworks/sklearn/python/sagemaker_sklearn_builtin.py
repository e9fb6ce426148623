"""The built-in algorithms of the sagemaker Rust SDK, on SageMaker's real scikit-learn image.

The Rust SDK's ``SKLearn`` estimator accepts a built-in entry point named after a scikit-learn
estimator (``LogisticRegression``, ``RandomForestClassifier``, ...). On the local backend the
in-process container of ``crates/frameworks/sklearn`` runs it; on AWS the SDK uploads this module
together with a two-line wrapper ``X.py`` (for algorithm ``X``) as ``sourcedir.tar.gz``::

    from sagemaker_sklearn_builtin import input_fn, model_fn, output_fn, predict_fn, main  # noqa: F401

    if __name__ == "__main__":
        main("X")

Training (``python X.py --name value ...``, run by the training toolkit in ``/opt/ml/code``)
mirrors the local container: the same hyperparameter names, defaults and validation
(``src/params.rs``), the same CSV reading (``src/data.rs``: every file of a channel in name
order, a first row of non-numeric fields is a header, ``target`` picks the label column by name
or by index, 0 when unset; string labels are kept), the same metrics printed as
``#metrics train:accuracy=0.98`` lines (``train:*`` on the first 1 000 training rows,
``validation:*`` on the ``validation`` or else ``test`` channel: ``accuracy`` and macro ``f1``
for classifiers, ``r2`` and ``mse`` for regressors, ``inertia`` for KMeans). It saves
``model.joblib`` (the fitted scikit-learn estimator, loadable with ``joblib.load``) and
``builtin_manifest.json`` (algorithm, features, classes, hyperparameters) to ``SM_MODEL_DIR``.
Bad input exits with status 1, the message on stderr and in ``<SM_OUTPUT_DIR>/failure``.

Serving (the toolkit imports ``X`` and calls the four functions) accepts ``text/csv``,
``application/json`` (a row, a list of rows or ``{"instances": [...]}``),
``application/jsonlines`` and ``application/x-npy``, and answers ``application/json``
(the default, also for ``*/*``), ``text/csv`` (one prediction a line) or ``application/x-npy``
with the same bodies as the local endpoint. ``output_fn`` returns ``(body, content_type)``.

Known differences from the local container (unavoidable):

* Numbers in JSON answers are written by Python's ``json`` (``1e-07``, ``1e+16``) where the
  local endpoint writes ``1e-7``, ``1e16``; the values are the same. CSV answers and metric
  lines use the local container's (Rust's) plain decimal form.
* Error statuses: the local endpoint answers 400 (bad body), 415 (content type) and 406
  (accept). Here the functions raise ``RequestError`` (a ``ValueError``) carrying the same
  message and a ``status_code``; the sklearn image's Flask stack re-raises every exception of a
  user function as its ``ClientError`` and answers HTTP 500 (the message is in the endpoint's
  CloudWatch log). JSON syntax error messages are Python's, not serde's.
* The models are scikit-learn's, not smartcore's, so fitted values (and hence metrics and
  predictions) differ slightly; ``random_state`` null draws a fresh seed in both.
* The job's ``FailureReason`` is this module's message prefixed by SageMaker
  (``AlgorithmError: ...``) where the local backend writes ``ClientError: ...``.
* Artifacts are not interchangeable: the local container writes ``manifest.json`` +
  ``model.json`` (smartcore), this module ``model.joblib`` + ``builtin_manifest.json``.

Dependencies: the standard library, numpy, scipy, scikit-learn (1.2 to 1.4) and joblib.
"""

import ast
import io
import json
import math
import os
import re
import sys
import time
import traceback
from decimal import Decimal

import numpy as np

# ------------------------------------------------------------------------------------------
# Constants shared with the Rust side
# ------------------------------------------------------------------------------------------

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "builtin_manifest.json"
FORMAT_VERSION = 1
TRAIN_SCORE_ROWS = 1000

CLASSIFICATION = "classification"
REGRESSION = "regression"
CLUSTERING = "clustering"

# Hyperparameter kinds (params.rs `Kind`).
_POS = ("positive_float",)
_NONNEG = ("non_negative_float",)
_FRACTION = ("fraction",)
_BOOL = ("bool",)
_SEED = ("seed",)
_MAX_FEATURES = ("max_features",)
_PRIORS = ("priors",)
_N_JOBS = ("n_jobs",)
_MAX_SAMPLES = ("max_samples",)


def _int_at_least(n):
    return ("int_at_least", n)


def _opt_int_at_least(n):
    return ("opt_int_at_least", n)


def _choice(*names):
    return ("choice", names)


def _opt_choice(*names):
    return ("opt_choice", names)


def _float_in(lo, hi):
    return ("float_in", lo, hi)


_SEED_HP = ("random_state", None, _SEED)
_MAX_DEPTH = ("max_depth", None, _opt_int_at_least(1))
_MIN_SPLIT = ("min_samples_split", 2, _int_at_least(2))
_MIN_LEAF = ("min_samples_leaf", 1, _int_at_least(1))
_CRITERION = ("criterion", "gini", _choice("gini", "entropy", "log_loss"))
_REG_CRITERION = ("criterion", "squared_error", _choice("squared_error", "friedman_mse"))
_MIN_WEIGHT_LEAF = ("min_weight_fraction_leaf", 0.0, _float_in(0.0, 0.5))
_MAX_LEAF_NODES = ("max_leaf_nodes", None, _opt_int_at_least(2))
_MIN_DECREASE = ("min_impurity_decrease", 0.0, _NONNEG)
_TREE_MAX_FEATURES = ("max_features", None, _MAX_FEATURES)
_N_ESTIMATORS = ("n_estimators", 100, _int_at_least(1))
_BOOTSTRAP = ("bootstrap", True, _BOOL)
_OOB_SCORE = ("oob_score", False, _BOOL)
_N_JOBS_HP = ("n_jobs", None, _N_JOBS)
_MAX_SAMPLES_HP = ("max_samples", None, _MAX_SAMPLES)
_KNN = [
    ("n_neighbors", 5, _int_at_least(1)),
    ("weights", "uniform", _choice("uniform", "distance")),
    ("algorithm", "auto", _choice("auto", "brute", "kd_tree", "ball_tree")),
    ("p", 2, _POS),
    ("metric", "minkowski", _choice("minkowski", "euclidean", "manhattan")),
]
_FIT_INTERCEPT = ("fit_intercept", True, _BOOL)
_POSITIVE = ("positive", False, _BOOL)
_SELECTION = ("selection", "cyclic", _choice("cyclic", "random"))

#: name -> (task, [(hyperparameter, default, kind)]) in params.rs order.
ALGORITHMS = {
    "LogisticRegression": (
        CLASSIFICATION,
        [
            ("C", 1.0, _POS),
            ("max_iter", 100, _int_at_least(1)),
            ("tol", 0.0001, _POS),
            ("fit_intercept", True, _BOOL),
            ("penalty", "l2", _opt_choice("l2", "none")),
            ("solver", "lbfgs", _choice("lbfgs")),
            _SEED_HP,
        ],
    ),
    "LinearRegression": (REGRESSION, [_FIT_INTERCEPT]),
    "Ridge": (REGRESSION, [("alpha", 1.0, _NONNEG), _FIT_INTERCEPT]),
    "Lasso": (
        REGRESSION,
        [
            ("alpha", 1.0, _POS),
            ("max_iter", 1000, _int_at_least(1)),
            ("tol", 0.0001, _POS),
            _FIT_INTERCEPT,
            _POSITIVE,
            _SELECTION,
            _SEED_HP,
        ],
    ),
    "ElasticNet": (
        REGRESSION,
        [
            ("alpha", 1.0, _POS),
            ("l1_ratio", 0.5, _FRACTION),
            ("max_iter", 1000, _int_at_least(1)),
            ("tol", 0.0001, _POS),
            _FIT_INTERCEPT,
            _POSITIVE,
            _SELECTION,
            _SEED_HP,
        ],
    ),
    "DecisionTreeClassifier": (
        CLASSIFICATION,
        [
            _CRITERION,
            _MAX_DEPTH,
            _MIN_SPLIT,
            _MIN_LEAF,
            _MIN_WEIGHT_LEAF,
            _TREE_MAX_FEATURES,
            _SEED_HP,
            _MAX_LEAF_NODES,
            _MIN_DECREASE,
            ("class_weight", None, _opt_choice("balanced")),
        ],
    ),
    "DecisionTreeRegressor": (
        REGRESSION,
        [
            _REG_CRITERION,
            _MAX_DEPTH,
            _MIN_SPLIT,
            _MIN_LEAF,
            _MIN_WEIGHT_LEAF,
            _TREE_MAX_FEATURES,
            _SEED_HP,
            _MAX_LEAF_NODES,
            _MIN_DECREASE,
        ],
    ),
    "RandomForestClassifier": (
        CLASSIFICATION,
        [
            _N_ESTIMATORS,
            _CRITERION,
            _MAX_DEPTH,
            _MIN_SPLIT,
            _MIN_LEAF,
            _MIN_WEIGHT_LEAF,
            ("max_features", "sqrt", _MAX_FEATURES),
            _MAX_LEAF_NODES,
            _MIN_DECREASE,
            _BOOTSTRAP,
            _OOB_SCORE,
            _N_JOBS_HP,
            _SEED_HP,
            ("class_weight", None, _opt_choice("balanced", "balanced_subsample")),
            _MAX_SAMPLES_HP,
        ],
    ),
    "RandomForestRegressor": (
        REGRESSION,
        [
            _N_ESTIMATORS,
            _REG_CRITERION,
            _MAX_DEPTH,
            _MIN_SPLIT,
            _MIN_LEAF,
            _MIN_WEIGHT_LEAF,
            ("max_features", 1.0, _MAX_FEATURES),
            _MAX_LEAF_NODES,
            _MIN_DECREASE,
            _BOOTSTRAP,
            _OOB_SCORE,
            _N_JOBS_HP,
            _SEED_HP,
            _MAX_SAMPLES_HP,
        ],
    ),
    "KNeighborsClassifier": (CLASSIFICATION, list(_KNN)),
    "KNeighborsRegressor": (REGRESSION, list(_KNN)),
    "GaussianNB": (
        CLASSIFICATION,
        [("priors", None, _PRIORS), ("var_smoothing", 1e-9, _NONNEG)],
    ),
    "KMeans": (
        CLUSTERING,
        [
            ("n_clusters", 8, _int_at_least(1)),
            ("max_iter", 300, _int_at_least(1)),
            _SEED_HP,
        ],
    ),
}

#: The MetricDefinitions the Rust side gives a built-in job: the value is the first group.
METRIC_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def metric_definitions(algorithm):
    """The job's ``MetricDefinitions`` for ``algorithm``: ``[{"Name", "Regex"}]``."""
    task = _task(algorithm)
    names = {
        CLASSIFICATION: ["accuracy", "f1"],
        REGRESSION: ["r2", "mse"],
        CLUSTERING: ["inertia"],
    }[task]
    return [
        {"Name": "%s:%s" % (prefix, n), "Regex": "#metrics %s:%s=%s" % (prefix, n, METRIC_NUMBER)}
        for prefix in ("train", "validation")
        for n in names
    ]


class ClientError(Exception):
    """Bad input (hyperparameters or data): the job fails with this message."""


class RequestError(ValueError):
    """A request the endpoint cannot answer; ``status_code`` is the local endpoint's status."""

    def __init__(self, message, status_code=400):
        super().__init__(message)
        self.status_code = status_code


class UnsupportedContentTypeError(RequestError):
    def __init__(self, message):
        super().__init__(message, 415)


class UnsupportedAcceptError(RequestError):
    def __init__(self, message):
        super().__init__(message, 406)


# ------------------------------------------------------------------------------------------
# Small helpers: Rust-compatible number parsing and formatting, JSON display
# ------------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_SPECIAL = re.compile(r"^[+-]?(?:inf|infinity|nan)$", re.IGNORECASE)
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def _rust_f64(text):
    """``text.parse::<f64>()`` of Rust: a float or None (no underscores, no spaces)."""
    if _DECIMAL.match(text) or _SPECIAL.match(text):
        return float(text)
    return None


def parse_number(field):
    """data.rs ``parse_number``: (value, None) or (None, why)."""
    if field == "":
        return None, "is empty"
    v = _rust_f64(field)
    if v is None:
        return None, "is not a number"
    if not math.isfinite(v):
        return None, "is not a finite number"
    return v, None


def fmt_f64(value):
    """A float as Rust's ``{}`` prints it: shortest round-trip digits, never an exponent."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _show(v):
    """A value as serde_json displays it (compact JSON)."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------------------------------
# Hyperparameters (params.rs)
# ------------------------------------------------------------------------------------------


def _task(algorithm):
    if algorithm not in ALGORITHMS:
        raise ClientError(
            "unknown entry point '%s'; the built-in entry points are: %s"
            % (algorithm, ", ".join(ALGORITHMS))
        )
    return ALGORITHMS[algorithm][0]


def accepted_names(algorithm):
    task, defs = ALGORITHMS[algorithm]
    names = [d[0] for d in defs]
    if task != CLUSTERING:
        names.append("target")
    return names


def is_reserved(key):
    return key.startswith("sagemaker_") or key.startswith("_")


def _as_f64(v):
    if _is_num(v):
        return float(v)
    if isinstance(v, str):
        return _rust_f64(v.strip())
    return None


def _as_i64(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) and v == int(v) else None
    if isinstance(v, str):
        s = v.strip()
        return int(s) if _INTEGER.match(s) else None
    return None


def _is_null(v):
    return v is None or v in ("None", "null")


def _check(kind, v):
    got = "got " + _show(v)
    tag = kind[0]
    if tag == "positive_float":
        f = _as_f64(v)
        if f is not None and f > 0 and math.isfinite(f):
            return f
        raise ValueError("expected a number > 0, " + got)
    if tag == "non_negative_float":
        f = _as_f64(v)
        if f is not None and f >= 0 and math.isfinite(f):
            return f
        raise ValueError("expected a number >= 0, " + got)
    if tag == "fraction":
        f = _as_f64(v)
        if f is not None and 0.0 <= f <= 1.0:
            return f
        raise ValueError("expected a number from 0 to 1, " + got)
    if tag == "int_at_least":
        i = _as_i64(v)
        if i is not None and i >= kind[1]:
            return i
        raise ValueError("expected an integer >= %d, %s" % (kind[1], got))
    if tag == "opt_int_at_least":
        if _is_null(v):
            return None
        i = _as_i64(v)
        if i is not None and i >= kind[1]:
            return i
        raise ValueError("expected null or an integer >= %d, %s" % (kind[1], got))
    if tag == "seed":
        if _is_null(v):
            return None
        i = _as_i64(v)
        if i is not None and i >= 0:
            return i
        raise ValueError("expected null or an integer >= 0, " + got)
    if tag == "bool":
        if isinstance(v, bool):
            return v
        if v in ("True", "true"):
            return True
        if v in ("False", "false"):
            return False
        raise ValueError("expected true or false, " + got)
    if tag == "choice":
        if isinstance(v, str) and v in kind[1]:
            return v
        raise ValueError("expected one of %s, %s" % (", ".join(kind[1]), got))
    if tag == "opt_choice":
        if _is_null(v):
            return None
        if isinstance(v, str) and v in kind[1]:
            return None if v == "none" else v
        raise ValueError("expected null or one of %s, %s" % (", ".join(kind[1]), got))
    if tag == "max_features":
        if _is_null(v):
            return None
        if v in ("sqrt", "log2"):
            return v
        if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            return v
        if _is_num(v) and not isinstance(v, int) and 0.0 < v <= 1.0:
            return float(v)
        raise ValueError(
            'expected "sqrt", "log2", null, an integer >= 1 or a fraction in (0, 1], ' + got
        )
    if tag == "float_in":
        f = _as_f64(v)
        if f is not None and kind[1] <= f <= kind[2]:
            return f
        raise ValueError(
            "expected a number from %s to %s, %s" % (fmt_f64(kind[1]), fmt_f64(kind[2]), got)
        )
    if tag == "n_jobs":
        if _is_null(v):
            return None
        i = _as_i64(v)
        if i is not None and i != 0:
            return i
        raise ValueError("expected null, -1 (every core) or a non-zero integer, " + got)
    if tag == "max_samples":
        if _is_null(v):
            return None
        if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            return v
        if _is_num(v) and not isinstance(v, int) and 0.0 < v <= 1.0:
            return float(v)
        raise ValueError("expected null, an integer >= 1 or a fraction in (0, 1], " + got)
    if tag == "priors":
        if _is_null(v):
            return None
        if isinstance(v, list) and v:
            values = [_as_f64(x) for x in v]
            if all(x is not None and x >= 0 for x in values):
                total = sum(values)
                if abs(total - 1.0) > 1e-6:
                    raise ValueError("the priors must sum to 1, they sum to " + fmt_f64(total))
                return values
        raise ValueError("expected null or a list of probabilities, " + got)
    raise AssertionError(tag)


def validate(algorithm, given):
    """params.rs ``validate``: the algorithm's hyperparameters with defaults filled in, from
    decoded values. Raises ``ClientError`` naming the hyperparameter."""
    task, defs = ALGORITHMS[algorithm]
    names = [d[0] for d in defs]
    for key in sorted(given):
        if is_reserved(key):
            continue
        if key == "target":
            if task == CLUSTERING:
                raise ClientError(
                    "%s takes no target; remove the 'target' hyperparameter" % algorithm
                )
            continue
        if key not in names:
            raise ClientError(
                "hyperparameter '%s' is not accepted by %s; accepted: %s"
                % (key, algorithm, ", ".join(accepted_names(algorithm)))
            )
    values = {}
    for name, default, kind in defs:
        if name in given:
            try:
                values[name] = _check(kind, given[name])
            except ValueError as e:
                raise ClientError("hyperparameter '%s' of %s: %s" % (name, algorithm, e))
        else:
            values[name] = default
    return values


def target_of(algorithm, hps):
    """container.rs ``target_of``: None (no label), an int index or a column name."""
    if _task(algorithm) == CLUSTERING:
        return None
    if "target" not in hps:
        return 0
    v = hps["target"]
    if isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise ClientError("target must be a column name or an integer index, got " + _show(v))


def _toolkit_text(value):
    """How the training toolkit writes a hyperparameter on the command line."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ",".join("%s=%s" % (k, v) for k, v in sorted(value.items()))
    return str(value)


def _decode_cli(text):
    """A command-line value decoded like the toolkit decodes the API's strings."""
    if text == "":
        return None  # the toolkit writes null as an empty argument
    try:
        return json.loads(text)
    except ValueError:
        pass
    if text[:1] in "[(":
        try:
            value = ast.literal_eval(text)
            return list(value) if isinstance(value, tuple) else value
        except (ValueError, SyntaxError):
            pass
    return text


def parse_cli(argv):
    """``--name value`` / ``-k value`` pairs (``--name=value`` too) into a dict of texts."""
    out = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise ClientError("unexpected command-line argument '%s'" % arg)
        name = arg.lstrip("-")
        if "=" in name:
            name, value = name.split("=", 1)
            i += 1
        elif i + 1 < len(argv):
            value = argv[i + 1]
            i += 2
        else:
            raise ClientError("hyperparameter '%s' has no value on the command line" % name)
        out[name] = value
    return out


def _read_json_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_hyperparameters(argv=None, environ=None):
    """The user's hyperparameters, decoded: the command line the toolkit passes, typed from
    ``SM_HPS`` where it agrees; without arguments ``SM_HPS``, else
    ``<SM_INPUT_CONFIG_DIR>/hyperparameters.json`` (API strings, JSON-decoded)."""
    environ = os.environ if environ is None else environ
    typed = None
    if environ.get("SM_HPS"):
        try:
            typed = json.loads(environ["SM_HPS"])
        except ValueError:
            typed = None
    if argv:
        hps = {}
        for name, text in parse_cli(argv).items():
            if isinstance(typed, dict) and name in typed and _toolkit_text(typed[name]) == text:
                hps[name] = typed[name]
            else:
                hps[name] = _decode_cli(text)
        return hps
    if isinstance(typed, dict):
        return dict(typed)
    config = environ.get("SM_INPUT_CONFIG_DIR") or os.path.join(
        environ.get("SM_INPUT_DIR", "/opt/ml/input"), "config"
    )
    raw = _read_json_file(os.path.join(config, "hyperparameters.json")) or {}
    hps = {}
    for k, v in raw.items():
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                pass
        hps[k] = v
    return hps


# ------------------------------------------------------------------------------------------
# CSV reading (data.rs)
# ------------------------------------------------------------------------------------------


def split_fields(line):
    """data.rs ``split_fields``: commas, with ``"..."`` fields and ``""`` escapes."""
    if '"' not in line:
        return [f.strip() for f in line.split(",")]
    out = []
    field = []
    in_quotes = False
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c == '"' and in_quotes:
            if i + 1 < n and line[i + 1] == '"':
                field.append('"')
                i += 2
                continue
            in_quotes = False
        elif c == '"' and not in_quotes and "".join(field).strip() == "":
            field = []
            in_quotes = True
        elif c == "," and not in_quotes:
            out.append("".join(field).strip())
            field = []
        else:
            field.append(c)
        i += 1
    out.append("".join(field).strip())
    return out


def _is_header(fields):
    return all(f != "" and parse_number(f)[0] is None for f in fields)


class Dataset:
    def __init__(self, n_features, feature_names, target_name, target_index):
        self.n_features = n_features
        self.feature_names = feature_names
        self.target_name = target_name
        self.target_index = target_index
        self.rows = []  # lists of floats
        self.y = []  # label texts

    @property
    def n_rows(self):
        return len(self.rows)

    def x(self, limit=None):
        rows = self.rows if limit is None else self.rows[:limit]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), self.n_features)


def _resolve_target(target, first, header, shown):
    n = len(first)
    if target is None:
        return None
    if isinstance(target, int):
        idx = n + target if target < 0 else target
        if idx < 0 or idx >= n:
            raise ClientError(
                "target column %d is outside the %d columns of %s" % (target, n, shown)
            )
        return idx
    if not header:
        raise ClientError("target '%s' names a column, but %s has no header row" % (target, shown))
    if target not in first:
        raise ClientError(
            "target column '%s' is missing from %s (columns: %s)"
            % (target, shown, ", ".join(first))
        )
    return first.index(target)


def _lines(text):
    for no, line in enumerate(text.split("\n")):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip():
            yield no, line


def read_csv_text(text, shown, target, state):
    """Parses one file's text into ``state["ds"]`` (created from the first file)."""
    lines = _lines(text)
    try:
        first_no, first = next(lines)
    except StopIteration:
        return  # an empty file adds no rows
    first_fields = split_fields(first)
    header = _is_header(first_fields)
    ds = state.get("ds")
    if ds is None:
        state["n_columns"] = len(first_fields)
        target_index = _resolve_target(target, first_fields, header, shown)
        n_features = state["n_columns"] - (1 if target_index is not None else 0)
        if n_features == 0:
            raise ClientError(
                "%s: the only column is the target; there are no feature columns" % shown
            )
        names = None
        if header:
            names = [f for i, f in enumerate(first_fields) if i != target_index]
        ds = Dataset(
            n_features,
            names,
            first_fields[target_index] if header and target_index is not None else None,
            target_index,
        )
        state["ds"] = ds
    elif len(first_fields) != state["n_columns"]:
        raise ClientError(
            "%s, line %d: %d columns, but the first file has %d"
            % (shown, first_no + 1, len(first_fields), state["n_columns"])
        )
    if header and ds.feature_names is not None and ds.target_index is not None:
        mine = [f for i, f in enumerate(first_fields) if i != ds.target_index]
        if mine != ds.feature_names:
            raise ClientError(
                "%s, line %d: the header differs from the first file's (%s)"
                % (shown, first_no + 1, ",".join(ds.feature_names))
            )
    rows = lines if header else _chain_first((first_no, first), lines)
    n_columns = state["n_columns"]
    for no, line in rows:
        _parse_row(line, no + 1, shown, n_columns, ds)


def _chain_first(first, rest):
    yield first
    for item in rest:
        yield item


def _parse_row(line, line_no, shown, n_columns, ds):
    fields = split_fields(line)
    if len(fields) != n_columns:
        raise ClientError(
            "%s, line %d: %d columns, expected %d (ragged row)"
            % (shown, line_no, len(fields), n_columns)
        )
    row = []
    for i, field in enumerate(fields):
        if i == ds.target_index:
            if field == "":
                raise ClientError(
                    "%s, line %d, column %d: the target value is empty" % (shown, line_no, i + 1)
                )
            ds.y.append(field)
            continue
        v, why = parse_number(field)
        if why is not None:
            name = ""
            if ds.feature_names is not None:
                j = i - 1 if ds.target_index is not None and ds.target_index < i else i
                if j < len(ds.feature_names):
                    name = " ('%s')" % ds.feature_names[j]
            raise ClientError(
                "%s, line %d, column %d%s: value '%s' %s" % (shown, line_no, i + 1, name, field, why)
            )
        row.append(v)
    ds.rows.append(row)


def channel_files(directory):
    """Every file under ``directory``, sorted, hidden files and folders skipped."""
    files = []
    stack = [directory]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError as e:
            raise ClientError("cannot read %s: %s" % (d, e.strerror or e))
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                stack.append(entry.path)
            else:
                files.append(entry.path)
    return sorted(files, key=lambda p: os.path.normpath(p).split(os.sep))


def read_csv_files(files, root, target):
    state = {}
    shown_names = []
    for path in files:
        shown = os.path.relpath(path, root)
        shown_names.append(shown)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ClientError("cannot read %s: %s" % (shown, e.strerror or e))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ClientError("%s: not UTF-8 text (at byte %d)" % (shown, e.start))
        read_csv_text(text, shown, target, state)
    ds = state.get("ds")
    if ds is None:
        raise ClientError("no CSV data: %s holds no rows" % ", ".join(shown_names))
    if not ds.rows and not ds.y:
        raise ClientError("the CSV files hold a header but no data rows")
    return ds


# ------------------------------------------------------------------------------------------
# The training environment
# ------------------------------------------------------------------------------------------


def _channels(environ):
    """Channel name -> directory, from SM_CHANNELS / SM_CHANNEL_* / the input data folder."""
    dirs = {}
    for key, value in environ.items():
        if key.startswith("SM_CHANNEL_") and key != "SM_CHANNELS":
            dirs[key[len("SM_CHANNEL_"):].lower()] = value
    data_root = os.path.join(environ.get("SM_INPUT_DIR", "/opt/ml/input"), "data")
    names = None
    if environ.get("SM_CHANNELS"):
        try:
            names = json.loads(environ["SM_CHANNELS"])
        except ValueError:
            names = None
    if names is None and not dirs and os.path.isdir(data_root):
        names = sorted(n for n in os.listdir(data_root) if not n.startswith("."))
    for name in names or []:
        dirs.setdefault(name, os.path.join(data_root, name))
    return dirs


def _read_channel(channels, channel, target):
    directory = channels[channel]
    files = channel_files(directory)
    if not files:
        raise ClientError("channel '%s' holds no files" % channel)
    try:
        return read_csv_files(files, directory, target)
    except ClientError as e:
        raise ClientError("channel '%s': %s" % (channel, e))


class ClassIndex:
    """Class labels in scikit-learn's order (numeric when every label is a number)."""

    def __init__(self, y):
        values = [parse_number(s)[0] for s in y]
        if all(v is not None for v in values):
            first_text = {}
            for v, s in zip(values, y):
                first_text.setdefault(v, s)
            self.values = sorted(first_text)
            self.labels = [first_text[v] for v in self.values]
            self.numeric = True
            self._pos = {v: i for i, v in enumerate(self.values)}
        else:
            self.labels = sorted(set(y))
            self.values = None
            self.numeric = False
            self._pos = {s: i for i, s in enumerate(self.labels)}

    def index_of(self, label):
        if self.numeric:
            v = parse_number(label)[0]
            return None if v is None else self._pos.get(v)
        return self._pos.get(label)

    def fit_targets(self, y):
        """The ``y`` scikit-learn is fitted on: ints or floats for numeric labels, texts
        otherwise; ``model.predict`` returns the same kind."""
        if self.numeric:
            vals = [parse_number(s)[0] for s in y]
            if all(v == int(v) and abs(v) < 2**53 for v in vals):
                return np.asarray([int(v) for v in vals], dtype=np.int64)
            return np.asarray(vals, dtype=np.float64)
        return np.asarray(y, dtype=str)


def _labels_for(algorithm, task, ds, shown):
    if task == CLASSIFICATION:
        classes = ClassIndex(ds.y)
        if len(classes.labels) < 2:
            raise ClientError(
                "%s: the target column has one class only (%s); a classifier needs at least two"
                % (shown, classes.labels[0] if classes.labels else "none")
            )
        return classes.fit_targets(ds.y), classes
    if task == REGRESSION:
        values = []
        for row, label in enumerate(ds.y):
            v, why = parse_number(label)
            if why is not None:
                raise ClientError(
                    "%s, data row %d: target value '%s' %s (%s needs numeric targets)"
                    % (shown, row + 1, label, why, algorithm)
                )
            values.append(v)
        return np.asarray(values, dtype=np.float64), None
    return None, None


def build_estimator(algorithm, params, n_features, n_classes):
    """The scikit-learn estimator for validated ``params``."""
    p = params
    if algorithm == "LogisticRegression":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=p["C"],
            max_iter=p["max_iter"],
            tol=p["tol"],
            fit_intercept=p["fit_intercept"],
            penalty=p["penalty"],
            solver=p["solver"],
            random_state=p["random_state"],
        )
    if algorithm == "LinearRegression":
        from sklearn.linear_model import LinearRegression

        return LinearRegression(fit_intercept=p["fit_intercept"])
    if algorithm == "Ridge":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=p["alpha"], fit_intercept=p["fit_intercept"])
    if algorithm in ("Lasso", "ElasticNet"):
        from sklearn import linear_model

        enet = dict(
            alpha=p["alpha"],
            max_iter=p["max_iter"],
            tol=p["tol"],
            fit_intercept=p["fit_intercept"],
            positive=p["positive"],
            selection=p["selection"],
            random_state=p["random_state"],
        )
        if algorithm == "ElasticNet":
            enet["l1_ratio"] = p["l1_ratio"]
        return getattr(linear_model, algorithm)(**enet)
    tree = dict(
        criterion=p.get("criterion"),
        max_depth=p.get("max_depth"),
        min_samples_split=p.get("min_samples_split"),
        min_samples_leaf=p.get("min_samples_leaf"),
        min_weight_fraction_leaf=p.get("min_weight_fraction_leaf"),
        max_leaf_nodes=p.get("max_leaf_nodes"),
        min_impurity_decrease=p.get("min_impurity_decrease"),
        random_state=p.get("random_state"),
    )
    max_features = p.get("max_features")
    if isinstance(max_features, int):  # the local container clamps to the feature count
        max_features = max(1, min(max_features, n_features))
    if algorithm == "DecisionTreeClassifier":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(
            max_features=max_features, class_weight=p["class_weight"], **tree
        )
    if algorithm == "DecisionTreeRegressor":
        from sklearn.tree import DecisionTreeRegressor

        return DecisionTreeRegressor(max_features=max_features, **tree)
    if algorithm in ("RandomForestClassifier", "RandomForestRegressor"):
        forest = dict(
            n_estimators=p["n_estimators"],
            max_features=max_features,
            bootstrap=p["bootstrap"],
            oob_score=p["oob_score"],
            n_jobs=p["n_jobs"],
            max_samples=p["max_samples"],
            **tree
        )
        if algorithm == "RandomForestClassifier":
            from sklearn.ensemble import RandomForestClassifier

            return RandomForestClassifier(class_weight=p["class_weight"], **forest)
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(**forest)
    if algorithm in ("KNeighborsClassifier", "KNeighborsRegressor"):
        from sklearn import neighbors

        cls = getattr(neighbors, algorithm)
        return cls(
            n_neighbors=p["n_neighbors"],
            weights=p["weights"],
            algorithm=p["algorithm"],
            p=p["p"],
            metric=p["metric"],
        )
    if algorithm == "GaussianNB":
        from sklearn.naive_bayes import GaussianNB

        priors = p["priors"]
        if priors is not None and len(priors) != n_classes:
            raise ClientError(
                "priors has %d values but there are %d classes" % (len(priors), n_classes)
            )
        return GaussianNB(
            priors=None if priors is None else np.asarray(priors),
            var_smoothing=p["var_smoothing"],
        )
    if algorithm == "KMeans":
        from sklearn.cluster import KMeans

        return KMeans(
            n_clusters=p["n_clusters"],
            max_iter=p["max_iter"],
            random_state=p["random_state"],
            n_init="auto",
        )
    raise ClientError("unknown entry point '%s'" % algorithm)


# ------------------------------------------------------------------------------------------
# Metrics (container.rs)
# ------------------------------------------------------------------------------------------


def macro_f1(truth, predicted):
    """Macro F1 over the labels in ``truth`` or ``predicted``; a ``None`` truth is a label
    unseen in training (its own class, never predicted)."""
    truth = [-1 if t is None else t for t in truth]
    labels = sorted(set(truth) | set(predicted))
    total = 0.0
    for label in labels:
        tp = fp = fn = 0
        for t, p in zip(truth, predicted):
            if t == label and p == label:
                tp += 1
            elif p == label:
                fp += 1
            elif t == label:
                fn += 1
        denom = 2 * tp + fp + fn
        total += 0.0 if denom == 0 else 2.0 * tp / denom
    return total / max(len(labels), 1)


def regression_metrics(truth, predicted):
    truth = np.asarray(truth, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    n = max(len(truth), 1)
    mean = float(truth.sum()) / n
    ss_res = float(((truth - predicted) ** 2).sum())
    ss_tot = float(((truth - mean) ** 2).sum())
    if ss_tot == 0.0:
        r2 = 1.0 if ss_res == 0.0 else 0.0
    else:
        r2 = 1.0 - ss_res / ss_tot
    return r2, ss_res / n


def inertia(x, clusters):
    """Sum of squared distances of rows to the mean of their cluster's rows."""
    total = 0.0
    clusters = np.asarray(clusters)
    for c in np.unique(clusters):
        rows = x[clusters == c]
        total += float(((rows - rows.mean(axis=0)) ** 2).sum())
    return total


def report_metric(name, value):
    print("#metrics %s=%s" % (name, fmt_f64(value)), flush=True)


def _class_indices(classes, predictions):
    if classes.numeric:
        pos = {v: i for i, v in enumerate(classes.values)}
        return [pos[float(p)] for p in predictions]
    pos = {s: i for i, s in enumerate(classes.labels)}
    return [pos[str(p)] for p in predictions]


def _report(prefix, task, ds, x, y_values, predicted, classes):
    if task == CLASSIFICATION:
        truth = [classes.index_of(label) for label in ds.y[: len(predicted)]]
        p = _class_indices(classes, predicted)
        correct = sum(1 for t, q in zip(truth, p) if t == q)
        report_metric(prefix + ":accuracy", correct / max(len(p), 1))
        report_metric(prefix + ":f1", macro_f1(truth, p))
    elif task == REGRESSION:
        r2, mse = regression_metrics(y_values, predicted)
        report_metric(prefix + ":r2", r2)
        report_metric(prefix + ":mse", mse)
    else:
        report_metric(prefix + ":inertia", inertia(x, predicted))


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


def _log(message):
    print(message, flush=True)


def _report_trees(environ, ds, estimator):
    """container.rs ``report_trees``: ``feature_importances_`` (and ``oob_score_``) in the
    log and in ``feature_importances.json`` of the job's output data."""
    names = [
        ds.feature_names[i] if ds.feature_names else "x%d" % i for i in range(ds.n_features)
    ]
    importances = [float(v) for v in estimator.feature_importances_]
    _log(
        "feature_importances_: "
        + ", ".join("%s=%.6f" % (n, v) for n, v in zip(names, importances))
    )
    oob = getattr(estimator, "oob_score_", None)
    if oob is not None:
        _log("oob_score_: %.6f" % oob)
        report_metric("train:oob_score", float(oob))
    out = environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
    os.makedirs(out, exist_ok=True)
    doc = {
        "feature_names": names,
        "feature_importances_": importances,
        "oob_score_": None if oob is None else float(oob),
        "n_estimators": len(getattr(estimator, "estimators_", [estimator])),
    }
    tmp = os.path.join(out, ".feature_importances.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, os.path.join(out, "feature_importances.json"))


def train(algorithm, hps, environ=None):
    """Trains ``algorithm`` with decoded hyperparameters ``hps`` in the SageMaker layout of
    ``environ`` (default ``os.environ``) and writes the artifact. Raises ``ClientError``."""
    environ = os.environ if environ is None else environ
    task = _task(algorithm)
    params = validate(algorithm, hps)
    target = target_of(algorithm, hps)
    channels = _channels(environ)
    if "training" not in channels:
        raise ClientError(
            "the 'training' channel is missing (channels: %s)" % ", ".join(sorted(channels))
        )
    ds = _read_channel(channels, "training", target)
    y, classes = _labels_for(algorithm, task, ds, "channel 'training'")
    n_classes = len(classes.labels) if classes else 0
    _log(
        "%s: %d rows, %d features%s; hyperparameters %s"
        % (
            algorithm,
            ds.n_rows,
            ds.n_features,
            ", %d classes (%s)" % (n_classes, ", ".join(classes.labels)) if classes else "",
            json.dumps(params, sort_keys=True, separators=(",", ":")),
        )
    )
    x = ds.x()
    if algorithm in ("KNeighborsClassifier", "KNeighborsRegressor"):
        if params["n_neighbors"] > ds.n_rows:
            raise ClientError(
                "n_neighbors (%d) is larger than the %d training rows"
                % (params["n_neighbors"], ds.n_rows)
            )
    if algorithm == "KMeans" and params["n_clusters"] > ds.n_rows:
        raise ClientError(
            "n_clusters (%d) is larger than the %d training rows" % (params["n_clusters"], ds.n_rows)
        )
    if params.get("min_samples_split", 0) > ds.n_rows:
        raise ClientError(
            "hyperparameter 'min_samples_split' of %s: %d is more than the %d training rows"
            % (algorithm, params["min_samples_split"], ds.n_rows)
        )
    estimator = build_estimator(algorithm, params, ds.n_features, n_classes)
    started = time.perf_counter()
    if task == CLUSTERING:
        estimator.fit(x)
    else:
        estimator.fit(x, y)
    _log("fit took %.3f ms" % ((time.perf_counter() - started) * 1e3))
    if hasattr(estimator, "feature_importances_"):
        _report_trees(environ, ds, estimator)
    if algorithm == "LogisticRegression":
        n_iter = int(np.max(estimator.n_iter_))
        converged = n_iter < params["max_iter"]
        _log("lbfgs: %d iterations, converged: %s" % (n_iter, "true" if converged else "false"))
        if not converged:
            _log(
                "ConvergenceWarning: lbfgs failed to converge after %d iterations; "
                "increase max_iter" % n_iter
            )

    scored = min(ds.n_rows, TRAIN_SCORE_ROWS)
    xs = x[:scored]
    _report(
        "train",
        task,
        ds,
        xs,
        None if y is None else y[:scored],
        estimator.predict(xs),
        classes,
    )
    for channel in ("validation", "test"):
        if channel in channels:
            held = _read_channel(channels, channel, target)
            if held.n_features != ds.n_features:
                raise ClientError(
                    "channel '%s' has %d features, the training channel has %d"
                    % (channel, held.n_features, ds.n_features)
                )
            hx = held.x()
            hy = None
            if task == REGRESSION:
                hy = _labels_for(algorithm, task, held, "channel '%s'" % channel)[0]
            _report("validation", task, held, hx, hy, estimator.predict(hx), classes)
            break

    save_model(environ, algorithm, task, params, ds, classes, estimator)


def save_model(environ, algorithm, task, params, ds, classes, estimator):
    import joblib
    import sklearn

    model_dir = environ.get("SM_MODEL_DIR", "/opt/ml/model")
    os.makedirs(model_dir, exist_ok=True)
    manifest = {
        "format_version": FORMAT_VERSION,
        "algorithm": algorithm,
        "task": task,
        "n_features": ds.n_features,
        "feature_names": ds.feature_names,
        "target_name": ds.target_name,
        "target_index": ds.target_index,
        "classes": classes.labels if classes else [],
        "numeric_classes": bool(classes and classes.numeric),
        "class_values": classes.values if classes and classes.numeric else None,
        "hyperparameters": params,
        "training_rows": ds.n_rows,
        "engine": "scikit-learn %s" % sklearn.__version__,
    }
    joblib.dump(estimator, os.path.join(model_dir, MODEL_FILE))
    doc = portable_document(algorithm, estimator, ds.n_features, classes)
    tmp = os.path.join(model_dir, "." + PORTABLE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, allow_nan=False)
    os.replace(tmp, os.path.join(model_dir, PORTABLE_FILE))
    with open(os.path.join(model_dir, MANIFEST_FILE), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)


# ------------------------------------------------------------------------------------------
# The portable artifact (artifact_format.rs; documented in docs/artifacts.md)
# ------------------------------------------------------------------------------------------

PORTABLE_FILE = "sklearn_model.json"
PORTABLE_FORMAT = "sagemaker-sklearn-portable"
PORTABLE_VERSION = 1
_LINEAR = ("LinearRegression", "Ridge", "Lasso", "ElasticNet")


def _portable_tree(fitted_tree, classifier):
    t = fitted_tree.tree_
    value = np.asarray(t.value)[:, 0, :]
    if classifier:
        # scikit-learn >= 1.4.1 stores class fractions, earlier versions weighted counts:
        # the document always holds fractions.
        sums = value.sum(axis=1, keepdims=True)
        value = value / np.where(sums == 0, 1.0, sums)
    return {
        "children_left": t.children_left.tolist(),
        "children_right": t.children_right.tolist(),
        "feature": t.feature.tolist(),
        "threshold": t.threshold.tolist(),
        "value": value.tolist(),
        "n_node_samples": t.n_node_samples.tolist(),
    }


def portable_document(algorithm, estimator, n_features, classes):
    """The portable document of a fitted built-in: its scikit-learn fitted attributes as
    JSON, which the Rust container serves without unpickling ``model.joblib``."""
    import sklearn

    est = estimator
    classifier = _task(algorithm) == CLASSIFICATION
    if algorithm in _LINEAR:
        body = {
            "kind": "linear",
            "coef_": np.ravel(est.coef_).tolist(),
            "intercept_": float(est.intercept_),
        }
    elif algorithm == "LogisticRegression":
        body = {"kind": "logistic", "coef_": est.coef_.tolist(), "intercept_": est.intercept_.tolist()}
    elif algorithm == "GaussianNB":
        body = {
            "kind": "gaussian_nb",
            "theta_": est.theta_.tolist(),
            "var_": est.var_.tolist(),
            "class_prior_": est.class_prior_.tolist(),
        }
    elif algorithm in ("KNeighborsClassifier", "KNeighborsRegressor"):
        body = {
            "kind": "neighbors",
            "_fit_X": np.asarray(est._fit_X).tolist(),
            "_y": np.asarray(est._y, dtype=np.float64).tolist(),
            "n_neighbors": int(est.n_neighbors),
            "weights": est.weights,
            "metric": est.metric,
            "p": float(est.p),
        }
    elif algorithm == "KMeans":
        body = {"kind": "k_means", "cluster_centers_": est.cluster_centers_.tolist()}
    elif algorithm in ("DecisionTreeClassifier", "DecisionTreeRegressor"):
        body = {"kind": "tree", "tree_": _portable_tree(est, classifier)}
    elif algorithm in ("RandomForestClassifier", "RandomForestRegressor"):
        body = {
            "kind": "forest",
            "estimators_": [_portable_tree(t, classifier) for t in est.estimators_],
        }
    else:
        raise ClientError("no portable format for '%s'" % algorithm)
    if classes:
        labels = classes.values if classes.numeric else classes.labels
        if len(labels) != len(est.classes_):
            raise AssertionError("the estimator's classes_ differ from the manifest's")
        labels = [float(v) if isinstance(v, float) else v for v in labels]
    else:
        labels = []
    return {
        "format": PORTABLE_FORMAT,
        "format_version": PORTABLE_VERSION,
        "algorithm": algorithm,
        "producer": "scikit-learn %s" % sklearn.__version__,
        "n_features_in_": int(n_features),
        "classes_": labels,
        "estimator": body,
    }


def _failure_path(environ):
    if environ.get("SM_OUTPUT_DIR"):
        return os.path.join(environ["SM_OUTPUT_DIR"], "failure")
    if environ.get("SM_OUTPUT_DATA_DIR"):
        return os.path.join(os.path.dirname(environ["SM_OUTPUT_DATA_DIR"].rstrip("/")), "failure")
    return "/opt/ml/output/failure"


def _fail(message, environ):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    try:
        path = _failure_path(environ)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(message)
    except OSError:
        pass


def main(algorithm, argv=None):
    """The training entry point: ``python X.py --name value ...`` runs ``main("X")``."""
    environ = os.environ
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        hps = load_hyperparameters(argv, environ)
        train(algorithm, hps, environ)
    except ClientError as e:
        _fail(str(e), environ)
        sys.exit(1)
    except Exception as e:  # an algorithm failure: say what, and keep the traceback
        traceback.print_exc()
        _fail("%s failed: %s: %s" % (algorithm, type(e).__name__, e), environ)
        sys.exit(2)


# ------------------------------------------------------------------------------------------
# Serving
# ------------------------------------------------------------------------------------------


class BuiltinModel:
    """What ``model_fn`` returns: the fitted estimator and its manifest."""

    def __init__(self, estimator, manifest):
        self.estimator = estimator
        self.manifest = manifest
        self.algorithm = manifest["algorithm"]
        self.task = manifest["task"]
        self.n_features = int(manifest["n_features"])
        self.classes = list(manifest.get("classes") or [])
        self.numeric_classes = bool(manifest.get("numeric_classes"))
        values = manifest.get("class_values") or []
        self._text_of_value = {float(v): t for v, t in zip(values, self.classes)}

    def label_texts(self, raw):
        """Predictions as the local endpoint's texts (class labels as in the training data)."""
        if self.task == CLASSIFICATION:
            if self.numeric_classes:
                return [self._text_of_value.get(float(v), fmt_f64(v)) for v in raw]
            return [str(v) for v in raw]
        if self.task == CLUSTERING:
            return [str(int(v)) for v in raw]
        return [fmt_f64(v) for v in raw]


class Prediction:
    """What ``predict_fn`` returns: ``values`` is the estimator's ``predict`` output."""

    def __init__(self, values, texts, numeric):
        self.values = values
        self.texts = texts
        self.numeric = numeric

    def __len__(self):
        return len(self.texts)


_LOADED = []  # the model of this worker, once model_fn ran: input_fn checks feature counts


def model_fn(model_dir):
    import joblib

    estimator = joblib.load(os.path.join(model_dir, MODEL_FILE))
    path = os.path.join(model_dir, MANIFEST_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as e:
        raise ValueError("%s: cannot read the built-in model's manifest: %s" % (path, e))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            "%s: artifact format %s is not supported (this module reads format %d)"
            % (MANIFEST_FILE, manifest.get("format_version"), FORMAT_VERSION)
        )
    model = BuiltinModel(estimator, manifest)
    _LOADED[:] = [model]
    return model


def _media_type(value, default):
    if value is None:
        return default
    value = value.split(",")[0].split(";")[0].strip()
    return value or default


def _expected_features():
    return _LOADED[0].n_features if _LOADED else None


def _parse_field(field, row, col):
    trimmed = field.strip(" \t\r\n\x0b\x0c")
    v = _rust_f64(trimmed)
    if v is not None and math.isfinite(v):
        return v
    if v is not None:
        why = "is not a finite number"
    elif trimmed == "":
        why = "is empty"
    else:
        why = "is not a number"
    raise RequestError("row %d, column %d: value '%s' %s" % (row, col + 1, trimmed, why))


def _check_width(got, line_no, n, first_width):
    if n is not None and got != n:
        raise RequestError("row %d: %d values, the model expects %d features" % (line_no, got, n))
    if n is None and first_width is not None and got != first_width:
        raise RequestError(
            "row %d: %d values, the first row has %d" % (line_no, got, first_width)
        )


def _decode_csv(body):
    if isinstance(body, (bytes, bytearray)):
        raw = bytes(body)
    else:
        raw = body.encode("utf-8")
    n = _expected_features()
    rows = []
    width = None
    for index, line in enumerate(raw.split(b"\n")):
        line_no = index + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip(b" \t\r\n\x0b\x0c"):
            continue
        if b'"' in line:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError("row %d: not UTF-8 text" % line_no)
            fields = split_fields(text)
        else:
            fields = line.decode("utf-8", errors="replace").split(",")
        row = [_parse_field(f, line_no, c) for c, f in enumerate(fields)]
        _check_width(len(row), line_no, n, width)
        width = len(row) if width is None else width
        rows.append(row)
    if not rows:
        raise RequestError("the body holds no rows")
    return np.asarray(rows, dtype=np.float64)


def _json_rows(value, n):
    if isinstance(value, dict) and "instances" in value:
        value = value["instances"]
    if isinstance(value, list) and all(_is_num(v) for v in value):
        rows = [value]
    elif isinstance(value, list):
        rows = value
    else:
        raise RequestError('expected a list of rows, a single row, or {"instances": [...]}')
    out = []
    for r, row in enumerate(rows):
        if not isinstance(row, list):
            raise RequestError("row %d: not a list" % (r + 1))
        if n is not None and len(row) != n:
            raise RequestError(
                "row %d: %d values, the model expects %d features" % (r + 1, len(row), n)
            )
        for c, v in enumerate(row):
            if not _is_num(v) or not math.isfinite(v):
                raise RequestError(
                    "row %d, column %d: %s is not a finite number" % (r + 1, c + 1, _show(v))
                )
        out.append([float(v) for v in row])
    return out


def _loads(text):
    try:
        return json.loads(text)
    except ValueError as e:
        raise RequestError("invalid JSON: %s" % e)


def _as_text(body):
    if isinstance(body, (bytes, bytearray)):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError as e:
            raise RequestError("invalid JSON: not UTF-8 text (at byte %d)" % e.start)
    return body


def _to_matrix(rows):
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        first = len(rows[0])
        for i, r in enumerate(rows):
            if len(r) != first:
                raise RequestError(
                    "row %d: %d values, the first row has %d" % (i + 1, len(r), first)
                )
    if not rows or sum(len(r) for r in rows) == 0:
        raise RequestError("the body holds no rows")
    return np.asarray(rows, dtype=np.float64)


def _decode_json(body):
    return _to_matrix(_json_rows(_loads(_as_text(body)), _expected_features()))


def _decode_json_lines(body):
    text = _as_text(body)
    n = _expected_features()
    rows = []
    for no, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        try:
            rows.extend(_json_rows(_loads(line), n))
        except RequestError as e:
            raise RequestError("line %d: %s" % (no + 1, e), e.status_code)
    if not rows:
        raise RequestError("the body holds no rows")
    return _to_matrix(rows)


def _decode_npy(body):
    if isinstance(body, str):
        body = body.encode("latin-1")
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except Exception as e:  # numpy raises ValueError, EOFError, OSError... on a bad file
        raise RequestError("invalid NPY: %s" % e)
    if not isinstance(array, np.ndarray):
        raise RequestError("invalid NPY: not a single array")
    n = _expected_features()
    shape = list(array.shape)
    cols = shape[-1] if len(shape) in (1, 2) else None
    if cols is None or (n is not None and cols != n):
        raise RequestError(
            "NPY shape %s: the model expects rows of %s features"
            % (shape, n if n is not None else "a fixed number of")
        )
    if array.dtype.kind not in "fiu":
        raise RequestError("NPY data must be numbers")
    x = array.astype(np.float64).reshape(-1, cols) if cols else array.reshape(0, 0)
    if x.size == 0:
        raise RequestError("the body holds no rows")
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        r, c = bad[0]
        raise RequestError("row %d, column %d: the value is not a finite number" % (r + 1, c + 1))
    return x


def input_fn(request_body, request_content_type):
    """Decodes a request into a 2-D float64 array of rows."""
    content_type = _media_type(request_content_type, "application/json")
    if content_type == "text/csv":
        return _decode_csv(request_body)
    if content_type == "application/json":
        return _decode_json(request_body)
    if content_type == "application/x-npy":
        return _decode_npy(request_body)
    if content_type == "application/jsonlines":
        return _decode_json_lines(request_body)
    raise UnsupportedContentTypeError(
        "content type '%s' is not supported; use text/csv, application/json or application/x-npy"
        % content_type
    )


def predict_fn(input_data, model):
    """The estimator's predictions for the rows, with their texts for ``output_fn``."""
    x = np.asarray(input_data, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != model.n_features:
        got = x.shape[1] if x.ndim == 2 else x.size
        raise RequestError("%d values per row, the model expects %d features" % (got, model.n_features))
    if x.shape[0] == 0:
        raise RequestError("the body holds no rows")
    values = model.estimator.predict(x)
    numeric = model.task != CLASSIFICATION or model.numeric_classes
    return Prediction(values, model.label_texts(values), numeric)


def _npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def output_fn(prediction, accept):
    """Encodes predictions for ``accept``: ``(body bytes, content type)``."""
    if not isinstance(prediction, Prediction):  # a plain array (a custom predict_fn)
        values = np.asarray(prediction).ravel()
        numeric = values.dtype.kind in "fiub"
        texts = [fmt_f64(v) if numeric else str(v) for v in values]
        prediction = Prediction(values, texts, numeric)
    media = _media_type(accept, "application/json")
    if media == "text/csv":
        return "".join(t + "\n" for t in prediction.texts).encode("utf-8"), "text/csv"
    if media in ("application/json", "*/*"):
        if prediction.numeric:
            items = [float(t) for t in prediction.texts]
        else:
            items = list(prediction.texts)
        body = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
        return body.encode("utf-8"), "application/json"
    if media == "application/x-npy":
        if prediction.numeric:
            array = np.asarray([float(t) for t in prediction.texts], dtype="<f8")
        else:
            array = np.asarray(prediction.texts, dtype=str)
            if array.dtype.itemsize == 0:
                array = array.astype("<U1")
        return _npy_bytes(array), "application/x-npy"
    raise UnsupportedAcceptError(
        "Accept '%s' is not supported; use application/json, text/csv or application/x-npy"
        % media
    )
