"""Sign-in, roles and user administration."""
from flask import Flask

#: The key in the signed session cookie holding the web session's secret (issue #11 point 7).
SESSION_KEY = "sid"


def init_app(app: Flask) -> None:
    from flask import g, request, session
    from flask_login import current_user

    from .. import throttle  # noqa: F401  (its table belongs to the schema)
    from ..extensions import db, login_manager
    from . import cli, routes, services
    from .models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        """The signed cookie names a user and a session; both must be live in the database (issue #11
        point 7): a logged-out, revoked or idle session, or a deactivated account, is anonymous."""
        try:
            uid = int(user_id)
        except (TypeError, ValueError):
            return None
        row = services.live_session(session.get(SESSION_KEY), uid, request.remote_addr)
        if row is None:
            return None
        user = db.session.get(User, uid)
        if user is None or not user.active:
            return None
        g.user_session_id = row.id
        return user

    def _load_user_first():
        # Every request starts with nobody: ``g`` outlives a request when an app context was already
        # pushed (the CLI, tests), and a user found for an earlier request must never serve this one.
        for name in ("_login_user", "user_session_id", "api_user"):
            g.pop(name, None)
        # Resolve the session before any view runs: the loader may write "last seen", which must never
        # happen inside a view's transaction (e.g. when the audit trail asks who is acting).
        if request.endpoint and not request.endpoint.startswith("api."):
            current_user._get_current_object()

    # First of all hooks, before the access check reads the user or the token.
    app.before_request_funcs.setdefault(None, []).insert(0, _load_user_first)
    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.user_cli)
