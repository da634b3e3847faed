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
  check_string(name, "name")
  py_call(rpy()$OutputFileDatasetConfig(name))
}

#' A folder a pipeline step writes (Azure ML's older name)
#'
#' The same as [output_file_dataset_config()], under the name `PipelineData`
#' had in Azure ML pipelines.
#'
#' @param name The output's name: letters, digits and `_`, not starting with a digit.
#' @return An output, for [python_script_step()] and the other steps.
#' @examples
#' \dontrun{
#' model <- pipeline_data("model")
#' }
#' @export
pipeline_data <- function(name) {
  check_string(name, "name")
  py_call(rpy()$PipelineData(name))
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
  check_string(name, "name", null_ok = TRUE)
  py_call(output$as_input(name = name))
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
  check_string(name, "name")
  py_call(rpy()$PipelineParameter(name, as_py_scalar(default_value, "default_value")))
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
  check_string(script_name, "script_name")
  if (!grepl("\\.[Rr]$", script_name)) {
    arg_error("script_name", sprintf("must be an R script (ending in .R), not %s", describe(script_name)))
  }
  script_step("RScriptStep", script_name, name, arguments, compute_target, runconfig, inputs, outputs,
              source_directory, allow_reuse, environment)
}

script_step <- function(python_class, script_name, name, arguments, compute_target, runconfig, inputs,
                        outputs, source_directory, allow_reuse, environment) {
  source_directory <- check_path(source_directory, "source_directory", "dir")
  check_string(script_name, "script_name")
  if (!file.exists(file.path(source_directory, script_name))) {
    arg_error("script_name", sprintf("names a file that does not exist in %s: %s", source_directory, script_name))
  }
  settings <- step_settings(name, compute_target, runconfig, inputs, outputs, allow_reuse, environment)
  py_call(do.call(rpy()[[python_class]],
                  c(list(script_name, arguments = as_step_arguments(arguments, "arguments"),
                         source_directory = source_directory), settings)))
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
  source_directory <- check_path(source_directory, "source_directory", "dir")
  check_string(script_name, "script_name")
  if (!grepl("\\.[Rr]$", script_name)) {
    arg_error("script_name", sprintf("must be an R script (ending in .R), not %s", describe(script_name)))
  }
  if (!file.exists(file.path(source_directory, script_name))) {
    arg_error("script_name", sprintf("names a file that does not exist in %s: %s", source_directory, script_name))
  }
  check_string(function_name, "function_name", null_ok = TRUE)
  if (!is.null(function_name) && !identical(make.names(function_name), function_name)) {
    arg_error("function_name", sprintf(paste("must be the name of an R function (letters, digits, `.` and `_`,",
                                             "not a reserved word), not %s; NULL runs the script for its last",
                                             "value"), describe(function_name)))
  }
  check_string(name, "name", null_ok = TRUE)
  check_local_target(compute_target)
  rpy()
  step_class <- reticulate::import("runyard.pipeline")$RFunctionStep
  py_call(step_class(name = name, source_directory = source_directory, script_name = script_name,
                     `function` = function_name, inputs = as_step_data(inputs, "inputs", input = TRUE),
                     outputs = as_step_data(outputs, "outputs", input = FALSE),
                     arguments = as_function_arguments(arguments, "arguments"), compute_target = compute_target,
                     allow_reuse = check_flag(allow_reuse, "allow_reuse")))
}

# R runs inside the step's Python process, which only the local target gives it.
check_local_target <- function(compute_target, arg = "compute_target") {
  check_target(compute_target, arg)
  target <- if (is.character(compute_target)) compute_target else compute_target$type
  if (is.null(target) || target %in% c("local", "azureml:local")) return(invisible(compute_target))
  shown <- if (is.character(compute_target)) describe(compute_target) else
    sprintf("the %s target \"%s\"", target, compute_target$name)
  arg_error(arg, sprintf(paste("is %s, not the local target: an r_function_step() runs R inside the step's",
                               "own Python process, which it does on the local target only (use",
                               "r_script_step() to run R on Docker or Ray)"), shown))
}

# An R function's arguments for Python: a named list becomes a dict (named arguments), an
# unnamed one a list (positional); step data and parameters stay as they are, other values
# become the Python scalar of their R type, so R still sees 2L as an integer and 2 as a double.
as_function_arguments <- function(x, arg) {
  if (is.null(x) || !length(x)) return(NULL)
  if (inherits(x, "python.builtin.object")) x <- list(x)
  if (!is.list(x) && !is.atomic(x)) {
    arg_error(arg, sprintf("must be a list (named: named arguments; unnamed: positional ones), not %s",
                           describe(x)))
  }
  x <- as.list(x)
  keys <- names(x)
  named <- !is.null(keys) && any(nzchar(keys))
  if (named && !all(nzchar(keys))) {
    arg_error(arg, "must name every element (named arguments) or none (positional ones), not some")
  }
  if (named && anyDuplicated(keys)) {
    arg_error(arg, sprintf("names the argument %s twice", keys[anyDuplicated(keys)]))
  }
  data_classes <- c("runyard.pipeline.data.OutputFileDatasetConfig", "runyard.pipeline.data.StepInput",
                    "runyard.pipeline.data.PipelineParameter")
  values <- lapply(seq_along(x), function(i) {
    v <- x[[i]]
    if (inherits(v, data_classes)) return(v)
    where <- if (named) sprintf("%s$%s", arg, keys[[i]]) else sprintf("%s[[%d]]", arg, i)
    if (!(is.integer(v) || is.double(v) || is.character(v) || is.logical(v)) || is.object(v) ||
        length(v) != 1 || is.na(v)) {
      arg_error(where, sprintf(paste("must be a single string, number or logical, an output, an input or a",
                                     "pipeline_parameter(), not %s"), describe(v)))
    }
    as_py_scalar(v, where)
  })
  if (!named) return(unname(values))
  names(values) <- keys
  reticulate::dict(values)
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
  if (is.character(command) && length(command) == 1) {
    check_string(command, "command")
  } else if (is.character(command) || is.list(command)) {
    if (!length(command)) arg_error("command", "must not be empty")
    command <- as_step_arguments(command, "command")
  } else {
    arg_error("command", sprintf("must be a string or a list of words, not %s", describe(command)))
  }
  source_directory <- check_path(source_directory, "source_directory", "dir")
  settings <- step_settings(name, compute_target, runconfig, inputs, outputs, allow_reuse, environment)
  py_call(do.call(rpy()$CommandStep, c(list(command, source_directory = source_directory), settings)))
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
  check_string(name, "name", null_ok = TRUE)
  check_class(estimator, "runyard.estimators.base.Estimator", "estimator", "an estimator (from estimator())")
  arguments <- if (is.null(estimator_entry_script_arguments)) NULL else
    as_step_arguments(estimator_entry_script_arguments, "estimator_entry_script_arguments")
  check_target(compute_target)
  py_call(rpy()$EstimatorStep(name = name, estimator = estimator, estimator_entry_script_arguments = arguments,
                              inputs = as_step_data(inputs, "inputs", input = TRUE),
                              outputs = as_step_data(outputs, "outputs", input = FALSE),
                              compute_target = compute_target, allow_reuse = check_flag(allow_reuse, "allow_reuse")))
}

#' Build a pipeline from steps
#'
#' Steps run in the order their data needs (a step reading another's output runs
#' after it); independent steps run at the same time, up to `max_concurrent_steps`.
#' Submit it with [submit_pipeline()] or publish it with [publish_pipeline()].
#'
#' @param workspace A workspace.
#' @param steps A list of steps ([python_script_step()], [r_script_step()],
#'   [r_function_step()], [command_step()], [estimator_step()]).
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
  check_workspace(workspace)
  if (inherits(steps, "runyard.pipeline.steps.PipelineStep")) steps <- list(steps)
  if (!is.list(steps) || !length(steps)) {
    arg_error("steps", sprintf("must be a list of steps (from python_script_step(), r_script_step(), ...), not %s",
                               describe(steps)))
  }
  for (i in seq_along(steps)) {
    check_class(steps[[i]], "runyard.pipeline.steps.PipelineStep", sprintf("steps[[%d]]", i),
                paste("a step (from python_script_step(), r_script_step(), r_function_step(), command_step()",
                      "or estimator_step())"))
  }
  check_string(description, "description", null_ok = TRUE)
  py_call(rpy()$Pipeline(workspace, unname(steps), description = description,
                         max_concurrent_steps = as_py_int(max_concurrent_steps, "max_concurrent_steps",
                                                          null_ok = FALSE)))
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
  check_pipeline(pipeline)
  defaults <- lapply(py_call(pipeline$parameters), function(p) p$default_value)
  values <- as_pipeline_parameters(pipeline_parameters, defaults)
  py_call(experiment$submit(pipeline, tags = as_py_dict(tags, "tags"), pipeline_parameters = values,
                            regenerate_outputs = check_flag(regenerate_outputs, "regenerate_outputs")))
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

check_target <- function(compute_target, arg = "compute_target") {
  if (is.null(compute_target) || inherits(compute_target, "runyard.compute.ComputeTarget")) return(compute_target)
  check_string(compute_target, arg)
}

# What every step takes besides its script or command, checked and converted.
step_settings <- function(name, compute_target, runconfig, inputs, outputs, allow_reuse, environment) {
  check_string(name, "name", null_ok = TRUE)
  check_target(compute_target)
  check_environment(environment)
  if (!is.null(runconfig)) {
    check_class(runconfig, "runyard.config.RunConfiguration", "runconfig",
                "a run configuration (runyard_python()$RunConfiguration(...))")
    if (!is.null(environment)) arg_error("environment", "replaces `runconfig`; give one or the other")
  } else if (!is.null(environment)) {
    runconfig <- py_call(rpy()$RunConfiguration(environment = environment))
  }
  list(name = name, compute_target = compute_target, runconfig = runconfig,
       inputs = as_step_data(inputs, "inputs", input = TRUE),
       outputs = as_step_data(outputs, "outputs", input = FALSE),
       allow_reuse = check_flag(allow_reuse, "allow_reuse"))
}

# A step's arguments as a Python list: step data and parameters as they are, other values
# as text (numbers written as script_run_config() writes them).
as_step_arguments <- function(x, arg) {
  if (is.null(x)) return(list())
  if (inherits(x, "python.builtin.object")) x <- list(x)
  if (!is.atomic(x) && !is.list(x)) arg_error(arg, sprintf("must be a list, not %s", describe(x)))
  data_classes <- c("runyard.pipeline.data.OutputFileDatasetConfig", "runyard.pipeline.data.StepInput",
                    "runyard.pipeline.data.PipelineParameter")
  values <- lapply(seq_along(x), function(i) {
    v <- x[[i]]
    if (inherits(v, data_classes)) return(v)
    if (!is.atomic(v) || length(v) != 1 || is.na(v)) {
      arg_error(sprintf("%s[[%d]]", arg, i),
                sprintf("must be a string, a number, an output, an input or a pipeline_parameter(), not %s",
                        describe(v)))
    }
    as_py_strings(v, arg)[[1]]
  })
  unname(values)
}

as_step_data <- function(x, arg, input) {
  if (is.null(x)) return(list())
  if (inherits(x, "python.builtin.object")) x <- list(x)
  if (!is.list(x)) arg_error(arg, sprintf("must be a list, not %s", describe(x)))
  classes <- c("runyard.pipeline.data.OutputFileDatasetConfig", if (input) "runyard.pipeline.data.StepInput")
  what <- if (input) "an input (as_input()) or an output" else
    "an output (from output_file_dataset_config() or pipeline_data())"
  for (i in seq_along(x)) {
    if (!inherits(x[[i]], classes)) arg_error(sprintf("%s[[%d]]", arg, i), sprintf("must be %s, not %s", what,
                                                                                   describe(x[[i]])))
  }
  unname(x)
}

# Parameter values for submission as a Python dict. A whole number given for an integer
# parameter becomes an integer: R's 5 is a double, and the parameter wants Python's int.
as_pipeline_parameters <- function(values, defaults, arg = "pipeline_parameters") {
  if (is.null(values) || !length(values)) return(reticulate::dict())
  if (!is.list(values) && !is.atomic(values)) arg_error(arg, sprintf("must be a named list, not %s", describe(values)))
  values <- as.list(values)
  if (is.null(names(values)) || any(!nzchar(names(values)))) {
    arg_error(arg, "must be a named list (every element named), e.g. list(alpha = 0.5)")
  }
  for (name in names(values)) {
    value <- values[[name]]
    if (is.integer(defaults[[name]]) && is.double(value) && length(value) == 1 && !is.na(value) &&
        value == round(value)) {
      value <- as.integer(value)
    }
    values[name] <- list(as_py_scalar(value, sprintf("%s$%s", arg, name)))
  }
  reticulate::dict(values)
}
