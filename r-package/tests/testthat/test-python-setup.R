# Finding Python: a Python without runyard gives one message that says how to fix it,
# and install_runyard() makes a virtualenv from which the package then loads.

repo_root <- function() normalizePath(file.path(testthat::test_path(), "..", "..", ".."))

# Rscript in a clean environment: `unset` variables removed, `set` ones (NAME=value) added.
run_r <- function(code, set = character(), unset = c("RETICULATE_PYTHON", "LD_LIBRARY_PATH")) {
  args <- c(as.vector(rbind("-u", unset)), set, rscript_bin(), "-e", shQuote(code))
  out <- suppressWarnings(system2("env", args, stdout = TRUE, stderr = TRUE))
  list(status = attr(out, "status") %||% 0L, output = paste(out, collapse = "\n"))
}
`%||%` <- function(a, b) if (is.null(a)) b else a

test_that("a Python without runyard gives one actionable error", {
  skip_if_no_runyard()
  bare <- Sys.which("python3")
  bare <- if (file.exists("/usr/bin/python3")) "/usr/bin/python3" else bare
  probe <- suppressWarnings(system2(bare, c("-c", shQuote("import runyard")), stdout = TRUE, stderr = TRUE))
  if (is.null(attr(probe, "status"))) testthat::skip("every Python here has runyard")
  result <- run_r(paste(
    "library(runyard)",
    "e <- tryCatch(get_workspace(path = tempdir()), error = function(e) e)",
    "cat(class(e), sep = ',', fill = TRUE)",
    "cat(conditionMessage(e))", sep = "; "),
    set = paste0("RETICULATE_PYTHON=", bare))
  expect_match(result$output, "runyard_python_missing_error", fixed = TRUE)
  expect_match(result$output, "runyard_error", fixed = TRUE)
  expect_match(result$output, "install_runyard()", fixed = TRUE)
  expect_match(result$output, bare, fixed = TRUE)
})

test_that("install_runyard() makes a virtualenv that library(runyard) then uses", {
  skip_if_no_runyard()
  # It installs runyard from the repository's source, which a built package (R CMD check)
  # does not carry; `make test` runs this suite from the repository, so CI runs it.
  if (!file.exists(file.path(repo_root(), "pyproject.toml"))) {
    testthat::skip("runyard's Python source is not next to this package (R CMD check)")
  }
  home <- local_test_dir("runyard-venvs-")
  set <- c(paste0("WORKON_HOME=", home), paste0("RUNYARD_TEST_PYTHON=", python_bin()))
  installed <- run_r(paste0(
    "runyard::install_runyard(package = '", repo_root(), "', ",
    "envname = 'r-runyard', python = Sys.getenv('RUNYARD_TEST_PYTHON'))"), set = set)
  expect_equal(installed$status, 0L, info = installed$output)
  venv_python <- file.path(home, "r-runyard", "bin", "python")
  expect_true(file.exists(venv_python))
  # A new session with no RETICULATE_PYTHON finds the "r-runyard" virtualenv by itself.
  used <- run_r(paste(
    "library(runyard)",
    "cat(runyard_python()$`__version__`, reticulate::py_config()$python, sep = '\\n')", sep = "; "),
    set = paste0("WORKON_HOME=", home))
  expect_equal(used$status, 0L, info = used$output)
  expect_match(used$output, "0.1.0", fixed = TRUE)
  expect_match(used$output, file.path(home, "r-runyard"), fixed = TRUE)
})

# A folder holding a stub `runyard` package that shadows the real one on PYTHONPATH.
local_stub_runyard <- function(init, envir = parent.frame()) {
  stub <- local_test_dir("runyard-stub-", envir = envir)
  write_lines_to(stub, "runyard/__init__.py", init)
  stub
}

test_that("a runyard Python package older than this R package needs gives one actionable error", {
  skip_if_no_runyard()
  stub <- local_stub_runyard("__version__ = '0.0.1'")
  result <- run_r(paste(
    "library(runyard)",
    "e <- tryCatch(get_workspace(path = tempdir()), error = function(e) e)",
    "cat(class(e), sep = ',', fill = TRUE)",
    "cat(conditionMessage(e))", sep = "; "),
    set = c(paste0("RETICULATE_PYTHON=", python_bin()), paste0("PYTHONPATH=", stub)))
  expect_match(result$output, "runyard_python_missing_error", fixed = TRUE)
  expect_match(result$output, "runyard_error", fixed = TRUE)
  expect_match(result$output, paste0("at ", python_bin(), " is version 0.0.1; this R package needs ",
                                     min_python_version, " or newer"), fixed = TRUE)
  expect_match(result$output, "Upgrade it with install_runyard()", fixed = TRUE)
})

test_that("skip_if_no_runyard() fails rather than skips when RETICULATE_PYTHON names a Python without runyard", {
  skip_if_no_runyard()
  stub <- local_stub_runyard("raise ImportError('stub: runyard is broken here')")
  probe <- paste0(
    "source('", normalizePath(testthat::test_path("helper-runyard.R")), "'); ",
    "cat(tryCatch(skip_if_no_runyard(), skip = function(s) 'SKIPPED', ",
    "error = function(e) paste('FAILED:', conditionMessage(e))))")
  unset <- c("RETICULATE_PYTHON", "LD_LIBRARY_PATH", "CI")
  named <- run_r(probe, unset = unset,
                 set = c(paste0("RETICULATE_PYTHON=", python_bin()), paste0("PYTHONPATH=", stub)))
  expect_match(named$output, "FAILED:", fixed = TRUE)
  expect_match(named$output, paste0("RETICULATE_PYTHON=", python_bin()), fixed = TRUE)
  expect_match(named$output, "stub: runyard is broken here", fixed = TRUE)
  # With no Python named and no CI, the same broken import is a skip.
  unnamed <- run_r(probe, unset = unset, set = paste0("PYTHONPATH=", stub))
  expect_match(unnamed$output, "SKIPPED", fixed = TRUE)
})
