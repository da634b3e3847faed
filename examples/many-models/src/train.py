"""The training step's entry script: one linear regression per store, registered as that
store's model ("sales-forecast" for the partition {"store": ...})."""

import os
import pickle
import tempfile

import pandas as pd
from sklearn.linear_model import LinearRegression

from runyard import Run
from runyard.parallel_run import EntryScript

FEATURES = ["week", "price", "promo"]


def init():
    global folder
    folder = tempfile.mkdtemp(prefix="many-models-")


def run(mini_batch, mini_batch_context):
    store = mini_batch_context.partition_key_value["store"]
    model = LinearRegression().fit(mini_batch[FEATURES], mini_batch["sales"])
    r2 = model.score(mini_batch[FEATURES], mini_batch["sales"])
    path = os.path.join(folder, "model.pkl")
    with open(path, "wb") as fh:
        pickle.dump(model, fh)
    # registered with the other workers' models once this mini batch has succeeded
    EntryScript().register_model("sales-forecast", path, partition=mini_batch_context.partition_key_value,
                                 tags={"r2": round(r2, 4)}, model_framework="ScikitLearn")
    Run.get_context().log("r2", r2)
    return pd.DataFrame({"store": [store], "rows": [len(mini_batch)], "r2": [round(r2, 4)]})
