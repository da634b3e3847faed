# One place where R values become the Python values runyard expects:
# NULL -> None, whole numbers -> int, vectors -> lists, named lists -> dicts.

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.character(x) && length(x) == 1) return(sprintf("the string \"%s\"", x))
  if (is.numeric(x) && length(x) == 1) return(sprintf("the number %s", format(x)))
  sprintf("a %s of length %d", class(x)[1], length(x))
}

check_string <- function(x, arg, null_ok = FALSE) {
  if (is.null(x) && null_ok) return(invisible(NULL))
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) {
    arg_error(arg, sprintf("must be a single non-empty string, not %s", describe(x)))
  }
  invisible(x)
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    arg_error(arg, sprintf("must be TRUE or FALSE, not %s", describe(x)))
  }
  x
}

check_path <- function(x, arg, must = c("any", "dir", "file"), null_ok = FALSE) {
  must <- match.arg(must)
  if (is.null(x) && null_ok) return(invisible(NULL))
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) {
    arg_error(arg, sprintf("must be a path (a single string), not %s", describe(x)))
  }
  if (must == "dir" && !dir.exists(x)) arg_error(arg, sprintf("names a folder that does not exist: %s", x))
  if (must == "file" && !file.exists(x)) arg_error(arg, sprintf("names a file that does not exist: %s", x))
  invisible(path.expand(x))
}

as_py_int <- function(x, arg, null_ok = TRUE) {
  if (is.null(x) && null_ok) return(NULL)
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || x != round(x)) {
    arg_error(arg, sprintf("must be a whole number, not %s", describe(x)))
  }
  as.integer(x)
}

as_py_dict <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (is.list(x) || is.atomic(x)) {
    if (length(x) && (is.null(names(x)) || any(!nzchar(names(x))))) {
      arg_error(arg, "must be a named list (every element named)")
    }
    return(reticulate::dict(as.list(x)))
  }
  arg_error(arg, sprintf("must be a named list, not %s", describe(x)))
}

as_py_strings <- function(x, arg) {
  if (is.null(x)) return(list())
  if (!is.atomic(x) && !is.list(x)) arg_error(arg, sprintf("must be a vector or list, not %s", describe(x)))
  values <- lapply(as.list(x), function(v) {
    if (length(v) != 1 || !is.atomic(v)) arg_error(arg, "must hold single values (strings or numbers)")
    if (is.numeric(v)) format(v, digits = 15, scientific = FALSE, trim = TRUE) else as.character(v)
  })
  unname(values)
}

check_run <- function(run, arg = "run", null_ok = FALSE) {
  if (is.null(run)) {
    if (null_ok) return(get_current_run())
    arg_error(arg, "must be a run (from submit_experiment(), get_run() or get_current_run())")
  }
  if (!inherits(run, "runyard.run.Run")) {
    arg_error(arg, sprintf("must be a run (from submit_experiment(), get_run() or get_current_run()), not %s",
                           describe(run)))
  }
  run
}

check_class <- function(x, python_class, arg, what) {
  if (!inherits(x, python_class)) arg_error(arg, sprintf("must be %s, not %s", what, describe(x)))
  x
}

# Python -> R: ISO 8601 UTC text to POSIXct.
as_time <- function(x) {
  if (is.null(x)) return(as.POSIXct(NA, tz = "UTC"))
  as.POSIXct(sub("Z$", "", x), format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC")
}

# A metric value as R users expect it: vectors for repeated values, data frames for tables.
as_metric <- function(value) {
  if (is.null(value)) return(NULL)
  if (is.list(value) && !is.null(names(value))) {
    columns <- lapply(value, function(col) simplify_values(col))
    return(as.data.frame(columns, stringsAsFactors = FALSE, check.names = FALSE))
  }
  simplify_values(value)
}

simplify_values <- function(values) {
  if (!is.list(values)) return(values)
  if (length(values) == 0) return(logical())
  values <- lapply(values, function(v) if (is.null(v)) NA else v)
  if (all(vapply(values, function(v) is.atomic(v) && length(v) == 1, logical(1)))) {
    return(unlist(values))
  }
  values
}

# One R value as the Python scalar of its type: integer -> int, double -> float,
# character -> str, logical -> bool (so 1L and 1 stay different, as in Python).
as_py_scalar <- function(x, arg) {
  if (!(is.integer(x) || is.double(x) || is.character(x) || is.logical(x)) || is.object(x) ||
      length(x) != 1 || is.na(x)) {
    arg_error(arg, sprintf("must be a single integer, double, string or logical, not %s", describe(x)))
  }
  unname(x)
}
