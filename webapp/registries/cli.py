"""``flask --app wsgi registry import|export KIND FILE``.

``registry import`` reads a county office's own file as the web import does (header below title rows,
GBK CSV, its own column names and words: issue #12); ``--mapping FILE.json|FILE.toml`` says how its
columns and words map to the registry's (format in docs/import.md), so a province can script it.
"""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..services import ServiceError
from .import_specs import SPECS
from .io import KINDS, export_bytes, import_file
from .mapping import load_mapping_file

registry_cli = AppGroup("registry", help="Import and export the item list and the two pools.")


@registry_cli.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON or TOML file mapping the file's columns and words to the registry's (docs/import.md).")
def import_command(kind, path, dry_run, mapping_path):
    """Import a registry from XLSX or CSV; any bad row writes nothing and exits 1."""
    choices, values = {}, {}
    if mapping_path:
        try:
            choices, values = load_mapping_file(mapping_path, SPECS[kind]())
        except ServiceError as exc:
            click.echo(exc.message, err=True)
            sys.exit(2)
    report = import_file(kind, path.name, path.read_bytes(), commit=not dry_run, choices=choices, values=values)
    if report.columns:
        how = _("Read as %(enc)s text.", enc=report.encoding) + " " if report.encoding else ""
        click.echo(how + _("Header in row %(n)d.", n=report.header_row), err=True)
        for c in report.columns:
            if c.target:
                target = next(col.header for col in SPECS[kind].columns if col.field == c.target)
                click.echo(f"  {c.label} → {target}", err=True)
    if not report.ok:
        click.echo(_("Import refused: %(n)d problem(s), nothing was written.",
                     n=len(report.mapping_errors) + len(report.groups)), err=True)
        for message in report.mapping_errors:
            click.echo(f"  {message}", err=True)
        for group in report.groups:
            click.echo(f"  {group}", err=True)
        sys.exit(1)
    if report.ignored_headers:
        click.echo(_("Columns with data not imported: %(c)s", c="、".join(report.ignored_headers)), err=True)
    if report.needs_choice:
        click.echo(_("Import refused: %(c)s looks like a yes/no mark (key supervision, blacklist …). Map it in "
                     "the mapping file, or map it to null to import without it; nothing was written.",
                     c="、".join(c.label for c in report.needs_choice)), err=True)
        sys.exit(1)
    verb = _("Checked (dry run)") if dry_run else _("Imported")
    click.echo(_("%(verb)s %(rows)d rows: %(c)d new, %(u)d changed, %(s)d unchanged.", verb=verb,
                 rows=report.rows, c=len(report.created), u=len(report.updated), s=report.unchanged))


@registry_cli.command("export")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def export_command(kind, path):
    """Export a registry; the format follows the file name (.xlsx or .csv)."""
    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    path.write_bytes(export_bytes(kind, fmt))
    click.echo(str(path))
