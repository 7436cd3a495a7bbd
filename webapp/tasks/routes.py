"""Task lists: an inspector's own tasks first (mobile), the brigade's overview."""
from flask import Blueprint, abort, render_template, request, url_for
from jinja2_fragments.flask import render_block
from flask_login import current_user
from sqlalchemy import case, select

from .. import roles as R
from ..access import require, roles
from ..db_types import today_shanghai
from ..extensions import db, htmx
from ..pagination import paginate
from ..registries.vocab import INDUSTRY_LABELS, METHOD_LABELS
from . import phase as P
from .models import Task, with_members
from .policy import can_view_task, task_scope

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@bp.get("/")
@roles(*R.ALL)
def index():
    """My tasks (inspector), my groups' tasks (team lead), every task (brigade, office), filtered by
    phase (issue #12 point 3) with the count of each filter; the to-do list first."""
    name = request.args.get("phase") or {"all": "all"}.get(request.args.get("status", ""), "open")
    name = name if name in P.FILTERS else "open"
    today = today_shanghai()
    scoped = task_scope(current_user, select(Task))
    stmt = (P.filtered(scoped, name, today)
            .order_by(case((P.clause("open"), 0), else_=1), Task.due_date, Task.id).options(with_members()))
    page = paginate(stmt)
    ctx = {"page": page, "phase": name, "phases": P.phases(page.items), "today": today,
           "filters": P.FILTERS, "filter_labels": P.FILTER_LABELS}
    if htmx and not htmx.boosted:  # a page turn: the chips and their counts are not redrawn
        return render_block("tasks/index.html", "results", **ctx)
    return render_template("tasks/index.html", counts=P.counts(scoped, today), **ctx)


@bp.get("/<int:task_id>")
@roles(*R.ALL)
def show(task_id: int):
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    member = bool(current_user.inspector_id) and any(m.inspector_id == current_user.inspector_id
                                                     for m in task.active_members)
    return render_template("tasks/show.html", task=task, industries=INDUSTRY_LABELS, methods=METHOD_LABELS,
                           phase=P.phase(task), today=today_shanghai(), member=member,
                           basis=P.basis_label(task.basis),
                           app_url=url_for("pwa.index") + "#/task/" + str(task.id))
