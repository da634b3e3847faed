"""Autologging: metric capture a framework estimator turns on inside its run.

A framework estimator (``SKLearn``, ``TensorFlow``) sets ``RUNYARD_AUTOLOG`` in the job
(``autolog=False`` leaves it out). When the script opens its run (``Run.get_context()``),
runyard patches the framework, now or as soon as the script imports it:

- Keras (``keras`` / ``tf.keras``): ``Model.fit`` gets a callback that logs every epoch's
  ``logs`` (loss, metrics, validation metrics) to the run.
- scikit-learn: the outermost ``fit`` of an estimator tags the run with the estimator's class
  and its parameters (``sklearn.<name>``) and logs ``training_score`` (``score`` on the
  training data) when the estimator has one.

PyTorch has no single training loop to patch; ``log_epoch(epoch, loss=..., ...)`` is the
helper a training loop calls.
"""

from __future__ import annotations

import functools
import importlib.abc
import os
import sys
import threading
from typing import Any, Callable

ENV_VAR = "RUNYARD_AUTOLOG"
_patched: set[str] = set()
_depth = threading.local()


def enable_from_env(run: Any) -> None:
    """Turn on what ``RUNYARD_AUTOLOG`` names (comma-separated: sklearn, tensorflow)."""
    for framework in filter(None, (os.environ.get(ENV_VAR) or "").split(",")):
        if framework == "sklearn":
            when_imported("sklearn.base", lambda module: _patch_sklearn(module, run))
        elif framework in ("tensorflow", "keras"):
            when_imported("keras", lambda module: _patch_keras(module, run))


def log_epoch(epoch: int, run: Any = None, **metrics: float) -> None:
    """Log one epoch's metrics (a PyTorch loop's helper): ``log_epoch(3, loss=0.2, acc=0.9)``."""
    if run is None:
        from .run import Run
        run = Run.get_context()
    run.log("epoch", epoch)
    for name, value in metrics.items():
        run.log(name, float(value))


# -- running code once a module is imported --------------------------------------------------
class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``callback(module)`` right after ``name`` is first imported."""

    def __init__(self, name: str, callback: Callable[[Any], None]):
        self.name, self.callback = name, callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        import importlib.util
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_call(module: Any) -> None:
            exec_module(module)
            self.callback(module)

        spec.loader.exec_module = exec_and_call  # type: ignore[method-assign]
        return spec


def when_imported(name: str, callback: Callable[[Any], None]) -> None:
    if name in sys.modules:
        callback(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, callback))


# -- Keras --------------------------------------------------------------------------------------
def _patch_keras(keras: Any, run: Any) -> None:
    if "keras" in _patched:
        return
    _patched.add("keras")

    class LogEpochsToRun(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for name, value in (logs or {}).items():
                try:
                    run.log(name, float(value))
                except (TypeError, ValueError):
                    continue

    fit = keras.Model.fit

    @functools.wraps(fit)
    def fit_with_logging(self: Any, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if not any(isinstance(c, LogEpochsToRun) for c in callbacks):
            callbacks.append(LogEpochsToRun())
        return fit(self, *args, callbacks=callbacks, **kwargs)

    keras.Model.fit = fit_with_logging


# -- scikit-learn -------------------------------------------------------------------------------
def _patch_sklearn(base: Any, run: Any) -> None:
    if "sklearn" in _patched:
        return
    _patched.add("sklearn")

    def wrap(cls: type) -> None:
        fit = cls.__dict__.get("fit")
        if fit is None or getattr(fit, "_runyard_autolog", False):
            return

        @functools.wraps(fit)
        def fit_and_log(self: Any, *args: Any, **kwargs: Any) -> Any:
            depth = getattr(_depth, "value", 0)
            _depth.value = depth + 1
            try:
                result = fit(self, *args, **kwargs)
            finally:
                _depth.value = depth
            if depth == 0:  # only the estimator the script fitted, not the ones inside it
                X = args[0] if args else kwargs.get("X")
                y = args[1] if len(args) > 1 else kwargs.get("y")
                _log_sklearn(self, X, y, run)
            return result

        fit_and_log._runyard_autolog = True  # type: ignore[attr-defined]
        cls.fit = fit_and_log

    def wrap_all(cls: type) -> None:
        for sub in cls.__subclasses__():
            wrap(sub)
            wrap_all(sub)

    wrap_all(base.BaseEstimator)
    original = base.BaseEstimator.__dict__.get("__init_subclass__")

    @classmethod  # type: ignore[misc]
    def init_subclass(cls: type, **kwargs: Any) -> None:
        if original is not None:
            original.__func__(cls, **kwargs)
        else:
            super(base.BaseEstimator, cls).__init_subclass__(**kwargs)
        wrap(cls)

    base.BaseEstimator.__init_subclass__ = init_subclass


def _log_sklearn(estimator: Any, X: Any, y: Any, run: Any) -> None:
    tags = {"sklearn.estimator": type(estimator).__name__}
    try:
        params = estimator.get_params(deep=False)
    except Exception:  # noqa: BLE001 - a third-party estimator may not follow the API
        params = {}
    for name, value in params.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            tags[f"sklearn.{name}"] = str(value)
    run.set_tags(tags)
    if y is not None and hasattr(estimator, "score"):
        try:
            run.log("training_score", float(estimator.score(X, y)))
        except Exception:  # noqa: BLE001 - not every estimator can score its training data
            pass
