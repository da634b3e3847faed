# A served workspace and a Ray target from R: a Ray cluster (a head and a worker
# node on loopback) and a `runyard server` are started once for this file, by the
# same Python helpers the pytest suite uses (the repository's tests/ folder).

repo_tests_dir <- function() {
  dir <- normalizePath(file.path(testthat::test_path(), "..", "..", "..", "tests"), mustWork = FALSE)
  if (file.exists(file.path(dir, "ray_services.py"))) dir else NULL
}

ray_services_or_skip <- function() {
  skip_if_no_runyard()
  dir <- repo_tests_dir()
  if (is.null(dir)) {
    # R CMD check runs a copy of the package, away from the repository.
    if (identical(tolower(Sys.getenv("CI")), "true")) stop("CI=true but the repository's tests/ folder is missing")
    testthat::skip("needs the repository's tests/ folder (ray_services.py), absent under R CMD check")
  }
  dir
}

# Started on first use, stopped when the file's tests end. A start that failed is not
# tried again by the next test (each try would start another cluster): its error is.
services <- local({
  started <- NULL
  failed <- NULL
  function() {
    if (!is.null(started)) return(started)
    if (!is.null(failed)) stop(failed)
    dir <- ray_services_or_skip()
    started <<- withCallingHandlers(start_services(dir), error = function(e) failed <<- e)
    started
  }
})

# A Ray cluster and a `runyard server`, each stopped when the file's tests end.
start_services <- function(dir) {
  folder <- tempfile("runyard-r-ray-")
  dir.create(folder)
  pathlib <- reticulate::import("pathlib")
  ray_services <- reticulate::import_from_path("ray_services", dir)
  server_service <- reticulate::import_from_path("server_service", dir)
  cluster <- ray_services$LoopbackCluster(pathlib$Path(file.path(folder, "ray")))
  withr::defer(cluster$stop(), envir = testthat::teardown_env())
  cluster$start()
  cluster$add_worker(num_cpus = 2L, resources = reticulate::dict(worker = 1))
  token <- "r-ray-token-of-the-test-server"  # the server takes 16 characters or more
  started_server <- server_service$start_server(
    paste0("sqlite:///", file.path(folder, "ws.db")), pathlib$Path(file.path(folder, "artifacts")),
    pathlib$Path(file.path(folder, "server.log")), token = token)
  withr::defer(server_service$stop_server(started_server[[1]]), envir = testthat::teardown_env())
  list(cluster = cluster, url = started_server[[2]], token = token)
}

served_workspace_with_ray <- function() {
  s <- services()
  ws <- get_workspace(path = s$url, token = s$token)
  attach_compute_target(ws, "ray", ray_cluster(s$cluster$address))
  ws
}

test_that("get_workspace opens a served workspace and a wrong token is refused", {
  s <- services()
  ws <- get_workspace(path = s$url, token = s$token)
  expect_equal(ws$url, s$url)
  expect_runyard_error(get_workspace(path = s$url, token = "wrong"), "runyard_config_error")
})

test_that("an R script runs on a Ray node with Rscript and logs to the served run", {
  ws <- served_workspace_with_ray()
  src <- local_test_dir()
  write_lines_to(src, "train.R", c(
    "library(runyard)",
    "run <- get_current_run()",
    "log_metric_to_run(\"rmse\", 0.5, run = run)",
    "log_metric_to_run(\"node_r\", as.numeric(R.version$major), run = run)",
    "dir.create(\"outputs\", showWarnings = FALSE)",
    "saveRDS(list(coef = 1:3), \"outputs/model.rds\")",
    "cat(\"trained on\", Sys.info()[[\"nodename\"]], \"\\n\")"))
  # The job's R finds the runyard R package and its Python on the node, as configured here.
  config <- script_run_config(src, "train.R", compute_target = "ray", environment_variables = list(
    R_LIBS = Sys.getenv("R_LIBS"), RETICULATE_PYTHON = python_bin()))
  run <- submit_experiment(experiment(ws, "r-on-ray"), config)
  details <- wait_for_run_completion(run, show_output = FALSE, raise_on_error = FALSE)
  expect_equal(details$status, "Completed", info = paste(details$error, collapse = " "))
  metrics <- get_run_metrics(run)
  expect_equal(metrics$rmse, 0.5)
  expect_true("outputs/model.rds" %in% get_run_file_names(run))
  model <- readRDS(download_file_from_run(run, "outputs/model.rds", file.path(src, "model.rds")))
  expect_equal(model$coef, 1:3)
})

test_that("a distributed configuration from R spreads processes over the Ray nodes", {
  ws <- served_workspace_with_ray()
  src <- local_test_dir()
  write_lines_to(src, "ranks.py", c(
    "import os",
    "print('rank', os.environ['RANK'], 'of', os.environ['WORLD_SIZE'], 'node', os.environ['NODE_RANK'])"))
  config <- script_run_config(src, "ranks.py", compute_target = "ray",
                              distributed_job_config = pytorch_configuration(2, node_count = 2))
  run <- submit_experiment(experiment(ws, "r-distributed"), config)
  expect_equal(wait_for_run_completion(run, show_output = FALSE)$status, "Completed")
  driver <- readLines(download_file_from_run(run, "logs/driver.log", file.path(src, "driver.log")))
  rank1 <- readLines(download_file_from_run(run, "logs/rank_1.log", file.path(src, "rank_1.log")))
  expect_true(any(grepl("rank 0 of 2 node 0", driver, fixed = TRUE)))
  expect_true(any(grepl("rank 1 of 2 node 1", rank1, fixed = TRUE)))
})

test_that("an unreachable cluster is one error naming its address, and no run is recorded", {
  s <- services()
  ws <- get_workspace(path = s$url, token = s$token)
  attach_compute_target(ws, "nowhere", ray_cluster("http://127.0.0.1:9"))
  src <- local_test_dir()
  write_lines_to(src, "t.R", "cat(1)")
  exp <- experiment(ws, "r-unreachable")
  err <- expect_runyard_error(submit_experiment(exp, script_run_config(src, "t.R", compute_target = "nowhere")),
                              "runyard_compute_error")
  expect_match(conditionMessage(err), "http://127.0.0.1:9", fixed = TRUE)
  expect_length(get_runs_in_experiment(exp), 0L)
})

test_that("bad distributed settings are refused before anything starts", {
  skip_if_no_runyard()
  expect_runyard_error(pytorch_configuration(process_count = 1.5), "runyard_config_error")
  expect_runyard_error(script_run_config(local_test_dir(), command = "true", distributed_job_config = "two"),
                       "runyard_config_error")
  expect_runyard_error(ray_cluster(address = "localhost:8265"), "runyard_config_error")
})
