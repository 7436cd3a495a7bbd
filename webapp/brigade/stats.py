"""A batch's figures in a handful of set-based queries (issue #13 point 1, the batch summary).

Every figure here is a GROUP BY or a conditional count in SQL; nothing loops over tasks or hazards in
Python. Deadlines that run on working days (R19 feedback, R20 publication) are computed once per
*distinct* completion date (a batch has a few dozen of them, whatever its size), never per task.

Each figure has a matching WHERE clause (``task_clause`` / ``hazard_clause``) that the task list and the
hazard register apply for the figure's link, so the number on the summary and the rows behind its link
are the same set by construction.
"""
from datetime import date

from sqlalchemy import (Date, Integer, and_, case, cast, exists, false, func, literal, literal_column, or_, select,
                        tuple_, type_coerce)

from ..db_types import today_shanghai
from ..draws.models import Batch, Plan
from ..extensions import db
from ..inputs import int_arg
from ..publication.models import PublishedResult
from ..registries.models import Department, Inspector
from ..registries.vocab import INDUSTRY_LABELS
from ..review.models import LABELS as REVIEW_LABELS, OPEN_STATES, Feedback, Hazard
from ..review.services import R19_FEEDBACK_DAYS
from ..sync.models import SyncRecord
from ..tasks import phase as P
from ..tasks.models import Task, TaskMember
from ..tasks.policy import task_scope
from ..workdays import Calendar

#: The early outcomes a phone records instead of a completed inspection (R17 non-cooperation, closed
#: down, not found at the address): ``data.outcome`` of the task's ``outcome`` sync record.
OUTCOMES = ("non_cooperation", "closed", "not_found")
#: How many of the most-failed questions the summary names (the batch's "problems").
TOP_QUESTIONS = 10
#: Task-list filters of the summary's links (``?batch=…&<name>=<value>``); see ``task_clause``.
FEEDBACK_STATES = ("due", "on_time", "late", "missing_overdue", "pending")
PUBLICATION_STATES = FEEDBACK_STATES
REINSPECTION_STATES = ("all", "rectified", "not_rectified", "pending")


# --- SQL building blocks ------------------------------------------------------------------------------

def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def local_date(col):
    """The Asia/Shanghai calendar date of a UTC instant column, in SQL (China has no DST: UTC+8)."""
    if _postgres():
        # The zone as SQL text, not a bound parameter: GROUP BY must see the very same expression.
        return cast(func.timezone(literal_column("'Asia/Shanghai'"), col), Date)
    return type_coerce(func.date(col, "+8 hours"), Date)


def _days_between(later, earlier):
    """Whole calendar days (Asia/Shanghai) from the instant ``earlier`` to the instant ``later``."""
    if _postgres():
        return local_date(later) - local_date(earlier)
    return cast(func.julianday(func.date(later, "+8 hours")) - func.julianday(func.date(earlier, "+8 hours")), Integer)


def _n(cond):
    """COUNT of the rows meeting ``cond`` (a conditional sum, portable)."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _scoped_tasks(batch_id: int | None, user):
    stmt = select(Task.id)
    if batch_id is not None:
        stmt = stmt.where(Task.batch_id == batch_id)
    return task_scope(user, stmt) if user is not None else stmt


def outcome_clause(outcome: str):
    """Tasks whose (current) outcome record says ``outcome`` (R17 non-cooperation, closed, not found)."""
    return exists().where(SyncRecord.task_id == Task.id, SyncRecord.kind == "outcome",
                          SyncRecord.superseded.is_(False), SyncRecord.data["outcome"].as_string() == outcome)


def _done_dates(batch_id: int | None, extra=None) -> list:
    stmt = select(local_date(Task.completed_at).label("d")).where(Task.completed_at.is_not(None))
    if batch_id is not None:
        stmt = stmt.where(Task.batch_id == batch_id)
    if extra is not None:
        stmt = stmt.where(extra)
    return [d for d in db.session.scalars(stmt.group_by(local_date(Task.completed_at))) if d is not None]


def _due_case(dues: dict):
    """A CASE mapping (completion date[, publication days]) to the due date computed in Python."""
    if not dues:
        return literal(None, Date)
    done = local_date(Task.completed_at)
    whens = []
    for key, due in dues.items():
        d, days = key if isinstance(key, tuple) else (key, None)
        cond = done == literal(d, Date) if days is None else and_(done == literal(d, Date), Task.publication_days == days)
        whens.append((cond, literal(due, Date)))
    return case(*whens, else_=literal(None, Date))


def _feedback_dues(batch_id: int | None, calendar: Calendar) -> dict:
    return {d: calendar.add_working_days(d, R19_FEEDBACK_DAYS)[0] for d in _done_dates(batch_id)}


def _publication_dues(batch_id: int | None, calendar: Calendar) -> dict:
    stmt = (select(local_date(Task.completed_at), Task.publication_days)
            .where(Task.completed_at.is_not(None), Task.kind == "random")
            .group_by(local_date(Task.completed_at), Task.publication_days))
    if batch_id is not None:
        stmt = stmt.where(Task.batch_id == batch_id)
    return {(d, n): calendar.add_working_days(d, n)[0] for d, n in db.session.execute(stmt) if d is not None}


def _first_publication():
    return (select(func.min(PublishedResult.published_at)).where(PublishedResult.task_id == Task.id)
            .correlate(Task).scalar_subquery())


def _state_clause(state: str, given, due, today: date):
    """On time / late / missing and overdue / pending, given the day it happened (or NULL) and the due date."""
    if state == "due":
        return Task.completed_at.is_not(None)
    if state == "on_time":
        return and_(given.is_not(None), given <= due)
    if state == "late":
        return and_(given.is_not(None), given > due)
    if state == "missing_overdue":
        return and_(Task.completed_at.is_not(None), given.is_(None), due < literal(today, Date))
    if state == "pending":
        return and_(Task.completed_at.is_not(None), given.is_(None), due >= literal(today, Date))
    return false()


def _feedback_given():
    return select(Feedback.given_on).where(Feedback.task_id == Task.id).correlate(Task).scalar_subquery()


def feedback_clause(state: str, batch_id: int | None, today: date, calendar: Calendar | None = None):
    """R19: the tasks whose feedback to the enterprise is ``state`` (see FEEDBACK_STATES)."""
    due = _due_case(_feedback_dues(batch_id, calendar or Calendar()))
    return and_(Task.completed_at.is_not(None), _state_clause(state, _feedback_given(), due, today))


def publication_clause(state: str, batch_id: int | None, today: date, calendar: Calendar | None = None):
    """R20: the random-check tasks whose result publication is ``state`` (see PUBLICATION_STATES)."""
    due = _due_case(_publication_dues(batch_id, calendar or Calendar()))
    given = type_coerce(local_date(_first_publication()), Date)
    return and_(Task.kind == "random", Task.completed_at.is_not(None), _state_clause(state, given, due, today))


def task_clause(name: str, value: str, batch_id: int | None, today: date):
    """The WHERE clause for one of the summary's task-list filters, or None for an unknown one."""
    if name == "outcome" and value in OUTCOMES:
        return outcome_clause(value)
    if name == "feedback" and value in FEEDBACK_STATES:
        return feedback_clause(value, batch_id, today)
    if name == "publication" and value in PUBLICATION_STATES:
        return publication_clause(value, batch_id, today)
    if name == "kind" and value in ("random", "reinspection"):
        return Task.kind == value
    if name == "inspector" and (inspector_id := int_arg(value)) is not None:
        return exists().where(TaskMember.task_id == Task.id, TaskMember.active.is_(True),
                              TaskMember.inspector_id == inspector_id)
    return None


def hazard_clause(name: str, value: str):
    """The WHERE clause for one of the summary's hazard-register filters, or None for an unknown one."""
    if name == "question" and value:
        return Hazard.question == value
    if name == "escalated" and value:
        return Hazard.escalation.is_not(None)
    if name == "open" and value:
        return Hazard.status.in_(OPEN_STATES)
    if name == "reinspection" and value in REINSPECTION_STATES:
        return _reinspection_clause(value)
    if name == "inspector" and (inspector_id := int_arg(value)) is not None:
        return exists().where(TaskMember.task_id == Hazard.task_id, TaskMember.active.is_(True),
                              TaskMember.inspector_id == inspector_id)
    return None


def hazard_narrow_words(narrow: dict) -> list[str]:
    """What the hazard register's summary filters say, in words (the question by its text)."""
    from flask_babel import gettext as _
    words = []
    for key, value in narrow.items():
        if key == "question":
            task_id = db.session.scalar(select(func.min(Hazard.task_id)).where(Hazard.question == value))
            text = _question_texts({value: task_id}).get(value, ("", ""))[0] if task_id else ""
            words.append(_("Question: %(q)s", q=text or value))
        elif key == "escalated":
            words.append(_("Escalated"))
        elif key == "open":
            words.append(_("Still to rectify"))
        elif key == "reinspection":
            words.append({"all": _("Re-inspected"), "rectified": _("Re-inspection found it rectified"),
                          "not_rectified": _("Re-inspection found it not rectified"),
                          "pending": _("Re-inspection not yet recorded")}[value])
        elif key == "inspector":
            inspector = db.session.get(Inspector, int_arg(value))
            words.append(_("Inspector: %(n)s", n=inspector.name if inspector else value))
    return words


def _reinspection_clause(state: str):
    covered = Hazard.reinspection_task_id.is_not(None)
    recorded = Hazard.closure_uuid.is_not(None)
    if state == "rectified":
        return and_(covered, or_(Hazard.status == "closed", and_(recorded, Hazard.rectified.is_(True))))
    if state == "not_rectified":
        return and_(covered, Hazard.status != "closed",
                    or_(and_(recorded, Hazard.rectified.is_(False)), Hazard.status.in_(OPEN_STATES)))
    if state == "pending":
        return and_(covered, Hazard.status == "awaiting_review", ~recorded)
    return covered


# --- the summary -----------------------------------------------------------------------------------

def _median(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    seen, lower = 0, None
    for days in sorted(histogram):
        seen += histogram[days]
        if lower is None and seen >= (total + 1) // 2:
            lower = days
        if seen >= total // 2 + 1:
            return float(days) if total % 2 else (lower + days) / 2
    return float(lower)


def _rate(closed: int, total: int) -> float | None:
    return closed / total if total else None


def headlines(batch_ids: list[int], user=None) -> dict[int, dict]:
    """Per batch: random-check tasks drawn, done, overdue, hazards, closed hazards, rectification rate (two
    queries)."""
    if not batch_ids:
        return {}
    out = {b: {"tasks": 0, "done": 0, "overdue": 0, "hazards": 0, "closed": 0, "rectification_rate": None}
           for b in batch_ids}
    today = today_shanghai()
    tasks = select(Task.batch_id, func.count(Task.id), _n(P.clause("done")), _n(P.overdue_clause(today))).where(
        Task.batch_id.in_(batch_ids), Task.kind == "random").group_by(Task.batch_id)
    if user is not None:
        tasks = task_scope(user, tasks)
    for b, n, done, overdue in db.session.execute(tasks):
        out[b].update(tasks=n, done=done, overdue=overdue)
    # count(*), not count(id): batch and status alone, read from ix_hazard_batch_id_status (an index-only
    # scan once vacuumed), never the wide hazard rows of the earlier batches.
    hazards = (select(Hazard.batch_id, func.count(), _n(Hazard.status == "closed")).select_from(Hazard)
               .where(Hazard.batch_id.in_(batch_ids)).group_by(Hazard.batch_id))
    if user is not None:  # a team lead: their groups' tasks, as one set
        hazards = hazards.where(Hazard.task_id.in_(task_scope(user, select(Task.id).where(Task.batch_id.in_(batch_ids)))))
    for b, n, closed in db.session.execute(hazards):
        out[b].update(hazards=n, closed=closed, rectification_rate=_rate(closed, n))
    return out


def batch_summary(batch: Batch, user=None, today: date | None = None) -> dict:
    """Everything the batch summary shows, JSON-serialisable. ``user`` narrows it to what that user may see
    (a team lead: their department's groups; the brigade lead and the office: everything)."""
    today = today or today_shanghai()
    calendar = Calendar()

    def scoped(stmt):
        return task_scope(user, stmt) if user is not None else stmt

    #: A team lead's tasks of the batch, as a set the hazard and record queries semi-join once (not a
    #: membership probe per hazard row).
    mine = _scoped_tasks(batch.id, user)

    plan = db.session.get(Plan, batch.plan_id)
    out = {"batch": {"id": batch.id, "title": batch.title, "seq": batch.seq, "plan_year": plan.year,
                     "plan_title": plan.title, "window_start": batch.window_start.isoformat(),
                     "window_end": batch.window_end.isoformat()},
           "today": today.isoformat()}

    # 1. Tasks: the random checks' progress (one query; re-inspections are counted on their own).
    random = and_(Task.batch_id == batch.id, Task.kind == "random")
    live = Task.status == "dispatched"
    row = db.session.execute(scoped(select(
        func.count(Task.id), _n(live), _n(P.clause("done")), _n(P.clause("returned")),
        _n(and_(live, Task.review_state == "approved")), _n(P.clause("published")),
        _n(P.overdue_clause(today)), _n(Task.status == "unstaffed"), _n(Task.status == "cancelled"),
        _n(and_(P.clause("open"), live)),
        # Done after the window: done as the figure counts it (a task returned for correction is not).
        _n(and_(P.clause("done"), Task.completed_at.is_not(None), local_date(Task.completed_at) > Task.due_date)),
    ).where(random))).one()
    keys = ("drawn", "dispatched", "done", "returned", "approved", "published", "overdue", "unstaffed", "cancelled",
            "open", "done_late")
    out["tasks"] = dict(zip(keys, (int(v or 0) for v in row)))

    # Completions per day against the window (random checks), of the tasks the "done" figure counts:
    # the curve ends where that figure says. Read with the feedback and publication figures (point 5):
    # one grouped pass over the batch's completed tasks gives all three.
    per_day, out["feedback"], out["publication"] = _completions(scoped, batch.id, calendar, today)
    out["timeline"] = [{"day": d.isoformat(), "n": n} for d, n in sorted(per_day.items())]

    # 2. Early outcomes (the phone's outcome record).
    value = SyncRecord.data["outcome"].as_string()
    rows = db.session.execute(
        select(value, func.count(func.distinct(SyncRecord.task_id)))
        .where(SyncRecord.task_id.in_(mine), SyncRecord.kind == "outcome", SyncRecord.superseded.is_(False),
               value.in_(OUTCOMES)).group_by(value)).all()
    out["outcomes"] = {o: 0 for o in OUTCOMES} | {o: n for o, n in rows}

    # 3. Hazards: totals (one query), then by industry, township, question and days to close.
    def in_batch(stmt):
        """A select from Hazard narrowed to the batch (and, for a team lead, to their groups' tasks: the
        join to Task is made only then, the brigade lead's and the office's figures read the hazards alone)."""
        stmt = stmt.where(Hazard.batch_id == batch.id)
        return stmt if user is None else stmt.where(Hazard.task_id.in_(mine))
    row = db.session.execute(in_batch(select(
        func.count(Hazard.id), _n(Hazard.grade == "major"), _n(Hazard.grade == "general"),
        _n(Hazard.status.in_(OPEN_STATES)), _n(Hazard.status == "awaiting_review"), _n(Hazard.status == "closed"),
        _n(Hazard.overdue_on(today)), _n(Hazard.escalation.is_not(None)), _n(Hazard.supervised_at.is_not(None)),
        *(_n(_reinspection_clause(s)) for s in REINSPECTION_STATES),
    ).select_from(Hazard))).one()
    row = [int(v or 0) for v in row]
    h = dict(zip(("total", "major", "general", "open", "awaiting_review", "closed", "overdue", "escalated",
                  "supervised"), row))
    reinspected = dict(zip(("total", "rectified", "not_rectified", "pending"), row[-len(REINSPECTION_STATES):]))
    days = _days_between(Hazard.closed_at, Hazard.created_at)
    histogram = {int(d): n for d, n in db.session.execute(in_batch(
        select(days, func.count(Hazard.id)).select_from(Hazard).where(Hazard.status == "closed",
                                                                      Hazard.closed_at.is_not(None))
        .group_by(days))) if d is not None}
    h["rectification_rate"] = _rate(h["closed"], h["total"])
    h["median_days_to_close"] = _median(histogram)
    out["hazards"] = h
    out["days_to_close"] = [{"days": d, "n": n} for d, n in sorted(histogram.items())]
    grade_labels = REVIEW_LABELS["grade"]
    out["by_grade"] = [{"key": g, "label": str(grade_labels[g]), "n": h[g]} for g in ("major", "general")]

    industry, region, question = _breakdowns(in_batch)
    out["by_industry"] = [{"key": k or "", "label": str(INDUSTRY_LABELS.get(k, k or "—")), "n": n} for k, n, _t in industry]
    out["by_township"] = [{"key": k or "", "label": k or "—", "n": n} for k, n, _t in region]
    top = [r for r in question if r[0]][:TOP_QUESTIONS]
    texts = _question_texts({q: t for q, _n_, t in top})
    out["top_questions"] = [{"question": q, "text": texts.get(q, ("", ""))[0], "checklist": texts.get(q, ("", ""))[1],
                             "n": n} for q, n, _t in top]

    # 4. Re-inspections: the hazards they covered, by what they found (counted with the totals), and their tasks.
    out["reinspections"] = reinspected
    out["reinspections"]["tasks"] = db.session.scalar(scoped(select(func.count(Task.id)).where(
        Task.batch_id == batch.id, Task.kind == "reinspection", Task.status == "dispatched")))

    # 5. Feedback (R19) and publication (R20) on time: read with the timeline above (``_completions``), due
    # dates per distinct completion date.

    # 6. Workload: per inspector, the batch's tasks (active membership), done, hazards found. Hazards are
    # counted per task first (one pass over the batch's hazards) and shared out to the members in the same
    # statement (a hazard's batch is its task's: review/services.py sets it from the task).
    per_task = in_batch(select(Hazard.task_id.label("task_id"), func.count().label("n")).select_from(Hazard)
                        .group_by(Hazard.task_id)).subquery()
    rows = db.session.execute(scoped(
        select(Inspector.id, Inspector.name, Department.name, func.count(Task.id), _n(P.clause("done")),
               _n(P.overdue_clause(today)), func.coalesce(func.sum(per_task.c.n), 0))
        .select_from(TaskMember).join(Task, Task.id == TaskMember.task_id)
        .join(Inspector, Inspector.id == TaskMember.inspector_id).join(Department, Department.id == Inspector.department_id)
        .outerjoin(per_task, per_task.c.task_id == Task.id)
        .where(Task.batch_id == batch.id, TaskMember.active.is_(True))
        .group_by(Inspector.id, Inspector.name, Department.name))).all()
    out["workload"] = sorted(({"inspector_id": i, "name": name, "department": dept, "tasks": n, "done": done,
                               "overdue": overdue, "hazards": int(found or 0)}
                              for i, name, dept, n, done, overdue, found in rows),
                             key=lambda w: (-w["tasks"], -w["done"], w["name"], w["inspector_id"]))

    # 7. The year's earlier batches side by side (two grouped queries).
    earlier = db.session.execute(select(Batch.id, Batch.title, Batch.seq).join(Plan, Plan.id == Batch.plan_id).where(
        Plan.year == plan.year, Batch.id != batch.id,
        or_(Batch.window_start < batch.window_start,
            and_(Batch.window_start == batch.window_start, Batch.id < batch.id)))
        .order_by(Batch.window_start, Batch.id)).all()
    figures = headlines([b.id for b in earlier], user)
    out["earlier"] = [{"batch_id": b.id, "title": b.title, "seq": b.seq, **figures[b.id]} for b in earlier]
    return out


def _breakdowns(in_batch) -> tuple[list, list, list]:
    """Hazards by industry, by township and by question, most first: (key, n, first task id) rows. On
    PostgreSQL one pass over the batch's hazards (GROUPING SETS); elsewhere one GROUP BY each."""
    n, first = func.count(Hazard.id), func.min(Hazard.task_id)
    cols = (Hazard.industry, Hazard.region, Hazard.question)
    if _postgres():
        which = func.grouping(Hazard.industry, Hazard.region, Hazard.question)
        stmt = in_batch(select(which.label("g"), *cols, n, first).select_from(Hazard)
                        .group_by(func.grouping_sets(*(tuple_(c) for c in cols))))
        out = ([], [], [])
        # grouping() sets a bit per column left out: 3 = by industry, 5 = by township, 6 = by question.
        slot = {0b011: 0, 0b101: 1, 0b110: 2}
        for g, industry, region, question, count, task in db.session.execute(stmt):
            k = slot[g]
            out[k].append(((industry, region, question)[k], count, task))
    else:
        out = tuple(db.session.execute(in_batch(select(c, n, first).select_from(Hazard).group_by(c))).all() for c in cols)
    return tuple(sorted(rows, key=lambda r: (-r[1], r[0] or "")) for rows in out)


def _as_day(value) -> date | None:
    if isinstance(value, str):  # SQLite hands a date subquery back as text
        return date.fromisoformat(value[:10])
    return value


def _completions(scoped, batch_id: int, calendar: Calendar, today: date) -> tuple[dict, dict, dict]:
    """The batch's completed tasks in one GROUP BY (completion date, publication limit, kind, counted as
    done, the day the enterprise was told, the day the result was first published): the random checks
    done per day (the timeline), and the R19 feedback and R20 publication counts (due, on time, late,
    missing and overdue, pending; due dates from the working-day calendar, once per distinct key)."""
    done = local_date(Task.completed_at)
    is_random = case((Task.kind == "random", 1), else_=0)
    counted = case((P.clause("done"), 1), else_=0)
    # Outer joins, not a subquery per task: the feedback (one per task) and each task's first publication.
    first = (select(PublishedResult.task_id.label("task_id"), func.min(PublishedResult.published_at).label("at"))
             .group_by(PublishedResult.task_id).subquery("first_pub"))
    told, published = Feedback.given_on, local_date(first.c.at)
    cols = (done, Task.publication_days, is_random, counted, told, published)
    rows = db.session.execute(scoped(select(*cols, func.count(Task.id))
                                     .select_from(Task).outerjoin(Feedback, Feedback.task_id == Task.id)
                                     .outerjoin(first, first.c.task_id == Task.id)
                                     .where(Task.batch_id == batch_id, Task.completed_at.is_not(None))
                                     .group_by(*cols))).all()
    feedback_dues = {d: calendar.add_working_days(d, R19_FEEDBACK_DAYS)[0] for d in {r[0] for r in rows} if d is not None}
    publication_dues = {(d, n): calendar.add_working_days(d, n)[0]
                        for d, n in {(r[0], r[1]) for r in rows if r[2]} if d is not None}
    per_day: dict[date, int] = {}
    feedback = {"due": 0, "on_time": 0, "late": 0, "missing_overdue": 0, "pending": 0}
    publication = dict(feedback)

    def tally(out: dict, due, day, n: int) -> None:
        out["due"] += n
        if due is None:
            return
        if day is None:
            out["missing_overdue" if due < today else "pending"] += n
        else:
            out["on_time" if day <= due else "late"] += n

    for d, days, random, is_done, told_on, published_on, n in rows:
        tally(feedback, feedback_dues.get(d), _as_day(told_on), n)
        if random:
            tally(publication, publication_dues.get((d, days)), _as_day(published_on), n)
            if is_done and d is not None:
                per_day[d] = per_day.get(d, 0) + n
    return per_day, feedback, publication


def _question_texts(first_task: dict) -> dict[str, tuple[str, str]]:
    """Question id → (its text, its checklist's title), from the checklists frozen on one task that
    found it (two queries for the ten questions)."""
    if not first_task:
        return {}
    from ..checklists.models import ChecklistVersion
    lists = dict(db.session.execute(select(Task.id, Task.checklists).where(Task.id.in_(set(first_task.values())))).all())
    ids = {c["id"] for cl in lists.values() for c in cl or []}
    versions = {v.id: v for v in db.session.scalars(select(ChecklistVersion).where(ChecklistVersion.id.in_(ids)))} if ids else {}
    out = {}
    for question, task_id in first_task.items():
        for c in lists.get(task_id) or []:
            v = versions.get(c["id"])
            q = next((q for q in v.questions if q.get("id") == question), None) if v else None
            if q is not None:
                out[question] = (q.get("text", ""), v.title)
                break
    return out
