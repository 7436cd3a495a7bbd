"""Tasks: a drawn enterprise and its group, with everything the inspection needs frozen (R18)."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

TASK_STATES = ("dispatched", "unstaffed", "cancelled")
#: The team lead's review of a task's synced work (issue #5): ``open`` until the outcome arrives,
#: ``submitted``, ``returned`` for correction (the comment reaches the phone), ``approved``.
REVIEW_STATES = ("open", "submitted", "returned", "approved")


class Task(db.Model):
    __tablename__ = "task"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    draw_pk: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    #: R4: only ``random`` tasks count towards random-check statistics and the R10 cap.
    kind: Mapped[str] = mapped_column(String(20), default="random")
    #: Why the unit was drawn: ``pool`` or the mandatory reason (R8, R9, R11).
    basis: Mapped[str] = mapped_column(String(100), default="pool")
    status: Mapped[str] = mapped_column(String(20), default="dispatched", index=True)
    #: The enterprise as it stood at dispatch: name, address, township, contacts, flags.
    enterprise: Mapped[dict] = mapped_column(JSON)
    #: The exact item versions to check: [{item_id, version_id, code, version, name, legal_basis}].
    items: Mapped[list] = mapped_column(JSON)
    #: The exact checklist versions: [{id, code, version, title}].
    checklists: Mapped[list] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(20))
    #: Calendar dates in Asia/Shanghai: the inspection window.
    start_date: Mapped[date] = mapped_column()
    due_date: Mapped[date] = mapped_column()
    #: R20 limit in working days, from the plan at dispatch.
    publication_days: Mapped[int] = mapped_column(Integer)
    unstaffed_reason: Mapped[str] = mapped_column(Text, default="")
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    #: Server time the outcome first arrived: the inspection's end, from which R19 and R20 count.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: A re-inspection (复查, kind ``reinspection``) names the task whose hazards it checks.
    origin_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))

    members = relationship("TaskMember", order_by="TaskMember.position", cascade="all, delete-orphan")
    batch = relationship("Batch")

    def overdue_on(self, day: date) -> bool:
        """Its window ended on ``day`` and the inspection was never submitted."""
        return self.status == "dispatched" and self.completed_at is None and self.due_date < day

    @property
    def active_members(self):
        return [m for m in self.members if m.active]

    def audit_view(self) -> dict:
        return {"uscc": self.uscc, "status": self.status, "basis": self.basis,
                "members": [m.inspector_id for m in self.active_members],
                "items": [i["code"] + "@" + str(i["version"]) for i in self.items],
                "checklists": [c["code"] + "@" + c["version"] for c in self.checklists],
                "due_date": self.due_date, "cancel_reason": self.cancel_reason,
                "review_state": self.review_state, "review_comment": self.review_comment}


def with_members():
    """Load option for lists of tasks that show their groups: two queries in all, not two per task."""
    return selectinload(Task.members).selectinload(TaskMember.inspector)


class TaskMember(db.Model):
    __tablename__ = "task_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: False once a substitution took the inspector off the task.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    left_reason: Mapped[str] = mapped_column(Text, default="")

    inspector = relationship("Inspector")
