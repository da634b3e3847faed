"""``runyard env ...``: list, show, register and build environments."""

from __future__ import annotations

import click

from ..errors import ConfigError
from ._output import console, print_json, print_table
from ._progress import BuildProgress
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
@click.option("--curated", is_flag=True, help="The estimators' curated environments (registered on first use).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def env_list(ctx: click.Context, curated: bool, as_json: bool) -> None:
    """Registered environments (every version)."""
    if curated:
        from ..estimators.curated import all_curated
        envs = all_curated()
        packages = [", ".join(e.python.conda_dependencies.pip_packages) for e in envs]
        if as_json:
            return print_json([{"name": e.name, "hash": e.hash, "pip_packages": e.python.conda_dependencies.pip_packages}
                               for e in envs])
        return print_table("Curated environments", ["name", "packages", "hash"],
                           [(e.name, p, e.hash[:16]) for e, p in zip(envs, packages)])
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
@click.option("--target", "target_name", default="local", show_default=True,
              help="Build for this compute target: a virtualenv for local, an image for docker.")
@click.option("-v", "--verbose", is_flag=True, help="Print the whole build log.")
@click.pass_context
def env_build(ctx: click.Context, ref: str | None, file_path: str | None, target_name: str, verbose: bool) -> None:
    """Materialise an environment now (runs then start without building)."""
    environment = _resolve(ctx, ref, file_path)
    environment.validate_for_build()
    target = open_workspace(ctx).get_compute_target(target_name)
    with BuildProgress(environment.name, _expected_steps(environment, target.type), verbose) as log:
        prepared = target.prepare(environment, log)
    if target.type == "local":
        state = "cached" if prepared.cache_hit else "built"
        click.echo(f"{environment.name} ({environment.hash[:12]}) {state}: {prepared.python}")
    else:
        click.echo(f"{environment.name} ({environment.hash[:12]}) on {target.name}: {prepared}")


def _docker_target(ctx: click.Context, name: str | None):
    from ..compute.docker import DockerCompute
    if name is None:
        return DockerCompute()
    target = open_workspace(ctx).get_compute_target(name)
    if target.type != "docker":
        raise ConfigError(f"compute target {name!r} is {target.type}, not docker")
    return target


@env.command("images")
@click.option("--target", "target_name", default=None, help="A docker target (default: the local engine).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def env_images(ctx: click.Context, target_name: str | None, as_json: bool) -> None:
    """Environment images on a Docker engine: hash, environment, size, last used."""
    from ..compute.docker_images import IMAGE_REPOSITORY, last_used
    client = _docker_target(ctx, target_name).client()
    used = last_used()
    rows = []
    for image in client.images.list(name=IMAGE_REPOSITORY):
        for tag in image.tags:
            if tag.startswith(IMAGE_REPOSITORY + ":"):
                labels = image.labels or {}
                rows.append({"tag": tag, "hash": tag.split(":", 1)[1],
                             "environment": labels.get("runyard.environment.name"),
                             "size_mb": round(image.attrs.get("Size", 0) / 1e6, 1),
                             "created": image.attrs.get("Created", "")[:19],
                             "last_used": _when(used.get(tag))})
    if as_json:
        return print_json(rows)
    print_table("Environment images", ["hash", "environment", "size (MB)", "created", "last used"],
                [(r["hash"][:16], r["environment"], r["size_mb"], r["created"], r["last_used"]) for r in rows])


@env.command("prune")
@click.option("--target", "target_name", default=None, help="A docker target (default: the local engine).")
@click.option("--unused-days", type=float, default=30, show_default=True,
              help="Remove images not used for this many days (by age, for images this cache did not use).")
@click.option("--all", "remove_all", is_flag=True, help="Remove every environment image.")
@click.option("--dry-run", is_flag=True, help="Only list what would go.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the images removed (or, with --dry-run, to remove) as JSON.")
@click.pass_context
def env_prune(ctx: click.Context, target_name: str | None, unused_days: float, remove_all: bool,
              dry_run: bool, as_json: bool) -> None:
    """Remove environment images that were not used lately (they are rebuilt when needed)."""
    import time
    import docker.errors
    from ..compute.docker_images import IMAGE_REPOSITORY, forget, last_used
    client = _docker_target(ctx, target_name).client()
    used = last_used()
    cutoff = time.time() - unused_days * 86400
    removed = []
    for image in client.images.list(name=IMAGE_REPOSITORY):
        for tag in [t for t in image.tags if t.startswith(IMAGE_REPOSITORY + ":")]:
            if remove_all or used.get(tag, _created(image)) < cutoff:
                if not as_json:
                    click.echo(("would remove " if dry_run else "removing ") + tag)
                if not dry_run:
                    try:
                        client.images.remove(tag)
                    except docker.errors.APIError as e:
                        click.echo(f"{tag} kept: {e.explanation or e}", err=True)
                        continue
                    forget(tag)
                removed.append({"tag": tag, "hash": tag.split(":", 1)[1], "removed": not dry_run})
    if as_json:
        return print_json(removed)
    click.echo(f"{len(removed)} image(s) {'to remove' if dry_run else 'removed'}")


def _created(image) -> float:
    """When the engine made ``image``. Last use is recorded per cache folder (RUNYARD_CACHE_DIR),
    so an image another cache built or used counts as used when it was made."""
    from datetime import datetime, timezone
    created = (image.attrs.get("Created") or "")[:19]  # "2025-01-02T03:04:05.123456789Z"
    if not created:
        return 0.0
    return datetime.strptime(created, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def _when(timestamp: float | None) -> str:
    import time
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "never (by runyard)"


def _expected_steps(environment, target_type: str) -> int | None:
    """Commands a local build runs (uv venv, then each install); unknown elsewhere."""
    if target_type != "local" or environment.python.user_managed_dependencies or environment.r is not None:
        return None
    return 1 + max(1, len(environment.python.conda_dependencies.install_steps()))
