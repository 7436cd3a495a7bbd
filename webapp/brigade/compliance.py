"""The year's compliance with the coverage and timeliness rules, for the office and the brigade lead
(issue #13 point 3): R6, R7, R8, R9, R10, R19, R20 and R5.

What counts, consistent with the plan page (``webapp/draws/plans.py`` ``Universe``):

* A task belongs to the year of its plan (task → batch → plan.year), as the draws count it.
* Only random tasks count for R6, R8, R9 and R10 (R4: complaint, assignment, referral and
  re-inspection tasks never do); a cancelled task never counts.
* A unit is *checked* (R6, R8, R9) once a random task of the year was inspected: dispatched and its
  outcome arrived (``completed_at``). A dispatched task still open is *scheduled*: shown as progress,
  never as checked. An unstaffed task was never inspected and counts for nothing.
* R10 counts the random checks a unit received or has scheduled (dispatched tasks): the draws leave
  out units already counted twice, so a third one is a breach as soon as it is dispatched. Units with
  the key-supervision or blacklist flag (R8/R9) and focus units (R11) have no cap.
* The pool of R6 and the key and blacklisted units of R8/R9 are the operating units of the registry
  as it stands (R3: suspended and deregistered units are never drawn); the registry keeps no history
  of flags, so a past year is judged by today's flags.
* R7 reads the item list in force on the year's last day (today, for the running year): for each item,
  its latest version valid that day.
* R19/R20: every inspected task of the year (R20: except re-inspections, which publish nothing); late
  when told/first published after the due date, or still not done once the due date has passed. Due
  dates are computed once per distinct completion date (and R20 limit), not once per task.
* R5: the year's plan changes, late when published after ``publish_due`` or unpublished past it.

A verdict (``ok``) is True or False once decidable; None while the year runs and the rule may still be
met (or broken). Everything is aggregated in SQL; no per-task Python loop: about ten queries, R19 and R20
together in one pass over the tasks joined to a small table of due dates (one row per completion day
and limit, from one sweep of the working-day calendar). About 250 ms for a year of 20,000 tasks on
PostgreSQL on the development machine.
"""
import math
from bisect import bisect_right
from datetime import date, datetime, timedelta

import chinese_calendar
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, and_, case, column, exists, func, or_, select, text
from sqlalchemy.orm import aliased

from ..db_types import SHANGHAI, today_shanghai
from ..draws.models import Batch, Plan, PlanChange
from ..draws.plans import R6_MIN_SHARE_BP, R10_CAP
from ..extensions import db
from ..publication.models import PublishedResult
from ..registries.items import R7_MIN_RANDOM_SHARE
from ..registries.models import Enterprise, InspectionItemVersion
from ..registries.vocab import FOCUS_FLAGS
from ..review.models import Feedback
from ..review.services import R19_FEEDBACK_DAYS
from ..tasks.models import Task
from ..workdays import Calendar

#: What each rule asks, in words for the screen, and the article it comes from (for a tooltip).
RULES = {
    "R6": (_l("At least 5 per cent of enterprises inspected in the year"), "《抽查工作计划》二（二）1"),
    "R7": (_l("At least 70 per cent of enforcement items are random-check items"), "《实施细则》第十六条"),
    "R8": (_l("Every key-supervision unit inspected in the year"), "《实施细则》第十六条"),
    "R9": (_l("Every blacklisted unit inspected in the year"), "《实施细则》第十六条"),
    "R10": (_l("No other unit checked more than twice in the year"), "《实施细则》第十六条"),
    "R19": (_l("Enterprises told the result within 7 working days"), "《实施细则》第二十一条"),
    "R20": (_l("Results published on time"), "《实施细则》第二十四条"),
    "R5": (_l("Plan changes published within 10 working days"), "《抽查工作计划》二（二）3"),
}
ORDER = ("R8", "R9", "R6", "R10", "R7", "R19", "R20", "R5")
#: The list page behind each rule's shortfall (``brigade.dashboard_list``'s ``kind``).
LIST_KIND = {"R6": "checked", "R7": "items", "R8": "key", "R9": "blacklisted", "R10": "over-cap",
             "R19": "feedback", "R20": "publication", "R5": "changes"}


# --- building blocks, shared with the list pages ----------------------------------------------------

def local_date(column):
    """The Asia/Shanghai calendar date of a UTC instant, in SQL (Shanghai has no summer time)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column), type_=Date)
    return func.date(column, "+8 hours", type_=Date)


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def year_tasks(year: int):
    """The tasks of a year's plans (a select of Task)."""
    return (select(Task).join(Batch, Batch.id == Task.batch_id).join(Plan, Plan.id == Batch.plan_id)
            .where(Plan.year == year))


def _random(year: int):
    """R4: the random tasks of the year that went out (not cancelled, not unstaffed)."""
    return year_tasks(year).where(Task.kind == "random", Task.status == "dispatched")


def checked_clause(year: int, enterprise_col=Enterprise.id):
    """The unit had a random task of the year inspected."""
    sub = _random(year).where(Task.completed_at.is_not(None), Task.enterprise_id == enterprise_col)
    return exists(sub.with_only_columns(Task.id))


def scheduled_clause(year: int, enterprise_col=Enterprise.id):
    """The unit has a random task of the year dispatched and not yet inspected."""
    sub = _random(year).where(Task.completed_at.is_(None), Task.enterprise_id == enterprise_col)
    return exists(sub.with_only_columns(Task.id))


def ordinary_clause():
    """R10 applies: neither key-supervision nor blacklisted (R8/R9) nor a focus unit (R11)."""
    return and_(Enterprise.key_supervision.is_(False), Enterprise.blacklisted.is_(False),
                *[getattr(Enterprise, f).is_(False) for f in FOCUS_FLAGS])


def over_cap_counts(year: int):
    """(enterprise_id, n) of the ordinary units with more than R10_CAP random checks in the year."""
    n = func.count(Task.id)
    return (_random(year).with_only_columns(Task.enterprise_id, n.label("n"))
            .join(Enterprise, Enterprise.id == Task.enterprise_id).where(ordinary_clause())
            .group_by(Task.enterprise_id).having(n > R10_CAP))


def reference_day(year: int, today: date) -> date:
    """The day the year's item list is read on: its last day, or today while it runs."""
    return min(date(year, 12, 31), max(today, date(year, 1, 1)))


def items_in_force(day: date):
    """The versions in force on ``day``, one per item (its latest valid that day)."""
    valid = and_(InspectionItemVersion.valid_from <= day,
                 or_(InspectionItemVersion.valid_to.is_(None), InspectionItemVersion.valid_to >= day))
    latest = (select(InspectionItemVersion.item_id, func.max(InspectionItemVersion.version).label("v"))
              .where(valid).group_by(InspectionItemVersion.item_id).subquery())
    return select(InspectionItemVersion).join(latest, and_(latest.c.item_id == InspectionItemVersion.item_id,
                                                           latest.c.v == InspectionItemVersion.version))


def _done(year: int):
    return year_tasks(year).where(Task.status == "dispatched", Task.completed_at.is_not(None))


#: Working days of the years ``chinesecalendar`` knows never change: remembered across requests. A year
#: it lacks is read from the administrator's entries through ``Calendar`` each time.
_KNOWN_WORKDAYS: dict[date, bool] = {}


class Dues:
    """Due dates by (completion date, working days): one sweep of the calendar over the dates asked for,
    then a lookup each (``add_working_days`` semantics: the day of the event itself is not counted)."""

    def __init__(self):
        self.calendar, self.memo, self.workdays, self.start = Calendar(), {}, [], None

    def _workday(self, day: date) -> bool:
        if day not in _KNOWN_WORKDAYS:
            try:
                _KNOWN_WORKDAYS[day] = chinese_calendar.is_workday(day)
            except NotImplementedError:
                return self.calendar.is_workday(day)[0]
        return _KNOWN_WORKDAYS[day]

    def prepare(self, first: date, last: date, days: int) -> None:
        """Cover completion dates ``first``..``last`` and ``days`` working days after the last."""
        if self.start is None or first < self.start:
            self.workdays, self.start, day = [], first, first
        else:
            day = (self.workdays[-1] if self.workdays else self.start) + timedelta(days=1)
        while day <= last or bisect_right(self.workdays, last) + days > len(self.workdays):
            if self._workday(day):
                self.workdays.append(day)
            day += timedelta(days=1)
            self.end = day

    def __call__(self, done: date, days: int) -> date:
        if (done, days) not in self.memo:
            if self.start is None or done < self.start or bisect_right(self.workdays, done) + days > len(self.workdays):
                self.prepare(min(done, self.start or done), done, days)
            self.memo[(done, days)] = self.workdays[bisect_right(self.workdays, done) + days - 1]
        return self.memo[(done, days)]


def _dues_table(rows, name: str):
    """A derived table (d, n, due) of due dates, joined to the tasks in SQL."""
    cols = (column("d", Date), column("n", Integer), column("due", Date))
    if db.session.get_bind().dialect.name == "postgresql":  # three array parameters, not one per value
        sql = (f"SELECT d, n, due FROM unnest(CAST(:{name}_d AS date[]), CAST(:{name}_n AS integer[]), "
               f"CAST(:{name}_u AS date[])) AS t(d, n, due)")
        return text(sql).bindparams(**{f"{name}_d": [r[0] for r in rows], f"{name}_n": [r[1] for r in rows],
                                       f"{name}_u": [r[2] for r in rows]}).columns(*cols).subquery(name)
    # SQLite has no column list on a VALUES alias: name its columns in a select.
    params, parts = {}, []
    for k, (d, n, due) in enumerate(rows):
        parts.append(f"(:{name}d{k}, :{name}n{k}, :{name}u{k})")
        params.update({f"{name}d{k}": d.isoformat(), f"{name}n{k}": n, f"{name}u{k}": due.isoformat()})
    sql = "SELECT column1 AS d, column2 AS n, column3 AS due FROM (VALUES " + ", ".join(parts) + ")"
    return text(sql).bindparams(**params).columns(*cols).subquery(name)


def _dues_rows(dues: Dues, first: date, last: date, limits) -> list:
    rows = []
    for n in sorted(set(limits)):
        dues.prepare(first, last, n)
        day = first
        while day <= last:
            rows.append((day, n, dues(day, n)))
            day += timedelta(days=1)
    return rows


def timeliness_query(year: int, dues: Dues):
    """The year's inspected tasks joined to their R19 and R20 due dates (one pass over the tasks):
    (select, {"feedback"|"publication": (date done or NULL, due date or NULL)}); None when nothing was
    inspected. A re-inspection has no R20 due date (it publishes nothing). The due dates come from a
    small table of one row per completion day and limit, computed in Python from the calendar."""
    done = local_date(Task.completed_at)
    base = _done(year)
    # The first and last completion and the R20 limits in one pass: per limit, its first and last.
    spans = db.session.execute(base.with_only_columns(Task.publication_days, func.min(Task.completed_at),
                                                      func.max(Task.completed_at))
                               .group_by(Task.publication_days)).all()
    if not spans:
        return None
    limits = {n for n, _a, _b in spans}
    first, last = min(a for _n, a, _b in spans), max(b for _n, _a, b in spans)
    first, last = first.astimezone(SHANGHAI).date(), last.astimezone(SHANGHAI).date()
    told_due = _dues_table(_dues_rows(dues, first, last, [R19_FEEDBACK_DAYS]), "told_due")
    pub_due = _dues_table(_dues_rows(dues, first, last, limits), "pub_due")
    pub = aliased(PublishedResult, name="first_pub")
    stmt = (base.join(told_due, told_due.c.d == done)
            .outerjoin(pub_due, and_(pub_due.c.d == done, pub_due.c.n == Task.publication_days,
                                     Task.kind != "reinspection"))
            .outerjoin(Feedback, Feedback.task_id == Task.id)
            .outerjoin(pub, and_(pub.task_id == Task.id, pub.version == 1)))
    return stmt, {"feedback": (Feedback.given_on, told_due.c.due),
                  "publication": (local_date(pub.published_at), pub_due.c.due)}


def late_clause(given, due, today: date):
    """Done after the due date, or not done and the due date has passed (only where a due date applies)."""
    return and_(due.is_not(None), or_(given > due, and_(given.is_(None), due < today)))


def timeliness_both(year: int, today: date, dues: Dues | None = None) -> dict:
    """R19 and R20 counts: on_time, late (of which late_missing: still not done), pending, total."""
    keys = ("total", "on_time", "late", "late_missing", "pending")
    found = timeliness_query(year, dues or Dues())
    if found is None:
        return {kind: dict.fromkeys(keys, 0) for kind in ("feedback", "publication")}
    stmt, cols = found
    aggs = []
    for given, due in cols.values():
        aggs += [func.count(due), func.count().filter(given <= due), func.count().filter(late_clause(given, due, today)),
                 func.count().filter(and_(given.is_(None), due < today)),
                 func.count().filter(and_(given.is_(None), due >= today))]
    row = db.session.execute(stmt.with_only_columns(*aggs)).one()
    return {"feedback": dict(zip(keys, row[:5])), "publication": dict(zip(keys, row[5:]))}


def classify(due: date, given: date | None, today: date) -> str:
    """``on_time``, ``late`` (done after the due date, or not done and the date has passed), ``pending``."""
    if given is not None:
        return "on_time" if given <= due else "late"
    return "late" if due < today else "pending"


def late_changes(year: int, today: date) -> tuple[list, int, int]:
    """(late changes, changes of the year, still pending): R5."""
    changes = db.session.scalars(select(PlanChange).join(Plan).where(Plan.year == year)
                                 .order_by(PlanChange.at)).all()
    late, pending = [], 0
    for c in changes:
        published = c.published_at.astimezone(SHANGHAI).date() if c.published_at else None
        state = classify(c.publish_due, published, today)
        if state == "late":
            late.append(c)
        pending += state == "pending"
    return late, len(changes), pending


# --- the year -----------------------------------------------------------------------------------------

def _verdict(broken: bool, met: bool, over: bool):
    """False once broken; True once met for good (``met`` and nothing can change it); else None."""
    if broken:
        return False
    if met:
        return True
    return None if not over else False


def year_compliance(year: int, today: date | None = None) -> dict:
    """Each rule's figure, target, shortfall and verdict for ``year``; see the module docstring."""
    today = today or today_shanghai()
    over = today > date(year, 12, 31)
    started = today >= date(year, 1, 1)
    days_left = 0 if over else (date(year, 12, 31) - max(today, date(year, 1, 1))).days + 1
    operating = Enterprise.status == "operating"
    rules = {}

    def rule(rid, ok, figure, target, shortfall, detail="", progress=None):
        name, cite = RULES[rid]
        rules[rid] = {"id": rid, "ok": ok, "title": str(name), "cite": f"{cite}（{rid}）", "figure": figure,
                      "target": target, "shortfall": shortfall, "detail": detail, "progress": progress,
                      "link": url_for("brigade.dashboard_list", kind=LIST_KIND[rid], year=year)}

    # R8, R9, R6, R10 and the month-by-month progress in one pass (one statement): per unit, its random
    # checks of the year, its first inspection and whether one is still open; the registry left-joined to
    # that (a hash join, not a probe per unit), grouped by the day of first inspection. Per day: units
    # first inspected and units over the cap; the pools and R8/R9's checked/scheduled counts are
    # conditional counts summed over the days.
    per_unit = (_random(year)
                .with_only_columns(Task.enterprise_id.label("enterprise_id"), func.count(Task.id).label("n"),
                                   func.min(Task.completed_at).label("at"),
                                   func.count(case((Task.completed_at.is_(None), 1))).label("open"))
                .group_by(Task.enterprise_id).subquery())
    day = local_date(per_unit.c.at)
    checked, scheduled = per_unit.c.at.is_not(None), and_(per_unit.c.at.is_(None), per_unit.c.open > 0)
    pools = []
    for flag in (Enterprise.key_supervision, Enterprise.blacklisted):
        pool = and_(operating, flag.is_(True))
        pools += [func.count().filter(pool), func.count().filter(and_(pool, checked)),
                  func.count().filter(and_(pool, scheduled))]
    per_month, checked_n, over_n, sums = [0] * 12, 0, 0, [0] * 7
    for d, n, n_over, *counts in db.session.execute(
            select(day, func.count(per_unit.c.at),
                   func.count().filter(and_(per_unit.c.n > R10_CAP, ordinary_clause())),
                   func.count().filter(operating), *pools)
            .select_from(Enterprise).outerjoin(per_unit, per_unit.c.enterprise_id == Enterprise.id).group_by(day)):
        over_n += n_over
        sums = [a + (b or 0) for a, b in zip(sums, counts)]
        if d is not None:
            d = _as_date(d)
            checked_n += n
            per_month[0 if d.year < year else 11 if d.year > year else d.month - 1] += n
    pool_n = sums[0]

    # R8 / R9: every key-supervision / blacklisted operating unit inspected.
    for k, rid in enumerate(("R8", "R9")):
        total, done, sched = sums[1 + 3 * k:4 + 3 * k]
        missing = total - done
        rule(rid, _verdict(over and missing > 0, missing == 0, over),
             _("%(d)d of %(t)d checked", d=done, t=total), _("all %(t)d", t=total), missing,
             _("%(n)d more scheduled, not yet inspected", n=sched) if sched else "",
             {"value": done, "max": total})

    # R6: distinct enterprises checked ≥ 5 % of the operating pool.
    need = math.ceil(pool_n * R6_MIN_SHARE_BP / 10000)
    share = f"{checked_n * 100 / pool_n:.1f} %" if pool_n else "—"
    rule("R6", _verdict(False, checked_n >= need, over),
         _("%(n)d enterprises checked (%(s)s of %(p)d)", n=checked_n, s=share, p=pool_n),
         _("at least %(n)d", n=need), max(0, need - checked_n), "", {"value": min(checked_n, need), "max": need})

    # R10: no ordinary unit over the cap.
    rule("R10", _verdict(over_n > 0, over and over_n == 0, over),
         _("%(n)d units checked more than twice", n=over_n), _("no unit"), over_n)

    # R7: the item list in force.
    ref = reference_day(year, today)
    iv = items_in_force(ref).subquery()
    total_items, random_items = db.session.execute(
        select(func.count(), func.count().filter(iv.c.is_random.is_(True))).select_from(iv)).one()
    need_items = math.ceil(total_items * R7_MIN_RANDOM_SHARE) if total_items else 0
    ok7 = total_items == 0 or random_items * R7_MIN_RANDOM_SHARE.denominator >= total_items * R7_MIN_RANDOM_SHARE.numerator
    rule("R7", ok7 if (over or started) else None,
         _("%(r)d of %(t)d items are random-check items", r=random_items, t=total_items),
         _("at least %(n)d", n=need_items), max(0, need_items - random_items),
         _("The item list in force on %(d)s.", d=ref.isoformat()), {"value": random_items, "max": total_items, "target": need_items})

    # R19 / R20: on time.
    both = timeliness_both(year, today)
    for rid, kind in (("R19", "feedback"), ("R20", "publication")):
        t = both[kind]
        what = (_("%(n)d of %(t)d enterprises told on time", n=t["on_time"], t=t["total"]) if kind == "feedback"
                else _("%(n)d of %(t)d results published on time", n=t["on_time"], t=t["total"]))
        detail = " · ".join(x for x in (
            _("%(n)d late", n=t["late"]) if t["late"] else "",
            _("%(n)d of them still not done", n=t["late_missing"]) if t["late_missing"] else "",
            _("%(n)d not yet due", n=t["pending"]) if t["pending"] else "") if x)
        rule(rid, _verdict(t["late"] > 0, over and t["late"] == 0 and t["pending"] == 0, over), what,
             _("all on time"), t["late"], detail, {"value": t["on_time"], "max": t["total"]})
        rules[rid]["counts"] = t

    # R5: plan changes published on time.
    late, n_changes, pending = late_changes(year, today)
    rule("R5", _verdict(bool(late), over and not late and not pending, over),
         _("%(n)d of %(t)d changes published on time", n=n_changes - len(late) - pending, t=n_changes)
         if n_changes else _("No change to the plan this year"),
         _("all on time"), len(late), _("%(n)d not yet due", n=pending) if pending else "",
         {"value": n_changes - len(late) - pending, "max": n_changes})

    # Progress through the year: enterprises inspected for the first time, month by month (cumulative).
    last = 12 if over else (today.month if started else 0)
    running, monthly = 0, []
    for n in per_month[:last]:
        running += n
        monthly.append(running)

    plans = db.session.execute(select(Plan.id, Plan.title, Plan.state).where(Plan.year == year)
                               .order_by(Plan.id)).all()
    ordered = [rules[r] for r in ORDER]
    return {"year": year, "today": today.isoformat(), "over": over, "started": started, "days_left": days_left,
            "plans": [{"id": p.id, "title": p.title, "state": p.state} for p in plans],
            "rules": ordered, "monthly": monthly, "r6_need": need, "breaches": sum(1 for r in ordered if r["ok"] is False)}


def years(today: date | None = None) -> list[int]:
    """The years the picker offers: every plan's year and this year, newest first."""
    today = today or today_shanghai()
    found = set(db.session.scalars(select(Plan.year).distinct())) | {today.year}
    return sorted(found, reverse=True)



