"""Publishing a task's result (R20) and correcting it by a new version; the R20 deadline."""
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..audit.services import record
from ..db_types import SHANGHAI, utcnow
from ..extensions import db
from ..review.models import Hazard
from ..services import ServiceError, lock_row, transaction
from ..sync.models import SyncRecord
from ..tasks.models import Task
from ..review.services import completed_on, require_outsider
from ..workdays import Calendar
from .models import CATEGORIES, PublishedResult

OUTCOME_CATEGORY = {"non_cooperation": "non_cooperation", "closed": "closed", "not_found": "unreachable"}


def suggest_category(task: Task) -> str:
    """What the records say: the outcome first; then whether hazards were found and all are closed."""
    outcome = db.session.scalar(select(SyncRecord).where(SyncRecord.task_id == task.id, SyncRecord.kind == "outcome"))
    if outcome is not None and outcome.data.get("outcome") in OUTCOME_CATEGORY:
        return OUTCOME_CATEGORY[outcome.data["outcome"]]
    found, closed = _hazard_counts(task)
    if not found:
        return "no_problem"
    return "corrected" if closed == found else "pending"


def _hazard_counts(task: Task) -> tuple[int, int]:
    rows = db.session.execute(select(Hazard.status, func.count()).where(Hazard.task_id == task.id)
                              .group_by(Hazard.status)).all()
    return sum(n for _s, n in rows), sum(n for s, n in rows if s == "closed")


def publication_due(task: Task, calendar: Calendar | None = None):
    """R20: published within the plan's working days after the inspection ends; (date, provisional).
    A re-inspection has no result of its own to publish."""
    done = completed_on(task)
    if done is None or task.kind == "reinspection":
        return None, False
    return (calendar or Calendar()).add_working_days(done, task.publication_days)


def versions(task_id: int) -> list[PublishedResult]:
    return db.session.scalars(select(PublishedResult).where(PublishedResult.task_id == task_id)
                              .order_by(PublishedResult.version)).all()


def publish(task: Task, category: str, user, reason: str = "") -> PublishedResult:
    """The first publication, or a correction (a new version with its reason; the old one stays)."""
    if category not in CATEGORIES:
        raise ServiceError(_("Choose one of the national result categories."), "category")
    reason = (reason or "").strip()
    with transaction():
        lock_row(task)  # one publisher at a time
        require_outsider(user, task)  # issue #11 point 2
        if task.review_state != "approved" or task.kind == "reinspection":
            raise ServiceError(_("Only an approved inspection can be published."))
        earlier = versions(task.id)
        if earlier and not reason:
            raise ServiceError(_("A correction needs its reason; the published version stays visible."), "reason")
        if earlier and earlier[-1].category == category:
            raise ServiceError(_("That is already the published result."), "category")
        found, closed = _hazard_counts(task)
        done_at = db.session.scalar(select(SyncRecord.device_time).where(SyncRecord.task_id == task.id,
                                                                         SyncRecord.kind == "outcome"))
        for old in earlier:
            old.current = False
        result = PublishedResult(task_id=task.id, version=len(earlier) + 1, current=True, category=category,
                                 enterprise_name=task.enterprise.get("name", ""), uscc=task.uscc,
                                 region=task.enterprise.get("region", ""), batch_id=task.batch_id,
                                 batch_title=task.batch.title, year=task.batch.plan.year,
                                 inspected_on=done_at.astimezone(SHANGHAI).date() if done_at else None,
                                 hazards_found=found, hazards_closed=closed, reason=reason if earlier else "",
                                 published_at=utcnow(), published_by=user.id)
        db.session.add(result)
        db.session.flush()
        record("result.publish" if not earlier else "result.correct", "task", task.id,
               earlier[-1].public_view() if earlier else None, result.public_view())
    return result
