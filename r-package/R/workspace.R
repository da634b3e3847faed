#' Create a workspace
#'
#' A workspace is a folder (default `.runyard`) holding run history (SQLite),
#' run files and snapshots. Creating one that exists opens it.
#'
#' @param name Workspace name (default: the project folder's name).
#' @param path The workspace folder.
#' @param store_url A database URL for the run history instead of SQLite in the folder.
#' @param exist_ok If `FALSE`, an existing workspace is an error.
#' @param ... Arguments of azuremlsdk's `create_workspace()` that have no meaning
#'   here (`subscription_id`, `resource_group`, `location`, ...); they are ignored
#'   with a message.
#' @return A workspace.
#' @examples
#' \dontrun{
#' ws <- create_workspace(path = file.path(tempdir(), ".runyard"))
#' }
#' @export
create_workspace <- function(name = NULL, path = ".runyard", store_url = NULL, exist_ok = TRUE, ...) {
  ignore_azure_args(...)
  py_invoke(rpy()$Workspace$create, path = path, name = name, store_url = store_url, exist_ok = exist_ok,
            .paths = "path")
}

#' Get an existing workspace
#'
#' @param name Azure's workspace name when `subscription_id` or `resource_group`
#'   is given; otherwise unused, kept for azuremlsdk compatibility.
#' @param path The workspace folder, a project folder holding `.runyard`, or the
#'   address of a workspace server (`"http://host:8000"`, from `runyard server`).
#'   `NULL` searches from the working directory upward, like
#'   [load_workspace_from_config()].
#' @param token The server's token, if it asks for one (default: the
#'   `RUNYARD_TOKEN` environment variable).
#' @param subscription_id,resource_group Azure's names: with either, the workspace
#'   is the one Python's `Workspace(subscription_id, resource_group, name)` opens
#'   (found from the working directory, else `./.runyard`, created), recording them.
#' @param ... Azure-only arguments (`auth`), ignored with a message.
#' @return A workspace.
#' @examples
#' \dontrun{
#' ws <- get_workspace(path = ".runyard")
#' ws <- get_workspace(path = "http://127.0.0.1:8000", token = Sys.getenv("RUNYARD_TOKEN"))
#' ws <- get_workspace("ml-workspace", subscription_id = "1234", resource_group = "ml-rg")
#' }
#' @export
get_workspace <- function(name = NULL, path = NULL, token = NULL, subscription_id = NULL, resource_group = NULL,
                          ...) {
  ignore_azure_args(...)
  if (!is.null(subscription_id) || !is.null(resource_group)) {
    if (!is.null(path)) {
      arg_error("path", "opens a runyard workspace; with Azure's subscription_id and resource_group give the workspace's name instead",
                call = sys.call())
    }
    return(py_invoke(rpy()$Workspace$get, path = name, subscription_id = subscription_id,
                     resource_group = resource_group))
  }
  if (is.null(path)) return(load_workspace_from_config())
  call <- sys.call()
  # Python says where it looked; the R user also learns which argument to fix.
  tryCatch(py_invoke(rpy()$Workspace$get, path = path, token = token, .paths = "path", .call = call),
           runyard_not_found_error = function(e) {
             e$message <- paste0("`path`: ", conditionMessage(e))
             stop(e)
           })
}

#' Load the workspace of the current project
#'
#' Uses `RUNYARD_WORKSPACE` if set, else the nearest `.runyard/config.yaml` in
#' `path` or a folder above it; a folder on the way holding Azure's
#' `.azureml/config.json` has its workspace in `.runyard` beside it (created on
#' first use, recording the subscription, resource group and workspace name).
#'
#' @param path Where to start searching (default: the working directory).
#' @return A workspace.
#' @examples
#' \dontrun{
#' ws <- load_workspace_from_config()
#' }
#' @export
load_workspace_from_config <- function(path = NULL) {
  py_invoke(rpy()$Workspace$from_config, path = path, .paths = "path")
}

ignore_azure_args <- function(...) {
  extra <- names(list(...))
  if (length(extra)) {
    message("runyard ignores Azure-only arguments: ", paste(extra, collapse = ", "))
  }
}

# For wrappers that call a workspace's own methods (see check_class()).
check_workspace <- function(workspace, arg = "workspace") {
  check_class(workspace, "runyard.workspace.Workspace", arg,
              "a workspace (from create_workspace() or get_workspace())")
}

#' List compute targets
#'
#' @param workspace A workspace.
#' @return A data frame with one row per target: `name` and `type`.
#' @examples
#' \dontrun{
#' list_compute_targets(get_workspace())
#' }
#' @export
list_compute_targets <- function(workspace) {
  check_workspace(workspace)
  targets <- py_call(workspace$compute_targets)
  # A dict subclass (runyard's ComputeTargets) reaches R unconverted: take its values.
  if (inherits(targets, "python.builtin.object")) targets <- reticulate::iterate(targets$values())
  targets <- unname(targets)
  data.frame(
    name = vapply(targets, function(t) t$name, character(1)),
    type = vapply(targets, function(t) t$type, character(1)),
    stringsAsFactors = FALSE
  )
}
