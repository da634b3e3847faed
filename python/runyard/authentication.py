"""Azure ML v1's sign-in objects, accepted offline: runyard's workspaces are folders and
servers of its own, so there is no Azure sign-in to make. Each class takes Azure's arguments,
keeps none of the secrets, and says once per process that it is not needed; ``Workspace(...,
auth=)`` and ``Workspace.get(..., auth=)`` accept its objects (and refuse anything else).

>>> auth = InteractiveLoginAuthentication(tenant_id="my-tenant")  # doctest: +SKIP
>>> ws = Workspace.from_config(auth=auth)  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from typing import Any

from .errors import ConfigError

_told: set[str] = set()


class AbstractAuthentication:
    """What every sign-in class here is: a credential runyard does not use."""

    def __init__(self) -> None:
        kind = type(self).__name__
        if kind not in _told:
            _told.add(kind)
            print(f"azureml.core.authentication.{kind}: runyard works offline and needs no Azure sign-in; "
                  f"these credentials are not used.", file=sys.stderr)

    def get_authentication_header(self) -> dict[str, str]:
        """No header: nothing runyard calls asks for an Azure token."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """Azure's browser sign-in: no sign-in happens."""

    def __init__(self, force: bool = False, tenant_id: str | None = None, cloud: str | None = None):
        super().__init__()


class ServicePrincipalAuthentication(AbstractAuthentication):
    """Azure's service principal: the secret is not kept."""

    def __init__(self, tenant_id: str, service_principal_id: str, service_principal_password: str,
                 cloud: str = "AzureCloud", _enable_caching: bool = True):
        super().__init__()


class AzureCliAuthentication(AbstractAuthentication):
    """Azure CLI's sign-in: the CLI is not called."""

    def __init__(self, cloud: str | None = None):
        super().__init__()


class MsiAuthentication(AbstractAuthentication):
    """A managed identity: none is asked for."""

    def __init__(self, cloud: str | None = None, identity_config: dict[str, Any] | None = None):
        super().__init__()


def check_auth(auth: Any, where: str) -> None:
    """``auth`` must be None or one of these objects; anything else is an error naming ``where``."""
    if auth is not None and not isinstance(auth, AbstractAuthentication):
        raise ConfigError(f"{where}: auth must be an azureml.core.authentication object (InteractiveLoginAuthentication, "
                          f"ServicePrincipalAuthentication, AzureCliAuthentication, MsiAuthentication) or None, "
                          f"got {type(auth).__name__}")
