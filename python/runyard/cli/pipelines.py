"""``runyard pipeline ...``: submit a pipeline file or a published pipeline, validate a file,
publish one, list the published ones, show a pipeline run's steps."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import ConfigError
from ..pipeline.data import PipelineParameter
from ._output import console, format_metric, print_json, print_table
from .main import cli, finish_submission, open_workspace, parse_pairs


@cli.group()
def pipeline() -> None:
    """Pipelines described in YAML files (close to Azure ML CLI v2 pipeline jobs)."""


@pipeline.command("submit")
@click.argument("name", required=False)
@click.option("-f", "--file", "file_path", default=None, type=click.Path(dir_okay=False),
              help="The pipeline YAML file.")
@click.option("-e", "--experiment", "experiment_name", default=None,
              help="Experiment (default: the file's experiment_name, else 'default').")
@click.option("-p", "--param", "params", multiple=True,
              help="NAME=VALUE for a pipeline input (parameter), read as its default's type; repeatable.")
@click.option("--regenerate-outputs", is_flag=True,
              help="Run every step again, reusing none (also the file's settings.force_rerun).")
@click.option("--detach", is_flag=True, help="Print the run id and return without waiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's details and steps as JSON at the end.")
@click.pass_context
def pipeline_submit(ctx: click.Context, name: str | None, file_path: str | None, experiment_name: str | None,
                    params: tuple[str, ...], regenerate_outputs: bool, detach: bool, as_json: bool) -> None:
    """Submit the pipeline in a file (-f pipeline.yml), or the published pipeline NAME (an id
    works too; NAME:N for its N-th publication), and follow its driver's log.

    Examples: runyard pipeline submit -f examples/pipeline-diabetes/pipeline.yml --param alpha=0.1
              runyard pipeline submit diabetes-nightly --param alpha=0.1
    """
    if (name is None) == (file_path is None):
        raise ConfigError("give -f FILE or a published pipeline's NAME, not both" if name else
                          "give the pipeline file: runyard pipeline submit -f pipeline.yml")
    ws = open_workspace(ctx)
    values = parse_pairs(params, "--param")
    if name is not None:
        run = _submit_published(ws, name, experiment_name=experiment_name, parameters=values,
                                regenerate_outputs=regenerate_outputs)
    else:
        from ..experiment import Experiment
        from ..pipeline.yaml_spec import load_pipeline_file
        loaded = load_pipeline_file(file_path, ws)
        parameters = parameter_values(loaded.pipeline.parameters, values, source=file_path)
        experiment = Experiment(ws, experiment_name or loaded.experiment_name or "default")
        run = experiment.submit(loaded.pipeline, tags=loaded.tags, display_name=loaded.display_name,
                                pipeline_parameters=parameters,
                                regenerate_outputs=regenerate_outputs or loaded.force_rerun)
    finish_submission(run, detach, as_json, summary=_print_steps, json_details=_run_json)


def _submit_published(ws, name: str, *, experiment_name: str | None, parameters: dict[str, str],
                      regenerate_outputs: bool):
    """Submit the published pipeline ``name`` (or id, or ``name:N``); ``parameters`` are text,
    read as the kind of each parameter's default."""
    published = _published(ws, name)
    known = {n: PipelineParameter(n, v) for n, v in published.parameters.items()}
    values = parameter_values(known, parameters, source=f"published pipeline {published.name!r}")
    return published.submit(ws, experiment_name or published.name, pipeline_parameters=values,
                            regenerate_outputs=regenerate_outputs)


def _published(ws, name: str):
    from ..errors import NotFoundError
    from ..pipeline.published import PublishedPipeline
    if ws._store.get_asset_by_id(name) is not None:
        return PublishedPipeline.get(ws, name)
    base, _, number = name.rpartition(":")
    if base and number.isdigit():
        return PublishedPipeline.get_by_name(ws, base, int(number))
    try:
        return PublishedPipeline.get_by_name(ws, name)
    except NotFoundError as e:
        raise ConfigError(str(e)) from e


def parameter_values(known: dict[str, Any], values: dict[str, str], source: str) -> dict[str, Any]:
    """``--param`` texts as values of the kind of each parameter's default; an unknown name
    is an error listing the pipeline's parameters."""
    from ..pipeline.yaml_spec import parse_parameter
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"--param {unknown[0]}: {source} has no input (parameter) {unknown[0]!r}; its inputs: "
                          f"{', '.join(sorted(known)) or 'none'}")
    return {key: parse_parameter(known[key], text, what=f"--param {key}") for key, text in values.items()}


@pipeline.command("publish")
@click.argument("name")
@click.option("-f", "--file", "file_path", required=True, type=click.Path(dir_okay=False),
              help="The pipeline YAML file to publish.")
@click.option("--description", default=None, help="What it does (default: the file's description).")
@click.option("--version", "version", default=None, help="A version label of your own, e.g. 1.2.")
@click.option("--json", "as_json", is_flag=True, help="Print the published pipeline as JSON.")
@click.pass_context
def pipeline_publish(ctx: click.Context, name: str, file_path: str, description: str | None, version: str | None,
                     as_json: bool) -> None:
    """Publish the pipeline in a file as NAME: its sources are snapshotted now, and
    `runyard pipeline submit NAME`, schedules and the server's REST API run it later."""
    from ..pipeline.yaml_spec import load_pipeline_file
    loaded = load_pipeline_file(file_path, open_workspace(ctx))
    published = loaded.pipeline.publish(name, description=description, version=version)
    if as_json:
        return print_json(_published_json(published))
    click.echo(f"published {published.name!r} as id {published.id} "
               f"({len(published.step_names)} steps; parameters: "
               f"{', '.join(f'{k}={v!r}' for k, v in published.parameters.items()) or 'none'})")


@pipeline.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the disabled ones.")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@click.pass_context
def pipeline_list(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """The published pipelines of the workspace, oldest first."""
    from ..pipeline.published import PublishedPipeline
    found = PublishedPipeline.list(open_workspace(ctx), active_only=not show_all)
    if as_json:
        return print_json([_published_json(p) for p in found])
    print_table("published pipelines", ["name", "id", "version", "status", "steps", "parameters"],
                [[p.name, p.id, p.version or "", p.status, str(len(p.step_names)),
                  ", ".join(f"{k}={v!r}" for k, v in p.parameters.items())] for p in found])


@pipeline.command("disable")
@click.argument("name")
@click.pass_context
def pipeline_disable(ctx: click.Context, name: str) -> None:
    """Refuse submissions of a published pipeline (NAME or id) until `enable`."""
    _published(open_workspace(ctx), name).disable()


@pipeline.command("enable")
@click.argument("name")
@click.pass_context
def pipeline_enable(ctx: click.Context, name: str) -> None:
    """Accept submissions of a published pipeline (NAME or id) again."""
    _published(open_workspace(ctx), name).enable()


def _published_json(published) -> dict[str, Any]:
    return {"id": published.id, "name": published.name, "version": published.version,
            "description": published.description, "status": published.status, "steps": published.step_names,
            "parameters": published.parameters, "endpoint": published.endpoint}


@pipeline.command("validate")
@click.option("-f", "--file", "file_path", required=True, type=click.Path(dir_okay=False),
              help="The pipeline YAML file.")
@click.option("--json", "as_json", is_flag=True, help="Print the steps and parameters as JSON.")
@click.pass_context
def pipeline_validate(ctx: click.Context, file_path: str, as_json: bool) -> None:
    """Check a pipeline file as submitting it would, without running anything."""
    from ..pipeline.yaml_spec import load_pipeline_file
    loaded = load_pipeline_file(file_path, open_workspace(ctx))
    definition = loaded.definition
    steps = [{"name": s["name"], "kind": s["kind"], "upstream": s["upstream"], "target": s["job"]["target"],
              "inputs": [i["name"] for i in s["inputs"]], "outputs": s["outputs"], "allowReuse": s["allow_reuse"]}
             for s in definition["steps"]]
    if as_json:
        return print_json({"file": file_path, "valid": True, "description": definition["description"],
                           "experimentName": loaded.experiment_name, "parameters": definition["parameters"],
                           "maxConcurrentSteps": definition["max_concurrent_steps"], "steps": steps})
    print_table(f"Pipeline {file_path}", ["step", "kind", "after", "target", "inputs", "outputs"],
                [(s["name"], s["kind"], ", ".join(s["upstream"]), s["target"], ", ".join(s["inputs"]),
                  ", ".join(s["outputs"])) for s in steps])
    if definition["parameters"]:
        print_table("Parameters", ["name", "default"], definition["parameters"].items())
    click.echo(f"{file_path}: valid ({len(steps)} steps)")


@pipeline.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def pipeline_show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """A pipeline run and its steps: status, run, the run it reused, duration."""
    from ..run import Run
    run = Run.get(open_workspace(ctx), run_id)
    if run.type != "pipeline":
        raise ConfigError(f"run {run_id} is a {run.type} run, not a pipeline run; see it with: "
                          f"runyard run show {run_id}")
    data = _run_json(run)
    if as_json:
        return print_json(data)
    rows = [(f, data.get(f)) for f in ("runId", "experimentName", "displayName", "status", "startTimeUtc",
                                       "endTimeUtc", "durationSeconds")]
    if data["parameters"]:
        rows.append(("parameters", ", ".join(f"{k}={v}" for k, v in data["parameters"].items())))
    print_table(f"Pipeline run {run_id}", ["field", "value"], rows)
    _print_steps(run, data["steps"])
    if data["error"]:
        console.print(f"[bold red]Error:[/] {data['error']['message']}", highlight=False)


def _steps(run) -> list[dict[str, Any]]:
    """The pipeline's steps in its order, with the run each became (none yet: NotStarted)."""
    from ..pipeline.progress import pipeline_steps
    return [{"name": s["name"], "status": s["status"], "runId": s["run_id"], "reusedRunId": s["reused_run_id"],
             "durationSeconds": s["duration_seconds"], "error": s["error"]}
            for s in pipeline_steps(run._store(), run.id)]


def _run_json(run) -> dict[str, Any]:
    details = run.get_details()
    definition = json.loads(run._row["definition"]) if run._row["definition"] else {}
    return {**details, "parameters": definition.get("parameters", {}),
            "regenerateOutputs": bool(definition.get("regenerate_outputs")), "steps": _steps(run)}


def _print_steps(run, steps: list[dict[str, Any]] | None = None) -> None:
    """The steps, then the metrics they logged (a reused step shows those of the run it reused)."""
    from ..run import Run
    steps = _steps(run) if steps is None else steps
    print_table("Steps", ["step", "status", "run id", "reused run", "duration"],
                [(s["name"], s["status"], s["runId"], s["reusedRunId"] or "",
                  "reused" if s["reusedRunId"] else _duration(s["durationSeconds"])) for s in steps])
    metrics = [(s["name"], name, format_metric(value)) for s in steps if s["runId"]
               for name, value in Run.get(run.workspace, s["runId"]).get_metrics().items()]
    if metrics:
        print_table("Metrics", ["step", "name", "value"], metrics)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"
