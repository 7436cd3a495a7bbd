"""Sign-in, roles and user administration."""
from flask import Flask


def init_app(app: Flask) -> None:
    from .. import throttle  # noqa: F401  (its table belongs to the schema)
    from ..extensions import db, login_manager
    from . import cli, routes
    from .models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.user_cli)
