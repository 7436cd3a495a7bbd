"""Work that runs off the request (issue #13 point 5): exports a user can leave and come back to."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

#: ``expired``: done, and its file was deleted after EXPORT_KEEP_DAYS (the row stays as the record).
JOB_STATES = ("queued", "running", "done", "failed", "expired")


class Job(db.Model):
    """One piece of background work. Its state lives here, not in a process: any worker may run it
    and any worker may answer how far it got (several gunicorn workers or hosts, one database)."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: What to do, e.g. ``batch_xlsx``; the runner's registry maps it to a function.
    kind: Mapped[str] = mapped_column(String(40), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: Who runs it (host:pid:thread) and when it last said it was alive; a stale claim is taken over.
    worker: Mapped[str] = mapped_column(String(120), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    #: The result, a file under the instance's export folder, and the name it downloads as.
    file_path: Mapped[str] = mapped_column(String(300), default="")
    file_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
