"""``runyard scheduler`` (fire the workspace's schedules) and ``runyard schedule ...`` (list,
show, disable, enable them)."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from ._output import print_json, print_table
from .main import cli, open_workspace


@cli.command("scheduler")
@click.option("-w", "--workspace", "workspace_path", default=None,
              help="Workspace folder or server URL (default: runyard's --workspace, else the nearest .runyard/).")
@click.option("--poll", "poll_s", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between passes over the schedules (default: 10).")
@click.option("--once", is_flag=True, help="One pass: fire what is due now, print it, exit "
                                           "(1 if a pipeline could not be submitted).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the firings as JSON.")
@click.pass_context
def scheduler(ctx: click.Context, workspace_path: str | None, poll_s: float | None, once: bool,
              as_json: bool) -> None:
    """Fire the workspace's schedules until stopped (SIGTERM or Ctrl-C).

    Several schedulers (or restarts) never fire a slot twice: each firing is claimed in
    the workspace's store first. `runyard server` runs one too, unless --no-scheduler.
    """
    from ..pipeline.scheduler import DEFAULT_POLL_S, Scheduler
    if workspace_path is not None:
        ctx.obj["workspace_path"] = workspace_path
    ws = open_workspace(ctx)
    if not once:
        Scheduler(ws).run_forever(poll_s or DEFAULT_POLL_S)
        return
    fired = Scheduler(ws, log=lambda message: None).tick()
    if as_json:
        print_json(fired)
    else:
        for record in fired:
            outcome = f"run {record['run_id']}" if record["run_id"] else f"not submitted: {record['error']}"
            click.echo(f"{record['name']} ({record['schedule_id']}) slot {record['slot']}: {outcome}")
        if not fired:
            click.echo("nothing due")
    if any(record["error"] for record in fired):
        sys.exit(1)


@cli.group()
def schedule() -> None:
    """Schedules of published pipelines: list, show, disable, enable."""


def _get(ctx: click.Context, schedule_id: str):
    from ..pipeline.schedule import Schedule
    return Schedule.get(open_workspace(ctx), schedule_id)


def _trigger(s: Any) -> str:
    if s.recurrence is None:
        return f"files in {s.watched_folder} (every {s.polling_interval:g} min)"
    r = s.recurrence
    text = f"every {r.interval} {r.frequency.lower()}{'s' if r.interval > 1 else ''}"
    if r.week_days:
        text += " on " + ", ".join(d[:3] for d in r.week_days)
    if r.time_of_day:
        text += f" at {r.time_of_day}"
    elif r.hours is not None or r.minutes is not None:
        text += f" at hours {r.hours if r.hours is not None else 'all'} minutes {r.minutes or [0]}"
    return text + (f" ({r.time_zone})" if r.time_zone != "UTC" else "")


def _describe(s: Any) -> dict[str, Any]:
    next_slot = s.next_slot() if s.status == "Active" else None
    return {"id": s.id, "name": s.name, "status": s.status, "description": s.description,
            "pipeline_id": s.pipeline_id, "pipeline_endpoint_id": s.pipeline_endpoint_id,
            "experiment_name": s.experiment_name, "pipeline_parameters": s.pipeline_parameters,
            "recurrence": s.recurrence.to_dict() if s.recurrence else None,
            "datastore_name": s.datastore_name,
            "watched_folder": str(s.watched_folder) if s.watched_folder else None,
            "polling_interval": s.polling_interval, "data_path_parameter_name": s.data_path_parameter_name,
            "next_slot": next_slot.isoformat() if next_slot else None, "trigger": _trigger(s)}


@schedule.command("list")
@click.option("--all", "include_disabled", is_flag=True, help="Include disabled schedules.")
@click.option("--pipeline-id", default=None, help="Only schedules of this published pipeline.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def schedule_list(ctx: click.Context, include_disabled: bool, pipeline_id: str | None, as_json: bool) -> None:
    """List schedules (the active ones, unless --all)."""
    from ..pipeline.schedule import Schedule
    ws = open_workspace(ctx)
    described = [_describe(s) for s in Schedule.list(ws, active_only=not include_disabled, pipeline_id=pipeline_id)]
    if as_json:
        return print_json(described)
    print_table(f"Schedules in {ws.name}", ["id", "name", "status", "trigger", "next (UTC)"],
                [(d["id"], d["name"], d["status"], d["trigger"], (d["next_slot"] or "")[:16].replace("T", " "))
                 for d in described])


@schedule.command("show")
@click.argument("schedule_id")
@click.option("--firings", "firing_count", default=20, show_default=True, type=int,
              help="How many of the latest firings to show.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def schedule_show(ctx: click.Context, schedule_id: str, firing_count: int, as_json: bool) -> None:
    """A schedule's settings and its latest firings."""
    s = _get(ctx, schedule_id)
    described = _describe(s)
    firings = s.get_firings()[-firing_count:] if firing_count > 0 else []
    if as_json:
        return print_json({**described, "firings": firings})
    print_table(f"Schedule {s.name}", ["field", "value"],
                [(k, v) for k, v in described.items() if v not in (None, {}, [])])
    print_table("Firings", ["slot", "fired", "run id", "error"],
                [(f["slot"], time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(f["fired_at"])), f["run_id"] or "",
                  f["error"] or "") for f in firings])


@schedule.command("disable")
@click.argument("schedule_id")
@click.pass_context
def schedule_disable(ctx: click.Context, schedule_id: str) -> None:
    """Stop a schedule firing (slots that pass meanwhile are not fired later)."""
    s = _get(ctx, schedule_id)
    s.disable()
    click.echo(f"{s.name} ({s.id}): {s.status}")


@schedule.command("enable")
@click.argument("schedule_id")
@click.pass_context
def schedule_enable(ctx: click.Context, schedule_id: str) -> None:
    """Make a schedule fire again, from now on."""
    s = _get(ctx, schedule_id)
    s.enable()
    click.echo(f"{s.name} ({s.id}): {s.status}")
