test_that("estimator() trains an R script with Rscript and its script_params", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", c(
    "library(runyard)",
    "args <- commandArgs(trailingOnly = TRUE)",
    "degree <- as.integer(args[[which(args == '--degree') + 1]])",
    "fit <- lm(mpg ~ poly(hp, degree), data = mtcars)",
    "log_metric_to_run('r_squared', summary(fit)$r.squared)",
    "log_metric_to_run('degree', degree)",
    "dir.create('outputs', showWarnings = FALSE)",
    "saveRDS(fit, 'outputs/fit.rds')"))
  est <- estimator(fx$src, entry_script = "train.R", script_params = list("--degree" = 2))
  expect_s3_class(est, "runyard.estimators.r.REstimator")
  run <- submit_experiment(experiment(fx$ws, "r-estimator"), est)
  details <- wait_for_run_completion(run, show_output = FALSE)
  expect_equal(details$status, "Completed")
  metrics <- get_run_metrics(run)
  expect_equal(metrics$degree, 2)
  expect_gt(metrics$r_squared, 0.7)
  fit <- readRDS(download_file_from_run(run, "outputs/fit.rds", file.path(fx$dir, "fit.rds")))
  expect_s3_class(fit, "lm")
  expect_equal(get_run_details(run)$tags$estimator, "REstimator")
})

test_that("estimator() builds the Python frameworks' estimators too", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.py", "print(1)")
  est <- estimator(fx$src, entry_script = "train.py", framework = "PyTorch", node_count = 2)
  expect_s3_class(est, "runyard.estimators.pytorch.PyTorch")
  expect_equal(est$distributed_training$total_processes, 2L)
  expect_equal(est$environment$name, "runyard-pytorch-2.13-cpu")
  chainer <- estimator(fx$src, entry_script = "train.py", framework = "Chainer")
  expect_equal(chainer$environment$name, "runyard-chainer-7.8-cpu")
  rllib <- estimator(fx$src, entry_script = "train.py", framework = "RLlib")
  expect_equal(rllib$environment$name, "runyard-rllib-2.60-cpu")
})

test_that("estimator() refuses bad options before anything runs", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", "cat(1)")
  write_lines_to(fx$src, "train.py", "print(1)")
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.R", framework = "Caffe"), "runyard_config_error")
  expect_match(conditionMessage(err), "framework 'Caffe': use one of R, SKLearn, PyTorch", fixed = TRUE)
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.py", framework = "SKLearn",
                                        cran_packages = list("glmnet")), "runyard_config_error")
  expect_match(conditionMessage(err), "framework 'SKLearn' (SKLearn) does not take cran_packages", fixed = TRUE)
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.R", pip_packages = "six"), "runyard_config_error")
  expect_match(conditionMessage(err), "framework 'R' (REstimator) does not take pip_packages", fixed = TRUE)
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.R", environment = r_environment("mine"),
                                        cran_packages = list("glmnet")), "runyard_config_error")
  expect_match(conditionMessage(err), "environment_definition replaces cran_packages", fixed = TRUE)
  expect_runyard_error(estimator(fx$src, entry_script = "missing.R"), "runyard_config_error")
  expect_runyard_error(estimator(fx$src, entry_script = "train.py"), "runyard_config_error")
  # Only R's signature has azuremlsdk's Azure-only arguments, so R refuses them.
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.R", vm_size = "STANDARD_D2"),
                              "runyard_argument_error")
  expect_match(conditionMessage(err), "`vm_size` has no meaning here", fixed = TRUE)
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.py", framework = "SKLearn",
                                        node_count = 2), "runyard_config_error")
  expect_match(conditionMessage(err), "node_count")
  # use_gpu and the process counts reach the R estimator too: never dropped
  expect_true(estimator(fx$src, entry_script = "train.R", use_gpu = TRUE)$use_gpu)
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.R", node_count = 2), "runyard_config_error")
  expect_match(conditionMessage(err), "REstimator: node_count", fixed = TRUE)
  err <- expect_runyard_error(estimator(fx$src, entry_script = "train.R", process_count_per_node = 2),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "process_count_per_node", fixed = TRUE)
})

test_that("r_environment() refuses use_gpu = TRUE rather than dropping it", {
  err <- expect_runyard_error(r_environment("gpu", use_gpu = TRUE), "runyard_argument_error")
  expect_match(conditionMessage(err), "estimator(use_gpu = TRUE)", fixed = TRUE)
  expect_null(r_environment("cpu", use_gpu = FALSE)$docker$base_image)
})
