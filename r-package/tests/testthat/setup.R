# Suite-wide fixtures (sourced once, after the helpers, before any test; undone
# in teardown-runyard.R). Set before Python starts, so runyard's supervisors
# inherit them: one environment cache for the whole suite, so R libraries built
# by one test are reused by the next, and a short cancel grace period.
.runyard_suite <- list(
  old_env = Sys.getenv(c("RUNYARD_CACHE_DIR", "RUNYARD_CANCEL_GRACE_SECONDS", "RUNYARD_WORKSPACE",
                         "RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI"), unset = NA),
  cache_dir = tempfile("runyard-cache-")
)
dir.create(.runyard_suite$cache_dir)
Sys.setenv(RUNYARD_CACHE_DIR = .runyard_suite$cache_dir, RUNYARD_CANCEL_GRACE_SECONDS = "2")
# A suite started inside a runyard job must not log to that job or find its workspace.
Sys.unsetenv(c("RUNYARD_WORKSPACE", "RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI"))

# A workspace in a fresh folder, removed when the calling test ends:
# list(dir = the project folder, src = a source folder in it, ws = the workspace).
local_workspace <- function(envir = parent.frame()) {
  dir <- local_test_dir("runyard-ws-", envir = envir)
  src <- file.path(dir, "src")
  dir.create(src)
  list(dir = dir, src = src, ws = create_workspace(path = file.path(dir, ".runyard")))
}
