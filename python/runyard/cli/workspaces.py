"""``runyard workspace ...``: move a workspace folder into a shared database and folder."""

from __future__ import annotations

import time

import click

from ._output import errors, print_json, print_table
from .main import cli

_PROGRESS_EVERY_S = 1.0


@cli.group()
def workspace() -> None:
    """Workspaces: migrate a folder into a database a server serves."""


@workspace.command("migrate")
@click.option("--from", "source", required=True, type=click.Path(),
              help="The workspace folder (or a project folder holding .runyard/).")
@click.option("--to", "store_url", required=True,
              help="SQLAlchemy URL of the target run store, e.g. postgresql://user@db/runyard.")
@click.option("--artifacts", "artifacts_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the runs' files and snapshots (the server's --artifacts).")
@click.option("--include-active", is_flag=True,
              help="Also copy runs that have not ended, as they are now.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def workspace_migrate(source: str, store_url: str, artifacts_dir: str, include_active: bool,
                      as_json: bool) -> None:
    """Copy a workspace folder's runs, metrics, files and snapshots into a database and a folder.

    Safe to run again: runs already in the target are skipped. Serve the result with
    runyard server --store URL --artifacts DIR.
    """
    from ..migrate import KINDS, migrate_workspace
    summary = migrate_workspace(source, store_url, artifacts_dir, include_active=include_active,
                                progress=_progress())
    if as_json:
        return print_json(summary.to_dict())
    print_table(f"Migrated {summary.source} to {summary.target}", ["", "copied", "skipped"],
                [(kind.replace("_", " "), summary.copied[kind], summary.skipped[kind]) for kind in KINDS])
    if summary.skipped_runs:
        click.echo(f"{len(summary.skipped_runs)} run(s) were in the target already and were skipped.")
    for line in summary.left_out:
        click.echo(line, err=True)
    click.echo(f"Verified. Serve it with: runyard server --store '{summary.target}' "
               f"--artifacts '{summary.artifacts}'")


def _progress():
    """Runs copied so far, on stderr, at most once a second (and at the end)."""
    last = [0.0]

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= _PROGRESS_EVERY_S:
            last[0] = now
            errors.print(f"runs: {done}/{total}", highlight=False)

    return update
