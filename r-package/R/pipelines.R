# Pipelines: steps linked by their data, submitted as one pipeline run with a child run
# per step (runyard.pipeline). Steps, data and parameters are the Python objects
# themselves, so a pipeline built here is the pipeline Python would build.

#' A folder a pipeline step writes and later steps read
#'
#' Put it in a step's `arguments` (the script gets the folder to write) or
#' `outputs`; a later step reads it through [as_input()]. Its files are kept with
#' the step's run under `outputs/<name>/`.
#'
#' @param name The output's name: letters, digits and `_`, not starting with a digit.
#' @return An output, for [python_script_step()] and the other steps.
#' @examples
#' \dontrun{
#' prepared <- output_file_dataset_config("prepared")
#' prep <- r_script_step("prep.R", arguments = list("--out", prepared), source_directory = "src")
#' }
#' @export
output_file_dataset_config <- function(name) {
  py_invoke(rpy()$OutputFileDatasetConfig, name = name)
}

#' A folder a pipeline step writes (Azure ML's older name)
#'
#' The same as [output_file_dataset_config()], under the name `PipelineData`
#' had in Azure ML pipelines. With a `training_output` it is an output of an
#' [automl_step()]: its model or its metrics.
#'
#' @param name The output's name: letters, digits and `_`, not starting with a digit.
#' @param training_output For an [automl_step()]'s `outputs`: which of its results
#'   the folder holds, a [training_output()].
#' @return An output, for [python_script_step()] and the other steps.
#' @examples
#' \dontrun{
#' data <- pipeline_data("data")
#' model <- pipeline_data("model", training_output = training_output("Model"))
#' }
#' @export
pipeline_data <- function(name, training_output = NULL) {
  py_invoke(rpy()$PipelineData, name = name, training_output = training_output)
}

#' Which result of an AutoML step an output holds
#'
#' Azure ML's `TrainingOutput`, for [pipeline_data()]'s `training_output`:
#' `type = "Model"` is a folder holding the chosen model as `model.pkl` (a
#' pickled Python model, for a Python step to load), `type = "Metrics"` one
#' holding `metrics.json`, every completed iteration's run id and metrics.
#'
#' @param type `"Model"` or `"Metrics"`.
#' @param iteration For the model: this iteration's model instead of the best
#'   (a whole number from 0).
#' @param metric For the model: the best by this metric instead of the primary one.
#' @return A training output, for [pipeline_data()].
#' @examples
#' \dontrun{
#' best_r2 <- pipeline_data("best_r2", training_output = training_output("Model", metric = "r2_score"))
#' }
#' @export
training_output <- function(type, iteration = NULL, metric = NULL) {
  py_invoke(rpy()$TrainingOutput, type = type, iteration = iteration, metric = metric, .integers = "iteration")
}

#' A step's output, read by a later step
#'
#' In the reading step's `arguments` the script gets the folder holding the
#' producing step's files; in its `inputs` it only orders the steps.
#'
#' @param output An output from [output_file_dataset_config()] or [pipeline_data()].
#' @param name The input's name in the reading step (default: the output's name).
#' @return An input, for a step's `arguments` or `inputs`.
#' @examples
#' \dontrun{
#' train <- python_script_step("train.py", arguments = list("--data", as_input(prepared)),
#'                             source_directory = "src")
#' }
#' @export
as_input <- function(output, name = NULL) {
  check_output(output, "output")
  py_invoke(output$as_input, name = name)
}

#' Read a step's output as a table of delimited files
#'
#' The output's files are a table: an [automl_config()] takes the output as its
#' `training_data` (and an [automl_step()] reads the table when it starts). The
#' options are those of Azure ML's `read_delimited_files()` on outputs; `path_glob`
#' is not taken (the table is every file the step writes to the output).
#'
#' @param output An output from [output_file_dataset_config()] or [pipeline_data()].
#' @param include_path If `TRUE`, a `Path` column holds each row's file.
#' @param separator The column separator: one character.
#' @param header If `TRUE`, the first line of each file names the columns.
#' @param partition_format A pattern of the files' paths (`"{year}/{month}/data.csv"`)
#'   whose parts become columns.
#' @param set_column_types A named character vector or list: column name = type
#'   (`"string"`, `"long"`, `"float"`, `"bool"` or `"datetime"`).
#' @param encoding The files' encoding (`"utf8"`, `"latin1"`, ...).
#' @param support_multi_line If `TRUE`, a quoted value may hold line breaks.
#' @param empty_as_string If `TRUE`, an empty value is `""`, not missing.
#' @param infer_column_types If `TRUE`, the columns' types are inferred from their values.
#' @return `output`, the same object, now read as a table (Python's method
#'   changes the output it is called on).
#' @examples
#' \dontrun{
#' prepared <- read_delimited_files(output_file_dataset_config("prepared"))
#' config <- automl_config("regression", training_data = prepared, label_column_name = "price")
#' }
#' @export
read_delimited_files <- function(output, include_path = FALSE, separator = ",", header = TRUE,
                                 partition_format = NULL, set_column_types = NULL, encoding = "utf8",
                                 support_multi_line = FALSE, empty_as_string = FALSE, infer_column_types = TRUE) {
  check_output(output, "output")
  py_invoke(output$read_delimited_files, include_path = include_path, separator = separator, header = header,
            partition_format = partition_format, set_column_types = set_column_types, encoding = encoding,
            support_multi_line = support_multi_line, empty_as_string = empty_as_string,
            infer_column_types = infer_column_types, .dicts = "set_column_types")
}

#' Read a step's output as a table of Parquet files
#'
#' As [read_delimited_files()], for a step that writes Parquet files.
#'
#' @inheritParams read_delimited_files
#' @return `output`, the same object, now read as a table.
#' @examples
#' \dontrun{
#' prepared <- read_parquet_files(output_file_dataset_config("prepared"))
#' }
#' @export
read_parquet_files <- function(output, include_path = FALSE, partition_format = NULL, set_column_types = NULL) {
  check_output(output, "output")
  py_invoke(output$read_parquet_files, include_path = include_path, partition_format = partition_format,
            set_column_types = set_column_types, .dicts = "set_column_types")
}

#' A value given when a pipeline is submitted
#'
#' Put it in a step's `arguments`: the script gets the value given to
#' [submit_pipeline()] or [submit_published_pipeline()] under `name`, else
#' `default_value`. The default's R type is the parameter's Python type: an
#' integer (`1L`) gives an `int` parameter, a double (`1`, `0.5`) a `float` one,
#' a string a `str` one and `TRUE`/`FALSE` a `bool` one. R's `1` is a double, so
#' the script gets `"1.0"` for it; write `1L` for a whole-number parameter (a
#' whole number given to an integer parameter at submission is taken as one).
#'
#' @param name The parameter's name: letters, digits and `_`, not starting with a digit.
#' @param default_value A single integer, double, string or logical.
#' @return A pipeline parameter.
#' @examples
#' \dontrun{
#' rows <- pipeline_parameter("rows", 100L)
#' step <- r_script_step("prep.R", arguments = list("--rows", rows), source_directory = "src")
#' }
#' @export
pipeline_parameter <- function(name, default_value) {
  py_invoke(rpy()$PipelineParameter, name = name, default_value = default_value)
}

#' A pipeline step that runs a Python script
#'
#' @param script_name The script, relative to `source_directory`.
#' @param name The step's name (default: `script_name`); its run's display name.
#' @param arguments The script's command-line arguments: strings and numbers, and
#'   outputs ([output_file_dataset_config()]), inputs ([as_input()]) and
#'   parameters ([pipeline_parameter()]), which become paths and values when it runs.
#' @param compute_target A target name or a target from [get_compute()] (default `"local"`).
#' @param runconfig A run configuration (`runyard_python()$RunConfiguration(...)`), or `NULL`.
#' @param inputs Inputs ([as_input()], or outputs of other steps) the step reads
#'   without naming them in `arguments`.
#' @param outputs Outputs the step writes without naming them in `arguments`.
#' @param source_directory The folder to snapshot and run in.
#' @param allow_reuse If `TRUE`, a step whose script, arguments, environment and
#'   input contents match a completed run is not run again: it reuses that run.
#' @param environment An environment from [r_environment()] or [get_environment()]
#'   (instead of `runconfig`); `NULL` runs with the Python and R that submitted the pipeline.
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' prepared <- output_file_dataset_config("prepared")
#' train <- python_script_step("train.py", name = "train",
#'                             arguments = list("--data", as_input(prepared), "--alpha", 0.5),
#'                             source_directory = "src")
#' }
#' @export
python_script_step <- function(script_name, name = NULL, arguments = list(), compute_target = NULL,
                               runconfig = NULL, inputs = list(), outputs = list(), source_directory = ".",
                               allow_reuse = TRUE, environment = NULL) {
  script_step("PythonScriptStep", script_name, name, arguments, compute_target, runconfig, inputs, outputs,
              source_directory, allow_reuse, environment)
}

#' A pipeline step that runs an R script
#'
#' The script runs with `Rscript`; its R packages come from `environment` (an
#' [r_environment()]), as for [estimator()].
#'
#' @inheritParams python_script_step
#' @param script_name The R script (ending in `.R`), relative to `source_directory`.
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' prepared <- output_file_dataset_config("prepared")
#' prep <- r_script_step("prep.R", name = "prep", arguments = list("--out", prepared),
#'                       source_directory = "src",
#'                       environment = r_environment("prep", cran_packages = list(cran_package("data.table"))))
#' }
#' @export
r_script_step <- function(script_name, name = NULL, arguments = list(), compute_target = NULL,
                          runconfig = NULL, inputs = list(), outputs = list(), source_directory = ".",
                          allow_reuse = TRUE, environment = NULL) {
  script_step("RScriptStep", script_name, name, arguments, compute_target, runconfig, inputs, outputs,
              source_directory, allow_reuse, environment)
}

script_step <- function(python_class, script_name, name, arguments, compute_target, runconfig, inputs,
                        outputs, source_directory, allow_reuse, environment) {
  step_call(rpy()[[python_class]], script_name = script_name, arguments = as_argument_text(arguments),
            name = name, compute_target = compute_target, runconfig = step_runconfig(runconfig, environment),
            inputs = inputs, outputs = outputs, source_directory = source_directory, allow_reuse = allow_reuse,
            .call = sys.call(-1))
}

#' A pipeline step that calls an R function in the step's own process
#'
#' The step's Python process runs R through rpy2 (on the local target only; use
#' [r_script_step()] for Docker or Ray): it sources `script_name`, then calls
#' `function_name` with the step's inputs as named arguments, then `arguments`.
#' An input whose folder holds one table file (`.parquet`, `.csv`) arrives as a
#' data.frame, one holding a `.rds` or `.json` file as that R value, any other
#' input as its folder's path. A data.frame the function returns is written to
#' its output as `data.parquet`, another value as `value.json` (or `value.rds`
#' when JSON cannot hold it); with several outputs it returns a named list with
#' one element per output. An R error fails the step with R's message and
#' traceback. The job's Python needs rpy2 and pandas (`pip install "runyard[r]"`).
#'
#' @param script_name The R script (ending in `.R`), relative to `source_directory`.
#' @param function_name The function the script defines, to call; `NULL` runs the
#'   script for its last value instead, with its inputs and `arguments` set as variables.
#'   Python's `RFunctionStep` calls it `function`, and so do its errors.
#' @param name The step's name (default: `function_name`, else `script_name`).
#' @param inputs Inputs ([as_input()], or outputs of other steps): the function's
#'   arguments, each under its input's name.
#' @param outputs Outputs ([output_file_dataset_config()]) the function's result is written to.
#' @param arguments More arguments for the function: a named list for named
#'   arguments (`list(formula = "y ~ x")`), an unnamed one for positional
#'   arguments (a script run with `function_name = NULL` takes named ones only).
#'   Values are single strings, numbers and logicals, which keep their R type
#'   (`2L` arrives as an integer, `2` as a double), parameters
#'   ([pipeline_parameter()]), inputs ([as_input()], read as `inputs` are) and
#'   outputs (their folder's path).
#' @param source_directory The folder to snapshot and run in.
#' @param compute_target `NULL` or `"local"` (or the local target from [get_compute()]).
#' @param allow_reuse If `TRUE`, a step whose script, arguments, environment and
#'   input contents match a completed run is not run again: it reuses that run.
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' # src/model.R: fit <- function(train, formula) {
#' #   model <- lm(as.formula(formula), data = train)
#' #   data.frame(term = names(coef(model)), estimate = unname(coef(model)))
#' # }
#' train <- output_file_dataset_config("train")
#' coefficients <- output_file_dataset_config("coefficients")
#' fit <- r_function_step("model.R", "fit", name = "fit in R", inputs = list(as_input(train)),
#'                        outputs = list(coefficients), arguments = list(formula = "target ~ ."),
#'                        source_directory = "src")
#' }
#' @export
r_function_step <- function(script_name, function_name = NULL, name = NULL, inputs = list(), outputs = list(),
                            arguments = list(), source_directory = ".", compute_target = NULL,
                            allow_reuse = TRUE) {
  rpy()
  step_call(reticulate::import("runyard.pipeline")$RFunctionStep, name = name, source_directory = source_directory,
            script_name = script_name, `function` = function_name, inputs = inputs, outputs = outputs,
            arguments = arguments, compute_target = compute_target, allow_reuse = allow_reuse,
            .lists = "arguments")
}

#' A pipeline step that runs a command
#'
#' @inheritParams python_script_step
#' @param command A shell command (one string), or the command's words (a
#'   character vector or a list, which may hold outputs, inputs and parameters
#'   as `arguments` do).
#' @param name The step's name (default: the command's first word).
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' listing <- output_file_dataset_config("listing")
#' step <- command_step(list("sh", "-c", "ls > $0/files.txt", listing), name = "list")
#' }
#' @export
command_step <- function(command, name = NULL, compute_target = NULL, runconfig = NULL, inputs = list(),
                         outputs = list(), source_directory = ".", allow_reuse = TRUE, environment = NULL) {
  # One string is a shell command; several (or a list) are its words, which R has to say by
  # making them a list: Python takes a string and a list differently.
  if (is.list(command) || is.character(command) && length(command) != 1) {
    command <- to_py(as_argument_text(command), "list", "command")
  }
  step_call(rpy()$CommandStep, command = command, name = name, compute_target = compute_target,
            runconfig = step_runconfig(runconfig, environment), inputs = inputs, outputs = outputs,
            source_directory = source_directory, allow_reuse = allow_reuse)
}

#' A pipeline step that runs an estimator
#'
#' @param name The step's name (default: the estimator's entry script).
#' @param estimator An [estimator()].
#' @param estimator_entry_script_arguments The script's arguments, as for
#'   [python_script_step()]; `NULL` keeps the estimator's `script_params`.
#' @param inputs,outputs,allow_reuse As for [python_script_step()].
#' @param compute_target A target name (default: the estimator's).
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' est <- estimator("src", entry_script = "train.R")
#' train <- estimator_step("train", est, list("--data", as_input(prepared)))
#' }
#' @export
estimator_step <- function(name = NULL, estimator, estimator_entry_script_arguments = NULL, inputs = list(),
                           outputs = list(), compute_target = NULL, allow_reuse = TRUE) {
  step_call(rpy()$EstimatorStep, name = name, estimator = estimator,
            estimator_entry_script_arguments = as_argument_text(estimator_entry_script_arguments),
            inputs = inputs, outputs = outputs, compute_target = compute_target, allow_reuse = allow_reuse,
            .lists = "estimator_entry_script_arguments")
}

#' A pipeline step that runs AutoML
#'
#' Azure ML's `AutoMLStep`: the [automl_config()]'s AutoML run as a step, a child
#' of the pipeline run. Its outputs are [pipeline_data()] with a
#' [training_output()]: the chosen model (`model.pkl`) and the metrics of every
#' iteration (`metrics.json`), for later steps to read through [as_input()]. The
#' training data is the config's: a data frame or a tabular dataset, checked when
#' the pipeline is submitted, or an earlier step's output read as a table
#' ([read_delimited_files()], [read_parquet_files()]), read and registered as a
#' dataset version when this step starts. An AutoML run of the same settings on
#' the same data is reused, with its outputs.
#'
#' @param name The step's name; its run's display name, and part of the default outputs' names.
#' @param automl_config An [automl_config()]; its `compute_target` is the step's.
#' @param inputs Outputs of other steps (or [as_input()]) to run after, besides the training data.
#' @param outputs [pipeline_data()] outputs, each with a [training_output()].
#' @param allow_reuse If `TRUE`, an AutoML run of the same settings on the same data is reused.
#' @param enable_default_model_output,enable_default_metrics_output If `TRUE`, a step
#'   whose `outputs` hold no model (no metrics) has one, `default_model_<name>`
#'   (`default_metrics_<name>`), as in Azure ML.
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' prepared <- read_delimited_files(output_file_dataset_config("prepared"))
#' prep <- r_script_step("prep.R", name = "prep", arguments = list("--out", prepared), source_directory = "src")
#' config <- automl_config("regression", training_data = prepared, label_column_name = "price",
#'                         iterations = 10)
#' model <- pipeline_data("model", training_output = training_output("Model"))
#' train <- automl_step("train", config, outputs = list(model))
#' score <- python_script_step("score.py", arguments = list("--model", as_input(model)), source_directory = "src")
#' run <- submit_pipeline(experiment(ws, "houses"), pipeline(ws, list(prep, train, score)))
#' }
#' @export
automl_step <- function(name, automl_config, inputs = list(), outputs = list(), allow_reuse = TRUE,
                        enable_default_model_output = TRUE, enable_default_metrics_output = TRUE) {
  step_call(rpy()$AutoMLStep, name = name, automl_config = automl_config, inputs = inputs, outputs = outputs,
            allow_reuse = allow_reuse, enable_default_model_output = enable_default_model_output,
            enable_default_metrics_output = enable_default_metrics_output)
}

#' Build a pipeline from steps
#'
#' Steps run in the order their data needs (a step reading another's output runs
#' after it); independent steps run at the same time, up to `max_concurrent_steps`.
#' Submit it with [submit_pipeline()] or publish it with [publish_pipeline()].
#'
#' @param workspace A workspace.
#' @param steps A list of steps ([python_script_step()], [r_script_step()],
#'   [r_function_step()], [command_step()], [estimator_step()], [automl_step()]).
#' @param description A description.
#' @param max_concurrent_steps How many steps may run at once.
#' @return A pipeline.
#' @examples
#' \dontrun{
#' p <- pipeline(ws, list(prep, train), description = "prepare then train")
#' run <- submit_pipeline(experiment(ws, "mtcars"), p)
#' }
#' @export
pipeline <- function(workspace, steps, description = NULL, max_concurrent_steps = 4L) {
  py_invoke(rpy()$Pipeline, workspace = workspace, steps = if (is.list(steps)) unname(steps) else steps,
            description = description, max_concurrent_steps = max_concurrent_steps,
            .integers = "max_concurrent_steps", .lists = "steps")
}

#' Submit a pipeline
#'
#' Everything is checked first (steps, parameters, scripts, targets), the steps'
#' sources are snapshotted, and the pipeline run starts in a process of its own:
#' it goes on if this R session ends.
#'
#' @param experiment An experiment.
#' @param pipeline A [pipeline()].
#' @param pipeline_parameters A named list of parameter values (the others keep
#'   their defaults); see [pipeline_parameter()] for the types.
#' @param regenerate_outputs If `TRUE`, every step runs (no reuse).
#' @param tags A named list of tags.
#' @return The pipeline run, already started; see [wait_for_run_completion()] and
#'   [get_pipeline_steps()].
#' @examples
#' \dontrun{
#' run <- submit_pipeline(experiment(ws, "mtcars"), p, pipeline_parameters = list(rows = 50L))
#' wait_for_run_completion(run)
#' }
#' @export
submit_pipeline <- function(experiment, pipeline, pipeline_parameters = list(), regenerate_outputs = FALSE,
                            tags = NULL) {
  check_experiment(experiment)
  if (inherits(pipeline, "runyard.pipeline.pipeline.Pipeline")) {
    defaults <- lapply(py_call(pipeline$parameters), function(p) p$default_value)
    pipeline_parameters <- as_pipeline_parameters(pipeline_parameters, defaults)
  }
  py_invoke(experiment$submit, config = pipeline, tags = tags, pipeline_parameters = pipeline_parameters,
            regenerate_outputs = regenerate_outputs, .dicts = c("tags", "pipeline_parameters"))
}

#' The steps of a pipeline run
#'
#' @param run A pipeline run (from [submit_pipeline()], [submit_published_pipeline()] or [get_run()]).
#' @return A data frame with one row per step run, in the order they started:
#'   `name`, `run_id`, `status`, and `reused_from`: the run whose results a
#'   reused step took (`NA` for a step that ran).
#' @examples
#' \dontrun{
#' get_pipeline_steps(run)
#' }
#' @export
get_pipeline_steps <- function(run) {
  # R reads the steps of a pipeline run from its children: another run has children too,
  # so Python would not refuse it.
  if (!inherits(run, "runyard.run.Run") || !identical(run$type, "pipeline")) {
    arg_error("run", sprintf("must be a pipeline run (from submit_pipeline() or get_run()), not %s", describe(run)))
  }
  steps <- py_call(run$get_children())
  text <- function(value) if (is.null(value)) NA_character_ else as.character(value)
  data.frame(
    name = vapply(steps, function(s) text(s$display_name), character(1)),
    run_id = vapply(steps, function(s) s$id, character(1)),
    status = vapply(steps, function(s) s$status, character(1)),
    reused_from = vapply(steps, function(s) text(s$get_properties()[["azureml.reusedrunid"]]), character(1)),
    stringsAsFactors = FALSE
  )
}

check_pipeline <- function(pipeline, arg = "pipeline") {
  check_class(pipeline, "runyard.pipeline.pipeline.Pipeline", arg, "a pipeline (from pipeline())")
}

check_output <- function(output, arg) {
  check_class(output, "runyard.pipeline.data.OutputFileDatasetConfig", arg,
              "an output (from output_file_dataset_config() or pipeline_data())")
}

# A step's Python class called with R's arguments: inputs and outputs are lists even of one.
step_call <- function(step_class, ..., .lists = character(), .call = sys.call(-1)) {
  py_invoke(step_class, ..., .lists = c("inputs", "outputs", "arguments", .lists), .paths = "source_directory",
            .call = .call)
}

# R's steps take an `environment`, which Python's take inside a run configuration.
step_runconfig <- function(runconfig, environment) {
  if (is.null(environment)) return(runconfig)
  call <- sys.call(sys.parent())
  # Python sees the run configuration R makes, not the two arguments, so R refuses both.
  if (!is.null(runconfig)) arg_error("environment", "replaces `runconfig`; give one or the other", call = call)
  py_invoke(rpy()$RunConfiguration, environment = environment, .call = call)
}

# Parameter values for submission. A whole number given for an integer parameter becomes an
# integer: R's 5 is a double, and the parameter wants Python's int.
as_pipeline_parameters <- function(values, defaults) {
  if (!is.list(values) && !(is.atomic(values) && !is.null(names(values)))) return(values)
  values <- as.list(values)
  for (name in intersect(names(values), names(defaults))) {
    if (is.integer(defaults[[name]])) values[name] <- list(as_whole_numbers(values[[name]]))
  }
  values
}
