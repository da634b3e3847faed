#' Get a run by id
#'
#' @param experiment An experiment.
#' @param run_id The run's id.
#' @return The run.
#' @examples
#' \dontrun{
#' run <- get_run(exp, "diabetes_1795760845_a294964d")
#' }
#' @export
get_run <- function(experiment, run_id) {
  py_invoke(rpy()$Run, experiment = experiment, run_id = run_id)
}

#' The run this R script executes in
#'
#' Inside a job, the job's run; outside any job (`Rscript train.R`), an offline
#' run that prints what is logged.
#'
#' @param allow_offline If `FALSE`, outside a job is an error.
#' @return The run.
#' @examples
#' \dontrun{
#' run <- get_current_run()
#' }
#' @export
get_current_run <- function(allow_offline = TRUE) {
  py_invoke(rpy()$Run$get_context, allow_offline = allow_offline)
}

#' Wait for a run to end
#'
#' @param run A run.
#' @param show_output Stream the run's output while waiting.
#' @param raise_on_error If `TRUE`, a failed run is an error of class `runyard_run_failed_error`.
#' @return The run's details, as [get_run_details()], invisibly.
#' @examples
#' \dontrun{
#' wait_for_run_completion(run, show_output = TRUE)
#' }
#' @export
wait_for_run_completion <- function(run, show_output = TRUE, raise_on_error = TRUE) {
  check_run(run)
  py_invoke(run$wait_for_completion, show_output = show_output, raise_on_error = raise_on_error,
            output = to_console)
  invisible(get_run_details(run))
}

# Output goes through R's console (so RStudio and knitr show it), not Python's stdout.
to_console <- function(text) {
  cat(text)
  utils::flush.console()
}

#' Details of a run
#'
#' @param run A run.
#' @return A list: `runId`, `status`, `target`, times as POSIXct (`createdTimeUtc`,
#'   `startTimeUtc`, `endTimeUtc`), `exitCode`, `error` (a message or `NULL`),
#'   `environment`, `snapshotId`, `tags`, `properties`, `statusHistory` (a data
#'   frame), `logFiles`.
#' @examples
#' \dontrun{
#' get_run_details(run)$status
#' }
#' @export
get_run_details <- function(run) {
  check_run(run)
  details <- py_call(run$get_details())
  for (field in c("createdTimeUtc", "startTimeUtc", "endTimeUtc")) details[[field]] <- as_time(details[[field]])
  details["error"] <- list(if (is.null(details$error)) NULL else details$error$message)
  history <- details$statusHistory
  details$statusHistory <- data.frame(
    status = vapply(history, function(h) h$status, character(1)),
    time = as_time(vapply(history, function(h) h$timeUtc, character(1))),
    stringsAsFactors = FALSE
  )
  details
}

#' Details of a run with the text of its logs
#'
#' @param run A run.
#' @return As [get_run_details()], with `logFiles` holding each log's text.
#' @examples
#' \dontrun{
#' cat(get_run_details_with_logs(run)$logFiles[["logs/driver.log"]])
#' }
#' @export
get_run_details_with_logs <- function(run) {
  details <- get_run_details(run)
  details$logFiles <- lapply(details$logFiles, function(path) paste(readLines(path, warn = FALSE), collapse = "\n"))
  details
}

#' Watch a run until it ends
#'
#' Writes the run's status, metrics and child runs to the console, refreshed every
#' `refresh_seconds`, and returns when the run has ended (azuremlsdk's
#' `plot_run_details()`; Python's `azureml.widgets.RunDetails(run).show()`). Interrupting
#' stops watching; the run goes on.
#'
#' @param run A run.
#' @param refresh_seconds Seconds between refreshes.
#' @return The run's details, as [get_run_details()], invisibly.
#' @examples
#' \dontrun{
#' plot_run_details(submit_experiment(exp, config))
#' }
#' @export
plot_run_details <- function(run, refresh_seconds = 2) {
  check_run(run)
  rpy()
  view <- py_invoke(reticulate::import("runyard.run_details")$RunDetails, run_instance = run,
                    refresh_seconds = refresh_seconds)
  py_call(view$show(output = to_console))
  invisible(get_run_details(run))
}

#' Metrics of a run
#'
#' @param run A run.
#' @param name Only this metric, or `NULL` for all.
#' @return A named list: a number or string for a metric logged once, a vector
#'   for one logged repeatedly or with [log_list_to_run()], a data frame for
#'   [log_row_to_run()] and [log_table_to_run()] metrics.
#' @examples
#' \dontrun{
#' get_run_metrics(run)$mse
#' }
#' @export
get_run_metrics <- function(run, name = NULL) {
  check_run(run)
  metrics <- py_invoke(run$get_metrics, name = name)
  lapply(metrics, as_metric)
}

#' Names of a run's files
#'
#' @param run A run.
#' @return A character vector, e.g. `"outputs/model.rds"`, `"logs/driver.log"`.
#' @examples
#' \dontrun{
#' get_run_file_names(run)
#' }
#' @export
get_run_file_names <- function(run) {
  check_run(run)
  as.character(unlist(py_call(run$get_file_names())))
}

#' Download one file of a run
#'
#' @param run A run.
#' @param name The file's name in the run, e.g. `"outputs/model.rds"`.
#' @param output_file_path Where to write it (default: its base name in the working directory).
#' @return The path written, invisibly.
#' @examples
#' \dontrun{
#' download_file_from_run(run, "outputs/model.rds", tempfile())
#' }
#' @export
download_file_from_run <- function(run, name, output_file_path = NULL) {
  check_run(run)
  invisible(py_invoke(run$download_file, name = name, output_file_path = output_file_path,
                      .paths = "output_file_path"))
}

#' Download files of a run
#'
#' @param run A run.
#' @param prefix Only files whose names start with this, e.g. `"outputs/"`.
#' @param output_directory Where to write them (default: the working directory).
#' @param output_paths Explicit paths, one per file.
#' @param append_prefix Keep `prefix` in the written paths.
#' @return The paths written, invisibly.
#' @examples
#' \dontrun{
#' download_files_from_run(run, prefix = "outputs/", output_directory = tempdir())
#' }
#' @export
download_files_from_run <- function(run, prefix = NULL, output_directory = NULL, output_paths = NULL,
                                    append_prefix = TRUE) {
  check_run(run)
  invisible(as.character(unlist(py_invoke(
    run$download_files, prefix = prefix, output_directory = output_directory, output_paths = output_paths,
    append_prefix = append_prefix, .lists = "output_paths", .paths = c("output_directory", "output_paths")))))
}

#' Upload files to a run
#'
#' @param names Names in the run, e.g. `"outputs/model.rds"`.
#' @param paths Local files, one per name.
#' @param run A run; `NULL` means the current run.
#' @return The stored names, invisibly.
#' @examples
#' \dontrun{
#' upload_files_to_run("outputs/model.rds", "model.rds")
#' }
#' @export
upload_files_to_run <- function(names, paths, run = NULL) {
  run <- check_run(run, null_ok = TRUE)
  invisible(as.character(unlist(py_invoke(run$upload_files, names = names, paths = paths,
                                          .lists = c("names", "paths"), .paths = "paths"))))
}

#' Upload a folder to a run
#'
#' @param name The folder's name in the run.
#' @param path A local folder.
#' @param run A run; `NULL` means the current run.
#' @return The stored names, invisibly.
#' @examples
#' \dontrun{
#' upload_folder_to_run("plots", "plots")
#' }
#' @export
upload_folder_to_run <- function(name, path, run = NULL) {
  run <- check_run(run, null_ok = TRUE)
  invisible(as.character(unlist(py_invoke(run$upload_folder, name = name, path = path, .paths = "path"))))
}

#' Cancel a run
#'
#' The run's process gets SIGTERM, then SIGKILL after a grace period.
#'
#' @param run A run.
#' @return `TRUE`, invisibly.
#' @examples
#' \dontrun{
#' cancel_run(run)
#' }
#' @export
cancel_run <- function(run) {
  check_run(run)
  py_call(run$cancel())
  invisible(TRUE)
}

#' Mark a run completed
#'
#' For interactive runs ([start_logging_run()]) and child runs; inside a job the
#' run completes when the script ends.
#'
#' @param run A run.
#' @return `TRUE`, invisibly.
#' @examples
#' \dontrun{
#' complete_run(run)
#' }
#' @export
complete_run <- function(run) {
  check_run(run)
  py_call(run$complete())
  invisible(TRUE)
}

#' Create a child run
#'
#' @param parent_run The parent run; `NULL` means the current run.
#' @param name A display name (`display_name` in Python's errors).
#' @return The child run; log to it, then [complete_run()].
#' @examples
#' \dontrun{
#' child <- create_child_run(name = "fold-1")
#' }
#' @export
create_child_run <- function(parent_run = NULL, name = NULL) {
  parent_run <- check_run(parent_run, "parent_run", null_ok = TRUE)
  py_invoke(parent_run$child_run, name = name)
}

#' Child runs of a run
#'
#' @param parent_run A run.
#' @param recursive Also the children's children.
#' @return A list of runs.
#' @examples
#' \dontrun{
#' get_child_runs(run)
#' }
#' @export
get_child_runs <- function(parent_run, recursive = FALSE) {
  check_run(parent_run, "parent_run")
  py_invoke(parent_run$get_children, recursive = recursive)
}
