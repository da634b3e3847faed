#' Describe a script run
#'
#' @param source_directory The folder to snapshot and run in. It and `script` are
#'   checked when the run is submitted, as for Python's `ScriptRunConfig`.
#' @param script The script, relative to `source_directory`: `.R` files run
#'   with `Rscript`, others with Python.
#' @param arguments Command-line arguments (a vector or list of strings and numbers).
#' @param compute_target Target name (default `"local"`).
#' @param environment An environment from [r_environment()] or [get_environment()];
#'   `NULL` runs with the Python/R that submitted it.
#' @param max_run_duration_seconds Stop the run after this many seconds.
#' @param command A shell command instead of `script`.
#' @param environment_variables A named list of variables for the run.
#' @param distributed_job_config Several processes for the run: from
#'   [pytorch_configuration()], [mpi_configuration()] or [tensorflow_configuration()].
#' @param max_retries Times the run starts again when its job is lost with its
#'   node (on a Ray cluster); a failing script is not retried.
#' @return A script run configuration, for [submit_experiment()].
#' @examples
#' \dontrun{
#' config <- script_run_config(".", "train.R", arguments = list("--alpha", 0.5))
#' }
#' @export
script_run_config <- function(source_directory, script = NULL, arguments = NULL, compute_target = "local",
                              environment = NULL, max_run_duration_seconds = NULL, command = NULL,
                              environment_variables = NULL, distributed_job_config = NULL,
                              max_retries = NULL) {
  mod <- rpy()
  run_config <- NULL
  if (!is.null(environment_variables) || !is.null(max_retries)) {
    run_config <- py_invoke(mod$RunConfiguration, environment_variables = as_text_values(environment_variables),
                            max_retries = max_retries, .integers = "max_retries", .dicts = "environment_variables",
                            .defaults = c("environment_variables", "max_retries"))
  }
  py_invoke(mod$ScriptRunConfig, source_directory = source_directory, script = script, command = command,
            arguments = as_argument_text(arguments), compute_target = compute_target, environment = environment,
            run_config = run_config, distributed_job_config = distributed_job_config,
            max_run_duration_seconds = max_run_duration_seconds, .integers = "max_run_duration_seconds",
            .lists = "arguments", .paths = "source_directory", .defaults = "max_run_duration_seconds")
}

# Command-line arguments as R writes them: a number as its shortest text (2, not Python's
# "2.0"), a logical as "TRUE"/"FALSE"; anything else as it is, for Python to take or refuse.
as_argument_text <- function(x) {
  if (is.null(x) || inherits(x, "python.builtin.object")) return(x)
  if ((is.numeric(x) || is.logical(x)) && !is.object(x)) {
    text <- if (is.logical(x)) as.character(x) else format(x, digits = 15, scientific = FALSE, trim = TRUE)
    text[is.na(x)] <- NA
    names(text) <- names(x)
    return(text)
  }
  if (is.list(x)) return(lapply(x, as_argument_text))
  x
}

# Variables (and script parameters) are text: a named list of numbers becomes their text.
as_text_values <- function(x) {
  if (!is.list(x) && !(is.atomic(x) && !is.null(names(x)))) return(x)
  lapply(as.list(x), as_argument_text)
}

#' Run a script as PyTorch distributed processes
#'
#' Each process gets `MASTER_ADDR`, `MASTER_PORT`, `WORLD_SIZE`, `RANK`,
#' `LOCAL_RANK` and `NODE_RANK`. On the local target every process runs on this
#' machine; on a Ray cluster they spread over `node_count` nodes.
#'
#' @param process_count Processes in all (default: one per node).
#' @param node_count Nodes to spread them over.
#' @param communication_backend `"Gloo"` (CPU) or `"Nccl"` (GPU); the script reads
#'   it from `RUNYARD_COMMUNICATION_BACKEND`.
#' @return A distributed configuration for [script_run_config()].
#' @examples
#' \dontrun{
#' config <- script_run_config(".", "train.py", compute_target = "ray",
#'                             distributed_job_config = pytorch_configuration(2, node_count = 2))
#' }
#' @export
pytorch_configuration <- function(process_count = NULL, node_count = 1, communication_backend = "Gloo") {
  py_invoke(rpy()$PyTorchConfiguration, communication_backend = communication_backend,
            process_count = process_count, node_count = node_count, .integers = c("process_count", "node_count"))
}

#' Run a script as MPI-style processes
#'
#' `process_count_per_node` processes on each of `node_count` nodes, each with
#' the Open MPI rank variables (`OMPI_COMM_WORLD_RANK`, ...). On the local target
#' the processes run under Open MPI's `mpirun` (without it the run fails in
#' Preparing), and in a Docker image that has `mpirun` too; on Ray, and in an
#' image without it, runyard starts the ranks itself with the same variables but
#' no MPI runtime between them.
#'
#' @param process_count_per_node Processes on each node.
#' @param node_count Nodes.
#' @return A distributed configuration for [script_run_config()].
#' @examples
#' \dontrun{
#' mpi_configuration(process_count_per_node = 2)
#' }
#' @export
mpi_configuration <- function(process_count_per_node = 1, node_count = 1) {
  py_invoke(rpy()$MpiConfiguration, process_count_per_node = process_count_per_node, node_count = node_count,
            .integers = c("process_count_per_node", "node_count"))
}

#' Run a script as TensorFlow workers and parameter servers
#'
#' Each process gets a `TF_CONFIG` naming the whole cluster and its own task.
#'
#' @param worker_count Workers.
#' @param parameter_server_count Parameter servers.
#' @return A distributed configuration for [script_run_config()].
#' @examples
#' \dontrun{
#' tensorflow_configuration(worker_count = 2, parameter_server_count = 1)
#' }
#' @export
tensorflow_configuration <- function(worker_count = 1, parameter_server_count = 1) {
  py_invoke(rpy()$TensorflowConfiguration, worker_count = worker_count,
            parameter_server_count = parameter_server_count, .integers = c("worker_count", "parameter_server_count"))
}
