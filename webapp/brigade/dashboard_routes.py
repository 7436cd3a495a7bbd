"""The year's compliance dashboard (issue #13 point 3) and the list behind each shortfall."""
from datetime import date

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block
from sqlalchemy import false, func, literal, select

from .. import roles as R
from ..access import roles
from ..db_types import SHANGHAI, today_shanghai
from ..draws.models import Plan
from ..extensions import db, htmx
from ..inputs import int_arg
from ..pagination import MAX_PAGE, Page, paginate
from ..registries.models import Enterprise, InspectionItemVersion
from ..registries.vocab import INDUSTRY_LABELS
from ..tasks.models import Task
from . import bp
from . import compliance as C

VIEWERS = (R.ADMIN, R.BRIGADE_LEAD)

#: The list page's kinds: its title, and the rule it explains.
KINDS = {
    "key": ("R8", lambda: _("Key-supervision units not yet inspected")),
    "blacklisted": ("R9", lambda: _("Blacklisted units not yet inspected")),
    "over-cap": ("R10", lambda: _("Units checked more than twice")),
    "checked": ("R6", lambda: _("Enterprises inspected at random")),
    "items": ("R7", lambda: _("Items that are not random-check items")),
    "feedback": ("R19", lambda: _("Enterprises told late or not told")),
    "publication": ("R20", lambda: _("Results published late or not published")),
    "changes": ("R5", lambda: _("Plan changes published late")),
}


def _year() -> int:
    """The year asked for (?year=), this year when absent or out of range."""
    this = today_shanghai().year
    value = int_arg(request.args.get("year", ""), 2000, this + 5)
    return value if value is not None else this


@bp.get("/dashboard")
@roles(*VIEWERS)
def dashboard():
    """How the year's rules hold: progress while it runs, a verdict once decidable."""
    year = _year()
    data = C.year_compliance(year)
    chart = {"type": "line", "labels": [_("Month %(m)d", m=m) for m in range(1, len(data["monthly"]) + 1)],
             "series": [{"name": _("Enterprises inspected"), "data": data["monthly"]}],
             "mark": {"value": data["r6_need"], "name": _("5 per cent")}} if data["monthly"] else None
    return render_template("brigade/dashboard.html", data=data, year=year, years=C.years(), chart=chart,
                           asked=request.args.get("year"))


def _late_tasks(year: int, kind: str, today: date):
    """The tasks behind R19/R20's shortfall, with the date done (or None) and the due date."""
    found = C.timeliness_query(year, C.Dues())
    if found is None:
        return select(Task, literal(None), literal(None)).where(false())
    stmt, cols = found
    given, due = cols[kind]
    return stmt.add_columns(given, due).where(C.late_clause(given, due, today)).order_by(Task.completed_at, Task.id)


@bp.get("/dashboard/<kind>")
@roles(*VIEWERS)
def dashboard_list(kind: str):
    """Exactly the units, tasks, items or plan changes behind one rule's shortfall."""
    if kind not in KINDS:
        abort(404)
    year, today = _year(), today_shanghai()
    rid, title = KINDS[kind]
    ctx = {"kind": kind, "year": year, "rid": rid, "title": title(), "rule": C.RULES[rid],
           "args": {"year": year}, "industry_labels": INDUSTRY_LABELS, "rows": None, "page": None,
           "asked": request.args.get("year")}
    if kind in ("key", "blacklisted"):
        flag = Enterprise.key_supervision if kind == "key" else Enterprise.blacklisted
        stmt = (select(Enterprise, C.scheduled_clause(year).label("scheduled"))
                .where(Enterprise.status == "operating", flag.is_(True), ~C.checked_clause(year))
                .order_by(Enterprise.name, Enterprise.id))
        ctx["page"] = _page(stmt)
    elif kind == "checked":
        stmt = (select(Enterprise).where(C.checked_clause(year)).order_by(Enterprise.name, Enterprise.id))
        ctx["page"] = _page(stmt, scalars=True)
    elif kind == "over-cap":
        counts = C.over_cap_counts(year).subquery()
        units = db.session.execute(select(Enterprise, counts.c.n).join(counts, counts.c.enterprise_id == Enterprise.id)
                                   .order_by(counts.c.n.desc(), Enterprise.name)).all()
        ids = [e.id for e, _n in units]
        tasks = {}
        for t in db.session.execute(C._random(year).where(Task.enterprise_id.in_(ids)).with_only_columns(
                Task.id, Task.enterprise_id, Task.start_date).order_by(Task.start_date, Task.id)) if ids else []:
            tasks.setdefault(t.enterprise_id, []).append(t)
        ctx["rows"] = [(e, n, tasks.get(e.id, [])) for e, n in units]
    elif kind == "items":
        day = C.reference_day(year, today)
        ctx["day"] = day
        ctx["rows"] = db.session.scalars(C.items_in_force(day).where(InspectionItemVersion.is_random.is_(False))
                                         .order_by(InspectionItemVersion.name)).all()
    elif kind in ("feedback", "publication"):
        page = _page(_late_tasks(year, kind, today))
        page.items = [(t, C._as_date(g), C._as_date(due)) for t, g, due in page.items]
        ctx["page"] = page
    else:  # changes
        late, _n, _p = C.late_changes(year, today)
        ctx["rows"] = [(c, c.published_at.astimezone(SHANGHAI).date() if c.published_at else None) for c in late]
        ctx["plans"] = {p.id: p for p in db.session.scalars(select(Plan).where(Plan.year == year))}
    if htmx and not htmx.boosted and ctx["page"] is not None:
        return render_block("brigade/dashboard_list.html", "results", **ctx)
    return render_template("brigade/dashboard_list.html", **ctx)


def _page(stmt, scalars: bool = False):
    """paginate() returns scalars; rows with extra columns are read as rows."""
    if scalars:
        return paginate(stmt)
    per_page = current_app.config["PAGE_SIZE"]
    raw = request.args.get("page", "1").strip()
    page = int_arg(raw, 1, MAX_PAGE) or 1
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all())
    return Page(items, page, per_page, total)


def dashboard_link(rid: str, year: int) -> str:
    return url_for("brigade.dashboard_list", kind=C.LIST_KIND[rid], year=year)
