"""Background jobs (issue #13 point 5): rows in the database, run by any worker."""
import click
from flask import Flask, g
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Background jobs (exports): run them, clean up old files.")


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Run what is queued now, clean up, and stop.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds to wait when nothing is queued.")
def work_command(once: bool, poll: float):
    """Run queued jobs until stopped (one or more beside gunicorn; any host sharing the database and the
    export folder). A job whose worker went silent for 60 s is taken over; files older than
    EXPORT_KEEP_DAYS are deleted hourly."""
    from . import runner
    g.audit_actor = "cli:jobs-work"
    if once:
        runner.work(once=True, cleanup_every=0)
        click.echo("queue empty")
        return
    click.echo(f"working as {runner.worker_name()}; Ctrl-C stops")
    runner.work(poll=poll)


@jobs_cli.command("clean")
def clean_command():
    """Delete export files older than EXPORT_KEEP_DAYS (7) and temporary files a crash left."""
    from . import runner
    click.echo(f"{runner.cleanup()} file(s) removed")


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401
    app.cli.add_command(jobs_cli)
    # The exports register their kinds with the runner when their module is imported.
    from ..brigade import exports  # noqa: F401
