"""Tabular files: checked when a dataset is made or registered (without pandas), read into a
pandas DataFrame by ``to_pandas_dataframe`` (pandas, and pyarrow for Parquet).

A format is a dict stored with the dataset, so a registered version reads as it was made:
``{"kind": "delimited", "separator": ",", "header": true, "encoding": "utf8", "include_path":
false, "support_multi_line": false}`` or ``{"kind": "parquet", "include_path": false}``, plus
each other option given a value other than its default (``infer_column_types``,
``empty_as_string``, ``set_column_types``, ``partition_format``). A delimited format stored
before ``support_multi_line`` existed has none, and reads quoted line breaks as runyard did
then; registering its files again with today's default finds that version (``identity``).
Azure's names of encodings Python spells otherwise (``windows1252``) are stored as Python's
(``cp1252``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime
from typing import Any, Iterable

from ..errors import ConfigError, missing_dependency

#: bytes of each delimited file read to check it (the whole file when shorter)
HEAD_BYTES = 64 * 1024
_PARQUET_MAGIC = b"PAR1"
#: Azure ML's encoding names that Python spells otherwise
_ENCODINGS = {"iso88591": "latin-1", "utf8bom": "utf-8-sig", "windows1252": "cp1252"}
#: the options' defaults, which a stored format leaves out
_DEFAULTS = {"infer_column_types": True, "empty_as_string": False, "set_column_types": None,
             "partition_format": None}


class DataType:
    """A column type for ``set_column_types`` (Azure ML's ``DataType``).

    >>> DataType.to_datetime(["%d/%m/%Y"]).spec
    {'type': 'datetime', 'formats': ['%d/%m/%Y']}
    """

    _TYPES = ("string", "long", "float", "bool", "datetime")

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec

    @staticmethod
    def to_string() -> "DataType":
        return DataType({"type": "string"})

    @staticmethod
    def to_long() -> "DataType":
        """Whole numbers (pandas' nullable ``Int64``); a value with a fraction is an error."""
        return DataType({"type": "long"})

    @staticmethod
    def to_float(decimal_mark: str = ".") -> "DataType":
        if decimal_mark not in (".", ","):
            raise ConfigError(f"DataType.to_float: decimal_mark must be '.' or ',', got {decimal_mark!r}")
        return DataType({"type": "float", "decimal_mark": decimal_mark})

    @staticmethod
    def to_bool(true_values: list[str] | None = None, false_values: list[str] | None = None,
                mismatch_as: str = "error") -> "DataType":
        """``true_values``/``false_values`` (default ``True true 1`` / ``False false 0``); any
        other value is an error, or with ``mismatch_as`` ``"true"``/``"false"`` that value."""
        if mismatch_as not in ("error", "true", "false"):
            raise ConfigError(f"DataType.to_bool: mismatch_as must be 'error', 'true' or 'false', got {mismatch_as!r}")
        return DataType({"type": "bool", "true_values": [str(v) for v in true_values or ["True", "true", "1"]],
                         "false_values": [str(v) for v in false_values or ["False", "false", "0"]],
                         "mismatch_as": mismatch_as})

    @staticmethod
    def to_datetime(formats: str | list[str] | None = None) -> "DataType":
        """Dates and times in one of ``formats`` (``strftime`` codes, tried in order), or in
        any format pandas recognises without one."""
        formats = [formats] if isinstance(formats, str) else list(formats or [])
        if not all(isinstance(f, str) for f in formats):
            raise ConfigError("DataType.to_datetime: formats must be text like '%Y-%m-%d'")
        return DataType({"type": "datetime", "formats": formats})

    def __repr__(self) -> str:
        return f"DataType({self.spec!r})"


def delimited_format(separator: str, header: bool, encoding: str, include_path: bool, *,
                     infer_column_types: bool = True, set_column_types: Any = None,
                     partition_format: str | None = None, support_multi_line: bool = False,
                     empty_as_string: bool = False, where: str = "from_delimited_files") -> dict[str, Any]:
    if not isinstance(separator, str) or len(separator) != 1:
        raise ConfigError(f"{where}: separator must be one character, got {separator!r}")
    for name, value in (("header", header), ("include_path", include_path), ("infer_column_types", infer_column_types),
                        ("support_multi_line", support_multi_line), ("empty_as_string", empty_as_string)):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {name} must be True or False, got {value!r}")
    try:
        codecs.lookup(_ENCODINGS.get(encoding, encoding))
    except (LookupError, TypeError):
        raise ConfigError(f"{where}: unknown encoding {encoding!r} (Azure's names work too: utf8, iso88591, "
                          f"latin1, ascii, utf16, utf32, utf8bom, windows1252)") from None
    return _without_defaults({
        "kind": "delimited", "separator": separator, "header": header,
        "encoding": _ENCODINGS.get(encoding, encoding), "include_path": include_path,
        "infer_column_types": infer_column_types, "support_multi_line": support_multi_line,
        "empty_as_string": empty_as_string, "set_column_types": column_types(set_column_types, where),
        "partition_format": _partition_format(partition_format, where)})


def parquet_format(include_path: bool, *, set_column_types: Any = None, partition_format: str | None = None,
                   where: str = "from_parquet_files") -> dict[str, Any]:
    if not isinstance(include_path, bool):
        raise ConfigError(f"{where}: include_path must be True or False, got {include_path!r}")
    return _without_defaults({"kind": "parquet", "include_path": include_path,
                              "set_column_types": column_types(set_column_types, where),
                              "partition_format": _partition_format(partition_format, where)})


def _without_defaults(format: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in format.items() if k not in _DEFAULTS or v != _DEFAULTS[k]}


def identity(format: dict[str, Any] | None) -> dict[str, Any] | None:
    """What of ``format`` keys a registered version: ``support_multi_line=False`` left out, so
    a version stored before the option existed is found again by content."""
    if not format or format.get("support_multi_line") is not False:
        return format
    return {k: v for k, v in format.items() if k != "support_multi_line"}


def column_types(value: Any, where: str) -> dict[str, dict[str, Any]] | None:
    """``set_column_types`` as stored: column name -> a ``DataType``'s spec (a type's name,
    ``"long"``, stands for its default ``DataType``)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: set_column_types must be a dict of column name -> DataType, got {value!r}")
    found = {}
    for column, kind in value.items():
        if isinstance(kind, str) and kind in DataType._TYPES:
            kind = getattr(DataType, f"to_{kind}")()
        if isinstance(kind, dict) and kind.get("type") in DataType._TYPES:
            kind = DataType(kind)
        if not isinstance(column, str) or not isinstance(kind, DataType):
            raise ConfigError(f"{where}: set_column_types[{column!r}] must be a DataType (DataType.to_long(), ...) "
                              f"or one of {', '.join(DataType._TYPES)}, got {kind!r}")
        found[column] = kind.spec
    return found


def check(format: dict[str, Any], files: Iterable[tuple[str, str, Any]]) -> None:
    """Check each file parses as ``format`` (its start, for delimited files) and its path
    matches the partition format; ``files`` are (the file's full path, path shown in messages,
    a function opening the file in binary)."""
    first_header: tuple[list[str], str] | None = None
    for full, shown, opener in files:
        partition_values(format, full, shown)
        with opener() as fh:
            if format["kind"] == "parquet":
                _check_parquet(shown, fh)
                continue
            head = fh.read(HEAD_BYTES + 1)
        header = _check_delimited(shown, head[:HEAD_BYTES], format, truncated=len(head) > HEAD_BYTES)
        if not format["header"]:
            continue
        if first_header is None:
            first_header = (header, shown)
        elif header != first_header[0]:
            raise ConfigError(f"tabular file {shown}: its columns {header} differ from those of "
                              f"{first_header[1]} {first_header[0]}; the files of one dataset share columns")


def _check_parquet(shown: str, fh: Any) -> None:
    start = fh.read(4)
    try:
        fh.seek(-4, io.SEEK_END)
        end = fh.read(4)
    except (OSError, ValueError):
        end = b""
    if start != _PARQUET_MAGIC or end != _PARQUET_MAGIC:
        raise ConfigError(f"tabular file {shown} is not a Parquet file (it does not start and end with 'PAR1')")


def _check_delimited(shown: str, head: bytes, format: dict[str, Any], *, truncated: bool) -> list[str]:
    try:
        text = codecs.getincrementaldecoder(_codec(format))().decode(head, final=not truncated)
    except UnicodeDecodeError as e:
        raise ConfigError(f"tabular file {shown} is not {format['encoding']} text (byte {e.start}): "
                          f"{e.reason}") from None
    if truncated:  # the last line may be cut short
        text = text[:text.rfind("\n") + 1] if "\n" in text else text
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=format["separator"]),
                                                       start=1) if row]
    if not rows:
        raise ConfigError(f"tabular file {shown} is empty")
    if not format.get("support_multi_line", True):
        for number, row in rows:
            if any("\n" in field or "\r" in field for field in row):
                raise ConfigError(_multi_line_message(shown, f"the record from line {number}"))
    width = len(rows[0][1])
    for number, row in rows[1:]:
        if len(row) != width:
            what = "the header" if format["header"] else "its first row"
            raise ConfigError(f"tabular file {shown}, line {number}: {len(row)} fields where {what} has {width} "
                              f"(separator {format['separator']!r})")
    return rows[0][1]


def read(format: dict[str, Any], files: Iterable[tuple[str, str, str, bytes]]) -> Any:
    """One DataFrame of every file: ``files`` are (path in the dataset, the file's full path,
    path shown, bytes)."""
    try:
        import pandas
    except ModuleNotFoundError as e:
        raise missing_dependency("pandas", "data") from e
    frames = []
    for relative, full, shown, data in files:
        frame = _parse(pandas, format, shown, data)
        frame = _set_types(pandas, frame, format.get("set_column_types"), shown)
        for column, value in partition_values(format, full, shown).items():
            if column in frame.columns:
                raise ConfigError(f"tabular file {shown}: partition_format names column {column!r}, which the "
                                  f"file has too; name the partition column otherwise")
            frame[column] = value
        if format.get("include_path"):
            frame.insert(0, "Path", "/" + relative)
        frames.append(frame)
    if not frames:
        return pandas.DataFrame()
    return frames[0] if len(frames) == 1 else pandas.concat(frames, ignore_index=True)


def _parse(pandas: Any, format: dict[str, Any], shown: str, data: bytes) -> Any:
    if format["kind"] == "parquet":
        try:
            return pandas.read_parquet(io.BytesIO(data))
        except ImportError as e:
            raise missing_dependency("pyarrow", "data") from e
        except Exception as e:  # pyarrow's errors have no common base worth naming
            raise ConfigError(f"tabular file {shown} cannot be read as Parquet: {e}") from e
    options: dict[str, Any] = {"sep": format["separator"], "header": 0 if format["header"] else None,
                               "encoding": _codec(format)}
    typed = format.get("set_column_types") or {}
    if not format.get("infer_column_types", True):
        options["dtype"] = str
    elif typed:  # read as text what is converted below, so the conversion sees what the file says
        options["dtype"] = {(int(c[len("Column"):]) - 1 if not format["header"] and re.fullmatch(r"Column\d+", c)
                             else c): str for c in typed}
    if format.get("empty_as_string"):
        from pandas._libs.parsers import STR_NA_VALUES
        options.update(keep_default_na=False, na_values=sorted(STR_NA_VALUES - {""}))
    try:
        frame = pandas.read_csv(io.BytesIO(data), **options)
    except (ValueError, UnicodeDecodeError, pandas.errors.ParserError) as e:
        raise ConfigError(f"tabular file {shown} cannot be parsed as delimited text: {e}") from e
    if not format["header"]:
        frame.columns = [f"Column{i + 1}" for i in range(len(frame.columns))]
    text_columns = [c for c in frame.columns if _is_text(pandas, frame[c])]
    if not format.get("support_multi_line", True):
        for column in text_columns:
            broken = frame[column].str.contains("[\r\n]", regex=True, na=False)
            if broken.any():
                raise ConfigError(_multi_line_message(shown, f"column {column!r}, row {int(broken.idxmax()) + 1}"))
    if format.get("empty_as_string") and format.get("infer_column_types", True):
        for column in text_columns:  # empty fields kept a column of numbers as text: numbers, empties null
            if column not in typed and (frame[column] == "").any():
                try:
                    frame[column] = pandas.to_numeric(frame[column].replace("", None))
                except (ValueError, TypeError):
                    pass
    return frame


def _codec(format: dict[str, Any]) -> str:
    return _ENCODINGS.get(format["encoding"], format["encoding"])


def _is_text(pandas: Any, column: Any) -> bool:
    return column.dtype == object or pandas.api.types.is_string_dtype(column.dtype)


def _multi_line_message(shown: str, where: str) -> str:
    return (f"tabular file {shown}: {where} holds a quoted line break, which the dataset reads as the end of "
            f"a record (support_multi_line=False, Azure's default); pass support_multi_line=True to read "
            f"values that span lines")


# -- set_column_types ----------------------------------------------------------------------------
def _set_types(pandas: Any, frame: Any, types: dict[str, dict[str, Any]] | None, shown: str) -> Any:
    for column, spec in (types or {}).items():
        if column not in frame.columns:
            raise ConfigError(f"tabular file {shown}: set_column_types names column {column!r}, which it does not "
                              f"have (columns: {', '.join(map(str, frame.columns))})")
        try:
            frame[column] = _convert(pandas, frame[column], spec)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"tabular file {shown}: column {column!r} cannot be read as {spec['type']}: "
                              f"{str(e).splitlines()[0]}") from None
    return frame


def _convert(pandas: Any, column: Any, spec: dict[str, Any]) -> Any:
    missing = column.isna()
    kind = spec["type"]
    if kind == "string":
        return column.map(lambda v: v if v is None or v != v else str(v)).astype(object)
    if kind in ("long", "float"):
        values = column
        if _is_text(pandas, column):
            values = column.str.strip()
            if spec.get("decimal_mark") == ",":
                values = values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            values = values.replace("", None)
        numbers = pandas.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            raise ValueError(f"{column[bad].iloc[0]!r} is not a number")
        if kind == "float":
            return numbers.astype("float64")
        fractional = numbers.notna() & (numbers % 1 != 0)
        if fractional.any():
            raise ValueError(f"{column[fractional].iloc[0]!r} is not a whole number")
        return numbers.astype("Int64")
    if kind == "bool":
        truths, falses = set(spec["true_values"]), set(spec["false_values"])

        def to_bool(value: Any) -> Any:
            if value is None or value != value:
                return None
            text = str(value)
            if text in truths or text.lower() in {t.lower() for t in truths}:
                return True
            if text in falses or text.lower() in {f.lower() for f in falses}:
                return False
            if spec["mismatch_as"] == "error":
                raise ValueError(f"{value!r} is none of {sorted(truths)} or {sorted(falses)}")
            return spec["mismatch_as"] == "true"
        return column.map(to_bool).astype("boolean")
    formats = spec.get("formats") or []
    if not formats:
        return pandas.to_datetime(column, format="mixed")
    result = pandas.Series(pandas.NaT, index=column.index, dtype="datetime64[ns]")
    for fmt in formats:
        left = result.isna() & ~missing
        if not left.any():
            break
        result[left] = pandas.to_datetime(column[left], format=fmt, errors="coerce")
    unparsed = result.isna() & ~missing
    if unparsed.any():
        raise ValueError(f"{column[unparsed].iloc[0]!r} matches none of the formats {formats}")
    return result


# -- partition_format ----------------------------------------------------------------------------
_PART_RE = re.compile(r"\{([^{}:]+)(?::([^{}]+))?\}")
_DATE_CODES = {"yyyy": (r"\d{4}", "%Y"), "MM": (r"\d{2}", "%m"), "dd": (r"\d{2}", "%d"), "HH": (r"\d{2}", "%H"),
               "mm": (r"\d{2}", "%M"), "ss": (r"\d{2}", "%S")}


def _partition_format(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _PART_RE.search(value):
        raise ConfigError(f"{where}: partition_format must be text naming at least one column, like "
                          f"'/{{Department}}/{{PartitionDate:yyyy/MM/dd}}/data.csv', got {value!r}")
    _partition_pattern(value, where)
    return value


def _partition_pattern(text: str, where: str = "partition_format") -> tuple[re.Pattern, dict[str, str | None]]:
    """The regular expression a file's path must end with, and each column's date format
    (``strptime`` codes; None for a text column)."""
    pattern, columns, at = "", {}, 0
    for match in _PART_RE.finditer(text):
        pattern += _literal(text[at:match.start()])
        name, date = match.group(1).strip(), match.group(2)
        if name in columns or not name:
            raise ConfigError(f"{where}: partition_format {text!r} names column {name!r} twice" if name else
                              f"{where}: partition_format {text!r} has an empty column name")
        group = f"p{len(columns)}"
        if date is None:
            pattern += f"(?P<{group}>[^/]+)"
            columns[name] = None
        else:
            parts = re.split(r"(yyyy|MM|dd|HH|mm|ss)", date)
            pattern += f"(?P<{group}>" + "".join(_DATE_CODES[p][0] if p in _DATE_CODES else re.escape(p)
                                                for p in parts) + ")"
            columns[name] = "".join(_DATE_CODES[p][1] if p in _DATE_CODES else p.replace("%", "%%") for p in parts)
        at = match.end()
    pattern += _literal(text[at:])
    prefix = "" if text.startswith("/") else "(?:^|/)"
    return re.compile(prefix + pattern + "$"), columns


def _literal(text: str) -> str:
    """Literal path text of a partition format; ``*`` matches within a folder, ``**`` across."""
    return ".*".join("[^/]*".join(re.escape(p) for p in part.split("*")) for part in text.split("**"))


def partition_columns(format: dict[str, Any] | None) -> list[str]:
    """The columns ``partition_format`` takes from each file's path, in its order."""
    text = (format or {}).get("partition_format")
    return list(_partition_pattern(text)[1]) if text else []


def partition_values(format: dict[str, Any], full: str, shown: str) -> dict[str, Any]:
    """The partition columns of the file at ``full`` (its path or URL): column -> value."""
    text = format.get("partition_format")
    if not text:
        return {}
    pattern, columns = _partition_pattern(text)
    match = pattern.search(full.replace("\\", "/"))
    if match is None:
        raise ConfigError(f"tabular file {shown}: its path {full!r} does not end as partition_format {text!r}")
    values = {}
    for index, (name, date) in enumerate(columns.items()):
        raw = match.group(f"p{index}")
        values[name] = raw if date is None else datetime.strptime(raw, date)
    return values
