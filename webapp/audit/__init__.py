"""Audit trail feature: models, services, browse page, ``flask audit verify``."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import cli, routes
    from .present import actor_name, present

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.audit_cli)
    # The change history macro (_macros.html ``history_table``) shows entries through this.
    app.jinja_env.globals["audit_rows"] = present
    # Who did it, by display name, wherever a page shows a stored actor (a draw's committer …).
    app.jinja_env.globals["actor_name"] = actor_name
