"""Pages for everyone: the home page and the published item list (R1)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import routes

    app.register_blueprint(routes.bp)
    app.register_error_handler(403, routes.forbidden)
    app.register_error_handler(404, routes.not_found)
