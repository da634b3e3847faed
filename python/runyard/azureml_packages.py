"""Microsoft's Azure ML SDK v1 pip packages in an environment, resolved to runyard's own.

v1 environments list ``azureml-defaults``, ``azureml-core``, ``azureml-sdk`` or
``azureml-mlflow`` (usually pinned) among their pip packages, so that jobs could
``import azureml``. On runyard every job already gets runyard's ``azureml``
compatibility layer (``runyard.compute.local_env.client_packages``), and Microsoft's
packages would install a second ``azureml`` over it. So an environment's requirements
never name them: each is replaced by what it brought in that scripts rely on (pandas
and pyarrow for ``to_pandas_dataframe``, MLflow's client for ``azureml-mlflow``), and
the build log says what was replaced (``replacement_note``). An ``azureml-*`` package
with no counterpart here is refused before any work starts, naming the field.

>>> replace_microsoft_packages(["azureml-defaults==1.48.0", "scikit-learn"])
['scikit-learn', 'pandas>=2', 'pyarrow>=14']
"""

from __future__ import annotations

import re

#: what scripts relied on that runyard's own ``data`` extra (pyproject.toml) also provides
_DATA = ("pandas>=2", "pyarrow>=14")
#: each of Microsoft's packages, and what it is replaced by besides the compatibility layer
REPLACEMENTS: dict[str, tuple[str, ...]] = {
    "azureml-core": (),
    "azureml-defaults": _DATA,
    "azureml-sdk": _DATA,
    "azureml-mlflow": ("mlflow-skinny",),
    "azureml-dataset-runtime": _DATA,
    "azureml-dataprep": _DATA,
    "azureml-pipeline": (),
    "azureml-pipeline-core": (),
    "azureml-pipeline-steps": (),
    "azureml-train": (),
    "azureml-train-core": (),
    "azureml-train-automl-client": (),
    "azureml-widgets": (),
    "azureml-telemetry": (),
    "azureml-runyard": (),  # the compatibility layer itself: every job has it already
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _azureml_name(requirement: str) -> str | None:
    """The normalised name when ``requirement`` names a package ``azureml-*`` (any pin, extras
    or markers); None for other packages, paths, URLs and pip options."""
    if requirement.lstrip().startswith("-") or "://" in requirement or "/" in requirement:
        return None
    match = _NAME.match(requirement)
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""
    return name if name.startswith("azureml-") else None


def requirement_problem(requirement: str) -> str | None:
    """Why ``requirement`` cannot be in an environment, when it is an ``azureml-*`` package
    runyard has no counterpart for (installing it would bring Microsoft's ``azureml``); else None."""
    name = _azureml_name(requirement)
    if name is None or name in REPLACEMENTS:
        return None
    return (f"is a package of Microsoft's Azure ML SDK, which would install a second 'azureml' over runyard's "
            f"compatibility layer, and runyard has no counterpart for it; remove it (every job gets runyard's "
            f"azureml layer). Replaced automatically: {', '.join(sorted(REPLACEMENTS))}")


def replace_microsoft_packages(requirements: list[str]) -> list[str]:
    """``requirements`` with Microsoft's ``azureml-*`` packages taken out and what they brought
    in added after the others (once, unless the environment lists that package itself)."""
    kept, added = [], []
    for requirement in requirements:
        name = _azureml_name(requirement)
        if name is None:
            kept.append(requirement)
        else:
            added.extend(r for r in REPLACEMENTS.get(name, ()) if r not in added)
    listed = {_plain_name(r) for r in kept}
    return kept + [r for r in added if _plain_name(r) not in listed]


def replacement_note(requirements: list[str]) -> str | None:
    """One line for the build log saying which of Microsoft's packages were replaced and by
    what; None when the requirements name none."""
    replaced = [r.strip() for r in requirements if _azureml_name(r) is not None]
    if not replaced:
        return None
    brought = replace_microsoft_packages(requirements)
    added = [r for r in brought if r not in requirements]
    return (f"runyard: {', '.join(replaced)} (Microsoft's Azure ML SDK) replaced by runyard's azureml "
            f"compatibility layer, which every job gets" + (f", and {', '.join(added)}" if added else "")
            + "; nothing is installed from Microsoft's packages.\n")


def _plain_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement
