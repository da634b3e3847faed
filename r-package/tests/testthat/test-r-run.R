test_that("an R script run logs every kind of metric, an image and outputs", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", c(
    "library(runyard)",
    "for (mse in c(3.5, 2.25, 1.125)) log_metric_to_run('mse', mse)",
    "log_metric_to_run('model', 'glm')",
    "log_list_to_run('losses', c(0.9, 0.5, 0.25))",
    "log_row_to_run('epochs', epoch = 1, loss = 0.4)",
    "log_row_to_run('epochs', epoch = 2, loss = 0.3)",
    "log_table_to_run('predictions', data.frame(y = 1:3, yhat = c(1.5, 2.5, 3.5), label = c('a', 'b', 'c')))",
    "log_image_to_run('curve', plot = function() plot(1:10))",
    "dir.create('outputs', showWarnings = FALSE)",
    "saveRDS(list(coef = c(a = 1.5, b = -2)), 'outputs/model.rds')",
    "dir.create('outputs/sub')",
    "writeLines('notes', 'outputs/sub/notes.txt')",
    "log_metric_to_run('greeting', Sys.getenv('GREETING'))",
    "cat('training done\\n')"
  ))
  exp <- experiment(fx$ws, "r-metrics")
  run <- submit_experiment(exp, script_run_config(fx$src, "train.R",
                                                  environment_variables = list(GREETING = "hi from R")))
  expect_s3_class(run, "runyard.run.Run")
  # show_output = TRUE (the default) streams the run's output into R's console.
  expect_output(details <- wait_for_run_completion(run), "training done")
  expect_equal(details$status, "Completed")

  metrics <- get_run_metrics(run)
  expect_setequal(names(metrics), c("mse", "model", "losses", "epochs", "predictions", "curve", "greeting"))
  expect_type(metrics$mse, "double")
  expect_equal(metrics$mse, c(3.5, 2.25, 1.125))
  expect_identical(metrics$model, "glm")
  expect_equal(metrics$losses, c(0.9, 0.5, 0.25))
  expect_s3_class(metrics$epochs, "data.frame")
  expect_equal(metrics$epochs, data.frame(epoch = c(1, 2), loss = c(0.4, 0.3)), ignore_attr = TRUE)
  expect_s3_class(metrics$predictions, "data.frame")
  expect_equal(nrow(metrics$predictions), 3)
  expect_equal(metrics$predictions$y, 1:3, ignore_attr = TRUE)
  expect_equal(metrics$predictions$yhat, c(1.5, 2.5, 3.5))
  expect_identical(metrics$predictions$label, c("a", "b", "c"))
  expect_identical(metrics$curve, "images/curve.png")
  expect_identical(metrics$greeting, "hi from R")
  expect_equal(get_run_metrics(run, name = "mse"), list(mse = c(3.5, 2.25, 1.125)))

  files <- get_run_file_names(run)
  expect_type(files, "character")
  expect_true(all(c("images/curve.png", "outputs/model.rds", "outputs/sub/notes.txt",
                    "logs/driver.log") %in% files))

  down <- local_test_dir()
  image <- download_file_from_run(run, "images/curve.png", file.path(down, "curve.png"))
  expect_identical(readBin(image, "raw", 8), as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)))
  model_path <- download_file_from_run(run, "outputs/model.rds", file.path(down, "model.rds"))
  expect_equal(readRDS(model_path), list(coef = c(a = 1.5, b = -2)))
  written <- download_files_from_run(run, prefix = "outputs/", output_directory = file.path(down, "all"))
  expect_setequal(normalizePath(written),
                  normalizePath(file.path(down, "all", c("outputs/model.rds", "outputs/sub/notes.txt"))))
  expect_equal(readRDS(file.path(down, "all", "outputs", "model.rds")), list(coef = c(a = 1.5, b = -2)))
  expect_identical(readLines(file.path(down, "all", "outputs", "sub", "notes.txt")), "notes")
  flat <- download_files_from_run(run, prefix = "outputs/", output_directory = file.path(down, "flat"),
                                  append_prefix = FALSE)
  expect_setequal(normalizePath(flat), normalizePath(file.path(down, "flat", c("model.rds", "sub/notes.txt"))))

  details <- get_run_details(run)
  expect_identical(details$runId, run$id)
  expect_identical(details$status, "Completed")
  expect_identical(details$target, "local")
  for (field in c("createdTimeUtc", "startTimeUtc", "endTimeUtc")) {
    expect_s3_class(details[[field]], "POSIXct")
    expect_false(is.na(details[[field]]))
  }
  expect_true(details$createdTimeUtc <= details$startTimeUtc)
  expect_true(details$startTimeUtc <= details$endTimeUtc)
  expect_identical(details$exitCode, 0L)
  expect_null(details$error)
  history <- details$statusHistory
  expect_s3_class(history, "data.frame")
  expect_identical(names(history), c("status", "time"))
  expect_identical(history$status, c("Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"))
  expect_s3_class(history$time, "POSIXct")
  expect_false(is.unsorted(history$time))

  logs <- get_run_details_with_logs(run)$logFiles
  expect_match(logs[["logs/driver.log"]], "training done", fixed = TRUE)
})

test_that("a value an R script logs reaches the run's history while the script still computes", {
  skip_if_no_runyard()
  fx <- local_workspace()
  # Python's flusher thread does not run while R computes (reticulate holds the GIL), so the
  # R logging functions write what is waiting themselves.
  write_lines_to(fx$src, "slow.R", c(
    "library(runyard)",
    "log_metric_to_run('epoch', 1)",
    "Sys.sleep(300)"
  ))
  run <- submit_experiment(experiment(fx$ws, "r-live"), script_run_config(fx$src, "slow.R"))
  on.exit(cancel_run(run), add = TRUE)
  wait_until(function() identical(get_run_metrics(run)$epoch, 1), "the logged value in the history", limit_s = 60)
  expect_identical(get_run_details(run)$status, "Running")
})

test_that("plot_run_details() watches a run until it ends, showing its metrics", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "slow.R", c(
    "library(runyard)",
    "for (loss in c(0.9, 0.5, 0.25)) { log_metric_to_run('loss', loss); Sys.sleep(0.5) }"
  ))
  run <- submit_experiment(experiment(fx$ws, "r-details"), script_run_config(fx$src, "slow.R"))
  expect_output(details <- plot_run_details(run, refresh_seconds = 0.2), "r-details.*Completed")
  expect_equal(details$status, "Completed")
  expect_equal(get_run_metrics(run)$loss, c(0.9, 0.5, 0.25))
  expect_error(plot_run_details(run, refresh_seconds = 0), "refresh_seconds must be a positive number")
})
