# The Python module, bound lazily: nothing starts Python until a function needs it,
# and the Python is whichever reticulate finds (RETICULATE_PYTHON, else the
# "r-runyard" virtualenv install_runyard() makes, else its usual search).
runyard_module <- NULL

.onLoad <- function(libname, pkgname) {
  # A preference, not a pin: only when nothing else chose a Python and the virtualenv
  # install_runyard() makes is there (reticulate 1.28 does not honour delay_load's
  # `environment` on its own).
  if (!nzchar(Sys.getenv("RETICULATE_PYTHON")) && !reticulate::py_available(initialize = FALSE) &&
      reticulate::virtualenv_exists("r-runyard")) {
    reticulate::use_virtualenv("r-runyard", required = FALSE)
  }
  runyard_module <<- reticulate::import(
    "runyard",
    delay_load = list(environment = "r-runyard", on_error = function(e) NULL)
  )
  reg.finalizer(.state, flush_metrics_at_exit, onexit = TRUE)
}

.state <- new.env(parent = emptyenv())

flush_metrics_at_exit <- function(env) {
  if (isTRUE(.state$loaded)) {
    try(reticulate::import("runyard.metrics")$flush_all(), silent = TRUE)
  }
}

# jsonlite is imported for the runs rather than for this package's own code: the
# local target installs an environment's R packages with a script that reads its
# package list with jsonlite, in the R that runs the job.
#' @importFrom jsonlite fromJSON
NULL
