# Logging to a run; each function takes `run = NULL`, meaning the current run.

#' Log a metric
#'
#' Logging a name again makes the metric a vector of values.
#'
#' @param name Metric name.
#' @param value A number, string or logical.
#' @param run A run; `NULL` means the current run.
#' @return `NULL`, invisibly.
#' @examples
#' \dontrun{
#' log_metric_to_run("mse", 3301.2)
#' }
#' @export
log_metric_to_run <- function(name, value, run = NULL) {
  run <- check_run(run, null_ok = TRUE)
  py_invoke(run$log, name = name, value = value)
  flush_metrics_now_and_then()
  invisible(NULL)
}

#' Log a list of values
#'
#' @param name Metric name.
#' @param value A vector of values.
#' @param run A run; `NULL` means the current run.
#' @return `NULL`, invisibly.
#' @examples
#' \dontrun{
#' log_list_to_run("losses", c(0.9, 0.5, 0.3))
#' }
#' @export
log_list_to_run <- function(name, value, run = NULL) {
  run <- check_run(run, null_ok = TRUE)
  py_invoke(run$log_list, name = name, value = value, .lists = "value")
  flush_metrics_now_and_then()
  invisible(NULL)
}

#' Log one row of a table metric
#'
#' @param name Metric name.
#' @param ... Named values: the row's columns.
#' @param run A run; `NULL` means the current run.
#' @return `NULL`, invisibly.
#' @examples
#' \dontrun{
#' log_row_to_run("epochs", epoch = 1, loss = 0.4)
#' }
#' @export
log_row_to_run <- function(name, ..., run = NULL) {
  row <- list(...)
  # The columns reach Python as keyword arguments; an unnamed value would arrive as a
  # positional one (Python's `description`), so Python could not tell it was meant as a column.
  if (length(row) && (is.null(names(row)) || any(!nzchar(names(row))))) {
    arg_error("...", "must be named values, e.g. epoch = 1, loss = 0.4")
  }
  run <- check_run(run, null_ok = TRUE)
  py_invoke(run$log_row, name = name, .args = row)
  flush_metrics_now_and_then()
  invisible(NULL)
}

#' Log a table metric
#'
#' @param name Metric name.
#' @param value A data frame or a named list of equal-length vectors.
#' @param run A run; `NULL` means the current run.
#' @return `NULL`, invisibly.
#' @examples
#' \dontrun{
#' log_table_to_run("predictions", data.frame(y = 1:3, yhat = c(1.1, 1.9, 3.2)))
#' }
#' @export
log_table_to_run <- function(name, value, run = NULL) {
  run <- check_run(run, null_ok = TRUE)
  # Each column a list, even of one row (R has no scalars).
  if (is.list(value)) value <- lapply(value, function(col) if (is.atomic(col)) to_py(col, "list") else col)
  py_invoke(run$log_table, name = name, value = value)
  flush_metrics_now_and_then()
  invisible(NULL)
}

#' Log an image
#'
#' @param name Metric name.
#' @param plot A ggplot object, a recorded plot (`grDevices::recordPlot()`), or a
#'   function that draws a plot; or `NULL` when `path` is given.
#' @param path An image file, instead of `plot`.
#' @param run A run; `NULL` means the current run.
#' @return The stored file name, invisibly.
#' @examples
#' \dontrun{
#' log_image_to_run("mse", plot = function() plot(1:10))
#' }
#' @export
log_image_to_run <- function(name, plot = NULL, path = NULL, run = NULL) {
  # R draws `plot` into a file and hands Python its path, so Python could not tell that
  # both were given; Python says when neither is.
  if (!is.null(plot) && !is.null(path)) arg_error("plot", "or `path` must be given, not both")
  run <- check_run(run, null_ok = TRUE)
  if (!is.null(plot)) {
    path <- tempfile(fileext = ".png")
    on.exit(unlink(path), add = TRUE)
    grDevices::png(path, width = 800, height = 600)
    tryCatch({
      if (is.function(plot)) plot()
      else if (inherits(plot, "recordedplot")) grDevices::replayPlot(plot)
      else print(plot)
    }, finally = grDevices::dev.off())
  }
  py_invoke(run$log_image, name = name, path = path, .paths = "path")
  flush_metrics_now_and_then()
  invisible(paste0("images/", name, ".", tools_ext(path)))
}

# In R, Python runs only while R calls into it, so runyard's flusher thread is off
# (runyard.metrics.flush_in_foreground(), see rpy()): each log call sends what waited for the
# flush interval, so a sweep's early-termination policy sees an R trial's values while it runs.
flush_metrics_now_and_then <- function() {
  reticulate::import("runyard.metrics")$flush_due()
  invisible(NULL)
}

tools_ext <- function(path) {
  ext <- sub(".*\\.", "", basename(path))
  if (identical(ext, basename(path))) "png" else ext
}
