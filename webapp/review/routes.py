"""Review queue (team lead), the hazard register and its actions. Every object goes through the task
policy: a team lead reviews the groups of their own department only."""
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import roles as R
from ..access import require, roles
from ..db_types import today_shanghai
from ..extensions import db, htmx
from ..flashing import flash_step
from ..pagination import paginate
from ..sync.models import SyncRecord
from ..tasks.models import Task, with_members
from ..tasks.policy import can_view_task, task_scope
from . import services
from .models import FEEDBACK_WAYS, GRADES, HAZARD_STATES, Feedback, Hazard

bp = Blueprint("review", __name__)
REVIEWERS = (R.TEAM_LEAD, R.BRIGADE_LEAD)
QUEUES = ("submitted", "returned", "approved")


def _task(task_id: int) -> Task:
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    return task


def _hazard(hazard_id: int) -> Hazard:
    hazard = db.session.get(Hazard, hazard_id) or abort(404)
    require(can_view_task(current_user, hazard.task))
    return hazard


@bp.get("/review/")
@roles(*R.STAFF)
def queue():
    """Inspections synced by the lead's groups, waiting for review (or returned, or approved)."""
    state = request.args.get("state", "submitted")
    state = state if state in QUEUES else "submitted"
    stmt = (task_scope(current_user, select(Task)).where(Task.review_state == state)
            .order_by(Task.due_date, Task.id).options(with_members()))
    return render_template("review/queue.html", page=paginate(stmt), state=state, queues=QUEUES)


@bp.get("/review/<int:task_id>")
@roles(*R.STAFF)
def task(task_id: int):
    task = _task(task_id)
    records = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)
                                 .order_by(SyncRecord.kind, SyncRecord.question, SyncRecord.received_at)).all()
    by_kind = {}
    for row in records:
        by_kind.setdefault(row.kind, []).append(row)
    hazards = db.session.scalars(select(Hazard).where((Hazard.task_id == task.id) |
                                                      (Hazard.reinspection_task_id == task.id))
                                 .order_by(Hazard.id)).all()
    questions = {}
    from ..checklists.models import ChecklistVersion
    for c in task.checklists:
        version = db.session.get(ChecklistVersion, c["id"])
        for q in (version.questions if version else []):
            questions[q["id"]] = q
    from ..publication import services as publication
    due, provisional = publication.publication_due(task)
    fb_due, fb_provisional = services.feedback_due(task)
    return render_template("review/task.html", task=task, by_kind=by_kind, hazards=hazards,
                           published=publication.versions(task.id), publication_due=due,
                           due_provisional=provisional, feedback_due=fb_due, feedback_provisional=fb_provisional,
                           feedback=db.session.scalar(select(Feedback).where(Feedback.task_id == task.id)),
                           ways=FEEDBACK_WAYS, today_iso=today_shanghai().isoformat(),
                           suggested=publication.suggest_category(task) if task.review_state == "approved" else None,
                           conflicts=services.conflicts_of(task.id), questions=questions,
                           names={m.inspector_id: m.inspector.name for m in task.members},
                           can_review=current_user.role in REVIEWERS, today=today_shanghai())


def _back(task_id: int) -> str:
    return url_for("review.task", task_id=task_id)


@bp.post("/review/<int:task_id>/approve")
@roles(*REVIEWERS)
def approve(task_id: int):
    return flash_step(lambda: services.approve(_task(task_id), current_user), _("Inspection approved."),
                      _back(task_id))


@bp.post("/review/<int:task_id>/return")
@roles(*REVIEWERS)
def send_back(task_id: int):
    return flash_step(lambda: services.return_for_correction(_task(task_id), current_user,
                                                             request.form.get("comment", "")),
                      _("Returned to the group; their phones get your comment at the next sync."), _back(task_id))


@bp.post("/review/<int:task_id>/resolve")
@roles(*REVIEWERS)
def resolve(task_id: int):
    return flash_step(lambda: services.resolve_conflict(_task(task_id), request.form.get("question", ""),
                                                        request.form.get("uuid", ""), current_user),
                      _("Answer chosen; the other stays on record."), _back(task_id))


@bp.post("/review/<int:task_id>/reinspect")
@roles(*REVIEWERS)
def reinspect(task_id: int):
    return flash_step(lambda: services.schedule_reinspection(_task(task_id), current_user),
                      lambda t: _("Re-inspection dispatched to the group, due %(d)s.", d=t.due_date), _back(task_id))


@bp.post("/review/<int:task_id>/feedback")
@roles(*REVIEWERS)
def feedback(task_id: int):
    form = request.form
    return flash_step(lambda: services.record_feedback(_task(task_id), form.get("given_on", ""), form.get("way", ""),
                                                       form.get("note", ""), current_user),
                      _("Feedback to the enterprise recorded (R19)."), _back(task_id))


@bp.get("/hazards/")
@roles(*R.STAFF)
def hazards():
    """The hazard register: filter by status, grade, overdue, batch; a team lead sees their groups'."""
    args = {k: request.args.get(k, "") for k in ("q", "status", "grade", "overdue", "batch")}
    stmt = select(Hazard).join(Task, Task.id == Hazard.task_id)
    stmt = task_scope(current_user, stmt)
    status, grade = args.get("status", ""), args.get("grade", "")
    if status in HAZARD_STATES:
        stmt = stmt.where(Hazard.status == status)
    if grade in GRADES:
        stmt = stmt.where(Hazard.grade == grade)
    today = today_shanghai()
    if args.get("overdue"):
        stmt = stmt.where(Hazard.status.in_(("pending", "rectifying")), Hazard.deadline < today)
    if args.get("batch", "").isdigit():
        stmt = stmt.where(Hazard.batch_id == int(args["batch"]))
    if args.get("q"):
        stmt = stmt.where(Hazard.enterprise_name.contains(args["q"].strip(), autoescape=True))
    stmt = stmt.order_by(Hazard.deadline.is_(None), Hazard.deadline, Hazard.id)
    ctx = {"page": paginate(stmt), "args": args, "states": HAZARD_STATES, "grades": GRADES, "today": today}
    if htmx and not htmx.boosted:
        return render_block("review/hazards.html", "results", **ctx)
    return render_template("review/hazards.html", **ctx)


@bp.post("/hazards/<int:hazard_id>/close")
@roles(*REVIEWERS)
def hazard_close(hazard_id: int):
    hazard = _hazard(hazard_id)
    return flash_step(lambda: services.close_hazard(hazard, current_user), _("Hazard closed (销号)."),
                      _back(hazard.reinspection_task_id or hazard.task_id))


@bp.post("/hazards/<int:hazard_id>/keep-open")
@roles(*REVIEWERS)
def hazard_keep_open(hazard_id: int):
    hazard = _hazard(hazard_id)
    return flash_step(lambda: services.keep_open(hazard, current_user, request.form.get("note", "")),
                      _("The hazard stays open."), _back(hazard.reinspection_task_id or hazard.task_id))
