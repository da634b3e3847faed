"""``AutoMLStep``: an AutoML run as a pipeline step; its outputs are the best model and the metrics.

The step's outputs are ``PipelineData`` marked with a ``TrainingOutput``: ``type='Model'``
(a folder holding the chosen model as ``model.pkl``) and ``type='Metrics'`` (a folder holding
``metrics.json``: every completed iteration's run id and metrics). With
``enable_default_model_output`` / ``enable_default_metrics_output`` (the default) a step given
neither has ``default_model_<step>`` and ``default_metrics_<step>``, as in Azure ML.

The training data is the config's: a DataFrame or a ``TabularDataset`` (registered and checked
when the pipeline is submitted, so bad data fails the submission), or the output of an earlier
step read as a table (``prepared.read_delimited_files()`` or ``.read_parquet_files()``): the
pipeline's driver reads that step's files when this one starts, registers them as a dataset
version, checks them and starts the AutoML run, a child of the pipeline run. Reuse: an earlier
AutoML run of the same settings on the same data is reused, with its outputs.

>>> model = PipelineData("model", training_output=TrainingOutput("Model"))  # doctest: +SKIP
>>> train = AutoMLStep("train", automl_config, outputs=[model])  # doctest: +SKIP
>>> register = PythonScriptStep("register.py", arguments=["--model", model.as_input()])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, refuse_unknown_arguments
from .data import OutputFileDatasetConfig, PipelineData, StepInput, TrainingOutput
from .steps import PipelineStep

if TYPE_CHECKING:
    from ..workspace import Workspace

MODEL_FILE = "model.pkl"
METRICS_FILE = "metrics.json"


class AutoMLStep(PipelineStep):
    """Run an ``AutoMLConfig`` as a step (see the module)."""

    kind = "automl"

    def __init__(self, name: str, automl_config: Any, inputs: list[Any] | None = None,
                 outputs: list[Any] | None = None, allow_reuse: bool = True, enable_default_model_output: bool = True,
                 enable_default_metrics_output: bool = True, **kwargs: Any):
        from ..automl import AutoMLConfig
        from ..automl import metrics as am
        refuse_unknown_arguments(f"AutoMLStep {name!r}", kwargs, "it takes name, automl_config, inputs, outputs, "
                                 "allow_reuse, enable_default_model_output and enable_default_metrics_output")
        if not isinstance(automl_config, AutoMLConfig):
            raise ConfigError(f"AutoMLStep {name!r}: automl_config must be an AutoMLConfig, "
                              f"got {type(automl_config).__name__}")
        self.automl_config = automl_config
        data = automl_config.training_data
        self.training_input: StepInput | None = None
        if isinstance(data, (OutputFileDatasetConfig, StepInput)):
            output = data if isinstance(data, OutputFileDatasetConfig) else data.output
            if output._format is None:
                raise ConfigError(f"AutoMLStep {name!r}: its training_data is step output {output.name!r}, read as "
                                  f"files; say how to read it as a table: {output.name}.read_delimited_files() or "
                                  f".read_parquet_files()")
            self.training_input = data if isinstance(data, StepInput) else data.as_input()
        if isinstance(automl_config.validation_data, (OutputFileDatasetConfig, StepInput)):
            raise ConfigError(f"AutoMLStep {name!r}: validation_data from a step is not taken; give a DataFrame or a "
                              f"TabularDataset, or validate on the training data (n_cross_validations, "
                              f"validation_size)")
        outputs = list(outputs or [])
        for index, item in enumerate(outputs):
            if not isinstance(item, PipelineData) or item.training_output is None:
                raise ConfigError(f"AutoMLStep {name!r}: outputs[{index}] must be a PipelineData with "
                                  f"training_output=TrainingOutput('Model' or 'Metrics'); an AutoMLStep writes its "
                                  f"model and its metrics")
            chosen = item.training_output.metric
            if chosen is not None:
                try:
                    am.check_primary_metric(automl_config.task, chosen)
                except ConfigError:
                    if chosen not in am.task_metrics(automl_config.task):
                        raise ConfigError(f"AutoMLStep {name!r}: outputs[{index}]: TrainingOutput metric {chosen!r} "
                                          f"is not a {automl_config.task} metric") from None
        types = [o.training_output.type for o in outputs]
        for flag, kind, default in ((enable_default_model_output, "Model", "default_model"),
                                    (enable_default_metrics_output, "Metrics", "default_metrics")):
            if not isinstance(flag, bool):
                raise ConfigError(f"AutoMLStep {name!r}: enable_default_{kind.lower()}_output must be True or False")
            if flag and kind not in types:
                outputs.append(PipelineData(f"{default}_{name}", training_output=TrainingOutput(kind)))
        super().__init__(name, arguments=[], inputs=[*(inputs or []), *(
            [self.training_input] if self.training_input is not None else [])], outputs=outputs,
                         allow_reuse=allow_reuse, compute_target=automl_config.compute_target)

    def _config(self, workspace: "Workspace") -> Any:
        raise ConfigError(f"AutoMLStep {self.name!r} runs an AutoML run, not one job")

    def automl_entry(self, workspace: "Workspace", *, take_snapshots: bool, data_name: str) -> dict[str, Any]:
        """The step's part of the pipeline's definition: the AutoML definition itself where the
        data is known now (checked now), else the config's settings for the driver to complete."""
        outputs = {o.name: o.training_output.to_json() for o in self.outputs}
        if self.training_input is not None:
            return {"arguments": self.automl_config._arguments(), "outputs": outputs,
                    "training_input": self.training_input.name, "training_format": self.training_input.output._format}
        if not take_snapshots:
            return {"arguments": self.automl_config._arguments(), "outputs": outputs}
        return {"definition": self.automl_config._definition(workspace, data_name), "outputs": outputs}
