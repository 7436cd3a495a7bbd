"""Applying what phones send: idempotent and revisioned; a request's records are checked one by one
(a bad one never blocks the rest) and applied in one transaction."""
import hashlib
from datetime import date, datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..audit.services import canonical, record_many
from ..db_types import SHANGHAI, utcnow
from ..extensions import db
from ..services import transaction
from ..review.models import Hazard
from ..review.services import on_record_accepted
from ..tasks.models import Task, TaskMember, with_members
from .models import SyncRecord
from .photos import citable_photos, visible_to
from .schemas import echo_uuid, load_record


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def content_hash(data: dict) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def server_view(row: SyncRecord) -> dict:
    return {"uuid": row.uuid, "kind": row.kind, "task_id": row.task_id, "revision": row.revision,
            "data": row.data, "received_at": row.received_at.isoformat(), "conflict": row.conflict,
            "superseded": row.superseded, "reassigned": row.reassigned, "edit_id": row.edit_id,
            "inspector_id": row.inspector_id}


def merge_key(kind: str, data: dict) -> str | None:
    """What two phones' records of one task merge on (docs/sync-api.md, "Two phones on one task").

    Per task: an answer per question, the outcome, the enterprise's signature, a closure per hazard.
    Per person (None): check-ins and inspectors' signatures. Hazards are each their own entry in the
    register, shared with the whole group.
    """
    if kind == "answer":
        return data["question"]
    if kind == "outcome":
        return "outcome"
    if kind == "signature" and data.get("role") == "enterprise":
        return "signature:enterprise"
    if kind == "closure":
        return f"closure:{data['hazard']}"
    return None


def _verdict(row) -> tuple:
    """The part of a record that must agree across phones; notes and photos are per person."""
    d = row.data
    if row.kind == "answer":
        return d.get("result"), canonical(d.get("value"))
    if row.kind == "outcome":
        return d.get("outcome"), d.get("reason") if d.get("outcome") == "non_cooperation" else None
    if row.kind == "signature":
        return bool(d.get("refused")),
    if row.kind == "closure":
        return bool(d.get("rectified")),
    return ()


def _referenced_photos(data: dict) -> list[str]:
    shas = list(data.get("photos") or [])
    if data.get("image"):
        shas.append(data["image"])
    return shas


class _Batch:
    """What one request needs from the database, loaded with a few queries instead of one per record."""

    def __init__(self, user, recs: list[dict]):
        task_ids = sorted({r["task_id"] for r in recs})
        # Lock the tasks (in id order, so two requests never deadlock): two phones syncing the same
        # task take turns, and the per-question merge sees the other phone's answers.
        if task_ids:
            db.session.execute(update(Task).where(Task.id.in_(task_ids)).values(id=Task.id))
        self.tasks = {t.id: t for t in db.session.scalars(select(Task).where(Task.id.in_(task_ids)))}
        # Frozen as the request found them: the request whose outcome submits a task carries its records.
        self.frozen = {t.id for t in self.tasks.values() if t.review_state in FROZEN}
        self.held = {}
        if user.inspector_id and task_ids:
            for task_id, active in db.session.execute(select(TaskMember.task_id, TaskMember.active).where(
                    TaskMember.task_id.in_(task_ids), TaskMember.inspector_id == user.inspector_id)):
                self.held[task_id] = "active" if active or self.held.get(task_id) == "active" else "former"
        # The photos each task's records may cite: sent by a member of its group (present or former) or by
        # its order's enterprise link (issue #11 point 4); the rest are as good as absent to the caller.
        by_task = {}
        for r in recs:
            by_task.setdefault(r["task_id"], set()).update(_referenced_photos(r["data"]))
        self.citable = {task_id: citable_photos(shas, self.tasks[task_id])
                        for task_id, shas in by_task.items() if shas and task_id in self.tasks}
        uuids = [r["uuid"] for r in recs]
        # A hazard record's own register row, and the row a closure closes.
        hazard_uuids = [r["uuid"] if r["kind"] == "hazard" else r["data"]["hazard"]
                        for r in recs if r["kind"] in ("hazard", "closure")]
        self.hazards = {h.record_uuid: h for h in db.session.scalars(
            select(Hazard).where(Hazard.record_uuid.in_(hazard_uuids)))} if hazard_uuids else {}
        self.rows = {row.uuid: row for row in db.session.scalars(select(SyncRecord).where(SyncRecord.uuid.in_(uuids)))}
        merging = sorted({r["task_id"] for r in recs if merge_key(r["kind"], r["data"])})
        self.groups = {}  #: (task, merge key) → the rows that must agree
        if merging:
            # By task alone: a task holds a few dozen records. With the kind in the condition too, a
            # prepared statement's generic plan may take the kind index and read every answer ever sent.
            for row in db.session.scalars(select(SyncRecord).where(SyncRecord.task_id.in_(merging))):
                if row.question is not None:
                    self.groups.setdefault((row.task_id, row.question), []).append(row)


def _check(user, rec: dict, batch: _Batch) -> dict | None:
    """A refusal for a record that cannot be applied, else None."""
    uuid, data = rec["uuid"], rec["data"]
    task = batch.tasks.get(rec["task_id"])
    if task is None:
        return {"status": "rejected", "uuid": uuid, "errors": {"task_id": [_("no such task")]}}
    if rec["task_id"] not in batch.held:
        return {"status": "rejected", "uuid": uuid, "errors": {"task_id": [_("this task was never yours")]}}
    missing = [s for s in _referenced_photos(data) if s not in batch.citable.get(task.id, ())]
    if missing:
        # A photo this caller may see but not cite here (identical bytes sent by another group) would never
        # be uploaded again: refused for good. One the caller cannot see goes up first (retry).
        foreign = [s for s in missing if visible_to(user, s)]
        if foreign:
            return {"status": "rejected", "uuid": uuid, "errors": {"photos": [
                _("photo %(sha)s belongs to another inspection; take the photo again here", sha=s[:12])
                for s in foreign]}}
        return {"status": "rejected", "uuid": uuid, "retry": True,
                "errors": {"photos": [_("photo %(sha)s has not been uploaded yet", sha=s[:12]) for s in missing]}}
    if rec["kind"] == "answer" and data["checklist"] not in {f"{c['code']}@{c['version']}" for c in task.checklists}:
        return {"status": "rejected", "uuid": uuid,
                "errors": {"checklist": [_("this task does not use checklist %(c)s", c=data["checklist"])]}}
    if rec["kind"] == "closure":
        hazard = batch.hazards.get(data["hazard"])
        if hazard is None or hazard.reinspection_task_id != task.id:
            return {"status": "rejected", "uuid": uuid,
                    "errors": {"hazard": [_("this re-inspection does not cover that hazard")]}}
    return None


#: Review states in which a task's records are frozen (issue #11 point 1): submitted, until the team lead
#: returns it; approved, for good. Former members and reassigned work included.
FROZEN = ("submitted", "approved")


def _frozen(user, rec: dict, task) -> dict:
    """Refuse a change to a submitted or approved inspection. The phone keeps its copy and sends it again
    once the task is returned; the refusal is on the audit trail, where the review page shows it."""
    if task.review_state == "approved":
        reason = _("This inspection has been approved: its records can no longer change. "
                   "Your phone keeps this change; tell your team lead.")
    else:
        reason = _("This inspection was submitted for review: changes wait until the team lead returns it. "
                   "Your phone keeps this change and sends it then.")
    return {"status": "rejected", "uuid": rec["uuid"], "frozen": task.review_state, "errors": {"task": [reason]},
            "_audit": [("sync.refused", "task", task.id, None,
                        {"uuid": rec["uuid"], "kind": rec["kind"], "review_state": task.review_state,
                         "inspector_id": user.inspector_id, "base_revision": rec["base_revision"],
                         "data": rec["data"]})]}


def _apply(user, rec: dict, batch: _Batch) -> dict:
    """Apply one checked record inside the request's transaction; an accepted one carries its audit entry."""
    uuid, task = rec["uuid"], batch.tasks[rec["task_id"]]
    data = rec["data"]
    digest = content_hash(data)
    device_time = rec["device_time"].astimezone(timezone.utc) if rec["device_time"] else None
    flagged = batch.held[task.id] == "former" or task.status == "cancelled"
    row = batch.rows.get(uuid)
    if row is not None:
        if row.kind != rec["kind"] or row.task_id != task.id:
            return {"status": "rejected", "uuid": uuid, "errors": {"uuid": [_("this uuid belongs to another record")]}}
        if row.content_hash == digest:
            return {"status": "duplicate", "uuid": uuid, "revision": row.revision, "conflict": row.conflict,
                    "reassigned": row.reassigned}
    if task.id in batch.frozen:  # a resend of what the server holds (above) is still acknowledged
        return _frozen(user, rec, task)
    if row is not None:
        if rec["base_revision"] != row.revision:
            return {"status": "conflict", "uuid": uuid, "server": server_view(row)}
        before = {"revision": row.revision, "data": row.data}
        row.data, row.content_hash, row.revision = data, digest, row.revision + 1
        row.device_time, row.received_at, row.user_id = device_time, utcnow(), user.id
        row.edit_id = rec.get("edit")
        key = merge_key(row.kind, data)
        if key != row.question:  # e.g. a signature's role corrected: it now merges elsewhere
            left = batch.groups.get((row.task_id, row.question), [])
            if row in left:
                left.remove(row)
                _mark_conflicts(left)
            row.question, row.conflict = key, False
            if key is not None:
                batch.groups.setdefault((row.task_id, key), []).append(row)
        row.reassigned = row.reassigned or flagged
        action = "update"
    else:
        # A base_revision above 0 for a uuid the server never had: still the phone's work; store it.
        before = None
        row = SyncRecord(uuid=uuid, kind=rec["kind"], task_id=task.id, data=data, content_hash=digest,
                         question=merge_key(rec["kind"], data), edit_id=rec.get("edit"),
                         user_id=user.id, inspector_id=user.inspector_id, device_time=device_time,
                         received_at=utcnow(), reassigned=flagged, revision=1, conflict=False)
        db.session.add(row)
        batch.rows[uuid] = row
        if row.question is not None:
            batch.groups.setdefault((row.task_id, row.question), []).append(row)
        action = "create"
    if row.question is not None:
        _mark_conflicts(batch.groups[(row.task_id, row.question)])
    entries = [(f"sync.{row.kind}.{action}", "sync_record", row.uuid, before,
                {"revision": row.revision, "task_id": row.task_id, "data": row.data,
                 "device_time": device_time, "reassigned": row.reassigned})]
    entries += on_record_accepted(row, task, batch.hazards)
    return {"status": "accepted", "uuid": uuid, "revision": row.revision, "conflict": row.conflict,
            "reassigned": row.reassigned, "_audit": entries}


def _mark_conflicts(rows: list) -> None:
    """Two phones' records on one merge key: the same verdict merges; different ones are all kept, flagged."""
    live = [r for r in rows if not r.superseded]  # a record the team lead set aside no longer counts
    verdicts = {_verdict(r) for r in live}
    for r in live:
        r.conflict = len(verdicts) > 1


MAX_RECORDS = 500


def sync(user, records: list) -> dict:
    """Apply a request's records in one transaction. Everything that can refuse one record is checked
    first, so a bad record is rejected alone; should the database itself fail, nothing is applied and
    the phone, having no JSON reply naming its records, sends them again. The reply lists what the
    phone may now forget and what not."""
    out = {"accepted": [], "conflicts": [], "rejected": []}
    results, checked = [], []
    for raw in records[:MAX_RECORDS]:
        rec, errors = load_record(raw)
        if errors:
            results.append({"status": "rejected", "uuid": echo_uuid(raw),
                            "errors": errors})
        else:
            rec["data"] = _jsonable(rec["data"])
            checked.append(rec)
            results.append(rec)
    audit_entries = []
    with transaction():
        batch = _Batch(user, checked)
        for k, item in enumerate(results):
            if "status" in item:
                continue
            refusal = _check(user, item, batch)
            if refusal:
                results[k] = refusal
                continue
            result = _apply(user, item, batch)
            if "_audit" in result:
                audit_entries.extend(result.pop("_audit"))
            results[k] = result
        record_many(audit_entries)
    for result in results:
        status = result.pop("status")
        if status in ("accepted", "duplicate"):
            out["accepted"].append({**result, "duplicate": status == "duplicate"})
        elif status == "conflict":
            out["conflicts"].append(result)
        else:
            out["rejected"].append(result)
    out["rejected"].extend({"uuid": echo_uuid(r), "retry": True,
                            "errors": {"batch": [_("too many records in one request; send the rest next")]}}
                           for r in records[MAX_RECORDS:])
    return out


def tasks_for(user) -> dict:
    """What the phone takes offline: its tasks with everything the inspection needs."""
    from ..checklists.models import ChecklistVersion
    if not user.inspector_id:
        return {"tasks": [], "withdrawn": [], "withdrawn_review": {}}
    member_rows = db.session.execute(select(TaskMember.task_id, TaskMember.active)
                                     .where(TaskMember.inspector_id == user.inspector_id)).all()
    active_ids = {t for t, a in member_rows if a}
    tasks = db.session.scalars(select(Task).where(Task.id.in_(active_ids), Task.status == "dispatched")
                               .order_by(Task.due_date, Task.id).options(with_members())).all() if active_ids else []
    withdrawn = sorted({t for t, _a in member_rows} - {t.id for t in tasks})
    # A withdrawn task's review state: a former member's phone sends what the review froze once it is
    # returned (issue #11 point 1).
    withdrawn_review = dict(db.session.execute(select(Task.id, Task.review_state)
                                               .where(Task.id.in_(withdrawn))).all()) if withdrawn else {}
    checklist_ids = {c["id"] for t in tasks for c in t.checklists}
    lists = {c.id: c for c in db.session.scalars(select(ChecklistVersion).where(ChecklistVersion.id.in_(checklist_ids)))}
    records = {}
    if tasks:
        for row in db.session.scalars(select(SyncRecord).where(SyncRecord.task_id.in_([t.id for t in tasks]))):
            records.setdefault(row.task_id, []).append(server_view(row))
    hazards = {}
    reinspections = [t.id for t in tasks if t.kind == "reinspection"]
    if reinspections:
        for h in db.session.scalars(select(Hazard).where(Hazard.reinspection_task_id.in_(reinspections))
                                    .order_by(Hazard.id).options(selectinload(Hazard.record))):
            hazards.setdefault(h.reinspection_task_id, []).append({
                "uuid": h.record_uuid, "question": h.question, "grade": h.grade, "description": h.description,
                "deadline": h.deadline.isoformat() if h.deadline else None, "status": h.status,
                "photos": h.record.data.get("photos") or []})
    # Previous findings: the hazards earlier inspections found at the same enterprises.
    previous = {}
    if tasks:
        for h in db.session.scalars(select(Hazard).where(Hazard.enterprise_id.in_({t.enterprise_id for t in tasks}))
                                    .order_by(Hazard.created_at.desc()).limit(500)):
            previous.setdefault(h.enterprise_id, []).append({"task_id": h.task_id,
                "description": h.description, "grade": h.grade, "status": h.status,
                "deadline": h.deadline.isoformat() if h.deadline else None,
                "found_on": h.created_at.astimezone(SHANGHAI).date().isoformat()})
    from ..publication.models import PublishedResult
    published = set(db.session.scalars(select(PublishedResult.task_id).where(
        PublishedResult.task_id.in_([t.id for t in tasks])).distinct())) if tasks else set()
    return {"server_time": utcnow().isoformat(), "withdrawn": withdrawn,
            "withdrawn_review": {str(k): v for k, v in withdrawn_review.items()}, "tasks": [{
        "id": t.id, "kind": t.kind, "uscc": t.uscc,
        "review": {"state": t.review_state, "comment": t.review_comment, "published": t.id in published},
        "hazards": hazards.get(t.id, []),
        "previous": [p for p in previous.get(t.enterprise_id, []) if p["task_id"] != t.id][:20], "enterprise": t.enterprise, "items": t.items, "method": t.method,
        "start_date": t.start_date.isoformat(), "due_date": t.due_date.isoformat(),
        "members": [{"inspector_id": m.inspector_id, "name": m.inspector.name, "cert_no": m.inspector.cert_no}
                    for m in t.active_members],
        "checklists": [{"id": c["id"], "code": c["code"], "version": c["version"], "title": c["title"],
                        "questions": lists[c["id"]].questions} for c in t.checklists if c["id"] in lists],
        "records": records.get(t.id, []),
    } for t in tasks]}
