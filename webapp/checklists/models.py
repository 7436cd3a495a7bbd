"""Checklists loaded from ``checklists/*.yaml``; each version is kept forever (R16, R21)."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class ChecklistVersion(db.Model):
    """One version of one checklist, exactly as its file said; a task freezes the one it used."""

    __tablename__ = "checklist_version"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    #: The standard it derives from, its document number and validity (a superseded one ends).
    source_title: Mapped[str] = mapped_column(String(200))
    document_no: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: The whole parsed document (questions, hints, legal basis) as loaded.
    content: Mapped[dict] = mapped_column(JSON)
    #: SHA-256 of the file's bytes: the same version may never be loaded with other content.
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def questions(self) -> list[dict]:
        return self.content["questions"]


def questions_by_id(checklists: list[dict]) -> dict[str, dict]:
    """The questions of a task's frozen checklists (``task.checklists``), by question id, in one query."""
    from sqlalchemy import select

    ids = [c["id"] for c in checklists]
    versions = db.session.scalars(select(ChecklistVersion).where(ChecklistVersion.id.in_(ids))).all() if ids else []
    return {q["id"]: q for v in versions for q in v.questions}
