"""A scikit-learn training script written for SageMaker, unchanged.

SageMaker (and the sagemaker Rust SDK's local backend) runs it as
`python train.py --C 1.0 --max_iter 200` with the channel in /opt/ml/input/data/train, and
packs whatever it saves in /opt/ml/model into model.tar.gz. For serving, the same file is
imported (not run) and `model_fn` loads the model once per worker.
"""

import argparse
import os

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression


def model_fn(model_dir):
    """Loads the model saved by training (called once per serving worker)."""
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    # The toolkit passes one-letter hyperparameters as -C, longer ones as --max_iter.
    parser.add_argument("-C", type=float, default=1.0)
    parser.add_argument("--max_iter", type=int, default=100)
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    args = parser.parse_args()

    frame = pd.read_csv(os.path.join(args.train, "train.csv"))
    y, x = frame["label"], frame.drop(columns=["label"])
    model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(x.values, y.values)
    print("train_accuracy=%.4f" % model.score(x.values, y.values))

    joblib.dump(model, "/opt/ml/model/model.joblib")
