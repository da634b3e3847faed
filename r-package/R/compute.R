#' Describe a Docker compute target
#'
#' Runs jobs in containers on a Docker engine: each environment becomes an
#' image built once per hash (tagged `runyard/env:<hash>`), each run a
#' container running as a non-root user. Attach it with [attach_compute_target()].
#'
#' @param base_url The engine's URL (default: `DOCKER_HOST` or the local socket).
#' @param cpus CPUs per container.
#' @param memory Memory limit per container, e.g. `"4g"`; a job over it is reported as OOM-killed.
#' @param shm_size Shared memory per container, e.g. `"2g"`.
#' @param gpus A number of GPUs, `"all"`, or devices such as `"0,1"`.
#' @param network The containers' network mode, e.g. `"host"`.
#' @param registry An image registry to pull from and push to, e.g. `"127.0.0.1:5000"`.
#' @param default_base_image The base image of environments that name none.
#' @param build_network_mode The network mode of image builds (`"host"` behind some proxies).
#' @param ca_bundle A CA bundle file to trust inside images (added to the base image's).
#' @param build_args Named character vector or list of image build arguments (declared as `ARG`s).
#' @param pip_index_url,pip_extra_index_url The package index image builds install from.
#' @param pip_find_links A URL, or a folder of wheels on this machine that builds read over
#'   loopback (needs `build_network_mode = "host"`).
#' @param build_no_cache `TRUE` to build images without the engine's layer cache.
#' @param user The user jobs run as (default `"runyard"`, not root).
#' @return A compute target, not yet attached to a workspace.
#' @examples
#' \dontrun{
#' target <- attach_compute_target(ws, "docker", docker_compute(memory = "4g"))
#' }
#' @export
docker_compute <- function(base_url = NULL, cpus = NULL, memory = NULL, shm_size = NULL, gpus = NULL,
                           network = NULL, registry = NULL, default_base_image = NULL,
                           build_network_mode = NULL, ca_bundle = NULL, user = NULL, build_args = NULL,
                           pip_index_url = NULL, pip_extra_index_url = NULL, pip_find_links = NULL,
                           build_no_cache = FALSE) {
  settings <- c("base_url", "cpus", "memory", "shm_size", "gpus", "network", "registry", "default_base_image",
                "build_network_mode", "ca_bundle", "user", "build_args", "pip_index_url", "pip_extra_index_url",
                "pip_find_links", "build_no_cache")
  docker_module <- reticulate::import("runyard.compute.docker")
  py_invoke(docker_module$DockerCompute, .args = mget(settings), .integers = "gpus", .dicts = "build_args",
            .paths = c("ca_bundle", "pip_find_links"), .defaults = settings)
}

#' Describe a Ray cluster compute target
#'
#' Runs each job as a Ray job through the cluster's Jobs API: the snapshot is
#' the job's working directory, the environment's pip packages and variables its
#' runtime environment, and R scripts run with `Rscript` on a node. Jobs log to
#' the run through `tracking_uri`. Attach it with [attach_compute_target()].
#'
#' @param address The cluster dashboard's address (default: `RAY_ADDRESS`, else
#'   `"http://127.0.0.1:8265"`).
#' @param tracking_uri Where jobs log: a workspace server's URL. Default: the
#'   workspace's own address (a served workspace's URL; a workspace folder's path
#'   works only where the nodes share this machine's files).
#' @param use_image Run jobs in the environment's Docker base image (Ray's
#'   `image_uri`; the cluster needs podman).
#' @return A compute target, not yet attached to a workspace.
#' @examples
#' \dontrun{
#' attach_compute_target(ws, "ray", ray_cluster("http://127.0.0.1:8265"))
#' }
#' @export
ray_cluster <- function(address = NULL, tracking_uri = NULL, use_image = FALSE) {
  py_invoke(rpy()$RayCluster, address = address, tracking_uri = tracking_uri, use_image = use_image,
            .defaults = c("address", "tracking_uri", "use_image"))
}

#' Attach a compute target to a workspace
#'
#' @param workspace A workspace.
#' @param name The name runs use as `compute_target`.
#' @param target A target from [docker_compute()] or [ray_cluster()].
#' @return The attached target.
#' @examples
#' \dontrun{
#' attach_compute_target(ws, "docker", docker_compute(network = "host"))
#' }
#' @export
attach_compute_target <- function(workspace, name, target) {
  check_workspace(workspace)
  rpy()
  py_invoke(workspace$compute_targets$attach, name = name, target = target)
}

#' Get a compute target by name
#'
#' @param workspace A workspace.
#' @param cluster_name The target's name (azuremlsdk's argument name; Python, which
#'   checks it, calls it `compute_target` in its errors).
#' @return The compute target.
#' @examples
#' \dontrun{
#' get_compute(ws, "docker")
#' }
#' @export
get_compute <- function(workspace, cluster_name) {
  check_workspace(workspace)
  py_invoke(workspace$get_compute_target, name = cluster_name)
}

#' Detach a compute target from its workspace
#'
#' Runs made on it keep their history; `local` cannot be detached.
#'
#' @param cluster A compute target (from [get_compute()]).
#' @return `TRUE`, invisibly.
#' @examples
#' \dontrun{
#' delete_compute(get_compute(ws, "docker"))
#' }
#' @export
delete_compute <- function(cluster) {
  check_class(cluster, "runyard.compute.ComputeTarget", "cluster", "a compute target (from get_compute())")
  py_call(cluster$workspace$compute_targets$detach(cluster$name))
  invisible(TRUE)
}
