"""Run configurations: ``ScriptRunConfig``, ``RunConfiguration`` and the job YAML file.

Each is a pydantic model; a validation error becomes a ``ConfigError`` naming
the field (and, for files, the file and line).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from . import _yaml
from .data.consumption import DatasetConsumptionConfig
from .docker_configuration import DockerConfiguration
from .environment import Environment, _from_env_yaml
from .errors import ConfigError, refuse_unknown_arguments

DEFAULT_MAX_RUN_DURATION_S = 2592000  # 30 days, Azure ML's default
_Scalar = Union[str, int, float, bool]
#: an argument: text or a number, or a dataset input (the script gets its folder or file)
_Argument = Union[_Scalar, DatasetConsumptionConfig]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, arbitrary_types_allowed=True)

    def __init__(self, *args: Any, **data: Any):
        names = list(type(self).model_fields)
        if len(args) > len(names):
            raise ConfigError(f"{type(self).__name__} takes at most {len(names)} positional arguments")
        for name, value in zip(names, args):
            if name in data:
                raise ConfigError(f"{type(self).__name__}: {name} given twice")
            data[name] = value
        try:
            super().__init__(**data)
        except pydantic.ValidationError as e:
            raise ConfigError(_yaml.validation_message(e, type(self).__name__)) from e

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as e:
            raise ConfigError(_yaml.validation_message(e, type(self).__name__)) from e


class RunConfiguration(_Config):
    """Where and how a script runs: target, environment, variables, duration limit."""

    script: str | None = None
    arguments: list[_Argument] = Field(default_factory=list)
    target: Any = "local"
    environment: Environment | None = None
    environment_variables: dict[str, str] = Field(default_factory=dict)
    node_count: int = Field(1, ge=1)
    max_run_duration_seconds: int | None = Field(None, gt=0)
    #: times a run is started again when its job is lost with its node (not when the script fails)
    max_retries: int = Field(0, ge=0, le=100)
    #: what the job's driver process reserves on a cluster (Ray's entrypoint resources; each
    #: process of a distributed job reserves the same)
    num_cpus: float | None = Field(None, ge=0)
    num_gpus: float | None = Field(None, ge=0)
    resources: dict[str, float] = Field(default_factory=dict)
    #: datasets the run reads, by input name: ``{"train": dataset.as_named_input("train").as_download()}``
    data: dict[str, DatasetConsumptionConfig] = Field(default_factory=dict)
    #: Azure's ``run_config.docker``; ``ScriptRunConfig.docker_runtime_config`` comes first
    docker: DockerConfiguration | None = None

    @pydantic.field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        from .data import Dataset
        if not isinstance(value, dict):
            return value
        data = {}
        for name, item in value.items():
            item = item.as_named_input(name) if isinstance(item, Dataset) else item
            if isinstance(item, DatasetConsumptionConfig) and item.name != name:
                raise ValueError(f"data[{name!r}] is the dataset input named {item.name!r}; use the same name")
            data[name] = item
        return data

    def job_resources(self) -> dict[str, Any]:
        return {k: v for k, v in (("num_cpus", self.num_cpus), ("num_gpus", self.num_gpus),
                                  ("resources", self.resources)) if v}


class ScriptRunConfig(_Config):
    """A script (or command) in a source folder, ready to submit.

    >>> src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--alpha", 0.5])
    >>> src.script
    'train.py'
    """

    source_directory: str = "."
    script: str | None = None
    arguments: list[_Argument] | None = None
    run_config: RunConfiguration | None = None
    compute_target: Any = None
    environment: Environment | None = None
    distributed_job_config: Any = None
    resume_from: Any = None
    max_run_duration_seconds: int | None = Field(DEFAULT_MAX_RUN_DURATION_S, gt=0)
    command: str | list[str] | None = None
    #: asks for a container (``runyard.docker_configuration`` says where the run then goes)
    docker_runtime_config: DockerConfiguration | None = None

    @pydantic.field_validator("source_directory", mode="before")
    @classmethod
    def _path_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, Path) else value


    @pydantic.field_validator("distributed_job_config", mode="before")
    @classmethod
    def _distributed(cls, value: Any) -> Any:
        from .distributed import as_distributed
        try:
            return as_distributed(value)
        except ConfigError as e:
            raise ValueError(str(e)) from e

    # -- what gets submitted -------------------------------------------------
    def resolved_target(self) -> Any:
        if self.compute_target is not None:
            return self.compute_target
        return self.run_config.target if self.run_config else "local"

    def resolved_environment(self) -> Environment | None:
        if self.environment is not None:
            return self.environment
        return self.run_config.environment if self.run_config else None

    def resolved_docker(self) -> DockerConfiguration | None:
        if self.docker_runtime_config is not None:
            return self.docker_runtime_config
        return self.run_config.docker if self.run_config else None

    def placement(self, workspace: Any) -> tuple[Any, Environment | None, str | None]:
        """``(target, environment, note)`` the job runs with: the resolved ones, moved to a
        container when the docker configuration asks (``docker_configuration.place``)."""
        from .compute import get_target
        from .docker_configuration import place
        return place(workspace, get_target(workspace, self.resolved_target()), self.resolved_docker(),
                     self.resolved_environment())

    def resolved_arguments(self, dataset_paths: dict[str, str] | None = None) -> list[str]:
        """The arguments as text; a dataset input is the path of its files in the job's folder."""
        return [_argument_text(v, dataset_paths) for v in self._argument_values()]

    def _argument_values(self) -> list[Any]:
        return list(self.arguments if self.arguments is not None else (
            self.run_config.arguments if self.run_config else []))

    def dataset_inputs(self) -> list[DatasetConsumptionConfig]:
        """The datasets the run reads: those in its arguments (which need their files) and in
        ``run_config.data``."""
        found = [v.delivered() for v in self._argument_values() if isinstance(v, DatasetConsumptionConfig)]
        return found + (list(self.run_config.data.values()) if self.run_config else [])

    def _check_node_count(self) -> None:
        """``run_config.node_count`` above 1 is honoured by a distributed config of as many nodes."""
        nodes = self.run_config.node_count if self.run_config else 1
        if nodes == 1:
            return
        config = self.distributed_job_config
        if config is None:
            raise ConfigError(f"RunConfiguration.node_count={nodes} needs a distributed_job_config to start a "
                              f"process on each node (PyTorchConfiguration(node_count={nodes}, ...), "
                              f"MpiConfiguration or TensorflowConfiguration)")
        planned = getattr(config, "node_count", nodes)  # TensorFlow's follows from its worker counts
        if planned != nodes:
            raise ConfigError(f"RunConfiguration.node_count={nodes}, but distributed_job_config runs on {planned} "
                              f"node(s); give them the same count")

    def validate_source(self) -> Path:
        """Check the folder and script exist; returns the source folder."""
        source = Path(self.source_directory).expanduser()
        if not source.is_dir():
            raise ConfigError(f"source_directory {self.source_directory!r} does not exist or is not a folder")
        script = self.script or (self.run_config.script if self.run_config else None)
        if script and self.command:
            raise ConfigError("ScriptRunConfig: give script or command, not both")
        if not script and not self.command:
            raise ConfigError("ScriptRunConfig: give script= (a file in source_directory) or command=")
        if script:
            path = Path(script)
            if path.is_absolute() or ".." in path.parts:
                raise ConfigError(f"script {script!r} must be a path relative to source_directory")
            if not (source / path).is_file():
                raise ConfigError(f"script {script!r} does not exist in source_directory {str(source)!r}")
        return source

    def _submit(self, experiment, tags: dict[str, Any], display_name: str | None = None,
                properties: dict[str, Any] | None = None, snapshot_progress: Any = None, **kwargs: Any):
        from .job import submit_job
        from .data.consumption import job_inputs
        refuse_unknown_arguments("Experiment.submit(ScriptRunConfig)", kwargs,
                                 "it takes tags, display_name, properties and snapshot_progress")
        self._check_node_count()
        source = self.validate_source()
        variables = dict(self.run_config.environment_variables) if self.run_config else {}
        inputs = job_inputs(self.dataset_inputs(), experiment.workspace, "ScriptRunConfig")
        paths = {entry["name"]: entry["argument"] for entry in inputs}
        for entry in inputs:  # Azure ML's variables for a run's data
            if entry["mode"] != "direct":
                variables.setdefault(f"AZUREML_DATAREFERENCE_{entry['name']}", entry["argument"])
        duration = self.max_run_duration_seconds
        if self.run_config and self.run_config.max_run_duration_seconds:
            duration = min(duration or self.run_config.max_run_duration_seconds,
                           self.run_config.max_run_duration_seconds)
        target, environment, note = self.placement(experiment.workspace)
        return submit_job(
            experiment, source_directory=source,
            script=self.script or (self.run_config.script if self.run_config else None),
            command=self.command, arguments=self.resolved_arguments(paths),
            environment=environment, compute_target=target, notes=[note] if note else [],
            environment_variables=variables, max_run_duration_seconds=duration, tags=tags,
            display_name=display_name, properties=properties, snapshot_progress=snapshot_progress,
            distributed=self.distributed_job_config.to_job() if self.distributed_job_config else None,
            max_retries=self.run_config.max_retries if self.run_config else 0,
            resources=self.run_config.job_resources() if self.run_config else {},
            resume_from=self.resume_from, inputs=inputs)


def _argument_text(value: Any, dataset_paths: dict[str, str] | None = None) -> str:
    if isinstance(value, DatasetConsumptionConfig):
        return (dataset_paths or {}).get(value.name) or value.delivered().folder
    if isinstance(value, bool):
        return str(value)
    return str(value)


# -- the job YAML file (close to Azure ML CLI v2 command jobs) -------------------
class PathInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["uri_file", "uri_folder"]
    path: str
    mode: str | None = None


class LiteralInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["string", "integer", "number", "boolean"]
    default: _Scalar | None = None
    value: _Scalar | None = None


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout: int | None = Field(None, gt=0)


class Distribution(BaseModel):
    """``distribution:`` of a job file, as in Azure ML CLI v2."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["pytorch", "mpi", "tensorflow"]
    process_count_per_instance: int | None = Field(None, ge=1)
    worker_count: int | None = Field(None, ge=1)
    parameter_server_count: int | None = Field(None, ge=0)

    def config(self, instance_count: int) -> Any:
        from .distributed import MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration
        per_node = self.process_count_per_instance or 1
        if self.type == "pytorch":
            return PyTorchConfiguration(process_count=per_node * instance_count, node_count=instance_count)
        if self.type == "mpi":
            return MpiConfiguration(process_count_per_node=per_node, node_count=instance_count)
        return TensorflowConfiguration(worker_count=self.worker_count or 1,
                                       parameter_server_count=1 if self.parameter_server_count is None
                                       else self.parameter_server_count)


class JobResources(BaseModel):
    """``resources:`` of a job file: nodes (CLI v2's ``instance_count``) and, for clusters,
    what the job (each process of a distributed job) reserves."""

    model_config = ConfigDict(extra="forbid")
    instance_count: int = Field(1, ge=1)
    num_cpus: float | None = Field(None, ge=0)
    num_gpus: float | None = Field(None, ge=0)
    max_retries: int = Field(0, ge=0, le=100)


class JobFileHeader(BaseModel):
    """What every job file has, as in Azure ML CLI v2: its names, experiment, description,
    tags and compute target (command, sweep and AutoML jobs add their own fields)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_: str | None = Field(None, alias="$schema")
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    compute: str | None = "local"


class CommandJob(JobFileHeader):
    type: Literal["command"] = "command"
    code: str = "."
    command: str
    environment: str | dict[str, Any] | None = None
    inputs: dict[str, Union[PathInput, LiteralInput, _Scalar]] = Field(default_factory=dict)
    environment_variables: dict[str, _Scalar] = Field(default_factory=dict)
    limits: Limits | None = None
    distribution: Distribution | None = None
    resources: JobResources = Field(default_factory=JobResources)


#: The job files ``load_job_file`` reads as this union, told apart by ``type`` (sweep jobs are
#: read by ``runyard.hyperdrive.yaml_spec``; pipeline jobs by ``runyard pipeline submit``).
JobFile = Annotated[Union[CommandJob], Field(discriminator="type")]
_JOB_TYPES = ("command", "sweep", "automl", "parallel")
_INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}")


class JobDefinition(BaseModel):
    """A job file turned into what ``Experiment.submit`` takes, plus its naming fields."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    #: a ``ScriptRunConfig`` (a command job), a ``HyperDriveConfig`` (a sweep job), an
    #: ``AutoMLConfig`` (an AutoML job) or a ``ParallelRunStep`` (a parallel job)
    config: Any
    experiment_name: str | None
    display_name: str | None
    tags: dict[str, Any]


def load_job_file(path: str | Path, workspace=None) -> JobDefinition:
    """Read a command-job, sweep-job, AutoML-job or parallel-job YAML; ``code``, input paths, data
    and env files are relative to it.

    >>> load_job_file("examples/sklearn-diabetes/job.yml").config.command  # doctest: +SKIP
    """
    doc = _yaml.load(path, what="job file")
    if not isinstance(doc.data, dict):
        raise doc.error([], "a job file must be a YAML mapping")
    kind = doc.data.get("type", "command")
    if kind not in _JOB_TYPES:
        raise doc.error(["type"], f"unknown job type {kind!r}; valid types: {', '.join(_JOB_TYPES)}")
    if kind == "sweep":
        from .hyperdrive.yaml_spec import load_sweep
        return load_sweep(doc, workspace)
    if kind == "automl":
        from .automl.yaml_spec import load_automl
        return load_automl(doc, workspace)
    if kind == "parallel":
        from .pipeline.parallel_yaml import load_parallel
        return load_parallel(doc, workspace)
    try:
        job = pydantic.TypeAdapter(JobFile).validate_python({"type": "command", **doc.data})
    except pydantic.ValidationError as e:
        raise doc.validation_error(e, union_tag=kind) from e
    timeout = job.limits.timeout if job.limits and job.limits.timeout else DEFAULT_MAX_RUN_DURATION_S
    return JobDefinition(config=command_config(doc, job, workspace, timeout=timeout),
                         experiment_name=job.experiment_name, display_name=job.display_name or job.name,
                         tags=job.tags)


def check_compute(doc: _yaml.YamlDocument, compute: str | None, workspace) -> str:
    """A job file's ``compute`` (default ``local``), checked against the workspace's targets
    when there is a workspace; an error names the file's line."""
    compute = compute or "local"
    if workspace is not None:
        from .compute import get_target
        try:
            get_target(workspace, compute)
        except ConfigError as e:
            raise doc.error(["compute"], str(e)) from None
    return compute


def command_config(doc: _yaml.YamlDocument, job: CommandJob, workspace, *, timeout: int,
                   at: tuple[Any, ...] = ()) -> ScriptRunConfig:
    """The ``ScriptRunConfig`` of a command job of ``doc``. ``at``: where the job's own fields
    (``code``, ``command``, ``environment``...) sit in the file (a sweep job's ``trial``); its
    ``inputs`` and ``compute`` are at the top level. A ``${{search_space.NAME}}`` of the
    command is left for the sweep to fill."""
    base = doc.path.parent
    code = (base / job.code).resolve()
    if not code.is_dir():
        raise doc.error([*at, "code"], f"folder {job.code!r} does not exist (relative to {base})")

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in job.inputs:
            raise doc.error([*at, "command"], f"${{{{inputs.{name}}}}} names no entry of 'inputs' "
                                              f"(defined: {', '.join(job.inputs) or 'none'})")
        value = job.inputs[name]
        if isinstance(value, PathInput):
            target = Path(value.path).expanduser()
            target = target if target.is_absolute() else (base / target).resolve()
            if not target.exists():
                raise doc.error(["inputs", name, "path"], f"{value.path!r} does not exist")
            return _shell_quote(str(target))
        if isinstance(value, LiteralInput):
            value = value.value if value.value is not None else value.default
        return _shell_quote(_argument_text(value))

    command = _INPUT_REF.sub(substitute, job.command)
    environment = _job_environment(doc, job.environment, workspace, loc=(*at, "environment"))
    compute = job.compute[len("azureml:"):] if job.compute and job.compute.startswith("azureml:") else job.compute
    run_config = RunConfiguration(environment_variables={k: _argument_text(v) for k, v in
                                                         job.environment_variables.items()},
                                  num_cpus=job.resources.num_cpus, num_gpus=job.resources.num_gpus,
                                  max_retries=job.resources.max_retries, node_count=job.resources.instance_count)
    if job.resources.instance_count > 1 and job.distribution is None:
        raise doc.error([*at, "resources", "instance_count"], "more than one instance needs a 'distribution' "
                                                              "(type: pytorch, mpi or tensorflow)")
    try:
        distributed = job.distribution.config(job.resources.instance_count) if job.distribution else None
    except ConfigError as e:
        raise doc.error([*at, "distribution"], str(e)) from e
    return ScriptRunConfig(source_directory=str(code), command=command, environment=environment,
                           compute_target=compute or "local", max_run_duration_seconds=timeout,
                           run_config=run_config, distributed_job_config=distributed)


def _job_environment(doc: _yaml.YamlDocument, value: str | dict[str, Any] | None, workspace,
                     loc: tuple[Any, ...] = ("environment",), default_name: str | None = None) -> Environment | None:
    """The ``environment:`` of a job file (or of a pipeline file's job, at ``loc``): inline, a
    file relative to ``doc``, or a registered ``name[:version]``."""
    if value is None:
        return None
    if isinstance(value, dict):
        name = str(value.get("name") or default_name or f"{doc.path.stem}-environment")
        return _from_env_yaml(doc, name, value, prefix=loc)
    reference = value[len("azureml:"):] if value.startswith("azureml:") else value
    as_file = doc.path.parent / reference
    if as_file.is_file():
        try:
            return Environment.from_file(as_file)
        except ConfigError as e:
            raise doc.error(loc, str(e)) from None
    match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:[:@](.+))?$", reference)
    if not match:
        raise doc.error(loc, f"{value!r} is neither a file nor a registered 'name:version'")
    if workspace is None:
        raise doc.error(loc, f"{value!r} names a registered environment: open a workspace first")
    name, version = match.group(1), match.group(2)
    if version == "latest":
        version = None
    from .errors import NotFoundError
    try:
        return Environment.get(workspace, name, version)
    except (NotFoundError, ConfigError) as e:
        raise doc.error(loc, str(e)) from None


def _shell_quote(text: str) -> str:
    import shlex
    return shlex.quote(text)
