"""Inspection tasks dispatched by the draw (R18); the offline app (issue #4) works on these."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import routes

    app.register_blueprint(routes.bp)
    from . import phase
    phase.init_app(app)
