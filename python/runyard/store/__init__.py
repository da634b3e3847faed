"""Run-history stores, chosen by URL scheme.

SQLAlchemy URLs (``sqlite:///...``, ``postgresql://...``) and workspace servers
(``http(s)://host:port``, ``runyard server``); the table maps a scheme prefix to the dotted path of the class that serves it, so a
store's imports happen only when a workspace uses it.
"""

from __future__ import annotations

import importlib

from typing import Any

from ..errors import ConfigError, NotFoundError

#: (URL scheme prefix, "module:Class") — first match wins.
STORES: list[tuple[str, str]] = [
    ("sqlite", "runyard.store.sql:SqlStore"),
    ("postgresql", "runyard.store.sql:SqlStore"),
    ("mysql", "runyard.store.sql:SqlStore"),
    ("http", "runyard.store.http:HttpStore"),
    ("https", "runyard.store.http:HttpStore"),
]


def open_store(url: str):
    scheme = url.split(":", 1)[0].lower()
    for prefix, target in STORES:
        if scheme == prefix or scheme.startswith(prefix + "+"):
            module_name, class_name = target.split(":")
            return getattr(importlib.import_module(module_name), class_name)(url)
    valid = ", ".join(sorted({p for p, _ in STORES}))
    raise ConfigError(f"store_url {url!r} has an unknown scheme {scheme!r}; valid schemes: {valid}")


def asset_by_id(workspace: Any, kind: str, asset_id: Any, what: str, hint: str = "") -> dict[str, Any]:
    """The stored asset of ``kind`` with this id; a ``NotFoundError`` naming ``what`` (and the
    ``hint``) when there is none, or when the id is another kind's."""
    row = workspace._store.get_asset_by_id(asset_id) if isinstance(asset_id, str) else None
    if row is None or row["kind"] != kind:
        raise NotFoundError(f"no {what} with id {asset_id!r} in workspace {workspace.name!r}{hint}")
    return row
