# AutoML from R: the configuration, its featurisation and forecasting settings, the best
# model (whose predict() and forecast_automl() take R data frames), the leaderboard and the
# guardrails (runyard.automl). Python checks every rule, so its errors are the ones R users see.

automl_module <- function() {
  rpy()
  reticulate::import("runyard.automl")
}

#' Describe an AutoML run
#'
#' Azure ML's `AutoMLConfig` (which its R SDK never had): a table, the column to predict and
#' a budget. Submitted with [submit_experiment()] (or run as a pipeline's [automl_step()]), it
#' tries featurisation, algorithms and hyperparameters, each iteration a child run, and ends
#' with a voting and a stack ensemble.
#' Classification, regression and forecasting (with [forecasting_parameters()]; scored on
#' rolling origins, no stack ensemble); the iterations need `runyard[automl]` in the Python
#' that runs them. See the AutoML guide for every setting.
#'
#' @param task `"classification"`, `"regression"` or `"forecasting"`.
#' @param primary_metric The metric to optimise (Azure's names, e.g. `"AUC_weighted"`,
#'   `"r2_score"`); `NULL`: `"accuracy"` for classification,
#'   `"normalized_root_mean_squared_error"` for regression and forecasting.
#' @param training_data A data frame, or a tabular dataset ([get_dataset_by_name()]). `Date`
#'   and `POSIXct` columns reach Python as date-times (a `POSIXct` as its wall-clock time).
#'   For an [automl_step()], also an earlier step's output read as a table
#'   ([read_delimited_files()], [read_parquet_files()]), passed to Python as it is.
#' @param label_column_name The column to predict.
#' @param validation_data A data frame or tabular dataset to score every iteration on.
#' @param validation_size A share of the rows to hold out (0 to 1).
#' @param n_cross_validations Folds of cross-validation (with `validation_size`: Monte Carlo).
#' @param cv_split_column_names Columns holding 1 (train) or 0 (validate), one per fold.
#' @param weight_column_name A column of row weights.
#' @param compute_target Where the iterations run (default: this machine).
#' @param iterations Iterations at most (1 to 1000; default 1000), ensembles included.
#' @param experiment_timeout_hours,experiment_timeout_minutes The budget (default 6 days).
#' @param iteration_timeout_minutes The most one iteration may take.
#' @param max_concurrent_iterations Iterations at once.
#' @param max_cores_per_iteration Threads per iteration (-1: all).
#' @param enable_early_stopping Stop after 10 iterations without improvement (never in the
#'   first 20).
#' @param experiment_exit_score Stop once an iteration scores this.
#' @param allowed_models,blocked_models Algorithm names (Azure's, e.g. `"LightGBM"`,
#'   `"RandomForest"`, `"LogisticRegression"`).
#' @param featurization `"auto"`, `"off"` or a [featurization_config()].
#' @param enable_voting_ensemble,enable_stack_ensemble The last two iterations.
#' @param model_explainability Log the best model's importance per raw column (`NULL`: yes,
#'   except for forecasting, which has none yet).
#' @param environment The environment of the iterations ([r_environment()] is not one:
#'   a Python environment with `runyard[automl]`); `NULL`: the Python this session uses.
#' @param forecasting_parameters For `task = "forecasting"` (and only then): a
#'   [forecasting_parameters()].
#' @return An AutoML configuration, for [submit_experiment()].
#' @examples
#' \dontrun{
#' config <- automl_config("classification", training_data = iris, label_column_name = "Species",
#'                         experiment_timeout_minutes = 5, max_concurrent_iterations = 2L)
#' run <- submit_experiment(experiment(ws, "iris-automl"), config)
#' wait_for_run_completion(run)
#' output <- get_automl_output(run)
#' predict(output$model, iris[1:5, ])
#' }
#' @export
automl_config <- function(task, primary_metric = NULL, training_data = NULL, label_column_name = NULL,
                          validation_data = NULL, validation_size = NULL, n_cross_validations = NULL,
                          cv_split_column_names = NULL, weight_column_name = NULL, compute_target = NULL,
                          iterations = NULL, experiment_timeout_hours = NULL, experiment_timeout_minutes = NULL,
                          iteration_timeout_minutes = NULL, max_concurrent_iterations = 1L,
                          max_cores_per_iteration = 1L, enable_early_stopping = TRUE, experiment_exit_score = NULL,
                          allowed_models = NULL, blocked_models = NULL, featurization = "auto",
                          enable_voting_ensemble = TRUE, enable_stack_ensemble = NULL, model_explainability = NULL,
                          environment = NULL, forecasting_parameters = NULL) {
  py_invoke(automl_module()$AutoMLConfig, task = task, primary_metric = primary_metric,
            training_data = as_table(training_data, "training_data"), label_column_name = label_column_name,
            validation_data = as_table(validation_data, "validation_data"), validation_size = validation_size,
            n_cross_validations = n_cross_validations, cv_split_column_names = cv_split_column_names,
            weight_column_name = weight_column_name, compute_target = compute_target, iterations = iterations,
            experiment_timeout_hours = experiment_timeout_hours,
            experiment_timeout_minutes = experiment_timeout_minutes,
            iteration_timeout_minutes = iteration_timeout_minutes,
            max_concurrent_iterations = max_concurrent_iterations, max_cores_per_iteration = max_cores_per_iteration,
            enable_early_stopping = enable_early_stopping, experiment_exit_score = experiment_exit_score,
            allowed_models = allowed_models, blocked_models = blocked_models, featurization = featurization,
            enable_voting_ensemble = enable_voting_ensemble, enable_stack_ensemble = enable_stack_ensemble,
            model_explainability = model_explainability, environment = environment,
            forecasting_parameters = forecasting_parameters,
            .integers = c("iterations", "n_cross_validations", "max_concurrent_iterations", "max_cores_per_iteration"),
            .lists = c("cv_split_column_names", "allowed_models", "blocked_models"))
}

#' Change AutoML's automatic featurisation
#'
#' @param blocked_transformers Transformers not to use (Azure's names: `"OneHotEncoder"`,
#'   `"HashOneHotEncoder"`, `"CountVectorizer"`, ...).
#' @param column_purposes A named character vector or list: column name = purpose
#'   (`"Numeric"`, `"Categorical"`, `"CategoricalHash"`, `"DateTime"`, `"Text"`, `"Ignore"`).
#' @param transformer_params A named list: transformer (`"Imputer"` or
#'   `"HashOneHotEncoder"`) = a list of entries, each `list(cols = ..., params = list(...))`.
#' @param drop_columns Columns to leave out.
#' @return A featurisation configuration, for [automl_config()]'s `featurization`.
#' @examples
#' \dontrun{
#' featurization <- featurization_config(
#'   column_purposes = c(zip = "CategoricalHash"),
#'   transformer_params = list(Imputer = list(list(cols = "age", params = list(strategy = "median")))))
#' }
#' @export
featurization_config <- function(blocked_transformers = NULL, column_purposes = NULL, transformer_params = NULL,
                                 drop_columns = NULL) {
  params <- NULL
  if (!is.null(transformer_params)) {
    if (!is.list(transformer_params) || is.null(names(transformer_params))) {
      arg_error("transformer_params", "must be a named list: transformer = list(list(cols = ..., params = ...))")
    }
    params <- lapply(transformer_params, function(entries) {
      lapply(entries, function(entry) {
        reticulate::tuple(as.list(as.character(entry$cols %||% character())), to_py(entry$params %||% list(), "dict"))
      })
    })
  }
  py_invoke(automl_module()$FeaturizationConfig, blocked_transformers = blocked_transformers,
            column_purposes = if (is.null(column_purposes)) NULL else as.list(column_purposes),
            transformer_params = params, drop_columns = drop_columns,
            .lists = c("blocked_transformers", "drop_columns"), .dicts = "column_purposes")
}

#' Describe the time series of a forecasting AutoML run
#'
#' Azure ML's `ForecastingParameters`, for [automl_config()] with `task = "forecasting"`. The
#' training data holds one row per series and period; the models forecast the periods after
#' its end ([forecast_automl()]). Whole numbers may be given as R's doubles (`14` or `14L`).
#'
#' @param time_column_name The column of timestamps (`Date`, `POSIXct` or text).
#' @param forecast_horizon How many periods past the data's end a model forecasts.
#' @param time_series_id_column_names The columns naming each series (`NULL`: one series).
#' @param target_lags Lags of the target as features of the regression models: a lag, a
#'   vector of lags, `"auto"` (from the partial autocorrelation) or `NULL` (none).
#' @param feature_lags `"auto"`: the numeric columns lagged by `target_lags` too; `NULL`: not.
#' @param target_rolling_window_size The mean, min and max of the target over the previous
#'   this many periods as features (2 or more), `"auto"` (one season) or `NULL` (none).
#' @param seasonality Periods in a season, or `"auto"` (detected; 1: none).
#' @param country_or_region_for_holidays An ISO country code (`"US"`, `"GB"`, ...): its
#'   holidays as features.
#' @param freq The data's frequency as a pandas offset alias (`"D"`, `"W-SUN"`, `"MS"`,
#'   `"h"`, ...); `NULL`: detected.
#' @param short_series_handling_configuration Series too short to validate: `"auto"`,
#'   `"pad"`, `"drop"` or `NULL` (an error).
#' @param cv_step_size Periods between the rolling origins of cross-validation, or `"auto"`
#'   (the horizon).
#' @return Forecasting parameters, for [automl_config()]'s `forecasting_parameters`.
#' @examples
#' \dontrun{
#' sales <- data.frame(day = rep(as.Date("2024-01-01") + 0:89, 2), store = rep(c("a", "b"), each = 90),
#'                     units = rpois(180, 20))
#' parameters <- forecasting_parameters("day", forecast_horizon = 7, time_series_id_column_names = "store",
#'                                      target_lags = c(1, 7))
#' config <- automl_config("forecasting", training_data = sales, label_column_name = "units",
#'                         forecasting_parameters = parameters, iterations = 5)
#' }
#' @export
forecasting_parameters <- function(time_column_name, forecast_horizon = 1L, time_series_id_column_names = NULL,
                                   target_lags = NULL, feature_lags = NULL, target_rolling_window_size = NULL,
                                   seasonality = "auto", country_or_region_for_holidays = NULL, freq = NULL,
                                   short_series_handling_configuration = "auto", cv_step_size = "auto") {
  py_invoke(automl_module()$ForecastingParameters, time_column_name = time_column_name,
            forecast_horizon = forecast_horizon, time_series_id_column_names = time_series_id_column_names,
            target_lags = target_lags, feature_lags = feature_lags,
            target_rolling_window_size = target_rolling_window_size, seasonality = seasonality,
            country_or_region_for_holidays = country_or_region_for_holidays, freq = freq,
            short_series_handling_configuration = short_series_handling_configuration, cv_step_size = cv_step_size,
            .integers = c("forecast_horizon", "target_lags", "target_rolling_window_size", "seasonality",
                          "cv_step_size"),
            # lags are a list even of one; "auto" stays text
            .lists = c("time_series_id_column_names", if (is.numeric(target_lags)) "target_lags"))
}

#' The best iteration of an AutoML run, and its model
#'
#' @param automl_run An AutoML run, from [submit_experiment()] with an [automl_config()].
#' @param metric Best by this metric instead of the primary one.
#' @param iteration This iteration instead of the best.
#' @return A list: `run` (the iteration's run) and `model`, whose [predict()] takes a data
#'   frame of the training columns (and, for forecasting, [forecast_automl()] too).
#' @examples
#' \dontrun{
#' output <- get_automl_output(run)
#' predict(output$model, new_rows)
#' predict(output$model, new_rows, type = "prob")
#' }
#' @export
get_automl_output <- function(automl_run, metric = NULL, iteration = NULL) {
  run <- check_automl_run(automl_run)
  found <- py_invoke(run$get_output, iteration = iteration, metric = metric, .integers = "iteration",
                     .defaults = c("iteration", "metric"))
  model <- structure(list(py = found[[2]], task = run$`_definition`()$settings$task), class = "runyard_automl_model")
  list(run = found[[1]], model = model)
}

#' Predict with an AutoML model
#'
#' @param object A model, from [get_automl_output()].
#' @param newdata A data frame of the training columns (the label may be left out); for a
#'   forecasting model, periods after the training data's end (see [forecast_automl()]).
#' @param type `"response"`: the predicted class or value (or forecast) of each row; `"prob"`
#'   (classification): a data frame with a column per class.
#' @param ... Not used.
#' @return A vector, or for `type = "prob"` a data frame.
#' @examples
#' \dontrun{
#' predict(output$model, iris[1:5, ])
#' }
#' @importFrom stats predict
#' @export
predict.runyard_automl_model <- function(object, newdata, type = c("response", "prob"), ...) {
  type <- match.arg(type)
  frame <- as_table(newdata, "newdata")
  if (type == "prob") {
    if (!identical(object$task, "classification")) {
      arg_error("type", "\"prob\" is for classification models; this one predicts values")
    }
    proba <- py_call(object$py$predict_proba(frame))
    classes <- as.character(unlist(py_call(object$py$classes_$tolist())))
    values <- py_call(proba$tolist())
    out <- as.data.frame(do.call(rbind, lapply(values, unlist)))
    names(out) <- classes
    return(out)
  }
  unlist(py_call(object$py$predict(frame)$tolist()))
}

#' Forecast with a forecasting AutoML model
#'
#' Azure's `model.forecast(X_future)`: the periods of `new_data` forecast for each of its
#' series. Every time must come after its series' end in the training data, on the data's
#' frequency; models with target lags or a rolling window need every period from that end
#' on. Columns other than the time and the series ids are known future values of the
#' training data's other columns (a promotion, a price).
#'
#' @param model A forecasting model, from [get_automl_output()] of a forecasting run.
#' @param new_data A data frame of the time column, the series id columns and the other
#'   training columns but the label.
#' @return A data frame, a row per row of `new_data` in its order: the time column and the
#'   series id columns as `new_data` has them (a `Date` stays a `Date`), and the forecast
#'   as `_automl_target_col` (Azure's name).
#' @examples
#' \dontrun{
#' output <- get_automl_output(run)
#' future <- data.frame(day = rep(as.Date("2024-03-30") + 1:7, 2), store = rep(c("a", "b"), each = 7))
#' forecast_automl(output$model, future)
#' }
#' @export
forecast_automl <- function(model, new_data) {
  if (!inherits(model, "runyard_automl_model") || !identical(model$task, "forecasting")) {
    what <- if (inherits(model, "runyard_automl_model")) sprintf("a %s model", model$task) else describe(model)
    arg_error("model", sprintf("must be a forecasting model (from get_automl_output() of a forecasting run), not %s",
                               what))
  }
  if (!is.data.frame(new_data)) arg_error("new_data", sprintf("must be a data frame, not %s", describe(new_data)))
  frame <- as_table(new_data, "new_data")
  # not converted: reticulate 1.28 would turn numpy 2's array and the pandas frame into garbage
  forecast <- reticulate::import_builtins(convert = FALSE)$getattr(model$py, "forecast")
  pair <- py_call(forecast$`__call__`(frame))
  values <- as.numeric(unlist(reticulate::py_to_r(reticulate::py_get_item(pair, 0L)$tolist())))
  columns <- unlist(reticulate::py_to_r(reticulate::py_get_item(pair, 1L)$columns$tolist()))
  # the time and id columns Python returns are new_data's own, in its order: R keeps their types
  out <- new_data[, columns[-length(columns)], drop = FALSE]
  out[[columns[[length(columns)]]]] <- values
  rownames(out) <- NULL
  out
}

#' An AutoML run's iterations, best first
#'
#' @inheritParams get_automl_output
#' @return A data frame: `iteration`, `run_id`, `status`, `algorithm`, `preprocessor`,
#'   `score` (the primary metric; `NA` without one) and `duration_seconds`.
#' @examples
#' \dontrun{
#' board <- get_automl_leaderboard(run)
#' barplot(board$score, names.arg = board$algorithm)
#' }
#' @export
get_automl_leaderboard <- function(automl_run) {
  rows <- py_call(check_automl_run(automl_run)$get_leaderboard())
  field <- function(name, type) vapply(rows, function(r) if (is.null(r[[name]])) NA else r[[name]], type)
  data.frame(iteration = field("iteration", integer(1)), run_id = field("run_id", character(1)),
             status = field("status", character(1)), algorithm = field("algorithm", character(1)),
             preprocessor = field("preprocessor", character(1)), score = field("score", numeric(1)),
             duration_seconds = field("duration_seconds", numeric(1)), stringsAsFactors = FALSE)
}

#' An AutoML run's data guardrails
#'
#' What AutoML found in the training data and what it did about it: validation split
#' handling, class balancing, missing-value imputation, high-cardinality columns.
#'
#' @inheritParams get_automl_output
#' @return A data frame: `type`, `status` (`"Passed"`, `"Done"` or `"Alerted"`),
#'   `description`, and `parameters` (the columns or classes concerned, as text).
#' @examples
#' \dontrun{
#' get_automl_guardrails(run)
#' }
#' @export
get_automl_guardrails <- function(automl_run) {
  results <- py_call(check_automl_run(automl_run)$get_guardrails(to_console = FALSE))
  faults <- results$faults %||% list()
  text <- function(f) {
    paste(vapply(f$friendly_parameters %||% list(), function(p) paste(names(p), unlist(p), sep = ": ", collapse = ", "),
                 character(1)), collapse = "; ")
  }
  data.frame(type = vapply(faults, function(f) f$friendly_type, character(1)),
             status = vapply(faults, function(f) f$result, character(1)),
             description = vapply(faults, function(f) f$friendly_result, character(1)),
             parameters = vapply(faults, text, character(1)), stringsAsFactors = FALSE)
}

# A data frame as the pandas DataFrame AutoML takes (a dataset, or a step's output, stays
# what it is: Python judges it). Dates and times become datetime64 columns, through their
# text: reticulate 1.28 cannot hand them over without numpy 1. A POSIXct keeps its
# wall-clock time in its own time zone (what its hour and weekday features should be; a
# daily series at local midnight stays on its grid across a change of summer time, an
# hourly one there needs the UTC zone).
as_table <- function(x, arg) {
  if (is.null(x) || inherits(x, "python.builtin.object")) return(x)
  if (!is.data.frame(x)) {
    arg_error(arg, sprintf("must be a data frame or a tabular dataset, not %s", describe(x)))
  }
  pandas <- reticulate::import("pandas", convert = FALSE)
  columns <- lapply(x, function(column) {
    dates <- inherits(column, c("Date", "POSIXt"))
    if (inherits(column, "Date")) column <- format(column, "%Y-%m-%d")
    if (inherits(column, "POSIXt")) column <- format(column, "%Y-%m-%dT%H:%M:%S")
    if (is.factor(column)) column <- as.character(column)
    values <- as.list(column)
    values[is.na(column)] <- list(NULL)
    if (dates) pandas$to_datetime(values) else values
  })
  py_call(pandas$DataFrame(reticulate::dict(columns)))
}

# A run from submit_experiment() with an automl_config() is an AutoMLRun; one found again with
# get_run() (an automl_step()'s run too) is a plain run of type "automl", seen here as the
# AutoML run it is.
check_automl_run <- function(automl_run, arg = "automl_run") {
  if (inherits(automl_run, "runyard.automl.run.AutoMLRun")) return(automl_run)
  if (inherits(automl_run, "runyard.run.Run") && identical(automl_run$type, "automl")) {
    return(py_call(automl_module()$AutoMLRun(automl_run$experiment, automl_run$id)))
  }
  check_class(automl_run, "runyard.automl.run.AutoMLRun", arg,
              "an AutoML run (from submit_experiment() with an automl_config())")
}
