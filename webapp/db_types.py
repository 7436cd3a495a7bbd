"""Column types that behave the same on SQLite and PostgreSQL."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today_shanghai():
    """The calendar date in Asia/Shanghai: deadlines and validity run on it."""
    return datetime.now(SHANGHAI).date()


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant stored as UTC.

    SQLite has no time zone type and would hand back naive values; this type
    refuses naive input and always returns aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware instant")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
