# Pipelines built and submitted from R: an R step writing a CSV, a Python step reading it.

WRITE_R <- c(
  "args <- commandArgs(trailingOnly = TRUE)",
  "option <- function(name) args[match(name, args) + 1]",
  "rows <- as.integer(option('--rows'))",
  "write.csv(data.frame(x = seq_len(rows)), file.path(option('--out'), 'rows.csv'), row.names = FALSE)"
)
READ_PY <- c(
  "import argparse, csv, os",
  "from runyard import Run",
  "p = argparse.ArgumentParser(); p.add_argument('--data'); p.add_argument('--scale', type=float)",
  "a = p.parse_args()",
  "with open(os.path.join(a.data, 'rows.csv')) as fh:",
  "    xs = [float(row['x']) for row in csv.DictReader(fh)]",
  "Run.get_context().log('total', sum(xs) * a.scale)"
)

# write (R, rows = 3L) -> read (Python, scale = 2): total = (1 + 2 + 3) * 2.
two_step_pipeline <- function(fx) {
  if (!file.exists(file.path(fx$src, "write.R"))) {
    write_lines_to(fx$src, "write.R", WRITE_R)
    write_lines_to(fx$src, "read.py", READ_PY)
  }
  table <- output_file_dataset_config("table")
  rows <- pipeline_parameter("rows", 3L)
  scale <- pipeline_parameter("scale", 2)
  write <- r_script_step("write.R", name = "write", arguments = list("--rows", rows, "--out", table),
                         source_directory = fx$src)
  read <- python_script_step("read.py", name = "read", arguments = list("--data", as_input(table), "--scale", scale),
                             source_directory = fx$src)
  pipeline(fx$ws, list(write, read), description = "write then read")
}

finished <- function(run) {
  wait_for_run_completion(run, show_output = FALSE)
  expect_identical(get_run_details(run)$status, "Completed")
  run
}

step_total <- function(run) {
  steps <- get_pipeline_steps(run)
  get_run_metrics(get_run(experiment(run$workspace, run$experiment$name), steps$run_id[steps$name == "read"]))$total
}

test_that("an R step and a Python step pass a CSV; parameters, reuse and the steps table", {
  skip_if_no_runyard()
  fx <- local_workspace()
  exp <- experiment(fx$ws, "r-pipeline")
  p <- two_step_pipeline(fx)
  expect_s3_class(p, "runyard.pipeline.pipeline.Pipeline")

  first <- finished(submit_pipeline(exp, p))
  expect_s3_class(first, "runyard.pipeline.run.PipelineRun")
  steps <- get_pipeline_steps(first)
  expect_s3_class(steps, "data.frame")
  expect_identical(names(steps), c("name", "run_id", "status", "reused_from"))
  expect_identical(steps$name, c("write", "read"))
  expect_identical(steps$status, c("Completed", "Completed"))
  expect_identical(steps$reused_from, c(NA_character_, NA_character_))
  expect_equal(step_total(first), 12)
  expect_true("outputs/table/rows.csv" %in% get_run_file_names(get_run(exp, steps$run_id[1])))

  # Resubmitted unchanged: both steps reuse the first run's.
  again <- finished(submit_experiment(exp, p))
  expect_identical(get_pipeline_steps(again)$reused_from, steps$run_id)
  expect_equal(step_total(again), 12)

  # Parameters overridden: R's 4 is a double, taken as the integer parameter's 4L.
  other <- finished(submit_pipeline(exp, p, pipeline_parameters = list(rows = 4, scale = 0.5)))
  expect_identical(get_pipeline_steps(other)$reused_from, c(NA_character_, NA_character_))
  expect_equal(step_total(other), 5)
  # regenerate_outputs runs every step again.
  fresh <- finished(submit_pipeline(exp, p, regenerate_outputs = TRUE))
  expect_identical(get_pipeline_steps(fresh)$reused_from, c(NA_character_, NA_character_))
})

test_that("bad pipeline arguments are refused with the argument named, before anything runs", {
  skip_if_no_runyard()
  fx <- local_workspace()
  exp <- experiment(fx$ws, "r-pipeline-bad")
  p <- two_step_pipeline(fx)
  cnd <- expect_runyard_error(submit_pipeline(exp, p, pipeline_parameters = list(rowz = 2L)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "'rowz' is not a parameter of this pipeline (its parameters: rows, scale)",
               fixed = TRUE)
  cnd <- expect_runyard_error(submit_pipeline(exp, p, pipeline_parameters = list(rows = 2.5)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "pipeline_parameters['rows']: expected a int", fixed = TRUE)
  cnd <- expect_runyard_error(submit_pipeline(exp, p, pipeline_parameters = list(2L)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "pipeline_parameters must be a dict of name -> value, got list", fixed = TRUE)
  # R's NA is Python's None, which no parameter takes.
  cnd <- expect_runyard_error(submit_pipeline(exp, p, pipeline_parameters = list(rows = NA)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "pipeline_parameters['rows']: expected a int like the default 3, got None",
               fixed = TRUE)
  cnd <- expect_runyard_error(submit_pipeline(exp, p, regenerate_outputs = "yes"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "regenerate_outputs must be True or False", fixed = TRUE)
  # A script that is not there: Python checks every step's script when the pipeline is submitted.
  missing <- python_script_step("missing.py", source_directory = fx$src)
  cnd <- expect_runyard_error(submit_pipeline(exp, pipeline(fx$ws, list(missing))), "runyard_config_error")
  expect_match(conditionMessage(cnd), "step 'missing.py': script 'missing.py' does not exist", fixed = TRUE)
  expect_length(get_runs_in_experiment(exp), 0)

  cnd <- expect_runyard_error(pipeline_parameter("rows", c(1L, 2L)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "PipelineParameter 'rows': default_value must be a string, number or bool",
               fixed = TRUE)
  cnd <- expect_runyard_error(r_script_step("read.py", source_directory = fx$src), "runyard_config_error")
  expect_match(conditionMessage(cnd), "script_name 'read.py' must be an R script", fixed = TRUE)
  cnd <- expect_runyard_error(python_script_step("read.py", source_directory = fx$src, arguments = list(fx$ws)),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "step 'read.py': arguments[0] must be text, a number", fixed = TRUE)
  cnd <- expect_runyard_error(python_script_step("read.py", source_directory = fx$src, inputs = list("table")),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "step 'read.py': inputs[0] must be an OutputFileDatasetConfig", fixed = TRUE)
  cnd <- expect_runyard_error(python_script_step("read.py", source_directory = 5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "source_directory must be a folder path", fixed = TRUE)
  cnd <- expect_runyard_error(pipeline(fx$ws, list()), "runyard_config_error")
  expect_match(conditionMessage(cnd), "steps must be a non-empty list of steps", fixed = TRUE)
  cnd <- expect_runyard_error(pipeline(fx$ws, list(output_file_dataset_config("x"))), "runyard_config_error")
  expect_match(conditionMessage(cnd), "steps[0] must be a step", fixed = TRUE)
  cnd <- expect_runyard_error(pipeline("my workspace", list(p$steps[[1]])), "runyard_config_error")
  expect_match(conditionMessage(cnd), "workspace must be a Workspace", fixed = TRUE)
  cnd <- expect_runyard_error(output_file_dataset_config("1bad"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "output name '1bad'")
})

test_that("pipeline parameters keep R's types: integer, double, string, logical", {
  skip_if_no_runyard()
  python_type <- function(value) class(reticulate::py_get_attr(pipeline_parameter("p", value), "default_value"))[1]
  expect_identical(vapply(list(1L, 1, "a", TRUE), python_type, character(1)),
                   c("python.builtin.int", "python.builtin.float", "python.builtin.str", "python.builtin.bool"))
})

test_that("a published pipeline is found, listed and submitted with parameters", {
  skip_if_no_runyard()
  fx <- local_workspace()
  published <- publish_pipeline(two_step_pipeline(fx), "rows-pipeline", version = 1)
  expect_s3_class(published, "runyard.pipeline.published.PublishedPipeline")
  expect_identical(published$version, "1")
  expect_identical(get_published_pipeline(fx$ws, published$id)$id, published$id)
  expect_identical(get_published_pipeline(fx$ws, name = "rows-pipeline")$id, published$id)
  listed <- list_published_pipelines(fx$ws)
  expect_identical(listed, data.frame(id = published$id, name = "rows-pipeline", version = "1",
                                      description = "write then read", status = "Active",
                                      stringsAsFactors = FALSE))

  run <- finished(submit_published_pipeline(published, "published-from-r",
                                            pipeline_parameters = list(rows = 2, scale = 10)))
  expect_identical(get_pipeline_steps(run)$name, c("write", "read"))
  expect_equal(step_total(run), 30)
  expect_identical(run$get_properties()[["azureml.pipelineid"]], published$id)

  cnd <- expect_runyard_error(submit_published_pipeline(published, "published-from-r",
                                                        pipeline_parameters = list(rowz = 1L)),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "'rowz' is not a parameter", fixed = TRUE)
  expect_runyard_error(get_published_pipeline(fx$ws, strrep("0", 32)), "runyard_not_found_error")
  # One R function over two Python methods: R says that it needs one of `id` and `name`.
  expect_runyard_error(get_published_pipeline(fx$ws), "runyard_argument_error")
  cnd <- expect_runyard_error(list_published_pipelines(fx$ws, active_only = "yes"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "active_only must be True or False", fixed = TRUE)
})

test_that("Python and R build the same pipeline, and R's reuses every step of Python's", {
  skip_if_no_runyard()
  fx <- local_workspace()
  p <- two_step_pipeline(fx)
  code <- paste(
    "import json, sys",
    "from runyard import (Experiment, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep,",
    "                     RScriptStep, Workspace)",
    "ws, src = Workspace.get(sys.argv[1]), sys.argv[2]",
    "table = OutputFileDatasetConfig('table')",
    "rows, scale = PipelineParameter('rows', 3), PipelineParameter('scale', 2.0)",
    "write = RScriptStep('write.R', name='write', arguments=['--rows', rows, '--out', table], source_directory=src)",
    "read = PythonScriptStep('read.py', name='read', arguments=['--data', table.as_input(), '--scale', scale],",
    "                        source_directory=src)",
    "pipeline = Pipeline(ws, [write, read], description='write then read')",
    "print(json.dumps(pipeline._definition(ws, {}, take_snapshots=False), sort_keys=True))",
    "run = Experiment(ws, 'same-pipeline').submit(pipeline)",
    "run.wait_for_completion(timeout=300)",
    "print(run.id)",
    sep = "\n")
  out <- run_process(python_bin(), c("-c", shQuote(code), shQuote(file.path(fx$dir, ".runyard")), shQuote(fx$src)),
                     env = python_env())
  python_definition <- out[length(out) - 1]
  # Unconverted, so the definition goes from Python to JSON as Python's does (R would turn
  # one-element lists into scalars).
  definition <- reticulate::import_builtins(convert = FALSE)$getattr(p, "_definition")
  json <- reticulate::import("json", convert = FALSE)
  r_definition <- reticulate::py_to_r(json$dumps(reticulate::py_call(definition, fx$ws, reticulate::dict(),
                                                                     take_snapshots = FALSE),
                                                 sort_keys = TRUE))
  expect_identical(r_definition, python_definition)

  exp <- experiment(fx$ws, "same-pipeline")
  python_run <- get_run(exp, out[length(out)])
  python_steps <- get_pipeline_steps(python_run)
  expect_identical(python_steps$status, c("Completed", "Completed"))
  r_run <- finished(submit_pipeline(exp, p))
  expect_identical(get_pipeline_steps(r_run)$reused_from, python_steps$run_id)
})

test_that("a schedule is stored with its recurrence and parameters, listed, disabled and enabled", {
  skip_if_no_runyard()
  fx <- local_workspace()
  published <- publish_pipeline(two_step_pipeline(fx), "rows-pipeline")
  nightly <- schedule_recurrence("Day", 1, start_time = as.POSIXct("2030-01-01 00:00:00", tz = "UTC"),
                                 time_zone = "Europe/Berlin", hours = c(22, 6), minutes = 30)
  expect_s3_class(nightly, "runyard.pipeline.recurrence.ScheduleRecurrence")
  schedule <- create_schedule(fx$ws, "nightly", published, "scheduled", recurrence = nightly,
                              pipeline_parameters = list(rows = 5, scale = 0.5), description = "every night")
  expect_s3_class(schedule, "runyard.pipeline.schedule.Schedule")

  stored <- get_schedule(fx$ws, schedule$id)
  expect_identical(stored$status, "Active")
  expect_identical(stored$pipeline_id, published$id)
  expect_identical(stored$experiment_name, "scheduled")
  expect_identical(stored$description, "every night")
  expect_identical(stored$pipeline_parameters, list(rows = 5L, scale = 0.5))
  expect_identical(stored$recurrence$to_dict(), list(
    frequency = "Day", interval = 1L, start_time = "2030-01-01T01:00:00", time_zone = "Europe/Berlin",
    hours = c(6L, 22L), minutes = 30L, week_days = NULL, time_of_day = NULL))

  weekly <- create_schedule(fx$ws, "weekly", published$id, "scheduled",
                            recurrence = schedule_recurrence("Week", 2L, week_days = "Friday", time_of_day = "7:15"))
  watch <- local_test_dir()
  on_data <- create_schedule(fx$ws, "on-new-data", published$id, "scheduled", datastore = watch,
                             polling_interval = 0.5)
  expect_identical(on_data$polling_interval, 0.5)
  listed <- list_schedules(fx$ws)
  expect_identical(listed$name, c("nightly", "weekly", "on-new-data"))
  expect_identical(listed$id, c(schedule$id, weekly$id, on_data$id))
  expect_identical(listed$frequency, c("Day", "Week", NA))
  expect_identical(listed$interval, c(1L, 2L, NA))
  expect_identical(unique(listed$pipeline_id), published$id)

  disable_schedule(schedule)
  expect_identical(get_schedule(fx$ws, schedule$id)$status, "Disabled")
  expect_identical(list_schedules(fx$ws)$name, c("weekly", "on-new-data"))
  all <- list_schedules(fx$ws, active_only = FALSE)
  expect_identical(all$status[all$name == "nightly"], "Disabled")
  enable_schedule(schedule)
  expect_identical(get_schedule(fx$ws, schedule$id)$status, "Active")

  cnd <- expect_runyard_error(create_schedule(fx$ws, "bad", published, "scheduled", recurrence = nightly,
                                              pipeline_parameters = list(rowz = 1L)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "'rowz' is not a parameter", fixed = TRUE)
  cnd <- expect_runyard_error(schedule_recurrence("Daily", 1), "runyard_config_error")
  expect_match(conditionMessage(cnd), "frequency must be one of Minute, Hour, Day, Week, Month", fixed = TRUE)
  cnd <- expect_runyard_error(schedule_recurrence("Day", 1.5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "interval must be a whole number >= 1, got 1.5", fixed = TRUE)
  cnd <- expect_runyard_error(schedule_recurrence("Day", 1, hours = 24), "runyard_config_error")
  expect_match(conditionMessage(cnd), "hours must be whole numbers 0-23", fixed = TRUE)
  cnd <- expect_runyard_error(create_schedule(fx$ws, "bad", published, "scheduled"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "give recurrence=", fixed = TRUE)
  expect_runyard_error(create_schedule(fx$ws, "bad", strrep("0", 32), "scheduled", recurrence = nightly),
                       "runyard_not_found_error")
  expect_length(list_schedules(fx$ws, active_only = FALSE)$id, 3)
})

test_that("a command step and an estimator step pass data, and pipeline_data names an output", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "count.R", c(
    "library(runyard)",
    "args <- commandArgs(trailingOnly = TRUE)",
    "words <- readLines(file.path(args[match('--words', args) + 1], 'words.txt'))",
    "log_metric_to_run('words', length(words))"
  ))
  words <- pipeline_data("words")
  listing <- command_step(list("sh", "-c", "printf 'a\\nb\\nc\\n' > $0/words.txt", words), name = "list",
                          source_directory = fx$src)
  counting <- estimator_step("count", estimator(fx$src, entry_script = "count.R"),
                             list("--words", as_input(words)), compute_target = "local")
  run <- finished(submit_experiment(experiment(fx$ws, "command-estimator"), pipeline(fx$ws, list(listing, counting))))
  steps <- get_pipeline_steps(run)
  expect_identical(steps$name, c("list", "count"))
  expect_equal(get_run_metrics(get_run(experiment(fx$ws, "command-estimator"), steps$run_id[2]))$words, 3)

  cnd <- expect_runyard_error(command_step(42), "runyard_config_error")
  expect_match(conditionMessage(cnd), "command must be a non-empty string or list, got 42.0", fixed = TRUE)
  cnd <- expect_runyard_error(estimator_step("count", "train.R"), "runyard_config_error")
  expect_match(conditionMessage(cnd), "EstimatorStep 'count': estimator must be an Estimator", fixed = TRUE)
})

# write (Python, points on y = 3x + 2) -> fit (R function, in-process) -> check (Python).
FIT_R <- c(
  "fit <- function(points, degree, scale) {",
  "  model <- lm(y ~ poly(x, degree, raw = TRUE), data = points)",
  "  data.frame(term = c('intercept', 'slope'), estimate = unname(coef(model)) * scale,",
  "             types = paste(class(points), typeof(degree), typeof(scale)))",
  "}"
)
WRITE_POINTS_PY <- c(
  "import argparse, os",
  "p = argparse.ArgumentParser(); p.add_argument('--out'); a = p.parse_args()",
  "with open(os.path.join(a.out, 'points.csv'), 'w') as fh:",
  "    fh.write('x,y\\n' + ''.join(f'{x},{3 * x + 2}\\n' for x in range(1, 11)))"
)
CHECK_FIT_PY <- c(
  "import argparse, glob, os",
  "import pandas as pd",
  "from runyard import Run",
  "p = argparse.ArgumentParser(); p.add_argument('--coefficients'); a = p.parse_args()",
  "(path,) = glob.glob(os.path.join(a.coefficients, 'data.*'))",
  "frame = pd.read_parquet(path) if path.endswith('.parquet') else pd.read_csv(path)",
  "assert list(frame.columns) == ['term', 'estimate', 'types'], list(frame.columns)",
  "run = Run.get_context()",
  "for term, estimate in zip(frame['term'], frame['estimate']):",
  "    run.log(term, float(estimate))",
  "run.log('types', frame['types'][0])"
)

test_that("an R function step fits a Python step's CSV in-process and a Python step reads its data.frame", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "fit.R", FIT_R)
  write_lines_to(fx$src, "write_points.py", WRITE_POINTS_PY)
  write_lines_to(fx$src, "check_fit.py", CHECK_FIT_PY)
  points <- output_file_dataset_config("points")
  coefficients <- output_file_dataset_config("coefficients")
  write <- python_script_step("write_points.py", name = "write", arguments = list("--out", points),
                              source_directory = fx$src)
  fit <- r_function_step("fit.R", "fit", name = "fit in R", inputs = list(as_input(points)),
                         outputs = list(coefficients), source_directory = fx$src,
                         arguments = list(degree = 1L, scale = pipeline_parameter("scale", 2)))
  expect_s3_class(fit, "runyard.pipeline.steps.RFunctionStep")
  check <- python_script_step("check_fit.py", name = "check",
                              arguments = list("--coefficients", as_input(coefficients)), source_directory = fx$src)
  exp <- experiment(fx$ws, "r-function")
  p <- pipeline(fx$ws, list(write, fit, check))

  run <- finished(submit_pipeline(exp, p))
  steps <- get_pipeline_steps(run)
  expect_identical(steps$name, c("write", "fit in R", "check"))
  expect_identical(steps$status, rep("Completed", 3))
  metrics <- get_run_metrics(get_run(exp, steps$run_id[3]))
  # The CSV arrived as a data.frame, 1L as an integer and the parameter's 2 as a double.
  expect_equal(c(metrics$intercept, metrics$slope), c(4, 6))
  expect_identical(metrics$types, "data.frame integer double")
  expect_true("outputs/coefficients/data.parquet" %in% get_run_file_names(get_run(exp, steps$run_id[2])))

  # The parameter reaches the R function; the Python step before it is reused.
  scaled <- finished(submit_pipeline(exp, p, pipeline_parameters = list(scale = 0.5)))
  rerun <- get_pipeline_steps(scaled)
  expect_identical(rerun$reused_from, c(steps$run_id[1], NA, NA))
  metrics <- get_run_metrics(get_run(exp, rerun$run_id[3]))
  expect_equal(c(metrics$intercept, metrics$slope), c(1, 1.5))

  # Named arguments become a dict, unnamed ones a list, each value typed as in R.
  words <- function(step) vapply(step$command, function(t) if (is.null(t$text)) "<data>" else t$text, character(1))
  named <- words(r_function_step("fit.R", "fit", arguments = list(degree = 2L, scale = 2, label = "a", keep = TRUE),
                                 source_directory = fx$src))
  expect_identical(named[match("--arg", named):length(named)],
                   c("--arg", "degree", "json", "2", "--arg", "scale", "json", "2.0",
                     "--arg", "label", "json", "\"a\"", "--arg", "keep", "json", "true"))
  positional <- words(r_function_step("fit.R", "fit", arguments = list(2L, 2), source_directory = fx$src))
  expect_identical(positional[match("--arg", positional):length(positional)],
                   c("--arg", "", "json", "2", "--arg", "", "json", "2.0"))
})

test_that("an R function step refuses a bad function name or target, and fails naming a missing function", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "fit.R", FIT_R)
  write_lines_to(fx$src, "write_points.py", WRITE_POINTS_PY)
  # Every rule is Python's (RFunctionStep's); R's `function_name` is Python's `function`.
  cnd <- expect_runyard_error(r_function_step("fit.R", "2fit", source_directory = fx$src), "runyard_config_error")
  expect_match(conditionMessage(cnd), "function '2fit' is not an R function name", fixed = TRUE)
  expect_runyard_error(r_function_step("fit.R", "if", source_directory = fx$src), "runyard_config_error")
  cnd <- expect_runyard_error(r_function_step("fit.R", "fit", compute_target = "docker", source_directory = fx$src),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "compute_target 'docker' is not the local target", fixed = TRUE)
  cnd <- expect_runyard_error(r_function_step("fit.py", "fit", source_directory = fx$src), "runyard_config_error")
  expect_match(conditionMessage(cnd), "script_name must name an R script (ending in .R), got 'fit.py'", fixed = TRUE)
  cnd <- expect_runyard_error(r_function_step("fit.R", "fit", arguments = list(degree = 1L, 2),
                                              source_directory = fx$src), "runyard_config_error")
  expect_match(conditionMessage(cnd), "arguments keys are R argument names, got ''", fixed = TRUE)
  cnd <- expect_runyard_error(r_function_step("fit.R", "fit", arguments = list(degree = 1:2),
                                              source_directory = fx$src), "runyard_config_error")
  expect_match(conditionMessage(cnd), "arguments['degree'] must be text, a number, a bool", fixed = TRUE)
  # Python's dict would keep one of two values of a name, so R refuses the second.
  cnd <- expect_runyard_error(r_function_step("fit.R", "fit", arguments = list(degree = 1L, degree = 2L),
                                              source_directory = fx$src), "runyard_argument_error")
  expect_match(conditionMessage(cnd), "`arguments` names degree twice", fixed = TRUE)
  cnd <- expect_runyard_error(r_function_step("fit.R", arguments = list(1L), source_directory = fx$src),
                              "runyard_config_error")
  expect_match(conditionMessage(cnd), "give them as a dict of name -> value", fixed = TRUE)

  # A name the script does not define fails the step, listing the ones it does.
  points <- output_file_dataset_config("points")
  write <- python_script_step("write_points.py", name = "write", arguments = list("--out", points),
                              source_directory = fx$src)
  missing <- r_function_step("fit.R", "fit_model", inputs = list(as_input(points)), source_directory = fx$src)
  run <- submit_pipeline(experiment(fx$ws, "r-function-bad"), pipeline(fx$ws, list(write, missing)))
  cnd <- expect_runyard_error(wait_for_run_completion(run, show_output = FALSE), "runyard_run_failed_error")
  expect_match(conditionMessage(cnd), "fit.R defines no function 'fit_model' (the functions it defines: fit)",
               fixed = TRUE)
  expect_identical(get_pipeline_steps(run)$status, c("Completed", "Failed"))
})
