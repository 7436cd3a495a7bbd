"""Audit trail feature: models, services, browse page, ``flask audit verify``."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import cli, routes

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.audit_cli)
