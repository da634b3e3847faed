"""``runyard run ...``: submit a script, list runs, show, logs, metrics, partitions, download, cancel."""

from __future__ import annotations

import collections
import sys
import time

import click

from .. import status as st
from ..errors import ConfigError
from ..pipeline._parallel import table as partition_table
from ._output import console, format_metric, print_json, print_table
from ._progress import snapshot_progress
from .main import cli, finish_submission, open_workspace, parse_pairs


@cli.group()
def run() -> None:
    """Runs: submit, list, show, logs, metrics, partitions, download, cancel."""


def _get_run(ctx: click.Context, run_id: str):
    from ..run import Run
    return Run.get(open_workspace(ctx), run_id)


@run.command("submit", context_settings={"ignore_unknown_options": True})
@click.argument("script", required=False)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@click.option("-s", "--source", "source", default=".", show_default=True, type=click.Path(),
              help="Source folder (snapshotted; .runyardignore/.amlignore/.gitignore honoured).")
@click.option("--command", "command", default=None, help="A shell command instead of a script.")
@click.option("--env-file", default=None, type=click.Path(),
              help="Environment file: runyard YAML, conda YAML or requirements.txt.")
@click.option("--env", "env_ref", default=None, help="A registered environment, NAME or NAME:VERSION.")
@click.option("-c", "--compute", default="local", show_default=True, help="Compute target name.")
@click.option("-e", "--experiment", "experiment_name", default="default", show_default=True)
@click.option("-t", "--tag", "tags", multiple=True, help="KEY=VALUE; repeatable.")
@click.option("--max-duration", "max_duration", type=int, default=None, help="Seconds before the run is stopped.")
@click.option("--display-name", default=None)
@click.option("--detach", is_flag=True, help="Print the run id and return without waiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's details as JSON at the end.")
@click.pass_context
def run_submit(ctx: click.Context, script: str | None, arguments: tuple[str, ...], source: str,
               command: str | None, env_file: str | None, env_ref: str | None, compute: str,
               experiment_name: str, tags: tuple[str, ...], max_duration: int | None,
               display_name: str | None, detach: bool, as_json: bool) -> None:
    """Run SCRIPT (a file in the source folder) with ARGUMENTS, and stream its output.

    Example: runyard run submit -s examples/sklearn-diabetes train.py -- --alphas 0.1 0.5
    """
    from ..config import ScriptRunConfig
    from ..environment import Environment
    from ..experiment import Experiment
    ws = open_workspace(ctx)
    if env_file and env_ref:
        raise ConfigError("give --env-file or --env, not both")
    environment = None
    if env_file:
        environment = Environment.from_file(env_file)
    elif env_ref:
        name, _, version = env_ref.partition(":")
        environment = Environment.get(ws, name, version or None)
    config = ScriptRunConfig(source_directory=source, script=script, command=command,
                             arguments=list(arguments), environment=environment, compute_target=compute)
    if max_duration:
        config.max_run_duration_seconds = max_duration
    experiment = Experiment(ws, experiment_name)
    run_obj = experiment.submit(config, tags=parse_pairs(tags, "--tag"), display_name=display_name,
                                snapshot_progress=snapshot_progress())
    finish_submission(run_obj, detach, as_json)


@run.command("list")
@click.option("-e", "--experiment", "experiment_name", default=None, help="Only this experiment.")
@click.option("--status", default=None, type=click.Choice(st.ALL), help="Only runs with this status.")
@click.option("-t", "--tag", "tags", multiple=True, help="KEY=VALUE or KEY; repeatable.")
@click.option("--limit", default=50, show_default=True, type=int)
@click.option("--all", "include_children", is_flag=True, help="Include child runs.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def run_list(ctx: click.Context, experiment_name: str | None, status: str | None, tags: tuple[str, ...],
             limit: int, include_children: bool, as_json: bool) -> None:
    """List runs, newest first."""
    from ..run import _iso
    ws = open_workspace(ctx)
    tag_filter = {t.split("=", 1)[0]: (t.split("=", 1)[1] if "=" in t else None) for t in tags}
    rows = ws._store.list_runs(experiment=experiment_name, status=status, tags=tag_filter,
                               top_level_only=not include_children, limit=limit)
    if as_json:
        return print_json([{"runId": r["run_id"], "experiment": r["experiment"], "status": r["status"],
                            "target": r["target"], "createdTimeUtc": _iso(r["created_at"]),
                            "parentRunId": r["parent_id"], "runType": r["run_type"]} for r in rows])
    print_table(f"Runs in {ws.name}", ["run id", "experiment", "status", "target", "created"],
                [(r["run_id"], r["experiment"], r["status"], r["target"],
                  time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["created_at"]))) for r in rows])


@run.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def run_show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Details of a run: status, times, target, environment, snapshot, exit code, error; a
    pipeline run's steps; a sweep's trials, best first."""
    run_obj = _get_run(ctx, run_id)
    details = run_obj.get_details()
    if as_json:
        if run_obj.type == "automl":
            return print_json({**details, "leaderboard": run_obj.get_leaderboard()})
        return print_json({**details, "trials": trials_json(run_obj)} if run_obj.type == "hyperdrive" else details)
    fields = ["runId", "experimentName", "displayName", "runType", "status", "target", "createdTimeUtc",
              "startTimeUtc", "endTimeUtc", "durationSeconds", "exitCode", "environmentHash", "snapshotId",
              "parentRunId"]
    rows = [(f, details.get(f)) for f in fields]
    env = details["environment"]
    if env["name"]:
        rows.append(("environment", f"{env['name']}" + (f":{env['version']}" if env["version"] else "")))
    rows += [("tags", details["tags"] or ""), ("properties", details["properties"] or "")]
    print_table(f"Run {run_id}", ["field", "value"], rows)
    if details["runType"] == "pipeline":
        steps = _get_run(ctx, run_id).get_steps()
        print_table("Steps", ["step", "status", "run id", "reused run"],
                    [(s.display_name, s.get_status(), s.id, s.get_properties().get("azureml.reusedrunid") or "")
                     for s in steps])
    if details["runType"] == "hyperdrive":
        print_trials(run_obj)
    if details["runType"] == "automl":
        print_leaderboard(run_obj)
    if details["error"]:
        console.print(f"[bold red]Error:[/] {details['error']['message']}", highlight=False)


def trials_json(sweep) -> list[dict]:
    """A sweep's trials, best first (those that logged no primary metric last)."""
    from ..hyperdrive._sweep import TRIAL_INDEX
    store = sweep.workspace._store
    return [{"trialIndex": int(store.get_properties(t["run_id"]).get(TRIAL_INDEX, -1)), "runId": t["run_id"],
             "status": t["status"], "hyperparameters": t["hyperparameters"],
             "bestPrimaryMetric": t["best_primary_metric"], "stoppedBy": t["stopped_by"]}
            for t in sweep.get_children_sorted_by_primary_metric()]


def print_trials(sweep) -> None:
    """The trials of a sweep as a table, best first: values, primary metric, status, why stopped."""
    trials = trials_json(sweep)
    names = list(dict.fromkeys(name for t in trials for name in t["hyperparameters"]))
    stopped = any(t["stoppedBy"] for t in trials)
    goal = "highest" if sweep.maximize else "lowest"
    columns = ["trial", "run id", "status", sweep.primary_metric_name, *names, *(["stopped by"] if stopped else [])]
    rows = [(t["trialIndex"], t["runId"], t["status"],
             "" if t["bestPrimaryMetric"] is None else format_metric(t["bestPrimaryMetric"]),
             *(format_metric(t["hyperparameters"].get(n, "")) for n in names),
             *([t["stoppedBy"] or ""] if stopped else [])) for t in trials]
    print_table(f"Trials of {sweep.id}, {goal} {sweep.primary_metric_name} first", columns, rows)


def print_leaderboard(automl) -> None:
    """The iterations of an AutoML run as a table, best first."""
    metric = automl.primary_metric
    rows = [(r["iteration"], r["run_id"], r["status"], f"{r['preprocessor']} {r['algorithm'] or ''}".strip(),
             "" if r["score"] is None else format_metric(r["score"]),
             "" if r["duration_seconds"] is None else f"{r['duration_seconds']:.1f}")
            for r in automl.get_leaderboard()]
    print_table(f"Leaderboard of {automl.id}, by {metric}", ["iteration", "run id", "status", "pipeline", metric,
                                                               "seconds"], rows)


@run.command("logs")
@click.argument("run_id")
@click.option("-f", "--follow", is_flag=True, help="Keep printing until the run ends.")
@click.pass_context
def run_logs(ctx: click.Context, run_id: str, follow: bool) -> None:
    """Print a run's output (environment build and driver log)."""
    from ..run import _LogTailer
    run_obj = _get_run(ctx, run_id)
    tailer = _LogTailer(run_obj.workspace._artifacts.run_dir(run_obj.id) / "logs")
    while True:
        status = run_obj.get_status()
        tailer.emit(sys.stdout)
        if not follow or status in st.TERMINAL:
            break
        time.sleep(0.3)
    if follow:
        tailer.emit(sys.stdout)


@run.command("metrics")
@click.argument("run_id")
@click.option("--name", default=None, help="Only this metric.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def run_metrics(ctx: click.Context, run_id: str, name: str | None, as_json: bool) -> None:
    """A run's metrics."""
    metrics = _get_run(ctx, run_id).get_metrics(name=name)
    if as_json:
        return print_json(metrics)
    print_table(f"Metrics of {run_id}", ["name", "value"], [(k, format_metric(v)) for k, v in metrics.items()])


@run.command("partitions")
@click.argument("run_id")
@click.option("--status", default=None, type=click.Choice(partition_table.STATUSES),
              help="Only the mini batches with this status.")
@click.option("--json", "as_json", is_flag=True, help="Every field of each mini batch, its whole traceback included.")
@click.pass_context
def run_partitions(ctx: click.Context, run_id: str, status: str | None, as_json: bool) -> None:
    """A ParallelRunStep run's partition table: a row per mini batch (its partition keys,
    status, tries, seconds, items and its error's first line), counts per status in the title.

    Example: runyard run partitions RUN_ID --status Failed --json
    """
    rows = _get_run(ctx, run_id).get_partition_results()
    kept = [row for row in rows if status is None or row["status"] == status]
    if as_json:
        return print_json(kept)
    counts = collections.Counter(row["status"] for row in rows)
    title = (f"Mini batches of {run_id}" + (f" with status {status}" if status else "") + ": "
             + ", ".join(f"{counts[name]} {name}" for name in partition_table.STATUSES))
    print_table(title, ["mini batch", "partition", "status", "tries", "seconds", "items", "error"],
                [(row["batch_id"], _partition_keys(row.get("partition")), row["status"], row["tries"],
                  "" if row.get("duration_s") is None else f"{row['duration_s']:.2f}", row.get("items"),
                  (row.get("error") or "").split("\n", 1)[0]) for row in kept])


def _partition_keys(values: dict | None) -> str:
    return ", ".join(f"{key}={value}" for key, value in values.items()) if values else ""


@run.command("download")
@click.argument("run_id")
@click.option("--prefix", default=None, help="Only files under this prefix, e.g. outputs/.")
@click.option("-o", "--output", "output_directory", default=".", show_default=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the paths written as a JSON list.")
@click.pass_context
def run_download(ctx: click.Context, run_id: str, prefix: str | None, output_directory: str,
                 as_json: bool) -> None:
    """Download a run's files."""
    written = _get_run(ctx, run_id).download_files(prefix=prefix, output_directory=output_directory)
    if as_json:
        return print_json([str(path) for path in written])
    for path in written:
        click.echo(path)
    if not written:
        click.echo(f"run {run_id} has no files" + (f" under {prefix!r}" if prefix else ""), err=True)


@run.command("cancel")
@click.argument("run_id")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the run has stopped.")
@click.pass_context
def run_cancel(ctx: click.Context, run_id: str, wait: bool) -> None:
    """Stop a run (SIGTERM, then SIGKILL after a grace period)."""
    run_obj = _get_run(ctx, run_id)
    run_obj.cancel()
    if wait:
        details = run_obj.wait_for_completion(raise_on_error=False)
        click.echo(f"{run_id}: {details['status']}")
    else:
        click.echo(f"{run_id}: cancel requested")


