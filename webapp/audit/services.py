"""Writing and verifying the audit chain.

Each entry's hash covers its own fields and the previous entry's hash, so changing or
deleting any earlier entry breaks every later link; the head row catches a deleted tail.
"""
import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import insert, select, update

from ..db_types import utcnow
from ..extensions import db
from .models import GENESIS, AuditEntry, AuditHead


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical(value) -> str | None:
    """Canonical JSON: keys sorted, no spaces, non-ASCII kept (as stored and hashed)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def entry_hash(entry: dict) -> str:
    fields = {k: entry[k] for k in ("id", "actor_id", "actor", "action", "object_type", "object_id",
                                    "before", "after", "prev_hash")}
    fields["at"] = entry["at"].isoformat(timespec="microseconds")
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def current_actor() -> tuple[int | None, str]:
    """Who is acting: the API token's user, the signed-in user, what the caller set in ``g``, the OS user."""
    api_user = g.get("api_user") if has_app_context() else None
    if api_user is not None:
        return api_user.id, api_user.username
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, current_user.username
    actor = g.get("audit_actor") if has_app_context() else None
    return None, actor or f"cli:{getpass.getuser()}"


def _lock_head() -> AuditHead:
    # An UPDATE takes the row lock on PostgreSQL and the write lock on SQLite, so two
    # workers can never read the same head and fork the chain.
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id))
    head = db.session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        raise RuntimeError("audit_head row missing: run `flask --app wsgi db upgrade`")
    return head


def record(action: str, object_type: str, object_id, before=None, after=None, actor=None) -> None:
    """Append one entry, in the caller's transaction."""
    record_many([(action, object_type, object_id, before, after)], actor)


def record_many(changes, actor: tuple[int | None, str] | None = None) -> int:
    """Append entries for ``(action, object_type, object_id, before, after)`` tuples, in order.

    ``actor`` is ``(user id, name)`` when the caller knows better than the request, e.g. at sign-in.
    """
    changes = list(changes)
    if not changes:
        return 0
    head = _lock_head()
    actor_id, actor = actor or current_actor()
    at = utcnow()
    prev, next_id, rows = head.last_hash, head.last_id + 1, []
    for action, object_type, object_id, before, after in changes:
        row = {"id": next_id, "at": at, "actor_id": actor_id, "actor": actor, "action": action,
               "object_type": object_type, "object_id": str(object_id),
               "before": canonical(before), "after": canonical(after), "prev_hash": prev}
        row["hash"] = prev = entry_hash(row)
        rows.append(row)
        next_id += 1
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(AuditEntry), rows[start:start + 5000])
    head.last_id, head.last_hash = next_id - 1, prev
    return len(rows)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def verify() -> VerifyResult:
    """Walk the chain up to the head as it stands now; report the first entry that does not hold.

    Entries committed while the walk runs lie beyond that head and are left for the next run,
    so a busy system never raises a false alarm.
    """
    head = db.session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        return VerifyResult(False, 0, 1, "tail")
    prev, expected, checked = GENESIS, 1, 0
    stmt = (select(AuditEntry).where(AuditEntry.id <= head.last_id).order_by(AuditEntry.id)
            .execution_options(yield_per=2000))
    entries = db.session.scalars(stmt)
    try:  # a server-side cursor on PostgreSQL: close it even when we stop early
        for entry in entries:
            row = {c: getattr(entry, c) for c in ("id", "at", "actor_id", "actor", "action", "object_type",
                                                   "object_id", "before", "after", "prev_hash")}
            if entry.id != expected:
                return VerifyResult(False, checked, expected, "missing")
            if entry.prev_hash != prev:
                return VerifyResult(False, checked, entry.id, "link")
            if entry_hash(row) != entry.hash:
                return VerifyResult(False, checked, entry.id, "content")
            prev, expected, checked = entry.hash, expected + 1, checked + 1
    finally:
        entries.close()
    if checked != head.last_id or prev != head.last_hash:
        return VerifyResult(False, checked, checked + 1, "tail")
    return VerifyResult(True, checked)


def history(object_type: str, object_id) -> list[AuditEntry]:
    """Every recorded change of one object, oldest first (the object's change history)."""
    stmt = (select(AuditEntry).where(AuditEntry.object_type == object_type,
                                     AuditEntry.object_id == str(object_id)).order_by(AuditEntry.id))
    return list(db.session.scalars(stmt))


def diff(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """Fields that changed in an entry: ``(field, before, after)``."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
