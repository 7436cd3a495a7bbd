"""The hazard register: one row per hazard found on site, from its synced record to 销号."""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..tasks.models import Task

#: 待整改 → 整改中 → 待复查 → 已销号; 逾期 is not a state but an open hazard past its deadline.
HAZARD_STATES = ("pending", "rectifying", "awaiting_review", "closed")
#: Still the enterprise's to rectify (not yet re-inspected, not closed).
OPEN_STATES = ("pending", "rectifying")
GRADES = ("general", "major")  #: 一般事故隐患 / 重大事故隐患


class Hazard(db.Model):
    __tablename__ = "hazard"
    #: Issue #13: a batch's hazards counted by status from the index alone (the batch summary's earlier
    #: batches, the batch list's headlines).
    __table_args__ = (Index("ix_hazard_batch_id_status", "batch_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The hazard record as the phone made it (its uuid is the hazard's identity on every phone).
    record_uuid: Mapped[str] = mapped_column(ForeignKey("sync_record.uuid"), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), default="")
    industry: Mapped[str] = mapped_column(String(40), default="")
    question: Mapped[str | None] = mapped_column(String(60))
    grade: Mapped[str] = mapped_column(String(10), index=True)
    description: Mapped[str] = mapped_column(Text)
    #: A calendar date in Asia/Shanghai (DEVELOPERS.md: deadlines are dates, not instants).
    deadline: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    #: The re-inspection task that checks it, and the closure the inspector recorded on site.
    reinspection_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    closure_uuid: Mapped[str | None] = mapped_column(String(36))
    rectified: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: 重大事故隐患: the rectification plan (goal, measures, funds, people, deadline, safety measures).
    plan: Mapped[dict | None] = mapped_column(JSON)
    #: 挂牌督办: put under supervision, and by whom.
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervised_by: Mapped[str] = mapped_column(String(100), default="")
    #: Escalation (R18): case filing, transfer to another department, or to the judicial organs.
    escalation: Mapped[str | None] = mapped_column(String(20))

    task = relationship(Task, foreign_keys=[task_id])
    #: Declared so the unit of work writes the record before the hazard that refers to it.
    record = relationship("SyncRecord")

    @hybrid_property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.status.in_(OPEN_STATES)

    @hybrid_method
    def overdue_on(self, day: date) -> bool:
        """逾期: open and past its deadline (a date in Asia/Shanghai) on ``day``."""
        return self.is_open and self.deadline is not None and self.deadline < day

    @overdue_on.inplace.expression
    @classmethod
    def _overdue_on_expression(cls, day: date):
        return and_(cls.status.in_(OPEN_STATES), cls.deadline < day)

    def audit_view(self) -> dict:
        return {"status": self.status, "grade": self.grade, "deadline": self.deadline,
                "reinspection_task_id": self.reinspection_task_id, "rectified": self.rectified, "note": self.note,
                "plan": self.plan, "supervised_by": self.supervised_by, "escalation": self.escalation}


PLAN_FIELDS = ("goal", "measures", "funds", "people", "deadline", "safety")
ESCALATIONS = ("case", "transfer", "judicial")


class HazardEvent(db.Model):
    """What happened to a hazard after it was found: plan, supervision, extension, escalation."""
    __tablename__ = "hazard_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(JSON)
    by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


FEEDBACK_WAYS = ("on_site", "post", "link", "other")


class Feedback(db.Model):
    """R19: the result and any order handed to the enterprise, when and how."""
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    #: A calendar date in Asia/Shanghai.
    given_on: Mapped[date] = mapped_column()
    way: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


LABELS = {
    "hazard": {"pending": _l("Awaiting rectification"), "rectifying": _l("Being rectified"),
               "awaiting_review": _l("Awaiting re-inspection review"), "closed": _l("Closed (销号)")},
    "grade": {"general": _l("General hazard"), "major": _l("Major accident hazard")},
    "plan": {"goal": _l("Goal"), "measures": _l("Measures"), "funds": _l("Funds"), "people": _l("People responsible"),
             "deadline": _l("Deadline"), "safety": _l("Safety measures meanwhile")},
    "escalation": {"case": _l("Case filed (立案)"), "transfer": _l("Transferred to another department"),
                   "judicial": _l("Transferred to the judicial organs")},
    "event": {"plan": _l("Rectification plan"), "supervise": _l("Put under supervision (挂牌督办)"),
              "extend": _l("Deadline extended"), "escalate": _l("Escalated")},
    "review": {"open": _l("Not yet submitted"), "submitted": _l("Awaiting review"),
               "returned": _l("Returned for correction"), "approved": _l("Review passed")},
    "result": {"yes": _l("Complies"), "no": _l("Fails"), "na": _l("Not applicable")},
    "way": {"on_site": _l("Handed over on site"), "post": _l("By post"), "link": _l("Through the enterprise's link"),
            "other": _l("Other")},
    "outcome": {"completed": _l("Inspection completed"), "non_cooperation": _l("Did not cooperate, seriously"),
                "closed": _l("Closed down"), "not_found": _l("Not found at the registered address")},
    #: R17: how the enterprise obstructed the inspection (the outcome's reason).
    "r17": {"refused_entry": _l("Refused entry"), "refused_materials": _l("Refused to provide materials"),
            "false_materials": _l("Provided false or incomplete materials"),
            "obstruction": _l("Other obstruction that made the inspection impossible")},
}
