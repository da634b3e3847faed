"""What a run-history store accepts: every value is checked here before it is written.

The SQL store calls these at the door of each public method, so the same rules
hold for a workspace folder, a PostgreSQL store and a workspace server (whose
routes answer a ``ConfigError`` with a 4xx naming the field). Each check names
the field it refuses. Strings never hold NUL (PostgreSQL cannot store it), keys
fit their columns, numbers are finite, JSON is JSON.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Iterable, Literal, Optional

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from .. import ids
from .._yaml import validation_message
from .. import status as st
from ..errors import ConfigError
from .base import UPDATABLE_RUN_FIELDS

#: what a run is: how it was started (``run_type``)
RUN_TYPES = frozenset({"script", "command", "pipeline", "hyperdrive", "automl", "interactive", "child"})
#: the kinds of named, versioned assets (each spec's shape: ``asset_specs``), and the states a
#: version can be in
ASSET_KINDS = frozenset({"dataset", "datastore", "model", "published_pipeline", "pipeline_endpoint", "schedule",
                         "schedule_manifest"})
ASSET_STATES = frozenset({"active", "disabled", "uploading", "failed", "deleted"})
METRIC_KINDS = frozenset({"scalar", "list", "row", "table", "image"})
LINEAGE_ROLES = frozenset({"input", "output"})

KEY_LENGTH = 255
VALUE_LENGTH = 64 * 1024
ERROR_LENGTH = 256 * 1024
DEFINITION_LENGTH = 8 * 1024 * 1024
_INT32 = 2 ** 31 - 1
_LATEST_TIME = 1e11  # year 5138: later is a unit mistake (milliseconds)
_NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL

#: the fields a new run is created with; the store sets created_at and run_number, and the
#: process fields come later through set_run_process
CREATE_FIELDS = frozenset({"run_id", "experiment", "parent_id", "display_name", "run_type", "status", "target",
                           "definition", "environment_name", "environment_version", "environment_hash",
                           "snapshot_hash", "start_time", "end_time", "exit_code", "error"})


def text(value: Any, field: str, max_length: int = KEY_LENGTH, *, empty: bool = True) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{field}: expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ConfigError(f"{field}: must not contain NUL characters")
    if len(value) > max_length:
        raise ConfigError(f"{field}: at most {max_length} characters, got {len(value)}")
    if not empty and not value:
        raise ConfigError(f"{field}: must not be empty")
    return value


def optional_text(value: Any, field: str, max_length: int = KEY_LENGTH) -> str | None:
    return None if value is None else text(value, field, max_length)


def integer(value: Any, field: str, low: int = -_INT32 - 1, high: int = _INT32) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{field}: expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ConfigError(f"{field}: {value} is outside {low}..{high}")
    return value


def timestamp(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{field}: expected seconds since the epoch, got {type(value).__name__}")
    if not math.isfinite(value) or not 0 <= value < _LATEST_TIME:
        raise ConfigError(f"{field}: {value!r} is not a time in seconds since the epoch")
    return float(value)


def json_text(value: Any, field: str, max_length: int, kind: type | None = None) -> str:
    text(value, field, max_length)
    try:
        decoded = json.loads(value)
    except ValueError as e:
        raise ConfigError(f"{field}: not valid JSON ({e})") from e
    if kind is not None and not isinstance(decoded, kind):
        raise ConfigError(f"{field}: expected JSON {_json_name(kind)}, got {type(decoded).__name__}")
    return value


def one_of(value: Any, field: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    if value not in allowed:
        raise ConfigError(f"{field}: {value!r} is not one of: {', '.join(allowed)}")
    return value


def stored_value(value: Any, field: str) -> str | None:
    """A tag's or property's value as stored: text, or JSON of anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        shown = value
    elif isinstance(value, (bool, int, float)):
        shown = str(value)
    else:
        try:
            shown = json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{field}: {type(value).__name__} cannot be stored ({e})") from e
    return text(shown, field, VALUE_LENGTH)


def key_values(values: Any, field: str) -> dict[str, str | None]:
    if not isinstance(values, dict):
        raise ConfigError(f"{field}: expected a mapping of key -> value, got {type(values).__name__}")
    return {text(key, f"{field} key", empty=False): stored_value(value, f"{field}[{key!r}]")
            for key, value in values.items()}


# -- runs ----------------------------------------------------------------------------
def new_run(row: Any) -> dict[str, Any]:
    """A run row to create, checked; unknown fields (process fields among them) are refused."""
    if not isinstance(row, dict):
        raise ConfigError(f"run: expected a mapping of fields, got {type(row).__name__}")
    unknown = sorted(set(row) - CREATE_FIELDS)
    if unknown:
        raise ConfigError(f"run: fields {unknown} cannot be set when a run is created; allowed: "
                          f"{sorted(CREATE_FIELDS)}")
    missing = [f for f in ("run_id", "experiment", "run_type", "status") if row.get(f) is None]
    if missing:
        raise ConfigError(f"run: {', '.join(missing)} missing")
    ids.check_id(row["run_id"], "run_id")
    ids.check_experiment_name(row["experiment"], "experiment")
    one_of(row["run_type"], "run_type", RUN_TYPES)
    one_of(row["status"], "status", st.INITIAL)
    checks = {
        "parent_id": lambda v: ids.check_id(v, "parent_id"),
        "display_name": lambda v: text(v, "display_name"),
        "target": lambda v: text(v, "target"),
        "definition": lambda v: json_text(v, "definition", DEFINITION_LENGTH, dict),
        "environment_name": lambda v: text(v, "environment_name"),
        "environment_version": lambda v: text(v, "environment_version", 64),
        "environment_hash": lambda v: ids.check_sha256(v, "environment_hash"),
        "snapshot_hash": lambda v: ids.check_sha256(v, "snapshot_hash"),
        "start_time": lambda v: timestamp(v, "start_time"),
        "end_time": lambda v: timestamp(v, "end_time"),
        "exit_code": lambda v: integer(v, "exit_code"),
        "error": lambda v: text(v, "error", ERROR_LENGTH),
    }
    for field, check in checks.items():
        if row.get(field) is not None:
            check(row[field])
    return dict(row)


def run_update(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - UPDATABLE_RUN_FIELDS)
    if unknown:
        raise ConfigError(f"update_run: fields {unknown} cannot be changed this way; it changes "
                          f"{sorted(UPDATABLE_RUN_FIELDS)} (status: set_status, process fields: set_run_process)")
    if fields.get("display_name") is not None:
        text(fields["display_name"], "display_name")
    if fields.get("error") is not None:
        text(fields["error"], "error", ERROR_LENGTH)
    return fields


def run_process(host: Any, pids: dict[str, Any]) -> dict[str, Any]:
    values = {"host": text(host, "host", empty=False)}
    for field in ("supervisor_pid", "job_pid"):
        if pids.get(field) is not None:
            values[field] = integer(pids[field], field, 1, 2 ** 22)
    for field in ("supervisor_started", "job_started"):
        if pids.get(field) is not None:
            values[field] = timestamp(pids[field], field)
    return values


# -- metrics -------------------------------------------------------------------------
class MetricRow(TypedDict):
    """One logged value as the job side sends it; the kind's rules (``_metric_kind_rules``)
    are checked after the fields. The workspace server takes these rows as they are (its
    API's schema shows this type), and the store checks them again for its other callers.
    Checked by pydantic in one pass over a batch: a batch of 1,000 values costs about as
    much as parsing its JSON."""

    __pydantic_config__ = ConfigDict(strict=True, extra="forbid")  # type: ignore[misc]
    run_id: Annotated[str, StringConstraints(pattern=ids.ID_PATTERN)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=KEY_LENGTH, pattern=_NO_NUL)]
    kind: Literal[tuple(sorted(METRIC_KINDS))]  # type: ignore[valid-type]
    value_num: Annotated[Optional[Annotated[float, Field(allow_inf_nan=False)]],
                         Field(description="a number; null for a value kept as JSON in value_text")]
    value_text: Annotated[Optional[Annotated[str, StringConstraints(max_length=DEFINITION_LENGTH, pattern=_NO_NUL)]],
                          Field(description="JSON of a value that is not a plain number, or \"i\" for an "
                                            "integer value_num")]
    logged_at: Annotated[float, Field(ge=0, lt=_LATEST_TIME, allow_inf_nan=False,
                                      description="seconds since the epoch")]
    step: NotRequired[Optional[Annotated[int, Field(ge=-_INT32 - 1, le=_INT32)]]]
    description: NotRequired[Optional[Annotated[str, StringConstraints(max_length=VALUE_LENGTH, pattern=_NO_NUL)]]]


_KIND_SHAPES = {"list": list, "row": dict, "table": dict, "image": str}


def _metric_kind_rules(row: dict[str, Any]) -> dict[str, Any]:
    """What one field cannot say alone: where a kind keeps its value. Fills the optional
    fields, so every checked row has all of them."""
    kind, number, value_text = row["kind"], row["value_num"], row["value_text"]
    if kind == "scalar":
        if number is not None:
            if value_text is not None and value_text != "i":
                raise ValueError("value_text: a scalar with value_num has value_text null or \"i\"")
            if value_text == "i" and number != int(number):
                raise ValueError("value_num: an integer scalar (value_text \"i\") must be whole")
            row["value_num"] = float(number)
        elif value_text is None:
            raise ValueError("a scalar needs value_num or value_text")
        else:
            _decoded(value_text, "value_text", VALUE_LENGTH, (str, bool, float, int, type(None)))
    else:
        if number is not None:
            raise ValueError(f"value_num: a {kind} metric keeps its value in value_text")
        if value_text is None:
            raise ValueError(f"value_text: a {kind} metric keeps its value here, as JSON")
        _decoded(value_text, "value_text", DEFINITION_LENGTH, _KIND_SHAPES[kind])
    row.setdefault("step", None)
    row["description"] = row.get("description") or None
    return row


def _decoded(value: str, field: str, max_length: int, kind: type | tuple[type, ...]) -> None:
    if len(value) > max_length:
        raise ValueError(f"{field}: at most {max_length} characters, got {len(value)}")
    try:
        decoded = json.loads(value)
    except ValueError as e:
        raise ValueError(f"{field}: not valid JSON ({e})") from None
    if not isinstance(decoded, kind):
        raise ValueError(f"{field}: expected JSON {_json_name(kind)}, got {type(decoded).__name__}")


#: a metric row with its kind's rules: what the server's API takes and the store checks
CheckedMetricRow = Annotated[MetricRow, AfterValidator(_metric_kind_rules)]
_METRIC_ROWS: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[CheckedMetricRow])


def metric_rows(rows: Any) -> list[dict[str, Any]]:
    """Metric rows as the job side writes them, each checked so that it reads back: new
    dicts, every field present, ``value_num`` a float."""
    if not isinstance(rows, list):
        raise ConfigError(f"rows: expected a list of metric rows, got {type(rows).__name__}")
    try:
        return _METRIC_ROWS.validate_python(rows)
    except ValidationError as e:
        raise ConfigError(validation_message(e, "metric rows", rows)) from None


def metric_row(row: Any, where: str) -> dict[str, Any]:
    """One metric row, checked as ``metric_rows`` checks each (``where`` names it in errors)."""
    try:
        return _METRIC_ROWS.validate_python([row])[0]
    except ValidationError as e:
        raise ConfigError(validation_message(e, where, [row]).replace("field '0.", "field '").replace(
            "field '0'", "field '(row)'")) from None


# -- assets --------------------------------------------------------------------------
def asset(kind: Any, name: Any, spec: Any, content_hash: Any, asset_id: Any, state: Any) -> None:
    one_of(kind, "kind", ASSET_KINDS)
    ids.check_asset_name(name, "name")
    spec_json(spec)
    from . import asset_specs  # its pydantic models cost a job's start ~0.15 s: built when an asset is written
    asset_specs.check_spec(kind, spec)
    if content_hash is not None:
        ids.check_sha256(content_hash, "content_hash")
    if asset_id is not None:
        ids.check_id(asset_id, "asset_id")
    one_of(state, "state", ASSET_STATES)


#: the fields of an item of ``register_assets``
ASSET_ITEM_FIELDS = frozenset({"name", "spec", "content_hash", "run_id"})


def asset_items(kind: Any, items: Any) -> list[dict[str, Any]]:
    """The items of ``register_assets``, each checked as ``asset`` checks one (an error names
    the item: ``assets[3]: ...``); each with its spec's JSON text as ``spec_text``."""
    one_of(kind, "kind", ASSET_KINDS)
    if not isinstance(items, list):
        raise ConfigError(f"assets: expected a list of assets, got {type(items).__name__}")
    checked = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ConfigError(f"expected a mapping with {', '.join(sorted(ASSET_ITEM_FIELDS))}, "
                                  f"got {type(item).__name__}")
            unknown = sorted(set(item) - ASSET_ITEM_FIELDS)
            if unknown:
                raise ConfigError(f"unknown field(s) {', '.join(map(repr, unknown))}; an asset has "
                                  f"{', '.join(sorted(ASSET_ITEM_FIELDS))}")
            asset(kind, item.get("name"), item.get("spec"), item.get("content_hash"), None, "active")
            if item.get("run_id") is not None:
                ids.check_id(item["run_id"], "run_id")
        except ConfigError as e:
            raise ConfigError(f"assets[{index}]: {e}") from None
        checked.append({"name": item["name"], "spec_text": spec_json(item["spec"]),
                        "content_hash": item.get("content_hash"), "run_id": item.get("run_id")})
    return checked


def spec_json(spec: Any) -> str:
    if not isinstance(spec, dict):
        raise ConfigError(f"spec: expected a mapping, got {type(spec).__name__}")
    try:
        encoded = json.dumps(spec, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"spec: not JSON ({e})") from e
    return text(encoded, "spec", DEFINITION_LENGTH)


def version(value: Any, field: str = "version") -> int:
    return integer(value, field, 1)


def _json_name(kind: Any) -> str:
    if isinstance(kind, tuple):
        return "scalar"
    return {list: "array", dict: "object", str: "string"}.get(kind, kind.__name__)
