"""The scoring step's entry script: each store's upcoming weeks, scored with the model
registered for that store."""

import os
import pickle
import tempfile

import pandas as pd

from runyard import Model, Run

FEATURES = ["week", "price", "promo"]


def init():
    global workspace, folder
    workspace = Run.get_context().experiment.workspace
    folder = tempfile.mkdtemp(prefix="many-models-")


def run(mini_batch, mini_batch_context):
    partition = mini_batch_context.partition_key_value
    model = Model.get_by_partition(workspace, "sales-forecast", partition)
    with open(model.download(os.path.join(folder, partition["store"]), exist_ok=True), "rb") as fh:
        regressor = pickle.load(fh)
    predicted = regressor.predict(mini_batch[FEATURES]).round(1)
    return pd.DataFrame({"store": partition["store"], "week": mini_batch["week"], "forecast": predicted,
                         "model": model.id})
