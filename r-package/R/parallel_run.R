# Many models: a ParallelRunStep's config and step (runyard.pipeline), the partition table of
# its run, and what an R entry script calls while it runs in a worker.

#' How a parallel run step splits its data and treats failures
#'
#' Azure ML's `ParallelRunConfig`, with the same names and meanings. The entry
#' script is a Python file or an **R file** (ending in `.R`) that defines
#' `init <- function() ...`, called once in each worker process, and
#' `run <- function(mini_batch, mini_batch_context) ...` (or `run(mini_batch)`),
#' called for each mini batch: a character vector of file paths for a file
#' dataset, a data.frame for a tabular one. `mini_batch_context$partition_key_value`
#' is the partition's keys, a named list (empty without `partition_keys`).
#' `run()` returns a data.frame (one row per item that succeeded), or a vector
#' or list of single values (one element each); with `output_action =
#' "append_row"` each row or element becomes a line of the step's
#' `append_row_file_name`. R's `stop()` fails the mini batch with R's message and
#' calls. An R entry script is parsed by R when the config is made; R workers
#' are `Rscript` processes that stay up between mini batches (they need the
#' jsonlite package). In a worker, [entry_script()] gives a logger, the
#' output folder and `register_model()`, and [log_metric_to_run()] logs to the
#' step's run.
#'
#' As in Azure ML, a [pipeline_parameter()] may give `mini_batch_size`,
#' `error_threshold`, `run_invocation_timeout`, `run_max_try`,
#' `process_count_per_node`, `node_count`, `logging_level`,
#' `allowed_failed_count` or `allowed_failed_percent`: its default is checked
#' now, and the value a submission gives when the pipeline is submitted, before
#' anything runs (the error names the parameter).
#'
#' @param environment An environment ([r_environment()], [get_environment()]), or
#'   `NULL` for the R and Python that submit the pipeline.
#' @param entry_script The script, relative to `source_directory`.
#' @param error_threshold Failed items (files or rows) allowed over the whole
#'   input; -1 allows any. Many-models steps set -1 and bound `allowed_failed_count`.
#' @param output_action `"append_row"` (collect `run()`'s results into a file) or `"summary_only"`.
#' @param compute_target `"local"` (the local target; Docker and Ray come later).
#' @param node_count 1.
#' @param process_count_per_node Worker processes; `NULL`: one per CPU.
#' @param mini_batch_size Files per mini batch (file datasets, default 10), or a
#'   size of data per mini batch (tabular datasets: `"1MB"`, the default,
#'   `"512KB"`); not with `partition_keys`.
#' @param source_directory The folder holding the entry script, snapshotted with the run.
#' @param description Shown in the step's log and kept with its partition table.
#' @param logging_level `"DEBUG"`, `"INFO"`, `"WARNING"`, `"ERROR"` or `"CRITICAL"`:
#'   the lowest level [entry_script()]'s logger writes.
#' @param run_invocation_timeout Seconds one `run()` call may take; past it the
#'   worker is killed and replaced, and the try has failed.
#' @param run_max_try Tries per mini batch.
#' @param append_row_file_name The file of `run()`'s results (default `parallel_run_step.txt`).
#' @param allowed_failed_count Failed mini batches allowed (-1: any).
#' @param allowed_failed_percent Failed mini batches allowed, in percent (0 to 100),
#'   checked once every mini batch has been handed out.
#' @param partition_keys Partition keys of the inputs (their `partition_format`'s
#'   columns): each distinct combination of their values is one mini batch.
#' @param environment_variables A named list of variables set for the workers.
#' @return A config, for [parallel_run_step()].
#' @examples
#' \dontrun{
#' # src/train.R:
#' #   init <- function() library(stats)
#' #   run <- function(mini_batch, mini_batch_context) {
#' #     store <- mini_batch_context$partition_key_value$store
#' #     model <- lm(sales ~ week, data = mini_batch)
#' #     saveRDS(model, file.path(entry_script()$output_dir, paste0("model-", store, ".rds")))
#' #     data.frame(store = store, rows = nrow(mini_batch))
#' #   }
#' config <- parallel_run_config(entry_script = "train.R", source_directory = "src",
#'                               error_threshold = -1L, allowed_failed_count = 10L,
#'                               partition_keys = "store", process_count_per_node = 2L)
#' }
#' @export
parallel_run_config <- function(environment = NULL, entry_script, error_threshold, output_action = "append_row",
                                compute_target = "local", node_count = 1L, process_count_per_node = NULL,
                                mini_batch_size = NULL, source_directory = ".", description = NULL,
                                logging_level = "INFO", run_invocation_timeout = 60L, run_max_try = 3L,
                                append_row_file_name = NULL, allowed_failed_count = NULL,
                                allowed_failed_percent = NULL, partition_keys = NULL, environment_variables = NULL) {
  py_invoke(rpy()$ParallelRunConfig, environment = environment, entry_script = entry_script,
            error_threshold = error_threshold, output_action = output_action, compute_target = compute_target,
            node_count = node_count, process_count_per_node = process_count_per_node,
            mini_batch_size = mini_batch_size, source_directory = source_directory, description = description,
            logging_level = logging_level, run_invocation_timeout = run_invocation_timeout,
            run_max_try = run_max_try, append_row_file_name = append_row_file_name,
            allowed_failed_count = allowed_failed_count, allowed_failed_percent = allowed_failed_percent,
            partition_keys = partition_keys, environment_variables = as_text_values(environment_variables),
            .integers = c("error_threshold", "node_count", "process_count_per_node", "mini_batch_size",
                          "run_invocation_timeout", "run_max_try", "allowed_failed_count"),
            .lists = "partition_keys", .dicts = "environment_variables", .paths = "source_directory")
}

#' A pipeline step that runs an entry script over mini batches of data
#'
#' Azure ML's `ParallelRunStep`: `parallel_run_config`'s entry script run by a
#' pool of worker processes over `inputs` split into mini batches, as one step
#' run of a [pipeline()], or as a run of its own with [submit_experiment()]
#' (then its inputs are datasets). The run keeps a partition table, one row per mini batch
#' ([get_partition_results()]), and ends its log with a summary line; no mini
#' batch becomes a run of its own. Submitting the pipeline again runs only the
#' mini batches that did not succeed (same script, settings and data).
#'
#' @param name The step's name.
#' @param parallel_run_config A [parallel_run_config()].
#' @param inputs A list of datasets ([create_file_dataset_from_files()],
#'   [create_tabular_dataset_from_delimited_files()], [get_dataset_by_name()]) or
#'   step outputs, all files or all tables. A name in the list names the input
#'   (`list(sales = ds)`), which the partition table and `mini_batch_context$dataset` show.
#' @param output An [output_file_dataset_config()]: the folder the append_row file
#'   and the workers' files (`entry_script()$output_dir`) go to; `NULL`: the run's `outputs/`.
#' @param side_inputs Datasets or step outputs every worker gets whole (give their paths in `arguments`).
#' @param arguments The entry script's arguments (`commandArgs(trailingOnly = TRUE)` in an R worker).
#' @param allow_reuse If `TRUE`, a step whose script, settings and data match a
#'   completed run is not run again.
#' @return A step, for [pipeline()].
#' @examples
#' \dontrun{
#' sales <- create_tabular_dataset_from_delimited_files("data/sales", partition_format = "{store}.csv")
#' step <- parallel_run_step("train", config, inputs = list(sales = sales),
#'                           output = output_file_dataset_config("models"))
#' run <- submit_pipeline(experiment(ws, "many-models"), pipeline(ws, list(step)))
#' # or on its own: run <- submit_experiment(experiment(ws, "many-models"), step)
#' }
#' @export
parallel_run_step <- function(name, parallel_run_config, inputs, output = NULL, side_inputs = NULL,
                              arguments = list(), allow_reuse = TRUE) {
  step_call(rpy()$ParallelRunStep, name = name, parallel_run_config = parallel_run_config,
            inputs = named_inputs(inputs), output = output, side_inputs = named_inputs(side_inputs),
            arguments = as_argument_text(arguments), allow_reuse = allow_reuse, .lists = "side_inputs")
}

# list(sales = dataset): the dataset as the input named "sales".
named_inputs <- function(inputs) {
  if (!is.list(inputs) || is.null(names(inputs))) return(inputs)
  keys <- names(inputs)
  unname(lapply(seq_along(inputs), function(i) {
    item <- inputs[[i]]
    if (nzchar(keys[[i]]) && inherits(item, "runyard.data.dataset.Dataset")) {
      py_invoke(item$as_named_input, name = keys[[i]], .call = sys.call(-3))
    } else {
      item
    }
  }))
}

#' The partition table of a parallel run step
#'
#' One row per mini batch of a [parallel_run_step()]'s run, in mini batch order.
#'
#' @param run The step's run (from [get_pipeline_steps()] and [get_run()], or
#'   [submit_experiment()] for a step submitted on its own).
#' @param status `"Succeeded"`, `"Failed"` or `"NotRun"` to keep those rows only; `NULL` for all.
#' @return A data frame: `batch_id` (the input and the partition's keys, or the
#'   mini batch's number), `input`, one column per partition key, `status`,
#'   `tries`, `duration_s`, `items` (files or rows given to `run()`), `results`
#'   (elements or rows it returned), `error`, `traceback` and `reused_from` (the
#'   earlier run whose result was carried over); `NA` where there is none.
#' @examples
#' \dontrun{
#' steps <- get_pipeline_steps(run)
#' table <- get_partition_results(get_run(exp, steps$run_id[steps$name == "train"]))
#' table[table$status == "Failed", c("store", "error")]
#' }
#' @export
get_partition_results <- function(run, status = NULL) {
  check_run(run)
  rows <- py_invoke(run$get_partition_results, status = status)
  keys <- unique(unlist(lapply(rows, function(row) names(row$partition))))
  fixed <- c("batch_id", "input", "status", "tries", "duration_s", "items", "results", "error", "traceback",
             "reused_from")
  column <- function(field, convert) {
    values <- lapply(rows, function(row) row[[field]])
    convert(vapply(values, function(v) if (is.null(v)) NA_character_ else as.character(v), character(1)))
  }
  key_column <- function(key) {
    vapply(rows, function(row) if (is.null(row$partition[[key]])) NA_character_ else as.character(row$partition[[key]]),
           character(1))
  }
  key_names <- ifelse(keys %in% fixed, paste0("partition_", keys), keys)
  table <- c(
    list(batch_id = column("batch_id", as.character), input = column("input", as.character)),
    stats::setNames(lapply(keys, key_column), key_names),
    list(status = column("status", as.character), tries = column("tries", as.integer),
         duration_s = column("duration_s", as.numeric), items = column("items", as.integer),
         results = column("results", as.integer), error = column("error", as.character),
         traceback = column("traceback", as.character), reused_from = column("reused_from", as.character))
  )
  as.data.frame(table, stringsAsFactors = FALSE, check.names = FALSE)
}

#' What an entry script sees of its parallel run step
#'
#' For an R entry script of a [parallel_run_config()] (Python's
#' `EntryScript()`): `logger` writes lines to the step run's log, each marked
#' with its time, worker and level, at or above the config's `logging_level`;
#' `output_dir` is the folder to write files into (the step's `output`, else the
#' run's `outputs/`); `working_dir` is the worker's working folder. Outside a
#' worker the logger writes to the console at `"INFO"` and `output_dir` is `./outputs`.
#'
#' `register_model(model_name, model_path, tags = NULL, properties = NULL,
#' description = NULL, model_framework = NULL, model_framework_version = NULL,
#' partition = NULL)` (Python's `EntryScript().register_model`) registers the
#' local file or folder `model_path` as a model of the step's run, in bulk with
#' the other workers' once this mini batch has succeeded: a try that fails
#' registers nothing, a retried one registers once. With `partition` (the mini
#' batch's `mini_batch_context$partition_key_value`) it is that partition's
#' model, tagged with its key values (`list_models(ws, tags = list(store = "S1"))`
#' finds it; Python's `Model.get_by_partition` too). It is called inside `run()`
#' (elsewhere it is an error); the file is copied at once, so `run()` may
#' overwrite it afterwards. It needs no Python in the worker: the step's
#' coordinator registers what the worker sends.
#'
#' @return A list: `logger` (a list of functions `debug`, `info`, `warning`,
#'   `error` and `critical`, each taking a [sprintf()] format and its values),
#'   `output_dir`, `working_dir` and `register_model`.
#' @examples
#' log <- entry_script()$logger
#' log$info("store %s: %d rows", "17", 200L)
#' # in run(mini_batch, mini_batch_context) of an entry script:
#' # saveRDS(model, "model.rds")
#' # entry_script()$register_model("sales", "model.rds",
#' #                               partition = mini_batch_context$partition_key_value)
#' @export
entry_script <- function() {
  levels <- c(DEBUG = 10L, INFO = 20L, WARNING = 30L, ERROR = 40L, CRITICAL = 50L)
  setting <- toupper(Sys.getenv("RUNYARD_PARALLEL_LOGGING_LEVEL", "INFO"))
  lowest <- if (setting %in% names(levels)) levels[[setting]] else levels[["INFO"]]
  worker <- Sys.getenv("RUNYARD_PARALLEL_WORKER_ID")
  writer <- function(level) {
    force(level)
    function(format, ...) {
      if (levels[[level]] < lowest) return(invisible(NULL))
      now <- Sys.time()
      stamp <- paste0(format(now, "%Y-%m-%d %H:%M:%S"), ",", sprintf("%03d", as.integer(as.numeric(now) %% 1 * 1000)))
      text <- if (length(list(...))) sprintf(format, ...) else format
      cat(paste(c(stamp, if (nzchar(worker)) c("worker", worker), level, text), collapse = " "), "\n", sep = "",
          file = stderr())
      invisible(NULL)
    }
  }
  list(logger = list(debug = writer("DEBUG"), info = writer("INFO"), warning = writer("WARNING"),
                     error = writer("ERROR"), critical = writer("CRITICAL")),
       output_dir = Sys.getenv("RUNYARD_PARALLEL_OUTPUT_DIR", file.path(getwd(), "outputs")),
       working_dir = getwd(),
       # the R worker (r_worker.R) sets the option; outside one there is no step to register with
       register_model = getOption("runyard.parallel_run.register_model", function(...) {
         stop("entry_script()$register_model() registers a model of a parallel run step's mini batch: call it ",
              "inside run() of an R entry script (elsewhere: register_model())", call. = FALSE)
       }))
}
