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

test_that("arguments of the wrong type are runyard_argument_errors raised before any run exists", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", "cat('never runs\\n')")
  exp <- experiment(fx$ws, "errors")

  cnd <- expect_runyard_error(script_run_config(source_directory = 5, script = "train.R"),
                              "runyard_argument_error")
  expect_match(conditionMessage(cnd), "source_directory", fixed = TRUE)

  cnd <- tryCatch(log_metric_to_run(1, 2), runyard_argument_error = function(e) e)
  expect_s3_class(cnd, "runyard_argument_error")
  expect_s3_class(cnd, "runyard_error")
  expect_match(conditionMessage(cnd), "`name`", fixed = TRUE)

  cfg <- script_run_config(fx$src, "train.R")
  cnd <- expect_runyard_error(submit_experiment("x", cfg), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`experiment`", fixed = TRUE)

  cnd <- expect_runyard_error(submit_experiment(exp, "train.R"), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`config`", fixed = TRUE)

  cnd <- expect_runyard_error(script_run_config(fx$src, "no_such_script.R"), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "no_such_script.R", fixed = TRUE)

  cnd <- expect_runyard_error(script_run_config(file.path(fx$dir, "no-such-folder"), "train.R"),
                              "runyard_argument_error")
  expect_match(conditionMessage(cnd), "no-such-folder", fixed = TRUE)

  expect_runyard_error(get_run_metrics("not a run"), "runyard_argument_error")
  expect_runyard_error(experiment(fx$ws, c("a", "b")), "runyard_argument_error")
  expect_length(get_runs_in_experiment(exp), 0)
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
  expect_runyard_error(script_run_config(fx$src, "slow.R", max_run_duration_seconds = 1.5), "runyard_argument_error")
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
