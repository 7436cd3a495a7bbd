"""Accountability pages (R24): the year's or a batch's failures per inspector and per group, the tasks and
hazards behind each count, and each task's duty record. The office and the brigade lead only.

Every view writes exactly one audit entry (who looked at what): the one exemption from "a GET changes
nothing" (tests/test_get_is_safe.py AUDITED_VIEWS). Looking at who failed is itself accountable.
"""
from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import roles as R
from ..access import roles
from ..audit.services import record
from ..db_types import today_shanghai
from ..draws.models import Batch, Plan
from ..extensions import db
from ..inputs import int_arg
from ..publication.models import CATEGORY_LABELS
from ..services import transaction
from ..tasks import phase as P
from ..tasks.models import Task
from . import accountability as A
from . import bp

VIEWERS = (R.ADMIN, R.BRIGADE_LEAD)


def _audit(action: str, object_type: str, object_id, after: dict) -> None:
    with transaction():
        record(action, object_type, object_id, None, after)


@bp.get("/accountability")
@roles(*VIEWERS)
def accountability():
    today = today_shanghai()
    errors = []
    years = A.years()
    year = int_arg(request.args.get("year"), 2000, 2100)
    if request.args.get("year") and year is None:
        errors.append(_("The year is not valid: showing the latest year."))
    if year is None:
        year = years[0] if years else today.year
    batches = A.batches(year)
    batch = None
    if request.args.get("batch"):
        batch_id = int_arg(request.args.get("batch"))
        batch = next((b for b in batches if b.id == batch_id), None)
        if batch is None:
            errors.append(_("That batch is not one of the year's: showing the whole year."))
    metric = request.args.get("metric") or None
    if metric is not None and metric not in A.METRICS:
        errors.append(_("Unknown kind of failure: showing the overview."))
        metric = None
    inspector_id = group = who = None
    if metric and request.args.get("inspector"):
        inspector_id = int_arg(request.args.get("inspector"))
        who = A.inspector_name(inspector_id) if inspector_id is not None else None
        if who is None:
            errors.append(_("Unknown inspector: showing everyone's."))
            inspector_id = None
    elif metric and request.args.get("group"):
        names = A.group_names(request.args.get("group", ""))
        if names is None:
            errors.append(_("Unknown inspection group: showing everyone's."))
        else:
            group, who = A.group_key(A.group_ids(request.args["group"])), "、".join(names)

    batch_id = batch.id if batch else None
    after = {"year": year, "batch": batch.title if batch else None}
    if metric:
        after["title"] = str(A.LABELS[metric])
        if inspector_id is not None:
            after["inspector_id"] = inspector_id
        if group is not None:
            after["members"] = [int(p) for p in group.split("-")]
    _audit("accountability.view", "accountability", f"{year}" + (f"/{batch_id}" if batch_id else ""), after)

    ctx = {"year": year, "years": sorted(set(years) | {year}, reverse=True), "batches": batches, "batch": batch,
           "metric": metric, "metrics": A.METRICS, "labels": A.LABELS, "explain": A.EXPLAIN, "sources": A.SOURCES,
           "hazard_metrics": A.HAZARD_METRICS, "errors": errors, "today": today, "who": who,
           "inspector_id": inspector_id, "group": group, "grace": A.ESCALATION_GRACE_DAYS,
           "base_args": {"year": year, **({"batch": batch_id} if batch_id else {})}}
    if metric:
        rows, total = A.details(year, batch_id, metric, inspector_id, group, today)
        return render_template("brigade/accountability_list.html", rows=rows, total=total,
                               phases=P.phases([r["task"] for r in rows]), **ctx)
    # On a phone every inspector's card made the page tens of thousands of pixels tall: by default the
    # rows are those with a failure (most first); those without any are named compactly, as cleared
    # (R24 照单免责), and ``all=1`` shows everyone's row.
    show_all = request.args.get("all") == "1"
    return render_template("brigade/accountability.html", data=A.overview(year, batch_id, today),
                           show_all=show_all, **ctx)


@bp.get("/tasks/<int:task_id>/duty")
@roles(*VIEWERS)
def duty_record(task_id: int):
    task = db.session.get(Task, task_id) or abort(404)
    _audit("accountability.duty_view", "task", task.id, {"enterprise_name": (task.enterprise or {}).get("name", "")})
    batch = db.session.get(Batch, task.batch_id)
    plan = db.session.get(Plan, batch.plan_id) if batch else None
    return render_template("brigade/duty.html", task=task, record=A.duty(task), batch=batch, plan=plan,
                           phase=P.phase(task), today=today_shanghai(), categories=CATEGORY_LABELS,
                           far_m=A.FAR_M)
