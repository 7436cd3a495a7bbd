"""Login, logout, language switch and the administrator's user list."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from .. import roles as R
from ..access import public, roles, signed_in
from ..extensions import db
from ..registries.models import Department, Inspector
from ..services import ServiceError
from . import services
from .models import User

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("public.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with username and password."""
    if request.method == "POST":
        try:
            user = services.authenticate(request.form.get("username", "").strip(),
                                         request.form.get("password", ""), request.remote_addr or "?")
        except ServiceError as exc:
            return render_template("auth/login.html", error=exc.message,
                                   username=request.form.get("username", "")), 401
        session.clear()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")), 303)
    return render_template("auth/login.html", error=None, username="")


@bp.post("/logout")
@signed_in
def logout():
    """Sign out and forget the session."""
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
    """Change one's own password."""
    error = None
    if request.method == "POST":
        from werkzeug.security import check_password_hash

        if not check_password_hash(current_user.password_hash, request.form.get("current", "")):
            error = _("The current password is wrong.")
        else:
            try:
                services.set_password(current_user, request.form.get("new", ""))
            except ServiceError as exc:
                error = exc.message
            else:
                flash(_("Password changed."), "success")
                return redirect(url_for("public.home"), 303)
    return render_template("auth/password.html", error=error)


def _int_or_none(value):
    try:
        return int(value) if value else None
    except ValueError:
        return None
