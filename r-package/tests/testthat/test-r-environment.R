# A local CRAN-like repository holding one tiny source package, built by the test.
local_tiny_repo <- function(envir = parent.frame()) {
  root <- local_test_dir("runyard-repo-", envir = envir)
  pkg <- file.path(root, "runyardtinypkg")
  write_lines_to(pkg, "DESCRIPTION", c(
    "Package: runyardtinypkg",
    "Version: 0.0.1",
    "Title: A Tiny Package for runyard's Tests",
    "Description: Says hello, so a test can check it was installed.",
    "Authors@R: person('runyard', 'tests', email = 'tests@example.org', role = c('aut', 'cre'))",
    "License: MIT",
    "Encoding: UTF-8"
  ))
  write_lines_to(pkg, "NAMESPACE", "export(hello)")
  write_lines_to(pkg, "R/hello.R", "hello <- function() 'hello from runyardtinypkg'")
  contrib <- file.path(root, "repo", "src", "contrib")
  dir.create(contrib, recursive = TRUE)
  old <- setwd(contrib)
  on.exit(setwd(old), add = TRUE)
  run_process(r_bin(), c("CMD", "build", "--no-manual", "--no-build-vignettes", shQuote(pkg)))
  expect_true(file.exists(file.path(contrib, "runyardtinypkg_0.0.1.tar.gz")))
  tools::write_PACKAGES(contrib, type = "source")
  file.path(root, "repo")
}

test_that("an R environment installs packages from a repository, caches them, and fails on missing ones", {
  skip_if_no_runyard()
  fx <- local_workspace()
  repo <- local_tiny_repo()
  repos <- paste0("file://", repo)
  write_lines_to(fx$src, "hello.R", c(
    "library(runyard)",
    "library(runyardtinypkg)",
    "cat('script started\\n')",
    "log_metric_to_run('greeting', hello())",
    "log_metric_to_run('lib', find.package('runyardtinypkg'))"
  ))
  exp <- experiment(fx$ws, "r-env")
  env <- r_environment("tiny-env", cran_packages = list(cran_package("runyardtinypkg")), repos = repos)

  first <- submit_experiment(exp, script_run_config(fx$src, "hello.R", environment = env))
  wait_for_run_completion(first, show_output = FALSE)
  expect_identical(get_run_details(first)$status, "Completed")
  expect_identical(get_run_metrics(first)$greeting, "hello from runyardtinypkg")
  # Installed into runyard's cached library, not the R installation's own.
  expect_true(startsWith(get_run_metrics(first)$lib, normalizePath(Sys.getenv("RUNYARD_CACHE_DIR"))))
  first_log <- get_run_details_with_logs(first)$logFiles[["logs/environment_build.log"]]
  expect_match(first_log, "installing runyardtinypkg", fixed = TRUE)
  expect_false(requireNamespace("runyardtinypkg", quietly = TRUE))

  second <- submit_experiment(exp, script_run_config(fx$src, "hello.R", environment = env))
  wait_for_run_completion(second, show_output = FALSE)
  expect_identical(get_run_details(second)$status, "Completed")
  expect_identical(get_run_metrics(second)$greeting, "hello from runyardtinypkg")
  second_log <- get_run_details_with_logs(second)$logFiles[["logs/environment_build.log"]]
  expect_match(second_log, "R library of 'tiny-env' cached at", fixed = TRUE)
  expect_false(grepl("installing runyardtinypkg", second_log, fixed = TRUE))

  # A repository that cannot be reached (CRAN on an offline machine, say; nothing listens
  # on port 9) is logged, and the package still comes from the one that has it.
  unreachable <- "http://127.0.0.1:9"
  offline <- r_environment("offline-env", cran_packages = list(cran_package("runyardtinypkg")),
                           repos = c(unreachable, repos))
  third <- submit_experiment(exp, script_run_config(fx$src, "hello.R", environment = offline))
  wait_for_run_completion(third, show_output = FALSE)
  expect_identical(get_run_details(third)$status, "Completed")
  expect_identical(get_run_metrics(third)$greeting, "hello from runyardtinypkg")
  expect_match(get_run_details_with_logs(third)$logFiles[["logs/environment_build.log"]],
               "unable to access index for repository http://127.0.0.1:9", fixed = TRUE)

  missing <- r_environment("missing-env", repos = repos,
                           cran_packages = list(cran_package("runyardtinypkg"),
                                                cran_package("runyardnosuchpkg")))
  failed <- submit_experiment(exp, script_run_config(fx$src, "hello.R", environment = missing))
  cnd <- tryCatch(wait_for_run_completion(failed, show_output = FALSE),
                  runyard_run_failed_error = function(e) e)
  expect_s3_class(cnd, "runyard_run_failed_error")
  expect_match(conditionMessage(cnd), "runyardnosuchpkg", fixed = TRUE)
  details <- get_run_details(failed)
  expect_identical(details$status, "Failed")
  expect_match(details$error, "runyardnosuchpkg", fixed = TRUE)
  expect_match(details$error, "could not be installed", fixed = TRUE)
  expect_false(grepl("runyardtinypkg", details$error, fixed = TRUE))
  # It failed while preparing: the script never started.
  expect_false(any(c("Starting", "Running") %in% details$statusHistory$status))
  expect_null(details$exitCode)
  expect_length(get_run_metrics(failed), 0)
  expect_false("logs/driver.log" %in% get_run_file_names(failed))
  expect_match(get_run_details_with_logs(failed)$logFiles[["logs/environment_build.log"]],
               "RUNYARD_FAILED_PACKAGES: runyardnosuchpkg", fixed = TRUE)
})

test_that("repos defaults to getOption('repos'), and a run installs the package from there", {
  skip_if_no_runyard()
  fx <- local_workspace()
  repos <- paste0("file://", local_tiny_repo())
  old <- options(repos = c(local = repos))
  on.exit(options(old), add = TRUE)
  write_lines_to(fx$src, "hello.R", c("library(runyard)", "library(runyardtinypkg)",
                                      "log_metric_to_run('greeting', hello())"))
  env <- r_environment("default-repos-env", cran_packages = list(cran_package("runyardtinypkg")))
  expect_identical(unlist(env$r$repos), repos)

  run <- submit_experiment(experiment(fx$ws, "r-env"), script_run_config(fx$src, "hello.R", environment = env))
  wait_for_run_completion(run, show_output = FALSE)
  expect_identical(get_run_details(run)$status, "Completed")
  expect_identical(get_run_metrics(run)$greeting, "hello from runyardtinypkg")
})

test_that("repos that are not strings are Python's runyard_config_error naming `repos`", {
  skip_if_no_runyard()
  cnd <- expect_runyard_error(r_environment("bad-repos", repos = 5), "runyard_config_error")
  expect_match(conditionMessage(cnd), "field 'r.repos': Input should be a valid list (got 5.0)", fixed = TRUE)
  cnd <- expect_runyard_error(r_environment("bad-repos", repos = list("file:///tmp", 5)), "runyard_config_error")
  expect_match(conditionMessage(cnd), "field 'r.repos.1': Input should be a valid string", fixed = TRUE)
  # A list of URLs is as good as a character vector; the names and "@CRAN@" of getOption("repos") go.
  env <- r_environment("repos", repos = c(CRAN = "@CRAN@", local = "file:///tmp"))
  expect_identical(env$r$repos, "file:///tmp")
  expect_identical(r_environment("repos", repos = list("file:///tmp"))$r$repos, "file:///tmp")
})

test_that("r_version must match the local target's R: a mismatch fails the run before the script starts", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "version.R", c("library(runyard)", "log_metric_to_run('started', 1)"))
  exp <- experiment(fx$ws, "r-version")
  have <- paste(R.version$major, R.version$minor, sep = ".")

  old_r <- r_environment("old-r", r_version = "3.6.0", rscript_path = rscript_bin())
  failed <- submit_experiment(exp, script_run_config(fx$src, "version.R", environment = old_r))
  cnd <- tryCatch(wait_for_run_completion(failed, show_output = FALSE), runyard_run_failed_error = function(e) e)
  expect_s3_class(cnd, "runyard_run_failed_error")
  expect_match(conditionMessage(cnd), "asks for R 3.6.0", fixed = TRUE)
  expect_match(conditionMessage(cnd), paste("is R", have), fixed = TRUE)
  details <- get_run_details(failed)
  expect_identical(details$status, "Failed")
  expect_false(any(c("Starting", "Running") %in% details$statusHistory$status))
  expect_length(get_run_metrics(failed), 0)

  # "4.2" asks for any 4.2.x.
  this_r <- r_environment("this-r", r_version = sub("\\.[0-9]+$", "", have), rscript_path = rscript_bin())
  passed <- submit_experiment(exp, script_run_config(fx$src, "version.R", environment = this_r))
  wait_for_run_completion(passed, show_output = FALSE)
  expect_identical(get_run_metrics(passed)$started, 1)
})
