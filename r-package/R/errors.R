# Python errors reach R as conditions with runyard classes, so tryCatch can catch
# them by class and the message is runyard's (no Python traceback wall).

runyard_condition <- function(message, class = character(), call = NULL) {
  structure(
    class = unique(c(class, "runyard_error", "error", "condition")),
    list(message = message, call = call)
  )
}

# Python exception name -> R condition classes (most specific first).
python_error_classes <- list(
  ConfigError = "runyard_config_error",
  SnapshotError = c("runyard_snapshot_error", "runyard_config_error"),
  NotFoundError = "runyard_not_found_error",
  RunNotFoundError = c("runyard_run_not_found_error", "runyard_not_found_error"),
  EnvironmentBuildError = "runyard_environment_build_error",
  ComputeError = "runyard_compute_error",
  RunFailedError = "runyard_run_failed_error",
  MissingDependencyError = "runyard_missing_dependency_error",
  RunyardError = character()
)

# Evaluate `expr` (a call into Python); a Python exception becomes a runyard condition.
py_call <- function(expr, call = sys.call(-1)) {
  tryCatch(expr, error = function(e) {
    if (inherits(e, "runyard_error")) stop(e)
    last <- reticulate::py_last_error()
    if (is.null(last) || !grepl(last$type, conditionMessage(e), fixed = TRUE)) stop(e)
    classes <- python_error_classes[[last$type]]
    if (is.null(classes)) classes <- "runyard_python_error"
    stop(runyard_condition(last$value, classes, call = call))
  })
}

# An R-side argument error, raised before anything reaches Python.
arg_error <- function(arg, problem, call = sys.call(-2)) {
  stop(runyard_condition(sprintf("`%s` %s", arg, problem), c("runyard_argument_error", "runyard_config_error"),
                         call = call))
}
