"""Home page, the public item list and error pages."""
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, select

from .. import roles as R
from ..access import public
from ..db_types import today_shanghai
from ..deadlines import due_items
from ..draws.models import Draw, Plan
from ..extensions import db
from ..registries.models import Enterprise, InspectionItem, Inspector
from ..review.models import Hazard
from ..tasks import phase
from ..tasks.models import Task, TaskMember, with_members
from ..tasks.policy import task_scope
from ..registries.items import item_list, random_share
from ..registries.vocab import METHOD_LABELS

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    """The public landing page, or the signed-in person's page for their main job (issue #12 points 1, 2):
    the office its registries and users, the brigade lead the plan and its batches, the team lead the
    review queue, the inspector their tasks and the way into the offline app."""
    if not current_user.is_authenticated:
        return render_template("public/home.html", role_labels=R.LABELS)
    today = today_shanghai()
    ctx = {"role_labels": R.LABELS, "today": today}
    role = current_user.role
    if role == R.ADMIN:
        ctx["registry_cards"] = _registry_cards()
    if role in (R.ADMIN, R.BRIGADE_LEAD, R.TEAM_LEAD):
        ctx["task_counts"] = phase.counts(task_scope(current_user, select(Task)), today)
    if role == R.BRIGADE_LEAD:
        ctx.update(_plan_overview(today))
        ctx["deadlines"] = due_items(current_user, today)[:5]
    if role == R.TEAM_LEAD:
        ctx.update(_review_overview())
    if current_user.inspector_id:
        ctx.update(_my_tasks(today))
    if current_user.department_id and role in R.STAFF:  # issue #13: summaries addressed to the office (R23)
        from ..brigade.report import addressed_count, awaiting_count
        if addressed_count(current_user):
            ctx["reports_awaiting"] = awaiting_count(current_user)
    if role == R.INSPECTOR:
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        # Browsers treat these as secure contexts without HTTPS; anywhere else the app's offline store
        # and service worker need HTTPS (the app says so too).
        ctx["secure"] = request.is_secure or host in ("localhost", "127.0.0.1", "[::1]")
    return render_template("public/home.html", **ctx)


def _registry_cards() -> list[tuple]:
    """(number, words, link) for the office's registries. A list, not a dict read by attribute: a
    key named ``items`` once printed the dict's method (issue #12 point 1)."""
    count = lambda stmt: db.session.scalar(stmt)  # noqa: E731
    return [
        (count(select(func.count()).select_from(Enterprise)), _("enterprises in the pool"),
         url_for("registries.enterprises")),
        (count(select(func.count()).where(Enterprise.status == "operating")),
         _("operating, so they may be drawn"), url_for("registries.enterprises", status="operating")),
        (count(select(func.count()).where(Inspector.active.is_(True))), _("active inspectors"),
         url_for("registries.inspectors", active="1")),
        (count(select(func.count()).select_from(InspectionItem)), _("items in the list"),
         url_for("registries.items")),
    ]


def _plan_overview(today) -> dict:
    """This year's plans (else the latest), each batch with its tasks counted per phase."""
    plans = db.session.scalars(select(Plan).where(Plan.year == today.year).order_by(Plan.id.desc())).all()
    if not plans:
        plans = db.session.scalars(select(Plan).order_by(Plan.year.desc(), Plan.id.desc()).limit(1)).all()
    batch_ids = [b.id for p in plans for b in p.batches]
    per_batch = {}
    if batch_ids:
        live = select(Task).join(Draw, Draw.id == Task.draw_pk).where(Task.batch_id.in_(batch_ids),
                                                                        Draw.state == "drawn")
        sub = live.with_only_columns(Task.batch_id, phase.expression().label("phase"),
                                     maintain_column_froms=True).subquery()
        for batch_id, name, n in db.session.execute(select(sub.c.batch_id, sub.c.phase, func.count())
                                                    .group_by(sub.c.batch_id, sub.c.phase)):
            per_batch.setdefault(batch_id, {})[name] = n
    return {"plans": plans, "per_batch": per_batch}


def _review_overview() -> dict:
    """What waits for the team lead: inspections to review, closures (销号) to decide."""
    scoped = task_scope(current_user, select(Task))
    submitted = db.session.scalar(select(func.count()).select_from(
        scoped.where(phase.clause("submitted")).subquery()))
    closures = db.session.scalar(select(func.count()).select_from(
        task_scope(current_user, select(Hazard.id).join(Task, Task.id == Hazard.task_id))
        .where(Hazard.status == "awaiting_review", Hazard.closure_uuid.is_not(None)).subquery()))
    waiting = db.session.scalars(scoped.where(phase.clause("submitted")).order_by(Task.due_date, Task.id)
                                 .limit(5).options(with_members())).all()
    return {"to_review": submitted, "closures": closures, "waiting": waiting}


def _my_tasks(today) -> dict:
    """The signed-in inspector's own tasks, the to-do ones first."""
    mine = select(Task).join(TaskMember, TaskMember.task_id == Task.id).where(
        TaskMember.inspector_id == current_user.inspector_id, TaskMember.active.is_(True),
        Task.status == "dispatched")
    rows = db.session.scalars(mine.order_by(case((phase.clause("open"), 0), else_=1), Task.due_date, Task.id)
                              .limit(8)).all()
    counts = phase.counts(mine, today)
    return {"my_tasks": rows, "my_phases": phase.phases(rows), "my_counts": counts}


@bp.get("/public/items")
@public
def items():
    """随机抽查事项清单 as published: current version of each item (R1)."""
    rows = item_list()
    random_n, total, r7_ok = random_share(rows)
    return render_template("public/items.html", items=rows, methods=METHOD_LABELS, random_n=random_n, total=total,
                           r7_ok=r7_ok)


@bp.get("/healthz")
@public
def health():
    """Liveness and database reachability for the load balancer."""
    db.session.execute(select(1))
    return {"status": "ok"}


def forbidden(error):
    return render_template("errors/403.html"), 403


def not_found(error):
    return render_template("errors/404.html"), 404
