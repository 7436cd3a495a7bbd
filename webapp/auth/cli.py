"""``flask --app wsgi user create``."""
import sys

import click
from flask.cli import AppGroup

from .. import roles as R
from ..services import ServiceError
from .services import create_user

user_cli = AppGroup("user", help="User accounts.")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(R.ALL), required=True)
@click.option("--name", "display_name", default="")
@click.option("--inspector-id", type=int, default=None)
@click.option("--department-id", type=int, default=None)
@click.password_option()
def create_command(username, role, display_name, inspector_id, department_id, password):
    """Create an account (the first administrator is made this way)."""
    try:
        user = create_user(username, display_name, role, password, inspector_id, department_id)
    except ServiceError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"created user {user.username} ({user.role}), id {user.id}")
