"""The job of an ``RFunctionStep``: R run inside this Python process through rpy2.

``RFunctionStep`` writes the command line, the pipeline's driver fills in the folders and
parameters, and the job runs it in the step's working folder, in the job's own Python::

    python -m runyard.pipeline._rfunction --script model.R [--function fit]
        [--input NAME FOLDER]...      an input, passed to the function as argument NAME
        [--output NAME FOLDER]...     an output the result is written to
        [--arg NAME KIND VALUE]...    a further argument (NAME empty: positional); KIND is
                                      json (a literal), str/int/float/bool (a pipeline parameter),
                                      input (step data) or path (an output's folder)

An input folder holding one file is read: a .parquet or .csv table becomes an R
data.frame (through pandas, in memory), a .rds file its R object, a .json file its value;
any other input is passed as its folder's path. The result goes to the outputs: a
data.frame as ``data.parquet`` (``data.csv`` without pyarrow), another value as
``value.json`` or, when JSON cannot hold it (a fitted model, say), ``value.rds``. With
several outputs the result is a named list with one element per output.

An R error ends the job with exit code 1 after printing R's traceback and, last,
R's message (``Error in check(d) : bad column``), which the run's error then starts with.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

_TABLE_SUFFIXES = (".parquet", ".csv")


class _StepError(Exception):
    """The step cannot go on; its message is the run's error."""


class _Options:
    def __init__(self) -> None:
        self.script = ""
        self.function: str | None = None
        self.inputs: list[tuple[str, str]] = []
        self.outputs: list[tuple[str, str]] = []
        self.arguments: list[tuple[str | None, str, str]] = []


def _parse(argv: list[str]) -> _Options:
    """By hand: a value may start with '-' (a parameter's text), which argparse would take for an option."""
    options = _Options()
    counts = {"--script": 1, "--function": 1, "--input": 2, "--output": 2, "--arg": 3}
    index = 0
    while index < len(argv):
        flag = argv[index]
        if flag not in counts or index + counts[flag] >= len(argv):
            raise _StepError(f"runyard.pipeline._rfunction: cannot read the command line at {flag!r}")
        values = argv[index + 1:index + 1 + counts[flag]]
        index += 1 + counts[flag]
        if flag == "--script":
            options.script = values[0]
        elif flag == "--function":
            options.function = values[0]
        elif flag == "--input":
            options.inputs.append((values[0], values[1]))
        elif flag == "--output":
            options.outputs.append((values[0], values[1]))
        else:
            options.arguments.append((values[0] or None, values[1], values[2]))
    if not options.script:
        raise _StepError("runyard.pipeline._rfunction: --script is missing")
    return options


def main(argv: list[str]) -> int:
    try:
        options = _parse(argv)
    except _StepError as e:
        return _fail(str(e))
    try:
        from .. import rbridge
    except ImportError as e:
        return _fail(f"an RFunctionStep runs R through rpy2 and pandas in the job's Python ({sys.executable}), "
                     f"and importing them failed: {e}. Install them with: pip install \"runyard[r]\"")
    what = f"{options.function}() of {options.script}" if options.function else options.script
    _say(f"{rbridge.versions()}; running {what} in this Python process ({sys.executable})")
    try:
        return _run(rbridge, options, what)
    finally:
        rbridge.shutdown()


def _run(rbridge: Any, options: _Options, what: str) -> int:
    try:
        arguments = [(name, _read_input(rbridge, name, folder)) for name, folder in options.inputs]
        arguments += [(name, _argument(rbridge, name, kind, value)) for name, kind, value in options.arguments]
        if options.function is None:
            _, result = rbridge.source(options.script, variables=dict(arguments))
        else:
            envir, _ = rbridge.source(options.script)
            if not rbridge.defines_function(envir, options.function):
                defined = ", ".join(rbridge.function_names(envir)) or "none"
                raise _StepError(f"{options.script} defines no function {options.function!r} "
                                 f"(the functions it defines: {defined})")
            result = rbridge.call(envir, options.function, arguments, context=f"{what} failed:")
        _write_outputs(rbridge, result, options.outputs, what)
    except rbridge.RError as e:
        sys.stdout.flush()
        print(e.report(), file=sys.stderr, flush=True)
        return 1
    except _StepError as e:
        return _fail(str(e))
    return 0


def _say(message: str) -> None:
    print(f"runyard: {message}", flush=True)


def _fail(message: str) -> int:
    """The last line of the log, which the run's error starts with."""
    sys.stdout.flush()
    print(f"Error: {message}", file=sys.stderr, flush=True)
    return 1


# -- inputs and arguments --------------------------------------------------------------
def _read_input(rbridge: Any, name: str, folder: str) -> Any:
    path = Path(folder)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    if len(files) == 1:
        file = files[0]
        suffix = file.suffix.lower()
        if suffix in _TABLE_SUFFIXES:
            frame = _read_table(file)
            _say(f"input {name!r}: {file} as a data.frame ({len(frame)} rows, {len(frame.columns)} columns)")
            return rbridge.to_r(frame)
        if suffix == ".rds":
            _say(f"input {name!r}: {file} as the R object it holds")
            return rbridge.read_rds(file)
        if suffix == ".json":
            _say(f"input {name!r}: {file} as the value it holds")
            return rbridge.read_json(file)
    _say(f"input {name!r}: the folder {path} (its path)")
    return rbridge.to_r(str(path.resolve()))


def _read_table(file: Path) -> Any:
    import pandas as pd
    try:
        return pd.read_parquet(file) if file.suffix.lower() == ".parquet" else pd.read_csv(file)
    except ImportError as e:
        raise _StepError(f"reading {file} needs a parquet reader: pip install pyarrow ({e})") from e
    except Exception as e:
        raise _StepError(f"could not read {file} as a table: {type(e).__name__}: {e}") from e


def _argument(rbridge: Any, name: str | None, kind: str, text: str) -> Any:
    if kind == "input":
        return _read_input(rbridge, name or Path(text).name, text)
    if kind == "path":
        return rbridge.to_r(str(Path(text).resolve()))
    if kind == "json":
        return rbridge.to_r(json.loads(text))
    converters = {"str": str, "int": int, "float": float, "bool": lambda t: t == "True"}
    if kind not in converters:
        raise _StepError(f"runyard.pipeline._rfunction: unknown argument kind {kind!r}")
    return rbridge.to_r(converters[kind](text))


# -- the result ------------------------------------------------------------------------
def _write_outputs(rbridge: Any, result: Any, outputs: list[tuple[str, str]], what: str) -> None:
    if not outputs:
        if rbridge.kind(result) != "null":
            _say(f"{what} returned {rbridge.describe(result)}; the step has no output to keep it in")
        return
    names = [name for name, _ in outputs]
    parts = rbridge.list_names(result)
    if parts is not None and sorted(parts) == sorted(names):
        values = {name: rbridge.element(result, name) for name in names}
    elif len(names) == 1:
        values = {names[0]: result}
    else:
        wanted = ", ".join(f"{name} = ..." for name in names)
        raise _StepError(f"{what} returned {rbridge.describe(result)}; a step with the outputs "
                         f"{', '.join(map(repr, names))} needs a named list with one element per output: "
                         f"list({wanted})")
    for name, folder in outputs:
        _write_value(rbridge, values[name], name, Path(folder))


def _write_value(rbridge: Any, value: Any, name: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    kind = rbridge.kind(value)
    if kind == "null":
        _say(f"output {name!r}: NULL, nothing written")
        return
    if kind == "table":
        try:
            frame = rbridge.to_pandas(value)
        except TypeError as e:
            raise _StepError(f"output {name!r}: {e}") from e
        if importlib.util.find_spec("pyarrow") is not None:
            path = folder / "data.parquet"
            frame.to_parquet(path)
        else:
            import pandas as pd
            path = folder / "data.csv"
            frame.to_csv(path, index=not isinstance(frame.index, pd.RangeIndex))
        _say(f"output {name!r}: {path} ({len(frame)} rows, {len(frame.columns)} columns)")
        return
    path = folder / ("value.json" if kind == "json" else "value.rds")
    (rbridge.write_json if kind == "json" else rbridge.write_rds)(value, path)
    _say(f"output {name!r}: {path} ({rbridge.describe(value)})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
