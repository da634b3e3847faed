"""``Pipeline``: steps linked by their data, submitted as one pipeline run.

Submitting checks everything first (graph, parameters, scripts, targets,
environments) and snapshots each step's source, then records the pipeline run
and starts its driver (``runyard.pipeline._driver``), a detached process that
submits each step as a child run once its inputs are ready, so the pipeline
outlives the Python session that submitted it.

>>> pipeline = Pipeline(ws, steps=[prep, train, evaluate])  # doctest: +SKIP
>>> run = Experiment(ws, "diabetes").submit(pipeline, pipeline_parameters={"alpha": 0.1})  # doctest: +SKIP
>>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import snapshot
from ..artifacts import report_left_out
from ..errors import ConfigError, refuse_unknown_arguments
from . import graph as graphs
from .data import PipelineParameter

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..workspace import Workspace
    from .run import PipelineRun

DEFAULT_MAX_CONCURRENT_STEPS = 4
#: the driver's output, in the pipeline run's logs/
DRIVER_LOG = "driver.log"


class Pipeline:
    """Steps to run in order of their data; independent steps run at the same time, up to
    ``max_concurrent_steps``.

    >>> pipeline = Pipeline(ws, steps=[prep, train], description="prep and train")  # doctest: +SKIP
    """

    def __init__(self, workspace: "Workspace", steps: list[Any], description: str | None = None, *,
                 max_concurrent_steps: int = DEFAULT_MAX_CONCURRENT_STEPS):
        if not isinstance(max_concurrent_steps, int) or isinstance(max_concurrent_steps, bool) \
                or max_concurrent_steps < 1:
            raise ConfigError(f"Pipeline: max_concurrent_steps must be a whole number >= 1, "
                              f"got {max_concurrent_steps!r}")
        if description is not None and not isinstance(description, str):
            raise ConfigError(f"Pipeline: description must be text, got {type(description).__name__}")
        from ..workspace import check_workspace
        self.workspace = check_workspace(workspace)
        self.description = description
        self.max_concurrent_steps = max_concurrent_steps
        self.graph = graphs.build(steps)
        self.steps = list(self.graph.steps.values())
        self.parameters = _parameters(self.steps)

    def validate(self) -> list[str]:
        """Azure ML's check before submission: raises ``ConfigError`` on the first problem."""
        self._definition(self.workspace, {}, take_snapshots=False)
        return []

    def _submit(self, experiment: "Experiment", tags: dict[str, Any], pipeline_parameters: dict[str, Any] | None = None,
                regenerate_outputs: bool = False, continue_on_step_failure: bool | None = None,
                display_name: str | None = None, properties: dict[str, Any] | None = None,
                parent_run_id: str | None = None, **kwargs: Any) -> "PipelineRun":
        refuse_unknown_arguments("Experiment.submit(Pipeline)", kwargs, "it takes tags, pipeline_parameters, "
                                 "regenerate_outputs, continue_on_step_failure, display_name, properties and "
                                 "parent_run_id")
        workspace = experiment.workspace
        if workspace != self.workspace:
            raise ConfigError(f"Pipeline: built for workspace {self.workspace.name!r}, submitted to an "
                              f"experiment of workspace {workspace.name!r}")
        definition = self._definition(workspace, pipeline_parameters or {}, take_snapshots=True)
        return start_run(experiment, definition, tags=tags, regenerate_outputs=regenerate_outputs,
                         continue_on_step_failure=continue_on_step_failure, display_name=display_name,
                         properties=properties, parent_run_id=parent_run_id)

    def publish(self, name: str | None = None, description: str | None = None, version: str | None = None,
                continue_on_step_failure: bool | None = None) -> Any:
        """Store this pipeline in its workspace as a ``PublishedPipeline``, to be submitted later
        (from Python, R, ``runyard pipeline submit NAME``, a schedule or the server's REST API)
        with other parameter values. The steps' sources are snapshotted now.
        ``continue_on_step_failure=False`` makes its runs stop starting steps once one failed.

        >>> published = pipeline.publish("train-diabetes", description="nightly", version="1.0")  # doctest: +SKIP
        >>> published.submit(ws, "diabetes", pipeline_parameters={"alpha": 0.2})  # doctest: +SKIP
        """
        from .published import PublishedPipeline
        return PublishedPipeline._publish(self, name, description, version, continue_on_step_failure)

    def _definition(self, workspace: "Workspace", overrides: dict[str, Any], *,
                    take_snapshots: bool) -> dict[str, Any]:
        """What the driver runs: every step's job (snapshots taken), parameters filled in."""
        parameters = fill_parameters(self.parameters, overrides)
        snapshots: dict[str, str] = {}  # source folder -> its snapshot: steps often share one
        steps = []
        for name in self.graph.order:
            step = self.graph.steps[name]
            if step.kind == "automl":
                steps.append(self._automl_entry(workspace, step, take_snapshots))
                continue
            try:
                config = step._config(workspace)
                source = config.validate_source()
                target, environment, note = config.placement(workspace)
                if target.name not in workspace.compute_targets:
                    raise ConfigError(f"compute target {target.name!r} is not attached to workspace "
                                      f"{workspace.name!r}; attach it with ws.compute_targets.attach(...)")
                if environment is not None:
                    environment.validate_for_build()
                    target.check_environment(environment)
                datasets = _datasets(step, workspace)
            except ConfigError as e:
                raise ConfigError(f"step {name!r}: {e}") from e
            run_config = config.run_config
            duration = config.max_run_duration_seconds
            if run_config and run_config.max_run_duration_seconds:
                duration = min(duration or run_config.max_run_duration_seconds, run_config.max_run_duration_seconds)
            command = getattr(step, "command", None)
            steps.append({
                "name": name, "kind": step.kind, "allow_reuse": step.allow_reuse,
                **({"hyperdrive": step.sweep_settings()} if step.kind == "hyperdrive" else {}),
                "upstream": self.graph.upstream[name],
                "inputs": [{"name": i.name, "output": i.output.name, "step": self.graph.producers[i.output.name]}
                           for i in step.inputs],
                "outputs": [o.name for o in step.outputs],
                "datasets": datasets,
                "register": [{"output": o.name, **o.registration} for o in step.outputs if o.registration],
                "destinations": [{"output": o.name, **o.destination} for o in step.outputs if o.destination],
                # as_upload(overwrite=False): files already at the destination are kept
                **({"destinations_kept": sorted(o.name for o in step.outputs if o.destination and not o.overwrite)}
                   if any(o.destination and not o.overwrite for o in step.outputs) else {}),
                "job": {
                    "source_directory": str(source),
                    "snapshot_hash": (snapshots.setdefault(str(source), _snapshot(workspace, source))
                                      if take_snapshots and str(source) not in snapshots else
                                      snapshots.get(str(source))),
                    "script": None if command is not None else config.script,
                    "command": _tokens(command) if isinstance(command, list) else command,
                    "arguments": _tokens(step.arguments),
                    "environment": environment.model_dump(mode="json") if environment else None,
                    "environment_hash": environment.hash if environment else "",
                    "target": target.name, "target_type": target.type,
                    "environment_variables": dict(run_config.environment_variables) if run_config else {},
                    "max_run_duration_seconds": duration,
                    "distributed": config.distributed_job_config.to_job() if config.distributed_job_config else None,
                    "max_retries": run_config.max_retries if run_config else 0,
                    "resources": run_config.job_resources() if run_config else {},
                    **({"notes": [note]} if note else {}),
                },
            })
        return {"description": self.description, "max_concurrent_steps": self.max_concurrent_steps,
                "parameters": parameters, "steps": steps}

    def _automl_entry(self, workspace: "Workspace", step: Any, take_snapshots: bool) -> dict[str, Any]:
        """An AutoMLStep's entry: its AutoML run's definition (or what completes it), and the
        fields every step has (its "job": the job of each iteration, once known)."""
        from ..compute import get_target
        try:
            automl = step.automl_entry(workspace, take_snapshots=take_snapshots, data_name=f"pipeline-{step.name}")
            target = get_target(workspace, step.compute_target)
        except ConfigError as e:
            raise ConfigError(f"step {step.name!r}: {e}") from e
        job = automl["definition"]["trial"]["job"] if "definition" in automl else {}
        return {
            "name": step.name, "kind": "automl", "allow_reuse": step.allow_reuse, "automl": automl,
            "upstream": self.graph.upstream[step.name],
            "inputs": [{"name": i.name, "output": i.output.name, "step": self.graph.producers[i.output.name]}
                       for i in step.inputs],
            "outputs": [o.name for o in step.outputs], "datasets": [],
            "register": [{"output": o.name, **o.registration} for o in step.outputs if o.registration],
            "destinations": [{"output": o.name, **o.destination} for o in step.outputs if o.destination],
            "job": {"source_directory": None, "snapshot_hash": job.get("snapshot_hash"), "script": job.get("script"),
                    "command": job.get("command"), "arguments": [], "environment": job.get("environment"),
                    "environment_hash": "", "target": target.name, "target_type": target.type,
                    "environment_variables": {}, "max_run_duration_seconds": None, "distributed": None,
                    "max_retries": 0, "resources": {}},
        }

    def __repr__(self) -> str:
        return f"Pipeline(steps={[s.name for s in self.steps]!r})"


def start_run(experiment: "Experiment", definition: dict[str, Any], *, tags: dict[str, Any],
              regenerate_outputs: bool = False, continue_on_step_failure: bool | None = None,
              display_name: str | None = None, properties: dict[str, Any] | None = None,
              parent_run_id: str | None = None) -> "PipelineRun":
    """Record a pipeline run of ``definition`` (see ``Pipeline._definition``) Queued and start
    its driver: what submitting a ``Pipeline`` or a ``PublishedPipeline`` ends in.

    ``continue_on_step_failure``: False stops starting steps once one failed (True, and None
    unless the definition says otherwise: steps that do not read a failed step's outputs go
    on); ``parent_run_id`` makes the pipeline run a child of that run of the workspace."""
    from ..compute.local import start_driven_run
    if not isinstance(regenerate_outputs, bool):
        raise ConfigError(f"regenerate_outputs must be True or False, got {regenerate_outputs!r}")
    check_step_settings(definition)
    definition = {**definition, "regenerate_outputs": regenerate_outputs}
    if continue_on_step_failure is not None:
        definition["continue_on_step_failure"] = check_continue_on_step_failure(continue_on_step_failure)
    return start_driven_run(experiment, definition, run_type="pipeline", module="runyard.pipeline._driver",
                            log_name=DRIVER_LOG, what="pipeline run", tags=tags,
                            properties={"azureml.pipelineComponent": "pipelinerun", **(properties or {})},
                            display_name=display_name, parent_run_id=parent_run_id)


def check_step_settings(definition: dict[str, Any]) -> None:
    """The settings each ParallelRunStep takes from the run's parameters, checked now, before
    anything runs (its driver fills them the same way when the step starts)."""
    from .parallel_run_config import fill_settings
    for step in definition["steps"]:
        command = (step.get("job") or {}).get("command")
        for token in command if isinstance(command, list) else []:
            if "settings" in token:
                try:
                    fill_settings(token, definition["parameters"])
                except ConfigError as e:
                    raise ConfigError(f"step {step['name']!r}: {e}") from None


def check_continue_on_step_failure(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ConfigError(f"continue_on_step_failure must be True, False or None, got {value!r}")
    return value


def fill_parameters(known: dict[str, PipelineParameter], overrides: Any) -> dict[str, Any]:
    """Every parameter's value: ``overrides[name]`` (checked against the default's type) or
    its default; a name that is not a parameter is an error naming the parameters there are."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"pipeline_parameters must be a dict of name -> value, got {type(overrides).__name__}")
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"pipeline_parameters: {', '.join(map(repr, unknown))} is not a parameter of this "
                          f"pipeline (its parameters: {names})")
    return {name: (p.check(overrides[name]) if name in overrides else p.default_value)
            for name, p in known.items()}


def _snapshot(workspace: "Workspace", source: Any) -> str:
    """Snapshot ``source``; a served workspace gets a copy, so a driver on any machine finds it."""
    taken = snapshot.take(source, workspace.snapshots_dir)
    report_left_out(taken.left_out)
    if workspace.url:
        workspace._artifacts.put_snapshot(taken.hash, taken.path)
    return taken.hash


def _datasets(step: Any, workspace: "Workspace") -> list[dict[str, Any]]:
    """The step's dataset inputs as job inputs: a registered version as it is, an unregistered
    dataset's files listed now and hashed when the step starts (its reuse key takes their
    content then; a published pipeline's step reads the data there is when it runs)."""
    from ..data.consumption import job_input
    taken = {i.name for i in step.inputs}
    datasets = getattr(step, "datasets", [])
    for config in datasets:
        if config.name in taken:
            raise ConfigError(f"dataset input {config.name!r} has the name of an input from another step; "
                              f"name it apart with as_named_input(name)")
    return [job_input(config, workspace, freeze=False) for config in datasets]


def _tokens(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in t.items() if k != "object"} for t in tokens]


def _parameters(steps: list[Any]) -> dict[str, PipelineParameter]:
    found: dict[str, PipelineParameter] = {}
    for step in steps:
        for parameter in step.parameters():
            known = found.setdefault(parameter.name, parameter)
            if known is not parameter and known.default_value != parameter.default_value:
                raise ConfigError(f"Pipeline: two PipelineParameters are named {parameter.name!r} with different "
                                  f"defaults ({known.default_value!r}, {parameter.default_value!r})")
    return found
