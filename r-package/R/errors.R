# Python errors reach R as conditions with runyard classes, so tryCatch can catch
# them by class and the message is runyard's (no Python traceback wall).
#
# The classes follow the Python class hierarchy: each class on the exception type's
# __mro__ that is a RunyardError becomes "runyard_" + its name in snake_case, most
# specific first. RunNotFoundError(NotFoundError(RunyardError)) gives
# c("runyard_run_not_found_error", "runyard_not_found_error", "runyard_error",
#   "error", "condition"), and a subclass Python adds later gets its parents' classes
# without any change here. Other Python exceptions are "runyard_python_error"s.

runyard_condition <- function(message, class = character(), call = NULL, python_exception = NULL) {
  structure(
    class = unique(c(class, "runyard_error", "error", "condition")),
    list(message = message, call = call, python_exception = python_exception)
  )
}

# Evaluate `expr` (a call into Python); a Python exception becomes a runyard condition.
py_call <- function(expr, call = sys.call(-1)) {
  tryCatch(expr, error = function(e) {
    if (inherits(e, "runyard_error")) stop(e)
    last <- reticulate::py_last_error()
    if (is.null(last) || !grepl(last$type, conditionMessage(e), fixed = TRUE)) stop(e)
    exception <- attr(last, "exception")
    stop(runyard_condition(last$value, python_error_classes(exception), call = call, python_exception = exception))
  })
}

# The R classes of a Python exception, from its type's method resolution order.
python_error_classes <- function(exception) {
  if (is.null(exception)) return("runyard_python_error")
  builtins <- reticulate::import_builtins(convert = FALSE)
  root <- reticulate::import("runyard.errors", convert = FALSE)$RunyardError
  mro <- reticulate::py_to_r(builtins$type(exception)$`__mro__`)
  runyard <- Filter(function(cls) reticulate::py_to_r(builtins$issubclass(cls, root)), mro)
  if (!length(runyard)) return("runyard_python_error")
  vapply(runyard, function(cls) paste0("runyard_", snake_case(reticulate::py_to_r(cls$`__name__`))), character(1))
}

# "RunNotFoundError" -> "run_not_found_error", "HTTPError" -> "http_error", "RunyardError" -> "error"
# (so the root class is "runyard_error", not "runyard_runyard_error").
snake_case <- function(name) {
  name <- sub("^Runyard(?=[A-Z]|$)", "", name, perl = TRUE)
  name <- gsub("([A-Z]+)([A-Z][a-z])", "\\1_\\2", name)
  name <- gsub("([a-z0-9])([A-Z])", "\\1_\\2", name)
  tolower(name)
}

# An error R raises itself, before anything reaches Python, for what Python cannot
# check: an argument whose method R calls (a run, a workspace...) or a value that
# would not survive the conversion to Python.
arg_error <- function(arg, problem, call = sys.call(-2)) {
  stop(runyard_condition(sprintf("`%s` %s", arg, problem), c("runyard_argument_error", "runyard_config_error"),
                         call = call))
}
