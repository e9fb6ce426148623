"""Batch-transform anchor: 1M x 20 CSV -> LogisticRegression labels, in process.

Usage: python batch_anchor.py DATADIR MODEL.pkl --engine {container,pandas} --out OUT

Reads DATADIR/batch_X.csv (gen_data.py), predicts with the pickled model (train_pickle.py
--data syn) and writes one label per input line to OUT, as the batch anchor in docs/benchmarks.md does:
  container  the SageMaker container's path: the file is cut into 6 MiB line-aligned batches
             (SplitType=Line, BatchStrategy=MultiRecord, MaxPayloadInMB=6); each batch is
             decoded as text the container's way (csv.reader -> np.array(rows).squeeze()
             .astype(None) -> float32), predicted, and encoded as the container's text/csv
             encoder does (np.savetxt fmt='%s': one label per line); outputs are appended
             (AssembleWith=Line). Output is byte-identical to POSTing the same batches to the
             stand-in (serve_standin.sh) with Accept: text/csv.
  pandas     what a careful Python user writes: pd.read_csv(chunksize=30000, header=None)
             -> model.predict -> '\\n'.join.
Timing covers reading, decoding, predicting and writing (model unpickling excluded).

Prints one JSON line:
  {"side":"python","engine":"container-decode","rows":1000000,"seconds":16.0,
   "rows_per_s":62600,"peak_rss_mb":512.3}
engine is "container-decode" or "pandas-chunks"; peak_rss_mb is ru_maxrss of this process.
"""

import argparse
import csv
import io
import json
import os
import pickle
import resource
import time

import numpy as np

MAX_PAYLOAD = 6 * 1024 * 1024  # MaxPayloadInMB=6, MiB
PANDAS_CHUNK = 30_000


def line_batches(path, max_payload=MAX_PAYLOAD):
    """Yield bytes batches of whole lines, each at most max_payload bytes (streaming)."""
    carry = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(max_payload - len(carry))
            data = carry + block
            if not block:
                if data:
                    yield data if data.endswith(b"\n") else data + b"\n"
                return
            if len(data) < max_payload:  # short read at EOF: keep reading until empty
                carry = data
                continue
            cut = data.rfind(b"\n")
            if cut < 0:
                raise ValueError(f"a record is longer than {max_payload} bytes")
            yield data[: cut + 1]
            carry = data[cut + 1 :]


# sagemaker_containers/_encoders.py csv_to_numpy / array_to_csv, and the sklearn container's
# default_input_fn (astype float32 for text types); same code as serve_app.py.
def csv_to_numpy(string_like, dtype=None):
    stream = io.StringIO(string_like)
    reader = csv.reader(stream, delimiter=",", quotechar='"', doublequote=True, strict=True)
    array = np.array([row for row in reader]).squeeze()
    array = array.astype(dtype)
    return array


def array_to_csv(array_like):
    stream = io.StringIO()
    np.savetxt(stream, array_like, delimiter=",", fmt="%s")
    return stream.getvalue()


def run_container(model, path, out):
    rows = 0
    with open(out, "w") as fo:
        for batch in line_batches(path):
            data = csv_to_numpy(batch.decode("utf-8"))
            if data.ndim == 1:  # a one-line batch (FIX_1D, as the stand-in)
                data = data.reshape(1, -1)
            data = data.astype(np.float32)
            prediction = model.predict(data)
            fo.write(array_to_csv(prediction))
            rows += len(prediction)
    return rows


def run_pandas(model, path, out):
    import pandas as pd

    rows = 0
    with open(out, "w") as fo:
        for chunk in pd.read_csv(path, chunksize=PANDAS_CHUNK, header=None):
            prediction = model.predict(chunk.to_numpy())
            fo.write("\n".join(map(str, prediction)))
            fo.write("\n")
            rows += len(prediction)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("datadir")
    ap.add_argument("model")
    ap.add_argument("--engine", choices=["container", "pandas"], required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.model, "rb") as f:
        model = pickle.load(f)
    path = os.path.join(args.datadir, "batch_X.csv")
    run = run_container if args.engine == "container" else run_pandas
    if args.engine == "pandas":
        import pandas  # noqa: F401  (import cost outside the timing, as the model load)

    t0 = time.perf_counter()
    rows = run(model, path, args.out)
    seconds = time.perf_counter() - t0

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "side": "python",
                "engine": "container-decode" if args.engine == "container" else "pandas-chunks",
                "rows": rows,
                "seconds": seconds,
                "rows_per_s": rows / seconds if seconds > 0 else None,
                "peak_rss_mb": peak_kib / 1024.0,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
