"""Accountability (R24, 尽职照单免责、失职照单问责): what the record says each inspector and each inspection
group failed to do, and, per task, the record that shows the duty was done.

The five failures the seeds name (000 §三 "不执行或者拖延执行抽查任务 … 未依法及时公示 … 未依法移送"), as
the platform can decide them from its own records:

``late``        A task not done in its window: its window (``due_date``, Asia/Shanghai) ended and the
                inspection was never submitted, or was first submitted (server receipt time, ``completed_at``)
                after the window's last day.
``returned``    A submitted inspection the reviewing lead sent back for correction (each ``task.return``
                audit entry; the task's ``review_state`` only shows the latest state).
``unpublished`` R20: a task's result published after ``publication_due`` or, past that date, not published at
                all (re-inspections have no result of their own).
``escalation``  R18 follow-up of hazards: a hazard still open (待整改/整改中) more than ``ESCALATION_GRACE_DAYS``
                after its rectification deadline without any escalation, or one escalated only after that
                grace (its first ``escalate`` HazardEvent).
``case``        R18 / 001 §25 "涉嫌违法违规 … 立案处理": a hazard whose re-inspection found it not rectified (the
                inspector recorded ``rectified = false``, or the lead kept it open after the re-inspection:
                a ``hazard.keep_open`` entry) — the unit ignored the order (安全生产法 §102), which calls for a
                case, a transfer or the judicial organs — and that has no escalation recorded.

Who answers for a task: its group's *active* members. A member replaced in the group (``TaskMember.active``
false, with ``left_reason``) is not counted for the task: the member who took over is. Hazards count for the
group of the task that found them. A group is the set of a task's active members, named by them; the same
people drawn together for several tasks are one group.

Everything is computed over the year's (or the batch's) tasks in a fixed number of set-based queries; the
deadlines that need the working-day calendar (R20) are computed in Python over the fetched rows with one
calendar.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, or_, select

from ..audit.models import AuditEntry
from ..db_types import SHANGHAI, today_shanghai
from ..draws.models import Batch, Plan
from ..extensions import db
from ..publication.models import PublishedResult
from ..registries.models import Department, Enterprise, Inspector
from ..review.models import OPEN_STATES, Hazard, HazardEvent
from ..tasks.models import Task, TaskMember, with_members
from ..workdays import Calendar

#: R18: an overdue hazard is re-inspected within 10 days of its deadline (review.services.REINSPECTION_DAYS,
#: the practice DOMAIN.md describes); a hazard still open after that must have been escalated.
ESCALATION_GRACE_DAYS = 10

METRICS = ("late", "returned", "unpublished", "escalation", "case")
#: Metrics about hazards (the others are about tasks).
HAZARD_METRICS = ("escalation", "case")

LABELS = {
    "late": _l("Not done in the window"),
    "returned": _l("Returned for correction"),
    "unpublished": _l("Result not published in time"),
    "escalation": _l("Overdue hazards not escalated in time"),
    "case": _l("Cases not filed or transferred"),
}
#: What each failure means, in words (the page's explanation; the tooltip cites the seed).
EXPLAIN = {
    "late": _l("The inspection window ended and the inspection was not submitted, or it was first submitted "
               "after the window's last day (time the server received it)."),
    "returned": _l("Each time the reviewing lead sent the inspection back for correction."),
    "unpublished": _l("The result was published after the publication deadline (working days after the "
                      "inspection ended, as the plan sets), or the deadline passed and it is still not published."),
    "escalation": _l("A hazard still awaiting rectification more than %(n)d days after its deadline without "
                     "being escalated, or escalated only after that.", n=ESCALATION_GRACE_DAYS),
    "case": _l("The re-inspection found a hazard not rectified (the unit ignored the order), yet no case was "
               "filed and nothing was transferred to another department or the judicial organs."),
}
SOURCES = {
    "late": "《2025年度双随机抽查计划》三：不执行或者拖延执行抽查任务",
    "returned": "《实施细则》第二十一条",
    "unpublished": "《实施细则》第二十四条；《2025年度双随机抽查计划》二(二)二",
    "escalation": "《实施细则》第二十五条",
    "case": "《实施细则》第二十五条；《安全生产法》第一百零二条",
}


def _local_day(instant) -> date | None:
    return instant.astimezone(SHANGHAI).date() if instant is not None else None


# --- the scope ------------------------------------------------------------------------------------------

def years() -> list[int]:
    """The plan years there are tasks for, newest first (the year filter's options)."""
    return list(db.session.scalars(select(Plan.year).join(Batch, Batch.plan_id == Plan.id)
                                   .join(Task, Task.batch_id == Batch.id).distinct().order_by(Plan.year.desc())))


def batches(year: int) -> list[Batch]:
    return list(db.session.scalars(select(Batch).join(Plan, Plan.id == Batch.plan_id).where(Plan.year == year)
                                   .order_by(Batch.window_start, Batch.id)))


def _task_ids(year: int, batch_id: int | None):
    """The tasks accountability looks at: dispatched (a task with no group or cancelled has nobody to
    answer for it), of the year's plans or of one batch. A subquery, never a list in memory."""
    stmt = (select(Task.id).join(Batch, Batch.id == Task.batch_id).join(Plan, Plan.id == Batch.plan_id)
            .where(Plan.year == year, Task.status == "dispatched"))
    if batch_id is not None:
        stmt = stmt.where(Task.batch_id == batch_id)
    return stmt


# --- the facts ------------------------------------------------------------------------------------------

@dataclass
class Facts:
    """Per metric: task id → detail (task metrics), hazard id → (task id, detail) (hazard metrics)."""
    tasks: dict[str, dict[int, dict]] = field(default_factory=lambda: {m: {} for m in METRICS if m not in HAZARD_METRICS})
    hazards: dict[str, dict[int, tuple[int, dict]]] = field(default_factory=lambda: {m: {} for m in HAZARD_METRICS})

    def task_ids(self, metric: str) -> set[int]:
        if metric in HAZARD_METRICS:
            return {t for t, _d in self.hazards[metric].values()}
        return set(self.tasks[metric])

    def count_for(self, metric: str, tasks: set[int]) -> int:
        """How many failures of ``metric`` fall on ``tasks`` (returns are counted each time)."""
        if metric in HAZARD_METRICS:
            return sum(1 for t, _d in self.hazards[metric].values() if t in tasks)
        if metric == "returned":
            return sum(d["times"] for t, d in self.tasks[metric].items() if t in tasks)
        return sum(1 for t in self.tasks[metric] if t in tasks)


def facts(year: int, batch_id: int | None = None, today: date | None = None) -> Facts:
    today = today or today_shanghai()
    scope = _task_ids(year, batch_id)
    out = Facts()

    # Not done in the window: ended before today and never submitted, or submitted after its last day.
    for tid, due, completed in db.session.execute(
            select(Task.id, Task.due_date, Task.completed_at).where(Task.id.in_(scope), Task.due_date < today)):
        done = _local_day(completed)
        if done is None:
            out.tasks["late"][tid] = {"due": due, "done": None, "days": (today - due).days}
        elif done > due:
            out.tasks["late"][tid] = {"due": due, "done": done, "days": (done - due).days}

    # Returned: every task.return entry of the trail (a task returned twice failed twice).
    returns = db.session.execute(
        select(AuditEntry.object_id, func.count(), func.max(AuditEntry.at))
        .where(AuditEntry.action == "task.return", AuditEntry.object_type == "task",
               AuditEntry.object_id.in_(select(cast(Task.id, String)).where(Task.id.in_(scope))))
        .group_by(AuditEntry.object_id))
    for object_id, times, last in returns:
        out.tasks["returned"][int(object_id)] = {"times": times, "last": last}

    # R20: published late, or not published and past its deadline.
    first = (select(PublishedResult.task_id, func.min(PublishedResult.published_at).label("at"))
             .group_by(PublishedResult.task_id).subquery())
    calendar, dues = Calendar(), {}
    for tid, completed, days, published in db.session.execute(
            select(Task.id, Task.completed_at, Task.publication_days, first.c.at)
            .outerjoin(first, first.c.task_id == Task.id)
            .where(Task.id.in_(scope), Task.kind != "reinspection", Task.completed_at.is_not(None))):
        key = (_local_day(completed), days)  # few distinct days: the calendar is walked once for each
        if key not in dues:
            dues[key] = calendar.add_working_days(*key)
        due, provisional = dues[key]
        on = _local_day(published)
        if (on is not None and on > due) or (on is None and due < today):
            out.tasks["unpublished"][tid] = {"due": due, "provisional": provisional, "published": on,
                                             "days": ((on or today) - due).days}

    # Hazards: the first escalation of each, and whether a re-inspection found it not rectified.
    escalated = (select(HazardEvent.hazard_id, func.min(HazardEvent.at).label("at"))
                 .where(HazardEvent.kind == "escalate").group_by(HazardEvent.hazard_id).subquery())
    kept_open = (select(AuditEntry.object_id).where(AuditEntry.action == "hazard.keep_open",
                                                    AuditEntry.object_type == "hazard").distinct().subquery())
    late_limit = today - timedelta(days=ESCALATION_GRACE_DAYS)
    never = and_(Hazard.escalation.is_(None), escalated.c.at.is_(None))
    not_rectified = or_(Hazard.rectified.is_(False), kept_open.c.object_id.is_not(None))
    # Only the hazards that may have failed come back: past the grace and open or escalated, or not rectified.
    rows = db.session.execute(
        select(Hazard.id, Hazard.task_id, Hazard.deadline, Hazard.status, Hazard.escalation, Hazard.grade,
               escalated.c.at, not_rectified.label("not_rectified"))
        .outerjoin(escalated, escalated.c.hazard_id == Hazard.id)
        .outerjoin(kept_open, kept_open.c.object_id == Hazard.record_uuid)
        .where(Hazard.task_id.in_(scope),
               or_(and_(never, Hazard.status.in_(OPEN_STATES), Hazard.deadline < late_limit),
                   and_(escalated.c.at.is_not(None), Hazard.deadline < late_limit),
                   and_(never, not_rectified))))
    for hid, tid, deadline, status, escalation, grade, at, not_rectified in rows:
        limit = deadline + timedelta(days=ESCALATION_GRACE_DAYS) if deadline else None
        on = _local_day(at)
        if limit is not None:
            if escalation is None and at is None and status in OPEN_STATES and limit < today:
                out.hazards["escalation"][hid] = (tid, {"deadline": deadline, "limit": limit, "escalated": None,
                                                        "days": (today - limit).days, "grade": grade})
            elif on is not None and on > limit:
                out.hazards["escalation"][hid] = (tid, {"deadline": deadline, "limit": limit, "escalated": on,
                                                        "days": (on - limit).days, "grade": grade})
        if not_rectified and escalation is None and at is None:
            out.hazards["case"][hid] = (tid, {"deadline": deadline, "grade": grade})
    return out


def _members(year: int, batch_id: int | None) -> list[tuple[int, int, str, str]]:
    """(task id, inspector id, name, department) of every active member of the scope's tasks."""
    return db.session.execute(
        select(TaskMember.task_id, Inspector.id, Inspector.name, Department.name)
        .join(Inspector, Inspector.id == TaskMember.inspector_id)
        .join(Department, Department.id == Inspector.department_id)
        .where(TaskMember.task_id.in_(_task_ids(year, batch_id)), TaskMember.active.is_(True))
        .order_by(TaskMember.task_id, TaskMember.position)).all()


def group_key(inspector_ids) -> str:
    """A group's key in URLs: its members' inspector ids, sorted, joined by '-'."""
    return "-".join(str(i) for i in sorted(set(inspector_ids)))


def overview(year: int, batch_id: int | None = None, today: date | None = None) -> dict:
    """Per inspector and per group: how many tasks they held and each failure's count."""
    found = facts(year, batch_id, today)
    members = _members(year, batch_id)
    by_inspector: dict[int, dict] = {}
    task_members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for tid, iid, name, department in members:
        row = by_inspector.setdefault(iid, {"id": iid, "name": name, "department": department, "task_ids": set()})
        row["task_ids"].add(tid)
        task_members[tid].append((iid, name))
    groups: dict[str, dict] = {}
    task_group: dict[int, dict] = {}
    for tid, people in task_members.items():
        key = group_key(i for i, _n in people)
        row = groups.setdefault(key, {"key": key, "names": [n for _i, n in sorted(people, key=lambda p: p[1])],
                                      "task_ids": set()})
        row["task_ids"].add(tid)
        task_group[tid] = row
    for row in (*by_inspector.values(), *groups.values()):
        row["tasks"] = len(row.pop("task_ids"))
        row["counts"] = dict.fromkeys(METRICS, 0)

    # Each failure once onto the people and the group of its task: linear in the failures.
    def add(metric: str, tid: int, n: int = 1) -> None:
        for iid, _name in task_members.get(tid, ()):
            by_inspector[iid]["counts"][metric] += n
        if tid in task_group:
            task_group[tid]["counts"][metric] += n
    for metric, rows in found.tasks.items():
        for tid, detail in rows.items():
            add(metric, tid, detail["times"] if metric == "returned" else 1)
    for metric, rows in found.hazards.items():
        for tid, _detail in rows.values():
            add(metric, tid)

    def finish(rows):
        for row in rows:
            row["failures"] = sum(row["counts"].values())
        # Most failures first; then by name, so the order is stable.
        return sorted(rows, key=lambda r: (-r["failures"], r.get("name") or "、".join(r["names"])))

    totals = {m: len(found.hazards[m]) if m in HAZARD_METRICS else found.count_for(m, set(found.tasks[m]))
              for m in METRICS}
    return {"inspectors": finish(list(by_inspector.values())), "groups": finish(list(groups.values())), "totals": totals,
            "tasks": len(task_members)}


#: The list behind a count shows this many rows (the oldest first); the page says how many there are.
DETAILS_LIMIT = 200


def details(year: int, batch_id: int | None, metric: str, inspector_id: int | None = None,
            group: str | None = None, today: date | None = None, limit: int = DETAILS_LIMIT) -> tuple[list[dict], int]:
    """The tasks (or hazards) behind one count: the whole scope's, one inspector's or one group's; the first
    ``limit`` rows (hazards by deadline, tasks in the order they were dispatched) and how many there are."""
    found = facts(year, batch_id, today)
    task_ids = found.task_ids(metric)
    if inspector_id is not None or group is not None:
        people: dict[int, set[int]] = defaultdict(set)
        for tid, iid, _n, _d in _members(year, batch_id):
            people[tid].add(iid)
        if inspector_id is not None:
            task_ids = {t for t in task_ids if inspector_id in people.get(t, ())}
        else:
            task_ids = {t for t in task_ids if group_key(people.get(t, ())) == group}
    if not task_ids:
        return [], 0
    if metric in HAZARD_METRICS:
        picked = sorted(((d["deadline"] or date.max, h, t) for h, (t, d) in found.hazards[metric].items()
                         if t in task_ids))
        total, picked = len(picked), picked[:limit]
        tasks = {t.id: t for t in db.session.scalars(select(Task).where(Task.id.in_({t for _d, _h, t in picked}))
                                                     .options(with_members()))}
        hazards = {h.id: h for h in db.session.scalars(select(Hazard).where(Hazard.id.in_([h for _d, h, _t in picked])))}
        return [{"task": tasks[t], "hazard": hazards[h], **found.hazards[metric][h][1]} for _d, h, t in picked], total
    picked = sorted(task_ids)  # in the order they were dispatched
    total, picked = len(picked), picked[:limit]
    loaded = db.session.scalars(select(Task).where(Task.id.in_(picked)).options(with_members())).all()
    return [{"task": t, **found.tasks[metric][t.id]} for t in sorted(loaded, key=lambda t: (t.due_date, t.id))], total


def inspector_name(inspector_id: int) -> str | None:
    return db.session.scalar(select(Inspector.name).where(Inspector.id == inspector_id))


def group_ids(key: str) -> list[int] | None:
    """The inspector ids of a group key, or None when it is not one (junk, an id out of range)."""
    from ..inputs import int_arg
    parts = (key or "").split("-")
    ids = [int_arg(p, 1) for p in parts[:50]]
    return None if not parts or len(parts) > 50 or None in ids else ids


def group_names(key: str) -> list[str] | None:
    ids = group_ids(key)
    if ids is None:
        return None
    names = db.session.execute(select(Inspector.id, Inspector.name).where(Inspector.id.in_(ids))).all()
    return sorted(n for _i, n in names) if len(names) == len(set(ids)) else None


# --- the duty record of one task (照单免责) -------------------------------------------------------------

def distance_m(lat1, lng1, lat2, lng2) -> float | None:
    """Great-circle distance in metres (haversine), or None when a coordinate is missing."""
    if None in (lat1, lng1, lat2, lng2):
        return None
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


#: A check-in farther than this from the registered location is flagged (the GPS of a phone indoors
#: errs by tens of metres; a site may spread over a few hundred).
FAR_M = 1000


def duty(task: Task, today: date | None = None) -> dict:
    """Each step of the task, with the evidence the records hold for it, or None where it is missing."""
    from ..auth.models import User
    from ..review.models import Feedback
    from ..review.services import feedback_due
    from ..publication.services import publication_due
    from ..sync.models import SyncRecord

    today = today or today_shanghai()
    records = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)
                                 .order_by(SyncRecord.received_at)).all()
    kept = [r for r in records if not r.superseded]
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "task",
                                                        AuditEntry.object_id == str(task.id),
                                                        AuditEntry.action.in_(("task.dispatch", "task.submit",
                                                                               "task.return", "task.approve",
                                                                               "task.substitute_inspector")))
                               .order_by(AuditEntry.id)).all()
    inspectors = {m.inspector_id: m.inspector for m in task.members}
    extra = {r.inspector_id for r in kept if r.inspector_id and r.inspector_id not in inspectors}
    extra |= {r.data.get("inspector_id") for r in kept if r.kind == "signature"
              and isinstance(r.data.get("inspector_id"), int) and r.data.get("inspector_id") not in inspectors}
    if extra:
        inspectors.update({i.id: i for i in db.session.scalars(select(Inspector).where(Inspector.id.in_(extra)))})
    user_ids = {e.actor_id for e in trail if e.actor_id} | {r.user_id for r in kept}
    versions = db.session.scalars(select(PublishedResult).where(PublishedResult.task_id == task.id)
                                  .order_by(PublishedResult.version)).all()
    user_ids |= {v.published_by for v in versions if v.published_by} | ({task.reviewed_by} if task.reviewed_by else set())
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}

    def who(user_id, fallback=""):
        u = users.get(user_id)
        return u.display_name if u else fallback

    # Where the enterprise is registered: the task's copy at dispatch, else the registry's current entry.
    lat, lng = (task.enterprise or {}).get("lat"), (task.enterprise or {}).get("lng")
    if lat is None or lng is None:
        row = db.session.execute(select(Enterprise.lat, Enterprise.lng).where(Enterprise.id == task.enterprise_id)).first()
        lat, lng = (row.lat, row.lng) if row else (None, None)

    members = [{"name": m.inspector.name, "cert_no": m.inspector.cert_no, "active": m.active,
                "left_reason": m.left_reason} for m in task.members]
    dispatch = next((e for e in trail if e.action == "task.dispatch"), None)
    steps = [{"key": "dispatched", "done": True, "at": task.dispatched_at,
              "who": who(dispatch.actor_id, dispatch.actor) if dispatch else "", "members": members,
              "window": (task.start_date, task.due_date)}]

    checkins = []
    for r in (r for r in kept if r.kind == "checkin"):
        gap = distance_m(r.data.get("lat"), r.data.get("lng"), lat, lng)
        device_day = _local_day(r.device_time)
        checkins.append({"inspector": inspectors[r.inspector_id].name if r.inspector_id in inspectors else who(r.user_id),
                         "device_time": r.device_time, "received_at": r.received_at,
                         "lat": r.data.get("lat"), "lng": r.data.get("lng"), "accuracy": r.data.get("accuracy_m"),
                         "distance": gap, "far": gap is not None and gap > FAR_M,
                         "in_window": device_day is not None and task.start_date <= device_day <= task.due_date})
    steps.append({"key": "checkin", "done": bool(checkins), "checkins": checkins,
                  "registered": lat is not None and lng is not None})

    signatures = []
    signed_inspectors = set()
    for r in (r for r in kept if r.kind == "signature"):
        role = r.data.get("role")
        iid = r.data.get("inspector_id") or r.inspector_id
        if role == "inspector":
            signed_inspectors.add(iid)
        name = (inspectors[iid].name if role == "inspector" and iid in inspectors else r.data.get("name") or "")
        signatures.append({"role": role, "name": name, "refused": bool(r.data.get("refused")),
                           "device_time": r.device_time, "received_at": r.received_at})
    unsigned = [m.inspector.name for m in task.members if m.active and m.inspector_id not in signed_inspectors]
    steps.append({"key": "signed", "done": bool(signatures) and not unsigned, "signatures": signatures,
                  "unsigned": unsigned, "enterprise": any(s["role"] == "enterprise" for s in signatures)})

    outcome = next((r for r in kept if r.kind == "outcome"), None)
    submits = [e for e in trail if e.action == "task.submit"]
    steps.append({"key": "submitted", "done": task.completed_at is not None, "at": task.completed_at,
                  "outcome": outcome.data.get("outcome") if outcome else None,
                  "device_time": outcome.device_time if outcome else None,
                  "by": (inspectors[outcome.inspector_id].name if outcome and outcome.inspector_id in inspectors
                         else who(outcome.user_id) if outcome else ""),
                  "times": len(submits),
                  "on_time": (_local_day(task.completed_at) <= task.due_date) if task.completed_at else None})

    reviews = [{"action": e.action.split(".")[1], "at": e.at, "who": who(e.actor_id, e.actor),
                "comment": (json.loads(e.after) or {}).get("comment", "") if e.after else ""}
               for e in trail if e.action in ("task.return", "task.approve")]
    steps.append({"key": "reviewed", "done": task.review_state == "approved", "reviews": reviews,
                  "state": task.review_state})

    feedback = db.session.scalar(select(Feedback).where(Feedback.task_id == task.id))
    fb_due, fb_prov = feedback_due(task)
    steps.append({"key": "feedback", "done": feedback is not None, "given_on": feedback.given_on if feedback else None,
                  "way": feedback.way if feedback else None, "due": fb_due, "provisional": fb_prov,
                  "on_time": (feedback.given_on <= fb_due) if feedback and fb_due else None,
                  "overdue": feedback is None and fb_due is not None and fb_due < today})

    if task.kind != "reinspection":
        pub_due, pub_prov = publication_due(task)
        first_pub = versions[0] if versions else None
        steps.append({"key": "published", "done": bool(versions),
                      "versions": [{"version": v.version, "at": v.published_at, "who": who(v.published_by),
                                    "category": v.category, "reason": v.reason} for v in versions],
                      "due": pub_due, "provisional": pub_prov,
                      "on_time": (_local_day(first_pub.published_at) <= pub_due) if first_pub and pub_due else None,
                      "overdue": first_pub is None and pub_due is not None and pub_due < today})

    left = [m for m in members if not m["active"]]
    return {"steps": steps, "left": left, "late": bool(task.due_date < today and task.completed_at is None)}
