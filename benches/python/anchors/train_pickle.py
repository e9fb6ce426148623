"""Train the model the container-shaped stand-in serves (and batch_anchor.py predicts with).

Usage: python train_pickle.py DATADIR OUT.pkl [--data {iris,syn}]

Fits LogisticRegression(max_iter=200) on DATADIR/{data}_train.csv (default iris, the serving
model; syn is the batch-transform model) and pickles it to OUT.pkl. Prints one JSON line:
  {"model": "LogisticRegression", "data": "iris", "train_rows": 105, "path": ".../OUT.pkl"}
"""

import argparse
import json
import os
import pickle

import numpy as np
from sklearn.linear_model import LogisticRegression


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("datadir")
    ap.add_argument("out")
    ap.add_argument("--data", choices=["iris", "syn"], default="iris")
    args = ap.parse_args()
    data = np.loadtxt(
        os.path.join(args.datadir, f"{args.data}_train.csv"), delimiter=",", ndmin=2
    )
    X, y = data[:, 1:], data[:, 0].astype(np.int64)
    model = LogisticRegression(max_iter=200).fit(X, y)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(
        json.dumps(
            {"model": "LogisticRegression", "data": args.data, "train_rows": int(len(y)),
             "path": out}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
