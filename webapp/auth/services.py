"""Sign-in with throttling, and user administration."""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import roles as R
from ..audit.services import record
from ..db_types import utcnow
from ..extensions import db
from ..registries.models import Department, Inspector
from ..services import ServiceError, transaction
from .models import LoginAttempt, User

MIN_PASSWORD = 8


def _recent_failures(*conditions) -> int:
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    stmt = select(func.count()).where(*conditions, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    return db.session.scalar(stmt)


def _throttled(username: str, ip: str) -> bool:
    """Too many recent failures for this name from this address, from this address at all, or
    for this name from everywhere (a spread-out guessing attack). Keyed on the pair first, so a
    stranger cannot lock a colleague out from another desk."""
    cfg = current_app.config
    return (_recent_failures(LoginAttempt.username == username, LoginAttempt.ip == ip)
            >= cfg["LOGIN_MAX_FAILURES_PER_USER"]
            or _recent_failures(LoginAttempt.ip == ip) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]
            or _recent_failures(LoginAttempt.username == username) >= cfg["LOGIN_MAX_FAILURES_PER_NAME"])


def authenticate(username: str, password: str, ip: str) -> User:
    """Return the user for correct credentials, else raise ServiceError.

    The counts live in the database, so the limit holds across workers and hosts.
    """
    if _throttled(username, ip):
        raise ServiceError(_("Too many failed attempts. Try again in %(m)d minutes.",
                             m=current_app.config["LOGIN_WINDOW_MINUTES"]))
    user = db.session.scalar(select(User).where(User.username == username))
    ok = bool(user and user.active and check_password_hash(user.password_hash, password))
    with transaction():
        db.session.add(LoginAttempt(username=username[:80], ip=ip[:64], success=ok))
        if ok:
            record("user.login", "user", user.id, actor=(user.id, user.username))
    if not ok:
        raise ServiceError(_("Wrong username or password."))
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD), "password")


def create_user(username: str, display_name: str, role: str, password: str,
                inspector_id: int | None = None, department_id: int | None = None) -> User:
    username, display_name = username.strip(), display_name.strip()
    if not username:
        raise ServiceError(_("A username is required."), "username")
    if len(username) > 80 or len(display_name) > 80:
        raise ServiceError(_("longer than %(n)d characters", n=80), "username")
    if role not in R.ALL:
        raise ServiceError(_("Unknown role."), "role")
    _check_password(password)
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise ServiceError(_("This username is taken."), "username")
    if role == R.INSPECTOR and not inspector_id:
        raise ServiceError(_("An inspector account must be linked to an inspector-pool entry."), "inspector_id")
    if inspector_id is not None:
        if db.session.get(Inspector, inspector_id) is None:
            raise ServiceError(_("No such inspector-pool entry."), "inspector_id")
        if db.session.scalar(select(User.id).where(User.inspector_id == inspector_id)):
            raise ServiceError(_("Another account is already linked to this inspector."), "inspector_id")
    if role == R.TEAM_LEAD and not department_id:
        raise ServiceError(_("A team lead needs the department they lead."), "department_id")
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise ServiceError(_("Choose a department."), "department_id")
    with transaction():
        user = User(username=username, display_name=display_name or username, role=role,
                    password_hash=generate_password_hash(password), inspector_id=inspector_id,
                    department_id=department_id, active=True)
        db.session.add(user)
        db.session.flush()
        record("user.create", "user", user.id, None, user.audit_view())
    return user


def set_password(user: User, password: str) -> None:
    _check_password(password)
    with transaction():
        user.password_hash = generate_password_hash(password)
        record("user.password", "user", user.id)


def set_active(user: User, active: bool) -> None:
    with transaction():
        before = user.audit_view()
        user.active = active
        record("user.update", "user", user.id, before, user.audit_view())
