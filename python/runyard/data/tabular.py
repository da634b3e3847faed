"""Tabular files: checked when a dataset is made or registered (without pandas), read into a
pandas DataFrame by ``to_pandas_dataframe`` (pandas, and pyarrow for Parquet).

A format is a dict stored with the dataset: ``{"kind": "delimited", "separator": ",",
"header": true, "encoding": "utf8", "include_path": false}`` or ``{"kind": "parquet",
"include_path": false}``.
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any, Iterable

from ..errors import ConfigError, missing_dependency

#: bytes of each delimited file read to check it (the whole file when shorter)
HEAD_BYTES = 64 * 1024
_PARQUET_MAGIC = b"PAR1"


def delimited_format(separator: str, header: bool, encoding: str, include_path: bool) -> dict[str, Any]:
    if not isinstance(separator, str) or len(separator) != 1:
        raise ConfigError(f"from_delimited_files: separator must be one character, got {separator!r}")
    if not isinstance(header, bool):
        raise ConfigError(f"from_delimited_files: header must be True or False, got {header!r}")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ConfigError(f"from_delimited_files: unknown encoding {encoding!r}") from None
    return {"kind": "delimited", "separator": separator, "header": header, "encoding": encoding,
            "include_path": bool(include_path)}


def parquet_format(include_path: bool) -> dict[str, Any]:
    return {"kind": "parquet", "include_path": bool(include_path)}


def check(format: dict[str, Any], files: Iterable[tuple[str, Any]]) -> None:
    """Check each file parses as ``format`` (its start, for delimited files); ``files`` are
    (path shown in messages, a function opening the file in binary)."""
    first_header: tuple[list[str], str] | None = None
    for shown, opener in files:
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
        text = codecs.getincrementaldecoder(format["encoding"])().decode(head, final=not truncated)
    except UnicodeDecodeError as e:
        raise ConfigError(f"tabular file {shown} is not {format['encoding']} text (byte {e.start}): "
                          f"{e.reason}") from None
    if truncated:  # the last line may be cut short
        text = text[:text.rfind("\n") + 1] if "\n" in text else text
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=format["separator"]),
                                                       start=1) if row]
    if not rows:
        raise ConfigError(f"tabular file {shown} is empty")
    width = len(rows[0][1])
    for number, row in rows[1:]:
        if len(row) != width:
            what = "the header" if format["header"] else "its first row"
            raise ConfigError(f"tabular file {shown}, line {number}: {len(row)} fields where {what} has {width} "
                              f"(separator {format['separator']!r})")
    return rows[0][1]


def read(format: dict[str, Any], files: Iterable[tuple[str, str, bytes]]) -> Any:
    """One DataFrame of every file: ``files`` are (path in the dataset, path shown, bytes)."""
    try:
        import pandas
    except ModuleNotFoundError as e:
        raise missing_dependency("pandas", "data") from e
    frames = []
    for relative, shown, data in files:
        frame = _parse(pandas, format, shown, data)
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
    try:
        frame = pandas.read_csv(io.BytesIO(data), sep=format["separator"], encoding=format["encoding"],
                                header=0 if format["header"] else None)
    except (ValueError, UnicodeDecodeError, pandas.errors.ParserError) as e:
        raise ConfigError(f"tabular file {shown} cannot be parsed as delimited text: {e}") from e
    if not format["header"]:
        frame.columns = [f"Column{i + 1}" for i in range(len(frame.columns))]
    return frame
