"""Azure ML's curated environments by the names v1 code loads them with.

``Environment.get(ws, "AzureML-Minimal")`` fetched an environment Microsoft maintained.
Here each common curated name is an environment of runyard's that runs the same
scripts: the framework the name promises, and ``azureml-defaults`` (which
``azureml_packages`` resolves to runyard's layer and pandas). A name is matched
without regard to case, and an environment registered under that name comes first.
Framework versions too old for the Pythons runyard runs on are left unpinned.

>>> curated_environment("AzureML-sklearn-1.5").python.conda_dependencies.pip_packages
['azureml-defaults', 'scikit-learn==1.5.*']
"""

from __future__ import annotations

import re
from typing import Callable

from .environment import CondaDependencies, Environment

#: plain curated names: the pip packages each gets
_FIXED: dict[str, list[str]] = {
    "azureml-minimal": ["azureml-defaults"],
    "azureml-tutorial": ["azureml-defaults", "scikit-learn", "matplotlib", "numpy", "tqdm"],
    "azureml-sidecar": ["azureml-defaults"],
    "azureml-automl": ["azureml-defaults", "scikit-learn", "lightgbm", "numpy"],
}


def _pinned(package: str, oldest: tuple[int, int]) -> Callable[[str | None], str]:
    """A requirement of ``package`` at the name's version, when wheels of it exist for the
    Pythons runyard runs on (that version is ``oldest`` or newer); else unpinned."""
    def requirement(version: str | None) -> str:
        if version and tuple(int(p) for p in version.split(".")[:2]) >= oldest:
            return f"{package}=={version}.*"
        return package
    return requirement


#: versioned families: (name pattern with the version as group 1, requirements for it)
_FAMILIES: list[tuple[re.Pattern[str], list[Callable[[str | None], str]]]] = [
    (re.compile(r"^(?:azureml-)?(?:sklearn|scikit-learn)-(\d+\.\d+)(?:[.-].*)?$"),
     [_pinned("scikit-learn", (1, 2))]),
    (re.compile(r"^(?:azureml-|acpt-)?pytorch-(\d+\.\d+)(?:[.-].*)?$"), [_pinned("torch", (2, 0))]),
    (re.compile(r"^(?:azureml-)?tensorflow-(\d+\.\d+)(?:[.-].*)?$"), [_pinned("tensorflow", (2, 13))]),
    (re.compile(r"^(?:azureml-)?lightgbm-(\d+\.\d+)(?:[.-].*)?$"),
     [_pinned("lightgbm", (4, 0)), lambda _: "scikit-learn"]),
]

#: names shown in errors as examples of what is known
EXAMPLES = ("AzureML-Minimal", "AzureML-Tutorial", "AzureML-AutoML", "AzureML-sklearn-1.5",
            "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu", "AzureML-PyTorch-1.6-CPU", "AzureML-TensorFlow-2.3-CPU",
            "AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu")


def curated_environment(name: str) -> Environment | None:
    """The runyard environment for Azure's curated ``name``, or None when it is none of them."""
    key = name.lower()
    packages = _FIXED.get(key)
    if packages is None:
        for pattern, requirements in _FAMILIES:
            match = pattern.match(key)
            if match:
                packages = ["azureml-defaults", *(r(match.group(1)) for r in requirements)]
                break
    if packages is None:
        return None
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=packages)
    return env
