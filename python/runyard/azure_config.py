"""Azure ML's workspace identity, offline: ``config.json`` and where its runyard workspace lives.

Azure code opens its workspace with ``Workspace.from_config()`` (which reads
``.azureml/config.json`` or ``config.json`` in the current folder or one above it) or with
``Workspace(subscription_id, resource_group, workspace_name)``. Offline, the Azure workspace
is the runyard workspace folder ``.runyard`` beside that config (in the folder holding
``.azureml/`` or ``config.json``); it is created on first use and records the three names,
which ``ws.subscription_id``, ``ws.resource_group`` and ``ws.name`` then return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

#: where Azure's config is looked for in each folder, in Azure's order
CONFIG_PATHS = (".azureml/config.json", "config.json")
#: what a workspace that records no Azure identity reports
OFFLINE_SUBSCRIPTION = "offline"
OFFLINE_RESOURCE_GROUP = "offline"
OFFLINE_LOCATION = "local"


@dataclass(frozen=True)
class AzureIdentity:
    subscription_id: str
    resource_group: str
    workspace_name: str

    def to_dict(self) -> dict[str, str]:
        return {"subscription_id": self.subscription_id, "resource_group": self.resource_group,
                "workspace_name": self.workspace_name}


def identity(subscription_id: object, resource_group: object, workspace_name: object,
             where: str = "Workspace()") -> AzureIdentity:
    """The three names, checked: each must be non-empty text.

    >>> identity("sub", "", "ws")
    Traceback (most recent call last):
    ...
    runyard.errors.ConfigError: Workspace(): resource_group must be non-empty text, got ''
    """
    values = {"subscription_id": subscription_id, "resource_group": resource_group, "workspace_name": workspace_name}
    for field, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {field} must be non-empty text, got {value!r}")
    return AzureIdentity(**values)


def read_config(path: Path) -> AzureIdentity:
    """The identity in Azure's ``config.json`` at ``path``; a ``ConfigError`` names a bad field."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a readable JSON file: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with subscription_id, resource_group and workspace_name")
    return identity(data.get("subscription_id"), data.get("resource_group"), data.get("workspace_name"),
                    where=str(path))


def find_config(folder: Path) -> Path | None:
    """Azure's config in ``folder`` (``.azureml/config.json``, else a ``config.json`` naming a
    workspace: another tool's ``config.json`` is passed over), if any."""
    for relative in CONFIG_PATHS:
        path = folder / relative
        if path.is_file() and (relative != "config.json" or _names_a_workspace(path)):
            return path
    return None


def _names_a_workspace(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "workspace_name" in data and "subscription_id" in data


def project_folder(config_path: Path) -> Path:
    """The folder the config belongs to: the one holding ``.azureml/`` or ``config.json``."""
    folder = config_path.resolve().parent
    return folder.parent if folder.name == ".azureml" else folder
