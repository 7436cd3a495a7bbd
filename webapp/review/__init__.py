"""After the inspection (issue #5): the team lead's review, the hazard register, re-inspection (复查)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import routes
    from .models import LABELS

    app.register_blueprint(routes.bp)
    from . import cli
    app.cli.add_command(cli.hazards_cli)
    app.jinja_env.globals["review_labels"] = LABELS
