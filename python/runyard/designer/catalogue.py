"""The designer's palette: each module Azure ML's designer had, with typed ports and parameters.

A module is a pipeline step: a script of ``runyard/designer/modules`` run with its inputs'
folders, its parameters and its outputs' folders as arguments. Ports are typed, so an
invalid connection cannot be drawn: a ``dataframe`` port holds a Parquet file
(``data.parquet``), a ``model`` port a fitted model (``model.pkl`` and ``model.json``), a
``dataset`` port a registered dataset's version. Parameters say their kind (``string``,
``number``, ``integer``, ``boolean``, ``choice``, ``columns``, ``code``), whether they are
required and their default, so the side panel draws them and the server checks them.

>>> MODULES["split_data"].outputs[0].type
'dataframe'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PORT_TYPES = ("dataframe", "model", "dataset")
PARAM_KINDS = ("string", "number", "integer", "boolean", "choice", "columns", "code", "dataset")

#: scikit-learn's learners Train Model offers, by task: name -> estimator class path
LEARNERS: dict[str, dict[str, str]] = {
    "regression": {
        "Linear Regression": "sklearn.linear_model.LinearRegression",
        "Ridge Regression": "sklearn.linear_model.Ridge",
        "Decision Forest Regression": "sklearn.ensemble.RandomForestRegressor",
        "Boosted Decision Tree Regression": "sklearn.ensemble.HistGradientBoostingRegressor",
        "Decision Tree Regression": "sklearn.tree.DecisionTreeRegressor",
        "K-Nearest Neighbors Regression": "sklearn.neighbors.KNeighborsRegressor",
    },
    "classification": {
        "Logistic Regression": "sklearn.linear_model.LogisticRegression",
        "Decision Forest": "sklearn.ensemble.RandomForestClassifier",
        "Boosted Decision Tree": "sklearn.ensemble.HistGradientBoostingClassifier",
        "Decision Tree": "sklearn.tree.DecisionTreeClassifier",
        "K-Nearest Neighbors": "sklearn.neighbors.KNeighborsClassifier",
        "Support Vector Machine": "sklearn.svm.SVC",
    },
}


@dataclass(frozen=True)
class Port:
    name: str
    type: str
    optional: bool = False
    description: str = ""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""
    #: a ``code`` parameter is saved as a file with this suffix beside the YAML, which gets its path
    suffix: str = ""


@dataclass(frozen=True)
class Module:
    name: str
    title: str
    category: str
    description: str
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    params: tuple[Param, ...] = field(default_factory=tuple)

    @property
    def script(self) -> str:
        return f"{self.name}.py"

    def describe(self) -> dict[str, Any]:
        return asdict(self)


_FRAME = "dataframe"
_PY_TEMPLATE = '''import pandas as pd


def azureml_main(dataframe1=None, dataframe2=None):
    # dataframe1, dataframe2: pandas DataFrames (None when the port is not connected)
    return dataframe1,
'''
_R_TEMPLATE = '''azureml_main <- function(dataframe1, dataframe2) {
  # dataframe1, dataframe2: data.frames (NULL when the port is not connected)
  return(list(dataset1 = dataframe1))
}
'''

MODULES: dict[str, Module] = {m.name: m for m in (
    Module("import_dataset", "Dataset", "Data Input and Output", "A registered dataset's version as a table.",
           outputs=(Port("output", _FRAME),),
           params=(Param("dataset", "dataset", required=True, description="NAME or NAME:VERSION (latest when "
                                                                              "no version)"),)),
    Module("enter_data", "Enter Data Manually", "Data Input and Output", "A small table typed in as CSV.",
           outputs=(Port("output", _FRAME),),
           params=(Param("data", "code", required=True, description="CSV text", suffix=".csv"),
                   Param("has_header", "boolean", True))),
    Module("select_columns", "Select Columns in Dataset", "Data Transformation", "Keep the columns named.",
           inputs=(Port("input", _FRAME),), outputs=(Port("output", _FRAME),),
           params=(Param("columns", "columns", required=True),)),
    Module("clean_missing", "Clean Missing Data", "Data Transformation",
           "Fill or drop missing values of the columns named (all when none).",
           inputs=(Port("input", _FRAME),), outputs=(Port("output", _FRAME),),
           params=(Param("columns", "columns"),
                   Param("mode", "choice", "mean", choices=("mean", "median", "most_frequent", "constant",
                                                            "remove_row")),
                   Param("value", "string", description="the value for mode 'constant'"))),
    Module("split_data", "Split Data", "Data Transformation", "Rows in two parts, at random.",
           inputs=(Port("input", _FRAME),), outputs=(Port("output1", _FRAME), Port("output2", _FRAME)),
           params=(Param("fraction", "number", 0.7, description="of the rows in the first output"),
                   Param("seed", "integer", 0), Param("stratify_column", "string"))),
    Module("normalize_data", "Normalize Data", "Data Transformation", "Rescale numeric columns.",
           inputs=(Port("input", _FRAME),), outputs=(Port("output", _FRAME),),
           params=(Param("columns", "columns"), Param("method", "choice", "zscore", choices=("zscore", "minmax")))),
    Module("train_model", "Train Model", "Model Training", "Fit a scikit-learn learner to the label column.",
           inputs=(Port("input", _FRAME),), outputs=(Port("model", "model"),),
           params=(Param("label", "string", required=True),
                   Param("learner", "choice", "Linear Regression",
                         choices=tuple(n for task in LEARNERS.values() for n in task)),
                   Param("learner_params", "string", "{}", description="the learner's parameters, as JSON"))),
    Module("automl", "AutoML", "Model Training", "The best model runyard's AutoML finds in the time given "
           "(an AutoML run beside the pipeline's).",
           inputs=(Port("input", _FRAME),), outputs=(Port("model", "model"),),
           params=(Param("task", "choice", "regression", choices=("classification", "regression")),
                   Param("label", "string", required=True),
                   Param("primary_metric", "string", description="Azure's metric names (default: the task's)"),
                   Param("timeout_minutes", "number", 5.0),
                   Param("max_concurrent_iterations", "integer", 1),
                   Param("allowed_models", "string", description="comma-separated (none: all)"))),
    Module("score_model", "Score Model", "Model Scoring and Evaluation", "Predict with a trained model.",
           inputs=(Port("model", "model"), Port("input", _FRAME)), outputs=(Port("output", _FRAME),)),
    Module("evaluate_model", "Evaluate Model", "Model Scoring and Evaluation",
           "Metrics of scored rows (logged to the step's run).",
           inputs=(Port("input", _FRAME),), outputs=(Port("output", _FRAME),)),
    Module("execute_python", "Execute Python Script", "Python Language",
           "azureml_main(dataframe1, dataframe2) returns up to two data frames.",
           inputs=(Port("dataframe1", _FRAME, optional=True), Port("dataframe2", _FRAME, optional=True)),
           outputs=(Port("result1", _FRAME), Port("result2", _FRAME)),
           params=(Param("script", "code", _PY_TEMPLATE, required=True, suffix=".py"),)),
    Module("execute_r", "Execute R Script", "R Language",
           "azureml_main(dataframe1, dataframe2) returns a list of up to two data.frames.",
           inputs=(Port("dataframe1", _FRAME, optional=True), Port("dataframe2", _FRAME, optional=True)),
           outputs=(Port("result1", _FRAME), Port("result2", _FRAME)),
           params=(Param("script", "code", _R_TEMPLATE, required=True, suffix=".R"),)),
)}


def learner_task(learner: str) -> str:
    """'regression' or 'classification' for a learner's name."""
    for task, learners in LEARNERS.items():
        if learner in learners:
            return task
    raise KeyError(learner)
