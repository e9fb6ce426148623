"""The scikit-learn side of ``benches/learners.rs``: one learner's fit and predict times on
the bench's CSV files, single-threaded (BLAS and OpenMP limited to one thread).

``python bench_reference.py TRAIN TEST ALGORITHM HYPERPARAMETERS_JSON RUNS`` prints
``{"fit": [seconds...], "predict": [seconds...], "predictions": [...]}``.
"""

import json
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sagemaker_sklearn_builtin as builtin  # noqa: E402


def main(train, test, algorithm, hps, runs):
    data = np.loadtxt(train, delimiter=",", dtype=np.float64, ndmin=2)
    x, y = data[:, 1:], data[:, 0]
    xt = np.loadtxt(test, delimiter=",", dtype=np.float64, ndmin=2)
    params = builtin.validate(algorithm, json.loads(hps))
    fit, predict = [], []
    with threadpool_limits(limits=1):
        for _ in range(int(runs)):
            est = builtin.build_estimator(algorithm, params, x.shape[1], len(np.unique(y)))
            started = time.perf_counter()
            est.fit(x, y)
            fit.append(time.perf_counter() - started)
            started = time.perf_counter()
            p = est.predict(xt)
            predict.append(time.perf_counter() - started)
    print(json.dumps({"fit": fit, "predict": predict, "predictions": p.tolist()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
