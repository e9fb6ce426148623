"""scikit-learn side of the accuracy-parity bench (benches/parity.rs).

Usage: python parity.py OUT_DIR

Writes into OUT_DIR, exactly as docs' "Performance anchors" build them:
  iris_train.csv, iris_test.csv  iris, train_test_split(test_size=0.3, random_state=42)
  syn_train.csv, syn_test.csv    make_classification(n_samples=100_000, n_features=20,
                                 n_informative=10, n_redundant=5, n_classes=3,
                                 random_state=0), split the same way (70k / 30k)
as headerless CSV, label in the FIRST column, features as %.6f. Then fits each algorithm with
scikit-learn on the CSV data as written (so both sides see the same rounded features) and
writes sklearn.json: accuracy and fit seconds per (data set, algorithm).
"""

import os

# One BLAS/OpenMP thread, as the anchors' compute reference; must be set before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

# KNN on syn is scored on the first KNN_TEST_ROWS test rows only, as the anchors do.
KNN_TEST_ROWS = 3000


# make_classification parameters of the "syn" data sets (syn100k with random_state=0; the 1M-row
# batch-transform input with random_state=1). Shared with anchors/gen_data.py.
SYN_PARAMS = dict(n_features=20, n_informative=10, n_redundant=5, n_classes=3)


def write_csv(path, X, y=None):
    """Headerless CSV: integer label first (when y is given), then the features as %.6f."""
    X = np.asarray(X, dtype=np.float64)
    fmt = ",".join(["%.6f"] * X.shape[1])
    if y is not None:
        fmt = "%d," + fmt
    with open(path, "w") as f:
        for start in range(0, X.shape[0], 50_000):
            rows = X[start : start + 50_000].tolist()
            if y is None:
                lines = [fmt % tuple(row) for row in rows]
            else:
                labels = np.asarray(y[start : start + 50_000]).astype(np.int64).tolist()
                lines = [fmt % (label, *row) for label, row in zip(labels, rows)]
            if lines:
                f.write("\n".join(lines))
                f.write("\n")


def iris_split():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=42)


def syn_split(n_rows=None):
    """syn100k split 70/30; with n_rows, the first n_rows generated rows only (already shuffled)."""
    X, y = make_classification(n_samples=100_000, random_state=0, **SYN_PARAMS)
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    return train_test_split(X, y, test_size=0.3, random_state=42)


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    return data[:, 1:], data[:, 0].astype(np.int64)


def datasets(out):
    X_tr, X_te, y_tr, y_te = iris_split()
    write_csv(os.path.join(out, "iris_train.csv"), X_tr, y_tr)
    write_csv(os.path.join(out, "iris_test.csv"), X_te, y_te)
    X_tr, X_te, y_tr, y_te = syn_split()
    write_csv(os.path.join(out, "syn_train.csv"), X_tr, y_tr)
    write_csv(os.path.join(out, "syn_test.csv"), X_te, y_te)


def models(dataset):
    # RandomForest: 100 trees on iris, 10 on syn (100 trees on 70k take ~5 min in smartcore).
    n_trees = 100 if dataset == "iris" else 10
    return [
        ("LogisticRegression", lambda: LogisticRegression(max_iter=200), {"max_iter": 200}),
        (
            "DecisionTreeClassifier",
            lambda: DecisionTreeClassifier(random_state=0),
            {"random_state": 0},
        ),
        (
            "RandomForestClassifier",
            lambda: RandomForestClassifier(n_estimators=n_trees, random_state=0),
            {"n_estimators": n_trees, "random_state": 0},
        ),
        ("KNeighborsClassifier", lambda: KNeighborsClassifier(), {}),
    ]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python parity.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    started = time.perf_counter()
    datasets(out)
    print(f"data written to {out} in {time.perf_counter() - started:.1f} s", flush=True)

    results = []
    for dataset in ("iris", "syn"):
        X_tr, y_tr = read_csv(os.path.join(out, f"{dataset}_train.csv"))
        X_te, y_te = read_csv(os.path.join(out, f"{dataset}_test.csv"))
        for name, make, hyperparameters in models(dataset):
            X_eval, y_eval = X_te, y_te
            if name == "KNeighborsClassifier" and dataset == "syn":
                X_eval, y_eval = X_te[:KNN_TEST_ROWS], y_te[:KNN_TEST_ROWS]
            model = make()
            t0 = time.perf_counter()
            model.fit(X_tr, y_tr)
            fit_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            accuracy = float(model.score(X_eval, y_eval))
            score_seconds = time.perf_counter() - t0
            results.append(
                {
                    "dataset": dataset,
                    "algorithm": name,
                    "hyperparameters": hyperparameters,
                    "train_rows": int(len(y_tr)),
                    "test_rows": int(len(y_eval)),
                    "accuracy": accuracy,
                    "fit_seconds": fit_seconds,
                    "score_seconds": score_seconds,
                }
            )
            print(
                f"{dataset:5} {name:24} accuracy {accuracy:.6f}  fit {fit_seconds:8.3f} s  "
                f"score {score_seconds:7.3f} s",
                flush=True,
            )

    report = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "knn_test_rows": KNN_TEST_ROWS,
        "results": results,
    }
    with open(os.path.join(out, "sklearn.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"wrote {os.path.join(out, 'sklearn.json')}")


if __name__ == "__main__":
    main()
