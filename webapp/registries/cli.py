"""``flask --app wsgi registry import|export KIND FILE``."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from .io import KINDS, export_bytes, import_file

registry_cli = AppGroup("registry", help="Import and export the item list and the two pools.")


@registry_cli.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
def import_command(kind, path, dry_run):
    """Import a registry from XLSX or CSV; any bad row writes nothing and exits 1."""
    report = import_file(kind, path.name, path.read_bytes(), commit=not dry_run)
    if not report.ok:
        click.echo(_("Import refused: %(n)d problem(s), nothing was written.", n=len(report.errors)), err=True)
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        sys.exit(1)
    if report.ignored_headers:
        click.echo(_("Ignored columns: %(c)s", c="、".join(report.ignored_headers)), err=True)
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
