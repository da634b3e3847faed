test_that("an unknown compute target is a runyard_config_error at submit and creates no run", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", "cat('never runs\\n')")
  exp <- experiment(fx$ws, "errors")
  cfg <- script_run_config(fx$src, "train.R", compute_target = "no-such-cluster")
  cnd <- tryCatch(submit_experiment(exp, cfg), runyard_config_error = function(e) e)
  expect_s3_class(cnd, "runyard_config_error")
  expect_s3_class(cnd, "runyard_error")
  expect_match(conditionMessage(cnd), "no-such-cluster", fixed = TRUE)
  expect_match(conditionMessage(cnd), "local", fixed = TRUE)
  expect_length(get_runs_in_experiment(exp), 0)
})

test_that("get_run with an unknown id is a runyard_run_not_found_error", {
  skip_if_no_runyard()
  fx <- local_workspace()
  exp <- experiment(fx$ws, "errors")
  cnd <- tryCatch(get_run(exp, "errors_0_deadbeef"), runyard_not_found_error = function(e) e)
  expect_s3_class(cnd, "runyard_run_not_found_error")
  expect_s3_class(cnd, "runyard_not_found_error")
  expect_s3_class(cnd, "runyard_error")
  expect_match(conditionMessage(cnd), "errors_0_deadbeef", fixed = TRUE)
  # The message is runyard's, not a Python traceback.
  expect_false(grepl("Traceback", conditionMessage(cnd), fixed = TRUE))
  expect_runyard_error(get_run(exp, "errors_0_deadbeef"), "runyard_run_not_found_error")
})

test_that("a bad argument is refused by Python, once, with the argument named, before any run exists", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", "cat('never runs\\n')")
  exp <- experiment(fx$ws, "errors")
  run <- start_logging_run(experiment(fx$ws, "errors-logging"))
  on.exit(complete_run(run), add = TRUE)

  # R passes the argument on unchecked; the error is Python's ConfigError, naming the field.
  cnd <- expect_runyard_error(script_run_config(source_directory = 5, script = "train.R"), "runyard_config_error")
  expect_false(inherits(cnd, "runyard_argument_error"))
  expect_match(conditionMessage(cnd), "ScriptRunConfig: field 'source_directory': Input should be a valid string",
               fixed = TRUE)
  cnd <- expect_runyard_error(log_metric_to_run(1, 2, run = run), "runyard_config_error")
  expect_match(conditionMessage(cnd), "metric name 1.0 must be a non-empty string", fixed = TRUE)
  cnd <- expect_runyard_error(log_metric_to_run("m", c(1, 2), run = run), "runyard_config_error")
  expect_match(conditionMessage(cnd), "metric 'm': value [1.0, 2.0] of type list is not a number", fixed = TRUE)
  cnd <- expect_runyard_error(experiment(fx$ws, c("a", "b")), "runyard_config_error")
  expect_match(conditionMessage(cnd), "experiment name ['a', 'b']: use 1-200 letters", fixed = TRUE)
  cnd <- expect_runyard_error(experiment("not a workspace", "errors"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "workspace must be a Workspace", fixed = TRUE)
  cnd <- expect_runyard_error(get_run("not an experiment", "errors_0_deadbeef"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "experiment must be an Experiment", fixed = TRUE)
  cnd <- expect_runyard_error(submit_experiment(exp, "train.R"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "Experiment.submit: cannot submit a str", fixed = TRUE)
  cnd <- expect_runyard_error(get_run_metrics(run, name = 5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "name: expected a string, got float", fixed = TRUE)
  cnd <- expect_runyard_error(download_file_from_run(run, 5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "name must be the file's name in the run", fixed = TRUE)
  cnd <- expect_runyard_error(create_child_run(run, name = 5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "display_name: expected a string, got float", fixed = TRUE)
  cnd <- expect_runyard_error(create_workspace(path = 5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "path must be a folder path", fixed = TRUE)
  cnd <- expect_runyard_error(mpi_configuration(process_count_per_node = 0), "runyard_config_error")
  expect_match(conditionMessage(cnd), "field 'process_count_per_node': Input should be greater than or equal to 1",
               fixed = TRUE)
  cnd <- expect_runyard_error(log_row_to_run("epochs", run = run), "runyard_config_error")
  expect_match(conditionMessage(cnd), "log_row takes the row's columns as named values", fixed = TRUE)

  # A script or folder that is not there: Python checks when the run is submitted.
  cnd <- expect_runyard_error(submit_experiment(exp, script_run_config(fx$src, "no_such_script.R")),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "script 'no_such_script.R' does not exist", fixed = TRUE)
  cnd <- expect_runyard_error(submit_experiment(exp, script_run_config(file.path(fx$dir, "no-such-folder"), "train.R")),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "source_directory '.*no-such-folder' does not exist")
  cnd <- expect_runyard_error(submit_experiment(exp, script_run_config(fx$src)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "give script= (a file in source_directory) or command=", fixed = TRUE)

  # What R checks itself: an object whose method R calls, and values that would not
  # survive the trip to Python (an unnamed column, a name given twice).
  cnd <- expect_runyard_error(submit_experiment("x", script_run_config(fx$src, "train.R")), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`experiment` must be an experiment", fixed = TRUE)
  expect_runyard_error(get_run_metrics("not a run"), "runyard_argument_error")
  cnd <- expect_runyard_error(log_row_to_run("epochs", 1, run = run), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`...` must be named values", fixed = TRUE)
  cnd <- expect_runyard_error(submit_experiment(exp, script_run_config(fx$src, "train.R"), tags = list(a = 1, a = 2)),
                              "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`tags` names a twice", fixed = TRUE)
  # An R argument error is a runyard_config_error too, as Python's argument errors are.
  expect_s3_class(cnd, "runyard_config_error")
  expect_length(get_runs_in_experiment(exp), 0)
})

test_that("R values reach Python as their own types: whole numbers, NULL, NA, named lists", {
  skip_if_no_runyard()
  to_py <- runyard:::to_py
  as_whole_numbers <- runyard:::as_whole_numbers
  expect_identical(as_whole_numbers(2), 2L)
  expect_identical(as_whole_numbers(c(1, 2)), 1:2)
  expect_identical(as_whole_numbers(2.5), 2.5)  # for Python to refuse, naming the field
  expect_identical(as_whole_numbers("2"), "2")
  expect_null(to_py(NULL))
  expect_null(to_py(NA))
  expect_identical(to_py(c(1, NA)), list(1, NULL))
  expect_s3_class(to_py(list(a = 1)), "python.builtin.dict")
  expect_s3_class(to_py(c(a = 1)), "python.builtin.dict")
  expect_s3_class(to_py(list(), "dict"), "python.builtin.dict")
  expect_identical(to_py("x", "list"), list("x"))
  expect_identical(to_py(factor("a")), "a")
})

test_that("a failing R script is a runyard_run_failed_error carrying the script's error", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "fail.R", c("library(runyard)", "log_metric_to_run('epoch', 1)",
                                      "cat('about to fail\\n')", "stop('boom')"))
  exp <- experiment(fx$ws, "errors")
  run <- submit_experiment(exp, script_run_config(fx$src, "fail.R"))
  cnd <- tryCatch(wait_for_run_completion(run, show_output = FALSE),
                  runyard_run_failed_error = function(e) e)
  expect_s3_class(cnd, "runyard_run_failed_error")
  expect_s3_class(cnd, "runyard_error")
  expect_match(conditionMessage(cnd), "boom", fixed = TRUE)
  expect_match(conditionMessage(cnd), run$id, fixed = TRUE)

  details <- wait_for_run_completion(run, show_output = FALSE, raise_on_error = FALSE)
  expect_identical(details$status, "Failed")
  expect_identical(details$exitCode, 1L)
  expect_match(details$error, "boom", fixed = TRUE)
  expect_identical(utils::tail(details$statusHistory$status, 1), "Failed")
  # What the script logged before it failed is kept.
  expect_equal(get_run_metrics(run), list(epoch = 1))
  expect_length(get_runs_in_experiment(exp), 1)
})

test_that("a run over max_run_duration_seconds is stopped and Failed", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "slow.R", c("Sys.sleep(300)", "cat('woke up\\n')"))
  exp <- experiment(fx$ws, "errors")
  run <- submit_experiment(exp, script_run_config(fx$src, "slow.R", max_run_duration_seconds = 1))
  cnd <- tryCatch(wait_for_run_completion(run, show_output = FALSE), runyard_run_failed_error = function(e) e)
  expect_s3_class(cnd, "runyard_run_failed_error")
  expect_match(conditionMessage(cnd), "max_run_duration_seconds", fixed = TRUE)
  expect_identical(get_run_details(run)$status, "Failed")
  cnd <- expect_runyard_error(script_run_config(fx$src, "slow.R", max_run_duration_seconds = 1.5),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "field 'max_run_duration_seconds': Input should be a valid integer", fixed = TRUE)
})

test_that("get_current_run(allow_offline = FALSE) outside a job is a runyard_error", {
  skip_if_no_runyard()
  cnd <- expect_runyard_error(get_current_run(allow_offline = FALSE), "runyard_error")
  expect_match(conditionMessage(cnd), "outside a runyard job", fixed = TRUE)
})

test_that("get_workspace() on a folder without a workspace names `path` in a runyard_not_found_error", {
  skip_if_no_runyard()
  missing <- file.path(local_test_dir(), "no-workspace-here")
  cnd <- expect_runyard_error(get_workspace(path = missing), "runyard_not_found_error")
  expect_match(conditionMessage(cnd), "`path`", fixed = TRUE)
  expect_match(conditionMessage(cnd), "no runyard workspace at", fixed = TRUE)
  expect_match(conditionMessage(cnd), "no-workspace-here", fixed = TRUE)
  expect_identical(conditionCall(cnd)[[1]], quote(get_workspace))
})

test_that("Python errors map to R classes by their class hierarchy", {
  skip_if_no_runyard()
  classes <- function(expr) class(tryCatch(expr, error = function(e) e))
  errors <- reticulate::import("runyard.errors")
  raise <- function(python_class, message = "boom") {
    reticulate::py_run_string("def _runyard_raise(cls, message):\n    raise cls(message)\n")
    runyard:::py_call(reticulate::py_eval("_runyard_raise")(python_class, message))
  }
  expect_identical(classes(raise(errors$RunNotFoundError)),
                   c("runyard_run_not_found_error", "runyard_not_found_error", "runyard_error", "error", "condition"))
  expect_identical(classes(raise(errors$SnapshotError)),
                   c("runyard_snapshot_error", "runyard_config_error", "runyard_error", "error", "condition"))
  expect_identical(classes(raise(errors$RunyardError)), c("runyard_error", "error", "condition"))
  # Not runyard's: a Python error all the same, with Python's message.
  cnd <- tryCatch(raise(reticulate::import_builtins()$KeyError, "k"), error = function(e) e)
  expect_identical(class(cnd), c("runyard_python_error", "runyard_error", "error", "condition"))
  expect_match(conditionMessage(cnd), "k", fixed = TRUE)
})

test_that("a Python subclass defined now gets its parents' R classes without a change to R", {
  skip_if_no_runyard()
  reticulate::py_run_string(paste(
    "from runyard.errors import ComputeError, ConfigError, NotFoundError",
    "class QuotaExceededError(ComputeError): pass",
    "class GPUQuotaExceededError(QuotaExceededError): pass",
    "class MissingDatastoreError(NotFoundError, ConfigError): pass",
    "def raise_gpu_quota(): raise GPUQuotaExceededError('no GPU left in quota')",
    "def raise_missing_datastore(): raise MissingDatastoreError('no datastore named blobs')",
    sep = "\n"))
  main <- reticulate::import_main()
  cnd <- tryCatch(runyard:::py_call(main$raise_gpu_quota()), runyard_compute_error = function(e) e)
  expect_identical(class(cnd), c("runyard_gpu_quota_exceeded_error", "runyard_quota_exceeded_error",
                                 "runyard_compute_error", "runyard_error", "error", "condition"))
  expect_identical(conditionMessage(cnd), "no GPU left in quota")
  expect_s3_class(cnd$python_exception, "python.builtin.object")
  # Several parents: every runyard class in Python's method resolution order, in that order.
  cnd <- tryCatch(runyard:::py_call(main$raise_missing_datastore()), runyard_not_found_error = function(e) e)
  expect_identical(class(cnd), c("runyard_missing_datastore_error", "runyard_not_found_error",
                                 "runyard_config_error", "runyard_error", "error", "condition"))
})

test_that("class names are the Python names in snake case", {
  expect_identical(runyard:::snake_case("RunNotFoundError"), "run_not_found_error")
  expect_identical(runyard:::snake_case("HTTPError"), "http_error")
  expect_identical(runyard:::snake_case("RunyardError"), "error")
  expect_identical(runyard:::snake_case("EnvironmentBuildError"), "environment_build_error")
})
