# An Azure ML SDK v1 training script, unchanged: it logs to the run it is in (an offline run
# that prints, when started by hand) and leaves its model in ./outputs.
import argparse
import os

import joblib
from azureml.core.run import Run
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=0.5)
args = parser.parse_args()

run = Run.get_context()
X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
model = Ridge(alpha=args.alpha).fit(X_train, y_train)
mse = mean_squared_error(y_test, model.predict(X_test))
run.log("alpha", args.alpha)
run.log("mse", mse)

os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/ridge.pkl")
