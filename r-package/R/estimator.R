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
#' @param use_gpu Ask the compute target for a GPU (every framework); a target without GPUs
#'   fails the run in Preparing.
#' @param environment_variables A named list of variables for the run.
#' @param shm_size Shared memory size for Docker, e.g. `"2g"`.
#' @param max_run_duration_seconds Stop the run after this many seconds.
#' @param environment An environment from [r_environment()] or [get_environment()],
#'   instead of the package arguments (Python's `environment_definition`, the name its
#'   errors use).
#' @param framework `"R"`, `"SKLearn"`, `"PyTorch"`, `"TensorFlow"`, `"Chainer"`, `"RLlib"` (an RLlib
#'   script whose `ray.init()` joins the run's Ray instance) or `"Estimator"`.
#' @param framework_version The framework's curated version (Python frameworks).
#' @param pip_packages Extra pip packages (Python frameworks).
#' @param node_count,process_count_per_node Processes of a distributed run (PyTorch, Chainer);
#'   an R script runs in one process, so more is an error for `framework = "R"`.
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
  # Arguments of azuremlsdk's signature that Python's estimators do not have: R is the only
  # place that can refuse them.
  for (arg in c("vm_size", "vm_priority", "image_registry_details", "inputs")) {
    if (!is.null(get(arg))) arg_error(arg, "has no meaning here (an Azure-only option); leave it NULL")
  }
  options <- list(compute_target = compute_target, entry_script = entry_script,
                  script_params = as_text_values(script_params), custom_docker_image = custom_docker_image,
                  environment_variables = as_text_values(environment_variables), shm_size = shm_size,
                  max_run_duration_seconds = max_run_duration_seconds, framework_version = framework_version,
                  pip_packages = pip_packages, cran_packages = cran_packages, github_packages = github_packages,
                  custom_url_packages = custom_url_packages, environment_definition = environment)
  if (identical(framework, "R")) {
    # R's packages go into an r_environment() (with getOption("repos")) unless `environment`
    # is given; given both, Python says that one replaces the other.
    if (is.null(environment)) {
      options$environment_definition <- r_environment("r-estimator", cran_packages = cran_packages,
                                                      github_packages = github_packages,
                                                      custom_url_packages = custom_url_packages)
      options[c("cran_packages", "github_packages", "custom_url_packages")] <- list(NULL)
    }
  }
  # use_gpu asks the target for a GPU (a target without one fails the run in Preparing); an R
  # script runs in one process, which Python says when the counts ask for more.
  options <- c(options, list(use_gpu = use_gpu, node_count = node_count,
                             process_count_per_node = process_count_per_node))
  # Python says which options the chosen framework does not take.
  rpy()
  py_invoke(reticulate::import("runyard.estimators")$create_estimator, framework = framework,
            source_directory = source_directory, .args = options,
            .integers = c("max_run_duration_seconds", "node_count", "process_count_per_node"),
            .lists = c("pip_packages", "cran_packages", "github_packages", "custom_url_packages"),
            .dicts = c("script_params", "environment_variables"), .paths = "source_directory",
            .defaults = names(options))
}
