"""scikit-learn fit / predict anchor on the gen_data.py split files.

Usage: python train_anchor.py DATADIR --threads {1,default} --data {iris,syn}

Fits LogisticRegression(max_iter=200), DecisionTreeClassifier(random_state=0),
RandomForestClassifier(n_estimators=10, random_state=0) and KNeighborsClassifier() on
DATADIR/{data}_train.csv and predicts DATADIR/{data}_test.csv (KNN on syn: the first 3000 test
rows, as the anchors do). fit_s is the median wall time of 3 fits (a fresh estimator each);
predict_rows_per_s is test_rows / median wall time of 3 predicts. --threads 1 pins BLAS/OpenMP
to one thread (environment set before numpy loads, plus threadpoolctl); --threads default leaves
the libraries' defaults (2 BLAS threads on the bench box).

Prints one JSON line per algorithm to stdout:
  {"side":"python","engine":"scikit-learn","threads":"1","data":"iris",
   "algorithm":"LogisticRegression","fit_s":0.0123,"predict_rows_per_s":2.3e5,
   "accuracy":0.97,"test_rows":45}
"""

import os
import sys


def _threads_arg(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return None


# Must happen before numpy (and its BLAS) or sklearn's OpenMP runtime load.
if _threads_arg(sys.argv[1:]) == "1":
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

KNN_TEST_ROWS = 3000  # KNN on syn is predicted on the first 3000 test rows only
REPEATS = 3

ALGORITHMS = [
    ("LogisticRegression", lambda: LogisticRegression(max_iter=200)),
    ("DecisionTreeClassifier", lambda: DecisionTreeClassifier(random_state=0)),
    ("RandomForestClassifier", lambda: RandomForestClassifier(n_estimators=10, random_state=0)),
    ("KNeighborsClassifier", lambda: KNeighborsClassifier()),
]


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    return data[:, 1:], data[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("datadir")
    ap.add_argument("--threads", choices=["1", "default"], required=True)
    ap.add_argument("--data", choices=["iris", "syn"], required=True)
    args = ap.parse_args()

    X_tr, y_tr = read_csv(os.path.join(args.datadir, f"{args.data}_train.csv"))
    X_te, y_te = read_csv(os.path.join(args.datadir, f"{args.data}_test.csv"))

    limits = threadpool_limits(limits=1) if args.threads == "1" else contextlib.nullcontext()
    with limits:
        for name, make in ALGORITHMS:
            X_eval, y_eval = X_te, y_te
            if name == "KNeighborsClassifier" and args.data == "syn":
                X_eval, y_eval = X_te[:KNN_TEST_ROWS], y_te[:KNN_TEST_ROWS]

            fit_times = []
            model = None
            for _ in range(REPEATS):
                model = make()
                t0 = time.perf_counter()
                model.fit(X_tr, y_tr)
                fit_times.append(time.perf_counter() - t0)

            predict_times = []
            pred = None
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                pred = model.predict(X_eval)
                predict_times.append(time.perf_counter() - t0)

            predict_s = statistics.median(predict_times)
            print(
                json.dumps(
                    {
                        "side": "python",
                        "engine": "scikit-learn",
                        "threads": args.threads,
                        "data": args.data,
                        "algorithm": name,
                        "fit_s": statistics.median(fit_times),
                        "predict_rows_per_s": len(y_eval) / predict_s if predict_s > 0 else None,
                        "accuracy": float(np.mean(pred == y_eval)),
                        "test_rows": int(len(y_eval)),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
