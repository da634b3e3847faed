"""``runyard migrate-azureml PATH``: which Azure ML v1 names a project uses, and which the layer has."""

from __future__ import annotations

import click
from rich.markup import escape

from ._output import errors, print_json, print_table
from .main import cli


@cli.command("migrate-azureml")
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def migrate_azureml(path: str, as_json: bool) -> None:
    """Report every azureml use in PATH (a folder of .py scripts and .ipynb notebooks, or one
    file) and whether runyard's compatibility layer (azureml-runyard) supports it.

    Nothing is changed or run. Files that do not parse are listed and the scan goes on.
    """
    from ..azureml_uses import scan_azureml_uses
    scan = scan_azureml_uses(path)
    if as_json:
        return print_json(scan.to_dict())
    if scan.uses:
        print_table(f"azureml uses in {scan.path}", ["where", "use", "kind", "supported", "note"],
                    [(escape(u.where), u.name, u.kind, "yes" if u.supported else "NO", u.note) for u in scan.uses])
    for bad in scan.unreadable:
        where = bad.file + (f"[cell {bad.cell}]" if bad.cell else "") + (f":{bad.line}" if bad.line else "")
        errors.print(f"not scanned: {where} {bad.error}", highlight=False, markup=False, soft_wrap=True)
    click.echo(f"{len(scan.uses)} azureml use(s) in {scan.files} file(s): {len(scan.unsupported)} not supported"
               + (f", {len(scan.unreadable)} file(s) not scanned" if scan.unreadable else ""))
