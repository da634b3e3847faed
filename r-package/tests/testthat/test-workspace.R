test_that("workspaces are created, opened by path and found from a nested folder", {
  skip_if_no_runyard()
  dir <- local_test_dir()
  ws <- create_workspace(name = "proj", path = file.path(dir, ".runyard"))
  expect_s3_class(ws, "runyard.workspace.Workspace")
  expect_identical(ws$name, "proj")
  expect_true(file.exists(file.path(dir, ".runyard", "config.yaml")))
  expect_message(again <- create_workspace(path = file.path(dir, ".runyard"), subscription_id = "abc"),
                 "subscription_id")
  expect_identical(again$name, "proj")
  expect_runyard_error(create_workspace(path = file.path(dir, ".runyard"), exist_ok = FALSE),
                       "runyard_config_error")

  expect_identical(get_workspace(path = file.path(dir, ".runyard"))$name, "proj")
  expect_identical(get_workspace(path = dir)$name, "proj")

  nested <- file.path(dir, "analysis", "deep")
  dir.create(nested, recursive = TRUE)
  old <- setwd(nested)
  on.exit(setwd(old), add = TRUE)
  found <- load_workspace_from_config()
  expect_identical(found$name, "proj")
  expect_identical(normalizePath(as.character(found$path)), normalizePath(file.path(dir, ".runyard")))
  expect_identical(get_workspace()$name, "proj")
  setwd(old)

  expect_runyard_error(load_workspace_from_config(local_test_dir()), "runyard_not_found_error")

  targets <- list_compute_targets(ws)
  expect_s3_class(targets, "data.frame")
  expect_identical(names(targets), c("name", "type"))
  expect_true("local" %in% targets$name)
  expect_identical(targets$type[targets$name == "local"], "local")
  # An attached target is listed too, also when the workspace is opened again.
  attach_compute_target(ws, "gpu-box", docker_compute(memory = "4g"))
  targets <- list_compute_targets(get_workspace(path = dir))
  expect_setequal(targets$name, c("local", "gpu-box"))
  expect_identical(targets$type[targets$name == "gpu-box"], "docker")
})

test_that("load_workspace_from_config() opens the workspace beside Azure's .azureml/config.json", {
  skip_if_no_runyard()
  dir <- local_test_dir()
  dir.create(file.path(dir, ".azureml"))
  writeLines('{"subscription_id": "sub-1", "resource_group": "rg-1", "workspace_name": "azure-ws"}',
             file.path(dir, ".azureml", "config.json"))
  nested <- file.path(dir, "src")
  dir.create(nested)
  old <- setwd(nested)
  on.exit(setwd(old), add = TRUE)
  ws <- load_workspace_from_config()
  expect_identical(ws$name, "azure-ws")
  expect_identical(c(ws$subscription_id, ws$resource_group, ws$location), c("sub-1", "rg-1", "local"))
  expect_identical(normalizePath(as.character(ws$path)), normalizePath(file.path(dir, ".runyard")))
})

test_that("get_workspace() with Azure's subscription_id and resource_group opens the project's workspace", {
  skip_if_no_runyard()
  dir <- local_test_dir()
  old <- setwd(dir)
  on.exit(setwd(old), add = TRUE)
  ws <- get_workspace("azure-ws", subscription_id = "sub-1", resource_group = "rg-1")
  expect_identical(c(ws$name, ws$subscription_id, ws$resource_group), c("azure-ws", "sub-1", "rg-1"))
  expect_identical(normalizePath(as.character(ws$path)), normalizePath(file.path(dir, ".runyard")))
  expect_error(get_workspace("azure-ws", subscription_id = "sub-1"), "resource_group must be non-empty text",
               class = "runyard_config_error")
  expect_error(get_workspace("azure-ws", path = ".runyard", subscription_id = "sub-1", resource_group = "rg-1"),
               "`path` opens a runyard workspace", class = "runyard_argument_error")
})

test_that("docker_compute() takes the build settings a proxy needs, and checks them", {
  skip_if_no_runyard()
  wheels <- tempfile("wheels")
  dir.create(wheels)
  on.exit(unlink(wheels, recursive = TRUE), add = TRUE)
  target <- docker_compute(build_network_mode = "host", build_args = c(HTTP_PROXY = "http://proxy:3128"),
                           pip_index_url = "https://pypi.example/simple", pip_find_links = wheels,
                           build_no_cache = TRUE, gpus = "0,1")
  settings <- target$settings
  expect_identical(settings$build_args$HTTP_PROXY, "http://proxy:3128")
  expect_identical(settings$pip_index_url, "https://pypi.example/simple")
  expect_identical(settings$pip_find_links, wheels)
  expect_true(settings$build_no_cache)
  expect_identical(settings$gpus, "device=0,1")
  # Python's settings model checks each setting and names it.
  expect_error(docker_compute(build_args = list("x")), class = "runyard_config_error",
               regexp = "field 'build_args': Input should be a valid dictionary")
  expect_error(docker_compute(build_no_cache = "maybe"), class = "runyard_config_error",
               regexp = "field 'build_no_cache': Input should be a valid boolean")
  expect_identical(docker_compute(gpus = 2)$settings$gpus, 2L)
  # A folder of wheels is served to builds on loopback: the settings say so, naming the field.
  expect_error(docker_compute(pip_find_links = wheels), class = "runyard_error", regexp = "pip_find_links")
})

test_that("registering an environment versions it by its spec", {
  skip_if_no_runyard()
  fx <- local_workspace()
  first <- register_environment(r_environment("r-train", cran_packages = list("jsonlite")), fx$ws)
  expect_s3_class(first, "runyard.environment.Environment")
  expect_identical(first$version, "1")
  same <- register_environment(r_environment("r-train", cran_packages = list("jsonlite")), fx$ws)
  expect_identical(same$version, "1")
  changed <- register_environment(
    r_environment("r-train", cran_packages = list(cran_package("jsonlite"), cran_package("reticulate"))), fx$ws)
  expect_identical(changed$version, "2")

  latest <- get_environment(fx$ws, "r-train")
  expect_identical(latest$version, "2")
  expect_identical(vapply(latest$r$cran_packages, function(p) p$name, character(1)), c("jsonlite", "reticulate"))
  v1 <- get_environment(fx$ws, "r-train", version = 1)
  expect_identical(v1$version, "1")
  expect_identical(vapply(v1$r$cran_packages, function(p) p$name, character(1)), "jsonlite")

  expect_runyard_error(get_environment(fx$ws, "r-train", version = 3), "runyard_not_found_error")
  expect_runyard_error(get_environment(fx$ws, "no-such-env"), "runyard_not_found_error")
  expect_runyard_error(register_environment("r-train", fx$ws), "runyard_argument_error")
  err <- expect_runyard_error(register_environment(r_environment("r-train"), "not a workspace"), "runyard_config_error")
  expect_match(conditionMessage(err), "workspace must be a Workspace", fixed = TRUE)
  err <- expect_runyard_error(get_environment(fx$ws, "r-train", version = 1.5), "runyard_config_error")
  expect_match(conditionMessage(err), "environment version 1.5 must be a whole number", fixed = TRUE)
})

test_that("runs of an experiment are filtered by status and tags", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "ok.R", "cat('fine\\n')")
  write_lines_to(fx$src, "fail.R", "stop('on purpose')")
  exp <- experiment(fx$ws, "queries")
  good <- submit_experiment(exp, script_run_config(fx$src, "ok.R"), tags = list(kind = "good", team = "a"))
  bad <- submit_experiment(exp, script_run_config(fx$src, "fail.R"), tags = list(kind = "bad", team = "a"))
  wait_for_run_completion(good, show_output = FALSE)
  wait_for_run_completion(bad, show_output = FALSE, raise_on_error = FALSE)

  ids <- function(runs) vapply(runs, function(r) r$id, character(1))
  expect_setequal(ids(get_runs_in_experiment(exp)), c(good$id, bad$id))
  expect_identical(ids(get_runs_in_experiment(exp, status = "Completed")), good$id)
  expect_identical(ids(get_runs_in_experiment(exp, status = "Failed")), bad$id)
  expect_length(get_runs_in_experiment(exp, status = "Canceled"), 0)
  expect_identical(ids(get_runs_in_experiment(exp, tags = list(kind = "bad"))), bad$id)
  expect_setequal(ids(get_runs_in_experiment(exp, tags = list(team = "a"))), c(good$id, bad$id))
  expect_identical(ids(get_runs_in_experiment(exp, tags = list(team = "a"), status = "Completed")), good$id)
  expect_length(get_runs_in_experiment(exp, tags = list(kind = "other")), 0)
  expect_identical(get_run_details(good)$tags, list(kind = "good", team = "a"))
  expect_runyard_error(get_runs_in_experiment(exp, status = "Done"), "runyard_config_error")
})

test_that("cancel_run stops a sleeping R script and the run ends Canceled", {
  skip_if_no_runyard()
  fx <- local_workspace()
  marker <- file.path(fx$dir, "sleeping")
  write_lines_to(fx$src, "sleep.R", c(
    "file.create(commandArgs(trailingOnly = TRUE)[1])",
    "Sys.sleep(300)",
    "cat('woke up\\n')"
  ))
  exp <- experiment(fx$ws, "cancel")
  run <- submit_experiment(exp, script_run_config(fx$src, "sleep.R", arguments = list(marker)))
  wait_until(function() file.exists(marker), "the R script to start sleeping")
  expect_true(cancel_run(run))
  details <- wait_for_run_completion(run, show_output = FALSE)
  expect_identical(details$status, "Canceled")
  expect_true(all(c("Running", "CancelRequested", "Canceled") %in% details$statusHistory$status))
  driver_log <- get_run_details_with_logs(run)$logFiles[["logs/driver.log"]]
  expect_false(grepl("woke up", driver_log, fixed = TRUE))
  expect_identical(vapply(get_runs_in_experiment(exp, status = "Canceled"), function(r) r$id, ""), run$id)
})

test_that("an interactive run logs from this R session until complete_run", {
  skip_if_no_runyard()
  fx <- local_workspace()
  exp <- experiment(fx$ws, "interactive")
  run <- start_logging_run(exp, display_name = "notebook")
  expect_identical(get_run_details(run)$status, "Running")
  log_metric_to_run("accuracy", 0.8, run = run)
  log_metric_to_run("accuracy", 0.9, run = run)
  log_row_to_run("folds", fold = 1L, auc = 0.7, run = run)
  log_table_to_run("cm", list(truth = c("a", "b"), n = c(3L, 4L)), run = run)
  local_files <- local_test_dir()
  saveRDS(1:3, file.path(local_files, "model.rds"))
  dir.create(file.path(local_files, "plots"))
  writeLines("x", file.path(local_files, "plots", "a.txt"))
  upload_files_to_run("outputs/model.rds", file.path(local_files, "model.rds"), run = run)
  upload_folder_to_run("plots", file.path(local_files, "plots"), run = run)
  grDevices::png(file.path(local_files, "p.png"))
  plot(1:3)
  grDevices::dev.off()
  expect_identical(log_image_to_run("scatter", path = file.path(local_files, "p.png"), run = run),
                   "images/scatter.png")
  err <- expect_runyard_error(upload_files_to_run("outputs/x", file.path(local_files, "absent"), run = run),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "absent' is not a file", fixed = TRUE)
  complete_run(run)
  details <- get_run_details(run)
  expect_identical(details$status, "Completed")
  expect_identical(details$displayName, "notebook")
  expect_identical(details$runType, "interactive")
  metrics <- get_run_metrics(run)
  expect_equal(metrics$accuracy, c(0.8, 0.9))
  expect_equal(metrics$folds, data.frame(fold = 1L, auc = 0.7))
  expect_equal(metrics$cm, data.frame(truth = c("a", "b"), n = c(3L, 4L)))
  expect_identical(metrics$scatter, "images/scatter.png")
  expect_true(all(c("outputs/model.rds", "plots/a.txt", "images/scatter.png") %in% get_run_file_names(run)))
  expect_identical(readRDS(download_file_from_run(run, "outputs/model.rds", file.path(local_files, "back.rds"))),
                   1:3)
  expect_identical(vapply(get_runs_in_experiment(exp, status = "Completed"), function(r) r$id, ""), run$id)
})

test_that("child runs created inside a job are listed with their metrics", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "cv.R", c(
    "library(runyard)",
    "for (fold in 1:2) {",
    "  child <- create_child_run(name = paste0('fold-', fold))",
    "  log_metric_to_run('auc', 0.5 + fold / 10, run = child)",
    "  complete_run(child)",
    "}",
    "log_metric_to_run('folds', 2)"
  ))
  exp <- experiment(fx$ws, "cv")
  run <- submit_experiment(exp, script_run_config(fx$src, "cv.R"))
  wait_for_run_completion(run, show_output = FALSE)
  expect_identical(get_run_details(run)$status, "Completed")
  expect_equal(get_run_metrics(run), list(folds = 2))

  children <- get_child_runs(run)
  expect_length(children, 2)
  child_details <- lapply(children, get_run_details)
  names <- vapply(child_details, function(d) d$displayName, character(1))
  expect_setequal(names, c("fold-1", "fold-2"))
  for (i in seq_along(children)) {
    expect_identical(child_details[[i]]$status, "Completed")
    expect_identical(child_details[[i]]$parentRunId, run$id)
    fold <- as.integer(sub("fold-", "", names[i]))
    expect_equal(get_run_metrics(children[[i]])$auc, 0.5 + fold / 10)
  }
  expect_length(get_runs_in_experiment(exp), 1)
  expect_length(get_runs_in_experiment(exp, include_children = TRUE), 3)
})
