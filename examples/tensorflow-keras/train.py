"""A small Keras classifier on synthetic data; the TensorFlow estimator's example.

Run by the TensorFlow estimator, each epoch's loss and accuracy go to the run by themselves
(autologging: Model.fit gets a callback). The model is saved to outputs/model.keras.
Submitted with resume_from=<an earlier run>, training continues from that run's model.
"""

import argparse
import os

import numpy as np
import tensorflow as tf

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()

run = Run.get_context()
rng = np.random.default_rng(0)
x = rng.normal(size=(2000, 8)).astype("float32")
y = (x[:, :4].sum(axis=1) > 0).astype("float32")  # a rule the model can learn

resume = os.environ.get("RUNYARD_RESUME_FROM")
if resume and os.path.exists(os.path.join(resume, "model.keras")):
    model = tf.keras.models.load_model(os.path.join(resume, "model.keras"))
    run.log("resumed", 1)
else:
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input(shape=(8,)), tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])

model.fit(x, y, epochs=args.epochs, batch_size=64, verbose=2)
os.makedirs("outputs", exist_ok=True)
model.save("outputs/model.keras")
