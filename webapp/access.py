"""Route access declarations, enforced for every request (deny by default).

Every view declares who may reach it with ``@public``, ``@signed_in`` or ``@roles(...)``.
A view without a declaration is refused with 403, and ``tests/test_access_matrix.py``
fails for it, so a new route cannot silently forget its check. Object-level checks
(``require``) live in each feature's ``policy`` module and are called by the views.
"""
from flask import Flask, abort, current_app, request
from flask_login import current_user

PUBLIC = "public"
SIGNED_IN = "signed_in"


def public(view):
    """Anyone, signed in or not."""
    view._access = PUBLIC
    return view


def signed_in(view):
    """Any signed-in user, whatever the role."""
    view._access = SIGNED_IN
    return view


def roles(*names):
    """Signed-in users holding one of these roles."""
    allowed = frozenset(names)

    def mark(view):
        view._access = allowed
        return view

    return mark


def token(*names):
    """The sync API: a bearer token (never the session cookie, never CSRF) of a user with one of these
    roles. A request without a valid token gets a JSON 401, never a login page."""
    allowed = ("token", frozenset(names))

    def mark(view):
        view._access = allowed
        return view

    return mark


def access_rule(view):
    return getattr(view, "_access", None)


def require(allowed: bool) -> None:
    """Object-level check: a user who may use the route may still not see this object."""
    if not allowed:
        abort(403)


def init_app(app: Flask) -> None:
    @app.before_request
    def _enforce_access():
        if request.endpoint is None or request.endpoint == "static":
            return None
        rule = access_rule(current_app.view_functions[request.endpoint])
        if rule is None:
            current_app.logger.error("route %s declares no access rule", request.endpoint)
            abort(403)
        if rule == PUBLIC:
            return None
        if isinstance(rule, tuple) and rule[0] == "token":
            from .sync.auth import check_token
            return check_token(rule[1])
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if rule != SIGNED_IN and current_user.role not in rule:
            abort(403)
        return None
