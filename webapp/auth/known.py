"""Known devices (issue #11 point 8): a device that signed in to an account before is not slowed down by
failures on that account, so ten strangers guessing cannot keep the owner out of their own desk or phone.

A browser carries a signed, long-lived, HttpOnly cookie naming the accounts that signed in from it; the app
(whose requests carry no cookie) gets the same signed value as ``device_key`` with its token and sends it
with its next sign-in. A live bearer token or a live session of the account counts as known too. None of
these is a credential: the password is still checked, and the per-address throttle still applies.
"""
from flask import current_app, request
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "ssj_known_device"
#: At most this many accounts remembered per browser (a shared office computer).
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def _max_age() -> int:
    return int(current_app.config["KNOWN_DEVICE_DAYS"]) * 86400


def account_ids(value) -> list[int]:
    """The account ids a signed value names; [] for anything forged, expired or malformed."""
    if not isinstance(value, str) or not value or len(value) > 1000:
        return []
    try:
        ids = _serializer().loads(value, max_age=_max_age())
    except BadData:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def device_key(user_id: int, value=None) -> str:
    """A signed value naming ``user_id`` first, then the accounts ``value`` already named."""
    ids = [user_id] + [i for i in account_ids(value) if i != user_id]
    return _serializer().dumps(ids[:MAX_ACCOUNTS])


def remember(response, user_id: int) -> None:
    """Mark this browser as known for ``user_id`` (after a successful sign-in)."""
    cfg = current_app.config
    response.set_cookie(COOKIE, device_key(user_id, request.cookies.get(COOKIE)), max_age=_max_age(),
                        httponly=True, samesite="Lax", secure=bool(cfg.get("SESSION_COOKIE_SECURE")), path="/")


def is_known(user_id: int | None, device_value=None) -> bool:
    """Whether this request comes from a device ``user_id`` signed in from: the cookie, a ``device_key``
    the caller passes (the app's), a live bearer token or a live session of the same account."""
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
