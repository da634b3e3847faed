"""``ParallelRunConfig``: how a ``ParallelRunStep`` splits its data and treats failures.

Azure ML's names and defaults; every value is checked here, so a bad one fails when the
config is made, naming the argument.

- ``entry_script``: a Python file, or an R file (``.R``: ``init <- function()`` and
  ``run <- function(mini_batch, mini_batch_context)``, parsed by R here and run by ``Rscript``
  workers, see ``_parallel/r_workers.py``; the environment's ``r.rscript_path`` names the R).
- ``mini_batch_size``: for a file dataset, a number of files per ``run()`` call (default
  10); for a tabular dataset, an approximate size of data per call (``"1MB"``, ``"512KB"``,
  ``1024`` bytes; default ``"1MB"``), which becomes a row count from the table's in-memory
  size per row, as Azure's size in data did. Not with ``partition_keys``.
- ``partition_keys``: each distinct combination of these keys' values is one mini batch.
- ``error_threshold``: failed items (files, or rows) allowed over the whole input; -1 ignores
  every failure. A mini batch that fails counts all its items; a ``run()`` that returns
  fewer results than items it was given counts the difference, as in Azure ML.
- ``allowed_failed_count``: failed mini batches allowed (-1: any); ``allowed_failed_percent``
  (0-100): the percentage allowed, checked once every mini batch has been handed out.
  A mini batch counts as failed once its ``run_max_try`` tries are used up.
- ``description``: shown in the step's log and kept with its partition table.
- ``run_invocation_timeout``: seconds one ``run()`` call may take; past it the worker is
  killed and replaced and the try is a failure. ``run_max_try``: tries per mini batch.
- ``compute_target``: a target's name or object: local and Docker run the workers as
  processes next to the step's job (one node: ``node_count`` must be 1); a Ray target runs
  ``node_count`` x ``process_count_per_node`` actors over that many nodes. A target object's
  type is checked here; a name's, when the step is submitted.
- ``process_count_per_node``: workers per node; default, the node's CPUs (on Docker the
  container's ``cpus`` limit; on Ray the CPUs of the ``node_count``-th largest node).
- A ``PipelineParameter`` may give ``mini_batch_size``, ``error_threshold``,
  ``run_invocation_timeout``, ``run_max_try``, ``process_count_per_node``, ``node_count``,
  ``logging_level``, ``allowed_failed_count`` or ``allowed_failed_percent`` (as in Azure ML):
  its default is checked here as a literal value would be, and the value a submission gives
  (``pipeline.submit(pipeline_parameters=...)``, a published pipeline, an endpoint) is checked
  the same way when the pipeline is submitted, before anything runs (``fill_settings``),
  the error naming the parameter. The config's attribute holds the default; the parameters
  are in ``pipeline_parameters`` (setting -> ``PipelineParameter``).

>>> config = ParallelRunConfig(environment=None, entry_script="score.py", error_threshold=10,
...                            output_action="append_row", compute_target="local", node_count=1,
...                            source_directory="src", mini_batch_size=5)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import typing
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ConfigError
from ..store.asset_specs import ParameterSetting

OUTPUT_ACTIONS = ("append_row", "summary_only")
LOGGING_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DEFAULT_APPEND_ROW_FILE = "parallel_run_step.txt"
DEFAULT_FILES_PER_BATCH = 10
DEFAULT_TABULAR_BATCH_BYTES = 1024 * 1024
_SIZE_RE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
#: the settings a PipelineParameter may give (Azure ML's), filled when the pipeline is submitted
PARAMETER_SETTINGS: tuple[str, ...] = typing.get_args(ParameterSetting)  # the stored token's spec names them


class ParallelRunConfig:
    """The settings of a ``ParallelRunStep`` (see the module for each argument's meaning)."""

    def __init__(self, environment: Any, entry_script: str, error_threshold: int, output_action: str,
                 compute_target: Any, node_count: int, process_count_per_node: int | None = None,
                 mini_batch_size: int | str | None = None, source_directory: str | os.PathLike | None = None,
                 description: str | None = None, logging_level: str = "INFO", run_invocation_timeout: int = 60,
                 run_max_try: int = 3, append_row_file_name: str | None = None,
                 allowed_failed_count: int | None = None, allowed_failed_percent: float | None = None,
                 partition_keys: list[str] | None = None, environment_variables: dict[str, str] | None = None):
        from ..environment import Environment
        from .data import PipelineParameter
        what = "ParallelRunConfig"
        given = locals()
        #: setting -> the PipelineParameter that gives it (its default checked below as the value)
        self.pipeline_parameters = {name: given[name] for name in PARAMETER_SETTINGS
                                    if isinstance(given[name], PipelineParameter)}
        defaults = {name: p.default_value for name, p in self.pipeline_parameters.items()}
        error_threshold, node_count = defaults.get("error_threshold", error_threshold), defaults.get("node_count",
                                                                                                     node_count)
        process_count_per_node = defaults.get("process_count_per_node", process_count_per_node)
        mini_batch_size = defaults.get("mini_batch_size", mini_batch_size)
        logging_level = defaults.get("logging_level", logging_level)
        run_invocation_timeout = defaults.get("run_invocation_timeout", run_invocation_timeout)
        run_max_try = defaults.get("run_max_try", run_max_try)
        allowed_failed_count = defaults.get("allowed_failed_count", allowed_failed_count)
        allowed_failed_percent = defaults.get("allowed_failed_percent", allowed_failed_percent)
        if environment is not None and not isinstance(environment, Environment):
            raise ConfigError(f"{what}: environment must be an Environment (or None: this Python), "
                              f"got {type(environment).__name__}")
        self.environment = environment
        if source_directory is not None and not isinstance(source_directory, (str, os.PathLike)):
            raise ConfigError(f"{what}: source_directory must be a folder path, got {type(source_directory).__name__}")
        self.source_directory = str(Path(source_directory if source_directory is not None else ".").absolute())
        self.entry_script = _check_entry_script(entry_script, self.source_directory, environment)
        self.error_threshold = check_setting("error_threshold", error_threshold)
        if output_action not in OUTPUT_ACTIONS:
            raise ConfigError(f"{what}: output_action must be 'append_row' or 'summary_only', got {output_action!r}")
        self.output_action = output_action
        self.compute_target = _check_target(compute_target)
        self.node_count = check_setting("node_count", node_count)
        kind = target_type(compute_target)
        if self.node_count > 1 and kind is not None and kind != "ray":
            raise node_count_error(self.node_count, shown_target(compute_target), kind)
        self.process_count_per_node = check_setting("process_count_per_node", process_count_per_node)
        if partition_keys is not None:
            if (not isinstance(partition_keys, (list, tuple)) or not partition_keys
                    or not all(isinstance(k, str) and k for k in partition_keys)):
                raise ConfigError(f"{what}: partition_keys must be a non-empty list of key names, "
                                  f"got {partition_keys!r}")
            if len(set(partition_keys)) != len(partition_keys):
                raise ConfigError(f"{what}: partition_keys {list(partition_keys)!r} names a key twice")
            if mini_batch_size is not None:
                raise ConfigError(f"{what}: give partition_keys or mini_batch_size, not both (with partition_keys "
                                  f"each partition is one mini batch)")
        self.partition_keys = list(partition_keys) if partition_keys is not None else None
        self.mini_batch_size = check_setting("mini_batch_size", mini_batch_size)
        if description is not None and not isinstance(description, str):
            raise ConfigError(f"{what}: description must be text, got {type(description).__name__}")
        self.description = description
        self.logging_level = check_setting("logging_level", logging_level)
        self.run_invocation_timeout = check_setting("run_invocation_timeout", run_invocation_timeout)
        self.run_max_try = check_setting("run_max_try", run_max_try)
        if append_row_file_name is not None:
            if output_action != "append_row":
                raise ConfigError(f"{what}: append_row_file_name is for output_action='append_row'; with "
                                  f"{output_action!r} no file is written")
            if (not isinstance(append_row_file_name, str) or not append_row_file_name
                    or "/" in append_row_file_name or "\\" in append_row_file_name
                    or append_row_file_name in (".", "..")):
                raise ConfigError(f"{what}: append_row_file_name must be a file name (no folders), "
                                  f"got {append_row_file_name!r}")
        self.append_row_file_name = append_row_file_name or DEFAULT_APPEND_ROW_FILE
        self.allowed_failed_count = check_setting("allowed_failed_count", allowed_failed_count)
        self.allowed_failed_percent = check_setting("allowed_failed_percent", allowed_failed_percent)
        if environment_variables is not None and (
                not isinstance(environment_variables, dict)
                or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in environment_variables.items())):
            raise ConfigError(f"{what}: environment_variables must be a dict of name -> text, "
                              f"got {environment_variables!r}")
        self.environment_variables = dict(environment_variables or {})

    def _settings(self) -> dict[str, Any]:
        """What the step's job reads (``runyard.pipeline._parallel``)."""
        from ._parallel import r_workers
        return {"entry_script": self.entry_script, "error_threshold": self.error_threshold,
                "node_count": self.node_count, "output_action": self.output_action,
                "process_count_per_node": self.process_count_per_node,
                "mini_batch_size": self.mini_batch_size, "logging_level": self.logging_level,
                "run_invocation_timeout": self.run_invocation_timeout, "run_max_try": self.run_max_try,
                "append_row_file_name": self.append_row_file_name, "allowed_failed_count": self.allowed_failed_count,
                "allowed_failed_percent": self.allowed_failed_percent, "partition_keys": self.partition_keys,
                "description": self.description,
                # R's Rscript for an R entry script's workers (None: the one on PATH)
                **({"rscript_path": _rscript_path(self.environment)} if r_workers.is_r_script(self.entry_script)
                   else {})}

    def _settings_token(self, extra: dict[str, Any]) -> dict[str, Any]:
        """The job's ``--settings`` as a command token: the settings (with ``extra``) and, for
        those a PipelineParameter gives, the parameter's name (``fill_settings``)."""
        token: dict[str, Any] = {"settings": {**self._settings(), **extra}}
        if self.pipeline_parameters:
            token["parameters"] = {setting: p.name for setting, p in self.pipeline_parameters.items()}
            token["object"] = list(self.pipeline_parameters.values())
        return token

    def __repr__(self) -> str:
        return (f"ParallelRunConfig(entry_script={self.entry_script!r}, output_action={self.output_action!r}, "
                f"mini_batch_size={self.mini_batch_size!r}, partition_keys={self.partition_keys!r})")


def check_setting(name: str, value: Any) -> Any:
    """A setting a PipelineParameter may give, checked (the same errors for a literal value and
    a parameter's); the value the job reads."""
    if name in ("error_threshold", "allowed_failed_count"):
        return None if value is None and name == "allowed_failed_count" else _whole(value, name, minimum=-1)
    if name in ("node_count", "run_invocation_timeout", "run_max_try"):
        return _whole(value, name, minimum=1)
    if name == "process_count_per_node":
        return None if value is None else _whole(value, name, minimum=1)
    if name == "mini_batch_size":
        _mini_batch_number(value)  # read per input type when the step runs
        return value
    if name == "logging_level":
        if not isinstance(value, str) or value.upper() not in LOGGING_LEVELS:
            raise ConfigError(f"ParallelRunConfig: logging_level must be one of {', '.join(LOGGING_LEVELS)}, "
                              f"got {value!r}")
        return value.upper()
    if name == "allowed_failed_percent":
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 0 <= value <= 100):
            raise ConfigError(f"ParallelRunConfig: allowed_failed_percent must be a number from 0 to 100, "
                              f"got {value!r}")
        return value
    raise ConfigError(f"ParallelRunConfig: {name!r} is not a setting a PipelineParameter gives; those are "
                      f"{', '.join(PARAMETER_SETTINGS)}")


def fill_settings(token: dict[str, Any], parameters: dict[str, Any]) -> str:
    """The ``--settings`` JSON of a ParallelRunStep's job, with the values ``parameters`` (the
    pipeline run's) give; each checked as the config checks a literal value, the error naming
    the parameter."""
    settings = dict(token["settings"])
    for setting, name in (token.get("parameters") or {}).items():
        try:
            settings[setting] = check_setting(setting, parameters[name])
            if setting == "mini_batch_size" and settings.get("input_type") == "file":
                files_per_batch(settings[setting])
            if setting == "node_count" and settings[setting] > 1 and settings.get("workers") != "ray":
                raise ConfigError(f"ParallelRunConfig: node_count={settings[setting]} with a target that is one "
                                  f"node (local or Docker): there it must be 1; a Ray target spreads workers over "
                                  f"several nodes")
        except ConfigError as e:
            raise ConfigError(f"pipeline_parameters[{name!r}] (the ParallelRunConfig's {setting}): {e}") from None
    return json.dumps(settings, sort_keys=True)


def _whole(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"ParallelRunConfig: {name} must be a whole number >= {minimum}, got {value!r}")
    return value


def _check_target(target: Any) -> Any:
    from ..compute import ComputeTarget
    if target is None or isinstance(target, ComputeTarget) or (isinstance(target, str) and target):
        return target
    raise ConfigError(f"ParallelRunConfig: compute_target must be a compute target's name (\"local\", "
                      f"\"docker\", ...) or a target object, got {type(target).__name__}")


def target_type(target: Any) -> str | None:
    """The target's type where the config alone tells it (None, "local", an object); None for
    a name, resolved in its workspace when the step is submitted."""
    if target is None or target in ("local", "azureml:local"):
        return "local"
    return getattr(target, "type", None)


def shown_target(target: Any) -> str:
    return str(getattr(target, "name", None) or target or "local")


def node_count_error(node_count: int, target: str, kind: str) -> ConfigError:
    return ConfigError(f"ParallelRunConfig: node_count={node_count} with compute_target {target!r}, a {kind} "
                       f"target, which is one node: use node_count=1 and process_count_per_node for more workers "
                       f"there, or a Ray target (RayCluster) to spread workers over several nodes")


def _check_entry_script(entry_script: Any, source_directory: str, environment: Any) -> str:
    """The script exists and defines ``init()`` and ``run(mini_batch)`` or ``run(mini_batch,
    mini_batch_context)`` at its top level (read, not run; an R script is parsed by R)."""
    import ast
    from ._parallel import r_workers
    if not isinstance(entry_script, str) or not (entry_script.endswith(".py") or r_workers.is_r_script(entry_script)):
        raise ConfigError(f"ParallelRunConfig: entry_script must name a Python file (ending in .py) or an R file "
                          f"(ending in .R), got {entry_script!r}")
    relative = PurePosixPath(entry_script.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError(f"ParallelRunConfig: entry_script {entry_script!r} must be a path relative to "
                          f"source_directory")
    path = Path(source_directory) / relative
    if not path.is_file():
        raise ConfigError(f"ParallelRunConfig: entry_script {entry_script!r} does not exist in source_directory "
                          f"{source_directory!r}")
    if r_workers.is_r_script(entry_script):
        r_workers.check_entry_script(path, entry_script, _rscript_path(environment))
        return relative.as_posix()
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as e:
        raise ConfigError(f"ParallelRunConfig: entry_script {entry_script!r} is not valid Python: line "
                          f"{e.lineno}: {e.msg}") from None
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = [name for name in ("init", "run") if name not in functions]
    if missing:
        raise ConfigError(f"ParallelRunConfig: entry_script {entry_script!r} defines no "
                          f"{' and no '.join(f'{m}()' for m in missing)} at its top level; an entry script "
                          f"defines init() (called once per worker process) and run(mini_batch) or "
                          f"run(mini_batch, mini_batch_context)")
    args = functions["run"].args
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    if args.vararg is None and not (positional >= 1 and required <= 2):
        raise ConfigError(f"ParallelRunConfig: entry_script {entry_script!r}: run() must take mini_batch, or "
                          f"mini_batch and mini_batch_context, as its arguments")
    return relative.as_posix()


def _rscript_path(environment: Any) -> str | None:
    return environment.r.rscript_path if environment is not None and environment.r is not None else None


def _mini_batch_number(value: Any) -> int | None:
    """``mini_batch_size`` as a number: files, or bytes for a size with a unit."""
    if value is None:
        return None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if value >= 1:
            return value
    elif isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match and int(match.group(1)) >= 1:
            return int(match.group(1)) * _UNITS[(match.group(2) or "").upper()]
    raise ConfigError(f"ParallelRunConfig: mini_batch_size must be a whole number >= 1 (files per mini batch) or a "
                      f"size such as '1MB', '512KB', '1024' (data per mini batch of a tabular dataset), "
                      f"got {value!r}")


def files_per_batch(value: Any) -> int:
    """Files per mini batch of a file dataset."""
    if value is None:
        return DEFAULT_FILES_PER_BATCH
    match = _SIZE_RE.match(value) if isinstance(value, str) else None
    if match and match.group(2):
        raise ConfigError(f"ParallelRunConfig: mini_batch_size {value!r} is a size; for a file dataset it is a "
                          f"number of files per mini batch")
    return _mini_batch_number(value)


def bytes_per_batch(value: Any) -> int:
    """Approximate bytes of data per mini batch of a tabular dataset."""
    return DEFAULT_TABULAR_BATCH_BYTES if value is None else _mini_batch_number(value)
