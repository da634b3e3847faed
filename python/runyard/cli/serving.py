"""``runyard server`` and ``runyard studio``: a workspace over HTTP, with the studio's UI.

Both serve the same app (``runyard.studio.server``): the REST API under ``/api/v1`` and the
studio at ``/``. ``server`` is the shared, long-running one (it also fires schedules);
``studio`` is the one a user opens on a workspace for a while, as ``mlflow ui``.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from ..errors import ConfigError
from .main import cli, open_workspace

_STORE_HELP = "SQLAlchemy URL of the run store, e.g. postgresql://user@db/runyard (default: the workspace's)."
_ARTIFACTS_HELP = "Folder for the runs' files (default: the workspace's)."


def served_workspace(ctx: click.Context, workspace: str | None, store_url: str | None,
                     artifacts_dir: str | None) -> tuple[str, str, str | None, Path | None, Path | None]:
    """(store URL, artifacts folder, the workspace's name, the designer's folder, the snapshots'
    folder): as given,
    else the workspace's — ``workspace`` or the one every command finds (``-w``,
    RUNYARD_WORKSPACE, the nearest ``.runyard/``), whose designer pipelines go to ``designer/``
    of its project folder (beside ``.runyard/``)."""
    if (store_url is None) != (artifacts_dir is None):
        given, missing = ("--store", "--artifacts") if store_url else ("--artifacts", "--store")
        raise ConfigError(f"{given} needs {missing} too (or give neither to serve the workspace folder)")
    if store_url is not None:
        if workspace is not None:
            raise ConfigError(f"give either a WORKSPACE folder ({workspace!r}) or --store and --artifacts, not both")
        return store_url, artifacts_dir, None, None, None
    from ..workspace import Workspace
    ws = Workspace.get(workspace) if workspace is not None else open_workspace(ctx)
    if ws.url is not None:
        raise ConfigError(f"the workspace is served by {ws.url} already, with its studio at {ws.url}/; "
                          f"runyard serves a workspace folder or a database")
    # the folder's own snapshots: those of runs started here, and those uploaded over HTTP
    return ws.store_url, str(ws._artifacts.root), ws.name, ws.path.parent / "designer", ws.snapshots_dir


def _serve(store_url: str, artifacts_dir: str, *, host: str, port: int, token: str | None, name: str,
           banner: str, open_browser: bool = False, **options: Any) -> None:
    """Serve the app (``options``: the scheduler's, the designer's and the snapshots' folders, as
    ``serve`` takes them) and print ``banner`` once it listens."""
    try:
        from ..studio.server import serve
    except ImportError as e:
        from ..errors import missing_dependency
        raise missing_dependency(getattr(e, "name", None) or "fastapi", "server") from e

    def ready(url: str) -> None:
        # the studio's address carries the token, which the page keeps and takes out of the
        # address bar (as Jupyter prints its URL): opening it asks for nothing
        studio = f"{url}/" + (f"?token={quote(token, safe='')}" if token else "")
        click.echo(banner.format(url=url, name=name, studio=studio), nl=True)
        if open_browser:
            webbrowser.open(studio)

    serve(store_url, artifacts_dir, host=host, port=port, token=token or None, name=name, on_ready=ready,
          **options)


def _listen_options(default_port: int):
    def decorate(command):
        for option in reversed([
            click.option("--host", default="127.0.0.1", show_default=True,
                         help="Address to listen on; any but loopback needs --token."),
            click.option("--port", default=default_port, show_default=True, type=click.IntRange(1, 65535)),
            click.option("--token", envvar="RUNYARD_TOKEN", default=None,
                         help="Clients must send 'Authorization: Bearer TOKEN' (default: RUNYARD_TOKEN); the "
                              "studio asks for it once."),
        ]):
            command = option(command)
        return command
    return decorate


@cli.command()
@click.option("--store", "store_url", default=None, help=_STORE_HELP)
@click.option("--artifacts", "artifacts_dir", default=None, type=click.Path(file_okay=False), help=_ARTIFACTS_HELP)
@_listen_options(8000)
@click.option("--name", default=None, help="Workspace name clients see (default: the workspace's, else 'workspace').")
@click.option("--no-scheduler", is_flag=True, help="Do not fire the workspace's schedules here (run "
                                                   "`runyard scheduler` elsewhere).")
@click.option("--scheduler-poll", "scheduler_poll_s", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between the scheduler's passes (default: 10).")
@click.pass_context
def server(ctx: click.Context, store_url: str | None, artifacts_dir: str | None, host: str, port: int,
           token: str | None, name: str | None, no_scheduler: bool, scheduler_poll_s: float | None) -> None:
    """Serve a workspace's run history and files over HTTP (Workspace.get("http://HOST:PORT")),
    with the studio at its address, and fire its schedules. Without --store and --artifacts it
    serves the workspace folder every command finds."""
    store_url, artifacts_dir, found, designer_dir, snapshots_dir = served_workspace(ctx, None, store_url, artifacts_dir)
    _serve(store_url, artifacts_dir, host=host, port=port, token=token, name=name or found or "workspace",
           designer_dir=designer_dir, snapshots_dir=snapshots_dir,
           banner="Serving workspace {name!r} at {url} (studio: {url}/, API: {url}/api/v1, "
                  "schema: {url}/openapi.json)",
           scheduler=not no_scheduler, scheduler_poll_s=scheduler_poll_s)


@cli.command()
@click.argument("workspace", required=False)
@click.option("--store-url", "store_url", default=None, help="Open this run store instead of a folder's "
                                                             "(with --artifacts).")
@click.option("--artifacts", "artifacts_dir", default=None, type=click.Path(file_okay=False),
              help="The runs' files, with --store-url.")
@_listen_options(5000)
@click.option("--open", "open_browser", is_flag=True, help="Open the studio in the default browser.")
@click.pass_context
def studio(ctx: click.Context, workspace: str | None, store_url: str | None, artifacts_dir: str | None,
           host: str, port: int, token: str | None, open_browser: bool) -> None:
    """Open the studio on WORKSPACE (a workspace folder, or a project folder holding .runyard/;
    default: the one every command finds) and serve it until Ctrl-C. A workspace server
    (http://...) serves its studio itself: its address is printed."""
    from ..workspace import is_server_url
    if workspace is not None and is_server_url(workspace):
        url = workspace.rstrip("/")
        click.echo(f"The workspace server at {url} serves its studio: {url}/")
        if open_browser:
            webbrowser.open(f"{url}/")
        return
    store_url, artifacts_dir, found, designer_dir, snapshots_dir = served_workspace(ctx, workspace, store_url,
                                                                                   artifacts_dir)
    _serve(store_url, artifacts_dir, host=host, port=port, token=token, name=found or "workspace",
           designer_dir=designer_dir, snapshots_dir=snapshots_dir,
           banner="Studio of workspace {name!r} at {studio} (Ctrl-C stops it)", open_browser=open_browser,
           scheduler=False)


__all__ = ["server", "studio", "served_workspace"]
