"""A linear classifier on scikit-learn's digits, trained epoch by epoch: HyperDrive's example.

Each epoch logs the validation accuracy, so an early-termination policy can stop
a trial that is falling behind:

    python train.py --alpha 0.0001 --eta0 0.01
"""

import argparse
import os

import joblib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1e-4, help="L2 regularisation")
parser.add_argument("--eta0", type=float, default=0.01, help="the constant learning rate")
parser.add_argument("--epochs", type=int, default=15)
args = parser.parse_args()

run = Run.get_context()
X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
model = SGDClassifier(loss="log_loss", alpha=args.alpha, learning_rate="constant", eta0=args.eta0, random_state=0)
rng = np.random.default_rng(0)
for epoch in range(args.epochs):
    order = rng.permutation(len(X_train))
    model.partial_fit(X_train[order], y_train[order], classes=np.unique(y))
    run.log("accuracy", model.score(X_val, y_val))
os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.joblib")
print(f"alpha={args.alpha} eta0={args.eta0}: accuracy {model.score(X_val, y_val):.4f}")
