"""``flask --app wsgi checklists load [FOLDER]``."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from .loader import load_folder

checklist_cli = AppGroup("checklists", help="Checklist files.")


@checklist_cli.command("load")
@click.argument("folder", required=False)
def load_command(folder):
    """Validate and load every checklist file; any problem loads nothing (exit 1)."""
    report = load_folder(folder or current_app.config["CHECKLIST_FOLDER"])
    for error in report.errors:
        click.echo(error, err=True)
    if report.errors:
        click.echo(_("Nothing was loaded."), err=True)
        sys.exit(1)
    click.echo(_("Loaded %(a)d new checklist version(s); %(u)d already loaded.",
                 a=len(report.added), u=len(report.unchanged)))
