"""Checklists as data: files in ``checklists/``, loaded into immutable versions."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import cli, routes

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.checklist_cli)
