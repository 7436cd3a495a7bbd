"""The team lead's review, the hazard life cycle and re-inspection (复查): each a service function, in a
transaction, with its audit entry.

What a phone's sync implies here (an outcome submits the task, a hazard enters the register, a closure
waits for review) runs inside the sync's own transaction through ``on_record_accepted``.
"""
import json
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.models import AuditEntry
from ..audit.services import record
from ..db_types import SHANGHAI, today_shanghai, utcnow
from ..workdays import Calendar
from ..extensions import db
from ..inputs import date_arg
from ..services import ServiceError, lock_row, transaction
from ..sync.models import SyncRecord
from ..tasks.models import Task, TaskMember
from .models import ESCALATIONS, FEEDBACK_WAYS, PLAN_FIELDS, Feedback, Hazard, HazardEvent

#: A re-inspection is due within 10 days of being scheduled (issue #5 §4; calendar days).
REINSPECTION_DAYS = 10


# --- consequences of a synced record ---------------------------------------------------------------

def _deadline(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def on_record_accepted(row: SyncRecord, task: Task, hazards: dict) -> list[tuple]:
    """Apply what an accepted record means for the review and the register; return audit entries.

    ``hazards`` maps record uuids to the Hazard rows the sync batch loaded (and receives new ones).
    """
    entries = []
    if row.kind == "outcome" and task.completed_at is None:
        task.completed_at = row.received_at  # server time: phones' clocks lie
    if row.kind == "outcome" and row.conflict:
        # The group's phones disagree on the outcome: never submitted until they agree (or, once
        # submitted, back to the group), and the phones show both outcomes.
        if task.review_state == "submitted":
            task.review_state = "open"
            entries.append(("task.unsubmit", "task", task.id, {"review_state": "submitted"},
                            {"review_state": "open", "why": "outcomes differ"}))
    elif row.kind == "outcome" and task.review_state in ("open", "returned"):
        before = task.review_state
        task.review_state = "submitted"
        entries.append(("task.submit", "task", task.id, {"review_state": before}, {"review_state": "submitted"}))
    elif row.kind == "hazard":
        hazard = hazards.get(row.uuid)
        fields = {"question": row.data.get("question"), "grade": row.data.get("grade") or "general",
                  "description": row.data.get("description") or "", "deadline": _deadline(row.data.get("deadline"))}
        if hazard is None:
            hazard = Hazard(record=row, task_id=task.id, batch_id=task.batch_id,
                            enterprise_id=task.enterprise_id, enterprise_name=task.enterprise.get("name", ""),
                            region=task.enterprise.get("region", ""), industry=task.enterprise.get("industry", ""),
                            status="pending", **fields)
            db.session.add(hazard)
            hazards[row.uuid] = hazard
            entries.append(("hazard.create", "hazard", row.uuid, None, {**fields, "task_id": task.id}))
        elif hazard.status == "pending":  # corrected on the phone before anything else happened to it
            before = {k: getattr(hazard, k) for k in fields}
            for k, v in fields.items():
                setattr(hazard, k, v)
            entries.append(("hazard.update", "hazard", row.uuid, before, fields))
    elif row.kind == "closure":
        hazard = hazards.get(row.data["hazard"])
        if hazard is not None and hazard.status != "closed":
            before = hazard.audit_view()
            hazard.closure_uuid, hazard.rectified = row.uuid, bool(row.data.get("rectified"))
            hazard.status = "awaiting_review"
            entries.append(("hazard.closure", "hazard", hazard.record_uuid, before, hazard.audit_view()))
    return entries


# --- the review --------------------------------------------------------------------------------------

def took_part(user, task: Task) -> bool:
    """Whether the user was ever a member of the task's group, or of the group of the inspection a
    re-inspection checks (issue #11 point 2): nobody reviews, settles, publishes or closes (销号) their
    own inspection or its follow-up, in the spirit of R13. Former members count."""
    if user is None or not getattr(user, "inspector_id", None) or task is None:
        return False
    tasks = [task.id] + ([task.origin_task_id] if task.origin_task_id else [])
    return db.session.scalar(select(TaskMember.id).where(TaskMember.task_id.in_(tasks),
                                                         TaskMember.inspector_id == user.inspector_id).limit(1)) is not None


def require_outsider(user, task: Task) -> None:
    if took_part(user, task):
        raise ServiceError(_("You were a member of this inspection group: another team lead or the brigade "
                             "reviews it (nobody checks their own work)."))


def refused_changes(task_id: int) -> list[dict]:
    """Changes the group's phones sent after the inspection was submitted or approved, which the sync
    refused (issue #11 point 1) and which have not landed since: the team lead decides whether to return
    the inspection so that they can."""
    from ..sync.services import content_hash  # the sync package imports this module
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sync.refused",
                                                          AuditEntry.object_type == "task",
                                                          AuditEntry.object_id == str(task_id))
                                 .order_by(AuditEntry.id)).all()
    if not entries:
        return []
    rows = {r.uuid: r for r in db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task_id))}
    out = {}
    for e in entries:
        change = json.loads(e.after)
        row = rows.get(change["uuid"])
        # Landed: that content is on the server now, or the phone sent the record again after the
        # refusal (once returned) and it was taken, whatever it said by then.
        if row is not None and (row.content_hash == content_hash(change["data"]) or row.received_at >= e.at):
            out.pop(change["uuid"], None)
            continue
        out[change["uuid"]] = {**change, "at": e.at}  # a record refused twice shows its latest version
    return sorted(out.values(), key=lambda c: c["at"])

def conflicts_of(task_id: int) -> dict[str, list[SyncRecord]]:
    """What the group's phones recorded differently (answers per question, the outcome, the enterprise's
    signature, a closure per hazard), by merge key, with every kept record."""
    rows = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task_id,
                                                       SyncRecord.conflict.is_(True))
                              .order_by(SyncRecord.question, SyncRecord.received_at)).all()
    out = {}
    for row in rows:
        out.setdefault(row.question, []).append(row)
    return out


def approve(task: Task, user, without_refused: bool = False, confirm_unanswered: bool | None = None) -> None:
    """Approve a submitted inspection. Changes the group's phones sent after submission (refused by the
    freeze) must not be passed over unseen: approval waits for the lead to return the inspection so they
    land, or to approve explicitly without them (``without_refused``, recorded with what was set aside).

    Questions of the task's checklists left unanswered in a completed inspection (issue #12 point 8): the
    review page's form always says whether the lead confirmed approving without them
    (``confirm_unanswered`` True/False), and False refuses, naming how many. None is a caller that asks
    nobody (a script). Either way the audit entry lists the questions approved unanswered."""
    with transaction():
        lock_row(task)  # two reviewers, or a review and a sync, take turns
        require_outsider(user, task)
        if task.status == "cancelled":
            raise ServiceError(_("This task was cancelled: there is nothing to approve."))
        if task.review_state != "submitted":
            raise ServiceError(_("Only a submitted inspection can be approved."))
        if conflicts_of(task.id):
            raise ServiceError(_("Settle what the group recorded differently first."))
        refused = refused_changes(task.id)
        if refused and not without_refused:
            raise ServiceError(_("%(n)d change(s) the group sent after submission were not taken: return the "
                                 "inspection so that they land, or approve without them.", n=len(refused)))
        unanswered = [q["id"] for q in unanswered_questions(task)]
        if unanswered and confirm_unanswered is False:
            raise ServiceError(_("%(n)d question(s) of the checklists were not answered: confirm that you approve "
                                 "the inspection without them, or return it for correction.", n=len(unanswered)),
                               "confirm_unanswered")
        task.review_state, task.reviewed_at, task.reviewed_by = "approved", utcnow(), user.id
        task.review_comment = ""
        record("task.approve", "task", task.id, {"review_state": "submitted"},
               {"review_state": "approved", **({"set_aside": [c["uuid"] for c in refused]} if refused else {}),
                **({"unanswered": unanswered} if unanswered else {})})


# --- what the lead reads before deciding (issue #12 point 8) ----------------------------------------

def checklist_questions(task: Task) -> list[tuple[dict, list[dict]]]:
    """The task's frozen checklists, in the task's order, each with its questions in the file's order."""
    from ..checklists.models import ChecklistVersion
    ids = [c["id"] for c in task.checklists or []]
    versions = {v.id: v for v in db.session.scalars(select(ChecklistVersion).where(ChecklistVersion.id.in_(ids)))} \
        if ids else {}
    return [(c, list(versions[c["id"]].questions)) for c in task.checklists or [] if c["id"] in versions]


def _answered(row: SyncRecord) -> bool:
    return row.data.get("result") is not None or row.data.get("value") is not None


def _outcome(rows) -> SyncRecord | None:
    kept = [r for r in rows if r.kind == "outcome" and not r.superseded]
    return kept[0] if kept else None


def unanswered_questions(task: Task, records: list[SyncRecord] | None = None, lists: list | None = None) -> list[dict]:
    """The questions of the task's checklists no kept answer answers, when the inspection was carried out
    (an outcome other than "completed", or none yet, means the questions could not be asked, R17)."""
    rows = records if records is not None else _records(task.id)
    outcome = _outcome(rows)
    if outcome is not None and outcome.data.get("outcome") != "completed":
        return []
    answered = {r.question for r in rows if r.kind == "answer" and not r.superseded and _answered(r)}
    lists = lists if lists is not None else checklist_questions(task)
    return [q for _c, questions in lists for q in questions if q["id"] not in answered]


def _records(task_id: int) -> list[SyncRecord]:
    return db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task_id)
                              .order_by(SyncRecord.kind, SyncRecord.question, SyncRecord.received_at)).all()


def record_photos(data: dict) -> list[str]:
    """The photos a record's data cites: its photos, and a signature's image."""
    shas = [s for s in (data.get("photos") or []) if isinstance(s, str)]
    if isinstance(data.get("image"), str):
        shas.append(data["image"])
    return shas


def task_photos(task_id: int) -> set[str]:
    """Every photo the task's records cite (answers, hazards, closures, signatures) and the photos its
    enterprise sent as evidence for it: what the task's review page may show, and nothing else."""
    from .enterprise import Evidence
    shas = set()
    for data in db.session.scalars(select(SyncRecord.data).where(SyncRecord.task_id == task_id)):
        shas.update(record_photos(data or {}))
    for photos in db.session.scalars(select(Evidence.photos).where(Evidence.task_id == task_id)):
        shas.update(photos or [])
    return shas


def review_flags(task: Task, records: list[SyncRecord], conflicts: dict, refused: list,
                 hazards: list[Hazard]) -> dict:
    """What is missing or in question in an inspection, for the top of its review page: unanswered
    questions, records the phones disagree on, missing signatures, check-in and outcome, records sent by
    someone no longer in the group, changes refused after submission, and (a re-inspection) hazards with
    no finding yet."""
    kept = [r for r in records if not r.superseded]
    outcome = _outcome(kept)
    signatures = [r for r in kept if r.kind == "signature"]
    signed_inspectors = {r.data.get("inspector_id") for r in signatures if r.data.get("role") == "inspector"}
    signed_inspectors |= {r.inspector_id for r in signatures if r.data.get("role") == "inspector"}
    unsigned = [m.inspector.name for m in task.active_members if m.inspector_id not in signed_inspectors]
    closures = {r.data.get("hazard") for r in kept if r.kind == "closure"}
    lists = checklist_questions(task)
    unanswered = unanswered_questions(task, records, lists)
    return {
        "unanswered": unanswered,
        "conflicts": len(conflicts),
        "unsigned_inspectors": unsigned,
        # As the phone asks (missingOf): only where someone of the enterprise was met, or an outcome is
        # still to come; a closed or vanished unit has nobody to sign.
        "enterprise_unsigned": (task.kind != "reinspection"
                                and (outcome is None or outcome.data.get("outcome") in ("completed", "non_cooperation"))
                                and not any(r.data.get("role") == "enterprise" for r in signatures)),
        "no_checkin": not any(r.kind == "checkin" for r in kept),
        "no_outcome": outcome is None,
        "reassigned": [r for r in kept if r.reassigned],
        "refused": len(refused),
        "not_reinspected": [h for h in hazards if h.reinspection_task_id == task.id
                            and h.record_uuid not in closures and h.status != "closed"],
        "answered": len({r.question for r in kept if r.kind == "answer" and _answered(r)}),
        "questions": sum(len(q) for _c, q in lists),
        "failed": len({r.question for r in kept if r.kind == "answer" and r.data.get("result") == "no"}),
        "photos": len({s for r in kept if r.kind != "signature" for s in record_photos(r.data)}),
    }


def return_for_correction(task: Task, user, comment: str) -> None:
    """Back to the group with the lead's comment; the phones get it on their next sync."""
    comment = (comment or "").strip()
    if not comment:
        raise ServiceError(_("Say what needs correcting."), "comment")
    with transaction():
        lock_row(task)  # two reviewers, or a review and a sync, take turns
        require_outsider(user, task)
        if task.review_state != "submitted":
            raise ServiceError(_("Only a submitted inspection can be returned."))
        task.review_state, task.review_comment = "returned", comment[:2000]
        task.reviewed_at, task.reviewed_by = utcnow(), user.id
        record("task.return", "task", task.id, {"review_state": "submitted"},
               {"review_state": "returned", "comment": task.review_comment})


def resolve_conflict(task: Task, question: str, chosen_uuid: str, user) -> None:
    """Keep one of the differing records on a merge key (an answer, the outcome, the enterprise's
    signature, a closure); the others stay on record, marked superseded. Settling differing outcomes
    submits an inspection the phones could not submit while they disagreed."""
    with transaction():
        lock_row(task)  # two reviewers, or a review and a sync, take turns
        require_outsider(user, task)
        rows = conflicts_of(task.id).get(question) or []
        chosen = next((r for r in rows if r.uuid == chosen_uuid), None)
        if chosen is None:
            raise ServiceError(_("That answer is not one of the differing answers to this question."))
        for row in rows:
            row.conflict = False
            row.superseded = row is not chosen
        record(f"{chosen.kind}.resolve", "task", task.id,
               {"question": question, "records": {r.uuid: r.data for r in rows}},
               {"question": question, "chosen": chosen.uuid, "data": chosen.data})
        if chosen.kind == "outcome" and task.review_state == "open":
            task.review_state = "submitted"
            record("task.submit", "task", task.id, {"review_state": "open"}, {"review_state": "submitted"})


# --- hazards and re-inspection -------------------------------------------------------------------

def schedule_reinspection(task: Task, user) -> Task:
    """A re-inspection task for the task's open hazards, to the original group, due in 10 days."""
    with transaction():
        lock_row(task)  # two reviewers, or a review and a sync, take turns
        if task.review_state != "approved":
            raise ServiceError(_("Approve the inspection before scheduling its re-inspection."))
        hazards = db.session.scalars(select(Hazard).where(Hazard.task_id == task.id,
                                                          Hazard.is_open)
                                     .order_by(Hazard.id)).all()
        if not hazards:
            raise ServiceError(_("This inspection has no open hazard to re-inspect."))
        today = today_shanghai()
        again = Task(batch_id=task.batch_id, draw_pk=task.draw_pk, enterprise_id=task.enterprise_id, uscc=task.uscc,
                     kind="reinspection", basis="reinspection", status="dispatched", enterprise=task.enterprise,
                     items=task.items, checklists=[], method="onsite", start_date=today,
                     due_date=today + timedelta(days=REINSPECTION_DAYS), publication_days=task.publication_days,
                     origin_task_id=task.id, review_state="open")
        again.members = [TaskMember(inspector_id=m.inspector_id, position=k)
                         for k, m in enumerate(task.active_members)]
        db.session.add(again)
        db.session.flush()
        for hazard in hazards:
            hazard.status, hazard.reinspection_task_id = "awaiting_review", again.id
        record("task.reinspection", "task", again.id, None,
               {**again.audit_view(), "origin_task_id": task.id, "hazards": [h.record_uuid for h in hazards]})
    return again


def closure_reviewable(user, hazard: Hazard) -> bool:
    """Whether ``user`` may close (销号) or keep open ``hazard`` now (see ``_closure_reviewable``)."""
    try:
        _closure_reviewable(user, hazard)
    except ServiceError:
        return False
    return True


def _closure_reviewable(user, hazard: Hazard) -> None:
    """销号 (or keeping open) reviews the re-inspection's finding: not by someone who found the hazard or
    made that finding, and only once the re-inspection is submitted, so the finding can no longer change
    under the decision (issue #11 points 1, 2)."""
    require_outsider(user, hazard.task)
    if hazard.reinspection_task_id is None:
        return
    again = db.session.get(Task, hazard.reinspection_task_id)
    require_outsider(user, again)
    if again.review_state not in ("submitted", "approved"):
        raise ServiceError(_("The re-inspection has not been submitted yet: its finding may still change."))


def close_hazard(hazard: Hazard, user) -> None:
    """销号: the inspector recorded on site that it is rectified; the team lead's review closes it."""
    with transaction():
        _closure_reviewable(user, hazard)
        if hazard.status != "awaiting_review" or not hazard.rectified:
            raise ServiceError(_("A hazard is closed only after a re-inspection found it rectified."))
        before = hazard.audit_view()
        hazard.status, hazard.closed_at, hazard.closed_by = "closed", utcnow(), user.id
        record("hazard.close", "hazard", hazard.record_uuid, before, hazard.audit_view())


def keep_open(hazard: Hazard, user, note: str) -> None:
    """Not rectified (or the evidence does not convince): back to 整改中 with the reason."""
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Say why the hazard stays open."), "note")
    with transaction():
        _closure_reviewable(user, hazard)
        if hazard.status != "awaiting_review" or hazard.closure_uuid is None:
            raise ServiceError(_("Only a re-inspected hazard can be kept open."))
        before = hazard.audit_view()
        hazard.status, hazard.note = "rectifying", note[:2000]
        hazard.closure_uuid = hazard.rectified = None
        record("hazard.keep_open", "hazard", hazard.record_uuid, before, hazard.audit_view())


# --- feedback to the enterprise (R19) -------------------------------------------------------------

#: R19: the enterprise hears the result within 7 working days after the inspection ends.
R19_FEEDBACK_DAYS = 7


def completed_on(task: Task) -> date | None:
    return task.completed_at.astimezone(SHANGHAI).date() if task.completed_at else None


def feedback_due(task: Task, calendar: Calendar | None = None):
    """(date, provisional) by which the enterprise must have the result, or (None, False). Every
    inspection, a re-inspection too, ends with the enterprise being told."""
    done = completed_on(task)
    return (calendar or Calendar()).add_working_days(done, R19_FEEDBACK_DAYS) if done else (None, False)


def record_feedback(task: Task, given_on: str, way: str, note: str, user) -> Feedback:
    try:
        day = date.fromisoformat(given_on or "")
    except ValueError:
        raise ServiceError(_("Enter the date the enterprise was told."), "given_on") from None
    if way not in FEEDBACK_WAYS:
        raise ServiceError(_("Say how the enterprise was told."), "way")
    done = completed_on(task)
    if done is None:
        raise ServiceError(_("The inspection has not been submitted yet."))
    if not done <= day <= today_shanghai():
        raise ServiceError(_("The date lies between the inspection's end and today."), "given_on")
    with transaction():
        lock_row(task)  # two reviewers, or a review and a sync, take turns
        row = db.session.scalar(select(Feedback).where(Feedback.task_id == task.id))
        before = {"given_on": row.given_on, "way": row.way, "note": row.note} if row else None
        if row is None:
            row = Feedback(task_id=task.id, given_on=day, way=way)
            db.session.add(row)
        row.given_on, row.way, row.note, row.recorded_by = day, way, (note or "").strip()[:2000], user.id
        row.recorded_at = utcnow()
        record("task.feedback", "task", task.id, before, {"given_on": day, "way": way, "note": row.note})
    return row


# --- the hazard's life after it was found ---------------------------------------------------------

def _event(hazard: Hazard, kind: str, data: dict, user, before: dict) -> None:
    db.session.add(HazardEvent(hazard_id=hazard.id, kind=kind, data=data, by=user.id))
    record(f"hazard.{kind}", "hazard", hazard.record_uuid, before, {**hazard.audit_view(), **data})


def _open(hazard: Hazard) -> None:
    if hazard.status == "closed":
        raise ServiceError(_("This hazard is already closed."))


def save_plan(hazard: Hazard, form, user) -> None:
    """A 重大事故隐患's rectification plan: every part of it is required (安监总局令第16号)."""
    if hazard.grade != "major":
        raise ServiceError(_("A rectification plan is for a major accident hazard."))
    plan = {k: (form.get(k) or "").strip()[:1000] for k in PLAN_FIELDS}
    missing = [k for k, v in plan.items() if not v]
    if missing:
        raise ServiceError(_("Fill in every part of the plan."), missing[0])
    _deadline_of(plan["deadline"])
    with transaction():
        _open(hazard)
        before = hazard.audit_view()
        hazard.plan = plan
        _event(hazard, "plan", {"plan": plan}, user, before)


def supervise(hazard: Hazard, by_whom: str, user) -> None:
    """挂牌督办, by the body that supervises it."""
    by_whom = (by_whom or "").strip()[:100]
    if not by_whom:
        raise ServiceError(_("Say who supervises it."), "supervised_by")
    with transaction():
        _open(hazard)
        before = hazard.audit_view()
        hazard.supervised_at, hazard.supervised_by = utcnow(), by_whom
        _event(hazard, "supervise", {"supervised_by": by_whom}, user, before)


def _deadline_of(value: str) -> date:
    try:
        return date_arg(value)  # issue #11 point 13: 9999-12-31 overflowed the enterprise link's expiry
    except ValueError:
        raise ServiceError(_("Enter a date."), "deadline") from None


def extend_deadline(hazard: Hazard, new_deadline: str, reason: str, user) -> None:
    """A later deadline, with its reason; the earlier one stays in the hazard's history."""
    day, reason = _deadline_of(new_deadline), (reason or "").strip()[:1000]
    if not reason:
        raise ServiceError(_("Say why the deadline is extended."), "reason")
    if hazard.deadline and day <= hazard.deadline:
        raise ServiceError(_("The new deadline must be later than the current one."), "deadline")
    with transaction():
        _open(hazard)
        before = hazard.audit_view()
        old, hazard.deadline = hazard.deadline, day
        _event(hazard, "extend", {"from": old.isoformat() if old else None, "to": day.isoformat(), "reason": reason},
               user, before)


def escalate(hazard: Hazard, kind: str, to: str, reason: str, user) -> None:
    """R18: case filing, transfer to the competent department, or to the judicial organs; recorded."""
    to, reason = (to or "").strip()[:200], (reason or "").strip()[:1000]
    if kind not in ESCALATIONS:
        raise ServiceError(_("Choose how it is escalated."), "kind")
    if not reason or (kind != "case" and not to):
        raise ServiceError(_("Say to whom and why."), "reason")
    with transaction():
        before = hazard.audit_view()
        hazard.escalation = kind
        _event(hazard, "escalate", {"kind": kind, "to": to, "reason": reason}, user, before)


def schedule_due_reinspections(user, today: date | None = None) -> list[Task]:
    """Issue #5 §4: a re-inspection once the deadline has passed, for each approved task with open
    hazards past their deadline and none scheduled yet (idempotent; run daily: `flask hazards due`)."""
    today = today or today_shanghai()
    task_ids = db.session.scalars(select(Hazard.task_id).join(Task, Task.id == Hazard.task_id).where(
        Hazard.overdue_on(today),
        Task.review_state == "approved").distinct()).all()
    made = []
    for task_id in task_ids:
        try:
            made.append(schedule_reinspection(db.session.get(Task, task_id), user))
        except ServiceError:
            continue  # nothing left to re-inspect by the time the lock was taken
    return made


def feedback_by_link(task: Task) -> Feedback | None:
    """R19 "by its link": the first time the enterprise opens its order, that is the day it was told,
    unless the team lead already recorded another way."""
    if task.completed_at is None or db.session.scalar(select(Feedback.id).where(Feedback.task_id == task.id)):
        return None
    with transaction():
        row = Feedback(task_id=task.id, given_on=today_shanghai(), way="link", note="", recorded_by=None)
        db.session.add(row)
        record("task.feedback", "task", task.id, None, {"given_on": row.given_on, "way": "link"},
               actor=(None, f"enterprise:{task.uscc}"))
    return row
