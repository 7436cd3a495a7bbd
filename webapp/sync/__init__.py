"""The inspectors' sync API: tokens, task download, idempotent record upload, resumable photos."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, cli

    app.register_blueprint(api.bp)
    app.cli.add_command(cli.photos_cli)
