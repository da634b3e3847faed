# A foreach %dopar% backend: each loop is one tracked runyard run, a parallel run step submitted
# on its own whose mini batches are chunks of the loop's iterations (inst/foreach/entry.R runs
# them in R workers).

#' Run foreach loops as runyard runs
#'
#' Registers a [foreach][foreach::foreach] backend: each `%dopar%` loop
#' becomes one run (in `experiment_name`) of a [parallel_run_step()] submitted
#' on its own, whose R workers ([parallel_run_config()]) evaluate the loop's
#' iterations on `compute_target`, so the loop is tracked like any run: its log,
#' its partition table (one row per chunk of iterations) and its timings. The loop's
#' variables (found in its expression, and `.export`) and `.packages` go to the
#' workers with the loop; each worker also gets this session's library paths.
#' Results come back in iteration order and are combined with `.combine`; an
#' iteration's error is handled as `.errorhandling` says (`"stop"`, the default,
#' `"remove"` or `"pass"`), and so is every iteration of a chunk whose worker
#' died or timed out. A loop may set its own chunk size with
#' `.options.runyard = list(chunk_size = 10)`.
#'
#' Each loop costs a second or two to start (a job, R workers that load the
#' packages): worth it for iterations of seconds, not milliseconds
#' (chunks amortise it). Exported values travel in the run's snapshot (see its
#' size limit, `RUNYARD_SNAPSHOT_MAX_MB`).
#'
#' @param compute_target `"local"` or a target from [get_compute()] (the local target).
#' @param workspace The workspace the runs go to; `NULL`: the target's workspace,
#'   else [load_workspace_from_config()].
#' @param experiment_name The experiment the loops' runs go to.
#' @param process_count_per_node Worker processes; `NULL`: one per CPU.
#' @param environment An [r_environment()] for the workers, or `NULL` for this R.
#' @param chunk_size Iterations per mini batch; `NULL`: the loop's iterations split
#'   into about four mini batches per worker.
#' @param run_invocation_timeout Seconds a chunk of iterations may take.
#' @param run_max_try Tries of a chunk whose worker died or timed out (an iteration's
#'   own error is its result, not retried).
#' @return `NULL`, invisibly.
#' @examples
#' \dontrun{
#' library(foreach)
#' registerDoRunyard("local", workspace = ws, process_count_per_node = 2L)
#' squares <- foreach(i = 1:10, .combine = c) %dopar% i^2
#' }
#' @export
registerDoRunyard <- function(compute_target = "local", workspace = NULL, experiment_name = "foreach",
                              process_count_per_node = NULL, environment = NULL, chunk_size = NULL,
                              run_invocation_timeout = 3600L, run_max_try = 1L) {
  if (!requireNamespace("foreach", quietly = TRUE) || !requireNamespace("iterators", quietly = TRUE)) {
    stop(runyard_condition(
      "registerDoRunyard() needs the foreach and iterators packages: install.packages(\"foreach\")",
      "runyard_config_error", call = sys.call()))
  }
  if (is.null(workspace)) {
    workspace <- if (inherits(compute_target, "python.builtin.object")) compute_target$workspace else
      load_workspace_from_config()
  }
  check_workspace(workspace)
  if (!is.null(chunk_size)) chunk_size <- check_chunk_size(chunk_size, "chunk_size")
  settings <- list(workspace = workspace, compute_target = compute_target, experiment_name = experiment_name,
                   process_count_per_node = process_count_per_node, environment = environment,
                   chunk_size = chunk_size, run_invocation_timeout = run_invocation_timeout,
                   run_max_try = run_max_try)
  # Python checks every setting now, on a loop of no iterations, so a bad one fails here.
  source <- tempfile("runyard-foreach-")
  on.exit(unlink(source, recursive = TRUE), add = TRUE)
  loop_config(settings, loop_source_folder(source), "registerDoRunyard")
  experiment(workspace, experiment_name)
  foreach::setDoPar(do_runyard, data = settings, info = function(data, item) {
    switch(item, name = "doRunyard", version = as.character(utils::packageVersion("runyard")),
           workers = as.integer(data$process_count_per_node %||% parallel_cpu_count()), NULL)
  })
  invisible(NULL)
}

parallel_cpu_count <- function() {
  count <- reticulate::import("os")$cpu_count()
  if (is.null(count)) 1L else as.integer(count)
}

check_chunk_size <- function(value, arg) {
  if (!is.numeric(value) || length(value) != 1 || is.na(value) || value < 1 || value != round(value)) {
    arg_error(arg, sprintf("must be a whole number >= 1, not %s", describe(value)), call = sys.call(-1))
  }
  as.integer(value)
}

# A folder holding the loops' entry script (inst/foreach/entry.R).
loop_source_folder <- function(folder) {
  dir.create(folder)
  file.copy(system.file("foreach", "entry.R", package = "runyard", mustWork = TRUE), folder)
  folder
}

loop_config <- function(settings, source, what, description = NULL) {
  py_invoke(rpy()$ParallelRunConfig, environment = settings$environment, entry_script = "entry.R",
            error_threshold = -1L, output_action = "append_row", compute_target = settings$compute_target,
            node_count = 1L, process_count_per_node = settings$process_count_per_node, mini_batch_size = 1L,
            source_directory = source, description = description,
            run_invocation_timeout = settings$run_invocation_timeout, run_max_try = settings$run_max_try,
            allowed_failed_count = -1L,
            .integers = c("process_count_per_node", "run_invocation_timeout", "run_max_try"),
            .call = call(what))
}

# foreach's %dopar% calls this with the loop (obj), its expression and the caller's environment.
do_runyard <- function(obj, expr, envir, data) {
  if (!inherits(obj, "foreach")) stop("obj must be a foreach object")
  it <- iterators::iter(obj)
  accumulator <- foreach::makeAccum(it)
  arguments <- list()
  repeat {
    more <- tryCatch(list(iterators::nextElem(it)), error = function(e) {
      if (identical(conditionMessage(e), "StopIteration")) NULL else stop(e)
    })
    if (is.null(more)) break
    arguments[[length(arguments) + 1L]] <- more[[1]]
  }
  count <- length(arguments)
  if (count) {
    chunk_size <- loop_chunk_size(obj$options$runyard, data, count)
    results <- run_loop(obj, expr, envir, data, arguments, chunk_size)
    tryCatch(accumulator(results, seq_along(results)), error = function(e) {
      cat("error calling combine function:\n")
      print(e)
    })
  }
  error_value <- foreach::getErrorValue(it)
  error_index <- foreach::getErrorIndex(it)
  if (identical(obj$errorHandling, "stop") && !is.null(error_value)) {
    stop(simpleError(sprintf("task %d failed - \"%s\"", error_index, conditionMessage(error_value)), call = expr))
  }
  foreach::getResult(it)
}

loop_chunk_size <- function(options, data, count) {
  unknown <- setdiff(names(options), "chunk_size")
  if (length(unknown)) {
    arg_error(".options.runyard", sprintf("has %s; it takes chunk_size", paste(unknown, collapse = ", ")),
              call = sys.call(-2))
  }
  if (!is.null(options$chunk_size)) return(check_chunk_size(options$chunk_size, ".options.runyard$chunk_size"))
  if (!is.null(data$chunk_size)) return(data$chunk_size)
  workers <- data$process_count_per_node %||% parallel_cpu_count()
  max(1L, as.integer(ceiling(count / (4 * workers))))
}

# The loop as a run: its task (expression, variables, packages) in the snapshot, its
# iterations in chunk files as a file dataset; the results in iteration order.
run_loop <- function(obj, expr, envir, data, arguments, chunk_size) {
  folder <- tempfile("runyard-foreach-")
  dir.create(folder)
  on.exit(unlink(folder, recursive = TRUE), add = TRUE)
  source <- loop_source_folder(file.path(folder, "src"))
  chunks <- file.path(folder, "iterations")
  dir.create(chunks)
  saveRDS(list(expr = expr, exportenv = loop_exports(obj, expr, envir), packages = loop_packages(obj, envir),
               lib_paths = .libPaths()), file.path(source, "task.rds"))
  count <- length(arguments)
  starts <- seq(1L, count, by = chunk_size)
  width <- nchar(as.character(length(starts)))
  for (number in seq_along(starts)) {
    indices <- seq.int(starts[[number]], min(count, starts[[number]] + chunk_size - 1L))
    saveRDS(list(indices = indices, args = arguments[indices]),
            file.path(chunks, sprintf("chunk-%0*d.rds", width, number)))
  }

  ws <- data$workspace
  description <- sprintf("foreach loop: %d iteration(s) in %d chunk(s)", count, length(starts))
  config <- loop_config(data, source, "registerDoRunyard", description)
  iterations <- py_call(rpy()$Dataset$File$from_files(chunks)$as_named_input("iterations"))
  step <- py_call(rpy()$ParallelRunStep("foreach", config, inputs = list(iterations), allow_reuse = FALSE))
  run <- py_call(experiment(ws, data$experiment_name)$submit(step))  # the step on its own: one run
  if (isTRUE(obj$verbose)) message("foreach loop: run ", run$id)
  ended <- FALSE
  on.exit(if (!ended) try(run$cancel(), silent = TRUE), add = TRUE)  # an interrupted loop stops its workers
  py_call(run$wait_for_completion(show_output = FALSE, raise_on_error = FALSE))
  ended <- TRUE
  if (!identical(run$get_status(), "Completed")) {
    stop(runyard_condition(sprintf("the foreach loop's run %s failed: %s", run$id,
                                   py_call(run$get_details())$error$message %||% "see its log"),
                           "runyard_run_failed_error"))
  }
  loop_results(run, folder, count)
}

loop_results <- function(step_run, folder, count) {
  results <- vector("list", count)
  done <- logical(count)
  if ("outputs/parallel_run_step.txt" %in% py_call(step_run$get_file_names())) {
    path <- py_call(step_run$download_file("outputs/parallel_run_step.txt", file.path(folder, "results.txt")))
    for (line in readLines(path, warn = FALSE)) {
      space <- regexpr(" ", line, fixed = TRUE)
      index <- as.integer(substr(line, 1L, space - 1L))
      value <- unserialize(jsonlite::base64_dec(substr(line, space + 1L, nchar(line))))
      if (!is.null(value)) results[[index]] <- value
      done[[index]] <- TRUE
    }
  }
  if (!all(done)) {  # chunks whose worker died or timed out: each of their iterations failed with them
    failed <- Filter(function(row) identical(row$status, "Failed"), py_call(step_run$get_partition_results()))
    reason <- if (length(failed)) failed[[1]]$error else "its chunk did not run"
    for (index in which(!done)) {
      results[index] <- list(simpleError(sprintf("iteration %d did not finish: %s", index, reason)))
    }
  }
  results
}

# The loop's variables, as doParallel gathers them: those its expression uses (from envir and
# its parents) and .export, in an environment whose parent is the global one.
loop_exports <- function(obj, expr, envir) {
  make <- function(...) environment()
  environment(make) <- globalenv()
  exports <- tryCatch(do.call(make, eval(quote(list(...)), envir)), error = function(e) new.env(parent = globalenv()))
  foreach::getexports(expr, exports, envir, bad = union(obj$noexport, obj$argnames))
  for (name in obj$export) {
    if (!exists(name, envir, inherits = TRUE)) {
      arg_error(".export", sprintf("names \"%s\", which is not a variable where the loop runs", name),
                call = sys.call(-3))
    }
    value <- get(name, envir = envir, inherits = TRUE)
    if (is.function(value) && (identical(environment(value), globalenv()) || identical(environment(value), envir))) {
      environment(value) <- exports  # so exported functions can call each other
    }
    assign(name, value, envir = exports)
  }
  exports
}

loop_packages <- function(obj, envir) {
  package <- utils::packageName(envir)
  unique(c(obj$packages, if (!is.null(package) && !identical(package, "runyard")) package))
}
