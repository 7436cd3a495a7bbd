"""One state per task, derived and shown the same way on every page (issue #12 point 3).

A task's life is spread over three columns (``status`` from the draw, ``review_state`` from the
team lead's review, the synced records and the published result). People need one word for it.
The phase is derived, never stored, so it cannot drift from the facts it summarises:

    unstaffed | cancelled                     the draw's outcome, before any work
    dispatched → in_progress → submitted → returned → submitted … → approved → published

A re-inspection (复查) runs through the same phases except ``published`` (its result belongs to the
hazards it closes); pages show the kind beside the phase. ``overdue`` is not a phase but a flag:
a task still dispatched or in progress after its window (server time, Asia/Shanghai dates).
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, select

from ..extensions import db
from .models import Task

PHASES = ("dispatched", "in_progress", "submitted", "returned", "approved", "published", "unstaffed", "cancelled")

LABELS = {
    "dispatched": _l("Dispatched, not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted, awaiting review"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved, not yet published"),
    "published": _l("Result published"),
    "unstaffed": _l("No group drawn"),
    "cancelled": _l("Cancelled"),
}
#: The tag's colour class: good (done), warn (someone must act), bad (blocked), '' (under way).
TONES = {"dispatched": "", "in_progress": "", "submitted": "warn", "returned": "warn", "approved": "good",
         "published": "good", "unstaffed": "bad", "cancelled": ""}
#: Phases in which the inspection is still to be done: the inspectors' "open" list.
OPEN = ("dispatched", "in_progress", "returned")
#: Phases the inspection is finished in (from the inspectors' point of view).
DONE = ("submitted", "approved", "published")

KIND_LABELS = {"random": _l("Random check"), "reinspection": _l("Re-inspection")}


def _has_records():
    from ..sync.models import SyncRecord
    return exists().where(SyncRecord.task_id == Task.id)


def _has_result():
    from ..publication.models import PublishedResult
    return exists().where(PublishedResult.task_id == Task.id)


def clause(phase: str):
    """A WHERE clause selecting the tasks in ``phase`` (for filters and counts)."""
    live = Task.status == "dispatched"
    if phase == "dispatched":
        return and_(live, Task.review_state == "open", ~_has_records())
    if phase == "in_progress":
        return and_(live, Task.review_state == "open", _has_records())
    if phase in ("submitted", "returned"):
        return and_(live, Task.review_state == phase)
    if phase == "approved":
        return and_(live, Task.review_state == "approved", ~_has_result())
    if phase == "published":
        return and_(live, Task.review_state == "approved", _has_result())
    if phase in ("unstaffed", "cancelled"):
        return Task.status == phase
    if phase == "open":
        return and_(live, Task.review_state.in_(("open", "returned")))
    if phase == "done":
        return and_(live, Task.review_state.in_(("submitted", "approved")))
    return false()


def overdue_clause(day: date):
    """Tasks whose window ended before ``day`` and whose inspection was never submitted."""
    return and_(Task.status == "dispatched", Task.completed_at.is_(None), Task.due_date < day)


def phase_of(task: Task, started: bool, published: bool) -> str:
    if task.status in ("unstaffed", "cancelled"):
        return task.status
    if task.review_state == "approved":
        return "published" if published else "approved"
    if task.review_state in ("submitted", "returned"):
        return task.review_state
    return "in_progress" if started else "dispatched"


def phases(tasks) -> dict[int, str]:
    """Task id → phase for a page of tasks, in two queries whatever the page's length."""
    from ..publication.models import PublishedResult
    from ..sync.models import SyncRecord
    ids = [t.id for t in tasks]
    if not ids:
        return {}
    started = set(db.session.scalars(select(SyncRecord.task_id).where(SyncRecord.task_id.in_(ids)).distinct()))
    published = set(db.session.scalars(
        select(PublishedResult.task_id).where(PublishedResult.task_id.in_(ids)).distinct()))
    return {t.id: phase_of(t, t.id in started, t.id in published) for t in tasks}


def phase(task: Task) -> str:
    return phases([task])[task.id]


def init_app(app) -> None:
    """Templates: ``task_phases(tasks)`` for a list, ``task_phase(task)`` for one, and the labels."""
    app.jinja_env.globals.update(task_phases=phases, task_phase=phase, phase_labels=LABELS,
                                 phase_tones=TONES, task_kind_labels=KIND_LABELS, task_phase_list=PHASES)
