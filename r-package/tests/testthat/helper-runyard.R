# Helpers for the runyard test suite (sourced before setup.R).

# Skip when the runyard Python package genuinely cannot be imported. CI always has
# it, and so does a Python named by RETICULATE_PYTHON (as `make test` names the
# venv's), so there a missing runyard fails the test instead. (Not CI=true in the
# Makefile: under it the tests that need the repository fail rather than skip in
# R CMD check.)
skip_if_no_runyard <- function() {
  problem <- runyard_import_problem()
  if (is.null(problem)) return(invisible(TRUE))
  python <- Sys.getenv("RETICULATE_PYTHON")
  if (identical(tolower(Sys.getenv("CI")), "true") || nzchar(python)) {
    stop("the runyard Python package cannot be imported through reticulate",
         if (nzchar(python)) paste0(" from RETICULATE_PYTHON=", python) else " (CI=true)", ": ", problem,
         call. = FALSE)
  }
  testthat::skip(paste("the runyard Python package cannot be imported:", problem))
}

runyard_import_problem <- local({
  checked <- FALSE
  problem <- NULL
  function() {
    if (!checked) {
      problem <<- tryCatch({
        reticulate::import("runyard")
        NULL
      }, error = function(e) conditionMessage(e))
      checked <<- TRUE
    }
    problem
  }
})

# A fresh folder removed when the calling test ends.
local_test_dir <- function(prefix = "runyard-test-", envir = parent.frame()) {
  path <- tempfile(prefix)
  dir.create(path, recursive = TRUE)
  do.call(on.exit, list(substitute(unlink(p, recursive = TRUE, force = TRUE), list(p = path)), add = TRUE),
          envir = envir)
  normalizePath(path)
}

# Write `lines` to `dir/name` (creating folders) and return the file's path.
write_lines_to <- function(dir, name, lines) {
  path <- file.path(dir, name)
  dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
  writeLines(lines, path)
  path
}

# The Python reticulate uses, and R's own Rscript, for subprocesses.
python_bin <- function() reticulate::py_config()$python
# R puts its own library folders (and the system's) on LD_LIBRARY_PATH; a Python
# started with them can load the system libpython and lose its site-packages.
python_env <- function() "LD_LIBRARY_PATH="
rscript_bin <- function() file.path(R.home("bin"), "Rscript")
r_bin <- function() file.path(R.home("bin"), "R")

# Run a subprocess (argument vector, no shell); fail with its output if it fails.
run_process <- function(command, args, env = character()) {
  out <- suppressWarnings(system2(command, args, stdout = TRUE, stderr = TRUE, env = env))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0) {
    stop(sprintf("%s exited with status %s:\n%s", basename(command), status, paste(out, collapse = "\n")),
         call. = FALSE)
  }
  out
}

# Poll until `condition()` is TRUE; a guard against hanging, not a timing check.
wait_until <- function(condition, what, limit_s = 120) {
  deadline <- Sys.time() + limit_s
  while (!isTRUE(condition())) {
    if (Sys.time() > deadline) stop("gave up waiting for ", what, call. = FALSE)
    Sys.sleep(0.1)
  }
  invisible(TRUE)
}

# Expect `expr` to signal a condition of `class` that is also a runyard_error; return it.
expect_runyard_error <- function(expr, class) {
  cnd <- tryCatch({
    expr
    NULL
  }, error = function(e) e)
  if (is.null(cnd)) testthat::fail(sprintf("expected an error of class %s, but there was none", class))
  testthat::expect_s3_class(cnd, class)
  testthat::expect_s3_class(cnd, "runyard_error")
  invisible(cnd)
}
