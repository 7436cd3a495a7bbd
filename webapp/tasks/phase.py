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
from sqlalchemy import and_, or_, case, exists, false, func, select

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
#: Phases in which the inspection is still to be done: the "to do" list. A task without a group is the
#: brigade lead's to do (an inspector never holds one).
OPEN = ("dispatched", "in_progress", "returned", "unstaffed")
#: Phases the inspection is finished in (from the inspectors' point of view).
DONE = ("submitted", "approved", "published")

KIND_LABELS = {"random": _l("Random check"), "reinspection": _l("Re-inspection")}
#: A re-inspection's result is never published on its own (it belongs to the hazards it closes): once
#: approved it is finished, not "awaiting publication".
#: Its phase is therefore ``published`` (the end) and it reads 复查已审核.
REINSPECTION_LABELS = {"published": _l("Re-inspection approved")}

#: The filters of the task lists, in the order the chips show: the to-do list, everything, each phase,
#: and the overdue flag.
FILTERS = ("open", "all") + PHASES + ("overdue",)
FILTER_LABELS = {"open": _l("To do"), "all": _l("All"), "overdue": _l("Overdue"), **LABELS}
#: Filters the batch summary links to (issue #13), not shown as chips unless chosen: every task given to a
#: group, the inspections done (submitted or reviewed), those whose review passed, and those not done.
EXTRA_FILTERS = {"live": _l("Dispatched to a group"), "done": _l("Inspection done"),
                 "reviewed": _l("Review passed"), "undone": _l("Not done")}

#: Why a unit was drawn (``Task.basis``): the pool, or the rule that makes it mandatory. The values are
#: the fixed reasons the draw writes into mandatory.csv (draws/plans.py, REASON_R8 …), so they are
#: matched here as data; the screen says the rule in words and the tooltip cites it.
BASIS_LABELS = {
    "pool": (_l("Drawn at random from the pool"), ""),
    "reinspection": (_l("Re-inspection of the hazards found"), ""),
    "R8": (_l("Key-supervision unit: inspected every year"), "《实施细则》第十六条"),
    "R9": (_l("Blacklisted unit: inspected every year"), "《实施细则》第十六条"),
    "R11": (_l("Unit under focused supervision: no limit on checks"), "《实施细则》第十六条"),
}


def label(task: Task, phase: str) -> str:
    """The words for ``phase`` of ``task`` (a re-inspection's approval is its end)."""
    if task.kind == "reinspection" and phase in REINSPECTION_LABELS:
        return REINSPECTION_LABELS[phase]
    return LABELS[phase]


def basis_label(basis: str) -> tuple[str, str]:
    """(words, rule id for the tooltip) for a task's draw basis; an unknown reason is shown as written
    without its rule prefix."""
    basis = basis or "pool"
    if basis in BASIS_LABELS:
        return BASIS_LABELS[basis]
    rule, _sep, words = basis.partition(" ")
    if rule in BASIS_LABELS:
        return BASIS_LABELS[rule]
    return (words or basis, "")


def _has_records():
    from ..sync.models import SyncRecord
    return exists().where(SyncRecord.task_id == Task.id)


def _has_result():
    """Its result is published, or it is a re-inspection, whose approval is its end (nothing to publish)."""
    from ..publication.models import PublishedResult
    return or_(Task.kind == "reinspection", exists().where(PublishedResult.task_id == Task.id))


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
        return or_(and_(live, Task.review_state.in_(("open", "returned"))), Task.status == "unstaffed")
    if phase == "done":
        return and_(live, Task.review_state.in_(("submitted", "approved")))
    if phase == "live":
        return live
    if phase == "reviewed":
        return and_(live, Task.review_state == "approved")
    if phase == "undone":
        return ~clause("done")
    return false()


def expression():
    """The phase as a SQL expression over ``Task``, the same rules as ``phase_of`` (for counts)."""
    approved = Task.review_state == "approved"
    return case((Task.status == "unstaffed", "unstaffed"),
                (Task.status == "cancelled", "cancelled"),
                (and_(approved, _has_result()), "published"),
                (approved, "approved"),
                (Task.review_state == "submitted", "submitted"),
                (Task.review_state == "returned", "returned"),
                (_has_records(), "in_progress"),
                else_="dispatched")


def counts(stmt, day: date) -> dict[str, int]:
    """How many tasks of ``stmt`` (a select of Task, already scoped to the user) are in each phase,
    with the totals of the 'open', 'all' and 'overdue' filters: three queries."""
    sub = stmt.order_by(None).with_only_columns(expression().label("phase"), maintain_column_froms=True).subquery()
    out = {p: 0 for p in FILTERS}
    for name, n in db.session.execute(select(sub.c.phase, func.count()).group_by(sub.c.phase)):
        out[name] = n
    out["open"] = sum(out[p] for p in OPEN)
    out["all"] = sum(out[p] for p in PHASES)
    out["overdue"] = db.session.scalar(select(func.count()).select_from(
        stmt.order_by(None).where(overdue_clause(day)).subquery()))
    return out


def filtered(stmt, name: str, day: date):
    """``stmt`` narrowed to the filter ``name`` (see FILTERS; anything else is 'all')."""
    if name == "overdue":
        return stmt.where(overdue_clause(day))
    if name in PHASES or name == "open" or name in EXTRA_FILTERS:
        return stmt.where(clause(name))
    return stmt


def overdue_clause(day: date):
    """Tasks whose window ended before ``day`` and whose inspection was never submitted."""
    return and_(Task.status == "dispatched", Task.completed_at.is_(None), Task.due_date < day)


def phase_of(task: Task, started: bool, published: bool) -> str:
    if task.status in ("unstaffed", "cancelled"):
        return task.status
    if task.review_state == "approved":
        return "published" if published or task.kind == "reinspection" else "approved"
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
    app.jinja_env.globals.update(task_phases=phases, task_phase=phase, phase_labels=LABELS, phase_label=label,
                                 phase_tones=TONES, task_kind_labels=KIND_LABELS, task_phase_list=PHASES,
                                 task_basis_label=basis_label)
