"""Azure ML's curated environments by the names v1 code loads them with.

``Environment.get(ws, "AzureML-Minimal")`` fetched an environment Microsoft maintained. Here
each common curated name stands for an environment of runyard's that runs the same scripts:
``azureml-defaults`` (which ``azureml_packages`` resolves to runyard's layer and pandas) plus,
for a framework's name, runyard's own curated environment of that framework
(``estimators.curated``) — at the version the name asks for when runyard has it, else the
newest. The environment keeps the name asked for. Names match without regard to case.

>>> azure_curated_environment("AzureML-sklearn-1.7").python.conda_dependencies.pip_packages
['azureml-defaults', 'scikit-learn==1.7.*', 'joblib>=1.2']
"""

from __future__ import annotations

import re

from .environment import CondaDependencies, Environment
from .estimators.curated import FRAMEWORKS

#: plain curated names: the pip packages each gets besides ``azureml-defaults``
_FIXED: dict[str, list[str]] = {
    "azureml-minimal": [],
    "azureml-tutorial": ["scikit-learn", "matplotlib", "numpy", "tqdm"],
}
#: versioned names (the version is group 2) -> runyard's curated framework, or pip packages
_FAMILIES: list[tuple[re.Pattern[str], str | list[str]]] = [
    (re.compile(r"^(azureml-)?(?:sklearn|scikit-learn)-(\d+\.\d+)([.-].*)?$"), "sklearn"),
    (re.compile(r"^(azureml-|acpt-)?pytorch-(\d+\.\d+)([.-].*)?$"), "pytorch"),
    (re.compile(r"^(azureml-)?tensorflow-(\d+\.\d+)([.-].*)?$"), "tensorflow"),
    (re.compile(r"^(azureml-)?lightgbm-(\d+\.\d+)([.-].*)?$"), ["lightgbm", "scikit-learn"]),
]
#: names shown in errors as examples of what is known
EXAMPLES = ("AzureML-Minimal", "AzureML-Tutorial", "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu")


def azure_curated_environment(name: str) -> Environment | None:
    """The runyard environment for Azure's curated ``name``, or None when it is none of them."""
    key = name.lower()
    packages, options = _FIXED.get(key), []
    for pattern, meant in _FAMILIES if packages is None else []:
        match = pattern.match(key)
        if match and isinstance(meant, list):
            packages = meant
        elif match:
            framework = FRAMEWORKS[meant]
            version = match.group(2) if match.group(2) in framework.versions else framework.default_version
            packages, options = framework.versions[version], framework.pip_options
        if match:
            break
    if packages is None:
        return None
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies(pip_packages=["azureml-defaults", *packages],
                                                      pip_options=list(options))
    return env
