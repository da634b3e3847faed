#' An experiment: a named group of runs
#'
#' @param workspace A workspace.
#' @param name Experiment name: letters, digits, `_` and `-`.
#' @return An experiment.
#' @examples
#' \dontrun{
#' exp <- experiment(get_workspace(), "diabetes")
#' }
#' @export
experiment <- function(workspace, name) {
  py_invoke(rpy()$Experiment, workspace = workspace, name = name)
}

# For wrappers that call an experiment's own methods (see check_class()).
check_experiment <- function(experiment, arg = "experiment") {
  check_class(experiment, "runyard.experiment.Experiment", arg, "an experiment (from experiment())")
}

#' Submit a run
#'
#' @param experiment An experiment.
#' @param config What to run: a [script_run_config()], an [estimator()] or a
#'   [pipeline()] (with its default parameters; [submit_pipeline()] takes others).
#' @param tags A named list of tags.
#' @return The run, already started; see [wait_for_run_completion()].
#' @examples
#' \dontrun{
#' run <- submit_experiment(exp, script_run_config(".", "train.R"))
#' }
#' @export
submit_experiment <- function(experiment, config, tags = NULL) {
  check_experiment(experiment)
  py_invoke(experiment$submit, config = config, tags = tags, .dicts = "tags")
}

#' Runs of an experiment
#'
#' @param experiment An experiment.
#' @param type Only runs of this type (`"script"`, `"command"`, `"interactive"`).
#' @param tags A named list of tags the runs must have (a `NULL` value: any value).
#' @param properties A named list of properties the runs must have.
#' @param include_children Also child runs.
#' @param status Only runs with this status (`"Completed"`, `"Failed"`, ...).
#' @return A list of runs, newest first.
#' @examples
#' \dontrun{
#' runs <- get_runs_in_experiment(exp, status = "Completed")
#' }
#' @export
get_runs_in_experiment <- function(experiment, type = NULL, tags = NULL, properties = NULL,
                                   include_children = FALSE, status = NULL) {
  check_experiment(experiment)
  runs <- py_invoke(experiment$get_runs, type = type, tags = tags, properties = properties,
                    include_children = include_children, status = status, .dicts = c("tags", "properties"))
  reticulate::iterate(runs)
}

#' Start an interactive run
#'
#' A run in this R session (a notebook, an R Markdown document): log to it,
#' then [complete_run()].
#'
#' @param experiment An experiment.
#' @param snapshot_directory A folder to snapshot with the run, or `NULL`.
#' @param display_name A display name.
#' @return The run.
#' @examples
#' \dontrun{
#' run <- start_logging_run(exp)
#' log_metric_to_run("accuracy", 0.9, run = run)
#' complete_run(run)
#' }
#' @export
start_logging_run <- function(experiment, snapshot_directory = NULL, display_name = NULL) {
  check_experiment(experiment)
  py_invoke(experiment$start_logging, snapshot_directory = snapshot_directory, display_name = display_name,
            .paths = "snapshot_directory")
}
