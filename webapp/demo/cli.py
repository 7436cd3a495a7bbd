import sys

import click
from flask import current_app, g
from flask.cli import with_appcontext

from .plan import seed_plan
from .seed import DEMO_PASSWORD, DEMO_USERS, AlreadySeeded, seed


@click.command("seed-demo")
@click.option("--enterprises", default=2000, show_default=True, help="How many enterprises to generate.")
@with_appcontext
def seed_demo_command(enterprises):
    """Fill an empty database with a demo county (townships, registries, checklists, users,
    and this year's plan with its first batch drawn and published)."""
    g.audit_actor = "seed-demo"
    try:
        summary = seed(current_app.config["CHECKLIST_FOLDER"], enterprises)
        summary.update(seed_plan())
    except AlreadySeeded:
        click.echo("The database already holds enterprises; seed-demo only fills an empty one.", err=True)
        sys.exit(0)
    for key, value in summary.items():
        click.echo(f"{key}: {value}")
    click.echo("demo accounts (password for all: %s): %s" % (DEMO_PASSWORD, ", ".join(u for u, *_ in DEMO_USERS)))
