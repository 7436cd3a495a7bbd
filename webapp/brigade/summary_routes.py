"""The batch summary (issue #13 point 1): the batches of each plan year with their headline figures, and
one page per batch for the brigade lead and the office; a team lead sees their department's groups only.

Every number on the page is a link to exactly the tasks or hazards it counts (the filters of the task
list and the hazard register, ``webapp/brigade/stats.py task_clause/hazard_clause``). The charts read
their data from ``<script type="application/json">`` blocks (static/brigade-charts.js); the figures
above each chart say the same in numbers, so the page reads without JavaScript.
"""
from datetime import date, timedelta

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select

from .. import roles as R
from ..access import require, roles
from ..draws.models import Batch, Draw, Plan
from ..extensions import db
from ..registries.models import INDUSTRIES
from ..review.models import LABELS as REVIEW_LABELS
from ..tasks.models import Task
from ..tasks.policy import task_scope
from . import bp
from .stats import batch_summary, headlines

VIEWERS = (R.ADMIN, R.BRIGADE_LEAD, R.TEAM_LEAD)


def _narrowed(user):
    """The user whose view is narrowed (a team lead), or None for the brigade lead and the office."""
    return user if user.role == R.TEAM_LEAD else None


def _visible(batch_id: int, user) -> bool:
    """A team lead sees a batch's summary only if one of their department's groups has a task in it."""
    if _narrowed(user) is None:
        return True
    return bool(db.session.scalar(select(exists(task_scope(user, select(Task.id)).where(Task.batch_id == batch_id)))))


@bp.get("/batches/")
@roles(*VIEWERS)
def batches():
    """The batches that were drawn, by plan year (latest first), with their headline figures."""
    drawn = select(Draw.id).where(Draw.batch_id == Batch.id, Draw.state == "drawn")
    rows = db.session.execute(select(Batch, Plan.year).join(Plan, Plan.id == Batch.plan_id)
                              .where(exists(drawn)).order_by(Plan.year.desc(), Batch.window_start, Batch.seq)).all()
    figures = headlines([b.id for b, _y in rows], _narrowed(current_user))
    years: dict[int, list] = {}
    for b, year in rows:
        f = figures[b.id]
        if _narrowed(current_user) is not None and not f["tasks"]:
            continue  # a team lead: only the batches their groups worked in
        years.setdefault(year, []).append((b, f))
    return render_template("brigade/batches.html", years=years)


def _link_tasks(batch_id: int, **args) -> str:
    args.setdefault("phase", "all")
    return url_for("tasks.index", batch=batch_id, **args)


def _link_hazards(batch_id: int, **args) -> str:
    return url_for("review.hazards", batch=batch_id, **args)


@bp.get("/batches/<int:batch_id>")
@roles(*VIEWERS)
def summary(batch_id: int):
    batch = db.session.get(Batch, batch_id) or abort(404)
    require(_visible(batch.id, current_user))
    s = batch_summary(batch, _narrowed(current_user))
    b = batch.id
    T = lambda **a: _link_tasks(b, **a)  # noqa: E731
    H = lambda **a: _link_hazards(b, **a)  # noqa: E731
    t, h = s["tasks"], s["hazards"]
    task_figures = [
        ("tasks-drawn", t["drawn"], _("Drawn"), T(kind="random"), ""),
        ("tasks-dispatched", t["dispatched"], _("Dispatched to a group"), T(kind="random", phase="live"), ""),
        ("tasks-done", t["done"], _("Inspection done"), T(kind="random", phase="done"), "good"),
        ("tasks-returned", t["returned"], _("Returned for correction"), T(kind="random", phase="returned"), "warn"),
        ("tasks-approved", t["approved"], _("Review passed"), T(kind="random", phase="reviewed"), "good"),
        ("tasks-published", t["published"], _("Result published"), T(kind="random", phase="published"), "good"),
        ("tasks-overdue", t["overdue"], _("Overdue (window ended, not done)"), T(kind="random", phase="overdue"), "bad"),
    ]
    if t["unstaffed"]:
        task_figures.append(("tasks-unstaffed", t["unstaffed"], _("No group drawn"), T(kind="random", phase="unstaffed"), "bad"))
    if t["cancelled"]:
        task_figures.append(("tasks-cancelled", t["cancelled"], _("Cancelled"), T(kind="random", phase="cancelled"), ""))
    outcome_labels = REVIEW_LABELS["outcome"]
    outcome_figures = [(f"outcome-{o}", s["outcomes"][o], outcome_labels[o], T(outcome=o), "warn")
                       for o in ("non_cooperation", "closed", "not_found")]
    hazard_figures = [
        ("hazards-total", h["total"], _("Hazards found"), H(), ""),
        ("hazards-major", h["major"], _("Major accident hazards"), H(grade="major"), "bad"),
        ("hazards-open", h["open"], _("Still to rectify"), H(open="1"), "warn"),
        ("hazards-awaiting", h["awaiting_review"], _("Awaiting re-inspection review"), H(status="awaiting_review"), ""),
        ("hazards-closed", h["closed"], _("Closed (销号)"), H(status="closed"), "good"),
        ("hazards-overdue", h["overdue"], _("Past their deadline"), H(overdue="1"), "bad"),
        ("hazards-escalated", h["escalated"], _("Escalated"), H(escalated="1"), "warn"),
    ]
    r = s["reinspections"]
    reinspection_figures = [
        ("reinspections-tasks", r["tasks"], _("Re-inspections scheduled"), T(kind="reinspection", phase="live"), ""),
        ("reinspections-total", r["total"], _("Hazards re-inspected"), H(reinspection="all"), ""),
        ("reinspections-rectified", r["rectified"], _("Found rectified"), H(reinspection="rectified"), "good"),
        ("reinspections-not_rectified", r["not_rectified"], _("Found not rectified"), H(reinspection="not_rectified"), "bad"),
        ("reinspections-pending", r["pending"], _("Re-inspection not yet recorded"), H(reinspection="pending"), ""),
    ]
    state_labels = {"on_time": _("On time"), "late": _("Late"), "missing_overdue": _("Not done, overdue"),
                    "pending": _("Not done, still in time")}
    tones = {"on_time": "good", "late": "warn", "missing_overdue": "bad", "pending": ""}

    def deadline_figures(kind: str):
        return [(f"{kind}-{k}", s[kind][k], state_labels[k], T(**{kind: k}), tones[k]) for k in state_labels]

    charts = _charts(s, T, H, state_labels)
    return render_template("brigade/summary.html", s=s, batch=batch, charts=charts, task_figures=task_figures,
                           outcome_figures=outcome_figures, hazard_figures=hazard_figures,
                           reinspection_figures=reinspection_figures,
                           feedback_figures=deadline_figures("feedback"),
                           publication_figures=deadline_figures("publication"),
                           T=T, H=H, tasks_of=_link_tasks, hazards_of=_link_hazards, narrowed=_narrowed(current_user) is not None, industries=INDUSTRIES)


def _charts(s: dict, T, H, state_labels: dict) -> dict:
    """The charts' data for static/brigade-charts.js (its vocabulary: type, labels, series, links)."""
    t, h = s["tasks"], s["hazards"]
    charts = {}
    charts["chart-progress"] = {
        "type": "hbar", "labels": [_("Dispatched to a group"), _("Inspection done"), _("Review passed"),
                                   _("Result published"), _("Overdue")],
        "series": [{"name": _("Tasks"), "data": [t["dispatched"], t["done"], t["approved"], t["published"], t["overdue"]],
                    "links": [T(kind="random", phase="live"), T(kind="random", phase="done"),
                              T(kind="random", phase="reviewed"), T(kind="random", phase="published"),
                              T(kind="random", phase="overdue")]}],
        "colors": ["#0b5cad", "#1b6e3a", "#1b6e3a", "#1b6e3a", "#b3261e"], "by_item": True}
    if s["timeline"]:
        # Every day from the window's start to today (or the window's end, or the last completion).
        done = {date.fromisoformat(p["day"]): p["n"] for p in s["timeline"]}
        first = min(min(done), date.fromisoformat(s["batch"]["window_start"]))
        last = max(max(done), min(date.fromisoformat(s["today"]), date.fromisoformat(s["batch"]["window_end"])))
        if (last - first).days > 366:
            first = last - timedelta(days=366)
        running, days, totals, day = sum(n for d, n in done.items() if d < first), [], [], first
        while day <= last:
            running += done.get(day, 0)
            days.append(f"{day.month}-{day.day}")
            totals.append(running)
            day += timedelta(days=1)
        charts["chart-timeline"] = {
            "type": "line", "labels": days,
            "series": [{"name": _("Inspections done, cumulative"), "data": totals}],
            "mark": {"value": t["dispatched"], "name": _("Dispatched to a group")}}
    if h["total"]:
        charts["chart-grade"] = {
            "type": "donut", "labels": [g["label"] for g in s["by_grade"]],
            "series": [{"name": _("Hazards"), "data": [g["n"] for g in s["by_grade"]],
                        "links": [H(grade=g["key"]) for g in s["by_grade"]]}],
            "colors": ["#b3261e", "#e0a100"]}
        charts["chart-industry"] = _hbar(s["by_industry"], _("Hazards"),
                                         lambda r: H(industry=r["key"]) if r["key"] in INDUSTRIES else None)
        charts["chart-township"] = _hbar(s["by_township"], _("Hazards"),
                                         lambda r: H(region=r["key"]) if r["key"] else None)
        charts["chart-questions"] = _hbar(
            [{"label": f"{k}. {q['text'] or q['question']}", "n": q["n"], "key": q["question"]}
             for k, q in enumerate(s["top_questions"], 1)],
            _("Hazards"), lambda r: H(question=r["key"]))
        charts["chart-rectification"] = {
            "type": "donut", "labels": [_("Closed (销号)"), _("Awaiting re-inspection review"), _("Still to rectify")],
            "series": [{"name": _("Hazards"), "data": [h["closed"], h["awaiting_review"], h["open"]],
                        "links": [H(status="closed"), H(status="awaiting_review"), H(open="1")]}],
            "colors": ["#1b6e3a", "#0b5cad", "#e0a100"]}
    keys = list(state_labels)
    colors = {"on_time": "#1b6e3a", "late": "#e0a100", "missing_overdue": "#b3261e", "pending": "#9aa5b1"}
    if s["feedback"]["due"] or s["publication"]["due"]:
        charts["chart-deadlines"] = {
            "type": "hstack", "labels": [_("Feedback to the enterprise"), _("Result publication")],
            "series": [{"name": state_labels[k], "data": [s["feedback"][k], s["publication"][k]],
                        "links": [T(feedback=k), T(publication=k)], "color": colors[k]} for k in keys]}
    if s["workload"]:
        top = s["workload"][:15]
        charts["chart-workload"] = {
            "type": "hstack", "labels": [w["name"] for w in top],
            "series": [{"name": _("Done"), "data": [w["done"] for w in top], "color": "#1b6e3a",
                        "links": [T(inspector=w["inspector_id"], phase="done") for w in top]},
                       {"name": _("Not done"), "data": [w["tasks"] - w["done"] for w in top], "color": "#9aa5b1",
                        "links": [T(inspector=w["inspector_id"], phase="undone") for w in top]}]}
    if s["earlier"]:
        rows = s["earlier"] + [{"batch_id": s["batch"]["id"], "title": s["batch"]["title"], "tasks": t["drawn"],
                                "done": t["done"], "hazards": h["total"]}]
        charts["chart-earlier"] = {
            "type": "bar", "labels": [r["title"] for r in rows],
            "series": [{"name": _("Tasks"), "data": [r["tasks"] for r in rows], "color": "#0b5cad"},
                       {"name": _("Inspection done"), "data": [r["done"] for r in rows], "color": "#1b6e3a"},
                       {"name": _("Hazards found"), "data": [r["hazards"] for r in rows], "color": "#e0a100"}]}
    return charts


def _hbar(rows: list[dict], name: str, link) -> dict:
    return {"type": "hbar", "labels": [r["label"] for r in rows],
            "series": [{"name": name, "data": [r["n"] for r in rows], "links": [link(r) for r in rows]}]}
