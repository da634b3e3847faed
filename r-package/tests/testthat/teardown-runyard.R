# Undo setup.R once the whole suite has run.
local({
  old <- .runyard_suite$old_env
  for (name in names(old)) {
    if (is.na(old[[name]])) Sys.unsetenv(name) else do.call(Sys.setenv, as.list(old[name]))
  }
  unlink(.runyard_suite$cache_dir, recursive = TRUE, force = TRUE)
})
