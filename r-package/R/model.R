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
  py_invoke(rpy()$Model$register, workspace = workspace, model_path = model_path, model_name = model_name,
            tags = tags, properties = properties, description = description, datasets = datasets,
            model_framework = model_framework, model_framework_version = model_framework_version,
            child_paths = child_paths, sample_input_dataset = sample_input_dataset,
            sample_output_dataset = sample_output_dataset, resource_configuration = resource_configuration,
            .lists = c("datasets", "child_paths"), .dicts = c("tags", "properties", "resource_configuration"),
            .paths = "model_path")
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
  py_invoke(run$register_model, model_name = model_name, model_path = model_path, tags = tags,
            properties = properties, model_framework = model_framework,
            model_framework_version = model_framework_version, description = description, datasets = datasets,
            sample_input_dataset = sample_input_dataset, sample_output_dataset = sample_output_dataset,
            resource_configuration = resource_configuration, .lists = "datasets",
            .dicts = c("tags", "properties", "resource_configuration"))
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
  py_invoke(rpy()$Model, workspace = workspace, name = name, id = id, tags = tags, properties = properties,
            version = version, run_id = run_id, .integers = "version", .lists = c("tags", "properties"))
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
  models <- py_invoke(rpy()$Model$list, workspace = workspace, name = name, tags = tags, properties = properties,
                      latest = latest, run_id = run_id, .lists = c("tags", "properties"))
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
  invisible(py_invoke(model$download, target_dir = target_dir, exist_ok = exist_ok, .paths = "target_dir"))
}

# For wrappers that call a model's own methods (see check_class()).
check_model <- function(model, arg = "model") {
  check_class(model, "runyard.model.Model", arg, "a model (from register_model() or get_model())")
}
