#' Describe a training run with an estimator
#'
#' azuremlsdk's `estimator()`: an R script run with `Rscript` (`framework = "R"`,
#' the default) with its CRAN, GitHub or URL packages in an R library built once
#' per environment; or a Python framework's script in its curated environment
#' (`"SKLearn"`, `"PyTorch"`, `"Chainer"`, `"RLlib"`), or the generic estimator (`"Estimator"`). Submit it
#' with [submit_experiment()].
#'
#' @param source_directory The folder to snapshot and run in.
#' @param compute_target Target name (default `"local"`).
#' @param vm_size,vm_priority,image_registry_details,inputs Azure-only; must be `NULL`.
#' @param entry_script The script, relative to `source_directory`.
#' @param script_params A named list of command-line options, e.g.
#'   `list("--alpha" = 0.5)`; an empty string makes a flag.
#' @param cran_packages,github_packages,custom_url_packages R packages (see
#'   [r_environment()]); `framework = "R"` only.
#' @param custom_docker_image A Docker base image (Docker target).
#' @param use_gpu Request a GPU.
#' @param environment_variables A named list of variables for the run.
#' @param shm_size Shared memory size for Docker, e.g. `"2g"`.
#' @param max_run_duration_seconds Stop the run after this many seconds.
#' @param environment An environment from [r_environment()] or [get_environment()],
#'   instead of the package arguments.
#' @param framework `"R"`, `"SKLearn"`, `"PyTorch"`, `"TensorFlow"`, `"Chainer"`, `"RLlib"` (an RLlib
#'   script whose `ray.init()` joins the run's Ray instance) or `"Estimator"`.
#' @param framework_version The framework's curated version (Python frameworks).
#' @param pip_packages Extra pip packages (Python frameworks).
#' @param node_count,process_count_per_node Processes of a distributed run (PyTorch, Chainer).
#' @return An estimator, for [submit_experiment()].
#' @examples
#' \dontrun{
#' est <- estimator(".", entry_script = "train.R", script_params = list("--degree" = 2),
#'                  cran_packages = list(cran_package("glmnet")))
#' run <- submit_experiment(experiment(ws, "mtcars"), est)
#' }
#' @export
estimator <- function(source_directory, compute_target = NULL, vm_size = NULL, vm_priority = NULL,
                      entry_script = NULL, script_params = NULL, cran_packages = NULL, github_packages = NULL,
                      custom_url_packages = NULL, custom_docker_image = NULL, image_registry_details = NULL,
                      use_gpu = FALSE, environment_variables = NULL, shm_size = NULL,
                      max_run_duration_seconds = NULL, environment = NULL, inputs = NULL,
                      framework = "R", framework_version = NULL, pip_packages = NULL,
                      node_count = 1, process_count_per_node = 1) {
  source_directory <- check_path(source_directory, "source_directory", "dir")
  check_string(entry_script, "entry_script")
  check_string(compute_target, "compute_target", null_ok = TRUE)
  check_string(framework, "framework")
  for (arg in c("vm_size", "vm_priority", "image_registry_details", "inputs")) {
    if (!is.null(get(arg))) arg_error(arg, "has no meaning here (an Azure-only option); leave it NULL")
  }
  check_environment(environment)
  frameworks <- c("R", "SKLearn", "PyTorch", "TensorFlow", "Chainer", "RLlib", "Estimator")
  if (!framework %in% frameworks) {
    arg_error("framework", sprintf("must be one of %s, not %s", paste(frameworks, collapse = ", "), describe(framework)))
  }
  params <- if (is.null(script_params)) NULL else as_py_dict(lapply(script_params, as.character), "script_params")
  variables <- if (is.null(environment_variables)) NULL else
    as_py_dict(lapply(environment_variables, as.character), "environment_variables")
  duration <- as_py_int(max_run_duration_seconds, "max_run_duration_seconds")
  mod <- rpy()
  if (framework == "R") {
    if (!is.null(pip_packages) || !is.null(framework_version)) {
      arg_error(if (is.null(pip_packages)) "framework_version" else "pip_packages",
                "applies to Python frameworks, not framework = \"R\"")
    }
    if (is.null(environment)) {
      environment <- r_environment("r-estimator", cran_packages = cran_packages, github_packages = github_packages,
                                   custom_url_packages = custom_url_packages)
    } else if (!is.null(cran_packages) || !is.null(github_packages) || !is.null(custom_url_packages)) {
      arg_error("environment", "replaces cran_packages, github_packages and custom_url_packages; give one or the other")
    }
    return(py_call(mod$REstimator(source_directory, compute_target = compute_target, entry_script = entry_script,
                                  script_params = params, environment_definition = environment,
                                  custom_docker_image = custom_docker_image, shm_size = shm_size,
                                  max_run_duration_seconds = duration, environment_variables = variables)))
  }
  if (!is.null(cran_packages) || !is.null(github_packages) || !is.null(custom_url_packages)) {
    arg_error("cran_packages", sprintf("applies to framework = \"R\", not \"%s\"", framework))
  }
  py_call(mod[[framework]](source_directory, compute_target = compute_target, entry_script = entry_script,
                           script_params = params, node_count = as_py_int(node_count, "node_count", null_ok = FALSE),
                           process_count_per_node = as_py_int(process_count_per_node, "process_count_per_node",
                                                              null_ok = FALSE),
                           use_gpu = isTRUE(use_gpu), custom_docker_image = custom_docker_image,
                           pip_packages = as_py_strings(pip_packages, "pip_packages"),
                           environment_definition = environment, shm_size = shm_size,
                           max_run_duration_seconds = duration, framework_version = framework_version,
                           environment_variables = variables))
}
