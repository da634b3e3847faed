"""Train a ridge regression on scikit-learn's diabetes data and keep it in outputs/."""

import os
import pickle

from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from runyard import Run

features, target = load_diabetes(return_X_y=True, as_frame=True)
model = Ridge(alpha=0.1).fit(features, target)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    pickle.dump(model, fh)
Run.get_context().log("train_r2", model.score(features, target))
