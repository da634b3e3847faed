"""How AutoML scores each iteration: a validation set, a holdout, or cross-validation folds.

Azure ML's rules, checked before a run starts:

- ``validation_data`` given: every iteration is scored on it (``n_cross_validations`` and
  ``validation_size`` may not be given too);
- ``validation_size`` (0 < size < 1): that share of the training rows, held out;
- ``n_cross_validations`` (2 to 1,000, at most the row count): that many folds;
- both: Monte Carlo cross-validation, ``n_cross_validations`` random holdouts of that size;
- forecasting: rolling-origin cross-validation (``series.splits``);
- ``cv_split_column_names``: one column per fold, 1 for a training row, 0 for a validation row
  (with none of the others);
- none of these: from 20,000 rows a 10% holdout, from 1,000 rows 3 folds, under 1,000 rows 10
  folds.

Folds and holdouts are drawn with a seed, stratified by class for classification (where
every class has enough rows), so a resumed run scores on the same rows.

>>> default_plan(20_000).describe()
'a 10% holdout (default for 20000 rows: from 20,000 rows a 10% holdout)'
>>> default_plan(1_000).describe()
'3-fold cross-validation (default for 1000 rows: from 1,000 to 19,999 rows 3 folds)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ..errors import ConfigError

HOLDOUT_FROM_ROWS = 20_000
THREE_FOLDS_FROM_ROWS = 1_000
MAX_FOLDS = 1000
DEFAULT_HOLDOUT = 0.1
SEED = 0


@dataclass(frozen=True)
class ValidationPlan:
    """What scores an iteration: ``kind`` is ``"validation_data"``, ``"holdout"``, ``"cv"``,
    ``"monte_carlo"`` or ``"cv_columns"``."""

    kind: str
    size: float | None = None  # holdout share
    folds: int | None = None
    columns: tuple[str, ...] = ()
    reason: str = ""
    horizon: int | None = None  # rolling_origin: periods each fold forecasts
    step: int | None = None  # rolling_origin: periods between origins

    def describe(self) -> str:
        if self.kind == "holdout":
            text = f"a {self.size:.0%} holdout"
        elif self.kind == "cv":
            text = f"{self.folds}-fold cross-validation"
        elif self.kind == "monte_carlo":
            text = f"Monte Carlo cross-validation: {self.folds} random {self.size:.0%} holdouts"
        elif self.kind == "rolling_origin":
            text = (f"rolling-origin cross-validation: {self.folds} fold(s) of {self.horizon} period(s), origins "
                    f"{self.step} period(s) apart")
        elif self.kind == "cv_columns":
            text = f"the folds of columns {', '.join(self.columns)}"
        else:
            text = "the validation data"
        return f"{text} ({self.reason})" if self.reason else text

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "size": self.size, "folds": self.folds, "columns": list(self.columns),
                "reason": self.reason, "horizon": self.horizon, "step": self.step}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "ValidationPlan":
        return ValidationPlan(data["kind"], data.get("size"), data.get("folds"), tuple(data.get("columns") or ()),
                              data.get("reason") or "", data.get("horizon"), data.get("step"))

    def splits(self, y: Any, *, classification: bool, frame: Any = None) -> Iterator[tuple[Any, Any]]:
        """(train rows, validation rows) index arrays; not for ``validation_data`` nor
        ``rolling_origin`` (``forecasters.validation_rows``)."""
        import numpy as np
        if self.kind == "rolling_origin":
            raise ValueError("rolling-origin folds come from the prepared series: forecasters.validation_rows")
        rows = np.arange(len(y))
        if self.kind == "cv_columns":
            for column in self.columns:
                mask = frame[column].to_numpy().astype(int) == 1
                yield rows[mask], rows[~mask]
            return
        stratify = classification and _stratifiable(y, self.folds or 2)
        if self.kind == "monte_carlo":
            from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
            splitter = (StratifiedShuffleSplit if stratify else ShuffleSplit)(
                n_splits=self.folds, test_size=self.size, random_state=SEED)
            yield from splitter.split(rows, np.asarray(y) if stratify else None)
            return
        if self.kind == "holdout":
            from sklearn.model_selection import train_test_split
            train, valid = train_test_split(rows, test_size=self.size, random_state=SEED,
                                            stratify=np.asarray(y) if stratify else None)
            yield np.sort(train), np.sort(valid)
            return
        from sklearn.model_selection import KFold, StratifiedKFold
        splitter = (StratifiedKFold if stratify else KFold)(n_splits=self.folds, shuffle=True, random_state=SEED)
        yield from splitter.split(rows, np.asarray(y) if stratify else None)


def default_plan(rows: int) -> ValidationPlan:
    """Azure's default for a table of ``rows`` rows and no validation settings."""
    if rows >= HOLDOUT_FROM_ROWS:
        return ValidationPlan("holdout", size=DEFAULT_HOLDOUT,
                              reason=f"default for {rows} rows: from 20,000 rows a 10% holdout")
    if rows >= THREE_FOLDS_FROM_ROWS:
        return ValidationPlan("cv", folds=3, reason=f"default for {rows} rows: from 1,000 to 19,999 rows 3 folds")
    return ValidationPlan("cv", folds=10, reason=f"default for {rows} rows: under 1,000 rows 10 folds")


def plan(rows: int, *, validation_data: Any = None, validation_size: Any = None,
         n_cross_validations: Any = None, cv_split_column_names: Any = None,
         columns: Any = ()) -> ValidationPlan:
    """The plan for these settings, or a ``ConfigError`` naming the setting that cannot be."""
    given = [name for name, value in (("validation_data", validation_data), ("validation_size", validation_size),
                                      ("n_cross_validations", n_cross_validations),
                                      ("cv_split_column_names", cv_split_column_names)) if value is not None]
    if len(given) > 1 and given != ["validation_size", "n_cross_validations"]:
        raise ConfigError(f"{' and '.join(given)} cannot be given together: give validation_data, "
                          f"cv_split_column_names, validation_size or n_cross_validations (or the last two together: "
                          f"Monte Carlo cross-validation)")
    if validation_data is not None:
        return ValidationPlan("validation_data")
    folds = None if n_cross_validations is None else _folds(n_cross_validations, rows)
    if validation_size is not None:
        if isinstance(validation_size, bool) or not isinstance(validation_size, (int, float)) \
                or not 0 < validation_size < 1:
            raise ConfigError(f"validation_size must be a share of the rows between 0 and 1 (e.g. 0.2), "
                              f"got {validation_size!r}")
        held = int(rows * validation_size)
        if held < 1 or rows - held < 1:
            raise ConfigError(f"validation_size={validation_size} of {rows} rows leaves {held} row(s) to validate "
                              f"and {rows - held} to train; both need at least one")
        if folds is not None:
            return ValidationPlan("monte_carlo", size=float(validation_size), folds=folds)
        return ValidationPlan("holdout", size=float(validation_size))
    if folds is not None:
        return ValidationPlan("cv", folds=folds)
    if cv_split_column_names is not None:
        names = [cv_split_column_names] if isinstance(cv_split_column_names, str) else list(cv_split_column_names)
        missing = [n for n in names if n not in columns]
        if not names or missing:
            raise ConfigError(f"cv_split_column_names: no column {missing[0]!r} in the training data"
                              if missing else "cv_split_column_names: give at least one column")
        return ValidationPlan("cv_columns", columns=tuple(names))
    if rows < 2:
        raise ConfigError(f"the training data has {rows} row(s); AutoML needs at least 2 to train and validate")
    return default_plan(rows)


def _folds(value: Any, rows: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= MAX_FOLDS:
        raise ConfigError(f"n_cross_validations must be a whole number of folds from 2 to {MAX_FOLDS}, got {value!r}")
    if value > rows:
        raise ConfigError(f"n_cross_validations={value} is more folds than the {rows} rows of the training data")
    return value


def _stratifiable(y: Any, folds: int) -> bool:
    import numpy as np
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return len(counts) > 1 and counts.min() >= folds
