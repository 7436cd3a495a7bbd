"""Sign-in, roles and user administration."""
import re

from flask import Flask

#: The key in the signed session cookie holding the web session's secret (issue #11 point 7).
SESSION_KEY = "sid"


_BROWSERS = (("MicroMessenger", "微信", r"MicroMessenger/(\d+)"), ("Edg/", "Edge", r"Edg/(\d+)"),
             ("Chrome/", "Chrome", r"Chrome/(\d+)"), ("Firefox/", "Firefox", r"Firefox/(\d+)"),
             ("Safari/", "Safari", r"Version/(\d+)"))
_SYSTEMS = (("HarmonyOS", "HarmonyOS"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "Mac"), ("Linux", "Linux"))


def device_name(agent: str) -> str:
    """A browser's User-Agent as a person names the device: "Chrome · Android" (the whole string stays in
    the page's tooltip); an agent of neither kind is shown as it came, shortened."""
    browser = next(((name, pattern) for key, name, pattern in _BROWSERS if key in agent), None)
    system = next((name for key, name in _SYSTEMS if key in agent), None)
    if not browser and not system:
        return agent[:60]
    label = None
    if browser:
        version = re.search(browser[1], agent)
        label = f"{browser[0]} {version.group(1)}" if version else browser[0]
    return " · ".join(x for x in (label, system) if x)


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
    app.add_template_filter(device_name, "device_name")
