"""scikit-learn's side of the tree benchmark (our side: `cargo bench -p sagemaker-sklearn
--bench trees`).

Usage: python trees_bench.py DATADIR [--runs N] [--trees N]

Writes DATADIR/syn_train.csv and syn_test.csv (make_classification, 70k/30k rows of 20
features, the files `anchors/gen_data.py` writes) when they are missing, then times
`DecisionTreeClassifier(random_state=0)` and `RandomForestClassifier(n_estimators=N,
random_state=0)` with `n_jobs` 1 and 2: fit and predict medians over the runs, on data read
the same way as the Rust side (float64, label first). Prints one JSON line per case.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from parity import read_csv, syn_split, write_csv  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("datadir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--trees", type=int, default=100)
    args = ap.parse_args()
    os.makedirs(args.datadir, exist_ok=True)
    train = os.path.join(args.datadir, "syn_train.csv")
    test = os.path.join(args.datadir, "syn_test.csv")
    if not (os.path.exists(train) and os.path.exists(test)):
        X_tr, X_te, y_tr, y_te = syn_split()
        write_csv(train, X_tr, y_tr)
        write_csv(test, X_te, y_te)
    X, y = read_csv(train)
    Xt, yt = read_csv(test)

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    cases = [
        ("DecisionTreeClassifier", lambda: DecisionTreeClassifier(random_state=0)),
        (
            "RandomForestClassifier(%d) n_jobs=1" % args.trees,
            lambda: RandomForestClassifier(n_estimators=args.trees, random_state=0, n_jobs=1),
        ),
        (
            "RandomForestClassifier(%d) n_jobs=2" % args.trees,
            lambda: RandomForestClassifier(n_estimators=args.trees, random_state=0, n_jobs=2),
        ),
    ]
    for name, make in cases:
        fits, predicts, accuracy = [], [], 0.0
        for _ in range(args.runs):
            model = make()
            started = time.perf_counter()
            model.fit(X, y)
            fits.append(time.perf_counter() - started)
            started = time.perf_counter()
            predicted = model.predict(Xt)
            predicts.append(time.perf_counter() - started)
            accuracy = float(np.mean(predicted == yt))
        print(
            json.dumps(
                {
                    "side": "scikit-learn",
                    "case": name,
                    "runs": args.runs,
                    "fit_s": float(np.median(fits)),
                    "predict_s": float(np.median(predicts)),
                    "test_rows": int(len(yt)),
                    "accuracy": accuracy,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
