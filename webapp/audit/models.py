"""The append-only, hash-chained audit trail (全程留痕, R14, R24)."""
from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime
from ..extensions import db

GENESIS = "0" * 64


class AuditEntry(db.Model):
    """One recorded change. Never updated or deleted; ``audit verify`` detects if it was."""

    __tablename__ = "audit_entry"
    #: Chain position, assigned under the head lock: 1, 2, 3 … without gaps.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: Server time of the change (UTC).
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The user's id, or None for the command line and the public.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Who, readable: a username, ``cli:<os user>`` or ``public``.
    actor: Mapped[str] = mapped_column(String(120), index=True)
    #: What was done, ``<object type>.<verb>``, e.g. ``enterprise.update``.
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(80))
    #: Canonical JSON of the object before and after (None for create / delete).
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (db.Index("ix_audit_entry_object", "object_type", "object_id"),)


class AuditHead(db.Model):
    """A single row holding the chain's end; locking it serialises writers across workers."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
