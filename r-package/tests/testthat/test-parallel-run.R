# Many models from R: a parallel run step whose entry script is R, run by real Rscript
# workers (one per worker, init() once each), and the foreach %dopar% backend.

TRAIN_R <- c(
  "calls <- NULL",
  "init <- function() {",
  "  args <- commandArgs(trailingOnly = TRUE)",
  "  calls <<- args[[match('--calls', args) + 1]]",
  "  cat(Sys.getpid(), '\\n', file = file.path(calls, 'init.txt'), append = TRUE)",
  "}",
  "fit <- function(store, data) {",
  "  if (store == 'C') stop('store C has no sales')",
  "  lm(sales ~ week, data = data)",
  "}",
  "run <- function(mini_batch, mini_batch_context) {",
  "  store <- mini_batch_context$partition_key_value$store",
  "  cat(Sys.getpid(), store, '\\n', file = file.path(calls, 'run.txt'), append = TRUE)",
  "  model <- fit(store, mini_batch)",
  "  saveRDS(model, file.path(runyard::entry_script()$output_dir, paste0('model-', store, '.rds')))",
  "  runyard::entry_script()$logger$info('store %s: %d rows', store, nrow(mini_batch))",
  "  runyard::log_metric_to_run('rows', nrow(mini_batch))",
  "  data.frame(store = store, rows = nrow(mini_batch), slope = round(unname(coef(model)[['week']]), 2))",
  "}"
)

# One CSV per store (A: slope 2, B: slope -1, C: fails, D: slope 3), partitioned by file name.
sales_dataset <- function(dir) {
  data <- file.path(dir, "sales")
  dir.create(data)
  slopes <- c(A = 2, B = -1, C = 0, D = 3)
  for (store in names(slopes)) {
    week <- 1:6
    utils::write.csv(data.frame(week = week, sales = 100 + slopes[[store]] * week),
                     file.path(data, paste0(store, ".csv")), row.names = FALSE)
  }
  create_tabular_dataset_from_delimited_files(data, partition_format = "{store}.csv")
}

step_run_of <- function(exp, run, name) {
  steps <- get_pipeline_steps(run)
  get_run(exp, steps$run_id[steps$name == name])
}

test_that("an R entry script trains one model per partition in R workers that stay up", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", TRAIN_R)
  calls <- file.path(fx$dir, "calls")
  dir.create(calls)
  config <- parallel_run_config(entry_script = "train.R", source_directory = fx$src, error_threshold = -1,
                                allowed_failed_count = 1, partition_keys = "store", process_count_per_node = 2,
                                run_max_try = 1, append_row_file_name = "models.txt")
  expect_s3_class(config, "runyard.pipeline.parallel_run_config.ParallelRunConfig")
  models <- output_file_dataset_config("models")
  sales <- sales_dataset(fx$dir)
  step <- parallel_run_step("train", config, inputs = list(sales = sales), output = models,
                            arguments = list("--calls", calls))
  exp <- experiment(fx$ws, "many-models")
  run <- submit_pipeline(exp, pipeline(fx$ws, list(step)))
  wait_for_run_completion(run, show_output = FALSE)
  step_run <- step_run_of(exp, run, "train")
  expect_identical(get_run_details(step_run)$status, "Completed")

  table <- get_partition_results(step_run)
  expect_identical(names(table), c("batch_id", "input", "store", "status", "tries", "duration_s", "items",
                                   "results", "error", "traceback", "reused_from"))
  expect_identical(table$batch_id, paste0("sales:store=", c("A", "B", "C", "D")))
  expect_identical(table$store, c("A", "B", "C", "D"))
  expect_identical(table$status, c("Succeeded", "Succeeded", "Failed", "Succeeded"))
  expect_identical(table$items, rep(6L, 4))
  expect_identical(table$results, c(1L, 1L, NA, 1L))
  expect_identical(table$error[[3]], "Error in fit(store, mini_batch) : store C has no sales")
  expect_match(table$traceback[[3]], "fit(store, mini_batch) at train.R#14", fixed = TRUE)
  expect_match(table$traceback[[3]], "stop(\"store C has no sales\") at train.R#8", fixed = TRUE)
  expect_true(all(is.na(table$error[-3])))
  expect_identical(get_partition_results(step_run, status = "Failed")$store, "C")

  # init() once per worker process, which stays up between partitions: four partitions ran in
  # at most two processes (a second one still starting when the first has done all is ended)
  inits <- scan(file.path(calls, "init.txt"), quiet = TRUE)
  expect_true(length(inits) %in% 1:2)
  expect_identical(anyDuplicated(inits), 0L)
  runs <- utils::read.table(file.path(calls, "run.txt"), col.names = c("pid", "store"))
  expect_setequal(runs$store, c("A", "B", "C", "D"))
  expect_true(all(runs$pid %in% inits))
  expect_true(max(table(runs$pid)) >= 2)

  # append_row: one line per data.frame row, in partition order
  lines <- readLines(download_file_from_run(step_run, "outputs/models/models.txt", file.path(fx$dir, "models.txt")))
  expect_identical(lines, c("A 6 2", "B 6 -1", "D 6 3"))
  expect_true("outputs/models/model-D.rds" %in% get_run_file_names(step_run))
  expect_equal(sort(get_run_metrics(step_run)$rows), c(6, 6, 6))  # logged from the workers to the step's run
  log <- get_run_details_with_logs(step_run)$logFiles
  log <- paste(unlist(log), collapse = "\n")
  expect_match(log, "worker [01] INFO store D: 6 rows")
  expect_match(log, "summary: 3 of 4 mini batches succeeded, 1 failed (sales:store=C)", fixed = TRUE)

  # the step on its own is one run with the same table
  alone <- submit_experiment(exp, parallel_run_step("train", config, inputs = list(sales = sales),
                                                    arguments = list("--calls", calls)))
  wait_for_run_completion(alone, show_output = FALSE)
  table <- get_partition_results(alone)
  expect_identical(table$status, c("Succeeded", "Succeeded", "Failed", "Succeeded"))
})

test_that("bad R entry scripts and settings are refused when the config is made", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "no_init.R", "run <- function(mini_batch) mini_batch")
  write_lines_to(fx$src, "ok.R", c("init <- function() NULL", "run <- function(mini_batch) mini_batch"))
  cnd <- expect_runyard_error(parallel_run_config(entry_script = "no_init.R", source_directory = fx$src,
                                                  error_threshold = -1), "runyard_config_error")
  expect_match(conditionMessage(cnd), "entry_script 'no_init.R' defines no init() at its top level", fixed = TRUE)
  cnd <- expect_runyard_error(parallel_run_config(entry_script = "ok.R", source_directory = fx$src,
                                                  error_threshold = -1, run_max_try = 0), "runyard_config_error")
  expect_match(conditionMessage(cnd), "run_max_try must be a whole number >= 1", fixed = TRUE)
  config <- parallel_run_config(entry_script = "ok.R", source_directory = fx$src, error_threshold = -1,
                                partition_keys = "region")
  data <- file.path(fx$dir, "files")
  dir.create(data)
  writeLines("x", file.path(data, "a.txt"))
  cnd <- expect_runyard_error(parallel_run_step("score", config, inputs = list(create_file_dataset_from_files(data))),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "partition_keys ['region'] need partitioned tabular datasets", fixed = TRUE)
})

test_that("entry_script()'s logger writes at or above the logging level, marked with its worker", {
  old <- Sys.getenv(c("RUNYARD_PARALLEL_LOGGING_LEVEL", "RUNYARD_PARALLEL_WORKER_ID"), unset = NA)
  on.exit(for (name in names(old)) {
    if (is.na(old[[name]])) Sys.unsetenv(name) else do.call(Sys.setenv, as.list(old[name]))
  })
  Sys.setenv(RUNYARD_PARALLEL_LOGGING_LEVEL = "WARNING", RUNYARD_PARALLEL_WORKER_ID = "3")
  log <- entry_script()$logger
  out <- capture.output({
    log$info("not shown")
    log$warning("store %s: %d rows", "7", 20L)
  }, type = "message")
  expect_length(out, 1)
  expect_match(out, "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} worker 3 WARNING store 7: 20 rows$")
})

test_that("a pipeline_parameter() may give a parallel run setting; its default is checked now", {
  skip_if_no_runyard()
  src <- file.path(tempfile("params"), "src")
  dir.create(src, recursive = TRUE)
  writeLines(c("init <- function() NULL", "run <- function(mini_batch) mini_batch"), file.path(src, "score.R"))
  config <- parallel_run_config(entry_script = "score.R", source_directory = src, error_threshold = -1,
                                mini_batch_size = pipeline_parameter("batch_size", 2L))
  expect_identical(config$mini_batch_size, 2L)
  expect_identical(config$pipeline_parameters$mini_batch_size$name, "batch_size")
  cnd <- expect_runyard_error(parallel_run_config(entry_script = "score.R", source_directory = src,
                                                  error_threshold = -1,
                                                  run_max_try = pipeline_parameter("tries", 0L)),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "run_max_try must be a whole number >= 1, got 0", fixed = TRUE)
})

test_that("entry_script()$register_model() outside an R worker's run() says where it belongs", {
  expect_error(entry_script()$register_model("sales", "model.rds"),
               "registers a model of a parallel run step's mini batch: call it inside run() of an R entry script",
               fixed = TRUE)
})

test_that("foreach loops run as runyard runs: results in order, .combine, errors, exports and packages", {
  skip_if_no_runyard()
  library(foreach)  # the CI installs it (r-cran-foreach): a missing one fails here
  fx <- local_workspace()
  registerDoRunyard("local", workspace = fx$ws, experiment_name = "loops", process_count_per_node = 2)
  on.exit(foreach::registerDoSEQ(), add = TRUE)
  `%dopar%` <- foreach::`%dopar%`
  expect_identical(foreach::getDoParName(), "doRunyard")
  expect_identical(foreach::getDoParWorkers(), 2L)

  offset <- 100L
  shift <- function(x) x + offset
  squares <- foreach::foreach(i = 1:9, .combine = c, .options.runyard = list(chunk_size = 2)) %dopar% shift(i^2)
  expect_equal(squares, (1:9)^2 + 100)
  pids <- foreach::foreach(i = 1:4, .combine = c, .packages = "tools") %dopar% {
    stopifnot("package:tools" %in% search())
    Sys.getpid()
  }
  expect_true(all(pids != Sys.getpid()))
  frames <- foreach::foreach(letter = c("a", "b"), n = 1:2, .combine = rbind) %dopar% data.frame(letter, n)
  expect_identical(frames, data.frame(letter = c("a", "b"), n = 1:2))

  bad <- function(i) if (i == 2) stop("two is bad") else i
  passed <- foreach::foreach(i = 1:3, .errorhandling = "pass") %dopar% bad(i)
  expect_identical(passed[c(1, 3)], list(1L, 3L))
  expect_s3_class(passed[[2]], "error")
  expect_identical(conditionMessage(passed[[2]]), "two is bad")
  removed <- foreach::foreach(i = 1:3, .errorhandling = "remove", .combine = c) %dopar% bad(i)
  expect_identical(removed, c(1L, 3L))
  expect_error(foreach::foreach(i = 1:3) %dopar% bad(i), "task 2 failed - \"two is bad\"", fixed = TRUE)

  # a package the workers cannot load fails the loop with R's message, before any iteration
  cnd <- expect_runyard_error(foreach::foreach(i = 1:2, .packages = "runyardNoSuchPackage") %dopar% i,
                              "runyard_run_failed_error")
  expect_match(conditionMessage(cnd), "there is no package called .runyardNoSuchPackage.")

  # each loop is a tracked run: a pipeline run in the experiment
  runs <- get_runs_in_experiment(experiment(fx$ws, "loops"))
  expect_length(runs, 7)
  expect_error(foreach::foreach(i = 1:2, .options.runyard = list(chunks = 2)) %dopar% i, "it takes chunk_size")
  cnd <- expect_runyard_error(registerDoRunyard("local", workspace = fx$ws, run_max_try = 0), "runyard_config_error")
  expect_match(conditionMessage(cnd), "run_max_try must be a whole number >= 1", fixed = TRUE)
})
