# AutoML from R: the configuration, its featurisation settings, the best model (whose
# predict() takes and returns R data frames), the leaderboard and the guardrails
# (runyard.automl). Python checks every rule, so its errors are the ones R users see.

automl_module <- function() {
  rpy()
  reticulate::import("runyard.automl")
}

#' Describe an AutoML run
#'
#' Azure ML's `AutoMLConfig` (which its R SDK never had): a table, the column to predict and
#' a budget. Submitted with [submit_experiment()], it tries featurisation, algorithms and
#' hyperparameters, each iteration a child run, and ends with a voting and a stack ensemble.
#' Classification and regression; the iterations need `runyard[automl]` in the Python that
#' runs them. See the AutoML guide for every setting.
#'
#' @param task `"classification"` or `"regression"`.
#' @param primary_metric The metric to optimise (Azure's names, e.g. `"AUC_weighted"`,
#'   `"r2_score"`); `NULL`: `"accuracy"` for classification,
#'   `"normalized_root_mean_squared_error"` for regression.
#' @param training_data A data frame, or a tabular dataset ([get_dataset_by_name()]).
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
#' @param model_explainability Log the best model's importance per raw column.
#' @param environment The environment of the iterations ([r_environment()] is not one:
#'   a Python environment with `runyard[automl]`); `NULL`: the Python this session uses.
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
                          enable_voting_ensemble = TRUE, enable_stack_ensemble = NULL, model_explainability = TRUE,
                          environment = NULL) {
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

#' The best iteration of an AutoML run, and its model
#'
#' @param automl_run An AutoML run, from [submit_experiment()] with an [automl_config()].
#' @param metric Best by this metric instead of the primary one.
#' @param iteration This iteration instead of the best.
#' @return A list: `run` (the iteration's run) and `model`, whose [predict()] takes a data
#'   frame of the training columns.
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
#' @param newdata A data frame of the training columns (the label may be left out).
#' @param type `"response"`: the predicted class or value of each row; `"prob"`
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

# A data frame as the pandas DataFrame AutoML takes (a dataset stays one).
as_table <- function(x, arg) {
  if (is.null(x) || inherits(x, "python.builtin.object")) return(x)
  if (!is.data.frame(x)) {
    arg_error(arg, sprintf("must be a data frame or a tabular dataset, not %s", describe(x)))
  }
  columns <- lapply(x, function(column) {
    if (inherits(column, "Date")) column <- format(column, "%Y-%m-%d")
    if (inherits(column, "POSIXt")) column <- format(column, "%Y-%m-%dT%H:%M:%S")
    if (is.factor(column)) column <- as.character(column)
    values <- as.list(column)
    values[is.na(column)] <- list(NULL)
    values
  })
  pandas <- reticulate::import("pandas")
  py_call(pandas$DataFrame(reticulate::dict(columns)))
}

# A run from submit_experiment() with an automl_config() is an AutoMLRun; one found again with
# get_run() is one too (runyard returns runs as their type).
check_automl_run <- function(automl_run, arg = "automl_run") {
  check_class(automl_run, "runyard.automl.run.AutoMLRun", arg,
              "an AutoML run (from submit_experiment() with an automl_config())")
}
