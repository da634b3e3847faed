"""Pipelines described in YAML, modelled on Azure ML CLI v2 pipeline jobs.

``load_pipeline("pipeline.yml", ws)`` builds the ``Pipeline`` that the same steps
written in Python build, step for step: its ``_definition`` (what the driver runs)
is identical. Each job's ``command`` becomes a step:

- ``python SCRIPT.py ARGS`` -> ``PythonScriptStep(SCRIPT.py, arguments=ARGS)``;
- ``Rscript SCRIPT.R ARGS`` -> ``RScriptStep(SCRIPT.R, arguments=ARGS)``;
- any other command without ``${{...}}`` -> ``CommandStep("the command")`` (run by the shell);
- any other command -> ``CommandStep([word, ...])``, its words as a list.

A ``${{...}}`` reference standing as a whole word becomes the object it names:
``${{outputs.NAME}}`` this job's ``OutputFileDatasetConfig(NAME)``,
``${{parent.jobs.STEP.outputs.NAME}}`` that output's ``.as_input()``,
``${{parent.inputs.NAME}}`` the ``PipelineParameter(NAME, default)``, and
``${{inputs.NAME}}`` whatever the job's ``inputs.NAME`` names (one of the above,
``.as_input(NAME)`` for data, or a literal value). A command that needs a shell
(pipes, redirections, ``$VAR``, quoting with specials, several lines) or that
glues a reference to other text (``--out=${{outputs.model}}``) runs as
``CommandStep(["/bin/sh", "-c", SCRIPT, "sh", ref1, ref2, ...])``, each reference
passed to the shell as a positional argument (``"${1}"``...).

Paths (``code``, environment files) are relative to the YAML file's folder.

>>> pipeline = load_pipeline("examples/pipeline-diabetes/pipeline.yml", ws)  # doctest: +SKIP
>>> Experiment(ws, "diabetes").submit(pipeline, pipeline_parameters={"alpha": 0.1})  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from .. import _yaml
from ..config import JobResources, Limits, RunConfiguration, _job_environment
from ..errors import ConfigError, NotFoundError
from .data import OutputFileDatasetConfig, PipelineParameter, StepInput
from .parallel_yaml import ParallelBuilder, ParallelStepSpec
from .parallel_yaml import validate as validate_parallel
from .pipeline import DEFAULT_MAX_CONCURRENT_STEPS, Pipeline
from .steps import CommandStep, PipelineStep, PythonScriptStep, RScriptStep

if TYPE_CHECKING:
    from ..workspace import Workspace

_Scalar = Union[str, int, float, bool]
_LITERAL_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}
_REF = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
#: characters that make a command need the shell (with them, words are not what shlex sees)
_SHELL_CHARS = set("|&;<>()$`\\*?[]#~{}!\n")
_PYTHONS = ("python", "python3")
#: a registered dataset, as Azure ML CLI v2 names one: azureml:NAME:VERSION, azureml:NAME@latest
_DATASET = re.compile(r"^azureml:(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,254})(?::(?P<version>[0-9]{1,9})|@latest)?$")
#: a YAML data input's mode -> the dataset's consumption mode
_DATASET_MODES = {None: "download", "download": "download", "ro_mount": "mount", "mount": "mount"}


# -- the file's schema -------------------------------------------------------------
class PipelineInput(BaseModel):
    """A pipeline parameter written out: ``alpha: {type: number, default: 0.5}``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["string", "integer", "number", "boolean"] | None = None
    default: _Scalar | None = None
    value: _Scalar | None = None
    description: str | None = None


class StepDataInput(BaseModel):
    """A job input written out: ``data: {path: ${{parent.jobs.prep.outputs.prepared}}}``, or a
    registered dataset, ``data: {path: azureml:diabetes:2, mode: download}``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["uri_folder", "uri_file", "mltable"] | None = None
    path: str
    mode: Literal["ro_mount", "download", "mount"] | None = None
    description: str | None = None


class StepOutput(BaseModel):
    """A job output: a folder the step writes (``prepared: {}``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["uri_folder"] = "uri_folder"
    mode: Literal["rw_mount", "upload", "mount"] | None = None
    description: str | None = None


class CommandStepSpec(BaseModel):
    """One entry of ``jobs:`` with ``type: command``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["command"] = "command"
    description: str | None = None
    command: str = Field(min_length=1)
    code: str = "."
    environment: str | dict[str, Any] | None = None
    compute: str | None = None
    #: each a literal, a reference, or a ``StepDataInput`` (checked by the builder, to name the field)
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, StepOutput | None] = Field(default_factory=dict)
    environment_variables: dict[str, _Scalar] = Field(default_factory=dict)
    limits: Limits | None = None
    resources: JobResources = Field(default_factory=JobResources)
    allow_reuse: bool | None = None
    is_deterministic: bool | None = None


#: Every kind of job a pipeline file holds, told apart by ``type``.
StepSpec = Annotated[Union[CommandStepSpec, ParallelStepSpec], Field(discriminator="type")]
_STEP_TYPES = ("command", "parallel")


class PipelineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_compute: str | None = None
    max_concurrent_steps: int = Field(DEFAULT_MAX_CONCURRENT_STEPS, ge=1)
    #: Azure ML's name for submitting with ``regenerate_outputs=True``
    force_rerun: bool = False


class PipelineJobSpec(BaseModel):
    """The whole file; ``jobs`` are checked one by one (``StepSpec``) so errors keep their path."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_: str | None = Field(None, alias="$schema")
    type: Literal["pipeline"] = "pipeline"
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    settings: PipelineSettings = Field(default_factory=PipelineSettings)
    #: each a literal or a ``PipelineInput`` (checked by the builder, to name the field)
    inputs: dict[str, Any] = Field(default_factory=dict)
    jobs: dict[str, dict[str, Any]]


@dataclass
class PipelineFile:
    """A pipeline file read: the ``Pipeline`` and what the file says about submitting it."""

    path: Path
    pipeline: Pipeline
    experiment_name: str | None
    display_name: str | None
    tags: dict[str, Any]
    force_rerun: bool
    #: ``pipeline._definition`` without snapshots, computed when the file was checked
    definition: dict[str, Any] = field(repr=False, default_factory=dict)


# -- loading ---------------------------------------------------------------------------
def load_pipeline(path: str | Path, workspace: "Workspace") -> Pipeline:
    """The ``Pipeline`` a pipeline YAML file describes, checked as ``Pipeline.validate()`` checks it.

    >>> pipeline = load_pipeline("pipeline.yml", ws)  # doctest: +SKIP
    >>> run = Experiment(ws, "demo").submit(pipeline, pipeline_parameters={"alpha": 0.1})  # doctest: +SKIP
    """
    return load_pipeline_file(path, workspace).pipeline


def load_pipeline_file(path: str | Path, workspace: "Workspace") -> PipelineFile:
    """``load_pipeline`` plus the file's experiment name, display name, tags and ``force_rerun``.

    >>> loaded = load_pipeline_file("pipeline.yml", ws)  # doctest: +SKIP
    >>> loaded.experiment_name, sorted(loaded.pipeline.parameters)  # doctest: +SKIP
    ('diabetes', ['alpha'])
    """
    doc = _yaml.load(path, what="pipeline file")
    if not isinstance(doc.data, dict):
        raise doc.error([], "a pipeline file must be a YAML mapping")
    kind = doc.data.get("type", "pipeline")
    if kind in ("command", "parallel"):
        raise doc.error(["type"], f"this is a {kind} job; submit it with 'runyard job submit -f', or make it a "
                                  f"job under 'jobs:' of a file with 'type: pipeline'")
    if kind != "pipeline":
        raise doc.error(["type"], f"a pipeline file has 'type: pipeline', got {kind!r}")
    try:
        spec = PipelineJobSpec.model_validate(doc.data)
    except pydantic.ValidationError as e:
        raise doc.validation_error(e) from e
    return _Builder(doc, spec, workspace).build()


class _Builder:
    def __init__(self, doc: _yaml.YamlDocument, spec: PipelineJobSpec, workspace: "Workspace"):
        self.doc = doc
        self.spec = spec
        self.workspace = workspace
        self.base = doc.path.parent.absolute()
        self.parameters = {name: _parameter(doc, name, value) for name, value in spec.inputs.items()}
        self.steps: dict[str, CommandStepSpec | ParallelStepSpec] = {}
        #: step -> its outputs, made once so every reader shares the writer's object
        self.outputs: dict[str, dict[str, OutputFileDatasetConfig]] = {}

    def build(self) -> PipelineFile:
        doc, spec = self.doc, self.spec
        if not spec.jobs:
            raise doc.error(["jobs"], "a pipeline needs at least one job")
        for name, raw in spec.jobs.items():
            self.steps[name] = self._step_spec(name, raw)
        writers: dict[str, str] = {}
        for name, step in self.steps.items():
            self.outputs[name] = {}
            for output in step.outputs:
                loc = ["jobs", name, "outputs", output]
                if output in writers:
                    raise doc.error(loc, f"step {writers[output]!r} also has an output named {output!r}; output "
                                         f"names must be unique in a pipeline (each is a folder its readers get)")
                writers[output] = name
                self.outputs[name][output] = self._check(loc, OutputFileDatasetConfig, output)
        steps = [self._step(name, step) for name, step in self.steps.items()]
        pipeline = self._check(["jobs"], Pipeline, self.workspace, steps, description=spec.description,
                               max_concurrent_steps=spec.settings.max_concurrent_steps)
        for name in self.parameters:
            if name not in pipeline.parameters:
                raise doc.error(["inputs", name], f"no job uses this input; use it in a command as "
                                                  f"${{{{parent.inputs.{name}}}}} (or remove it)")
        try:
            definition = pipeline._definition(self.workspace, {}, take_snapshots=False)
        except ConfigError as e:
            match = re.match(r"step '([^']*)': (.*)", str(e), re.DOTALL)
            if match and match.group(1) in self.steps:
                raise doc.error(["jobs", match.group(1)], match.group(2)) from None
            raise doc.error([], str(e)) from None
        return PipelineFile(path=doc.path, pipeline=pipeline, experiment_name=spec.experiment_name,
                            display_name=spec.display_name or spec.name, tags=spec.tags,
                            force_rerun=spec.settings.force_rerun, definition=definition)

    def _check(self, loc: list[Any], make: Any, *args: Any, **kwargs: Any) -> Any:
        """``make(*args, **kwargs)``, its ``ConfigError`` pointing at ``loc`` of the file."""
        try:
            return make(*args, **kwargs)
        except ConfigError as e:
            raise self.doc.error(loc, str(e)) from None

    def _step_spec(self, name: str, raw: Any) -> CommandStepSpec | ParallelStepSpec:
        loc = ["jobs", name]
        if not isinstance(raw, dict):
            raise self.doc.error(loc, f"a job is a mapping (type, command, code, ...), got {raw!r}")
        kind = raw.get("type", "command")
        if "component" in raw:
            raise self.doc.error([*loc, "component"], "component files are not supported yet; write the job's "
                                                      "'command', 'code' and 'environment' here")
        if kind not in _STEP_TYPES:
            raise self.doc.error([*loc, "type"], f"unknown job type {kind!r}; valid types: {', '.join(_STEP_TYPES)}")
        if kind == "parallel":
            return validate_parallel(self.doc, raw, ParallelStepSpec, tuple(loc))
        try:
            return pydantic.TypeAdapter(StepSpec).validate_python({"type": "command", **raw})
        except pydantic.ValidationError as e:
            raise self.doc.validation_error(e, prefix=loc, union_tag=kind) from e

    # -- one job -> one step --------------------------------------------------------
    def _allow_reuse(self, name: str, step: CommandStepSpec | ParallelStepSpec) -> bool:
        if step.allow_reuse is not None and step.is_deterministic is not None \
                and step.allow_reuse != step.is_deterministic:
            raise self.doc.error(["jobs", name, "is_deterministic"], "allow_reuse and is_deterministic say the same "
                                                                     "thing (may the step be reused); give one")
        return next((v for v in (step.allow_reuse, step.is_deterministic) if v is not None), True)

    def _parallel_step(self, name: str, step: ParallelStepSpec) -> PipelineStep:
        """A ``type: parallel`` job: its ``ParallelRunStep`` (``parallel_yaml``)."""
        builder = ParallelBuilder(self.doc, ("jobs", name), self.workspace, outputs=self.outputs[name],
                                  parent=lambda loc, ref: self._reference(loc, ref, step=None, inputs={}))
        return builder.build(name, step, compute=step.compute or self.spec.settings.default_compute,
                             compute_loc=("jobs", name, "compute") if step.compute else ("settings", "default_compute"),
                             allow_reuse=self._allow_reuse(name, step))

    def _step(self, name: str, step: CommandStepSpec | ParallelStepSpec) -> PipelineStep:
        if isinstance(step, ParallelStepSpec):
            return self._parallel_step(name, step)
        doc, loc = self.doc, ["jobs", name]
        code = Path(step.code).expanduser()
        code = Path(os.path.normpath(code if code.is_absolute() else self.base / code))
        if not code.is_dir():
            raise doc.error([*loc, "code"], f"folder {step.code!r} does not exist (relative to {self.base})")
        allow_reuse = self._allow_reuse(name, step)
        if step.resources.instance_count != 1:
            raise doc.error([*loc, "resources", "instance_count"], "a pipeline job runs on one node; distributed "
                                                                    "steps are not supported in pipeline files yet")
        compute_loc = [*loc, "compute"] if step.compute else ["settings", "default_compute"]
        compute = step.compute or self.spec.settings.default_compute or "local"
        compute = compute[len("azureml:"):] if compute.startswith("azureml:") else compute
        from ..compute import get_target
        self._check(compute_loc, get_target, self.workspace, compute)
        environment = _job_environment(doc, step.environment, self.workspace, loc=(*loc, "environment"),
                                       default_name=f"{name}-environment")
        runconfig = self._check([*loc], RunConfiguration, environment=environment,
                                environment_variables={k: str(v) for k, v in step.environment_variables.items()},
                                max_run_duration_seconds=step.limits.timeout if step.limits else None,
                                num_cpus=step.resources.num_cpus, num_gpus=step.resources.num_gpus,
                                max_retries=step.resources.max_retries)
        inputs = {key: self._step_input(name, key, value) for key, value in step.inputs.items()}
        command = self._command(name, step, inputs)
        for key, value in inputs.items():
            if key not in command.inputs and not isinstance(value, StepInput):
                raise doc.error([*loc, "inputs", key], f"the command does not use this input; add "
                                                       f"${{{{inputs.{key}}}}} to it (or remove the input)")
        common = dict(name=name, compute_target=compute, runconfig=runconfig,
                      inputs=[v for k, v in inputs.items() if k not in command.inputs],
                      outputs=[v for k, v in self.outputs[name].items() if k not in command.outputs],
                      source_directory=str(code), allow_reuse=allow_reuse)
        words = command.words
        if words is not None and len(words) >= 2 and isinstance(words[1], str):
            program, script = words[0], words[1]
            kind = (PythonScriptStep if program in _PYTHONS and script.endswith(".py") else
                    RScriptStep if program == "Rscript" and script.lower().endswith(".r") else None)
            if kind is not None:
                if Path(script).is_absolute() or ".." in Path(script).parts or not (code / script).is_file():
                    raise doc.error([*loc, "command"], f"script {script!r} does not exist in the job's code "
                                                       f"folder {str(code)!r}")
                return self._check(loc, kind, script, arguments=words[2:], **common)
        if not command.objects:
            return self._check(loc, CommandStep, command.text, **common)
        if words is not None:
            return self._check(loc, CommandStep, words, **common)
        return self._check(loc, CommandStep, ["/bin/sh", "-c", command.shell_script, "sh", *command.objects],
                           **common)

    def _step_input(self, step: str, key: str, value: Any) -> Any:
        """A job input: step data (``StepInput``), a ``PipelineParameter`` or a literal."""
        loc = ["jobs", step, "inputs", key]
        if isinstance(value, dict):
            value = _model(self.doc, loc, StepDataInput, value)
        elif isinstance(value, list):
            raise self.doc.error(loc, "a job input is a value, a reference or a mapping with 'path'")
        if isinstance(value, StepDataInput):
            dataset = _DATASET.fullmatch(value.path.strip())
            if dataset:
                return self._dataset_input([*loc, "path"], key, dataset, value.mode)
            if not _REF.fullmatch(value.path.strip()):
                raise self.doc.error([*loc, "path"], f"{value.path!r}: a path here must be another job's output, "
                                                     f"${{{{parent.jobs.STEP.outputs.NAME}}}}, or a registered "
                                                     f"dataset, azureml:NAME:VERSION (or azureml:NAME@latest); "
                                                     f"register a local folder as a dataset first")
            loc, value = [*loc, "path"], value.path.strip()
        if not isinstance(value, str) or "${{" not in value:
            return value
        match = _REF.fullmatch(value.strip())
        if not match:
            raise self.doc.error(loc, f"{value!r}: a reference must be the whole value")
        target = self._reference(loc, match.group(1), step=None, inputs={})
        return target.output.as_input(key) if isinstance(target, StepInput) else target

    def _dataset_input(self, loc: list[Any], key: str, match: re.Match, mode: str | None) -> Any:
        """A registered dataset's version as the job's input ``key``: its files in the job's
        folder (``inputs/<key>``) before the command starts, which gets that folder."""
        from ..data.dataset import Dataset
        name, version = match.group("name"), match.group("version")
        try:
            dataset = Dataset.get_by_name(self.workspace, name, int(version) if version else "latest")
        except (ConfigError, NotFoundError) as e:
            raise self.doc.error(loc, str(e)) from None
        consumed = self._check(loc, dataset.as_named_input, key)
        return consumed.as_mount() if _DATASET_MODES[mode] == "mount" else consumed.as_download()

    def _reference(self, loc: list[Any], ref: str, *, step: str | None, inputs: dict[str, Any]) -> Any:
        """What ``${{ref}}`` names; ``step`` (the job whose command it is in) allows
        ``inputs.NAME`` and ``outputs.NAME``."""
        parts = ref.split(".")
        if parts[:2] == ["parent", "inputs"] and len(parts) == 3:
            if parts[2] not in self.parameters:
                raise self.doc.error(loc, f"${{{{{ref}}}}}: the pipeline has no input {parts[2]!r} (its inputs: "
                                          f"{', '.join(self.parameters) or 'none'})")
            return self.parameters[parts[2]]
        if parts[:2] == ["parent", "jobs"] and len(parts) == 5 and parts[3] == "outputs":
            producer, output = parts[2], parts[4]
            if producer not in self.steps:
                raise self.doc.error(loc, f"${{{{{ref}}}}}: the pipeline has no job {producer!r} (its jobs: "
                                          f"{', '.join(self.steps)})")
            if output not in self.outputs[producer]:
                raise self.doc.error(loc, f"${{{{{ref}}}}}: job {producer!r} has no output {output!r} (its "
                                          f"outputs: {', '.join(self.outputs[producer]) or 'none'})")
            return self.outputs[producer][output].as_input()
        if step is not None and parts[0] in ("inputs", "outputs") and len(parts) == 2:
            known = inputs if parts[0] == "inputs" else self.outputs[step]
            if parts[1] not in known:
                raise self.doc.error(loc, f"${{{{{ref}}}}}: job {step!r} has no {parts[0][:-1]} {parts[1]!r} "
                                          f"(its {parts[0]}: {', '.join(known) or 'none'}); declare it under "
                                          f"jobs.{step}.{parts[0]}")
            return known[parts[1]]
        forms = ("${{parent.inputs.NAME}}, ${{parent.jobs.STEP.outputs.NAME}}" if step is None else
                 "${{inputs.NAME}}, ${{outputs.NAME}}, ${{parent.inputs.NAME}}, ${{parent.jobs.STEP.outputs.NAME}}")
        if parts[:2] == ["parent", "outputs"]:
            raise self.doc.error(loc, f"${{{{{ref}}}}}: pipeline outputs are not supported yet; a job's outputs "
                                      f"stay with its run")
        raise self.doc.error(loc, f"${{{{{ref}}}}} is no reference runyard knows; use {forms}")

    def _command(self, step: str, spec: CommandStepSpec, inputs: dict[str, Any]) -> "_Command":
        loc = ["jobs", step, "command"]
        command = _Command(text=spec.command.strip())
        refs: list[str] = []
        for match in _REF.finditer(command.text):
            ref = match.group(1)
            target = self._reference(loc, ref, step=step, inputs=inputs)
            parts = ref.split(".")
            if parts[0] == "inputs":
                command.inputs.add(parts[1])
            elif parts[0] == "outputs":
                command.outputs.add(parts[1])
            if ref not in refs:
                refs.append(ref)
                command.objects.append(target)
        if _SHELL_CHARS & set(_REF.sub("", command.text)):
            command.shell_script = _shell_script(command.text, refs)
            return command
        marks = {ref: f"\ue000{i}\ue001" for i, ref in enumerate(refs)}
        try:
            words = shlex.split(_REF.sub(lambda m: marks[m.group(1)], command.text))
        except ValueError as e:
            raise self.doc.error(loc, f"cannot split the command into words: {e}") from None
        by_mark = {marks[ref]: obj for ref, obj in zip(refs, command.objects)}
        if all(w in by_mark or "\ue000" not in w for w in words):
            command.words = [by_mark.get(w, w) for w in words]
        else:  # a reference glued to other text: the shell puts them together
            command.shell_script = _shell_script(command.text, refs)
        return command


@dataclass
class _Command:
    """A job's command: as words (``None`` where it needs a shell), or as a shell script whose
    ``${1}``... are ``objects``; and the job inputs and outputs it names."""

    text: str
    words: list[Any] | None = None
    shell_script: str | None = None
    objects: list[Any] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)


def _shell_script(text: str, refs: list[str]) -> str:
    """``text`` with each reference replaced by its positional argument, quoted for where it stands."""
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        match = _REF.match(text, i)
        if match:
            n = refs.index(match.group(1)) + 1
            out.append({None: f'"${{{n}}}"', '"': f"${{{n}}}", "'": f"'\"${{{n}}}\"'"}[quote])
            i = match.end()
            continue
        char = text[i]
        out.append(char)
        if char == "\\" and quote != "'" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 1
        elif char in "'\"" and quote in (None, char):
            quote = None if quote == char else char
        i += 1
    return "".join(out)


def _parameter(doc: _yaml.YamlDocument, name: str, value: Any) -> PipelineParameter:
    loc = ["inputs", name]
    if isinstance(value, dict):
        if str(value.get("type", "")).startswith(("uri_", "mltable")) or "path" in value:
            raise doc.error(loc, "data inputs of a pipeline are not supported yet (they come with datasets); "
                                 "pass data between jobs through their outputs")
        value = _model(doc, loc, PipelineInput, value)
    if isinstance(value, PipelineInput):
        default = value.value if value.value is not None else value.default
        if default is None:
            raise doc.error(loc, "give the input a default (a pipeline parameter always has one; "
                                 "override it with --param at submission)")
        if value.type is not None:
            expected = _LITERAL_TYPES[value.type]
            if expected is float and isinstance(default, int) and not isinstance(default, bool):
                default = float(default)
            if type(default) is not expected:
                raise doc.error(loc, f"default {default!r} is not of type {value.type}")
        value = default
    if isinstance(value, str) and "${{" in value:
        raise doc.error(loc, f"{value!r}: a pipeline input is a value, not a reference")
    try:
        return PipelineParameter(name, default_value=value)
    except ConfigError as e:
        raise doc.error(loc, str(e)) from None


def _model(doc: _yaml.YamlDocument, loc: list[Any], model: type[BaseModel], value: dict[str, Any]) -> Any:
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as e:
        raise doc.validation_error(e, prefix=loc) from e


def parse_parameter(parameter: PipelineParameter, text: str, what: str | None = None) -> Any:
    """A value given as text (``--param alpha=0.1``) as the kind of the parameter's default.

    >>> parse_parameter(PipelineParameter("alpha", 0.5), "0.1")
    0.1
    >>> parse_parameter(PipelineParameter("deep", False), "yes")
    True
    """
    default = parameter.default_value
    try:
        if isinstance(default, bool):
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError(text)
            return lowered in ("true", "yes", "1")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = {bool: "true or false", int: "a whole number", float: "a number"}[type(default)]
        raise ConfigError(f"{what or f'parameter {parameter.name!r}'}: {text!r} is not {kind} (the "
                          f"parameter's default is {default!r})") from None
    return text
