"""Task lists: an inspector's own tasks first (mobile), the brigade's overview."""
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
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
    name = name if name in P.FILTERS or name in P.EXTRA_FILTERS else "open"
    today = today_shanghai()
    scoped, narrow, narrowed_by = _narrow(task_scope(current_user, select(Task)), today)
    stmt = (P.filtered(scoped, name, today)
            .order_by(case((P.clause("open"), 0), else_=1), Task.due_date, Task.id).options(with_members()))
    page = paginate(stmt)
    ctx = {"page": page, "phase": name, "phases": P.phases(page.items), "today": today,
           "filters": P.FILTERS + ((name,) if name in P.EXTRA_FILTERS else ()),
           "filter_labels": {**P.FILTER_LABELS, **P.EXTRA_FILTERS}, "narrow": narrow, "narrowed_by": narrowed_by}
    if htmx and not htmx.boosted:  # a page turn: the chips and their counts are not redrawn
        return render_block("tasks/index.html", "results", **ctx)
    counts = P.counts(scoped, today)
    if name in P.EXTRA_FILTERS:
        counts[name] = page.total
    return render_template("tasks/index.html", counts=counts, **ctx)


#: The batch summary's links narrow the list (issue #13): to a batch, a kind, an early outcome, an
#: inspector, or the state of the feedback (R19) or the publication (R20).
NARROW = ("batch", "kind", "outcome", "inspector", "feedback", "publication")


def _narrow(stmt, today):
    """``stmt`` narrowed by the query's NARROW arguments; the arguments kept and what they say in words."""
    from ..brigade.stats import task_clause
    from ..draws.models import Batch
    from ..inputs import int_arg
    from ..registries.models import Inspector
    from ..review.models import LABELS as REVIEW_LABELS

    args, words = {}, []
    batch_id = int_arg(request.args.get("batch", ""))
    if batch_id is not None:
        batch = db.session.get(Batch, batch_id)
        stmt = stmt.where(Task.batch_id == batch_id)
        args["batch"] = batch_id
        # Review finding: an inspector may not read the title of a batch (of a draft plan) by its id.
        words.append(batch.title if batch and current_user.role in R.STAFF else _("Batch %(n)d", n=batch_id))
    for key in NARROW[1:]:
        value = request.args.get(key, "")
        clause = task_clause(key, value, batch_id, today) if value else None
        if clause is None:
            continue
        stmt = stmt.where(clause)
        args[key] = value
        if key == "kind":
            words.append(str(P.KIND_LABELS[value]))
        elif key == "outcome":
            words.append(str(REVIEW_LABELS["outcome"][value]))
        elif key == "inspector":
            inspector = db.session.get(Inspector, int_arg(value)) if current_user.role in R.STAFF else None
            words.append(inspector.name if inspector else _("Inspector no. %(n)s", n=value))
        else:
            words.append(_NARROW_WORDS[key][value]())
    return stmt, args, words


_NARROW_WORDS = {
    "feedback": {"due": lambda: _("Feedback due"), "on_time": lambda: _("Feedback on time"),
                 "late": lambda: _("Feedback late"), "missing_overdue": lambda: _("Feedback not given, overdue"),
                 "pending": lambda: _("Feedback not given, still in time")},
    "publication": {"due": lambda: _("Publication due"), "on_time": lambda: _("Published on time"),
                    "late": lambda: _("Published late"), "missing_overdue": lambda: _("Not published, overdue"),
                    "pending": lambda: _("Not published, still in time")},
}


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
