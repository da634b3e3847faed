"""``runyard model ...``: list, show, register and download registered models."""

from __future__ import annotations

import click

from ._output import console, print_json, print_table
from .main import cli, open_workspace, parse_pairs


@cli.group()
def model() -> None:
    """Registered models: list, show, register, download."""


def _get(ctx: click.Context, ref: str):
    """NAME (the latest version) or NAME:VERSION."""
    from ..model import Model
    name, _, version = ref.partition(":")
    return Model(open_workspace(ctx), name, version=version or None)


def _tag_filters(values: tuple[str, ...]) -> list:
    """--tag KEY (must be set) or KEY=VALUE, as Model.list's filter."""
    return [value.split("=", 1) if "=" in value else value for value in values]


@model.command("list")
@click.option("--name", default=None, help="Only versions of this model.")
@click.option("--tag", "tags", multiple=True, help="KEY or KEY=VALUE the model must have; repeatable.")
@click.option("--run", "run_id", default=None, help="Only models registered from this run.")
@click.option("--latest", is_flag=True, help="Only each model's latest version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def model_list(ctx: click.Context, name: str | None, tags: tuple[str, ...], run_id: str | None, latest: bool,
               as_json: bool) -> None:
    """Registered models, by name then version."""
    from ..model import Model
    models = Model.list(open_workspace(ctx), name=name, tags=_tag_filters(tags), run_id=run_id, latest=latest)
    if as_json:
        return print_json([m.serialize() for m in models])
    print_table("Models", ["name", "version", "framework", "run", "created", "tags"],
                [(m.name, m.version, m.model_framework, m.run_id, m.created_time.strftime("%Y-%m-%d %H:%M"),
                  ", ".join(f"{k}={v}" for k, v in m.tags.items())) for m in models])


@model.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def model_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """A model version, its lineage and files: NAME (the latest) or NAME:VERSION."""
    data = _get(ctx, ref).serialize()
    if as_json:
        return print_json(data)
    import yaml
    console.print(yaml.safe_dump(data, sort_keys=False), highlight=False)


@model.command("register")
@click.argument("path")
@click.option("--name", required=True, help="The model's name.")
@click.option("--run", "run_id", default=None,
              help="Register a file or folder of this run: PATH is then its name in the run, e.g. outputs/model.pkl.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE; repeatable.")
@click.option("--property", "properties", multiple=True, help="KEY=VALUE (write-once); repeatable.")
@click.option("--description", default=None)
@click.option("--framework", default=None, help="e.g. ScikitLearn, PyTorch, TensorFlow, Onnx, Custom.")
@click.option("--framework-version", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the registered model as JSON.")
@click.pass_context
def model_register(ctx: click.Context, path: str, name: str, run_id: str | None, tags: tuple[str, ...],
                   properties: tuple[str, ...], description: str | None, framework: str | None,
                   framework_version: str | None, as_json: bool) -> None:
    """Register a local file or folder (or, with --run, a run's) as the next version of --name."""
    from ..model import Model
    ws = open_workspace(ctx)
    options = {"tags": parse_pairs(tags, "--tag"), "properties": parse_pairs(properties, "--property"),
               "description": description, "model_framework": framework,
               "model_framework_version": framework_version}
    if run_id:
        registered = ws.get_run(run_id).register_model(name, path, **options)
    else:
        registered = Model.register(ws, path, name, **options)
    if as_json:
        return print_json(registered.serialize())
    click.echo(registered.id)


@model.command("download")
@click.argument("ref")
@click.option("-o", "--output", "target_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the model's file or folder into.")
@click.option("--exist-ok", is_flag=True, help="Replace the model's file or folder if it is there.")
@click.pass_context
def model_download(ctx: click.Context, ref: str, target_dir: str, exist_ok: bool) -> None:
    """Write a model's file or folder into --output: NAME (the latest) or NAME:VERSION."""
    click.echo(_get(ctx, ref).download(target_dir, exist_ok=exist_ok))
