#' Describe a script run
#'
#' @param source_directory The folder to snapshot and run in.
#' @param script The script, relative to `source_directory`: `.R` files run
#'   with `Rscript`, others with Python.
#' @param arguments Command-line arguments (a vector or list of strings and numbers).
#' @param compute_target Target name (default `"local"`).
#' @param environment An environment from [r_environment()] or [get_environment()];
#'   `NULL` runs with the Python/R that submitted it.
#' @param max_run_duration_seconds Stop the run after this many seconds.
#' @param command A shell command instead of `script`.
#' @param environment_variables A named list of variables for the run.
#' @return A script run configuration, for [submit_experiment()].
#' @examples
#' \dontrun{
#' config <- script_run_config(".", "train.R", arguments = list("--alpha", 0.5))
#' }
#' @export
script_run_config <- function(source_directory, script = NULL, arguments = NULL, compute_target = "local",
                              environment = NULL, max_run_duration_seconds = NULL, command = NULL,
                              environment_variables = NULL) {
  source_directory <- check_path(source_directory, "source_directory", "dir")
  check_string(script, "script", null_ok = TRUE)
  check_string(command, "command", null_ok = TRUE)
  if (is.null(script) && is.null(command)) arg_error("script", "or `command` must be given")
  if (!is.null(script) && !file.exists(file.path(source_directory, script))) {
    arg_error("script", sprintf("names a file that does not exist in %s: %s", source_directory, script))
  }
  check_string(compute_target, "compute_target")
  check_environment(environment)
  mod <- rpy()
  run_config <- NULL
  if (!is.null(environment_variables)) {
    run_config <- py_call(mod$RunConfiguration(
      environment_variables = as_py_dict(lapply(environment_variables, as.character), "environment_variables")))
  }
  args <- list(source_directory = source_directory, script = script, command = command,
               arguments = as_py_strings(arguments, "arguments"), compute_target = compute_target,
               environment = environment, run_config = run_config)
  if (!is.null(max_run_duration_seconds)) {
    args$max_run_duration_seconds <- as_py_int(max_run_duration_seconds, "max_run_duration_seconds")
  }
  py_call(do.call(mod$ScriptRunConfig, args))
}
