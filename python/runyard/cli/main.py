"""``runyard``: init a workspace, submit runs and jobs, look at runs, environments, targets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import status as st
from ..errors import RunyardError
from ._output import errors, print_json, print_table
from ._progress import PreparingLine, snapshot_progress

EXIT_CANCELED = 4
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Turns runyard's errors into one line on stderr and a meaningful exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RunyardError as e:
            errors.print(f"[bold red]error:[/] {e}", highlight=False, markup=True, soft_wrap=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            errors.print("interrupted")
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-w", "--workspace", "workspace_path", envvar="RUNYARD_WORKSPACE", default=None,
              help="Workspace folder (default: the nearest .runyard/ at or above the current folder).")
@click.version_option(package_name="runyard")
@click.pass_context
def cli(ctx: click.Context, workspace_path: str | None) -> None:
    """Train models on your own machines, with Azure ML SDK v1's concepts."""
    ctx.obj = {"workspace_path": workspace_path}


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """KEY=VALUE options (repeatable) as a dict; a value without '=' is an error naming it."""
    from ..errors import ConfigError
    pairs = {}
    for value in values:
        if "=" not in value:
            raise ConfigError(f"{option} {value!r}: expected KEY=VALUE")
        key, val = value.split("=", 1)
        pairs[key] = val
    return pairs


def open_workspace(ctx: click.Context):
    from ..workspace import Workspace
    path = ctx.obj.get("workspace_path") if ctx.obj else None
    return Workspace.get(path) if path else Workspace.from_config()


@cli.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--name", default=None, help="Workspace name (default: the folder's name).")
@click.option("--store-url", default=None, help="SQLAlchemy URL of the run store (default: SQLite in the folder).")
def init(path: str, name: str | None, store_url: str | None) -> None:
    """Create a workspace in PATH/.runyard (or open the one there)."""
    from ..workspace import DEFAULT_FOLDER, Workspace
    folder = Path(path)
    target = folder if folder.name == DEFAULT_FOLDER else folder / DEFAULT_FOLDER
    existed = (target / "config.yaml").is_file()
    ws = Workspace.create(target, name=name, store_url=store_url)
    click.echo(f"{'Workspace exists' if existed else 'Created workspace'} {ws.name!r} at {ws.path}")


@cli.group()
def compute() -> None:
    """Compute targets of the workspace."""


@compute.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def compute_list(ctx: click.Context, as_json: bool) -> None:
    """List compute targets (``local`` is always there)."""
    targets = open_workspace(ctx).compute_targets
    rows = [t.describe() for t in targets.values()]
    if as_json:
        return print_json(rows)
    print_table("Compute targets", ["name", "type", "settings"],
                [(r["name"], r["type"], ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("name", "type")))
                 for r in rows])


@compute.command("attach")
@click.argument("kind", type=click.Choice(["docker"]))
@click.argument("name")
@click.option("--base-url", default=None, help="Docker engine URL (default: DOCKER_HOST or the local socket).")
@click.option("--cpus", type=float, default=None, help="CPUs per container.")
@click.option("--memory", default=None, help="Memory limit per container, e.g. 4g.")
@click.option("--shm-size", default=None, help="Shared memory per container, e.g. 2g.")
@click.option("--gpus", default=None, help="GPUs per container: a count, 'all', or devices ('0,1').")
@click.option("--network", default=None, help="Network mode of the containers (e.g. host).")
@click.option("--user", default=None, help="User in the container (default: runyard, not root).")
@click.option("--registry", default=None, help="Image registry to pull from and push to, e.g. 127.0.0.1:5000.")
@click.option("--default-base-image", default=None, help="Base image for environments that name none.")
@click.option("--build-network", "build_network_mode", default=None, help="Network mode of image builds.")
@click.option("--build-arg", "build_args", multiple=True, help="KEY=VALUE for image builds; repeatable.")
@click.option("--ca-bundle", default=None, help="A CA bundle to trust inside images (proxies).")
@click.option("--pip-index-url", default=None)
@click.option("--pip-extra-index-url", default=None)
@click.pass_context
def compute_attach(ctx: click.Context, kind: str, name: str, build_args: tuple[str, ...], **options) -> None:
    """Attach a compute target to the workspace under NAME."""
    from ..compute.docker import DockerCompute
    settings = {k: v for k, v in options.items() if v is not None}
    if options.get("gpus") is not None and str(options["gpus"]).isdigit():
        settings["gpus"] = int(options["gpus"])
    pairs = parse_pairs(build_args, "--build-arg")
    if pairs:
        settings["build_args"] = pairs
    target = open_workspace(ctx).compute_targets.attach(name, DockerCompute(**settings))
    target.client()  # say now if no engine answers; the target stays attached
    click.echo(f"Attached {kind} target {name!r}: {target.config}")


@compute.command("detach")
@click.argument("name")
@click.pass_context
def compute_detach(ctx: click.Context, name: str) -> None:
    """Remove a compute target from the workspace (runs already made keep their history)."""
    open_workspace(ctx).compute_targets.detach(name)
    click.echo(f"Detached {name!r}")


@cli.group()
def job() -> None:
    """Jobs described in YAML files (close to Azure ML CLI v2 command, sweep, AutoML and parallel jobs)."""


@job.command("submit")
@click.option("-f", "--file", "file_path", required=True, type=click.Path(dir_okay=False),
              help="The job YAML file.")
@click.option("-e", "--experiment", "experiment_name", default=None,
              help="Experiment (default: the file's experiment_name, else 'default').")
@click.option("--detach", is_flag=True, help="Print the run id and return without waiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's details as JSON at the end.")
@click.pass_context
def job_submit(ctx: click.Context, file_path: str, experiment_name: str | None, detach: bool, as_json: bool) -> None:
    """Submit a job file (a command job, a sweep or AutoML job whose trials run as child runs, or
    a parallel job) and stream its output (a sweep's: its driver's log, then its trials, best
    first; AutoML's: its leaderboard; a parallel job's: its mini batches that did not succeed)."""
    from ..config import ScriptRunConfig, load_job_file
    from ..experiment import Experiment
    ws = open_workspace(ctx)
    definition = load_job_file(file_path, workspace=ws)
    experiment = Experiment(ws, experiment_name or definition.experiment_name or "default")
    if isinstance(definition.config, ScriptRunConfig):
        run = experiment.submit(definition.config, tags=definition.tags, display_name=definition.display_name,
                                snapshot_progress=snapshot_progress())
        return finish_submission(run, detach, as_json)
    from ..pipeline.parallel_run_step import ParallelRunStep
    if isinstance(definition.config, ParallelRunStep):
        run = experiment.submit(definition.config, tags=definition.tags, display_name=definition.display_name)
        return finish_submission(run, detach, as_json, summary=_print_partitions)
    from .runs import print_leaderboard, print_trials, trials_json
    run = experiment.submit(definition.config, tags=definition.tags, display_name=definition.display_name)
    if run.type == "automl":
        return finish_submission(run, detach, as_json, summary=print_leaderboard,
                                 json_details=lambda automl: {**automl.get_details(),
                                                              "leaderboard": automl.get_leaderboard()})
    finish_submission(run, detach, as_json, summary=print_trials,
                      json_details=lambda sweep: {**sweep.get_details(), "trials": trials_json(sweep)})


def finish_submission(run, detach: bool, as_json: bool, *, summary=None, json_details=None) -> None:
    """Stream a submitted run (unless detached) and exit with a code that says how it ended.

    ``summary(run)`` prints the end (default: metrics and files); ``json_details(run)`` is what
    ``--json`` prints (default: ``run.get_details()``)."""
    if detach:
        if as_json:
            return print_json(json_details(run) if json_details else run.get_details())
        click.echo(run.id)
        return
    preparing = PreparingLine(run) if errors.is_terminal and not as_json else None
    try:
        details = run.wait_for_completion(show_output=not as_json, raise_on_error=False, output=preparing)
    except KeyboardInterrupt:
        if preparing:
            preparing.close()
        errors.print(f"\nStopped following; run {run.id} goes on. "
                     f"Follow it with: runyard run logs -f {run.id}   Stop it with: runyard run cancel {run.id}",
                     soft_wrap=True)  # the commands stay whole, to be copied
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if preparing:
            preparing.close()
    if as_json:
        print_json(json_details(run) if json_details else details)
    else:
        (summary or _print_summary)(run)
    if details["status"] == st.FAILED:
        sys.exit(1)
    if details["status"] == st.CANCELED:
        sys.exit(EXIT_CANCELED)


def _print_partitions(run) -> None:
    """A parallel job's end: its mini batches that did not succeed (the log's last line counts them all)."""
    from ..errors import ConfigError
    try:
        rows = run.get_partition_results()
    except ConfigError:  # it ended before planning its mini batches: its error says why
        return
    unfinished = [r for r in rows if r["status"] != "Succeeded"]
    if unfinished:
        print_table(f"Mini batches not succeeded ({len(unfinished)} of {len(rows)})",
                    ["mini batch", "status", "tries", "error"],
                    [(r["batch_id"], r["status"], r["tries"], (r["error"] or "").splitlines()[0] if r["error"] else "")
                     for r in unfinished])


def _print_summary(run) -> None:
    from ._output import format_metric
    metrics = run.get_metrics()
    if metrics:
        print_table("Metrics", ["name", "value"], [(k, format_metric(v)) for k, v in metrics.items()])
    files = run.get_file_names()
    if files:
        print_table("Files", ["name"], [(f,) for f in files])


def load_commands() -> click.Group:
    """``cli`` with every command group registered (their modules add them when imported;
    the documentation's CLI reference reads it too)."""
    from . import envs, migrate_azureml, models, pipelines, runs, schedules, serving, workspaces  # noqa: F401
    return cli


def main() -> None:
    load_commands()(prog_name="runyard")

