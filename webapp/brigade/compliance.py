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
met (or broken). Everything is aggregated in SQL; no per-task Python loop.
"""
import math
from datetime import date, datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, exists, func, or_, select

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


def _first_publication():
    return (select(PublishedResult.task_id, func.min(PublishedResult.published_at).label("at"))
            .group_by(PublishedResult.task_id).subquery())


class Dues:
    """Due dates by (completion date, working days), each computed once."""

    def __init__(self):
        self.calendar, self.memo = Calendar(), {}

    def __call__(self, done: date, days: int) -> date:
        if (done, days) not in self.memo:
            self.memo[(done, days)] = self.calendar.add_working_days(done, days)[0]
        return self.memo[(done, days)]


def timeliness_rows(year: int, kind: str):
    """Grouped (completion date, limit in working days, date done or None, count) for R19 or R20."""
    done = local_date(Task.completed_at)
    if kind == "feedback":
        stmt = (_done(year).with_only_columns(done, Feedback.given_on, func.count())
                .outerjoin(Feedback, Feedback.task_id == Task.id).group_by(done, Feedback.given_on))
        return [(_as_date(d), R19_FEEDBACK_DAYS, _as_date(g), n) for d, g, n in db.session.execute(stmt)]
    first = _first_publication()
    pub = local_date(first.c.at)
    stmt = (_done(year).where(Task.kind != "reinspection")
            .with_only_columns(done, Task.publication_days, pub, func.count())
            .outerjoin(first, first.c.task_id == Task.id).group_by(done, Task.publication_days, pub))
    return [(_as_date(d), p, _as_date(g), n) for d, p, g, n in db.session.execute(stmt)]


def classify(due: date, given: date | None, today: date) -> str:
    """``on_time``, ``late`` (done after the due date, or not done and the date has passed), ``pending``."""
    if given is not None:
        return "on_time" if given <= due else "late"
    return "late" if due < today else "pending"


def timeliness(year: int, kind: str, today: date, dues: Dues | None = None) -> dict:
    dues = dues or Dues()
    out = {"on_time": 0, "late": 0, "pending": 0, "late_missing": 0}
    for done, days, given, n in timeliness_rows(year, kind):
        state = classify(dues(done, days), given, today)
        out[state] += n
        if state == "late" and given is None:
            out["late_missing"] += n
    out["total"] = out["on_time"] + out["late"] + out["pending"]
    return out


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

    # R8 / R9: every key-supervision / blacklisted operating unit inspected.
    for rid, flag in (("R8", Enterprise.key_supervision), ("R9", Enterprise.blacklisted)):
        pool = and_(operating, flag.is_(True))
        total, done, sched = db.session.execute(select(
            func.count(), func.count().filter(checked_clause(year)),
            func.count().filter(and_(~checked_clause(year), scheduled_clause(year))))
            .select_from(Enterprise).where(pool)).one()
        missing = total - done
        rule(rid, _verdict(over and missing > 0, missing == 0, over),
             _("%(d)d of %(t)d checked", d=done, t=total), _("all %(t)d", t=total), missing,
             _("%(n)d more scheduled, not yet inspected", n=sched) if sched else "",
             {"value": done, "max": total})

    # R6: distinct enterprises checked ≥ 5 % of the operating pool.
    pool_n = db.session.scalar(select(func.count()).select_from(Enterprise).where(operating))
    need = math.ceil(pool_n * R6_MIN_SHARE_BP / 10000)
    checked_n = db.session.scalar(_random(year).where(Task.completed_at.is_not(None))
                                  .with_only_columns(func.count(func.distinct(Task.enterprise_id))))
    share = f"{checked_n * 100 / pool_n:.1f} %" if pool_n else "—"
    rule("R6", _verdict(False, checked_n >= need, over),
         _("%(n)d enterprises checked (%(s)s of %(p)d)", n=checked_n, s=share, p=pool_n),
         _("at least %(n)d", n=need), max(0, need - checked_n), "", {"value": min(checked_n, need), "max": need})

    # R10: no ordinary unit over the cap.
    over_n = db.session.scalar(select(func.count()).select_from(over_cap_counts(year).subquery()))
    rule("R10", _verdict(over_n > 0, over and over_n == 0, over),
         _("%(n)d units checked more than twice", n=over_n), _("none"), over_n)

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
         _("The item list in force on %(d)s.", d=ref.isoformat()), {"value": random_items, "max": total_items})

    # R19 / R20: on time.
    dues = Dues()
    for rid, kind in (("R19", "feedback"), ("R20", "publication")):
        t = timeliness(year, kind, today, dues)
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
         _("%(n)d of %(t)d changes published on time", n=n_changes - len(late) - pending, t=n_changes),
         _("all on time"), len(late), _("%(n)d not yet due", n=pending) if pending else "",
         {"value": n_changes - len(late) - pending, "max": n_changes})

    plans = db.session.execute(select(Plan.id, Plan.title, Plan.state).where(Plan.year == year)
                               .order_by(Plan.id)).all()
    ordered = [rules[r] for r in ORDER]
    return {"year": year, "today": today.isoformat(), "over": over, "started": started, "days_left": days_left,
            "plans": [{"id": p.id, "title": p.title, "state": p.state} for p in plans],
            "rules": ordered, "breaches": sum(1 for r in ordered if r["ok"] is False)}


def years(today: date | None = None) -> list[int]:
    """The years the picker offers: every plan's year and this year, newest first."""
    today = today or today_shanghai()
    found = set(db.session.scalars(select(Plan.year).distinct())) | {today.year}
    return sorted(found, reverse=True)



