test_that("a Python script submitted from R logs metrics that R reads", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.py", c(
    "import sys",
    "from runyard import Run",
    "run = Run.get_context()",
    "alpha = float(sys.argv[1])",
    "for step in range(3):",
    "    run.log('loss', alpha / (step + 1))",
    "run.log('framework', 'python')",
    "run.log_list('scores', [1, 2, 3])",
    "run.log_row('grid', alpha=alpha, ok=True)",
    "open('outputs/model.txt', 'w').write('py-model')"
  ))
  exp <- experiment(fx$ws, "py-from-r")
  run <- submit_experiment(exp, script_run_config(fx$src, "train.py", arguments = list(0.5)))
  wait_for_run_completion(run, show_output = FALSE)
  expect_identical(get_run_details(run)$status, "Completed")
  metrics <- get_run_metrics(run)
  expect_equal(metrics$loss, c(0.5, 0.25, 0.5 / 3))
  expect_identical(metrics$framework, "python")
  expect_equal(metrics$scores, c(1, 2, 3))
  expect_equal(metrics$grid, data.frame(alpha = 0.5, ok = TRUE))
  expect_true("outputs/model.txt" %in% get_run_file_names(run))
})

test_that("an R script submitted from Python logs metrics that R reads back", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", c(
    "library(runyard)",
    "args <- commandArgs(trailingOnly = TRUE)",
    "log_metric_to_run('alpha', as.numeric(args[1]))",
    "log_metric_to_run('rmse', 1.25)",
    "log_metric_to_run('rmse', 0.75)",
    "log_metric_to_run('language', R.version$language)"
  ))
  code <- paste(
    "import sys",
    "from runyard import Workspace, Experiment, ScriptRunConfig",
    "ws = Workspace.get(sys.argv[1])",
    "exp = Experiment(ws, 'r-from-python')",
    "run = exp.submit(ScriptRunConfig(source_directory=sys.argv[2], script='train.R', arguments=['0.3']))",
    "run.wait_for_completion(show_output=False)",
    "print(run.id)",
    sep = "\n")
  out <- run_process(python_bin(), c("-c", shQuote(code), shQuote(file.path(fx$dir, ".runyard")),
                                     shQuote(fx$src)), env = python_env())
  run_id <- utils::tail(out, 1)
  expect_match(run_id, "^r-from-python_")

  run <- get_run(experiment(fx$ws, "r-from-python"), run_id)
  expect_identical(run$id, run_id)
  expect_identical(get_run_details(run)$status, "Completed")
  metrics <- get_run_metrics(run)
  expect_equal(metrics$alpha, 0.3)
  expect_equal(metrics$rmse, c(1.25, 0.75))
  expect_identical(metrics$language, "R")
})

test_that("an R script run outside any job logs to an offline run that prints", {
  skip_if_no_runyard()
  dir <- local_test_dir()
  script <- write_lines_to(dir, "train.R", c(
    "library(runyard)",
    "run <- get_current_run()",
    "cat('run type:', run$type, '\\n')",
    "log_metric_to_run('accuracy', 0.875)",
    "log_list_to_run('losses', c(3, 2))",
    "cat('metrics:', names(run$get_metrics()), '\\n')"
  ))
  out <- run_process(rscript_bin(), shQuote(script),
                     env = c(paste0("RETICULATE_PYTHON=", shQuote(python_bin())),
                             "RUNYARD_RUN_ID=", "RUNYARD_TRACKING_URI="))
  text <- paste(out, collapse = "\n")
  expect_match(text, "run type: offline", fixed = TRUE)
  expect_match(text, "[runyard offline] accuracy: 0.875", fixed = TRUE)
  expect_match(text, "[runyard offline] losses: [3.0, 2.0]", fixed = TRUE)
  expect_match(text, "metrics: accuracy losses", fixed = TRUE)
  # Nothing was written anywhere a workspace would be.
  expect_false(dir.exists(file.path(dir, ".runyard")))
})
