#' Describe a script run
#'
#' @param source_directory The folder to snapshot and run in.
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
  source_directory <- check_path(source_directory, "source_directory", "dir")
  check_string(script, "script", null_ok = TRUE)
  check_string(command, "command", null_ok = TRUE)
  if (is.null(script) && is.null(command)) arg_error("script", "or `command` must be given")
  if (!is.null(script) && !file.exists(file.path(source_directory, script))) {
    arg_error("script", sprintf("names a file that does not exist in %s: %s", source_directory, script))
  }
  check_string(compute_target, "compute_target")
  check_environment(environment)
  mod <- rpy()
  if (!is.null(distributed_job_config)) {
    check_class(distributed_job_config, "runyard.distributed._Distributed", "distributed_job_config",
                "a distributed configuration (from pytorch_configuration(), mpi_configuration() or tensorflow_configuration())")
  }
  run_config <- NULL
  settings <- list()
  if (!is.null(environment_variables)) {
    settings$environment_variables <- as_py_dict(lapply(environment_variables, as.character), "environment_variables")
  }
  if (!is.null(max_retries)) settings$max_retries <- as_py_int(max_retries, "max_retries")
  if (length(settings)) run_config <- py_call(do.call(mod$RunConfiguration, settings))
  args <- list(source_directory = source_directory, script = script, command = command,
               arguments = as_py_strings(arguments, "arguments"), compute_target = compute_target,
               environment = environment, run_config = run_config,
               distributed_job_config = distributed_job_config)
  if (!is.null(max_run_duration_seconds)) {
    args$max_run_duration_seconds <- as_py_int(max_run_duration_seconds, "max_run_duration_seconds")
  }
  py_call(do.call(mod$ScriptRunConfig, args))
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
  check_string(communication_backend, "communication_backend")
  py_call(rpy()$PyTorchConfiguration(communication_backend = communication_backend,
                                     process_count = as_py_int(process_count, "process_count"),
                                     node_count = as_py_int(node_count, "node_count", null_ok = FALSE)))
}

#' Run a script as MPI-style processes
#'
#' `process_count_per_node` processes on each of `node_count` nodes, each with
#' the Open MPI rank variables (`OMPI_COMM_WORLD_RANK`, ...). runyard starts the
#' processes itself; a script that needs `mpirun` brings it in its environment.
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
  py_call(rpy()$MpiConfiguration(
    process_count_per_node = as_py_int(process_count_per_node, "process_count_per_node", null_ok = FALSE),
    node_count = as_py_int(node_count, "node_count", null_ok = FALSE)))
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
  py_call(rpy()$TensorflowConfiguration(
    worker_count = as_py_int(worker_count, "worker_count", null_ok = FALSE),
    parameter_server_count = as_py_int(parameter_server_count, "parameter_server_count", null_ok = FALSE)))
}
