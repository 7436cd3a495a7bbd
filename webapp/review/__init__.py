"""After the inspection (issue #5): the team lead's review, the hazard register, re-inspection (复查)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import routes
    from .models import LABELS

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["review_labels"] = LABELS
