"""The scikit-learn side of the Rust parity test (tests/parity.rs).

``python parity_reference.py SPEC OUT``: SPEC is a JSON file ``{"cases": [...]}`` whose
cases name an algorithm, its hyperparameters, a training CSV (label first, no header), a
test CSV (features only) and a model directory. Each case is trained by the bundled entry
point (``train``, exactly as on AWS), which writes ``model.joblib``, its manifest and the
portable ``sklearn_model.json`` into the model directory; the fitted estimator then predicts
the test rows. OUT receives ``{"tables": ..., "results": {name: {"predictions": [...]}}}``,
``tables`` being the entry point's hyperparameter table for the Rust-side comparison.
"""

import contextlib
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sagemaker_sklearn_builtin as builtin  # noqa: E402


def _tables():
    return {
        name: {"task": task, "hyperparameters": [[n, d, list(k)] for n, d, k in hps]}
        for name, (task, hps) in builtin.ALGORITHMS.items()
    }


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v if isinstance(v, (int, float)) else str(v)


def run_case(case):
    environ = {
        "SM_MODEL_DIR": case["model_dir"],
        "SM_OUTPUT_DATA_DIR": os.path.join(case["model_dir"], "..", "output", "data"),
        "SM_CHANNEL_TRAINING": os.path.dirname(case["train"]),
    }
    hps = dict(case["hyperparameters"])
    # The entry point's log and metrics go to stdout: keep OUT's stream clean.
    with contextlib.redirect_stdout(io.StringIO()):
        builtin.train(case["algorithm"], hps, environ)
    import joblib

    estimator = joblib.load(os.path.join(case["model_dir"], builtin.MODEL_FILE))
    x = np.loadtxt(case["test"], delimiter=",", dtype=np.float64, ndmin=2)
    return {"predictions": [_plain(v) for v in estimator.predict(x)]}


def main(spec_path, out_path):
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    results = {case["name"]: run_case(case) for case in spec["cases"]}
    import sklearn

    out = {"sklearn_version": sklearn.__version__, "tables": _tables(), "results": results}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
