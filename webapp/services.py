"""Shared plumbing for write-side service functions."""
from contextlib import contextmanager

from sqlalchemy import update

from .extensions import db


class ServiceError(Exception):
    """A business-rule refusal with a message meant for the user (already translated)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@contextmanager
def transaction():
    """Commit the session when the block ends, roll back if it raises.

    Every write that matters runs inside one of these, together with its audit entry,
    so the change and its trail land or vanish together.
    """
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def lock_row(obj) -> None:
    """Take the row lock (PostgreSQL) or the write lock (SQLite) and re-read the row, inside the caller's
    transaction: two workers running the same step on one object take turns and see each other's result."""
    table = type(obj).__table__
    db.session.execute(update(table).where(table.c.id == obj.id).values(id=table.c.id))
    db.session.refresh(obj)
