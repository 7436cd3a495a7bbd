import sys

import click
from flask import current_app, g
from flask.cli import with_appcontext

from .finished import acting, brigade_lead, seed_history
from .plan import seed_plan
from .seed import DEMO_PASSWORD, DEMO_USERS, AlreadySeeded, seed


@click.command("seed-demo")
@click.option("--enterprises", default=2000, show_default=True, help="How many enterprises to generate.")
@with_appcontext
def seed_demo_command(enterprises):
    """Fill an empty database with a demo county (townships, registries, checklists, users), a finished
    batch earlier in the year (inspected, reviewed, re-inspected, published: webapp/demo/finished.py),
    and this year's plan with its current batch drawn and published."""
    g.audit_actor = "seed-demo"
    try:
        history = seed_history(current_app.config["CHECKLIST_FOLDER"], enterprises, seed)
    except AlreadySeeded:
        click.echo("The database already holds enterprises; seed-demo only fills an empty one.", err=True)
        sys.exit(0)
    except Exception as exc:  # the replay commits step by step: say plainly that what is left is partial
        click.echo(f"seed-demo failed part-way ({type(exc).__name__}: {exc}). The database now holds part of the "
                   "demo and seed-demo will not fill it again: delete it (SQLite: the file; PostgreSQL: drop and "
                   "create the database), run `flask db upgrade` and seed-demo once more.", err=True)
        sys.exit(1)
    summary = history["summary"]
    with acting(brigade_lead()):
        summary.update(seed_plan(history["plan"]))
    for key, value in summary.items():
        click.echo(f"{key}: {value}")
    click.echo("demo accounts (password for all: %s):" % DEMO_PASSWORD)
    for username, display, role, dept, _cert in DEMO_USERS:
        click.echo(f"  {username:<10} {display}（{dept}）")
