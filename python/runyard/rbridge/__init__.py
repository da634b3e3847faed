"""R inside this Python process, through rpy2: everything in runyard that imports rpy2.

Nothing imports this package when ``runyard`` is imported; ``RFunctionStep``'s job
(``runyard.pipeline._rfunction``) does. pandas DataFrames become R data.frames in
memory (rpy2's pandas2ri converter) and back (column by column, so R's ``NA`` becomes
pandas' missing value, not an rpy2 sentinel). An R error is raised as ``RError`` with
R's message and the R calls that led to it; the Python process goes on.

>>> from runyard import rbridge  # doctest: +SKIP
>>> script = rbridge.source("model.R")  # doctest: +SKIP
>>> coefs = rbridge.call(script, "fit", [("data", rbridge.to_r(frame))])  # doctest: +SKIP
>>> rbridge.to_pandas(coefs)  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rpy2
import rpy2.rinterface as ri
import rpy2.rinterface_lib.callbacks as _callbacks
import rpy2.robjects as ro
from rpy2.robjects import pandas2ri

from ..errors import RunyardError

#: deepest calls of an R traceback shown (R's own traceback() shows them all)
TRACEBACK_CALLS = 25


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


# R's message() and warnings go to stderr as R wrote them (rpy2 logs them through `logging`).
_callbacks.consolewrite_warnerror = _to_stderr

_HELPERS = r"""
local({
  enter <- function(expr, envir) eval(expr, envir)

  describe <- function(call) {
    if (is.null(call)) return("")
    text <- paste(deparse(call, width.cutoff = 500L, nlines = 1L), collapse = "")
    if (nchar(text) > 200L) text <- paste0(substr(text, 1L, 197L), "...")
    text
  }

  # Evaluate holder[[1]] in envir; an error comes back as a value (message, call, R traceback)
  # instead of unwinding into Python. Warnings are printed when they happen. (The expression
  # comes inside a list: given as an argument from Python it would be evaluated on the way in.)
  guard <- function(holder, envir) {
    trace <- character()
    tryCatch(
      list(ok = TRUE, value = withCallingHandlers(
        enter(holder[[1L]], envir),
        warning = function(w) {
          call <- describe(conditionCall(w))
          message(if (nzchar(call)) paste0("Warning in ", call, " : ") else "Warning: ", conditionMessage(w))
          invokeRestart("muffleWarning")
        },
        error = function(e) {
          last <- sys.nframe() - 1L  # this handler's own frame is not part of the story
          calls <- sys.calls()[seq_len(last)]
          start <- 0L
          for (i in seq_len(last)) if (identical(sys.function(i), enter)) start <- i
          keep <- seq_along(calls) > start
          for (i in seq_along(calls)) {
            text <- describe(calls[[i]])
            if (text %in% c("eval(expr, envir)", "eval(expr, envir, enclos)") && i <= start + 2L) keep[i] <- FALSE
            if (startsWith(text, ".handleSimpleError(")) keep[i] <- FALSE
          }
          trace <<- vapply(calls[keep], function(call) {
            where <- attr(call, "srcref")
            at <- if (is.null(where)) "" else
              paste0(" at ", basename(getSrcFilename(where)), "#", where[[1L]])
            paste0(describe(call), at)
          }, character(1))
        })),
      error = function(e) list(ok = FALSE, message = conditionMessage(e),
                               call = describe(conditionCall(e)), traceback = trace))
  }

  json_ok <- function(x) {
    if (is.null(x) || is.data.frame(x)) return(TRUE)
    classes <- setdiff(class(x), c("matrix", "array", "factor", "Date", "POSIXct", "POSIXt",
                                   "numeric", "integer", "character", "logical", "list"))
    if (length(classes) || !(is.atomic(x) || is.list(x))) return(FALSE)
    if (is.list(x)) all(vapply(x, json_ok, logical(1))) else TRUE
  }

  kind <- function(x) {
    if (is.null(x)) "null" else if (is.data.frame(x)) "table" else if (json_ok(x)) "json" else "rds"
  }

  # named atomic vectors keep their names in JSON (as an object)
  named_as_lists <- function(x) {
    if (is.data.frame(x)) return(x)
    if (is.atomic(x) && !is.null(names(x)) && is.null(dim(x))) return(as.list(x))
    if (is.list(x)) x[] <- lapply(x, named_as_lists)
    x
  }

  write_json <- function(x, path) {
    text <- jsonlite::toJSON(named_as_lists(x), auto_unbox = TRUE, digits = NA, null = "null",
                             na = "null", dataframe = "rows", pretty = TRUE)
    writeLines(text, path, useBytes = TRUE)
  }

  read_json <- function(path) jsonlite::fromJSON(path, simplifyVector = TRUE)

  column_kinds <- function(frame) vapply(frame, function(column) {
    if (is.factor(column)) "factor" else if (inherits(column, "Date")) "Date"
    else if (inherits(column, "POSIXct")) "POSIXct" else typeof(column)
  }, character(1))

  automatic_row_names <- function(frame) .row_names_info(frame) <= 0L

  plain_row_names <- function(frame) { rownames(frame) <- NULL; frame }

  # f(name = variable, ...): one-element vectors in place (a call that reads well in a
  # traceback), anything larger by the name of the variable in frame that holds it
  make_call <- function(f, frame, variables, names) {
    arguments <- lapply(variables, function(variable) {
      value <- get(variable, envir = frame)
      if (is.atomic(value) && length(value) == 1L && is.null(attributes(value))) value else as.name(variable)
    })
    call <- as.call(c(as.name(f), arguments))
    names(call) <- c("", names)
    call
  }

  # the names of a plain list whose every element is named, else NULL
  list_names <- function(x) {
    if (is.list(x) && !is.object(x) && !is.null(names(x)) && all(nzchar(names(x)))) names(x) else NULL
  }

  describe_value <- function(x) {
    if (is.null(x)) "NULL" else if (is.data.frame(x)) sprintf("a data.frame (%d rows)", nrow(x))
    else sprintf("a %s of length %d", paste(class(x), collapse = "/"), length(x))
  }

  function_names <- function(envir) Filter(function(n) is.function(get(n, envir = envir)), ls(envir))

  first_lines <- function(exprs) vapply(attr(exprs, "srcref"), function(where) where[[1L]], integer(1))

  environment()
})
"""


class RError(RunyardError):
    """An R error: R's message, the call it names and the R calls that led to it.

    ``str()`` reads as R prints it (``Error in check(d) : bad column``); ``report()`` adds
    the traceback, most recent call last.
    """

    def __init__(self, message: str, call: str = "", traceback: list[str] | None = None, *, context: str = ""):
        self.r_message = message
        self.call = call
        self.traceback = list(traceback or [])
        self.context = context
        super().__init__(f"Error in {call} : {message}" if call else f"Error: {message}")

    def report(self) -> str:
        lines = []
        if self.context:
            lines.append(self.context)
        if self.traceback:
            shown = self.traceback[-TRACEBACK_CALLS:]
            lines.append("R traceback (most recent call last):")
            if len(shown) < len(self.traceback):
                lines.append(f"  ... {len(self.traceback) - len(shown)} earlier calls")
            lines.extend(f"  {line}" for line in shown)
        lines.append(str(self))
        return "\n".join(lines)


@lru_cache(maxsize=None)
def _r() -> Any:
    """The helper functions above, defined once in an environment of their own."""
    return ro.r(_HELPERS)


def versions() -> str:
    """``"R 4.2.2, rpy2 3.5.17"``."""
    version = ro.r("R.version")
    return f"R {version.rx2('major')[0]}.{version.rx2('minor')[0]}, rpy2 {rpy2.__version__}"


def evaluate(expr: Any, envir: Any, context: str = "") -> Any:
    """``eval(expr, envir)`` in R; an R error raises ``RError`` (``context`` says what was running)."""
    with ro.default_converter.context():
        outcome = _r()["guard"](ri.ListSexpVector([expr]), envir)
    if outcome.rx2("ok")[0]:
        return outcome.rx2("value")
    raise RError(str(outcome.rx2("message")[0]), str(outcome.rx2("call")[0]),
                 [str(line) for line in outcome.rx2("traceback")], context=context)


def source(path: str | Path, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """Run the R script ``path`` one top-level expression at a time in a new environment
    (whose parent is R's global one) holding ``variables`` (name -> R value); returns that
    environment and the script's last value."""
    path = str(path)
    exprs = call(ro.baseenv, "parse", [("file", to_r(path)), ("keep.source", to_r(True))],
                 context=f"parsing {path} failed:")
    lines = _r()["first_lines"](exprs)
    envir = ro.r("new.env")(parent=ro.globalenv)
    for name, value in (variables or {}).items():
        envir[name] = value
    last = ro.NULL
    for index in range(len(exprs)):
        last = evaluate(exprs[index], envir, context=f"running {path} failed (line {lines[index]}):")
    return envir, last


def defines_function(envir: Any, name: str) -> bool:
    """Whether ``name`` is a function seen from ``envir``."""
    return bool(ro.r("exists")(name, envir=envir, mode="function")[0])


def function_names(envir: Any) -> list[str]:
    """The functions defined in ``envir`` itself."""
    return [str(name) for name in _r()["function_names"](envir)]


def call(envir: Any, function: str, arguments: list[tuple[str | None, Any]], context: str = "") -> Any:
    """Call R function ``function`` (found from ``envir``) with ``arguments``: (name or None,
    R value) pairs. A value longer than one element is bound to a variable, so the call (and a
    traceback) reads ``fit(data = data, alpha = 0.5)`` rather than printing the data."""
    frame = ro.r("new.env")(parent=envir)
    variables = []
    for index, (name, value) in enumerate(arguments):
        variable = name if name and name.isidentifier() and name not in variables else f".arg{index + 1}"
        frame[variable] = value
        variables.append(variable)
    expr = _r()["make_call"](function, frame, ro.StrVector(variables), ro.StrVector([n or "" for n, _ in arguments]))
    return evaluate(expr, frame, context=context)


def shutdown() -> None:
    """Prepare R for this process's exit. rpy2 ends R at exit with Python's lock released, and
    once reticulate is loaded (R code that reaches Python, e.g. runyard's R package logging a
    metric) R's exit finalizers call into Python without it and the process dies. Then R is
    left as it is (Python's own exit still flushes what was logged) and only R's temporary
    folder is removed, which ending R would have done."""
    import atexit
    from rpy2.rinterface_lib import embedded
    if ro.r("isNamespaceLoaded")("reticulate")[0]:
        ro.r("function() unlink(tempdir(), recursive = TRUE)")()
        atexit.unregister(embedded.endr)


def to_r(value: Any) -> Any:
    """A pandas DataFrame as an R data.frame (rpy2's pandas2ri, in memory); text, numbers and
    bools as R vectors of length one; None as NULL."""
    if isinstance(value, pd.DataFrame):
        frame = value.copy()
        for column in frame.columns:  # R has no 64-bit integers: wide ones become doubles
            values = frame[column]
            if values.dtype.kind in "iu" and len(values) and (
                    values.max() > np.iinfo(np.int32).max or values.min() <= np.iinfo(np.int32).min):
                frame[column] = values.astype("float64")
        default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
        with (ro.default_converter + pandas2ri.converter).context():
            converted = ro.conversion.get_conversion().py2rpy(frame)
        return _r()["plain_row_names"](converted) if default_index else converted
    if value is None:
        return ro.NULL
    if isinstance(value, bool):
        return ro.BoolVector([value])
    if isinstance(value, int):
        if np.iinfo(np.int32).min < value <= np.iinfo(np.int32).max:
            return ro.IntVector([value])
        return ro.FloatVector([float(value)])
    if isinstance(value, float):
        return ro.FloatVector([value])
    if isinstance(value, str):
        return ro.StrVector([value])
    raise TypeError(f"cannot pass a {type(value).__name__} to R")


def to_pandas(frame: Any) -> pd.DataFrame:
    """An R data.frame as a pandas DataFrame: NA becomes a missing value (NaN, None, or
    pandas' nullable Int32/boolean), factors categories, Date and POSIXct datetimes;
    row names that are not R's automatic ones become the index."""
    helpers = _r()
    kinds = list(helpers["column_kinds"](frame))
    names = list(frame.names) if frame.names is not ro.NULL else []
    is_na = ro.r("is.na")
    columns = {}
    for name, kind, column in zip(names, kinds, frame):
        missing = np.asarray(is_na(column), dtype=bool)
        columns[name] = _column(name, kind, column, missing)
    index = None
    if not helpers["automatic_row_names"](frame)[0]:
        index = pd.Index([str(n) for n in ro.r("rownames")(frame)])
    nrow = int(ro.r("nrow")(frame)[0])
    return pd.DataFrame(columns, index=index if index is not None else pd.RangeIndex(nrow))


def _column(name: str, kind: str, column: Any, missing: np.ndarray) -> Any:
    if kind == "factor":
        codes = np.asarray(column, dtype=np.int64) - 1
        codes[missing] = -1
        levels = [str(level) for level in ro.r("levels")(column)]
        return pd.Categorical.from_codes(codes, categories=levels, ordered="ordered" in tuple(column.rclass))
    if kind == "Date":
        days = np.asarray(column, dtype="float64")
        return pd.to_datetime(np.where(missing, np.nan, days), unit="D")
    if kind == "POSIXct":
        seconds = np.asarray(column, dtype="float64")
        zone = ro.r("function(x) { z <- attr(x, 'tzone'); if (is.null(z)) '' else z[[1]] }")(column)[0]
        stamps = pd.to_datetime(np.where(missing, np.nan, seconds), unit="s", utc=True)
        return stamps.tz_convert(zone) if zone else stamps.tz_localize(None)
    if kind == "double":
        return np.asarray(column, dtype="float64")
    if kind == "integer":
        values = np.asarray(column, dtype="int32")
        return pd.arrays.IntegerArray(np.where(missing, 0, values), missing) if missing.any() else values
    if kind == "logical":
        values = np.asarray(column, dtype="int32") == 1
        if missing.any():
            return pd.arrays.BooleanArray(values, missing)
        return values
    if kind == "character":
        return np.array([None if gone else str(text) for text, gone in zip(column, missing)], dtype=object)
    raise TypeError(f"column {name!r} is of R type {kind!r}, which has no pandas equivalent here; "
                    f"make it a number, text, logical, factor, Date or POSIXct column")


def kind(value: Any) -> str:
    """How a value the R code returned is kept: "table" (a data.frame), "json", "rds" (any
    other R object) or "null"."""
    return str(_r()["kind"](value)[0])


def list_names(value: Any) -> list[str] | None:
    """The names of a plain R list whose every element is named, else None."""
    names = _r()["list_names"](value)
    return None if names is ro.NULL or names is ri.NULL else [str(n) for n in names]


def element(value: Any, name: str) -> Any:
    return value.rx2(name) if hasattr(value, "rx2") else ro.r("function(x, n) x[[n]]")(value, name)


def describe(value: Any) -> str:
    """``"a data.frame (4 rows)"``, ``"a lm of length 12"``, ``"NULL"``."""
    return str(_r()["describe_value"](value)[0])


def write_json(value: Any, path: str | Path) -> None:
    call(_r(), "write_json", [(None, value), (None, to_r(str(path)))], context=f"writing {path} failed:")


def read_json(path: str | Path) -> Any:
    return _r()["read_json"](str(path))


def write_rds(value: Any, path: str | Path) -> None:
    ro.r("saveRDS")(value, str(path))


def read_rds(path: str | Path) -> Any:
    return ro.r("readRDS")(str(path))
