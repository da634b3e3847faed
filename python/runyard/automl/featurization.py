"""AutoML's featurisation: raw columns in, a numeric matrix out, fitted as part of the model.

``featurization='auto'`` decides a *purpose* for every column from its values, with the rules
and thresholds of Azure ML's column-purpose detection (``n`` rows, ``u`` distinct values):

- ``AllNan`` / ``Ignore``: every value missing, or one value only: dropped;
- ``DateTime``: dates and times (and text that parses as them): year, month, day, day of week,
  day of year, quarter, week of year, hour, minute and second;
- few values (``u < min(200, 0.05 n)``): whole numbers with ``u <= min(50, 0.05 n)`` and other
  non-numbers are ``Categorical`` (one-hot; the most frequent value imputed), the rest
  ``Numeric``;
- many values: numbers are ``Numeric`` (the mean imputed, and a ``_WASNULL`` marker column
  where over 1% were missing); strings with over 85% distinct values and more than one space per
  value are ``Text`` (counts of 1- to 3-word n-grams); under 70% distinct and under 10,000 values,
  ``CategoricalHash`` (hashed one-hot into ``2^(floor(log2 u) + 1)`` columns); other multi-word
  strings ``Text``; over 90% distinct ``Hashes`` (identifiers: dropped); the rest ``Ignore``.

``FeaturizationConfig`` overrides it per column (``add_column_purpose``), sets an imputer's or
hasher's parameters (``add_transformer_params``), blocks transformers
(``add_blocked_transformers``) and drops columns (``add_drop_columns``). With
``featurization='off'`` every column must already be numeric.

The fitted ``Featurizer`` describes what it did (``get_featurization_summary()``, as Azure's
data transformer does) for the guardrails, and which raw column each output column came from
(``raw_columns_``), so that feature importances are given for the columns a user knows.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ConfigError

PURPOSES = ("Numeric", "DateTime", "Categorical", "CategoricalHash", "Text", "Hashes", "Ignore", "AllNan")
DROPPED = frozenset({"Hashes", "Ignore", "AllNan"})
#: transformers whose parameters add_transformer_params sets, and those parameters
TRANSFORMER_PARAMS = {"Imputer": ("strategy", "fill_value"), "HashOneHotEncoder": ("number_of_bits",)}
#: Azure ML's names that add_blocked_transformers takes; of these runyard applies OneHotEncoder,
#: HashOneHotEncoder and CountVectorizer (blocking the others blocks nothing runyard does)
BLOCKABLE = ("HashOneHotEncoder", "LabelEncoder", "CatTargetEncoder", "WoETargetEncoder", "OneHotEncoder",
             "CountVectorizer", "NaiveBayes", "TextTargetEncoder", "TfIdf", "WordEmbedding", "TimeIndexFeaturizer")
IMPUTER_STRATEGIES = ("mean", "median", "most_frequent", "constant")

MAX_CATEGORIES = 200
MIN_CATEGORY_SHARE = 0.05
MAX_INTEGER_CATEGORIES = 50
MAX_HASHED_VALUES = 10_000
TEXT_MIN_DISTINCT_SHARE = 0.85
HASH_MAX_DISTINCT_SHARE = 0.7
ID_MIN_DISTINCT_SHARE = 0.9
MARKER_MIN_MISSING_SHARE = 0.01
TEXT_MAX_FEATURES = 5000


class FeaturizationConfig:
    """Per-column changes to automatic featurisation (Azure ML's ``FeaturizationConfig``).

    >>> config = FeaturizationConfig()
    >>> config.add_column_purpose("zip", "CategoricalHash")
    >>> config.add_transformer_params("Imputer", ["age"], {"strategy": "median"})
    >>> config.add_blocked_transformers(["CountVectorizer"])
    """

    def __init__(self, blocked_transformers: list[str] | None = None, column_purposes: dict[str, str] | None = None,
                 transformer_params: dict[str, list[tuple[list[str], dict[str, Any]]]] | None = None,
                 drop_columns: list[str] | None = None):
        self.blocked_transformers: list[str] = []
        self.column_purposes: dict[str, str] = {}
        self.transformer_params: dict[str, list[tuple[list[str], dict[str, Any]]]] = {}
        self.drop_columns: list[str] = []
        self.add_blocked_transformers(blocked_transformers or [])
        for column, purpose in (column_purposes or {}).items():
            self.add_column_purpose(column, purpose)
        for transformer, entries in (transformer_params or {}).items():
            for cols, params in entries:
                self.add_transformer_params(transformer, cols, params)
        self.add_drop_columns(drop_columns or [])

    def add_column_purpose(self, column_name: str, feature_type: str) -> None:
        if not isinstance(column_name, str) or not column_name:
            raise ConfigError(f"add_column_purpose: column_name must be a column's name, got {column_name!r}")
        if feature_type not in PURPOSES:
            raise ConfigError(f"add_column_purpose({column_name!r}): feature_type must be one of "
                              f"{', '.join(PURPOSES)}, got {feature_type!r}")
        self.column_purposes[column_name] = feature_type

    def add_transformer_params(self, transformer: str, cols: list[str], params: dict[str, Any]) -> None:
        if transformer not in TRANSFORMER_PARAMS:
            raise ConfigError(f"add_transformer_params: transformer must be one of {', '.join(TRANSFORMER_PARAMS)}, "
                              f"got {transformer!r}")
        cols = [cols] if isinstance(cols, str) else list(cols or [])  # none: every column
        if not all(isinstance(c, str) and c for c in cols):
            raise ConfigError(f"add_transformer_params({transformer!r}): cols must be column names, got {cols!r}")
        if not isinstance(params, dict):
            raise ConfigError(f"add_transformer_params({transformer!r}): params must be a dict, got {params!r}")
        unknown = sorted(set(params) - set(TRANSFORMER_PARAMS[transformer]))
        if unknown:
            raise ConfigError(f"add_transformer_params({transformer!r}): unknown parameter {unknown[0]!r}; "
                              f"valid: {', '.join(TRANSFORMER_PARAMS[transformer])}")
        if transformer == "Imputer":
            strategy = params.get("strategy", "mean")
            if strategy not in IMPUTER_STRATEGIES:
                raise ConfigError(f"add_transformer_params('Imputer'): strategy must be one of "
                                  f"{', '.join(IMPUTER_STRATEGIES)}, got {strategy!r}")
            if strategy == "constant" and "fill_value" not in params:
                raise ConfigError("add_transformer_params('Imputer'): strategy 'constant' needs fill_value")
        if transformer == "HashOneHotEncoder":
            bits = params.get("number_of_bits", 10)
            if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 20:
                raise ConfigError(f"add_transformer_params('HashOneHotEncoder'): number_of_bits must be a whole "
                                  f"number from 1 to 20, got {bits!r}")
        entries = [e for e in self.transformer_params.get(transformer, []) if sorted(e[0]) != sorted(cols)]
        self.transformer_params[transformer] = [*entries, (cols, dict(params))]  # replaces the same columns' entry

    def add_blocked_transformers(self, transformers: list[str] | str) -> None:
        names = [transformers] if isinstance(transformers, str) else list(transformers)
        for name in names:
            if name not in BLOCKABLE:
                raise ConfigError(f"blocked transformer {name!r}: valid names are {', '.join(BLOCKABLE)}")
            if name not in self.blocked_transformers:
                self.blocked_transformers.append(name)

    def add_drop_columns(self, drop_columns: list[str] | str) -> None:
        names = [drop_columns] if isinstance(drop_columns, str) else list(drop_columns)
        for name in names:
            if not isinstance(name, str) or not name:
                raise ConfigError(f"add_drop_columns: expected column names, got {name!r}")
            if name not in self.drop_columns:
                self.drop_columns.append(name)

    def params_for(self, transformer: str, column: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for cols, params in self.transformer_params.get(transformer, []):
            if not cols or column in cols:
                found.update(params)
        return found

    def check_columns(self, columns: list[str]) -> None:
        """A ``ConfigError`` for a column named here that the training data does not have."""
        named = [*self.column_purposes, *self.drop_columns,
                 *(c for entries in self.transformer_params.values() for cols, _ in entries for c in cols)]
        missing = [c for c in named if c not in columns]
        if missing:
            raise ConfigError(f"FeaturizationConfig names column {missing[0]!r}, which the training data does not "
                              f"have (columns: {', '.join(map(str, columns))})")

    def to_json(self) -> dict[str, Any]:
        return {"blocked_transformers": self.blocked_transformers, "column_purposes": self.column_purposes,
                "transformer_params": {k: [[c, p] for c, p in v] for k, v in self.transformer_params.items()},
                "drop_columns": self.drop_columns}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "FeaturizationConfig":
        return FeaturizationConfig(data.get("blocked_transformers"), data.get("column_purposes"),
                                   {k: [(c, p) for c, p in v] for k, v in (data.get("transformer_params") or {}).items()},
                                   data.get("drop_columns"))


def detect_purpose(series: Any) -> tuple[str, str]:
    """A column's purpose under 'auto', and why (Azure ML's rules, see the module's text)."""
    import pandas as pd
    values = series.dropna()
    rows = len(series)
    if values.empty:
        return "AllNan", "all values are missing"
    distinct = int(values.nunique())
    if distinct == 1:
        return "Ignore", "it has one value only"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "DateTime", "dates and times"
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    text = None if numeric else values.astype(str)
    if text is not None and _looks_like_dates(text):
        return "DateTime", "text that parses as dates"
    if distinct < min(MAX_CATEGORIES, MIN_CATEGORY_SHARE * rows):
        if numeric and not bool((values == values.round()).all()):
            return "Numeric", f"fractional numbers with {distinct} distinct values"
        if numeric and distinct > min(MAX_INTEGER_CATEGORIES, MIN_CATEGORY_SHARE * rows):
            return "Numeric", f"whole numbers with {distinct} distinct values"
        return "Categorical", f"{distinct} distinct values"
    if numeric:
        return "Numeric", "numbers"
    share = distinct / rows
    spaces = float(text.str.count(" ").mean())
    if share > TEXT_MIN_DISTINCT_SHARE and spaces > 1:
        return "Text", f"{share:.0%} distinct values of {spaces + 1:.1f} words on average"
    if share < HASH_MAX_DISTINCT_SHARE and distinct < MAX_HASHED_VALUES:
        return "CategoricalHash", (f"{distinct} distinct values in {rows} rows (at least "
                                   f"min(200, 5% of the rows): too many to one-hot)")
    if spaces > 1:
        return "Text", f"{spaces + 1:.1f} words per value on average"
    if share > ID_MIN_DISTINCT_SHARE:
        return "Hashes", f"{share:.0%} distinct values: an identifier"
    return "Ignore", f"{distinct} distinct values ({share:.0%}), neither categories nor text"


def _looks_like_dates(text: Any) -> bool:
    import warnings
    import pandas as pd
    sample = text.head(50)
    if not sample.str.contains(r"\d{1,4}[-/.:]\d{1,2}", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.9)


class Featurizer:
    """Fitted on the training frame (label removed); ``transform`` takes raw frames of the same
    columns and returns a float matrix (sparse where text or hashing made it wide)."""

    def __init__(self, mode: str = "auto", config: FeaturizationConfig | None = None):
        if mode not in ("auto", "off"):
            raise ConfigError(f"featurization must be 'auto', 'off' or a FeaturizationConfig, got {mode!r}")
        self.mode = mode
        self.config = config or FeaturizationConfig()

    def fit(self, frame: Any, y: Any = None) -> "Featurizer":
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        if not isinstance(frame, pd.DataFrame):
            raise ConfigError(f"featurisation takes a pandas DataFrame, got {type(frame).__name__}")
        self.columns_ = [str(c) for c in frame.columns]
        self.config.check_columns(self.columns_)
        self.purposes_: dict[str, str] = {}
        self.reasons_: dict[str, str] = {}
        self.imputed_: dict[str, str] = {}
        for column in self.columns_:
            series = frame[column]
            if column in self.config.drop_columns:
                purpose, reason = "Ignore", "dropped by FeaturizationConfig"
            elif column in self.config.column_purposes:
                purpose, reason = self.config.column_purposes[column], "set by FeaturizationConfig"
            elif self.mode == "off":
                if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                    raise ConfigError(f"featurization='off' needs numeric columns; column {column!r} is "
                                      f"{series.dtype} (use featurization='auto', or drop it)")
                purpose, reason = "Numeric", "featurization='off'"
            else:
                purpose, reason = detect_purpose(series)
            self.purposes_[column] = purpose
            self.reasons_[column] = reason
            if purpose not in DROPPED and series.isna().any():
                self.imputed_[column] = self._imputer(column, purpose)[0]
        self.markers_ = [c for c in self.columns_ if self.purposes_[c] == "Numeric"
                         and frame[c].isna().mean() > MARKER_MIN_MISSING_SHARE]
        self.transformer_ = ColumnTransformer(self._grouped_parts(frame), remainder="drop", sparse_threshold=0.3)
        self.transformer_.fit(frame[self.columns_])
        self.raw_columns_ = self._raw_columns(frame.head(1))
        return self

    def transform(self, frame: Any) -> Any:
        import pandas as pd
        if not isinstance(frame, pd.DataFrame):
            raise ConfigError(f"the model takes a pandas DataFrame of the training columns, got {type(frame).__name__}")
        missing = [c for c in self.columns_ if c not in frame.columns and self.purposes_[c] not in DROPPED]
        if missing:
            raise ConfigError(f"the frame lacks column {missing[0]!r}, which the model was trained with")
        frame = frame.reindex(columns=self.columns_)
        return self.transformer_.transform(frame)

    def fit_transform(self, frame: Any, y: Any = None) -> Any:
        return self.fit(frame, y).transform(frame)

    # -- the transformers of one column ------------------------------------------------------
    def _imputer(self, column: str, purpose: str) -> tuple[str, Any]:
        params = self.config.params_for("Imputer", column)
        default = "mean" if purpose == "Numeric" else "most_frequent"
        return params.get("strategy", default), params.get("fill_value")

    def _grouped_parts(self, frame: Any) -> list[tuple[str, Any, list[str]]]:
        """Numeric columns (by imputer), their missing-value markers, and one-hot columns each in
        one transformer (a transformer per column costs milliseconds per column and fold); the
        others one per column."""
        from sklearn.impute import MissingIndicator, SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
        groups: dict[tuple[str, str, str], list[str]] = {}
        single: list[tuple[str, Any, list[str]]] = []
        blocked = set(self.config.blocked_transformers)
        for column in self.columns_:
            purpose = self.purposes_[column]
            strategy, fill = self._imputer(column, purpose)
            if purpose == "Numeric":
                groups.setdefault(("numeric", strategy, repr(fill)), []).append(column)
            elif purpose == "Categorical" and "OneHotEncoder" not in blocked:
                if strategy not in ("most_frequent", "constant"):
                    strategy = "most_frequent"
                groups.setdefault(("onehot", strategy, repr(fill)), []).append(column)
            elif purpose != "Categorical":
                single += self._parts(column, frame[column])
        parts = []
        for (kind, strategy, fill_text), columns in groups.items():
            _, fill = self._imputer(columns[0], self.purposes_[columns[0]])
            if kind == "numeric":
                parts.append((f"numeric|{strategy}|{fill_text}", make_pipeline(
                    FunctionTransformer(_as_float, feature_names_out="one-to-one"),
                    SimpleImputer(strategy=strategy, fill_value=fill, keep_empty_features=True)), columns))
            else:
                parts.append((f"onehot|{strategy}|{fill_text}", make_pipeline(
                    FunctionTransformer(_as_text, feature_names_out="one-to-one"),
                    SimpleImputer(strategy=strategy, fill_value=fill, keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore")), columns))
        if self.markers_:
            parts.append(("marker", make_pipeline(FunctionTransformer(_as_float, feature_names_out="one-to-one"),
                                                  MissingIndicator(features="all")), list(self.markers_)))
        return parts + single

    def _parts(self, column: str, series: Any) -> list[tuple[str, Any, list[str]]]:
        """The transformer of a date, hashed or text column (or none where it is blocked)."""
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer
        purpose = self.purposes_[column]
        blocked = set(self.config.blocked_transformers)
        if purpose in DROPPED:
            return []
        if purpose == "DateTime":
            return [(f"{column}|datetime", FunctionTransformer(_date_parts, feature_names_out=_date_part_names),
                     [column])]
        if purpose == "CategoricalHash":
            if "HashOneHotEncoder" in blocked:
                return []
            distinct = max(int(series.nunique()), 1)
            bits = self.config.params_for("HashOneHotEncoder", column).get(
                "number_of_bits", int(math.floor(math.log2(distinct))) + 1)
            return [(f"{column}|hash", _HashEncoder(bits), [column])]
        if purpose == "Text":
            if "CountVectorizer" in blocked:
                return []
            from sklearn.feature_extraction.text import CountVectorizer
            return [(f"{column}|text", make_pipeline(FunctionTransformer(_one_text_column), CountVectorizer(
                ngram_range=(1, 3), max_features=TEXT_MAX_FEATURES, min_df=2 if len(series) >= 50 else 1)), [column])]
        raise ConfigError(f"column {column!r}: unknown purpose {purpose!r}")

    def _raw_columns(self, sample: Any) -> list[str]:
        """The raw column of each output column, in order."""
        out: list[str] = []
        for name, fitted, columns in self.transformer_.transformers_:
            if name == "remainder" or fitted == "drop":
                continue
            if name.startswith(("numeric|", "marker")):
                out.extend(columns)
            elif name.startswith("onehot|"):
                out.extend(c for c, values in zip(columns, fitted[-1].categories_) for _ in values)
            else:  # one column: its width measured on a row
                out.extend([columns[0]] * fitted.transform(sample[columns]).shape[1])
        return out

    def report(self) -> list[dict[str, Any]]:
        """One row per raw column: its purpose, why, and how missing values were imputed."""
        return [{"column": c, "purpose": self.purposes_[c], "reason": self.reasons_[c],
                 "imputed": self.imputed_.get(c)} for c in self.columns_]

    def get_engineered_feature_names(self) -> list[str]:
        """The names of the columns ``transform`` returns (``age``, ``age_WASNULL``,
        ``city_Paris``, ``signup_year``, ``zip_hash_3``, ``review_good fast``)."""
        names = []
        for name, fitted, columns in self.transformer_.transformers_:
            if name == "remainder" or fitted == "drop":
                continue
            column = columns[0]
            if name.startswith("numeric|"):
                names += list(columns)
                continue
            if name == "marker":
                names += [f"{c}_WASNULL" for c in columns]
                continue
            if name.startswith("onehot|"):
                names += [f"{c}_{v}" for c, values in zip(columns, fitted[-1].categories_) for v in values]
                continue
            if name.endswith("|text"):
                vocabulary = fitted[-1].get_feature_names_out()
                names += [f"{column}_{word}" for word in vocabulary]
                continue
            for out in fitted.get_feature_names_out(columns):
                out = str(out)
                names.append(f"{column}_WASNULL" if out.startswith("missingindicator_") else
                             out if out.startswith(column) else f"{column}_{out}")
        return names

    def get_featurization_summary(self) -> list[dict[str, Any]]:
        """Azure ML's featurisation summary: per raw column ``RawFeatureName``, ``TypeDetected``,
        ``Dropped``, ``EngineeredFeatureCount`` and ``Tranformations`` (Azure's spelling)."""
        counts = {c: self.raw_columns_.count(c) for c in self.columns_}
        return [{"RawFeatureName": c, "TypeDetected": self.purposes_[c],
                 "Dropped": "Yes" if counts[c] == 0 else "No", "EngineeredFeatureCount": counts[c],
                 "Tranformations": self._transformations(c)} for c in self.columns_]

    def _transformations(self, column: str) -> list[str]:
        purpose = self.purposes_[column]
        if self.raw_columns_.count(column) == 0:
            return []
        imputer = {"mean": "MeanImputer", "median": "MedianImputer", "most_frequent": "ModeCatImputer",
                   "constant": "ConstantImputer"}.get(self.imputed_.get(column, ""), None)
        steps = {"Numeric": [], "DateTime": ["DateTimeTransformer"], "Categorical": ["OneHotEncoder"],
                 "CategoricalHash": ["HashOneHotEncoder"], "Text": ["CountVectorizer"]}.get(purpose, [])
        marker = ["ImputationMarker"] if column in self.markers_ else []
        return [*([imputer] if imputer else []), *marker, *steps]


class _HashEncoder:
    """One-hot columns of a hashed value (Azure's HashOneHotEncoder), stateless."""

    def __init__(self, bits: int):
        self.bits = bits

    def fit(self, X: Any, y: Any = None) -> "_HashEncoder":
        return self

    def transform(self, X: Any) -> Any:
        from sklearn.feature_extraction import FeatureHasher
        values = [[f"v={v}"] for v in _as_text(X)[:, 0]]
        hashed = FeatureHasher(n_features=2 ** self.bits, input_type="string", alternate_sign=False).transform(values)
        return hashed

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"bits": self.bits}

    def set_params(self, **params: Any) -> "_HashEncoder":
        self.bits = params.get("bits", self.bits)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        import numpy as np
        return np.array([f"hash_{i}" for i in range(2 ** self.bits)], dtype=object)


def _as_float(X: Any) -> Any:
    import numpy as np
    import pandas as pd
    frame = pd.DataFrame(X)
    return frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) if len(frame) else np.zeros((0, 1))


def _as_text(X: Any) -> Any:
    import numpy as np
    import pandas as pd
    frame = pd.DataFrame(X)
    return frame.apply(lambda s: s.map(lambda v: None if _missing(v) else str(v))).to_numpy(dtype=object) \
        if len(frame) else np.zeros((0, 1), dtype=object)


def _one_text_column(X: Any) -> Any:
    import pandas as pd
    return pd.DataFrame(X).iloc[:, 0].map(lambda v: "" if _missing(v) else str(v)).to_numpy()


_DATE_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "quarter", "week", "hour", "minute", "second")


def _date_parts(X: Any) -> Any:
    import warnings
    import numpy as np
    import pandas as pd
    column = pd.DataFrame(X).iloc[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stamps = pd.to_datetime(column, errors="coerce", format="mixed") if not \
            pd.api.types.is_datetime64_any_dtype(column) else column
    parts = np.stack([_date_part(stamps, p) for p in _DATE_PARTS], axis=1)
    return np.nan_to_num(parts, nan=-1.0)


def _date_part(stamps: Any, part: str) -> Any:
    import numpy as np
    values = stamps.dt.isocalendar().week if part == "week" else getattr(stamps.dt, part)
    return values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _date_part_names(transformer: Any, input_features: Any) -> Any:
    import numpy as np
    return np.array([f"{input_features[0]}_{p}" for p in _DATE_PARTS], dtype=object)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("nan", "NaT", "<NA>")
