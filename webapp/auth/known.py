"""Known devices (issue #11 point 8): a device that signed in to an account before is not slowed down by
failures on that account, so ten strangers guessing cannot keep the owner out of their own desk or phone.

A browser carries a signed, long-lived, HttpOnly cookie naming the accounts that signed in from it; the app
(whose requests carry no cookie) gets the same signed value as ``device_key`` with its token and sends it
with its next sign-in. A live bearer token or a live session of the account counts as known too. None of
these is a credential: the password is still checked, and the per-address throttle still applies.

Each account's entry is bound to the account's credentials as they were at that sign-in: a keyed digest of
its ``credential_epoch`` and password hash. A password change, "sign out everywhere" (the owner's or an
administrator's) and deactivation move the epoch (and a new password changes the hash), so a device that
signed in before, or a copy of its cookie or key taken by someone who once knew the password, is no longer
known: it waits like any stranger until it signs in again with the current password.
"""
import hashlib
import hmac

from flask import current_app, request
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select

from ..extensions import db
from .models import User

COOKIE = "ssj_known_device"
#: At most this many accounts remembered per browser (a shared office computer).
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    # A new salt for the [id, stamp] pairs: a value signed before the stamps (a bare list of ids) no longer
    # even parses as known.
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device-2")


def _max_age() -> int:
    return int(current_app.config["KNOWN_DEVICE_DAYS"]) * 86400


def stamp(user_id: int, epoch: int, password_hash: str) -> str:
    """The account's credential stamp: changes whenever the epoch or the password hash does. Keyed, so the
    (only signed, readable) cookie tells nothing about the hash."""
    msg = f"{user_id}:{epoch or 0}:{password_hash}".encode("utf-8", "surrogatepass")
    key = current_app.secret_key
    key = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(key, b"known-device-stamp|" + msg, hashlib.sha256).hexdigest()[:24]


def _entries(value) -> list[tuple[int, str]]:
    """The (account id, stamp) pairs a signed value carries; [] for anything forged, expired or malformed."""
    if not isinstance(value, str) or not value or len(value) > 1000:
        return []
    try:
        pairs = _serializer().loads(value, max_age=_max_age())
    except BadData:
        return []
    if not isinstance(pairs, list):
        return []
    return [(p[0], p[1]) for p in pairs
            if isinstance(p, list) and len(p) == 2 and type(p[0]) is int and isinstance(p[1], str)]


def _current_stamps(ids) -> dict[int, str]:
    ids = [i for i in set(ids) if 0 < i < 2 ** 31]
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.credential_epoch, User.password_hash)
                              .where(User.id.in_(ids))).all()
    return {uid: stamp(uid, epoch, pwhash) for uid, epoch, pwhash in rows}


def account_ids(value) -> list[int]:
    """The accounts a signed value names whose credentials have not changed since (issue #11 point 8)."""
    pairs = _entries(value)
    current = _current_stamps(uid for uid, _s in pairs)
    return [uid for uid, s in pairs if uid in current and hmac.compare_digest(current[uid], s)]


def device_key(user_id: int, value=None) -> str:
    """A signed value naming ``user_id`` (with its current stamp) first, then the accounts ``value`` names
    that are still valid."""
    pairs = _entries(value)
    current = _current_stamps([user_id] + [uid for uid, _s in pairs])
    kept = [[uid, s] for uid, s in pairs
            if uid != user_id and uid in current and hmac.compare_digest(current[uid], s)]
    return _serializer().dumps(([[user_id, current[user_id]]] + kept)[:MAX_ACCOUNTS])


def remember(response, user_id: int) -> None:
    """Mark this browser as known for ``user_id`` (after a successful sign-in)."""
    cfg = current_app.config
    response.set_cookie(COOKIE, device_key(user_id, request.cookies.get(COOKIE)), max_age=_max_age(),
                        httponly=True, samesite="Lax", secure=bool(cfg.get("SESSION_COOKIE_SECURE")), path="/")


def is_known(user_id: int | None, device_value=None) -> bool:
    """Whether this request comes from a device ``user_id`` signed in from since its credentials last changed:
    the cookie, a ``device_key`` the caller passes (the app's), a live bearer token or a live session of the
    same account (a password change, sign-out-everywhere and deactivation end those too)."""
    if user_id is None:
        return False
    if user_id in account_ids(request.cookies.get(COOKIE)) or user_id in account_ids(device_value):
        return True
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from ..sync.auth import live_token

        row = live_token(header[7:].strip())
        if row is not None and row.user_id == user_id:
            return True
    return bool(current_user.is_authenticated and current_user.id == user_id)
