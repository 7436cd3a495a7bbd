"""``flask --app wsgi photos clean``: delete abandoned partial photo uploads (issue #11 point 4)."""
import click
from flask.cli import AppGroup

from . import photos

photos_cli = AppGroup("photos", help="The photo store's housekeeping.")


@photos_cli.command("clean")
@click.option("--hours", type=float, default=None,
              help="Age after which an unfinished upload counts as abandoned "
                   f"(default: PHOTO_PARTIAL_MAX_AGE_HOURS, else {photos.PARTIAL_MAX_AGE_HOURS}).")
def clean_command(hours):
    """Delete partial uploads no piece reached for the given time, and temporary files a crash left.
    Uploads also do this now and then by themselves; run it daily (cron or a systemd timer) as well."""
    removed = photos.clean_partials(hours)
    click.echo(f"{removed} abandoned file(s) removed")
