#' Describe a CRAN package for an R environment
#'
#' @param name Package name.
#' @param version An exact version, or `NULL` for any.
#' @param repo The repository to install from, or `NULL` for the environment's `repos`.
#' @return A named list.
#' @examples
#' cran_package("jsonlite")
#' @export
cran_package <- function(name, version = NULL, repo = NULL) {
  # Checked by Python with the environment it goes into (as `r.cran_packages`).
  list(name = name, version = version, repo = repo)
}

#' Describe a GitHub package for an R environment
#'
#' @param repository `"owner/repo"`.
#' @param auth_token A token for private repositories.
#' @return A named list.
#' @examples
#' github_package("owner/pkg")
#' @export
github_package <- function(repository, auth_token = NULL) {
  list(repository = repository, auth_token = auth_token)
}

#' Describe an R environment
#'
#' What an R training script needs: R packages (installed, when missing, into a
#' library cached by the environment's hash), environment variables, and for
#' the Docker target a base image.
#'
#' @param name Environment name.
#' @param version Version (set by [register_environment()]).
#' @param environment_variables A named list of variables for the run.
#' @param r_version The R version the run needs (the local target checks it).
#' @param rscript_path The `Rscript` to run scripts with.
#' @param snapshot_date Kept for azuremlsdk compatibility (a CRAN snapshot date).
#' @param cran_packages A list of [cran_package()] (or package names).
#' @param github_packages A list of [github_package()].
#' @param custom_url_packages URLs or paths of package source archives.
#' @param bioconductor_packages Bioconductor package names.
#' @param custom_docker_image A Docker base image (Docker target).
#' @param image_registry_details Registry address and credentials, a named list.
#' @param use_gpu `FALSE`. azuremlsdk chose a GPU base image with it; here a GPU is asked for by
#'   the run, not its environment: `estimator(use_gpu = TRUE)`, or a `custom_docker_image` with
#'   the GPU libraries and a Docker target with `gpus`. `TRUE` is an error saying so.
#' @param shm_size Shared memory size for Docker, e.g. `"2g"`.
#' @param repos Repository URLs (a character vector) to install from; default `getOption("repos")`.
#' @return An environment.
#' @examples
#' \dontrun{
#' env <- r_environment("r-train", cran_packages = list(cran_package("jsonlite")))
#' }
#' @export
r_environment <- function(name, version = NULL, environment_variables = NULL, r_version = NULL,
                          rscript_path = NULL, snapshot_date = NULL, cran_packages = NULL,
                          github_packages = NULL, custom_url_packages = NULL,
                          bioconductor_packages = NULL, custom_docker_image = NULL,
                          image_registry_details = NULL, use_gpu = FALSE, shm_size = NULL,
                          repos = getOption("repos")) {
  if (!identical(use_gpu, FALSE)) {
    arg_error("use_gpu", paste("is a request of the run, not of its environment: use estimator(use_gpu = TRUE),",
                               "or a custom_docker_image with the GPU libraries on a Docker target with gpus"))
  }
  r <- list(r_version = r_version, rscript_path = rscript_path, snapshot_date = snapshot_date,
            repos = as_repos(repos), cran_packages = as_packages(cran_packages, cran_package),
            github_packages = as_packages(github_packages, github_package),
            custom_url_packages = as.list(custom_url_packages),
            bioconductor_packages = as.list(bioconductor_packages))
  docker <- list(enabled = !is.null(custom_docker_image), base_image = custom_docker_image,
                 base_image_registry = image_registry_details, shm_size = shm_size)
  # A NULL setting is left out of the sections, so Python's default applies.
  r <- r[!vapply(r, is.null, logical(1))]
  docker <- docker[!vapply(docker, is.null, logical(1))]
  py_invoke(rpy()$Environment, name, version = version, r = r, docker = docker,
            environment_variables = environment_variables, .dicts = "environment_variables",
            .defaults = "environment_variables")
}

# Package names given for cran_package()s (or github_package()s), as the docs allow.
as_packages <- function(packages, describe_package) {
  if (is.null(packages) || inherits(packages, "python.builtin.object")) return(packages)
  lapply(as.list(packages), function(p) if (is.character(p) && length(p) == 1) describe_package(p) else p)
}

# getOption("repos") as a list of URLs: its names dropped, and the "@CRAN@" placeholder of
# an R that has no CRAN mirror set (and NA) left out: they are no URLs.
as_repos <- function(repos) {
  if (!is.character(repos)) return(repos)
  as.list(unname(repos[!is.na(repos) & repos != "@CRAN@"]))
}

# For wrappers that call an environment's own methods (see check_class()).
check_environment <- function(environment, arg = "environment") {
  check_class(environment, "runyard.environment.Environment", arg,
              "an environment (from r_environment() or get_environment())")
}

#' Register an environment in a workspace
#'
#' A changed spec gets the next version; an unchanged one keeps its version.
#'
#' @param environment An environment.
#' @param workspace A workspace.
#' @return The registered environment (with its version).
#' @examples
#' \dontrun{
#' env <- register_environment(r_environment("r-train"), ws)
#' }
#' @export
register_environment <- function(environment, workspace) {
  check_environment(environment)
  py_invoke(environment$register, workspace = workspace)
}

#' Get a registered environment
#'
#' @param workspace A workspace.
#' @param name Environment name.
#' @param version A version, or `NULL` for the latest.
#' @return The environment.
#' @examples
#' \dontrun{
#' env <- get_environment(ws, "r-train")
#' }
#' @export
get_environment <- function(workspace, name, version = NULL) {
  py_invoke(rpy()$Environment$get, workspace = workspace, name = name, version = version, .integers = "version")
}
