"""Sign-in with throttling, server-side sessions, revoking devices, and user administration.

Issue #11 point 8: failures from one address throttle that address; failures on one account slow that
account down with a delay that grows with them (never a lock), and a device the account signed in from
before skips that delay; every attempt is kept in ``login_attempt``. Point 7: each web sign-in is a
``user_session`` row checked on every request; logging out, a password change, deactivation or a revoke
ends sessions and API tokens on every worker.
"""
import hashlib
import math
import secrets
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import roles as R
from ..audit.services import record
from ..db_types import utcnow
from ..extensions import db
from ..registries.models import Department, Inspector
from ..services import ServiceError, transaction
from .models import LoginAttempt, User, UserSession
from .passwords import too_easy

MIN_PASSWORD = 8


class Throttled(ServiceError):
    """Refused without checking the password; ``retry_after`` seconds until the next try is heard."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the name is unknown, so an unknown name costs the same hashing as a known one."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _wait_message(seconds: int, per: str) -> str:
    if seconds > 90:
        minutes = math.ceil(seconds / 60)
        if per == "address":
            return _("Too many failed sign-ins from this address. Try again in %(m)d minutes.", m=minutes)
        return _("Too many failed sign-ins for this account. Try again in %(m)d minutes, or from a device "
                 "you signed in from before.", m=minutes)
    if per == "address":
        return _("Too many failed sign-ins from this address. Try again in %(s)d seconds.", s=seconds)
    return _("Too many failed sign-ins for this account. Try again in %(s)d seconds, or from a device "
             "you signed in from before.", s=seconds)


def _failures(*conditions):
    return (LoginAttempt.success.is_(False), LoginAttempt.refused.is_(None), *conditions)


def _address_wait(attempt: LoginAttempt) -> int:
    """Seconds this address must wait: too many failures from it (any name) inside the window."""
    cfg = current_app.config
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    now = utcnow()
    times = db.session.scalars(
        select(LoginAttempt.at).where(*_failures(LoginAttempt.ip == attempt.ip, LoginAttempt.at >= now - window,
                                                 LoginAttempt.id < attempt.id))
        .order_by(LoginAttempt.at.desc()).limit(cfg["LOGIN_MAX_FAILURES_PER_IP"])).all()
    if len(times) < cfg["LOGIN_MAX_FAILURES_PER_IP"]:
        return 0
    # Heard again once the oldest of the last LIMIT failures leaves the window.
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


def account_delay(failures: int) -> int:
    """The growing delay after ``failures`` recent failures on one account: none for the first few, then
    doubling up to a ceiling (seconds)."""
    cfg = current_app.config
    free = cfg["LOGIN_FREE_FAILURES"]
    if failures < free:
        return 0
    return min(cfg["LOGIN_DELAY_BASE_SECONDS"] * 2 ** min(failures - free, 30), cfg["LOGIN_DELAY_MAX_SECONDS"])


def _account_wait(attempt: LoginAttempt, kinds: tuple[str, ...]) -> int:
    """Seconds this account must wait: failures on the name since its last success (inside the account
    window), the last one less than ``account_delay(failures)`` ago. Earlier attempts still pending count,
    so two at once cannot both slip through."""
    cfg = current_app.config
    now = utcnow()
    since = now - timedelta(hours=cfg["LOGIN_ACCOUNT_WINDOW_HOURS"])
    name = LoginAttempt.username == attempt.username
    last_ok = db.session.scalar(select(func.max(LoginAttempt.at)).where(
        name, LoginAttempt.success.is_(True), LoginAttempt.kind.in_(kinds), LoginAttempt.at >= since))
    if last_ok is not None:
        since = last_ok
    count, last = db.session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        *_failures(name, LoginAttempt.kind.in_(kinds), LoginAttempt.at > since, LoginAttempt.id < attempt.id))).one()
    delay = account_delay(count)
    if not delay or last is None:
        return 0
    wait = math.ceil((last + timedelta(seconds=delay) - now).total_seconds())
    return max(wait, 0)


def _storable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _check(username: str, password: str, ip: str, kind: str, known_device: bool,
           account_kinds: tuple[str, ...]) -> User | None:
    """One password attempt, kept in the trail: throttled by address, then (unless from a known device)
    slowed down by account, then the hash is checked whether or not the name exists."""
    # A NUL byte or a lone surrogate is in no name anyone has (and PostgreSQL refuses it in text): kept
    # replaced in the trail, never looked up.
    stored = _storable(username)
    possible = stored == username
    with transaction():
        attempt = LoginAttempt(username=stored[:80], ip=_storable(ip or "?")[:64], success=False, kind=kind,
                               known_device=known_device, at=utcnow())
        db.session.add(attempt)
    refused, wait = "address", _address_wait(attempt)
    if not wait and not known_device:
        refused, wait = "account", _account_wait(attempt, account_kinds)
    if wait:
        with transaction():
            attempt.refused = refused
        raise Throttled(_wait_message(wait, refused), wait)
    user = db.session.scalar(select(User).where(User.username == username)) if possible else None
    # Always one hash: an unknown or deactivated name takes as long as a wrong password.
    ok = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    ok = ok and user is not None and user.active
    with transaction():
        attempt.success = ok
        if ok and kind != "reauth":
            record("user.login", "user", user.id, None, {"via": kind}, actor=(user.id, user.username))
    return user if ok else None


def user_id_of(username: str) -> int | None:
    """The id of the account named ``username`` (to tell a known device), or None."""
    if _storable(username) != username or len(username) > 80:
        return None
    return db.session.scalar(select(User.id).where(User.username == username))


def authenticate(username: str, password: str, ip: str, kind: str = "login", known_device: bool = False) -> User:
    """Return the user for correct credentials, else raise ServiceError (``Throttled`` when refused
    unheard). ``kind`` is ``login`` (the sign-in page) or ``token`` (the app). The counts live in the
    database, so the limits hold across workers and hosts."""
    user = _check(username, password, ip, kind, known_device, ("login", "token"))
    if user is None:
        raise ServiceError(_("Wrong username or password."))
    return user


def check_current_password(user: User, password: str, ip: str) -> None:
    """The current password asked before a change (issue #11 point 8): throttled by address and slowed down
    by its own failures. A signed-in session is exactly what is being checked, so it is no known device;
    strangers' failed sign-ins do not slow the owner's change down."""
    if _check(user.username, password, ip, "reauth", False, ("reauth",)) is None:
        raise ServiceError(_("The current password is wrong."), "current")


def _check_password(password: str, username: str = "", *, demo: bool = False) -> None:
    """Issue #11 point 8: the passwords guessed first are refused (``passwords.too_easy``), the published
    demo password included, except when the demo seeding sets it for the demo accounts (``demo``)."""
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD), "password")
    from ..demo.seed import DEMO_PASSWORD  # (the seed imports this module)

    if too_easy(password, username, None if demo else DEMO_PASSWORD):
        raise ServiceError(_("This password is too easy to guess (a common password, a simple pattern or "
                             "the username). Choose another."), "password")


# --- Sessions and devices (issue #11 point 7) -------------------------------------------------------

#: How often a live session's or token's "last seen" is written (not on every request).
TOUCH_EVERY = timedelta(minutes=5)


def _key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(user: User, ip: str, device: str) -> str:
    """A new web session for ``user``; returns the secret the signed session cookie carries."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        db.session.add(UserSession(user_id=user.id, key_hash=_key_hash(raw), device=(device or "")[:200],
                                   ip=(ip or "")[:64] or None, created_at=now, last_seen_at=now))
    return raw


def _session_alive(now):
    idle = timedelta(days=current_app.config["SESSION_IDLE_DAYS"])
    return (UserSession.revoked_at.is_(None), UserSession.last_seen_at >= now - idle)


def live_session(raw, user_id: int, ip: str | None = None) -> UserSession | None:
    """The live session the cookie's secret names for ``user_id`` (touched at most every few minutes),
    or None: logged out, revoked, idle too long, another user's, or no such secret."""
    if not isinstance(raw, str) or not raw:
        return None
    now = utcnow()
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == _key_hash(raw),
                                                      UserSession.user_id == user_id, *_session_alive(now)))
    if row is None:
        return None
    if now - row.last_seen_at > TOUCH_EVERY or (ip and row.ip != ip[:64]):
        row.last_seen_at, row.ip = now, (ip or "")[:64] or row.ip
        db.session.commit()
    return row


def devices(user: User) -> tuple[list[UserSession], list]:
    """The user's live web sessions and live API tokens, most recently seen first."""
    from ..sync.models import ApiToken

    now = utcnow()
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id, *_session_alive(now))
                                  .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                       ApiToken.expires_at > now)
                                .order_by(ApiToken.last_used_at.desc().nulls_last(), ApiToken.id.desc())).all()
    return sessions, tokens


def _end_sessions(user_id: int, reason: str, *, sessions: bool = True, tokens: bool = True,
                  keep_session_id: int | None = None, session_id: int | None = None,
                  token_id: int | None = None) -> tuple[int, int]:
    """Revoke the user's live sessions (all, all but ``keep_session_id``, or only ``session_id``) and API
    tokens (all, or only ``token_id``), inside the caller's transaction (which writes the audit entry).
    Returns how many sessions and tokens ended."""
    from ..sync.models import ApiToken

    now = utcnow()
    ended = revoked = 0
    if sessions:
        stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        if keep_session_id is not None:
            stmt = stmt.where(UserSession.id != keep_session_id)
        if session_id is not None:
            stmt = stmt.where(UserSession.id == session_id)
        ended = db.session.execute(stmt.values(revoked_at=now, revoked_reason=reason)).rowcount
    if tokens:
        stmt = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        if token_id is not None:
            stmt = stmt.where(ApiToken.id == token_id)
        revoked = db.session.execute(stmt.values(revoked_at=now)).rowcount
    return ended, revoked


def _new_credential_epoch(user: User) -> None:
    """No device counts as known to ``user`` any more (issue #11 point 8): known-device cookies and the
    app's device keys carry a stamp of the epoch (``webapp.auth.known``). Incremented in SQL, so two
    workers doing it at once both count."""
    user.credential_epoch = User.credential_epoch + 1


def end_session(row: UserSession) -> None:
    """Logging out: this session is over on every worker, and its cookie (or a copy) is worth nothing."""
    with transaction():
        _end_sessions(row.user_id, "logout", tokens=False, session_id=row.id)
        record("user.logout", "user", row.user_id, None, {"session_id": row.id})


def revoke_session(user: User, session_id: int, by_admin: bool = False) -> None:
    """End one of ``user``'s web sessions (the owner from the devices page, or an administrator)."""
    reason = "admin" if by_admin else "revoked"
    with transaction():
        ended, _tokens = _end_sessions(user.id, reason, tokens=False, session_id=session_id)
        if not ended:
            raise ServiceError(_("This session has already ended."))
        record("session.revoke", "user", user.id, None, {"session_id": session_id, "by": reason})


def revoke_token(user: User, token_id: int, by_admin: bool = False) -> None:
    """Revoke one of ``user``'s API tokens: that phone's next request gets 401 and asks to sign in again."""
    with transaction():
        _sessions, revoked = _end_sessions(user.id, "", sessions=False, token_id=token_id)
        if not revoked:
            raise ServiceError(_("This token has already been revoked."))
        record("api_token.revoke", "user", user.id, None,
               {"token_id": token_id, "by": "admin" if by_admin else "revoked"})


def revoke_all(user: User, keep_session_id: int | None = None, by_admin: bool = False) -> tuple[int, int]:
    """End every session (but ``keep_session_id``) and every token of ``user``."""
    reason = "admin" if by_admin else "revoked"
    with transaction():
        ended, revoked = _end_sessions(user.id, reason, keep_session_id=keep_session_id)
        _new_credential_epoch(user)
        record("user.revoke_all", "user", user.id, None,
               {"sessions_ended": ended, "tokens_revoked": revoked, "by": reason})
    return ended, revoked


# --- Accounts --------------------------------------------------------------------------------------


def create_user(username: str, display_name: str, role: str, password: str,
                inspector_id: int | None = None, department_id: int | None = None, *, demo: bool = False) -> User:
    """A new account. ``demo`` is for the demo seeding only: it may set the published demo password."""
    username, display_name = username.strip(), display_name.strip()
    if not username:
        raise ServiceError(_("A username is required."), "username")
    if any(ord(c) < 32 or ord(c) == 127 for c in username + display_name):
        raise ServiceError(_("Control characters are not allowed."), "username")
    if len(username) > 80 or len(display_name) > 80:
        raise ServiceError(_("longer than %(n)d characters", n=80), "username")
    if role not in R.ALL:
        raise ServiceError(_("Unknown role."), "role")
    _check_password(password, username, demo=demo)
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


def set_password(user: User, password: str, keep_session_id: int | None = None) -> tuple[int, int]:
    """Set a new password; every other session and every API token of the account ends with the old one
    (issue #11 point 7), so whoever knew it is out, and no device counts as known to the account any more
    until it signs in with the new one (point 8). Returns (sessions, tokens) ended."""
    _check_password(password, user.username)
    if check_password_hash(user.password_hash, password):
        # Issue #11 point 8: "changing" to the same password would end the sessions but leave the password
        # whoever knew it knows.
        raise ServiceError(_("The new password must differ from the current one."), "password")
    with transaction():
        user.password_hash = generate_password_hash(password)
        _new_credential_epoch(user)
        ended, revoked = _end_sessions(user.id, "password", keep_session_id=keep_session_id)
        record("user.password", "user", user.id, None, {"sessions_ended": ended, "tokens_revoked": revoked})
    return ended, revoked


def change_password(user: User, current: str, new: str, ip: str, keep_session_id: int | None) -> tuple[int, int]:
    """The owner's change: the current password first (throttled), then ``set_password``."""
    check_current_password(user, current, ip)
    return set_password(user, new, keep_session_id)


def set_active(user: User, active: bool) -> None:
    """Deactivate or reactivate; deactivation also ends every session and token (issue #11 point 7), so a
    later reactivation does not bring them back."""
    with transaction():
        before = user.audit_view()
        user.active = active
        after = user.audit_view()
        if not active:
            ended, revoked = _end_sessions(user.id, "deactivated")
            _new_credential_epoch(user)
            after = {**after, "sessions_ended": ended, "tokens_revoked": revoked}
        record("user.update", "user", user.id, before, after)
