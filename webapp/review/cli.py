"""Hazards on the command line: the daily run that schedules re-inspections whose deadline passed."""
import click
from flask import g
from flask.cli import AppGroup

from . import services

hazards_cli = AppGroup("hazards", help="The hazard register's scheduled work.")


@hazards_cli.command("due")
def due_command():
    """Schedule a re-inspection (复查) for every approved inspection with open hazards past their deadline
    and none scheduled yet. Idempotent: run it daily (cron or a systemd timer)."""
    g.audit_actor = "cli:hazards-due"
    made = services.schedule_due_reinspections(None)
    for task in made:
        click.echo(f"re-inspection {task.id} for task {task.origin_task_id}, due {task.due_date}")
    click.echo(f"{len(made)} re-inspection(s) scheduled")
