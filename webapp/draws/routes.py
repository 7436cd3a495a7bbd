"""Back office: plans, batches and the draw ceremony (brigade lead and coordinating office)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import roles as R
from ..access import roles
from ..db_types import today_shanghai
from ..extensions import db
from ..flashing import flash_step
from ..inputs import int_args
from ..registries.models import ENTERPRISE_FLAGS, INDUSTRIES, Region
from ..registries.items import item_list
from ..registries.vocab import FLAG_LABELS, INDUSTRY_LABELS, METHOD_LABELS
from ..services import ServiceError
from ..tasks import phase as task_phase
from ..tasks.models import Task, with_members
from . import ceremony
from .models import Batch, Draw, Plan
from .plans import (DRAW_TYPE_LABELS, Universe, approve_plan, batch_findings, plan_findings, publish_plan,
                    save_batch, save_plan)

bp = Blueprint("draws", __name__)
MANAGERS = (R.ADMIN, R.BRIGADE_LEAD)


def _plan(plan_id: int) -> Plan:
    return db.session.get(Plan, plan_id) or abort(404)


def _batch(batch_id: int) -> Batch:
    return db.session.get(Batch, batch_id) or abort(404)


def _draw(pk: int) -> Draw:
    return db.session.get(Draw, pk) or abort(404)


@bp.get("/plans/")
@roles(*R.STAFF)
def plans():
    rows = db.session.scalars(select(Plan).order_by(Plan.year.desc(), Plan.id.desc())).all()
    return render_template("draws/plans.html", plans=rows, can_edit=current_user.role in MANAGERS)


@bp.route("/plans/new", methods=["GET", "POST"])
@roles(*MANAGERS)
def plan_new():
    return _plan_form(None)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@roles(*MANAGERS)
def plan_edit(plan_id: int):
    return _plan_form(_plan(plan_id))


def _plan_form(plan):
    error = None
    form = request.form if request.method == "POST" else (
        {"title": plan.title, "year": plan.year, "publication_days": plan.publication_days} if plan else
        {"year": today_shanghai().year, "publication_days": 20})
    if request.method == "POST":
        try:
            plan = save_plan(request.form, plan)
            flash(_("Plan saved."), "success")
            return redirect(url_for("draws.plan", plan_id=plan.id), 303)
        except ServiceError as exc:
            error = exc
    return render_template("draws/plan_form.html", plan=plan, form=form, error=error), (422 if error else 200)


@bp.get("/plans/<int:plan_id>")
@roles(*R.STAFF)
def plan(plan_id: int):
    """The plan with its batches and every coverage rule, explained (R5–R13)."""
    p = _plan(plan_id)
    return render_template("draws/plan.html", plan=p, findings=plan_findings(p),
                           can_edit=current_user.role in MANAGERS, draw_types=DRAW_TYPE_LABELS)


@bp.post("/plans/<int:plan_id>/approve")
@roles(*MANAGERS)
def plan_approve(plan_id: int):
    return flash_step(lambda: approve_plan(_plan(plan_id)), _("Plan approved."),
                       url_for("draws.plan", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/publish")
@roles(*MANAGERS)
def plan_publish(plan_id: int):
    return flash_step(lambda: publish_plan(_plan(plan_id)), _("Plan published."),
                       url_for("draws.plan", plan_id=plan_id))


@bp.route("/plans/<int:plan_id>/batches/new", methods=["GET", "POST"])
@roles(*MANAGERS)
def batch_new(plan_id: int):
    return _batch_form(_plan(plan_id), None)


@bp.route("/batches/<int:batch_id>/edit", methods=["GET", "POST"])
@roles(*MANAGERS)
def batch_edit(batch_id: int):
    b = _batch(batch_id)
    return _batch_form(b.plan, b)


def _batch_form(plan, batch):
    error = None
    if request.method == "POST":
        try:
            batch = save_batch(plan, request.form, batch)
            flash(_("Batch saved."), "success")
            return redirect(url_for("draws.batch", batch_id=batch.id), 303)
        except ServiceError as exc:
            error = exc
        form, chosen = request.form, {
            "industry": request.form.getlist("industry"), "flag": request.form.getlist("flag"),
            "region": request.form.getlist("region"), "item": int_args(request.form.getlist("item"))}
    elif batch:
        form = {"title": batch.title, "window_start": batch.window_start, "window_end": batch.window_end,
                "draw_type": batch.draw_type, "sample_size": batch.sample_size if batch.sample_size is not None else "",
                "sample_percent": f"{batch.sample_bp / 100:g}" if batch.sample_bp else "",
                "group_size": batch.group_size, "capacity": batch.capacity, "method": batch.method,
                "include_focus": "1" if batch.include_focus else ""}
        chosen = {"industry": batch.filter_industries, "flag": batch.filter_flags, "region": batch.filter_regions,
                  "item": [i.id for i in batch.items]}
    else:
        form = {"draw_type": "undirected", "group_size": 2, "capacity": 10, "method": "onsite"}
        chosen = {"industry": [], "flag": [], "region": [], "item": []}
    return render_template(
        "draws/batch_form.html", plan=plan, batch=batch, form=form, chosen=chosen, error=error,
        draw_types=DRAW_TYPE_LABELS, industries=[(k, INDUSTRY_LABELS[k]) for k in INDUSTRIES],
        flags=[(k, FLAG_LABELS[k]) for k in ENTERPRISE_FLAGS], methods=METHOD_LABELS,
        regions=db.session.scalars(select(Region).order_by(Region.code)).all(), items=item_list(),
    ), (422 if error else 200)


@bp.get("/batches/<int:batch_id>")
@roles(*R.STAFF)
def batch(batch_id: int):
    """A batch and its draw ceremony: commit, reveal, groups, substitutions, supersession."""
    b = _batch(batch_id)
    tasks, phases, shown = [], {}, []
    live = b.live_draw
    if live and live.state == "drawn":
        tasks = db.session.scalars(select(Task).where(Task.draw_pk == live.id).order_by(Task.uscc)
                                   .options(with_members())).all()
        phases = task_phase.phases(tasks)  # one state per task, as on every page (issue #12 point 3)
    wanted = request.args.get("phase", "all")
    wanted = wanted if wanted in task_phase.PHASES else "all"
    shown = [t for t in tasks if wanted == "all" or phases[t.id] == wanted]
    phase_counts = {p: sum(1 for t in tasks if phases[t.id] == p) for p in task_phase.PHASES}
    return render_template(
        "draws/batch.html", batch=b, plan=b.plan, live=live, tasks=tasks, shown=shown, phases=phases,
        phase=wanted, phase_counts=phase_counts, today=today_shanghai(),
        findings=batch_findings(b, Universe(b.plan.year)) if not live else [],
        proposed=next((d for d in b.draws if d.state == "proposed"), None),
        can_edit=current_user.role in MANAGERS, suggested_round=ceremony.suggest_drand_round(),
        draw_types=DRAW_TYPE_LABELS, methods=METHOD_LABELS, is_public=ceremony.is_public,
        sealed_by=ceremony.sealed_by, opens_on=ceremony.opens_on, last_issue=ceremony.last_lottery_issue(),
        drawn_issue=_drawn_issue())


def _drawn_issue() -> int:
    """The highest 双色球 issue of this year that may already have been drawn (issue #11 point 6)."""
    from .verify_draw import lottery_draws_passed
    year, passed = lottery_draws_passed(ceremony.utcnow())
    return year * 1000 + passed


def _step(batch_id: int, action, success):
    """A ceremony step on the batch page."""
    return flash_step(action, success, url_for("draws.batch", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/commit")
@roles(*MANAGERS)
def batch_commit(batch_id: int):
    return _step(batch_id, lambda: ceremony.commit_draw(_batch(batch_id), request.form),
                 lambda d: _("Commitment published: %(c)s", c=d.commitment))


@bp.post("/draws/<int:pk>/reveal")
@roles(*MANAGERS)
def draw_reveal(pk: int):
    d = _draw(pk)
    return _step(d.batch_id, lambda: ceremony.reveal(d, request.form.get("beacon_value"),
                                                     fetch=request.form.get("fetch") == "1"),
                 lambda d: _("Draw computed; %(n)d tasks dispatched.", n=len(d.result["selected"])))


@bp.post("/draws/<int:pk>/publish")
@roles(*MANAGERS)
def draw_publish(pk: int):
    d = _draw(pk)
    return _step(d.batch_id, lambda: ceremony.publish_draw(d), lambda _r: _("Inputs and result published."))


@bp.post("/draws/<int:pk>/substitute")
@roles(*MANAGERS)
def draw_substitute(pk: int):
    d = _draw(pk)
    form = request.form
    return _step(d.batch_id, lambda: ceremony.substitute(d, form.get("kind"), form.get("task", ""),
                                                         form.get("out", ""), form.get("reason", "")),
                 lambda sub: _("Substitution recorded: %(out)s → %(inn)s", out=sub.out,
                               inn=sub.in_ or _("none left")))


@bp.post("/batches/<int:batch_id>/supersede")
@roles(*MANAGERS)
def batch_supersede(batch_id: int):
    return _step(batch_id, lambda: ceremony.request_supersede(_batch(batch_id), request.form, current_user.id),
                 lambda _r: _("Superseding draw proposed; a second person must approve it."))


@bp.post("/draws/<int:pk>/approve")
@roles(*MANAGERS)
def draw_approve(pk: int):
    d = _draw(pk)
    return _step(d.batch_id, lambda: ceremony.approve_supersede(d, current_user.id),
                 lambda d: _("Superseding draw committed: %(c)s", c=d.commitment))


@bp.post("/draws/<int:pk>/withdraw")
@roles(*MANAGERS)
def draw_withdraw(pk: int):
    d = _draw(pk)
    return _step(d.batch_id, lambda: ceremony.withdraw_proposal(d), lambda _r: _("Proposal withdrawn."))
