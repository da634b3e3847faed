# AutoML as a pipeline step from R: an R step writes a CSV, the AutoML step trains on it read
# as a table, and a Python step loads the model it hands on.

# House prices: 2 a square metre, and 60 more in the north.
WRITE_HOUSES_R <- c(
  "args <- commandArgs(trailingOnly = TRUE)",
  "out <- args[match('--out', args) + 1]",
  "set.seed(4)",
  "size <- runif(200, 40, 200)",
  "town <- sample(c('north', 'south'), 200, TRUE)",
  "price <- 2 * size + ifelse(town == 'north', 60, 0) + rnorm(200, sd = 10)",
  "write.csv(data.frame(size = size, town = town, price = price), file.path(out, 'houses.csv'), row.names = FALSE)"
)
USE_MODEL_PY <- c(
  "import argparse, json, os, pickle",
  "import pandas as pd",
  "from runyard import Run",
  "p = argparse.ArgumentParser(); p.add_argument('--model'); p.add_argument('--metrics'); a = p.parse_args()",
  "with open(os.path.join(a.model, 'model.pkl'), 'rb') as fh:",
  "    model = pickle.load(fh)",
  "predicted = model.predict(pd.DataFrame({'size': [100.0, 100.0], 'town': ['north', 'south']}))",
  "with open(os.path.join(a.metrics, 'metrics.json')) as fh:",
  "    metrics = json.load(fh)",
  "run = Run.get_context()",
  "run.log('north_premium', float(predicted[0] - predicted[1]))",
  "run.log('iterations_seen', len(metrics))"
)

houses_config <- function(training_data) {
  automl_config("regression", primary_metric = "r2_score", training_data = training_data,
                label_column_name = "price", iterations = 3, allowed_models = c("ElasticNet"),
                enable_stack_ensemble = FALSE, model_explainability = FALSE)
}

test_that("an AutoML step trains on an R step's CSV and a Python step loads the model it hands on", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "write_houses.R", WRITE_HOUSES_R)
  write_lines_to(fx$src, "use_model.py", USE_MODEL_PY)
  houses <- read_delimited_files(output_file_dataset_config("houses"))
  expect_s3_class(houses, "runyard.pipeline.data.OutputFileDatasetConfig")
  write <- r_script_step("write_houses.R", name = "write", arguments = list("--out", houses),
                         source_directory = fx$src)
  model <- pipeline_data("model", training_output = training_output("Model"))
  train <- automl_step("train", houses_config(houses), outputs = list(model))
  expect_s3_class(train, "runyard.pipeline.automl_step.AutoMLStep")
  # The model is the one given; the metrics are the default output, under Azure's name.
  expect_identical(vapply(train$outputs, function(o) o$name, character(1)), c("model", "default_metrics_train"))
  metrics <- train$outputs[[2]]
  use <- python_script_step("use_model.py", name = "use",
                            arguments = list("--model", as_input(model), "--metrics", as_input(metrics)),
                            source_directory = fx$src)
  exp <- experiment(fx$ws, "houses-automl-step")

  run <- submit_pipeline(exp, pipeline(fx$ws, list(write, train, use)))
  expect_identical(wait_for_run_completion(run, show_output = FALSE)$status, "Completed")
  steps <- get_pipeline_steps(run)
  expect_identical(steps$name, c("write", "train", "use"))
  expect_identical(steps$status, rep("Completed", 3))
  automl <- get_run(exp, steps$run_id[2])
  expect_identical(automl$type, "automl")
  expect_true(all(c("outputs/model/model.pkl", "outputs/default_metrics_train/metrics.json") %in%
                    get_run_file_names(automl)))
  used <- get_run_metrics(get_run(exp, steps$run_id[3]))
  expect_identical(used$iterations_seen, 3L)
  expect_true(used$north_premium > 30 && used$north_premium < 90)  # the town's premium of 60, learnt

  # The step's run, found again, is an AutoML run to R's AutoML functions; its best model is
  # the one the Python step loaded.
  board <- get_automl_leaderboard(automl)
  expect_identical(nrow(board), 3L)
  expect_setequal(board$algorithm, c("ElasticNet", "VotingEnsemble"))
  predicted <- predict(get_automl_output(automl)$model, data.frame(size = c(100, 100), town = c("north", "south")))
  expect_equal(predicted[[1]] - predicted[[2]], used$north_premium, tolerance = 1e-6)

  # Resubmitted unchanged: every step reuses the first run's, the AutoML step with its outputs.
  again <- submit_pipeline(exp, pipeline(fx$ws, list(write, train, use)))
  expect_identical(wait_for_run_completion(again, show_output = FALSE)$status, "Completed")
  expect_identical(get_pipeline_steps(again)$reused_from, steps$run_id)
})

test_that("bad AutoML step arguments get Python's errors", {
  skip_if_no_runyard()
  config <- houses_config(data.frame(size = c(50, 60, 70), price = c(100, 120, 140)))
  cnd <- expect_runyard_error(automl_step("train", config, outputs = list(output_file_dataset_config("other"))),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "AutoMLStep 'train': outputs[0] must be a PipelineData with training_output",
               fixed = TRUE)
  cnd <- expect_runyard_error(automl_step("train", config, outputs = list(pipeline_data("other"))),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "outputs[0] must be a PipelineData with training_output", fixed = TRUE)
  cnd <- expect_runyard_error(automl_step("train", "config"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "automl_config must be an AutoMLConfig, got str", fixed = TRUE)
  # An output read as files, not as a table, is no training data.
  cnd <- expect_runyard_error(automl_step("train", houses_config(output_file_dataset_config("prepared"))),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "say how to read it as a table: prepared.read_delimited_files()", fixed = TRUE)
  cnd <- expect_runyard_error(automl_step("train", config, enable_default_model_output = "yes"),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "enable_default_model_output must be True or False", fixed = TRUE)

  cnd <- expect_runyard_error(training_output("Best"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "TrainingOutput: type must be 'Model' or 'Metrics', got 'Best'", fixed = TRUE)
  cnd <- expect_runyard_error(training_output("Model", iteration = 1, metric = "r2_score"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "give iteration or metric, not both", fixed = TRUE)
  expect_identical(training_output("Model", iteration = 2)$iteration, 2L)  # R's 2 is Python's int
  cnd <- expect_runyard_error(pipeline_data("model", training_output = "Model"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "training_output must be a TrainingOutput, got str", fixed = TRUE)

  cnd <- expect_runyard_error(read_delimited_files(output_file_dataset_config("t"), separator = ";;"),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "read_delimited_files: separator must be one character", fixed = TRUE)
  parquet <- read_parquet_files(output_file_dataset_config("t"), set_column_types = c(size = "float"))
  expect_identical(parquet$`_format`$kind, "parquet")
  cnd <- expect_runyard_error(read_parquet_files("t"), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`output` must be an output", fixed = TRUE)
})
