# Schedules: a published pipeline submitted on a recurrence or when files change in a folder
# (runyard.pipeline.Schedule). A scheduler process fires them: `runyard scheduler`, or
# the one inside `runyard server`.

#' When a schedule fires
#'
#' Every `interval` minutes, hours, days, weeks or months, counted from
#' `start_time` (default: when the schedule is created). Daily and weekly
#' recurrences may name the `hours` and `minutes` (or `time_of_day`) they fire
#' at, weekly ones the `week_days`.
#'
#' @param frequency `"Minute"`, `"Hour"`, `"Day"`, `"Week"` or `"Month"`.
#' @param interval How many of `frequency` between firings (a whole number).
#' @param start_time When counting starts: a `POSIXct`, a `Date`, or text
#'   `"YYYY-MM-DDThh:mm:ss"` (a wall time of `time_zone`).
#' @param time_zone An IANA name such as `"Europe/Berlin"`, or Azure's names
#'   such as `"Pacific Standard Time"` (default UTC).
#' @param hours,minutes Whole numbers (0-23, 0-59) it fires at (`"Day"` and `"Week"`).
#' @param week_days Day names it fires on, e.g. `c("Monday", "Friday")` (`"Week"`).
#' @param time_of_day Instead of `hours` and `minutes`: `"hh:mm"`.
#' @return A recurrence, for [create_schedule()].
#' @examples
#' \dontrun{
#' nightly <- schedule_recurrence("Day", 1, hours = 22, minutes = 30, time_zone = "Europe/Berlin")
#' }
#' @export
schedule_recurrence <- function(frequency, interval, start_time = NULL, time_zone = NULL, hours = NULL,
                                minutes = NULL, week_days = NULL, time_of_day = NULL) {
  py_invoke(schedule_module()$ScheduleRecurrence, frequency = frequency, interval = interval,
            start_time = as_start_time(start_time), time_zone = time_zone, hours = hours, minutes = minutes,
            week_days = week_days, time_of_day = time_of_day, .integers = c("interval", "hours", "minutes"),
            .lists = c("hours", "minutes", "week_days"))
}

#' Submit a published pipeline on a schedule
#'
#' Stores a schedule that submits the published pipeline to `experiment_name`
#' on `recurrence`, or, given `datastore`, when files are added or changed in
#' that folder (checked every `polling_interval` minutes). A scheduler process
#' (`runyard scheduler`, or a workspace server) fires it.
#'
#' @param workspace A workspace.
#' @param name The schedule's name.
#' @param pipeline_id The published pipeline's id, or the published pipeline
#'   (from [publish_pipeline()] or [get_published_pipeline()]).
#' @param experiment_name The experiment its runs go in.
#' @param recurrence A [schedule_recurrence()]; or `NULL` with `datastore`.
#' @param pipeline_parameters A named list of parameter values for its runs;
#'   see [pipeline_parameter()] for the types.
#' @param datastore A folder to watch (a path, or a datastore with a local folder).
#' @param path_on_datastore Only this folder inside `datastore`.
#' @param polling_interval Minutes between checks of `datastore` (fractions allowed).
#' @param data_path_parameter_name A text parameter of the pipeline: each changed
#'   file gets a run of its own, with the file's path in this parameter.
#' @param description A description.
#' @return The schedule; `schedule$id` identifies it.
#' @examples
#' \dontrun{
#' schedule <- create_schedule(ws, "nightly", published$id, "mtcars",
#'                             recurrence = schedule_recurrence("Day", 1, hours = 2),
#'                             pipeline_parameters = list(rows = 1000L))
#' }
#' @export
create_schedule <- function(workspace, name, pipeline_id, experiment_name, recurrence = NULL,
                            pipeline_parameters = list(), datastore = NULL, path_on_datastore = NULL,
                            polling_interval = 5L, data_path_parameter_name = NULL, description = NULL) {
  published <- pipeline_id
  if (is.character(pipeline_id) && length(pipeline_id) == 1 && length(pipeline_parameters)) {
    published <- py_invoke(published_module()$PublishedPipeline$get, workspace = workspace, id = pipeline_id)
  }
  if (inherits(published, "runyard.pipeline.published.PublishedPipeline")) {
    pipeline_parameters <- as_pipeline_parameters(pipeline_parameters, py_call(published$parameters))
    pipeline_id <- published$id
  }
  py_invoke(schedule_module()$Schedule$create, workspace = workspace, name = name, pipeline_id = pipeline_id,
            experiment_name = experiment_name, recurrence = recurrence, description = description,
            pipeline_parameters = pipeline_parameters, datastore = datastore, polling_interval = polling_interval,
            data_path_parameter_name = data_path_parameter_name, path_on_datastore = path_on_datastore,
            .dicts = "pipeline_parameters", .paths = "datastore")
}

#' Get a schedule
#'
#' @param workspace A workspace.
#' @param id The schedule's id.
#' @return The schedule.
#' @examples
#' \dontrun{
#' get_schedule(ws, schedule_id)$status
#' }
#' @export
get_schedule <- function(workspace, id) {
  py_invoke(schedule_module()$Schedule$get, workspace = workspace, id = id)
}

#' List schedules
#'
#' @param workspace A workspace.
#' @param active_only If `FALSE`, also the disabled ones.
#' @param pipeline_id Only the schedules of this published pipeline.
#' @return A data frame with one row per schedule, oldest first: `id`, `name`,
#'   `status` (`"Active"` or `"Disabled"`), `pipeline_id`, `experiment_name`, and
#'   `frequency` and `interval` of its recurrence (`NA` for a schedule that watches a folder).
#' @examples
#' \dontrun{
#' list_schedules(ws)
#' }
#' @export
list_schedules <- function(workspace, active_only = TRUE, pipeline_id = NULL) {
  found <- py_invoke(schedule_module()$Schedule$list, workspace = workspace, active_only = active_only,
                     pipeline_id = pipeline_id)
  text <- function(value) if (is.null(value)) NA_character_ else as.character(value)
  data.frame(
    id = vapply(found, function(s) s$id, character(1)),
    name = vapply(found, function(s) s$name, character(1)),
    status = vapply(found, function(s) s$status, character(1)),
    pipeline_id = vapply(found, function(s) text(s$pipeline_id), character(1)),
    experiment_name = vapply(found, function(s) s$experiment_name, character(1)),
    frequency = vapply(found, function(s) text(s$recurrence$frequency), character(1)),
    interval = vapply(found, function(s) if (is.null(s$recurrence)) NA_integer_ else as.integer(s$recurrence$interval),
                      integer(1)),
    stringsAsFactors = FALSE
  )
}

#' Stop a schedule firing
#'
#' Slots that pass while it is disabled are not fired later.
#'
#' @param schedule A schedule (from [create_schedule()] or [get_schedule()]).
#' @return `TRUE`, invisibly.
#' @examples
#' \dontrun{
#' disable_schedule(schedule)
#' }
#' @export
disable_schedule <- function(schedule) {
  check_schedule(schedule)
  py_call(schedule$disable())
  invisible(TRUE)
}

#' Start a disabled schedule firing again
#'
#' It fires from now on: what it would have fired while disabled is skipped.
#'
#' @param schedule A schedule (from [create_schedule()] or [get_schedule()]).
#' @return `TRUE`, invisibly.
#' @examples
#' \dontrun{
#' enable_schedule(schedule)
#' }
#' @export
enable_schedule <- function(schedule) {
  check_schedule(schedule)
  py_call(schedule$enable())
  invisible(TRUE)
}

# For wrappers that call a schedule's own methods (see check_class()).
check_schedule <- function(schedule, arg = "schedule") {
  check_class(schedule, "runyard.pipeline.schedule.Schedule", arg,
              "a schedule (from create_schedule() or get_schedule())")
}

schedule_module <- function() {
  rpy()
  reticulate::import("runyard.pipeline.schedule")
}

# A start time as the text Python reads: POSIXct as its UTC instant (with the offset), a
# Date as its midnight, anything else as given. (reticulate 1.28 cannot hand a POSIXct to
# Python without numpy 1, so R writes it out.)
as_start_time <- function(x) {
  if (is.null(x)) return(NULL)
  if (inherits(x, "POSIXct") && length(x) == 1 && !is.na(x)) {
    return(format(x, "%Y-%m-%dT%H:%M:%S+00:00", tz = "UTC"))
  }
  if (inherits(x, "Date") && length(x) == 1 && !is.na(x)) return(format(x, "%Y-%m-%dT00:00:00"))
  x
}
