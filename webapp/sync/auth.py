"""Bearer tokens for the sync API (DEVELOPERS.md: a token, not a cookie-and-CSRF form)."""
import hashlib
import secrets
from datetime import timedelta

from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import User
from ..db_types import utcnow
from ..extensions import db
from .. import roles as R
from ..services import ServiceError, transaction
from .models import ApiToken

#: A phone may stay offline for weeks; after this it signs in again (and then syncs, losing nothing).
TOKEN_DAYS = 30


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


#: Who may use the inspection app: the people who go on site.
FIELD_ROLES = (R.INSPECTOR, R.TEAM_LEAD)


def issue_token(user: User, device: str, ip: str | None = None) -> tuple[str, ApiToken]:
    """A 30-day token for the app; only field roles get one."""
    if user.role not in FIELD_ROLES:
        raise ServiceError(_("This account may not use the inspection app."))
    raw = secrets.token_urlsafe(32)
    from ..audit.services import record
    with transaction():
        row = ApiToken(user_id=user.id, token_hash=_hash(raw), device=(device or "")[:120],
                       expires_at=utcnow() + timedelta(days=TOKEN_DAYS), ip=(ip or "")[:64] or None)
        db.session.add(row)
        db.session.flush()
        record("api_token.issue", "user", user.id, None, {"token_id": row.id, "device": row.device},
               actor=(user.id, user.username))
    return raw, row


def live_token(raw) -> ApiToken | None:
    """The token row for a raw bearer token, if neither revoked (a password change, a revoke from the
    devices page or by an administrator: issue #11 point 7) nor expired."""
    if not isinstance(raw, str) or not raw:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(raw)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row


def json_error(status: int, code: str, message: str):
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def check_token(roles: frozenset):
    """Resolve ``Authorization: Bearer …`` into ``g.api_user``; answer 401/403 in JSON otherwise."""
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header.startswith("Bearer ") else ""
    row = live_token(raw)
    now = utcnow()
    if row is None:
        return json_error(401, "token", _("Please sign in again; nothing on the phone is lost."))
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return json_error(401, "token", _("Please sign in again; nothing on the phone is lost."))
    if user.role not in roles:
        return json_error(403, "role", _("This account may not use the inspection app."))
    ip = (request.remote_addr or "")[:64] or None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5) or (ip and row.ip != ip):
        row.last_used_at, row.ip = now, ip or row.ip
        db.session.commit()
    g.api_user = user
    return None
