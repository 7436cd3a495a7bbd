"""Numbering and the facts each document states, gathered from the task, its records and hazards."""
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..checklists.models import questions_by_id
from ..db_types import SHANGHAI, today_shanghai
from ..extensions import db
from ..review.models import Hazard
from ..services import ServiceError, lock_row, transaction
from ..sync.models import SyncRecord
from ..tasks.models import Task
from .models import KINDS, DocumentCounter, IssuedDocument


def issued(task: Task, kind: str) -> IssuedDocument | None:
    """The document's number if it was issued; reading never issues (issue #11 point 10)."""
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.task_id == task.id,
                                                          IssuedDocument.kind == kind))


def issued_by_kind(task_id: int) -> dict:
    """kind → IssuedDocument for one task, for its review page."""
    return {d.kind: d for d in db.session.scalars(select(IssuedDocument).where(IssuedDocument.task_id == task_id))}


def issue(task: Task, kind: str, user) -> IssuedDocument:
    """Issue the document: its 文号 from the kind's sequence for the year, given once and then kept (an
    issued document printed again keeps its number). An explicit step, audited; opening a document never
    numbers it (issue #11 point 10). Issuing twice (a double tap, two reviewers) gives the one number."""
    check_issuable(gather(task), kind)
    year = today_shanghai().year
    with transaction():
        lock_row(task)  # two requests for one task's document take turns; the second finds the first's number
        existing = issued(task, kind)
        if existing is not None:
            return existing
        if db.session.get(DocumentCounter, (kind, year)) is None:
            try:
                with db.session.begin_nested():  # the year's first number: another worker may make the row too
                    db.session.add(DocumentCounter(kind=kind, year=year, last=0))
            except IntegrityError:
                pass
        # The UPDATE takes the row lock: two workers never hand out one number twice.
        db.session.execute(update(DocumentCounter).where(DocumentCounter.kind == kind, DocumentCounter.year == year)
                           .values(last=DocumentCounter.last + 1))
        seq = db.session.scalar(select(DocumentCounter.last).where(DocumentCounter.kind == kind,
                                                                   DocumentCounter.year == year))
        number = f"{current_app.config['BUREAU_SHORT']}{KINDS[kind][0]}〔{year}〕{seq}号"
        doc = IssuedDocument(task_id=task.id, kind=kind, year=year, seq=seq, number=number, issued_by=user.id)
        db.session.add(doc)
        db.session.flush()
        record("document.issue", "task", task.id, None, {"kind": kind, "number": number})
    return doc


@dataclass
class Facts:
    task: Task
    records: dict = field(default_factory=dict)  #: kind → records (answers without the set-aside ones)
    hazards: list = field(default_factory=list)
    questions: dict = field(default_factory=dict)
    started: datetime | None = None
    ended: datetime | None = None
    origin: Task | None = None  #: for a re-inspection, the inspected task whose order it checks
    origin_order: IssuedDocument | None = None


def gather(task: Task) -> Facts:
    facts = Facts(task=task, questions=questions_by_id(task.checklists))
    for row in db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)
                                  .order_by(SyncRecord.question, SyncRecord.received_at)):
        if not row.superseded:
            facts.records.setdefault(row.kind, []).append(row)
    times = [r.device_time or r.received_at for rows in facts.records.values() for r in rows]
    facts.started = min(times, default=None)
    facts.ended = max(times, default=None)
    if task.kind == "reinspection":
        facts.origin = db.session.get(Task, task.origin_task_id)
        facts.hazards = db.session.scalars(select(Hazard).where(Hazard.reinspection_task_id == task.id)
                                           .order_by(Hazard.id)).all()
        facts.origin_order = db.session.scalar(select(IssuedDocument).where(
            IssuedDocument.task_id == task.origin_task_id, IssuedDocument.kind == "order"))
    else:
        facts.hazards = db.session.scalars(select(Hazard).where(Hazard.task_id == task.id).order_by(Hazard.id)).all()
    return facts


def check_issuable(facts: Facts, kind: str) -> None:
    task = facts.task
    if kind not in KINDS:
        raise ServiceError(_("No such document."))
    if not facts.records.get("outcome"):
        raise ServiceError(_("The inspection has not been submitted yet."))
    if kind == "order" and (task.kind == "reinspection" or not facts.hazards):
        raise ServiceError(_("A rectification order needs hazards found in the inspection."))
    if kind == "review" and task.kind != "reinspection":
        raise ServiceError(_("A re-inspection opinion is made from a re-inspection."))


def local(value: datetime | date | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI)
        return value.strftime("%Y年%m月%d日 %H:%M") if with_time else value.strftime("%Y年%m月%d日")
    return value.strftime("%Y年%m月%d日")
