# HyperDrive: sweeps over a script's hyperparameters, each trial a child run of the sweep
# (runyard.hyperdrive). Samplings, expressions and policies are the Python objects
# themselves; Python checks every rule, so its errors are the ones R users see.

hyperdrive_module <- function() {
  rpy()
  reticulate::import("runyard.hyperdrive")
}

#' Describe a hyperparameter sweep
#'
#' azuremlsdk's `hyperdrive_config()`: trials of `estimator` (or of a
#' [script_run_config()] as `run_config`, or of a [pipeline()]), each run with
#' values drawn by `hyperparameter_sampling` and appended to its arguments as
#' `--name value`, ranked by the metric `primary_metric_name` the script logs
#' (its best value per trial). Submit it with [submit_experiment()]; the sweep's
#' trials are its child runs.
#'
#' @param hyperparameter_sampling From [random_parameter_sampling()],
#'   [grid_parameter_sampling()] or [bayesian_parameter_sampling()].
#' @param primary_metric_name The metric the script logs (with [log_metric_to_run()]
#'   or Python's `run.log`) that ranks the trials.
#' @param primary_metric_goal [primary_metric_goal()], or `"MAXIMIZE"` / `"MINIMIZE"`.
#' @param max_total_runs Trials at most (1 to 1000); fewer when a grid holds fewer points.
#' @param max_concurrent_runs Trials at once (1 to 100); `NULL`: this machine's CPU count.
#' @param max_duration_minutes Minutes after which the sweep cancels its running trials.
#' @param policy An early termination policy ([bandit_policy()],
#'   [median_stopping_policy()], [truncation_selection_policy()]), or `NULL` for none.
#' @param estimator An [estimator()] to sweep.
#' @param run_config A [script_run_config()] to sweep, instead of `estimator`.
#' @param resume_from Up to 5 earlier sweeps (runs or run ids) of the same metric and
#'   goal whose trials warm-start this one; their values are not run again.
#' @param resume_child_runs Trials of those sweeps to run again from their checkpoints.
#' @param pipeline A [pipeline()] to sweep, instead of `estimator`: the sampled names
#'   are its [pipeline_parameter()]s.
#' @return A sweep configuration, for [submit_experiment()].
#' @examples
#' \dontrun{
#' est <- estimator("src", entry_script = "train.R")
#' sampling <- random_parameter_sampling(list(alpha = uniform(0.01, 1), trees = choice(c(50L, 100L))))
#' config <- hyperdrive_config(sampling, "rmse", primary_metric_goal("MINIMIZE"),
#'                             max_total_runs = 8, max_concurrent_runs = 2,
#'                             policy = bandit_policy(slack_factor = 0.2), estimator = est)
#' sweep <- submit_experiment(experiment(ws, "sweep"), config)
#' wait_for_run_completion(sweep)
#' get_best_run_by_primary_metric(sweep)
#' }
#' @export
hyperdrive_config <- function(hyperparameter_sampling, primary_metric_name, primary_metric_goal, max_total_runs,
                              max_concurrent_runs = NULL, max_duration_minutes = 10080L, policy = NULL,
                              estimator = NULL, run_config = NULL, resume_from = NULL, resume_child_runs = NULL,
                              pipeline = NULL) {
  py_invoke(hyperdrive_module()$HyperDriveConfig, hyperparameter_sampling = hyperparameter_sampling,
            primary_metric_name = primary_metric_name, primary_metric_goal = primary_metric_goal,
            max_total_runs = max_total_runs, max_concurrent_runs = max_concurrent_runs,
            max_duration_minutes = max_duration_minutes, policy = policy, estimator = estimator,
            run_config = run_config, resume_from = resume_from, resume_child_runs = resume_child_runs,
            pipeline = pipeline,
            .integers = c("max_total_runs", "max_concurrent_runs", "max_duration_minutes"),
            .lists = c("resume_from", "resume_child_runs"))
}

#' Whether a sweep seeks the highest or the lowest primary metric
#'
#' @param goal `"MAXIMIZE"` or `"MINIMIZE"` (either case).
#' @return The goal, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' goal <- primary_metric_goal("MAXIMIZE")
#' }
#' @export
primary_metric_goal <- function(goal) {
  py_invoke(hyperdrive_module()$PrimaryMetricGoal$parse, value = goal)
}

# -- samplings ------------------------------------------------------------------------------

#' Random sampling of a search space
#'
#' Each trial draws every parameter from its expression. The draws are seeded
#' (by the space, or by `properties$seed`), so a sweep submitted again proposes the
#' same trials.
#'
#' @param parameter_space A named list of parameter expressions, e.g.
#'   `list(alpha = uniform(0.01, 1), batch = choice(c(16L, 32L)))`. A name reaches
#'   the script as `--name` (`alpha` and `--alpha` alike).
#' @param properties `NULL`, or `list(seed = <whole number>)`.
#' @return A sampling, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' sampling <- random_parameter_sampling(list(learning_rate = normal(10, 3),
#'                                            keep_probability = uniform(0.05, 0.1),
#'                                            batch_size = choice(c(16L, 32L, 64L, 128L))),
#'                                       properties = list(seed = 7))
#' }
#' @export
random_parameter_sampling <- function(parameter_space, properties = NULL) {
  py_invoke(hyperdrive_module()$RandomParameterSampling, parameter_space = parameter_space,
            properties = whole_number_values(properties), .dicts = "parameter_space")
}

#' Grid sampling of a search space
#'
#' Every combination of the [choice()] values, once each (the last name varies
#' fastest); takes only `choice()`.
#'
#' @inheritParams random_parameter_sampling
#' @return A sampling, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' sampling <- grid_parameter_sampling(list(num_hidden_layers = choice(c(1L, 2L, 3L)),
#'                                          batch_size = choice(c(16L, 32L))))
#' }
#' @export
grid_parameter_sampling <- function(parameter_space) {
  py_invoke(hyperdrive_module()$GridParameterSampling, parameter_space = parameter_space,
            .dicts = "parameter_space")
}

#' Bayesian sampling of a search space
#'
#' Each trial's values are proposed by a model of the trials so far (Optuna's TPE
#' sampler, in the submitting Python: `pip install "runyard[hyperdrive]"`). Takes
#' [choice()], [uniform()] and [quniform()], and no early termination policy.
#'
#' @inheritParams random_parameter_sampling
#' @param properties `NULL`, or `list(seed = <whole number>)` for the sampler.
#' @return A sampling, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' sampling <- bayesian_parameter_sampling(list(learning_rate = uniform(0.05, 0.1),
#'                                              batch_size = choice(c(16L, 32L, 64L, 128L))))
#' }
#' @export
bayesian_parameter_sampling <- function(parameter_space, properties = NULL) {
  py_invoke(hyperdrive_module()$BayesianParameterSampling, parameter_space = parameter_space,
            properties = whole_number_values(properties), .dicts = "parameter_space")
}

# A seed written 7 in R is a double; Python wants a whole number.
whole_number_values <- function(x) {
  if (is.list(x)) lapply(x, as_whole_numbers) else as_whole_numbers(x)
}

# -- parameter expressions ----------------------------------------------------------------

#' One of a list of values, for a sweep
#'
#' A parameter expression for the `parameter_space` of a sampling, the only one
#' [grid_parameter_sampling()] takes. The options' R types are what the script
#' gets: `c(16L, 32L)` gives `--batch 16`, while `c(16, 32)` (doubles) gives
#' `--batch 16.0`; `TRUE` gives `--flag True`.
#'
#' @param options A vector or list of numbers, strings or logicals, each different.
#' @return An expression, for [random_parameter_sampling()],
#'   [grid_parameter_sampling()] or [bayesian_parameter_sampling()].
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(batch = choice(c(16L, 32L, 64L)), kernel = choice(c("linear", "rbf")))
#' }
#' @export
choice <- function(options) {
  # Python's choice() takes the options one by one or as one list; a vector becomes that list.
  py_invoke(hyperdrive_module()$choice, options)
}

#' A whole number below a bound, for a sweep
#'
#' @param upper The excluded upper bound: values are `0` to `upper - 1`.
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(seed = randint(1000L))
#' }
#' @export
randint <- function(upper) {
  py_invoke(hyperdrive_module()$randint, upper = upper, .integers = "upper")
}

#' A number drawn uniformly, for a sweep
#'
#' @param min_value,max_value The bounds.
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(alpha = uniform(0.01, 1))
#' }
#' @export
uniform <- function(min_value, max_value) {
  py_invoke(hyperdrive_module()$uniform, min_value = min_value, max_value = max_value)
}

#' A number drawn uniformly and rounded to a step, for a sweep
#'
#' `round(uniform(min_value, max_value) / q) * q`. With an integer `q` the value is a
#' whole number: `quniform(16, 128, 16L)` gives `--batch 32`, `quniform(16, 128, 16)`
#' gives `--batch 32.0`.
#'
#' @inheritParams uniform
#' @param q The step values are rounded to.
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(batch = quniform(16, 128, 16L))
#' }
#' @export
quniform <- function(min_value, max_value, q) {
  py_invoke(hyperdrive_module()$quniform, min_value = min_value, max_value = max_value, q = q)
}

#' A number whose logarithm is drawn uniformly, for a sweep
#'
#' `exp(uniform(min_value, max_value))`: the bounds are natural logarithms, so
#' `loguniform(log(1e-4), log(1e-1))` spans 0.0001 to 0.1.
#'
#' @param min_value,max_value The natural logarithms of the bounds.
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(learning_rate = loguniform(log(1e-4), log(1e-1)))
#' }
#' @export
loguniform <- function(min_value, max_value) {
  py_invoke(hyperdrive_module()$loguniform, min_value = min_value, max_value = max_value)
}

#' A number whose logarithm is drawn uniformly, rounded to a step, for a sweep
#'
#' `round(exp(uniform(min_value, max_value)) / q) * q`; a whole number when `q` is an integer.
#'
#' @inheritParams loguniform
#' @inheritParams quniform
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(trees = qloguniform(log(10), log(1000), 10L))
#' }
#' @export
qloguniform <- function(min_value, max_value, q) {
  py_invoke(hyperdrive_module()$qloguniform, min_value = min_value, max_value = max_value, q = q)
}

#' A number from a normal distribution, for a sweep
#'
#' @param mu,sigma The distribution's mean and standard deviation.
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(momentum = normal(0.9, 0.02))
#' }
#' @export
normal <- function(mu, sigma) {
  py_invoke(hyperdrive_module()$normal, mu = mu, sigma = sigma)
}

#' A number from a normal distribution, rounded to a step, for a sweep
#'
#' `round(normal(mu, sigma) / q) * q`; a whole number when `q` is an integer.
#'
#' @inheritParams normal
#' @inheritParams quniform
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(width = qnormal(64, 8, 8L))
#' }
#' @export
qnormal <- function(mu, sigma, q) {
  py_invoke(hyperdrive_module()$qnormal, mu = mu, sigma = sigma, q = q)
}

#' A number whose logarithm is normally distributed, for a sweep
#'
#' `exp(normal(mu, sigma))`.
#'
#' @param mu,sigma Mean and standard deviation of the value's natural logarithm.
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(l2 = lognormal(-4, 1))
#' }
#' @export
lognormal <- function(mu, sigma) {
  py_invoke(hyperdrive_module()$lognormal, mu = mu, sigma = sigma)
}

#' A number whose logarithm is normally distributed, rounded to a step, for a sweep
#'
#' `round(exp(normal(mu, sigma)) / q) * q`; a whole number when `q` is an integer.
#'
#' @inheritParams lognormal
#' @inheritParams quniform
#' @inherit choice return
#' @family parameter expressions
#' @examples
#' \dontrun{
#' space <- list(units = qlognormal(4, 0.5, 1L))
#' }
#' @export
qlognormal <- function(mu, sigma, q) {
  py_invoke(hyperdrive_module()$qlognormal, mu = mu, sigma = sigma, q = q)
}

# -- early termination policies -------------------------------------------------------------

#' Stop trials far from the best one
#'
#' At each evaluation a trial stops when its value of the primary metric is not
#' within the slack of the best trial's value at the same interval (the same
#' count of values logged): maximising, below `best / (1 + slack_factor)` or
#' `best - slack_amount`; minimising, above `best * (1 + slack_factor)` or
#' `best + slack_amount`.
#'
#' @param slack_factor The allowed distance from the best trial as a ratio.
#' @param slack_amount The allowed distance as an amount (give this or `slack_factor`).
#' @param evaluation_interval Apply the policy every this many values of the primary metric.
#' @param delay_evaluation Apply it only from this many values on.
#' @return A policy, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' policy <- bandit_policy(slack_factor = 0.1, evaluation_interval = 1L, delay_evaluation = 5L)
#' }
#' @export
bandit_policy <- function(slack_factor = NULL, slack_amount = NULL, evaluation_interval = 1L,
                          delay_evaluation = 0L) {
  py_invoke(hyperdrive_module()$BanditPolicy, slack_factor = slack_factor, slack_amount = slack_amount,
            evaluation_interval = evaluation_interval, delay_evaluation = delay_evaluation,
            .integers = c("evaluation_interval", "delay_evaluation"))
}

#' Stop trials below the median
#'
#' At each evaluation a trial stops when its best value of the primary metric so
#' far is worse than the median of the running averages of the trials at the same
#' interval. The default `delay_evaluation` is azuremlsdk's `0L`; Python's
#' `MedianStoppingPolicy` and Azure's advice use `5L`.
#'
#' @inheritParams bandit_policy
#' @return A policy, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' policy <- median_stopping_policy(evaluation_interval = 1L, delay_evaluation = 5L)
#' }
#' @export
median_stopping_policy <- function(evaluation_interval = 1L, delay_evaluation = 0L) {
  py_invoke(hyperdrive_module()$MedianStoppingPolicy, evaluation_interval = evaluation_interval,
            delay_evaluation = delay_evaluation, .integers = c("evaluation_interval", "delay_evaluation"))
}

#' Stop the worst trials
#'
#' At each evaluation the trials whose value of the primary metric is among the
#' worst `truncation_percentage` percent at that interval stop.
#'
#' @inheritParams bandit_policy
#' @param truncation_percentage The percent of trials to stop, 1 to 99.
#' @return A policy, for [hyperdrive_config()].
#' @examples
#' \dontrun{
#' policy <- truncation_selection_policy(truncation_percentage = 50L, delay_evaluation = 5L)
#' }
#' @export
truncation_selection_policy <- function(truncation_percentage, evaluation_interval = 1L, delay_evaluation = 0L) {
  py_invoke(hyperdrive_module()$TruncationSelectionPolicy, truncation_percentage = truncation_percentage,
            evaluation_interval = evaluation_interval, delay_evaluation = delay_evaluation,
            .integers = c("truncation_percentage", "evaluation_interval", "delay_evaluation"))
}

# -- the sweep's results ------------------------------------------------------------------

# A sweep from submit_experiment() is a HyperDriveRun; one found again with get_run() or
# get_runs_in_experiment() is a plain run of type "hyperdrive", seen here as the sweep it is.
check_hyperdrive_run <- function(hyperdrive_run, arg = "hyperdrive_run") {
  if (inherits(hyperdrive_run, "runyard.hyperdrive.run.HyperDriveRun")) return(hyperdrive_run)
  if (inherits(hyperdrive_run, "runyard.run.Run") && identical(hyperdrive_run$type, "hyperdrive")) {
    return(py_call(hyperdrive_module()$HyperDriveRun(hyperdrive_run$experiment, hyperdrive_run$id)))
  }
  check_class(hyperdrive_run, "runyard.hyperdrive.run.HyperDriveRun", arg,
              "a sweep (from submit_experiment() with a hyperdrive_config())")
}

#' The best trial of a sweep
#'
#' The trial with the best value of the primary metric (its best value, as it
#' was logged), or `NULL` when no trial logged it.
#'
#' @param hyperdrive_run A sweep, from [submit_experiment()] with a [hyperdrive_config()].
#' @param include_failed,include_canceled If `FALSE`, leave out Failed or Canceled
#'   trials (a trial stopped by the policy is Canceled).
#' @param include_resume_from_runs If `TRUE`, also the trials of the sweeps this one
#'   resumed (`resume_from`).
#' @return The trial's run, or `NULL`.
#' @examples
#' \dontrun{
#' best <- get_best_run_by_primary_metric(sweep)
#' get_run_metrics(best)
#' }
#' @export
get_best_run_by_primary_metric <- function(hyperdrive_run, include_failed = TRUE, include_canceled = TRUE,
                                           include_resume_from_runs = TRUE) {
  sweep <- check_hyperdrive_run(hyperdrive_run)
  py_invoke(sweep$get_best_run_by_primary_metric, include_failed = include_failed,
            include_canceled = include_canceled, include_resume_from_runs = include_resume_from_runs)
}

#' A sweep's trials, best first
#'
#' @inheritParams get_best_run_by_primary_metric
#' @param top Keep the first `top` trials; `0` keeps all.
#' @param reverse If `TRUE`, worst first (trials without the metric still come last).
#' @param discard_no_metric If `TRUE`, leave out trials that logged no primary metric;
#'   otherwise they come last.
#' @return A list with one element per trial, each a list of `run_id`,
#'   `hyperparameters` (a named list of the values it ran with), `best_primary_metric`
#'   (`NULL` if none was logged), `status` and `stopped_by` (why the policy stopped it,
#'   or `NULL`).
#' @examples
#' \dontrun{
#' top3 <- get_child_runs_sorted_by_primary_metric(sweep, top = 3L)
#' top3[[1]]$hyperparameters
#' }
#' @export
get_child_runs_sorted_by_primary_metric <- function(hyperdrive_run, top = 0L, reverse = FALSE,
                                                    discard_no_metric = FALSE) {
  sweep <- check_hyperdrive_run(hyperdrive_run)
  py_invoke(sweep$get_children_sorted_by_primary_metric, top = top, reverse = reverse,
            discard_no_metric = discard_no_metric, .integers = "top")
}

#' The values each trial of a sweep ran with
#'
#' @inheritParams get_best_run_by_primary_metric
#' @return A named list: for each trial's run id, a named list of its values, e.g.
#'   `list("sweep_..._1" = list(alpha = 0.42, batch = 32L))`.
#' @examples
#' \dontrun{
#' get_child_run_hyperparameters(sweep)
#' }
#' @export
get_child_run_hyperparameters <- function(hyperdrive_run) {
  sweep <- check_hyperdrive_run(hyperdrive_run)
  py_call(sweep$get_hyperparameters())
}

#' The metrics each trial of a sweep logged
#'
#' @inheritParams get_best_run_by_primary_metric
#' @return A named list: for each trial's run id, its metrics as [get_run_metrics()]
#'   returns them (a metric logged repeatedly is a vector).
#' @examples
#' \dontrun{
#' metrics <- get_child_run_metrics(sweep)
#' sapply(metrics, function(m) min(m$rmse))
#' }
#' @export
get_child_run_metrics <- function(hyperdrive_run) {
  sweep <- check_hyperdrive_run(hyperdrive_run)
  lapply(py_call(sweep$get_metrics()), function(metrics) lapply(metrics, as_metric))
}
