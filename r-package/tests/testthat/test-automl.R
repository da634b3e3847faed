# AutoML built and submitted from R, on R data frames: the best model predicts R data frames
# (and forecasts them, with Date columns), the leaderboard and the guardrails are data frames,
# and bad settings get Python's errors.

test_that("classification of iris from R: the best model predicts species of R rows", {
  skip_if_no_runyard()
  fx <- local_workspace()
  config <- automl_config("classification", training_data = iris, label_column_name = "Species",
                          iterations = 5L, max_concurrent_iterations = 2L,
                          allowed_models = c("LightGBM", "LogisticRegression"))
  run <- submit_experiment(experiment(fx$ws, "iris-automl"), config)
  expect_s3_class(run, "runyard.automl.run.AutoMLRun")
  expect_identical(wait_for_run_completion(run, show_output = FALSE)$status, "Completed")

  board <- get_automl_leaderboard(run)
  expect_s3_class(board, "data.frame")
  expect_identical(nrow(board), 5L)
  expect_true(all(c("LightGBM", "LogisticRegression", "VotingEnsemble", "StackEnsemble") %in% board$algorithm))
  expect_identical(board$score, sort(board$score, decreasing = TRUE))

  output <- get_automl_output(run)
  expect_identical(output$run$id, board$run_id[[1]])
  predicted <- predict(output$model, iris[c(1, 51, 101), ])
  expect_identical(predicted, c("setosa", "versicolor", "virginica"))
  proba <- predict(output$model, iris[1:4, names(iris) != "Species"], type = "prob")
  expect_identical(names(proba), c("setosa", "versicolor", "virginica"))
  expect_equal(rowSums(proba), rep(1, 4), tolerance = 1e-6)
  expect_true(mean(predict(output$model, iris) == iris$Species) > 0.9)

  guardrails <- get_automl_guardrails(run)
  expect_identical(guardrails$status[guardrails$type == "Class balancing detection"], "Passed")
  expect_match(guardrails$description[guardrails$type == "Validation split handling"], "10-fold")
})

test_that("regression with a featurization config, on a data frame with factors, dates and gaps", {
  skip_if_no_runyard()
  fx <- local_workspace()
  set.seed(3)
  n <- 200
  cars <- data.frame(weight = runif(n, 1, 3), gear = factor(sample(c("3", "4", "5"), n, TRUE)),
                     made = as.Date("2020-01-01") + sample(0:700, n, TRUE))
  cars$mpg <- 40 - 8 * cars$weight + ifelse(cars$gear == "5", 3, 0) + rnorm(n)
  cars$weight[1:6] <- NA
  featurization <- featurization_config(
    column_purposes = c(gear = "Categorical"),
    transformer_params = list(Imputer = list(list(cols = "weight", params = list(strategy = "median")))))
  config <- automl_config("regression", primary_metric = "r2_score", training_data = cars,
                          label_column_name = "mpg", iterations = 3L, validation_size = 0.25,
                          allowed_models = c("LightGBM", "ElasticNet"), featurization = featurization)
  run <- submit_experiment(experiment(fx$ws, "cars-automl"), config)
  expect_identical(wait_for_run_completion(run, show_output = FALSE)$status, "Completed")
  output <- get_automl_output(run)
  predicted <- predict(output$model, cars[1:5, c("weight", "gear", "made")])
  expect_true(is.numeric(predicted) && length(predicted) == 5)
  expect_true(get_automl_leaderboard(run)$score[[1]] > 0.3)  # three cheap iterations: learned, not tuned
  expect_runyard_error(predict(output$model, cars, type = "prob"), "runyard_config_error")
})

# Daily sales of two stores: a weekly season, a level per store and a promotion known ahead.
store_sales <- function(days, start = as.Date("2024-01-01")) {
  set.seed(11)
  day <- rep(start + seq_len(days) - 1, 2)
  store <- rep(c("north", "south"), each = days)
  promo <- sample(0:1, 2 * days, TRUE)
  weekly <- c(0, 1, 2, 3, 6, 9, 4)[as.integer(format(day, "%u"))]
  data.frame(day = day, store = store, promo = promo,
             units = 20 + ifelse(store == "south", 15, 0) + 2 * weekly + 5 * promo + rnorm(2 * days, sd = 0.5))
}

test_that("forecasting two daily series from R: Date columns in, a data frame of forecasts out", {
  skip_if_no_runyard()
  fx <- local_workspace()
  sales <- store_sales(85)
  history <- sales[sales$day < as.Date("2024-03-21"), ]  # 80 days a store, then 5 to forecast
  future <- sales[sales$day >= as.Date("2024-03-21"), ]
  parameters <- forecasting_parameters("day", forecast_horizon = 5, time_series_id_column_names = "store",
                                       target_lags = c(1, 7), seasonality = 7)
  expect_identical(parameters$forecast_horizon, 5L)
  expect_identical(parameters$target_lags, c(1L, 7L))
  config <- automl_config("forecasting", training_data = history, label_column_name = "units",
                          forecasting_parameters = parameters, iterations = 3,
                          allowed_models = c("SeasonalNaive", "ElasticNet"))
  run <- submit_experiment(experiment(fx$ws, "stores-forecast"), config)
  expect_identical(wait_for_run_completion(run, show_output = FALSE)$status, "Completed")

  board <- get_automl_leaderboard(run)
  expect_setequal(board$algorithm, c("SeasonalNaive", "ElasticNet", "VotingEnsemble"))
  guardrails <- get_automl_guardrails(run)
  expect_match(guardrails$description[guardrails$type == "Frequency detection"], "'D'", fixed = TRUE)

  output <- get_automl_output(run)
  new_data <- future[order(future$store != "south", future$day), names(future) != "units"]  # south first
  forecast <- forecast_automl(output$model, new_data)
  expect_s3_class(forecast, "data.frame")
  expect_identical(names(forecast), c("day", "store", "_automl_target_col"))
  expect_s3_class(forecast$day, "Date")
  expect_identical(forecast$day, new_data$day)
  expect_identical(forecast$store, new_data$store)
  actual <- future$units[match(paste(new_data$store, new_data$day), paste(future$store, future$day))]
  expect_true(mean(abs(forecast$`_automl_target_col` - actual)) < 3)  # the stores' levels and the weekday learnt
  expect_equal(predict(output$model, new_data), forecast$`_automl_target_col`)

  err <- expect_runyard_error(forecast_automl(output$model, history[1:2, names(history) != "units"]),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "which is not after the training data's end", fixed = TRUE)
  regression <- list(py = NULL, task = "regression")
  class(regression) <- "runyard_automl_model"
  err <- expect_runyard_error(forecast_automl(regression, new_data), "runyard_argument_error")
  expect_match(conditionMessage(err), "`model` must be a forecasting model", fixed = TRUE)
})

test_that("bad AutoML settings get runyard's condition classes with Python's message", {
  skip_if_no_runyard()
  err <- expect_runyard_error(automl_config("classification", primary_metric = "r2_score", training_data = iris,
                                            label_column_name = "Species"), "runyard_config_error")
  expect_match(conditionMessage(err), "primary_metric 'r2_score' does not fit task 'classification'", fixed = TRUE)
  err <- expect_runyard_error(automl_config("classification", training_data = list(a = 1),
                                            label_column_name = "a"), "runyard_config_error")
  expect_match(conditionMessage(err), "`training_data` must be a data frame or a tabular dataset", fixed = TRUE)
  err <- expect_runyard_error(featurization_config(column_purposes = c(x = "Number")), "runyard_config_error")
  expect_match(conditionMessage(err), "feature_type must be one of Numeric", fixed = TRUE)
  err <- expect_runyard_error(forecasting_parameters("day", forecast_horizon = 0), "runyard_config_error")
  expect_match(conditionMessage(err), "forecast_horizon must be a whole number from 1 to 100000, got 0", fixed = TRUE)
  err <- expect_runyard_error(automl_config("forecasting", training_data = store_sales(20), label_column_name = "units"),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "task='forecasting' needs forecasting_parameters", fixed = TRUE)
})
