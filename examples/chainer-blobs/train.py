"""A small Chainer MLP that classifies three Gaussian blobs; the Chainer estimator's example.

The data is made here with numpy (nothing to download): 4 features, 3 classes, one blob
per class. Every epoch logs the training loss and the held-out loss and accuracy to the
run; the trained model goes to ./outputs/model.npz. Submit it with `python submit.py`.
"""

import argparse
import os

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--units", type=int, default=32)
parser.add_argument("--lr", type=float, default=0.01)
args = parser.parse_args()


class MLP(chainer.Chain):
    def __init__(self, units, classes):
        super().__init__()
        with self.init_scope():
            self.hidden = L.Linear(None, units)
            self.out = L.Linear(units, classes)

    def forward(self, x):
        return self.out(F.relu(self.hidden(x)))


def blobs(samples_per_class, rng):
    centers = rng.normal(scale=3.0, size=(3, 4))
    x = np.concatenate([c + rng.normal(size=(samples_per_class, 4)) for c in centers]).astype(np.float32)
    y = np.repeat(np.arange(3), samples_per_class).astype(np.int32)
    order = rng.permutation(len(y))
    return x[order], y[order]


rng = np.random.default_rng(0)
x, y = blobs(200, rng)
split = int(0.8 * len(y))
x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

np.random.seed(0)  # Chainer draws initial weights from numpy's global generator
model = L.Classifier(MLP(args.units, 3))
optimizer = chainer.optimizers.Adam(alpha=args.lr)
optimizer.setup(model)
run = Run.get_context()
run.log("epochs", args.epochs)
for epoch in range(args.epochs):
    order = rng.permutation(split)
    losses = []
    for start in range(0, split, args.batch_size):
        batch = order[start:start + args.batch_size]
        optimizer.update(model, x_train[batch], y_train[batch])
        losses.append(float(model.loss.array))
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        model(x_test, y_test)
    run.log("loss", float(np.mean(losses)))
    run.log("test_loss", float(model.loss.array))
    run.log("accuracy", float(model.accuracy.array))
    print(f"epoch {epoch + 1}: loss {np.mean(losses):.4f} accuracy {float(model.accuracy.array):.3f}")

os.makedirs("outputs", exist_ok=True)
chainer.serializers.save_npz("outputs/model.npz", model.predictor)
