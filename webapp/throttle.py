"""A rate limit kept in the database, so it holds across gunicorn workers and hosts (issue #11 points 8, 12).

    from webapp.throttle import allow
    if not allow(f"link:{token}:{request.remote_addr}", limit=20, per_seconds=600):
        ...  # answer 429

``allow(key, limit, per_seconds)`` records one hit for ``key`` and returns False when more than ``limit``
hits (this one included) fell within the last ``per_seconds``. Every call counts, refused ones too, so a
client that keeps hammering stays refused until it slows down.

Transactions: the hit is written and counted on a connection of its own, in its own transaction, and
committed before ``allow`` returns. The caller's session (its pending changes, its transaction) is left
alone: a rolled-back request still counts, and ``allow`` never commits the caller's half-done work.
Call it before the request's own writes (on SQLite a second connection waits for the write lock a
session holding uncommitted writes keeps).

A key is used with one window: each call deletes that key's hits older than its window. Keys longer
than 200 characters are stored as their SHA-256.
"""
import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from .db_types import UTCDateTime, utcnow
from .extensions import db

KEY_LENGTH = 200


class ThrottleHit(db.Model):
    """One hit on a rate-limited key."""

    __tablename__ = "throttle_hit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _stored_key(key: str) -> str:
    if len(key) <= KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def allow(key: str, limit: int, per_seconds: int) -> bool:
    """Record one hit for ``key``; False when more than ``limit`` hits fell within the last ``per_seconds``."""
    stored = _stored_key(key)
    now = utcnow()
    since = now - timedelta(seconds=per_seconds)
    table = ThrottleHit.__table__
    with db.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.key == stored, table.c.at < since))
        conn.execute(insert(table).values(key=stored, at=now))
        count = conn.execute(select(func.count()).select_from(table)
                             .where(table.c.key == stored, table.c.at >= since)).scalar_one()
    return count <= limit


def hits(key: str, per_seconds: int) -> int:
    """How many hits ``key`` has had within the last ``per_seconds`` (recording nothing)."""
    table = ThrottleHit.__table__
    since = utcnow() - timedelta(seconds=per_seconds)
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)
                            .where(table.c.key == _stored_key(key), table.c.at >= since)).scalar_one()
