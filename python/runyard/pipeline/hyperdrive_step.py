"""``HyperDriveStep``: a sweep as a pipeline step; its best trial's outputs are the step's.

The pipeline's driver starts the step as a sweep run (a child of the pipeline
run) whose trials read the step's inputs and write its outputs; once the sweep
completes, the steps after it read the outputs of the trial with the best
primary metric. A sweep in which no trial logged the metric fails the step.

>>> sweep = HyperDriveConfig(run_config=ScriptRunConfig("src", script="train.py"),
...                          hyperparameter_sampling=GridParameterSampling({"--alpha": choice(0.1, 1.0)}),
...                          primary_metric_name="r2", primary_metric_goal="MAXIMIZE", max_total_runs=2)  # doctest: +SKIP
>>> tune = HyperDriveStep("tune", sweep, estimator_entry_script_arguments=["--data", prepared.as_input(),
...                       "--model", model], outputs=[model])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import ScriptRunConfig
from ..errors import ConfigError
from .steps import PipelineStep

if TYPE_CHECKING:
    from ..workspace import Workspace


class HyperDriveStep(PipelineStep):
    """Run a ``HyperDriveConfig`` (over a ``ScriptRunConfig`` or an estimator) as a step;
    ``estimator_entry_script_arguments`` (default: the swept script's own) may hold step data
    and ``PipelineParameter``s, as a ``PythonScriptStep``'s arguments do."""

    kind = "hyperdrive"

    def __init__(self, name: str, hyperdrive_config: Any, estimator_entry_script_arguments: list[Any] | None = None,
                 inputs: list[Any] | None = None, outputs: list[Any] | None = None, allow_reuse: bool = True):
        from ..hyperdrive import HyperDriveConfig
        from ..hyperdrive.sampling import option
        if not isinstance(hyperdrive_config, HyperDriveConfig):
            raise ConfigError(f"HyperDriveStep {name!r}: hyperdrive_config must be a HyperDriveConfig, "
                              f"got {type(hyperdrive_config).__name__}")
        if hyperdrive_config.pipeline is not None:
            raise ConfigError(f"HyperDriveStep {name!r}: its HyperDriveConfig sweeps a pipeline; a step sweeps a "
                              f"script or an estimator")
        if hyperdrive_config.resume_from:
            raise ConfigError(f"HyperDriveStep {name!r}: its HyperDriveConfig has resume_from; a step's sweep "
                              f"starts afresh (reuse keeps a completed one)")
        self.hyperdrive_config = hyperdrive_config
        self.trial_config: ScriptRunConfig = hyperdrive_config._trial_source()
        arguments = (estimator_entry_script_arguments if estimator_entry_script_arguments is not None
                     else self.trial_config._argument_values())
        super().__init__(name, arguments=arguments, inputs=inputs, outputs=outputs, allow_reuse=allow_reuse,
                         compute_target=self.trial_config.resolved_target(),
                         source_directory=self.trial_config.source_directory)
        taken = {t["text"] for t in self.arguments if "text" in t}
        for label in hyperdrive_config.hyperparameter_sampling.parameter_space:
            if option(label) in taken:
                raise ConfigError(f"HyperDriveStep {name!r}: its arguments already hold {option(label)!r}; the sweep "
                                  f"appends '{option(label)} <value>' to each trial's arguments, so take it out")

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        return self.trial_config

    def sweep_settings(self) -> dict[str, Any]:
        """The sweep's part of the step's definition (its trial is the step's job)."""
        config = self.hyperdrive_config
        return {"sampling": config.hyperparameter_sampling.to_json(), "policy": config.policy.to_json(),
                "primary_metric_name": config.primary_metric_name, "goal": config.primary_metric_goal.value,
                "max_total_runs": config.max_total_runs, "max_concurrent_runs": config.concurrency,
                "max_duration_minutes": config.max_duration_minutes, "resume_from": [], "resume_child_runs": []}
