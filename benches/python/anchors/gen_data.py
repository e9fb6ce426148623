"""Data for the side-by-side perf bench, built as docs/benchmarks.md describes.

Usage: python gen_data.py OUTDIR [--quick]

Writes headerless CSV files into OUTDIR (features as %.6f, label in the FIRST column of
training/test files):
  iris_train.csv, iris_test.csv  sklearn iris, train_test_split(test_size=0.3, random_state=42)
  syn_train.csv, syn_test.csv    make_classification(n_samples=100_000, n_features=20,
                                 n_informative=10, n_redundant=5, n_classes=3, random_state=0),
                                 split the same way (--quick: the first 10 000 generated rows)
  batch_X.csv                    features only, make_classification(1_000_000, same parameters,
                                 random_state=1) (--quick: its first 100 000 rows)
  rows100.csv                    the first 100 iris feature rows as in the data set (5.1,3.5,...)
  row1.csv                       5.1,3.5,1.4,0.2
The syn/iris files are byte-identical to what ../parity.py writes (same writer).

Prints one JSON object to stdout:
  {"outdir": ".../OUTDIR", "quick": false,
   "files": {"iris_train": {"path": ".../iris_train.csv", "rows": 105}, ...}}
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sklearn.datasets import load_iris, make_classification  # noqa: E402

from parity import SYN_PARAMS, iris_split, syn_split, write_csv  # noqa: E402

QUICK_SYN_ROWS = 10_000
BATCH_ROWS = 1_000_000
QUICK_BATCH_ROWS = 100_000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--quick", action="store_true", help="10k syn rows, 100k batch rows")
    args = ap.parse_args()
    out = os.path.abspath(args.outdir)
    os.makedirs(out, exist_ok=True)
    started = time.perf_counter()
    files = {}

    def put(name, X, y=None):
        path = os.path.join(out, name + ".csv")
        write_csv(path, X, y)
        files[name] = {"path": path, "rows": int(len(X))}

    X_tr, X_te, y_tr, y_te = iris_split()
    put("iris_train", X_tr, y_tr)
    put("iris_test", X_te, y_te)

    X_tr, X_te, y_tr, y_te = syn_split(QUICK_SYN_ROWS if args.quick else None)
    put("syn_train", X_tr, y_tr)
    put("syn_test", X_te, y_te)

    X, _ = make_classification(n_samples=BATCH_ROWS, random_state=1, **SYN_PARAMS)
    if args.quick:
        X = X[:QUICK_BATCH_ROWS]
    put("batch_X", X)
    del X

    # Serving bodies: iris rows as the data set prints them (1.6 kB for 100 rows).
    X_iris, _ = load_iris(return_X_y=True)
    for name, rows in (("rows100", X_iris[:100]), ("row1", X_iris[:1])):
        path = os.path.join(out, name + ".csv")
        with open(path, "w") as f:
            f.write("".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows))
        files[name] = {"path": path, "rows": int(len(rows))}

    print(
        f"gen_data: wrote {len(files)} files to {out} in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    print(json.dumps({"outdir": out, "quick": bool(args.quick), "files": files}), flush=True)


if __name__ == "__main__":
    main()
