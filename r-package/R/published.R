# Published pipelines: a pipeline stored in its workspace with an id, submitted later
# (from R, Python, the CLI, a schedule or a workspace server's REST API).

#' Publish a pipeline
#'
#' Stores the pipeline in its workspace; its steps' sources are snapshotted now,
#' so later edits to the scripts do not change it. Submit it with
#' [submit_published_pipeline()] or on a schedule ([create_schedule()]).
#'
#' @param pipeline A [pipeline()].
#' @param name The published pipeline's name: letters, digits, `.`, `_` and `-`.
#' @param description A description (default: the pipeline's).
#' @param version A version label, e.g. `"1.0"`.
#' @return The published pipeline; its `id` identifies it.
#' @examples
#' \dontrun{
#' published <- publish_pipeline(p, "train-mtcars", version = "1.0")
#' published$id
#' }
#' @export
publish_pipeline <- function(pipeline, name, description = NULL, version = NULL) {
  check_pipeline(pipeline)
  # A version label is text: R's 1 becomes "1", not Python's "1.0".
  py_invoke(pipeline$publish, name = name, description = description, version = as_argument_text(version))
}

#' Get a published pipeline
#'
#' @param workspace A workspace.
#' @param id The published pipeline's id.
#' @param name Instead of `id`: the newest published pipeline of this name.
#' @return The published pipeline.
#' @examples
#' \dontrun{
#' published <- get_published_pipeline(ws, name = "train-mtcars")
#' }
#' @export
get_published_pipeline <- function(workspace, id = NULL, name = NULL) {
  # R's one function is two Python methods, chosen by which of `id` and `name` is given, so
  # R is where giving both (or neither) can be refused.
  if (is.null(id) == is.null(name)) arg_error("id", "or `name` must be given (exactly one)", call = sys.call())
  published <- published_module()$PublishedPipeline
  if (!is.null(id)) py_invoke(published$get, workspace = workspace, id = id)
  else py_invoke(published$get_by_name, workspace = workspace, name = name)
}

#' List published pipelines
#'
#' @param workspace A workspace.
#' @param active_only If `FALSE`, also the disabled ones.
#' @return A data frame with one row per published pipeline, oldest first: `id`,
#'   `name`, `version`, `description`, `status` (`"Active"` or `"Disabled"`).
#' @examples
#' \dontrun{
#' list_published_pipelines(ws)
#' }
#' @export
list_published_pipelines <- function(workspace, active_only = TRUE) {
  found <- py_invoke(published_module()$PublishedPipeline$list, workspace = workspace, active_only = active_only)
  text <- function(value) if (is.null(value)) NA_character_ else as.character(value)
  data.frame(
    id = vapply(found, function(p) p$id, character(1)),
    name = vapply(found, function(p) p$name, character(1)),
    version = vapply(found, function(p) text(p$version), character(1)),
    description = vapply(found, function(p) text(p$description), character(1)),
    status = vapply(found, function(p) p$status, character(1)),
    stringsAsFactors = FALSE
  )
}

#' Submit a published pipeline
#'
#' @param published A published pipeline (from [publish_pipeline()] or [get_published_pipeline()]).
#' @param experiment_name The experiment the run goes in.
#' @param pipeline_parameters A named list of parameter values (the others keep
#'   their defaults); see [pipeline_parameter()] for the types.
#' @param tags A named list of tags.
#' @param regenerate_outputs If `TRUE`, every step runs (no reuse).
#' @return The pipeline run, already started.
#' @examples
#' \dontrun{
#' run <- submit_published_pipeline(published, "mtcars", pipeline_parameters = list(rows = 50L))
#' }
#' @export
submit_published_pipeline <- function(published, experiment_name, pipeline_parameters = list(), tags = NULL,
                                      regenerate_outputs = FALSE) {
  check_published(published)
  values <- as_pipeline_parameters(pipeline_parameters, py_call(published$parameters))
  # The workspace it was found in (Python's submit() takes it again, as Azure ML's did).
  workspace <- reticulate::py_get_attr(published, "workspace")
  py_invoke(published$submit, workspace = workspace, experiment_name = experiment_name,
            pipeline_parameters = values, tags = tags, regenerate_outputs = regenerate_outputs,
            .dicts = c("pipeline_parameters", "tags"))
}

# For wrappers that call a published pipeline's own methods (see check_class()).
check_published <- function(published, arg = "published") {
  check_class(published, "runyard.pipeline.published.PublishedPipeline", arg,
              "a published pipeline (from publish_pipeline() or get_published_pipeline())")
}

published_module <- function() {
  rpy()
  reticulate::import("runyard.pipeline.published")
}
