"""Login, logout, language switch and the administrator's user list."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from .. import roles as R
from ..access import public, roles, signed_in
from ..extensions import db
from ..registries.models import Department, Inspector
from ..services import ServiceError
from . import SESSION_KEY, known, services
from .models import User, UserSession

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("public.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with username and password (throttled: issue #11 point 8)."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        ip = request.remote_addr or "?"
        try:
            user = services.authenticate(username, request.form.get("password", ""), ip,
                                         known_device=known.is_known(services.user_id_of(username)))
        except ServiceError as exc:
            resp = make_response(render_template("auth/login.html", error=exc.message, username=username),
                                 429 if isinstance(exc, services.Throttled) else 401)
            if isinstance(exc, services.Throttled):
                resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        session.clear()
        raw = services.start_session(user, ip, request.headers.get("User-Agent", ""))
        login_user(user)
        session[SESSION_KEY] = raw
        resp = redirect(_safe_next(request.args.get("next")), 303)
        known.remember(resp, user.id)
        return resp
    return render_template("auth/login.html", error=None, username="")


@bp.post("/logout")
@signed_in
def logout():
    """Sign out: the session ends in the database, so a copy of the cookie is worth nothing (issue #11
    point 7)."""
    row = db.session.get(UserSession, g.user_session_id)
    services.end_session(row)
    logout_user()
    session.clear()
    return redirect(url_for("public.home"), 303)


@bp.post("/lang/<code>")
@public
def set_language(code: str):
    """Switch the interface language (Chinese by default)."""
    if code not in ("zh_CN", "en"):
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.get("/users")
@roles(R.ADMIN)
def users():
    """All accounts with their roles."""
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("auth/users.html", users=rows, labels=R.LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@roles(R.ADMIN)
def user_new():
    """Create an account; inspectors are linked to their pool entry."""
    form, error = request.form, None
    if request.method == "POST":
        try:
            user = services.create_user(
                form.get("username", ""), form.get("display_name", ""), form.get("role", ""),
                form.get("password", ""), _int_or_none(form.get("inspector_id")),
                _int_or_none(form.get("department_id")))
        except ServiceError as exc:
            error = exc
        else:
            flash(_("Account %(u)s created.", u=user.username), "success")
            return redirect(url_for("auth.users"), 303)
    return render_template("auth/user_new.html", form=form, error=error, labels=R.LABELS,
                           inspectors=db.session.scalars(select(Inspector).order_by(Inspector.name)).all(),
                           departments=db.session.scalars(select(Department).order_by(Department.name)).all()
                           ), (422 if error else 200)


@bp.post("/users/<int:user_id>/active")
@roles(R.ADMIN)
def user_active(user_id: int):
    """Deactivate or reactivate an account (never deleted: the trail names it)."""
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        abort(400)
    services.set_active(user, request.form.get("active") == "1")
    return redirect(url_for("auth.users"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def password():
    """Change one's own password: the current one first (throttled), then every other session and every
    app token ends (issue #11 points 7, 8)."""
    error, status = None, 200
    if request.method == "POST":
        try:
            ended, revoked = services.change_password(current_user, request.form.get("current", ""),
                                                      request.form.get("new", ""), request.remote_addr or "?",
                                                      g.user_session_id)
        except services.Throttled as exc:
            error, status = exc.message, 429
        except ServiceError as exc:
            error, status = exc.message, 422
        else:
            flash(_("Password changed. Signed out elsewhere: %(s)d sessions, %(t)d app sign-ins.",
                    s=ended, t=revoked), "success")
            resp = redirect(url_for("auth.devices"), 303)
            # The change made every known device unknown (issue #11 point 8); this browser just proved the
            # password, so it stays known with the new stamp.
            known.remember(resp, current_user.id)
            return resp
    return render_template("auth/password.html", error=error), status


@bp.get("/account/devices")
@signed_in
def devices():
    """Where one is signed in: web sessions and the app's tokens, each with a revoke button (issue #11
    point 7)."""
    sessions, tokens = services.devices(current_user)
    return render_template("auth/devices.html", owner=current_user, sessions=sessions, tokens=tokens,
                           current_session_id=g.user_session_id, admin_view=False)


@bp.post("/account/devices/revoke")
@signed_in
def devices_revoke():
    """End one of one's own sessions or tokens, or all but this session (``what=all``)."""
    return _revoke(current_user, by_admin=False)


@bp.get("/users/<int:user_id>/devices")
@roles(R.ADMIN)
def user_devices(user_id: int):
    """An administrator's view of a user's sessions and tokens, to end them (a lost phone)."""
    user = db.get_or_404(User, user_id)
    sessions, tokens = services.devices(user)
    return render_template("auth/devices.html", owner=user, sessions=sessions, tokens=tokens,
                           current_session_id=g.user_session_id, admin_view=True)


@bp.post("/users/<int:user_id>/devices/revoke")
@roles(R.ADMIN)
def user_devices_revoke(user_id: int):
    """An administrator ends any user's session or token, or all of them."""
    return _revoke(db.get_or_404(User, user_id), by_admin=True)


def _revoke(user: User, by_admin: bool):
    what, item = request.form.get("what", ""), _int_or_none(request.form.get("id"))
    back = url_for("auth.user_devices", user_id=user.id) if by_admin else url_for("auth.devices")
    keep = g.user_session_id if user.id == current_user.id else None
    try:
        if what == "session" and item is not None:
            if item == keep:  # one's own session ends by signing out
                raise ServiceError(_("This is the session you are using; sign out instead."))
            services.revoke_session(user, item, by_admin)
            flash(_("Session ended."), "success")
        elif what == "token" and item is not None:
            services.revoke_token(user, item, by_admin)
            flash(_("The app on that device is signed out; it asks for the password again."), "success")
        elif what == "all":
            ended, revoked = services.revoke_all(user, keep_session_id=keep, by_admin=by_admin)
            flash(_("Signed out elsewhere: %(s)d sessions, %(t)d app sign-ins.", s=ended, t=revoked), "success")
        else:
            flash(_("Choose a session or a device to sign out."), "error")
            return redirect(back, 303)
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(back, 303)


def _int_or_none(value):
    """An id from a form: a whole number in the database's integer range, else None (issue #11 point 13:
    a 20-digit id must not reach PostgreSQL's int4)."""
    text = (value or "").strip()
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= 2**31 - 1 else None
