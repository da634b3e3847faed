"""runyard's error hierarchy: catch ``RunyardError`` for anything runyard raises."""

from __future__ import annotations

from typing import Any


class RunyardError(Exception):
    """Root of every error runyard raises on purpose."""

    #: process exit code the CLI uses for this kind of error
    exit_code = 2


class ConfigError(RunyardError, ValueError):
    """A config, YAML file, argument or path is invalid; nothing was started."""


class SnapshotError(ConfigError):
    """The source folder cannot be snapshotted (too big, unreadable)."""


class ConflictError(ConfigError):
    """A write contradicts what is stored: an id that exists, a property set to another value,
    a write-once file with other bytes."""


class PermissionDeniedError(RunyardError, PermissionError):
    """The workspace server refused a request its caller's token does not allow (a job's token
    writes only its own run and the runs under it)."""


class NotFoundError(RunyardError, LookupError):
    """A workspace, experiment, run or environment that was asked for does not exist."""

    exit_code = 3


class RunNotFoundError(NotFoundError):
    """No run with that id in this workspace."""


class ComputeTargetNotFoundError(NotFoundError, ConfigError):
    """No compute target of that name in this workspace (Azure's get-or-create idiom catches
    it as ``ComputeTargetException``); a ``ConfigError`` too, as a config naming it is invalid,
    so the command line exits 2 (bad input), as it did before it was a ``NotFoundError``."""

    exit_code = ConfigError.exit_code


class EnvironmentBuildError(RunyardError):
    """An environment could not be materialised (package resolution, interpreter)."""

    exit_code = 1


class ComputeError(RunyardError):
    """A compute target could not start or supervise a job."""

    exit_code = 1


class RunFailedError(RunyardError):
    """A run ended Failed (raised by ``wait_for_completion(raise_on_error=True)``)."""

    exit_code = 1


class MissingDependencyError(RunyardError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


def missing_dependency(module: str, extra: str) -> MissingDependencyError:
    return MissingDependencyError(
        f"This feature needs the Python package '{module}', which is not installed. "
        f'Install it with: pip install "runyard[{extra}]"'
    )


def refuse_unknown_arguments(where: str, arguments: dict[str, Any], takes: str = "") -> None:
    """Raise ``ConfigError`` naming every keyword argument in ``arguments`` (what a
    ``**kwargs`` of an Azure-shaped signature caught), so none is accepted and ignored.

    >>> try:
    ...     refuse_unknown_arguments("Experiment()", {"colour": "red"}, "it takes workspace and name")
    ... except ConfigError as e:
    ...     print(e)
    Experiment() got an unexpected argument: colour; it takes workspace and name
    """
    if arguments:
        plural = "s" if len(arguments) > 1 else ""
        raise ConfigError(f"{where} got {'unexpected arguments' if plural else 'an unexpected argument'}: "
                          f"{', '.join(sorted(arguments))}" + (f"; {takes}" if takes else ""))


def refuse_options(where: str, instead: str, **options: Any) -> None:
    """Raise ``ConfigError`` for the first option of ``options`` given a value that would
    change behaviour (anything but None or False), saying what to do ``instead``.

    >>> refuse_options("Dataset.File.from_files", "select files with a glob in path", partition_format=None)
    """
    for name, value in options.items():
        if value is not None and value is not False:
            raise ConfigError(f"{where}: {name}={value!r} is not supported" + (f"; {instead}" if instead else ""))
