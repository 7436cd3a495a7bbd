"""Document numbers (文号): one sequence per kind and year, kept in the database (several workers)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

#: kind → the abbreviation in the number and the title.
KINDS = {"record": ("检记", "现场检查记录"), "order": ("责改", "责令限期整改指令书"),
         "review": ("复查", "整改复查意见书")}


class DocumentCounter(db.Model):
    __tablename__ = "document_counter"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class IssuedDocument(db.Model):
    """A document's number, given once: printing it again gives the same number."""
    __tablename__ = "issued_document"
    __table_args__ = (UniqueConstraint("task_id", "kind"), UniqueConstraint("kind", "year", "seq"))
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
