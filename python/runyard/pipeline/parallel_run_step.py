"""``ParallelRunStep``: an entry script's ``run()`` over mini batches of a dataset, by a pool of
worker processes, as one step run.

The step is an ordinary job (``python -m runyard.pipeline._parallel``) on its compute target:
that process, the coordinator, plans the mini batches, starts the workers (each imports the
entry script and calls its ``init()`` once), hands them mini batches until none are left,
applies the failure settings of the ``ParallelRunConfig`` and keeps a **partition table** with
the step run (``run.get_partition_results()``). The workers are ``process_count_per_node``
processes next to the coordinator on the local target and, on Docker, in the run's container;
on a Ray target, ``node_count`` x ``process_count_per_node`` Ray actors spread over the
cluster's nodes. Workers log through the step run (``EntryScript().logger``,
``Run.get_context().log``); no mini batch becomes a run of its own.

Inputs are datasets (``FileDataset``: a mini batch is a list of file paths; ``TabularDataset``:
a pandas DataFrame) or an earlier step's output (its files); ``side_inputs`` reach every
worker whole. With ``output_action='append_row'`` every ``run()`` result is collected into
``append_row_file_name`` in ``output`` (or in the run's outputs/ without one).

Submitting the pipeline again runs only the mini batches that did not succeed in the newest
earlier run of the same step (same reuse key: script, settings, data): the others' results and
output files are carried over.

Azure ML v1 ran a ParallelRunStep in pipelines only; here ``Experiment.submit(step)`` also runs
it as a job of its own (``_submit``): one run, the same job, table and resubmission.

>>> config = ParallelRunConfig(environment=None, entry_script="train.py", error_threshold=-1,
...                            output_action="append_row", compute_target="local", node_count=1,
...                            source_directory="src", partition_keys=["store"])  # doctest: +SKIP
>>> step = ParallelRunStep("train", config, inputs=[sales.as_named_input("sales")],
...                        output=OutputFileDatasetConfig("models"))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import RunConfiguration, ScriptRunConfig
from ..data import Dataset, DatasetConsumptionConfig
from ..errors import ConfigError, refuse_unknown_arguments
from .data import OutputFileDatasetConfig, StepInput
from .parallel_run_config import ParallelRunConfig, files_per_batch, node_count_error
from .steps import PipelineStep

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..run import Run
    from ..workspace import Workspace

#: the module the step's job runs
MODULE = "runyard.pipeline._parallel"


class ParallelRunStep(PipelineStep):
    """Run ``parallel_run_config.entry_script`` over ``inputs`` in mini batches (see the module).

    >>> step = ParallelRunStep("score", config, inputs=[images.as_named_input("images")],
    ...                        output=OutputFileDatasetConfig("scores"), arguments=["--threshold", 0.5])  # doctest: +SKIP
    """

    kind = "parallel"

    def __init__(self, name: str, parallel_run_config: ParallelRunConfig, inputs: list[Any],
                 output: Any = None, side_inputs: list[Any] | None = None, arguments: list[Any] | None = None,
                 allow_reuse: bool = True):
        what = f"ParallelRunStep {name!r}"
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise ConfigError(f"{what}: parallel_run_config must be a ParallelRunConfig, "
                              f"got {type(parallel_run_config).__name__}")
        config = self.parallel_run_config = parallel_run_config
        if not isinstance(inputs, (list, tuple)) or not inputs:
            raise ConfigError(f"{what}: inputs must be a non-empty list of datasets (or their as_named_input()) "
                              f"or step outputs, the data split into mini batches")
        partitioned = [_as_partitioned_input(item, f"{what}: inputs[{index}]") for index, item in enumerate(inputs)]
        kinds = {_input_type(item) for item in partitioned}
        if len(kinds) > 1:
            raise ConfigError(f"{what}: inputs mixes file and tabular data; every input of a ParallelRunStep is of "
                              f"one type (a mini batch is a list of files or a DataFrame)")
        self.input_type = kinds.pop()
        if self.input_type == "file":
            files_per_batch(config.mini_batch_size)
        if config.partition_keys is not None:
            for item in partitioned:
                _check_partition_keys(item, config.partition_keys, what)
        if output is not None and not isinstance(output, OutputFileDatasetConfig):
            raise ConfigError(f"{what}: output must be an OutputFileDatasetConfig or PipelineData, "
                              f"got {type(output).__name__}")
        if side_inputs is not None and not isinstance(side_inputs, (list, tuple)):
            raise ConfigError(f"{what}: side_inputs must be a list, got {type(side_inputs).__name__}")
        side = [item.delivered() if isinstance(item, DatasetConsumptionConfig) else
                item.as_named_input(item._input_name()).as_download() if isinstance(item, Dataset) else item
                for item in side_inputs or []]
        runconfig = RunConfiguration(target=config.compute_target if config.compute_target is not None else "local",
                                     environment=config.environment,
                                     environment_variables=config.environment_variables)
        super().__init__(name, arguments=arguments, inputs=[*partitioned, *side],
                         outputs=[output] if output is not None else [], allow_reuse=allow_reuse,
                         compute_target=config.compute_target, runconfig=runconfig,
                         source_directory=config.source_directory)
        self.output = output
        # the user's arguments go to the entry script (after "--"), not to the job's command line
        self.user_arguments, self.arguments = self.arguments, []
        self.partitioned = [item.name for item in partitioned]
        if len(set(self.partitioned)) != len(self.partitioned):
            raise ConfigError(f"{what}: two inputs are named {self.partitioned!r}; name them apart with "
                              f"as_named_input(name) / as_input(name=...)")
        self._given_inputs = self._partitioned_inputs = partitioned
        self._given_datasets = list(self.datasets)  # _config derives both per target from these
        # every other input (side_inputs, data in arguments) reaches each worker whole
        self.side = [name for name in [*(i.name for i in self.inputs), *(d.name for d in self.datasets)]
                     if name not in self.partitioned]
        self.command = self._command("processes")

    def _command(self, workers: str) -> list[dict[str, Any]]:
        """The job's command line; ``workers``: "processes" (next to the coordinator: the local
        target, or the run's container) or "ray" (actors on the cluster's nodes)."""
        words: list[Any] = ["/bin/sh", "-c", f'exec "${{RETICULATE_PYTHON:-python3}}" -m {MODULE} "$@"', "parallel",
                            "--settings"]
        # the settings' JSON, written when the run's parameters are known (``fill_settings``)
        tokens = [*({"text": w} for w in words),
                  self.parallel_run_config._settings_token({"workers": workers, "input_type": self.input_type})]
        for item in self._partitioned_inputs:
            if isinstance(item, DatasetConsumptionConfig):  # a direct one has no folder: its files are where they are
                tokens += [{"text": "--dataset"}, {"text": item.name},
                           {"text": "direct"} if item.mode == "direct" else {"input": item.name}]
            else:
                tokens += [{"text": "--folder"}, {"text": item.name}, {"input": item.name}]
        for name in self.side:
            tokens += [{"text": "--side"}, {"text": name}, {"input": name}]
        if self.output is not None:
            tokens += [{"text": "--output"}, {"output": self.output.name}]
        return tokens + [{"text": "--"}, *self.user_arguments]

    def parameters(self) -> list[Any]:
        """The PipelineParameters of its arguments and of its config's settings."""
        return [*(t["object"] for t in self.command if "parameter" in t),
                *self.parallel_run_config.pipeline_parameters.values()]

    def _submit(self, experiment: "Experiment", tags: dict[str, Any], display_name: str | None = None,
                properties: dict[str, Any] | None = None, regenerate_outputs: bool = False,
                **kwargs: Any) -> "Run":
        """``Experiment.submit(step)``: the step as a job of its own, one run whose job is the
        coordinator (no pipeline run around it). Its mini batches, partition table, append_row
        file, thresholds are the step's; submitting it again (same script, settings and data)
        resumes the newest earlier run of it, as its pipeline step would: only the mini batches
        that did not succeed there run. ``regenerate_outputs=True`` (or ``allow_reuse=False``)
        runs every mini batch again.

        >>> run = Experiment(ws, "score").submit(ParallelRunStep("score", config, inputs=[images]))  # doctest: +SKIP
        >>> run.wait_for_completion(); run.get_partition_results(status="Failed")  # doctest: +SKIP
        """
        from ..data.consumption import refresh
        from ..environment import Environment
        from ..job import submit_job
        from . import reuse
        from ._driver import fill, step_reuse_key
        from .data import OUTPUTS_FOLDER
        from .pipeline import Pipeline
        refuse_unknown_arguments("Experiment.submit(ParallelRunStep)", kwargs,
                                 "it takes tags, display_name, properties and regenerate_outputs")
        if not isinstance(regenerate_outputs, bool):
            raise ConfigError(f"regenerate_outputs must be True or False, got {regenerate_outputs!r}")
        what = f"ParallelRunStep {self.name!r} submitted on its own"
        if self.inputs:
            raise ConfigError(f"{what}: input {self.inputs[0].name!r} is another step's output, which only a "
                              f"pipeline run makes; submit the steps together in a Pipeline, or give datasets")
        for output in self.outputs:
            if output.registration or output.destination:
                raise ConfigError(f"{what}: output {output.name!r} asks to be registered or copied to a datastore "
                                  f"when the step completes, which a pipeline run does; submit it in a Pipeline, "
                                  f"or register the run's output files yourself once it has completed")
        workspace = experiment.workspace
        definition = Pipeline(workspace, [self])._definition(workspace, {}, take_snapshots=True)
        (step,), parameters = definition["steps"], definition["parameters"]  # the parameters' defaults
        job = step["job"]
        datasets = [refresh(d, workspace) for d in step["datasets"]]
        inputs = {d["name"]: d["argument"] for d in datasets if d["mode"] != "direct"}
        outputs = {o: f"{OUTPUTS_FOLDER}/{o}" for o in step["outputs"]}
        key = step_reuse_key(step, parameters, {}, datasets)
        variables = dict(job["environment_variables"])
        for data_name, path in {**inputs, **outputs}.items():  # Azure ML's variables for a step's data
            variables.setdefault(f"AZUREML_DATAREFERENCE_{data_name}", path)
        job_inputs = list(datasets)
        earlier = (reuse.find_parallel_resumable(workspace._store, workspace, key)
                   if self.allow_reuse and not regenerate_outputs else None)
        if earlier is not None:  # its succeeded mini batches are carried over; see _parallel
            resume_inputs, resume_variables = reuse.parallel_resume_inputs(earlier)
            job_inputs += resume_inputs
            variables.update(resume_variables)
        return submit_job(
            experiment, source_directory=None, snapshot_hash=job["snapshot_hash"], script=None,
            command=fill(job["command"], parameters, inputs, outputs), arguments=[],
            environment=Environment(**job["environment"]) if job["environment"] else None,
            compute_target=job["target"], environment_variables=variables,
            max_run_duration_seconds=job["max_run_duration_seconds"], tags=tags,
            display_name=display_name or self.name,
            properties={**(properties or {}), reuse.KEY_PROPERTY: key},
            max_retries=job["max_retries"], resources=job["resources"], inputs=job_inputs,
            output_folders=list(outputs.values()))

    def _config(self, workspace: "Workspace") -> ScriptRunConfig:
        from ..compute import get_target
        config = ScriptRunConfig(source_directory=self.source_directory, command="true", run_config=self.runconfig,
                                 compute_target=self.compute_target)
        target = get_target(workspace, config.resolved_target())
        node_count = self.parallel_run_config.node_count
        if node_count > 1 and target.type != "ray":
            raise node_count_error(node_count, target.name, target.type)
        if target.type == "ray" and self.parallel_run_config.entry_script.lower().endswith(".r"):
            raise ConfigError(f"ParallelRunStep {self.name!r}: an entry script in R "
                              f"({self.parallel_run_config.entry_script!r}) runs on the local target or in a "
                              f"container, not on the Ray target {target.name!r}: its workers are R processes "
                              f"next to the step's coordinator")
        # a table read where it is needs the coordinator and workers on this machine's folders:
        # elsewhere (a container, a Ray node) its files are delivered into the job's folder
        self._partitioned_inputs = [item.delivered() if target.type != "local" and _read_in_place(item) else item
                                    for item in self._given_inputs]
        delivered = {item.name: item for item in self._partitioned_inputs}
        self.datasets = [delivered.get(d.name, d) if _read_in_place(d) else d for d in self._given_datasets]
        # the target decides where the workers run, so the command says it once the target is known
        self.command = self._command("ray" if target.type == "ray" else "processes")
        return config


def _read_in_place(item: Any) -> bool:
    return isinstance(item, DatasetConsumptionConfig) and item.mode == "direct"


def _as_partitioned_input(item: Any, where: str) -> DatasetConsumptionConfig | StepInput:
    if isinstance(item, Dataset):
        item = item.as_named_input(item._input_name())
    if isinstance(item, OutputFileDatasetConfig):
        item = item.as_input()
    if isinstance(item, DatasetConsumptionConfig):
        if item.mode == "direct" and item.dataset._type == "tabular" and \
                all(source["kind"] == "local" for source in item.dataset._sources):
            # read where they are: delivering thousands of partitions' files into the job's
            # folder first cost about a millisecond each (each file's sha256 goes with its mini
            # batch, and the worker checks it); on the local target only (see _config)
            return item
        return item.delivered()  # the workers read the files in the job's folder
    if isinstance(item, StepInput):
        if item.output._format is not None:
            raise ConfigError(f"{where}: step output {item.output.name!r} read as a table is not taken yet; give "
                              f"it as files (the output itself) or register it as a tabular dataset")
        return item
    raise ConfigError(f"{where} must be a FileDataset or TabularDataset (or its as_named_input()), or a step "
                      f"output, got {type(item).__name__}")


def _input_type(item: Any) -> str:
    if isinstance(item, DatasetConsumptionConfig):
        return item.dataset._type
    return "file"


def _check_partition_keys(item: Any, keys: list[str], what: str) -> None:
    """Partition keys are keys of every input (Azure ML: a partitioned tabular dataset's
    ``partition_format`` columns)."""
    if not isinstance(item, DatasetConsumptionConfig) or item.dataset._type != "tabular":
        raise ConfigError(f"{what}: partition_keys {keys!r} need partitioned tabular datasets as inputs; input "
                          f"{item.name!r} is files")
    known = item.dataset.partition_keys
    missing = [k for k in keys if k not in known]
    if missing:
        raise ConfigError(f"{what}: partition_keys {missing!r} are not partition keys of input {item.name!r} "
                          f"(its partition keys: {known or 'none'}); partition it with "
                          f"dataset.partition_by({keys!r}, target) or read it with partition_format")
