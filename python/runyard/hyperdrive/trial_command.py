"""How a trial's values reach its script: in its command, or appended as options.

A trial whose command names hyperparameters as ``${{search_space.NAME}}`` (Azure ML CLI
v2's sweep jobs) gets each value written there, shell-quoted; any other trial gets
``--NAME value`` per hyperparameter appended to its arguments (HyperDrive v1).

>>> trial_command("python train.py --lr ${{search_space.lr}}", [], {"lr": 0.5})
('python train.py --lr 0.5', [])
>>> trial_command("python train.py", ["--epochs", "3"], {"--lr": 0.5})
('python train.py', ['--epochs', '3', '--lr', '0.5'])
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ..errors import ConfigError
from .sampling import option

#: ``${{search_space.NAME}}``; NAME as sampling's parameter names (without a leading ``--``)
SEARCH_SPACE_REF = re.compile(r"\$\{\{\s*search_space\.([A-Za-z][A-Za-z0-9_.-]*)\s*\}\}")


def references(command: Any) -> list[str]:
    """The hyperparameters a command names, in order, each once (none for a list of words)."""
    if not isinstance(command, str):
        return []
    return list(dict.fromkeys(SEARCH_SPACE_REF.findall(command)))


def check_references(command: Any, names: list[str], where: str) -> None:
    """A command that names hyperparameters names only those of the search space, and all of
    them (a value given to no script would make trials that differ in nothing the script sees)."""
    used = references(command)
    if not used:
        return
    known = {name.removeprefix("--"): name for name in names}
    unknown = [name for name in used if name not in known]
    if unknown:
        raise ConfigError(f"{where}: the command names ${{{{search_space.{unknown[0]}}}}}, which is not in the "
                          f"search space (its names: {', '.join(known)})")
    unused = [name for bare, name in known.items() if bare not in used]
    if unused:
        raise ConfigError(f"{where}: the command names some hyperparameters as ${{{{search_space.NAME}}}} but not "
                          f"{unused[0]!r}; add ${{{{search_space.{unused[0].removeprefix('--')}}}}} to it")


def trial_command(command: Any, arguments: list[str], values: dict[str, Any]) -> tuple[Any, list[str]]:
    """The command and arguments trial ``values`` runs with."""
    if references(command):
        by_name = {name.removeprefix("--"): value for name, value in values.items()}
        return SEARCH_SPACE_REF.sub(lambda m: shlex.quote(str(by_name[m.group(1)])), command), list(arguments)
    appended = list(arguments)
    for name, value in values.items():
        appended += [option(name), str(value)]
    return command, appended
