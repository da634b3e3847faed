#' Minimum version of the runyard Python package this R package works with.
#' @noRd
min_python_version <- "0.1.0"

#' The runyard Python module
#'
#' For anything the R functions do not wrap: the imported Python module itself.
#' @return The `runyard` Python module (a reticulate object).
#' @examples
#' \dontrun{
#' runyard_python()$`__version__`
#' }
#' @export
runyard_python <- function() {
  rpy()
}

rpy <- function() {
  if (isTRUE(.state$loaded)) return(runyard_module)
  version <- tryCatch(
    reticulate::py_to_r(reticulate::py_get_attr(runyard_module, "__version__")),
    error = function(e) stop(python_missing_condition(e))
  )
  if (utils::compareVersion(version, min_python_version) < 0) {
    stop(runyard_condition(
      sprintf(paste0("The runyard Python package at %s is version %s; this R package needs %s or newer. ",
                     "Upgrade it with install_runyard()."),
              python_path(), version, min_python_version),
      "runyard_python_missing_error"))
  }
  # no flusher thread: R would pause it between calls, maybe holding the database's lock
  reticulate::import("runyard.metrics")$flush_in_foreground()
  .state$loaded <- TRUE
  runyard_module
}

python_path <- function() {
  config <- tryCatch(reticulate::py_config(), error = function(e) NULL)
  if (is.null(config)) "(no Python found)" else config$python
}

python_missing_condition <- function(e) {
  tried <- c(
    if (nzchar(Sys.getenv("RETICULATE_PYTHON"))) paste0("RETICULATE_PYTHON=", Sys.getenv("RETICULATE_PYTHON")),
    "the 'r-runyard' virtualenv",
    "reticulate's default search"
  )
  runyard_condition(
    paste0(
      "The runyard Python package could not be loaded.\n",
      "Python used: ", python_path(), "\n",
      "Tried: ", paste(tried, collapse = "; "), "\n",
      "Python said: ", conditionMessage(e), "\n",
      "Fix: run runyard::install_runyard(), or set RETICULATE_PYTHON to a Python that has runyard ",
      "(pip install runyard) before loading the package."
    ),
    "runyard_python_missing_error"
  )
}

#' Install the runyard Python package for R
#'
#' Creates (or updates) a virtualenv named `r-runyard` and installs the runyard
#' Python package into it; `library(runyard)` then finds it in a new R session.
#'
#' @param package What to install: a pip requirement or a local path to runyard's
#'   source folder. Defaults to `"runyard"`.
#' @param envname The virtualenv name.
#' @param python The Python to create the virtualenv with (default: reticulate's choice).
#' @return The virtualenv's Python path, invisibly.
#' @examples
#' \dontrun{
#' install_runyard()
#' }
#' @export
install_runyard <- function(package = "runyard", envname = "r-runyard", python = NULL) {
  # These go to reticulate and pip, not to runyard's Python (which may not be installed yet),
  # so R checks them.
  for (arg in c("package", "envname")) {
    value <- get(arg)
    if (!is.character(value) || length(value) != 1 || is.na(value) || !nzchar(value)) {
      arg_error(arg, sprintf("must be a single non-empty string, not %s", describe(value)), call = sys.call())
    }
  }
  # R puts its own and the system's library folders on LD_LIBRARY_PATH; a Python started
  # with them can load the system's libpython or libssl instead of its own.
  saved <- Sys.getenv("LD_LIBRARY_PATH", unset = NA)
  if (!is.na(saved)) {
    Sys.unsetenv("LD_LIBRARY_PATH")
    on.exit(Sys.setenv(LD_LIBRARY_PATH = saved), add = TRUE)
  }
  if (!reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_create(envname, python = python)
  }
  reticulate::virtualenv_install(envname, packages = package, ignore_installed = FALSE)
  message("runyard installed in the virtualenv '", envname, "'. Restart R to use it.")
  invisible(reticulate::virtualenv_python(envname))
}
