#' Register a model from local files
#'
#' Copies a local file or folder into the workspace as the next version of
#' `model_name`. Registering the same files with the same arguments again
#' returns the version that has them.
#'
#' @param workspace A workspace.
#' @param model_path A local file or folder.
#' @param model_name The model's name: letters, digits, `.`, `_` or `-`.
#' @param datasets A list of `list(scenario, dataset)` pairs of registered
#'   datasets, e.g. `list(list("training data", ds))`; a dataset is anything
#'   with a name and a version (a named list `list(name = , version = )` works).
#' @param tags A named list of tags.
#' @param properties A named list of write-once properties.
#' @param description A description.
#' @param child_paths With a folder, register only these files (paths inside it).
#' @param sample_input_dataset,sample_output_dataset Registered datasets of sample
#'   inputs and outputs.
#' @param resource_configuration A named list: `cpu`, `memory_in_gb`, `gpu`.
#' @param model_framework The framework, e.g. `"ScikitLearn"`, `"Custom"`.
#' @param model_framework_version The framework's version.
#' @return The registered model.
#' @examples
#' \dontrun{
#' model <- register_model(ws, "model.rds", "diabetes", tags = list(area = "health"))
#' }
#' @export
register_model <- function(workspace, model_path, model_name, datasets = NULL, tags = NULL, properties = NULL,
                           description = NULL, child_paths = NULL, sample_input_dataset = NULL,
                           sample_output_dataset = NULL, resource_configuration = NULL, model_framework = NULL,
                           model_framework_version = NULL) {
  check_workspace(workspace)
  check_path(model_path, "model_path", "file")
  check_string(model_name, "model_name")
  check_string(description, "description", null_ok = TRUE)
  check_string(model_framework, "model_framework", null_ok = TRUE)
  check_string(model_framework_version, "model_framework_version", null_ok = TRUE)
  py_call(rpy()$Model$register(
    workspace, path.expand(model_path), model_name, tags = as_py_dict(tags, "tags"),
    properties = as_py_dict(properties, "properties"), description = description,
    datasets = as_py_datasets(datasets), model_framework = model_framework,
    model_framework_version = model_framework_version,
    child_paths = if (is.null(child_paths)) NULL else as_py_strings(child_paths, "child_paths"),
    sample_input_dataset = sample_input_dataset, sample_output_dataset = sample_output_dataset,
    resource_configuration = as_py_dict(resource_configuration, "resource_configuration")))
}

#' Register a model from a run's files
#'
#' Registers the run's file or folder `model_path` (e.g. `"outputs/model.rds"`)
#' as the next version of `model_name`, with the run (and `datasets`) as its
#' lineage. Nothing is copied: the model points at the run's files.
#'
#' @param run A run.
#' @param model_name The model's name.
#' @param model_path A file or folder of the run (default: `model_name`).
#' @inheritParams register_model
#' @return The registered model.
#' @examples
#' \dontrun{
#' model <- register_model_from_run(run, "diabetes", "outputs/model.rds")
#' }
#' @export
register_model_from_run <- function(run, model_name, model_path = NULL, tags = NULL, properties = NULL,
                                    description = NULL, datasets = NULL, sample_input_dataset = NULL,
                                    sample_output_dataset = NULL, resource_configuration = NULL,
                                    model_framework = NULL, model_framework_version = NULL) {
  check_run(run)
  check_string(model_name, "model_name")
  check_string(model_path, "model_path", null_ok = TRUE)
  check_string(description, "description", null_ok = TRUE)
  check_string(model_framework, "model_framework", null_ok = TRUE)
  check_string(model_framework_version, "model_framework_version", null_ok = TRUE)
  py_call(run$register_model(
    model_name, model_path = model_path, tags = as_py_dict(tags, "tags"),
    properties = as_py_dict(properties, "properties"), model_framework = model_framework,
    model_framework_version = model_framework_version, description = description,
    datasets = as_py_datasets(datasets), sample_input_dataset = sample_input_dataset,
    sample_output_dataset = sample_output_dataset,
    resource_configuration = as_py_dict(resource_configuration, "resource_configuration")))
}

#' Get a registered model
#'
#' The latest version of `name` (that matches `tags`, `properties` and `run_id`
#' when given), or one version by `version` or by `id` (`"name:version"`).
#'
#' @param workspace A workspace.
#' @param name The model's name.
#' @param id `"name:version"`, instead of `name` and `version`.
#' @param tags Tags the model must have: a named list of values, or a character
#'   vector of keys that must be set.
#' @param properties Properties the model must have, as `tags`.
#' @param version A version, or `NULL` for the latest.
#' @param run_id Only a model registered from this run.
#' @return The model.
#' @examples
#' \dontrun{
#' model <- get_model(ws, "diabetes", version = 2)
#' }
#' @export
get_model <- function(workspace, name = NULL, id = NULL, tags = NULL, properties = NULL, version = NULL,
                      run_id = NULL) {
  check_workspace(workspace)
  check_string(name, "name", null_ok = TRUE)
  check_string(id, "id", null_ok = TRUE)
  check_string(run_id, "run_id", null_ok = TRUE)
  if (is.null(name) && is.null(id)) arg_error("name", "or `id` is needed to find a model")
  py_call(rpy()$Model(workspace, name = name, id = id, tags = as_py_filters(tags, "tags"),
                      properties = as_py_filters(properties, "properties"),
                      version = as_py_int(version, "version"), run_id = run_id))
}

#' List registered models
#'
#' @param workspace A workspace.
#' @param name Only versions of this model.
#' @param tags,properties Filters, as in [get_model()].
#' @param latest Only each model's latest version.
#' @param run_id Only models registered from this run.
#' @return A data frame with one row per model version, by name then version:
#'   `name`, `version`, `id`, `framework`, `run_id`, `created_time` (POSIXct),
#'   `description`.
#' @examples
#' \dontrun{
#' list_models(ws, latest = TRUE)
#' }
#' @export
list_models <- function(workspace, name = NULL, tags = NULL, properties = NULL, latest = FALSE, run_id = NULL) {
  check_workspace(workspace)
  check_string(name, "name", null_ok = TRUE)
  check_string(run_id, "run_id", null_ok = TRUE)
  models <- py_call(rpy()$Model$list(workspace, name = name, tags = as_py_filters(tags, "tags"),
                                     properties = as_py_filters(properties, "properties"),
                                     latest = isTRUE(latest), run_id = run_id))
  rows <- lapply(models, function(m) py_call(m$serialize()))
  text <- function(field) vapply(rows, function(r) if (is.null(r[[field]])) NA_character_ else r[[field]],
                                 character(1))
  data.frame(
    name = text("name"),
    version = vapply(rows, function(r) as.integer(r$version), integer(1)),
    id = text("id"),
    framework = text("framework"),
    run_id = text("runId"),
    created_time = as_time(if (length(rows)) text("createdTime") else character()),
    description = text("description"),
    stringsAsFactors = FALSE
  )
}

#' Download a registered model
#'
#' Writes the model's file or folder, under its own name, into `target_dir`.
#'
#' @param model A model.
#' @param target_dir The folder to write into.
#' @param exist_ok If `TRUE`, replace the model's file or folder if it is there;
#'   otherwise that is an error and nothing is written.
#' @return The path of the model's file or folder, invisibly.
#' @examples
#' \dontrun{
#' path <- download_model(get_model(ws, "diabetes"), target_dir = tempdir())
#' }
#' @export
download_model <- function(model, target_dir = ".", exist_ok = FALSE) {
  check_model(model)
  check_string(target_dir, "target_dir")
  invisible(py_call(model$download(target_dir = path.expand(target_dir), exist_ok = isTRUE(exist_ok))))
}

check_model <- function(model, arg = "model") {
  check_class(model, "runyard.model.Model", arg, "a model (from register_model() or get_model())")
}

# list(list("training data", ds), ...) -> [("training data", ds), ...]
as_py_datasets <- function(x, arg = "datasets") {
  if (is.null(x)) return(NULL)
  if (!is.list(x)) arg_error(arg, sprintf("must be a list of list(scenario, dataset) pairs, not %s", describe(x)))
  lapply(seq_along(x), function(i) {
    pair <- x[[i]]
    if (!is.list(pair) || length(pair) != 2 || !is.character(pair[[1]]) || length(pair[[1]]) != 1) {
      arg_error(arg, sprintf("[[%d]] must be list(scenario, dataset), e.g. list(\"training data\", ds)", i))
    }
    reticulate::tuple(pair[[1]], pair[[2]])
  })
}

# Model filters: a named list of values (a dict) or a vector of keys that must be set.
as_py_filters <- function(x, arg) {
  if (is.null(x)) return(NULL)
  if (!is.null(names(x))) return(as_py_dict(x, arg))
  as_py_strings(x, arg)
}
