# The entry script of a foreach loop run by registerDoRunyard() (R/foreach.R): each mini
# batch is chunk files of iterations; each iteration's value (or its error) comes back as one
# append_row line, "<iteration> <base64 of serialize(value)>".
task <- NULL

init <- function() {
  task <<- readRDS("task.rds")
  .libPaths(unique(c(task$lib_paths, .libPaths())))
  for (package in task$packages) library(package, character.only = TRUE)
}

run <- function(mini_batch) {
  lines <- character()
  for (path in mini_batch) {
    chunk <- readRDS(path)
    for (k in seq_along(chunk$indices)) {
      env <- new.env(parent = task$exportenv)
      args <- chunk$args[[k]]
      for (name in names(args)) assign(name, args[[name]], envir = env)
      value <- tryCatch(eval(task$expr, envir = env), error = function(e) e)
      lines <- c(lines, paste(chunk$indices[[k]], gsub("\n", "", jsonlite::base64_enc(serialize(value, NULL)))))
    }
  }
  lines
}
