"""The brigade's own records (issue #13): the batch's 经验总结 and its addressees (R23)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class BatchReport(db.Model):
    """经验总结 (R23, 000 四(二)): after a batch the brigade sums up its problems, their causes and its
    suggestions, and sends them to the business offices. One per batch; a draft until sent."""

    __tablename__ = "batch_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), unique=True)
    problems: Mapped[str] = mapped_column(Text, default="")
    causes: Mapped[str] = mapped_column(Text, default="")
    suggestions: Mapped[str] = mapped_column(Text, default="")
    #: The batch's figures as they stood when the report was sent (the summary page keeps moving).
    figures: Mapped[dict | None] = mapped_column(JSON)
    #: ``draft`` or ``sent``; a sent report is not edited any more.
    state: Mapped[str] = mapped_column(String(20), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    addressees = relationship("BatchReportAddressee", back_populates="report", order_by="BatchReportAddressee.id")

    def audit_view(self) -> dict:
        return {"problems": self.problems, "causes": self.causes, "suggestions": self.suggestions,
                "state": self.state}


class BatchReportAddressee(db.Model):
    """A business office (department) the report is sent to, its acknowledgement and its answer."""

    __tablename__ = "batch_report_addressee"
    __table_args__ = (UniqueConstraint("report_id", "department_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("batch_report.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report = relationship(BatchReport, back_populates="addressees")
    department = relationship("Department")

    def audit_view(self) -> dict:
        return {"department_id": self.department_id, "acknowledged_at": self.acknowledged_at,
                "answer": self.answer}
