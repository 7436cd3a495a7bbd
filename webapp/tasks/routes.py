"""Task lists: an inspector's own tasks first (mobile), the brigade's overview."""
from flask import Blueprint, abort, render_template, request
from jinja2_fragments.flask import render_block
from flask_login import current_user
from sqlalchemy import select

from .. import roles as R
from ..access import require, roles
from ..db_types import today_shanghai
from ..extensions import db, htmx
from ..pagination import paginate
from ..registries.vocab import INDUSTRY_LABELS, METHOD_LABELS
from .models import Task, with_members
from .policy import can_view_task, task_scope

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@bp.get("/")
@roles(*R.ALL)
def index():
    """My tasks (inspector), my groups' tasks (team lead), every task (brigade, office)."""
    status = request.args.get("status", "open")
    stmt = task_scope(current_user, select(Task))
    if status == "open":
        stmt = stmt.where(Task.status.in_(("dispatched", "unstaffed")))
    stmt = stmt.order_by(Task.due_date, Task.id).options(with_members())
    ctx = {"page": paginate(stmt), "status": status, "today": today_shanghai()}
    if htmx and not htmx.boosted:
        return render_block("tasks/index.html", "results", **ctx)
    return render_template("tasks/index.html", **ctx)


@bp.get("/<int:task_id>")
@roles(*R.ALL)
def show(task_id: int):
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    return render_template("tasks/show.html", task=task, industries=INDUSTRY_LABELS, methods=METHOD_LABELS)
