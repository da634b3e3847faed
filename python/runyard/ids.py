"""The one pattern for the ids and names a workspace stores, checked in one place.

Run ids, asset ids and the names of experiments, assets, environments and compute
targets become database keys, URL path segments and folder names (a run's files
live in ``artifacts/runs/<run id>``), so each is checked here, by every store,
the artifact store and the workspace server, before it is used: ``..``, ``/``,
absolute paths, NUL and over-long values never get that far.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ConfigError

#: run ids, asset ids, asset/environment/target names: 1-255 of these, a letter or digit first
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$"
#: experiment names (Azure ML's rule: no '.')
#: a registered asset's name (dataset, model, environment...): an id, or spaces inside one, as
#: Azure allowed in dataset names; each kind's own rule may be stricter
ASSET_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._ -]{0,253}[A-Za-z0-9._-])?$"
EXPERIMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$"
#: a sha256 hex digest: snapshot hashes, environment hashes, content hashes
SHA256_PATTERN = r"^[0-9a-f]{64}$"

_ID = re.compile(ID_PATTERN)
_ASSET_NAME = re.compile(ASSET_NAME_PATTERN)
_EXPERIMENT = re.compile(EXPERIMENT_PATTERN)
_SHA256 = re.compile(SHA256_PATTERN)


def check_id(value: Any, field: str = "id") -> str:
    """``value`` if it is a valid id or name; else a ``ConfigError`` naming ``field``.

    >>> check_id("diabetes_1700000000_ab12cd34", "run_id")
    'diabetes_1700000000_ab12cd34'
    """
    if not isinstance(value, str) or not _ID.match(value):
        raise ConfigError(f"{field} {_shown(value)}: use 1-255 letters, digits, '.', '_' or '-', starting with "
                          f"a letter or digit")
    return value


def check_asset_name(value: Any, field: str = "name") -> str:
    """``value`` if it may name a registered asset (an id, or spaces inside one); else a
    ``ConfigError`` naming ``field``.

    >>> check_asset_name("diabetes data v1")
    'diabetes data v1'
    """
    if not isinstance(value, str) or not _ASSET_NAME.match(value):
        raise ConfigError(f"{field} {_shown(value)}: use 1-255 letters, digits, '.', '_', '-' or spaces inside, "
                          f"starting with a letter or digit")
    return value


def check_experiment_name(value: Any, field: str = "experiment name") -> str:
    if not isinstance(value, str) or not _EXPERIMENT.match(value):
        raise ConfigError(f"{field} {_shown(value)}: use 1-200 letters, digits, '_' or '-', starting with a "
                          f"letter or digit")
    return value


def check_sha256(value: Any, field: str = "hash") -> str:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise ConfigError(f"{field} {_shown(value)}: expected a 64-character lowercase sha256 hex digest")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
