"""``runyard env ...``: list, show, register and build environments."""

from __future__ import annotations

import io
import sys
import threading

import click

from ..errors import ConfigError
from ._output import console, print_json, print_table
from .main import cli, open_workspace


@cli.group()
def env() -> None:
    """Environments: list, show, register, build."""


def _resolve(ctx: click.Context, ref: str | None, file_path: str | None):
    from ..environment import Environment
    if bool(ref) == bool(file_path):
        raise ConfigError("give an environment NAME[:VERSION] or --file, not both or neither")
    if file_path:
        return Environment.from_file(file_path)
    name, _, version = ref.partition(":")
    return Environment.get(open_workspace(ctx), name, version or None)


@env.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def env_list(ctx: click.Context, as_json: bool) -> None:
    """Registered environments (every version)."""
    rows = open_workspace(ctx)._store.list_environments()
    if as_json:
        return print_json([{"name": r["name"], "version": r["version"], "hash": r["hash"]} for r in rows])
    print_table("Environments", ["name", "version", "hash"], [(r["name"], r["version"], r["hash"][:16]) for r in rows])


@env.command("show")
@click.argument("ref", required=False)
@click.option("-f", "--file", "file_path", default=None, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def env_show(ctx: click.Context, ref: str | None, file_path: str | None, as_json: bool) -> None:
    """An environment's spec and hash: a registered NAME[:VERSION] or --file."""
    environment = _resolve(ctx, ref, file_path)
    data = {**environment.model_dump(mode="json"), "hash": environment.hash}
    if as_json:
        return print_json(data)
    import yaml
    console.print(yaml.safe_dump(data, sort_keys=False), highlight=False)


@env.command("register")
@click.option("-f", "--file", "file_path", required=True, type=click.Path(dir_okay=False))
@click.option("--name", default=None, help="Name to register under (default: from the file).")
@click.pass_context
def env_register(ctx: click.Context, file_path: str, name: str | None) -> None:
    """Register an environment file in the workspace (a changed spec gets a new version)."""
    from ..environment import Environment
    environment = Environment.from_file(file_path, name=name).register(open_workspace(ctx))
    click.echo(f"{environment.name}:{environment.version} ({environment.hash[:16]})")


@env.command("build")
@click.argument("ref", required=False)
@click.option("-f", "--file", "file_path", default=None, type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="Print the whole build log.")
@click.pass_context
def env_build(ctx: click.Context, ref: str | None, file_path: str | None, verbose: bool) -> None:
    """Materialise an environment on the local target now (runs then start without building)."""
    from ..compute.local_env import materialise
    environment = _resolve(ctx, ref, file_path)
    environment.validate_for_build()
    log = _SpinnerLog(verbose)
    with console.status(f"Building environment {environment.name!r}...") as status:
        log.status = status
        prepared = materialise(environment, log)
    state = "cached" if prepared.cache_hit else "built"
    click.echo(f"{environment.name} ({environment.hash[:12]}) {state}: {prepared.python}")


class _SpinnerLog(io.TextIOBase):
    """A text stream that shows the latest build line beside the spinner."""

    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.status = None
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            if self.verbose:
                sys.stderr.write(text)
            line = text.strip().splitlines()[-1] if text.strip() else ""
            if self.status is not None and line:
                self.status.update(f"Building: {line[:100]}")
        return len(text)
