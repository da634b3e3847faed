# A ParallelRunStep's R worker (started by r_workers.py, which describes the protocol):
# source the entry script, call init() once, then run() each mini batch sent over the
# socket until told to stop. Needs base R and jsonlite; commandArgs(trailingOnly = TRUE)
# are the step's arguments, for the entry script.
local({
  options(warn = 1, keep.source = TRUE)  # warnings in the log as they happen; srcrefs for tracebacks
  env <- Sys.getenv(c("RUNYARD_PARALLEL_PORT", "RUNYARD_PARALLEL_TOKEN", "RUNYARD_PARALLEL_ENTRY_SCRIPT",
                      "RUNYARD_PARALLEL_OUTPUT_ACTION"))
  Sys.unsetenv("RUNYARD_PARALLEL_TOKEN")
  con <- socketConnection("127.0.0.1", as.integer(env[["RUNYARD_PARALLEL_PORT"]]), blocking = TRUE,
                          open = "r+b", timeout = 31536000L, options = "no-delay")
  writeBin(charToRaw(paste0(env[["RUNYARD_PARALLEL_TOKEN"]], "\n")), con)
  flush(con)

  if (!requireNamespace("jsonlite", quietly = TRUE)) {
    message <- paste0("the R worker needs the jsonlite package, which this R (", R.home(), ") does not have: ",
                      "install.packages('jsonlite'), or add it to the environment's cran_packages")
    writeLines(sprintf('{"kind":"init_failed","error":"%s"}', gsub('"', "'", message)), con)
    flush(con)
    quit(save = "no", status = 1)
  }
  say <- function(...) {  # one line, written at once
    text <- enc2utf8(as.character(jsonlite::toJSON(list(...), auto_unbox = TRUE, null = "null", na = "null",
                                                   digits = NA)))
    writeBin(charToRaw(paste0(text, "\n")), con)
  }

  # The calls from `first` (the entry script's function) down to where the error was signalled,
  # as R's traceback() shows them, innermost last, with the script's lines.
  traced <- function(expr, first) {
    calls <- NULL
    value <- tryCatch(
      withCallingHandlers(list(ok = TRUE, value = expr), error = function(e) {
        here <- sys.nframe() - 1L
        all <- sys.calls()[seq_len(here)]
        if (here >= 1L && identical(all[[here]][[1]], as.name(".handleSimpleError"))) all <- all[-here]
        start <- Position(function(i) identical(sys.function(i), first), seq_along(all), nomatch = length(all) + 1L)
        calls <<- all[seq.int(start, length.out = max(0L, length(all) - start + 1L))]
      }),
      error = function(e) list(ok = FALSE, error = e))
    if (value$ok) return(value)
    e <- value$error
    call <- conditionCall(e)
    message <- if (is.null(call)) paste0("Error: ", conditionMessage(e)) else
      paste0("Error in ", short(call), " : ", conditionMessage(e))
    lines <- vapply(seq_along(calls), function(i) {
      where <- attr(calls[[i]], "srcref")
      at <- if (is.null(where)) "" else sprintf(" at %s#%d", basename(attr(where, "srcfile")$filename), where[[1]])
      sprintf("%d: %s%s", i, short(calls[[i]]), at)
    }, character(1))
    list(ok = FALSE, error = message,
         traceback = paste(c("R traceback (most recent call last):", lines, message), collapse = "\n"))
  }
  short <- function(call) {
    text <- paste(trimws(deparse(call, width.cutoff = 200L, nlines = 3L)), collapse = " ")
    if (nchar(text) > 200L) paste0(substr(text, 1L, 197L), "...") else text
  }

  script <- env[["RUNYARD_PARALLEL_ENTRY_SCRIPT"]]
  entry <- new.env(parent = globalenv())
  loaded <- traced(sys.source(script, envir = entry, keep.source = TRUE), sys.source)
  if (!loaded$ok) {
    say(kind = "init_failed", error = paste0("sourcing ", script, " failed:\n", loaded$traceback))
    quit(save = "no", status = 1)
  }
  for (name in c("init", "run")) {
    if (!is.function(entry[[name]])) {
      say(kind = "init_failed", error = sprintf("%s defines no %s() function after it is sourced", script, name))
      quit(save = "no", status = 1)
    }
  }
  initialised <- traced(entry$init(), entry$init)
  if (!initialised$ok) {
    say(kind = "init_failed", error = initialised$traceback)
    quit(save = "no", status = 1)
  }
  run <- entry$run
  takes_context <- length(formals(run)) >= 2L || "..." %in% names(formals(run))
  call <- if (takes_context) quote(run(mini_batch, mini_batch_context)) else quote(run(mini_batch))
  append_row <- identical(env[["RUNYARD_PARALLEL_OUTPUT_ACTION"]], "append_row")
  say(kind = "ready")

  mini_batch_of <- function(message) {
    if (!is.null(message$files)) return(as.character(unlist(message$files)))
    packed <- as.integer(unlist(message$packed))
    rows <- as.integer(message$rows)
    columns <- lapply(seq_along(message$names), function(i) {
      values <- message$data[[as.character(i)]]
      if (i %in% packed) {  # base64 of little-endian doubles or 32-bit integers
        bytes <- jsonlite::base64_dec(values)
        if (message$types[[i]] == "integer") return(readBin(bytes, "integer", n = rows, size = 4L, endian = "little"))
        values <- readBin(bytes, "double", n = rows, size = 8L, endian = "little")
        values[is.nan(values)] <- NA  # pandas' missing value
        return(values)
      }
      if (is.list(values)) values <- unlist(lapply(values, function(v) if (is.null(v)) NA else v))
      switch(message$types[[i]],
             integer = as.integer(values), double = as.double(values), logical = as.logical(values),
             datetime = as.POSIXct(as.double(values), origin = "1970-01-01", tz = "UTC"),
             factor = factor(as.character(values), levels = as.character(unlist(message$levels[[as.character(i)]]))),
             as.character(values))
    })
    names(columns) <- as.character(unlist(message$names))
    structure(columns, class = "data.frame", row.names = if (rows) c(NA_integer_, -rows) else integer())
  }
  # One line per element (as.character) or row (its values separated by spaces, quoted when they
  # hold a space or a quote, missing values empty, as pandas writes them), and how many there are.
  results_of <- function(result) {
    text <- function(x) as.character(if (is.factor(x)) as.character(x) else x)
    cell <- function(x) {
      text <- text(x)
      text[is.na(x)] <- ""
      odd <- grepl("[ \"\n\r]", text)
      text[odd] <- paste0("\"", gsub("\"", "\"\"", text[odd]), "\"")
      text
    }
    if (is.data.frame(result)) {
      lines <- if (!length(result)) rep("", nrow(result)) else do.call(paste, c(lapply(result, cell), sep = " "))
      return(list(count = nrow(result), lines = lines))
    }
    if (!is.null(result) && is.atomic(result) && is.null(dim(result))) {
      return(list(count = length(result), lines = text(result)))
    }
    if (is.list(result) && !is.object(result) &&
        all(vapply(result, function(x) is.atomic(x) && length(x) == 1L && is.null(dim(x)), logical(1)))) {
      return(list(count = length(result), lines = vapply(result, text, character(1), USE.NAMES = FALSE)))
    }
    what <- if (is.null(result)) "NULL" else paste(class(result), collapse = "/")
    stop(sprintf(paste("run() returned %s; it must return a data.frame (one row per item that succeeded),",
                       "a vector or a list of single values (one element each)"), what), call. = FALSE)
  }

  # entry_script()$register_model() (the runyard R package) calls this: the model's file or
  # folder is copied now (run() may overwrite it in its next mini batch) into a folder of this
  # mini batch's, and sent with the mini batch's "done" for the coordinator to register.
  current <- NULL
  registered <- list()
  staging <- file.path(tempdir(), "runyard-models")
  register_model <- function(model_name, model_path, tags = NULL, properties = NULL, description = NULL,
                             model_framework = NULL, model_framework_version = NULL, partition = NULL) {
    if (is.null(current)) {
      stop("register_model() registers a model of the mini batch being run: call it inside run()", call. = FALSE)
    }
    if (!is.character(model_path) || length(model_path) != 1L || is.na(model_path) || !file.exists(model_path)) {
      stop(sprintf("model_path %s: not a file or folder (looked in %s)",
                   paste(deparse(model_path), collapse = " "), getwd()), call. = FALSE)
    }
    folder <- file.path(staging, current, length(registered) + 1L)
    dir.create(folder, recursive = TRUE, showWarnings = FALSE)
    if (!all(file.copy(normalizePath(model_path), folder, recursive = TRUE))) {
      stop(sprintf("model_path '%s' could not be copied for registration", model_path), call. = FALSE)
    }
    named <- function(x) if (is.null(x)) NULL else as.list(x)
    registered[[length(registered) + 1L]] <<- list(
      model_name = model_name, model_path = file.path(folder, basename(normalizePath(model_path))), staged = folder,
      tags = named(tags), properties = named(properties), description = description,
      model_framework = model_framework, model_framework_version = model_framework_version,
      partition = named(partition))
    invisible(NULL)
  }
  options(runyard.parallel_run.register_model = register_model)

  repeat {
    line <- readLines(con, n = 1L, encoding = "UTF-8")
    if (!length(line)) break  # the coordinator is gone
    message <- jsonlite::fromJSON(line, simplifyVector = TRUE)
    if (isTRUE(message$stop)) break
    started <- Sys.time()
    index <- message$index
    read <- if (!is.null(message$error)) {  # the coordinator could not read the mini batch's data
      list(ok = FALSE, error = message$error, traceback = message$traceback)
    } else {
      traced(mini_batch_of(message), mini_batch_of)
    }
    if (read$ok) {
      mini_batch <- read$value
      items <- if (is.data.frame(mini_batch)) nrow(mini_batch) else length(mini_batch)
      say(kind = "started", index = index, items = items)
      partition <- message$partition
      if (!length(partition)) partition <- structure(list(), names = character())
      mini_batch_context <- list(partition_key_value = as.list(partition), dataset = message$input,
                                 minibatch_index = index)
      current <- index
      registered <- list()
      outcome <- traced(results_of(eval(call)), run)
      current <- NULL
    } else {
      outcome <- read
    }
    seconds <- as.double(difftime(Sys.time(), started, units = "secs"))
    if (outcome$ok && length(registered)) {
      say(kind = "models", index = index, models = registered)  # the coordinator removes the copies
    } else {
      unlink(file.path(staging, index), recursive = TRUE)  # a failed try registers nothing
    }
    registered <- list()
    if (outcome$ok) {
      text <- if (append_row && length(outcome$value$lines)) paste0(outcome$value$lines, "\n", collapse = "") else ""
      say(kind = "done", index = index, count = outcome$value$count, text = text, duration = seconds)
    } else {
      say(kind = "failed", index = index, error = outcome$error, traceback = outcome$traceback, duration = seconds)
    }
    # metrics logged through the runyard R package reach the step's run now, as a Python worker's do
    if (isNamespaceLoaded("reticulate") && isNamespaceLoaded("runyard") && reticulate::py_available()) {
      try(reticulate::import("runyard.metrics")$flush_all(), silent = TRUE)
    }
  }
  if (is.function(entry$shutdown)) entry$shutdown()
  close(con)
})
