# One place where R values become the Python values runyard takes. A wrapper hands its
# arguments to py_invoke() unchecked: Python's validation is the one source of each rule
# (types, ranges, allowed values, names), and its errors name the argument.
#
# Every argument:  NULL and NA -> None; a named list or named vector -> a dict; an unnamed
# list, or a vector of other than one value -> a list; one value -> the Python scalar of
# its type (1L an int, 1 a float, "a" a str, TRUE a bool); a factor -> its labels;
# Python objects and R functions as they are.
# Arguments a wrapper names besides:
#   .integers  whole numbers become ints (R's 2 is a double); any other value goes as it
#              is, for Python to refuse
#   .lists     a list even of one value (R has no scalars: "x" is a vector of one)
#   .dicts     a dict even when empty (an empty list())
#   .paths     "~" expanded, as R users expect of a path (Python leaves it)
#   .defaults  NULL means "Python's default", so the argument is left out instead of None
# `.args` takes more arguments as a list, for wrappers that pass many through.
py_invoke <- function(callable, ..., .args = list(), .integers = character(), .lists = character(),
                      .dicts = character(), .paths = character(), .defaults = character(), .call = sys.call(-1)) {
  call <- .call
  args <- c(list(...), .args)
  keys <- names(args) %||% character(length(args))
  for (i in seq_along(args)) {
    key <- keys[[i]]
    shape <- if (key %in% .lists) "list" else if (key %in% .dicts) "dict" else "value"
    value <- args[[i]]
    if (key %in% .integers) value <- as_whole_numbers(value)
    if (key %in% .paths && is.character(value)) value <- path.expand(value)
    args[i] <- list(to_py(value, shape, if (nzchar(key)) key else sprintf("argument %d", i), call))
  }
  omitted <- keys %in% .defaults & vapply(args, is.null, logical(1))
  py_call(do.call(callable, args[!omitted]), call = call)
}

to_py <- function(x, shape = "value", arg = "value", call = NULL) {
  if (is.null(x)) return(NULL)
  if (shape == "list" && (inherits(x, "python.builtin.object") || is.atomic(x) && is.null(names(x)))) {
    x <- if (is.atomic(x)) as.list(x) else list(x)
  }
  if (shape == "dict" && (is.list(x) || is.atomic(x)) && !length(x)) return(reticulate::dict())
  if (inherits(x, "python.builtin.object") || is.function(x)) return(x)
  if (is.factor(x)) x <- as.character(x)
  if (is.data.frame(x)) x <- as.list(x)
  if (is.atomic(x) && !is.object(x)) {
    if (!is.null(names(x))) x <- as.list(x)
    else if (length(x) == 1) return(if (is.na(x)) NULL else x)
    else {
      values <- as.list(x)
      values[is.na(x)] <- list(NULL)
      return(values)
    }
  }
  if (!is.list(x)) return(x)
  keys <- names(x)
  values <- lapply(seq_along(x), function(i) {
    where <- if (is.null(keys) || !nzchar(keys[[i]])) sprintf("%s[[%d]]", arg, i) else sprintf("%s$%s", arg, keys[[i]])
    to_py(x[[i]], arg = where, call = call)
  })
  if (is.null(keys)) return(values)
  # Python's dict keeps one value per key: a name given twice would lose a value unseen.
  if (anyDuplicated(keys[nzchar(keys)])) {
    arg_error(arg, sprintf("names %s twice", keys[nzchar(keys)][anyDuplicated(keys[nzchar(keys)])]), call = call)
  }
  names(values) <- keys
  reticulate::dict(values)
}

# 2 -> 2L (vectors too); 2.5, text and the rest unchanged, for Python to judge.
as_whole_numbers <- function(x) {
  if (is.double(x) && !is.object(x) && length(x) && all(is.na(x) | (x == round(x) & abs(x) <= .Machine$integer.max))) {
    storage.mode(x) <- "integer"
  }
  x
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# Objects whose methods a wrapper calls are checked in R: a call on anything else would
# fail in R (`$` of a string) before Python could say which argument is wrong.
check_class <- function(x, python_class, arg, what) {
  if (!inherits(x, python_class)) arg_error(arg, sprintf("must be %s, not %s", what, describe(x)))
  x
}

check_run <- function(run, arg = "run", null_ok = FALSE) {
  if (is.null(run) && null_ok) return(get_current_run())
  check_class(run, "runyard.run.Run", arg, "a run (from submit_experiment(), get_run() or get_current_run())")
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (inherits(x, "python.builtin.object")) return(sprintf("a Python %s", class(x)[1]))
  if (is.character(x) && length(x) == 1) return(sprintf("the string \"%s\"", x))
  if (is.numeric(x) && length(x) == 1) return(sprintf("the number %s", format(x)))
  sprintf("a %s of length %d", class(x)[1], length(x))
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
