# HyperDrive sweeps built and submitted from R: a random sweep of an R script under a bandit
# policy, a grid sweep of a Python script, and configurations Python refuses.

# score = alpha * epoch for 4 epochs, so a trial's first value is the alpha it was given and
# its best (last) value 4 * alpha; the pauses let the policy stop a trial while it runs.
TRAIN_R <- c(
  "library(runyard)",
  "args <- commandArgs(trailingOnly = TRUE)",
  "alpha <- as.numeric(args[[match('--alpha', args) + 1]])",
  "for (epoch in 1:4) {",
  "  log_metric_to_run('score', alpha * epoch)",
  "  Sys.sleep(0.5)",
  "}"
)
# value = a * 10 for b "y", a for "x"; argparse's int refuses "1.0", so the integers must reach
# the script as integers.
TRAIN_PY <- c(
  "import argparse",
  "from runyard import Run",
  "p = argparse.ArgumentParser(); p.add_argument('--a', type=int); p.add_argument('--b', choices=['x', 'y'])",
  "args = p.parse_args()",
  "Run.get_context().log('value', args.a * (10 if args.b == 'y' else 1))"
)

metric_values <- function(trials, field) vapply(trials, function(t) t[[field]], numeric(1))

test_that("a random sweep of an R script: the policy stops trials far from the best, and the ranking is the scores'", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.R", TRAIN_R)
  # Seed 1 draws alpha 0.911, 0.520, 0.134, 0.292: the last two start after the first has
  # logged, and are 0.6 below it at every epoch, so the policy (slack 0.2) stops them.
  sampling <- random_parameter_sampling(list(alpha = uniform(0.05, 1)), properties = list(seed = 1))
  config <- hyperdrive_config(sampling, "score", primary_metric_goal("MAXIMIZE"), max_total_runs = 4,
                              max_concurrent_runs = 2, policy = bandit_policy(slack_amount = 0.2),
                              estimator = estimator(fx$src, entry_script = "train.R"))
  sweep <- submit_experiment(experiment(fx$ws, "r-sweep"), config)
  expect_s3_class(sweep, "runyard.hyperdrive.run.HyperDriveRun")
  expect_identical(wait_for_run_completion(sweep, show_output = FALSE)$status, "Completed")

  metrics <- get_child_run_metrics(sweep)
  values <- get_child_run_hyperparameters(sweep)
  expect_length(metrics, 4)
  expect_setequal(names(values), names(metrics))
  # each script got its alpha (its first score) and logged scores in step with it
  for (id in names(metrics)) {
    expect_equal(metrics[[id]]$score[[1]], values[[id]]$alpha)
    expect_equal(metrics[[id]]$score, values[[id]]$alpha * seq_along(metrics[[id]]$score))
  }
  alphas <- vapply(values, function(v) v$alpha, numeric(1))
  expect_equal(sort(unname(round(alphas, 3))), c(0.134, 0.292, 0.520, 0.911))

  trials <- get_child_runs_sorted_by_primary_metric(sweep)
  expect_length(trials, 4)
  expect_named(trials[[1]], c("run_id", "status", "hyperparameters", "best_primary_metric", "stopped_by"),
               ignore.order = TRUE)
  best_scores <- vapply(metrics, function(m) max(m$score), numeric(1))
  ids <- vapply(trials, function(t) t$run_id, character(1))
  expect_identical(ids, names(sort(best_scores, decreasing = TRUE)))
  expect_equal(metric_values(trials, "best_primary_metric"), unname(best_scores[ids]))
  # best first: the highest alpha, which ran to its end
  best <- get_best_run_by_primary_metric(sweep)
  expect_identical(best$id, names(which.max(alphas)))
  expect_identical(trials[[1]]$status, "Completed")
  expect_null(trials[[1]]$stopped_by)
  expect_length(metrics[[best$id]]$score, 4)
  # the policy stopped the two low draws while they ran (their values reached the history
  # during the run, not only when R exited), and says why
  stopped <- Filter(function(t) !is.null(t$stopped_by), trials)
  for (trial in stopped) expect_match(trial$stopped_by, "^BanditPolicy: at interval \\d+ its value")
  low <- Filter(function(t) t$hyperparameters$alpha < 0.3, trials)
  expect_length(low, 2)
  for (trial in low) {
    expect_false(is.null(trial$stopped_by))
    expect_identical(trial$status, "Canceled")
  }
  # options of the ranking
  expect_identical(vapply(get_child_runs_sorted_by_primary_metric(sweep, top = 2), function(t) t$run_id,
                          character(1)), ids[1:2])
  expect_identical(vapply(get_child_runs_sorted_by_primary_metric(sweep, reverse = TRUE), function(t) t$run_id,
                          character(1)), rev(ids))
  completed <- ids[vapply(trials, function(t) t$status == "Completed", logical(1))]
  expect_identical(get_best_run_by_primary_metric(sweep, include_canceled = FALSE)$id, completed[[1]])
  # the sweep found again by id is still a sweep
  again <- get_run(experiment(fx$ws, "r-sweep"), sweep$id)
  expect_identical(get_best_run_by_primary_metric(again)$id, best$id)
})

test_that("a grid sweep of a Python script tries every point once, integers as integers", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.py", TRAIN_PY)
  sampling <- grid_parameter_sampling(list("--a" = choice(c(1L, 2L)), b = choice(c("x", "y"))))
  config <- hyperdrive_config(sampling, "value", "MINIMIZE", max_total_runs = 10, max_concurrent_runs = 2,
                              run_config = script_run_config(fx$src, "train.py"))
  sweep <- submit_experiment(experiment(fx$ws, "py-grid"), config)
  expect_identical(wait_for_run_completion(sweep, show_output = FALSE)$status, "Completed")

  values <- get_child_run_hyperparameters(sweep)
  expect_length(values, 4)  # the grid's four points, though max_total_runs allows 10
  points <- vapply(values, function(v) paste(v[["--a"]], v$b), character(1))
  expect_setequal(points, c("1 x", "1 y", "2 x", "2 y"))
  expect_true(all(vapply(values, function(v) is.integer(v[["--a"]]), logical(1))))

  trials <- get_child_runs_sorted_by_primary_metric(sweep)
  expect_identical(metric_values(trials, "best_primary_metric"), c(1, 2, 10, 20))  # MINIMIZE: lowest first
  expect_identical(vapply(trials, function(t) t$status, character(1)), rep("Completed", 4))
  best <- get_best_run_by_primary_metric(sweep)
  expect_identical(best$id, trials[[1]]$run_id)
  expect_identical(values[[best$id]], list("--a" = 1L, b = "x"))
  expect_equal(get_run_metrics(best)$value, 1)
  expect_equal(get_child_run_metrics(sweep)[[best$id]]$value, 1)
})

test_that("bad sweeps get runyard's condition classes with Python's message, and nothing runs", {
  skip_if_no_runyard()
  fx <- local_workspace()
  write_lines_to(fx$src, "train.py", TRAIN_PY)
  run_config <- script_run_config(fx$src, "train.py")
  space <- list(a = choice(c(1L, 2L)))

  err <- expect_runyard_error(hyperdrive_config(bayesian_parameter_sampling(list(a = uniform(0, 1))), "value",
                                                "MAXIMIZE", 4, policy = median_stopping_policy(),
                                                run_config = run_config), "runyard_config_error")
  expect_match(conditionMessage(err), "BayesianParameterSampling takes no early-termination policy", fixed = TRUE)
  err <- expect_runyard_error(hyperdrive_config(random_parameter_sampling(space), "value", "MAXIMIZE", 0,
                                                run_config = run_config), "runyard_config_error")
  expect_match(conditionMessage(err), "max_total_runs must be a whole number from 1 to 1000, got 0", fixed = TRUE)
  err <- expect_runyard_error(grid_parameter_sampling(list(a = uniform(0, 1))), "runyard_config_error")
  expect_match(conditionMessage(err), "parameter 'a' is uniform(0.0, 1.0); GridParameterSampling takes only choice",
               fixed = TRUE)
  err <- expect_runyard_error(choice(c(1, 1)), "runyard_config_error")
  expect_match(conditionMessage(err), "option 1.0 is given twice", fixed = TRUE)
  err <- expect_runyard_error(primary_metric_goal("HIGHER"), "runyard_config_error")
  expect_match(conditionMessage(err), "MAXIMIZE or MINIMIZE, got 'HIGHER'", fixed = TRUE)
  err <- expect_runyard_error(bandit_policy(), "runyard_config_error")
  expect_match(conditionMessage(err), "give exactly one of slack_factor and slack_amount", fixed = TRUE)
  err <- expect_runyard_error(truncation_selection_policy(120), "runyard_config_error")
  expect_match(conditionMessage(err), "truncation_percentage must be a whole number from 1 to 99, got 120",
               fixed = TRUE)
  err <- expect_runyard_error(get_child_run_metrics(run_config), "runyard_argument_error")
  expect_match(conditionMessage(err), "`hyperdrive_run` must be a sweep", fixed = TRUE)

  # A swept name the script's arguments already hold is refused at submission, before any run.
  exp <- experiment(fx$ws, "refused")
  clash <- hyperdrive_config(random_parameter_sampling(space), "value", "MAXIMIZE", 2,
                             run_config = script_run_config(fx$src, "train.py", arguments = list("--a", 3L)))
  err <- expect_runyard_error(submit_experiment(exp, clash), "runyard_config_error")
  expect_match(conditionMessage(err), "the script's arguments already hold '--a'", fixed = TRUE)
  expect_length(get_runs_in_experiment(exp), 0)
})
