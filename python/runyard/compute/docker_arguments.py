"""``docker.arguments`` of an environment: extra ``docker run`` options, as Azure ML passed
them to its ``docker run``. The Docker target creates containers through docker-py, so each
option is mapped to a ``containers.create`` keyword here; an option with no such keyword,
or one runyard sets itself (or takes from the target's settings), is refused by name when
the run is submitted, never dropped.

>>> container_options(["--ipc=host", "--ulimit", "memlock=-1:-1", "--cap-add", "SYS_PTRACE"])
{'ipc_mode': 'host', 'ulimits': [{'name': 'memlock', 'soft': -1, 'hard': -1}], 'cap_add': ['SYS_PTRACE']}
"""

from __future__ import annotations

import shlex
from typing import Any, Callable

from ..errors import ConfigError

# option -> (keyword of containers.create, how the value is kept): "str" one value, "list" each
# value appended, "map" KEY=VALUE (or KEY:VALUE for --add-host) into a dict, "flag" True
_VALUED: dict[str, tuple[str, str]] = {
    "--shm-size": ("shm_size", "str"), "--ipc": ("ipc_mode", "str"), "--pid": ("pid_mode", "str"),
    "--uts": ("uts_mode", "str"), "--hostname": ("hostname", "str"), "-h": ("hostname", "str"),
    "--cap-add": ("cap_add", "list"), "--cap-drop": ("cap_drop", "list"), "--device": ("devices", "list"),
    "--security-opt": ("security_opt", "list"), "--dns": ("dns", "list"), "--dns-search": ("dns_search", "list"),
    "--group-add": ("group_add", "list"), "--cpuset-cpus": ("cpuset_cpus", "str"),
    "--env": ("environment", "map"), "-e": ("environment", "map"), "--label": ("labels", "map"),
    "-l": ("labels", "map"), "--sysctl": ("sysctls", "map"), "--add-host": ("extra_hosts", "map"),
    "--tmpfs": ("tmpfs", "map"), "--pids-limit": ("pids_limit", "int"), "--ulimit": ("ulimits", "ulimit"),
    "--stop-signal": ("stop_signal", "str"),
}
_FLAGS = {"--privileged": "privileged", "--read-only": "read_only", "--oom-kill-disable": "oom_kill_disable"}
#: options runyard already gives every container
_ALREADY = {"--init", "--detach", "-d", "--rm"}
#: options that belong to the Docker target's settings, which bound what a run may take
_TARGET_SETTINGS = {"--memory": "memory", "-m": "memory", "--memory-swap": "memory", "--cpus": "cpus",
                    "--gpus": "gpus", "--network": "network", "--net": "network", "--user": "user", "-u": "user"}
#: options runyard sets for every job itself
_RUNYARD_SETS = {"--workdir": "the job's working folder", "-w": "the job's working folder",
                 "--volume": "the job's files (copied into the container, never a bind mount)",
                 "-v": "the job's files (copied into the container, never a bind mount)",
                 "--mount": "the job's files (copied into the container, never a bind mount)",
                 "--name": "the container's name", "--entrypoint": "the command the job runs"}


def container_options(arguments: list[str], where: str = "docker.arguments") -> dict[str, Any]:
    """The ``containers.create`` keywords of ``arguments``; a ``ConfigError`` naming the first
    option that cannot be passed that way, and what to do instead."""
    words = _words(arguments, where)
    options: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        name, has_value, value = word.partition("=") if word.startswith("--") else (word, False, "")
        if not name.startswith("-"):
            raise ConfigError(f"{where}: {word!r} is not a docker run option (options start with '-')")
        if name in _FLAGS or name in _ALREADY:
            if has_value and value.lower() not in ("true", "1"):
                raise ConfigError(f"{where}: {word!r}: runyard's containers cannot run with {name} off")
            if name in _FLAGS:
                options[_FLAGS[name]] = True
            i += 1
            continue
        refused = _refusal(name)
        if refused:
            raise ConfigError(f"{where}: {name} {refused}")
        if name not in _VALUED:
            raise ConfigError(f"{where}: {name} is not a docker run option the Docker target can pass to its "
                              f"containers; it passes: {', '.join(sorted(n for n in [*_VALUED, *_FLAGS] if n.startswith('--')))}")
        if not has_value:
            if i + 1 >= len(words):
                raise ConfigError(f"{where}: {name} needs a value")
            value, i = words[i + 1], i + 1
        i += 1
        keyword, kind = _VALUED[name]
        _KINDS[kind](options, keyword, value, f"{where}: {name} {value!r}")
    return options


def _words(arguments: Any, where: str) -> list[str]:
    if not isinstance(arguments, (list, tuple)) or not all(isinstance(a, str) for a in arguments):
        raise ConfigError(f"{where} must be a list of strings like ['--ipc=host', '--shm-size', '2g']")
    words: list[str] = []
    for argument in arguments:  # "--ipc=host --shm-size 2g" in one string is split as a shell would
        words += shlex.split(argument) if argument.startswith("-") and " " in argument.strip() else [argument]
    return words


def _refusal(name: str) -> str | None:
    if name in _TARGET_SETTINGS:
        return (f"is the Docker target's setting {_TARGET_SETTINGS[name]!r}, which bounds every run on it: set "
                f"it on the target (runyard compute attach docker NAME --{_TARGET_SETTINGS[name]} ...)")
    if name in _RUNYARD_SETS:
        return f"is set by runyard for every job ({_RUNYARD_SETS[name]}); leave it out"
    return None


def _one(options: dict[str, Any], keyword: str, value: str, shown: str) -> None:
    if keyword in options and options[keyword] != value:
        raise ConfigError(f"{shown}: given twice with different values")
    options[keyword] = value


def _append(options: dict[str, Any], keyword: str, value: str, shown: str) -> None:
    options.setdefault(keyword, []).append(value)


def _pair(options: dict[str, Any], keyword: str, value: str, shown: str) -> None:
    separator = ":" if keyword == "extra_hosts" else "="
    key, found, item = value.partition(separator)
    if keyword == "tmpfs":  # PATH[:OPTIONS]
        key, found, item = value.partition(":")
        found = True
    if not key or not found:
        raise ConfigError(f"{shown}: expected KEY{separator}VALUE")
    options.setdefault(keyword, {})[key] = item


def _integer(options: dict[str, Any], keyword: str, value: str, shown: str) -> None:
    try:
        options[keyword] = int(value)
    except ValueError:
        raise ConfigError(f"{shown}: expected a whole number") from None


def _ulimit(options: dict[str, Any], keyword: str, value: str, shown: str) -> None:
    name, found, limits = value.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        limit = {"name": name, "soft": int(soft), "hard": int(hard or soft)}
    except ValueError:
        limit = None
    if not name or not found or limit is None:
        raise ConfigError(f"{shown}: expected NAME=SOFT[:HARD] with whole numbers, e.g. memlock=-1:-1")
    options.setdefault(keyword, []).append(limit)


_KINDS: dict[str, Callable[[dict[str, Any], str, str, str], None]] = {
    "str": _one, "list": _append, "map": _pair, "int": _integer, "ulimit": _ulimit}
