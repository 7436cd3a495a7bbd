"""A published result: what the public may see of one task, in one of the national categories.
Never edited in place: a correction is a new version with its reason, and both stay public (R20)."""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

#: The national result categories for random checks, in the order the forms list them.
CATEGORIES = ("no_problem", "corrected", "pending", "non_cooperation", "no_activity", "closed", "unreachable")
CATEGORY_LABELS = {
    "no_problem": _l("No problem found"),
    "corrected": _l("Problems found, ordered to correct"),
    "pending": _l("Problems found, awaiting follow-up"),
    "non_cooperation": _l("Did not cooperate with the inspection (serious)"),
    "no_activity": _l("None of the business activities this check covers"),
    "closed": _l("Closed, suspended or in liquidation"),
    "unreachable": _l("Cannot be reached at the registered address"),
}


#: Indexes the migrations create on PostgreSQL only (the character-pair index for name search).
POSTGRESQL_ONLY_INDEXES = {"ix_published_result_name_bigrams"}


class PublishedResult(db.Model):
    __tablename__ = "published_result"
    __table_args__ = (UniqueConstraint("task_id", "version"),
                      # Each filter with the list's order, so a page is read in order and stops at 20.
                      Index("ix_published_result_current_region", "current", "region", "published_at"),
                      Index("ix_published_result_current_batch", "current", "batch_id", "published_at"),
                      Index("ix_published_result_current_category", "current", "category", "published_at"),
                      Index("ix_published_result_current_published", "current", "published_at"),
                      Index("ix_published_result_uscc", "uscc", postgresql_ops={"uscc": "varchar_pattern_ops"}))
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The version the public search shows; earlier ones stay reachable from it.
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    category: Mapped[str] = mapped_column(String(20))
    # What may be public, copied at publication: no personal phone numbers, no enterprise staff names,
    # no evidence photos.
    enterprise_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18))
    region: Mapped[str] = mapped_column(String(100), default="")
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    batch_title: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int] = mapped_column(Integer)
    inspected_on: Mapped[date | None] = mapped_column()
    hazards_found: Mapped[int] = mapped_column(Integer, default=0)
    hazards_closed: Mapped[int] = mapped_column(Integer, default=0)
    #: For a correction (version > 1): why the earlier version was wrong.
    reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def public_view(self) -> dict:
        return {"version": self.version, "category": self.category, "enterprise_name": self.enterprise_name,
                "uscc": self.uscc, "region": self.region, "batch": self.batch_title, "year": self.year,
                "inspected_on": self.inspected_on, "hazards_found": self.hazards_found,
                "hazards_closed": self.hazards_closed, "reason": self.reason}
