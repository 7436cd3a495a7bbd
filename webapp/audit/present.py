"""The audit trail as people read it (issue #12 point 4).

An entry stores codes: ``enterprise.import_create``, ``light_industry``, township ids, ``true``, ISO
instants with microseconds. The change histories and the audit page show instead a label per action,
a label per field, values as labels (industry names, 是/否, township and inspector names, local times
without microseconds) and the actor's display name. The stored JSON stays as it is (it is hashed) and
the audit page offers it, labelled, behind an expander for an auditor.

``present(entries)`` resolves every id of a page of entries in a handful of queries.
"""
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db_types import SHANGHAI
from ..extensions import db
from .models import AuditEntry

#: What each recorded action means, in words. Every action string the code records is here; a test
#: (tests/test_no_raw_values.py) finds them in the source and fails on one without a label.
ACTION_LABELS = {
    # registries
    "enterprise.create": _l("Enterprise registered"),
    "enterprise.update": _l("Enterprise changed"),
    "enterprise.import_create": _l("Enterprise added by import"),
    "enterprise.import_update": _l("Enterprise changed by import"),
    "inspector.create": _l("Inspector registered"),
    "inspector.update": _l("Inspector changed"),
    "inspector.import_create": _l("Inspector added by import"),
    "inspector.import_update": _l("Inspector changed by import"),
    "inspection_item.version": _l("Inspection item: new version"),
    "inspection_item.import_create": _l("Inspection item added by import"),
    "inspection_item.import_update": _l("Inspection item changed by import"),
    "recusal.create": _l("Recusal recorded"),
    "recusal.delete": _l("Recusal removed"),
    "department.create": _l("Department added"),
    "department.update": _l("Department changed"),
    "region.create": _l("Township added"),
    "region.update": _l("Township changed"),
    "competence.create": _l("Competence added"),
    "competence.update": _l("Competence changed"),
    "registry.import": _l("Registry file imported"),
    "registry.import_mapping": _l("Column mapping of an import file remembered"),
    "registry.import_value_mapping": _l("Value mapping of an import file remembered"),
    "checklist.load": _l("Checklist loaded"),
    # working-day calendar
    "calendar.day": _l("Calendar day set"),
    "calendar.day_remove": _l("Calendar day removed"),
    "calendar.confirm": _l("Calendar year confirmed"),
    "plan_change.recompute": _l("Publication deadline recomputed after a calendar change"),
    # plans, batches, draws
    "plan.create": _l("Plan created"),
    "plan.update": _l("Plan changed"),
    "plan.approve": _l("Plan approved"),
    "plan.publish": _l("Plan published"),
    "batch.create": _l("Batch created"),
    "batch.update": _l("Batch changed"),
    "draw.commit": _l("Draw sealed before the beacon"),
    "draw.reveal": _l("Draw performed"),
    "draw.substitute": _l("Substitution after the draw"),
    "draw.supersede_request": _l("Superseding draw proposed"),
    "draw.supersede": _l("Draw superseded"),
    "draw.supersede_withdraw": _l("Superseding draw withdrawn"),
    "draw.publish": _l("Draw published"),
    # tasks and review
    "task.dispatch": _l("Task dispatched"),
    "task.unstaffed": _l("Task without a group"),
    "task.substitute_inspector": _l("Inspector replaced in a group"),
    "task.cancel": _l("Task cancelled"),
    "task.submit": _l("Inspection submitted"),
    "task.unsubmit": _l("Submission withdrawn"),
    "task.approve": _l("Inspection approved"),
    "task.return": _l("Inspection returned for correction"),
    "task.reinspection": _l("Re-inspection scheduled"),
    "task.feedback": _l("Feedback to the enterprise recorded"),
    "answer.resolve": _l("Differing answers reconciled"),
    "outcome.resolve": _l("Differing outcomes reconciled"),
    "signature.resolve": _l("Differing signatures reconciled"),
    "closure.resolve": _l("Differing re-inspection results reconciled"),
    "sync.refused": _l("Change from a phone refused (inspection frozen)"),
    "document.issue": _l("Document issued"),
    "enterprise_link.issue": _l("Link for the enterprise issued"),
    "enterprise_link.revoke": _l("Link for the enterprise revoked"),
    "result.publish": _l("Result published"),
    "result.correct": _l("Published result corrected"),
    # hazards
    "hazard.create": _l("Hazard recorded"),
    "hazard.update": _l("Hazard changed"),
    "hazard.closure": _l("Re-inspection result recorded"),
    "hazard.close": _l("Hazard closed"),
    "hazard.keep_open": _l("Hazard kept open after re-inspection"),
    "hazard.plan": _l("Rectification plan recorded"),
    "hazard.supervise": _l("Hazard put under supervision"),
    "hazard.extend": _l("Rectification deadline extended"),
    "hazard.escalate": _l("Hazard escalated"),
    "evidence.submit": _l("Rectification evidence sent by the enterprise"),
    "evidence.review": _l("Rectification evidence reviewed"),
    "photo.upload": _l("Photo uploaded"),
    # accounts
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.password": _l("Password changed"),
    "user.login": _l("Signed in to the site"),
    "user.logout": _l("Signed out"),
    "user.revoke_all": _l("All sessions and tokens ended"),
    "session.revoke": _l("Session ended"),
    "api_token.issue": _l("Phone signed in (token issued)"),
    "api_token.revoke": _l("Phone token revoked"),
    # the archive
    "archive.export": _l("Batch archive downloaded"),
    "archive.purge": _l("Records deleted after the retention period"),
    # Issue #13 (summary of experience, R23)
    "batch_report.save": _l("Summary of experience saved as a draft"),
    "batch_report.send": _l("Summary of experience sent to the offices"),
    "batch_report.acknowledge": _l("Summary of experience acknowledged by an office"),
    "batch_report.answer": _l("An office's answer to the summary of experience"),
    # Issue #13 (accountability, R24): every view of the accountability pages is recorded
    "accountability.view": _l("Accountability overview viewed"),
    "accountability.duty_view": _l("Duty record of a task viewed"),
    # Issue #13 (exports): asking for an export and downloading its file
    "export.request": _l("Export requested"),
    "export.download": _l("Export downloaded"),
}

#: The kinds of records a phone sends (webapp/sync/schemas.py DATA_SCHEMAS).
SYNC_KIND_LABELS = {
    "checkin": _l("Check-in"), "answer": _l("Answer"), "hazard": _l("Hazard"), "outcome": _l("Outcome"),
    "signature": _l("Signature"), "closure": _l("Re-inspection result"),
}

OBJECT_LABELS = {
    "enterprise": _l("Enterprise"), "inspector": _l("Inspector"), "inspection_item": _l("Inspection item"),
    "recusal": _l("Recusal"), "department": _l("Department"), "region": _l("Township"),
    "competence": _l("Competence"), "registry": _l("Registry"), "checklist_version": _l("Checklist"),
    "calendar_day": _l("Calendar day"), "calendar_year": _l("Calendar year"),
    "plan_change": _l("Plan change"), "plan": _l("Plan"), "batch": _l("Batch"), "draw": _l("Draw"),
    "task": _l("Inspection task"), "hazard": _l("Hazard"), "user": _l("Account"),
    "sync_record": _l("Record from a phone"), "photo": _l("Photo"),
    "import_mapping": _l("Column mapping"), "import_value_mapping": _l("Value mapping"),
    "batch_report": _l("Summary of experience"),  # Issue #13 (summary of experience)
    "batch_report_addressee": _l("Office addressed by a summary of experience"),
    "accountability": _l("Accountability (year / batch)"),  # Issue #13 (accountability)
    "job": _l("Export"),  # Issue #13 (exports)
}

#: The registries as an import names them (``registry.import``'s object, a mapping's ``kind``).
REGISTRY_LABELS = {"enterprise": _l("Enterprise pool"), "enterprises": _l("Enterprise pool"),
                   "inspector": _l("Inspector pool"), "inspectors": _l("Inspector pool"),
                   "item": _l("Inspection item list"), "items": _l("Inspection item list")}

#: Labels of the fields the trail records, beyond the registries' (webapp/registries/vocab.py).
EXTRA_FIELD_LABELS = {
    # registries, imports, checklists
    "kind": _l("Kind"), "enterprise_id": _l("Enterprise"), "inspector_id": _l("Inspector"),
    "filename": _l("File"), "file_sha256": _l("File fingerprint (SHA-256)"), "rows": _l("Rows"),
    "created": _l("New"), "updated": _l("Changed"), "unchanged": _l("Unchanged"),
    "sha256": _l("Fingerprint (SHA-256)"), "questions": _l("Number of questions"),
    "signature": _l("Header fingerprint"), "columns": _l("Columns"), "field": _l("Field"),
    "source": _l("Word in the file"), "target": _l("Mapped to"),
    # calendar
    "workday": _l("Working day"), "note": _l("Note"), "year": _l("Year"), "publish_due": _l("Publish by"),
    "provisional": _l("Provisional"),
    # plans and batches
    "title": _l("Title"), "state": _l("State"), "publication_days": _l("Publication limit (working days)"),
    "seq": _l("Batch number"), "window_start": _l("Window start"), "window_end": _l("Window end"),
    "draw_type": _l("Draw type"), "filter_industries": _l("Industries"), "filter_flags": _l("Categories"),
    "filter_regions": _l("Townships"), "sample_size": _l("Sample size"), "sample_bp": _l("Sample share (‱)"),
    "group_size": _l("Group size"), "capacity": _l("Tasks per inspector"), "include_focus": _l("Focus units beyond the cap"),
    "items": _l("Inspection items"),
    # draws
    "draw_id": _l("Draw"), "beacon_ref": _l("Beacon"), "commitment": _l("Commitment"),
    "beacon_value": _l("Beacon value"), "seed": _l("Seed"), "files": _l("Input files"),
    "supersedes": _l("Supersedes"), "counted": _l("Earlier draws counted"), "selected": _l("Units drawn"),
    "groups": _l("Groups"), "unstaffed": _l("Without a group"), "published_at": _l("Published at"),
    "by_draw": _l("Superseded by"), "task": _l("Task"), "out": _l("Out"), "in": _l("In"), "by": _l("By"),
    "at": _l("At"),
    # tasks, review, publication
    "uscc": _l("Credit code"), "basis": _l("Drawn as"), "members": _l("Group"), "checklists": _l("Checklists"),
    "due_date": _l("Due"), "cancel_reason": _l("Reason for cancelling"), "review_state": _l("Review"),
    "review_comment": _l("Review comment"), "comment": _l("Comment"), "set_aside": _l("Changes set aside"),
    "origin_task_id": _l("Original inspection"), "hazards": _l("Hazards"), "given_on": _l("Told on"),
    "way": _l("How"), "link": _l("Link"), "expires_at": _l("Expires"), "revoked_at": _l("Revoked at"),
    "number": _l("Document number"), "question": _l("Question"), "records": _l("Differing records"),
    "chosen": _l("Record kept"), "data": _l("Record content"), "revision": _l("Revision"), "task_id": _l("Task"),
    "device_time": _l("Time on the phone"), "reassigned": _l("Sent by a former member"), "uuid": _l("Record"),
    "base_revision": _l("Revision on the phone"), "category": _l("Inspection result"), "enterprise_name": _l("Enterprise"),
    "region": _l("Township"), "batch": _l("Batch"), "inspected_on": _l("Inspected on"),
    "hazards_found": _l("Hazards found"), "hazards_closed": _l("Hazards closed"),
    # hazards
    "grade": _l("Grade"), "deadline": _l("Deadline"), "reinspection_task_id": _l("Re-inspection"),
    "rectified": _l("Rectified"), "plan": _l("Rectification plan"), "supervised_by": _l("Supervised by"),
    "escalation": _l("Escalation"), "description": _l("Description"), "from": _l("From"), "to": _l("To"),
    "evidence": _l("Evidence"), "text": _l("Text"), "photos": _l("Photos"), "complete": _l("Rectification complete"),
    "verdict": _l("Verdict"), "size": _l("Size (bytes)"), "width": _l("Width"), "height": _l("Height"),
    "mime": _l("Format"), "answer": _l("Answer"), "result": _l("Check result"), "outcome": _l("Outcome"),
    "role": _l("Role"), "signer": _l("Signer"), "hazard": _l("Hazard"), "lat": _l("Latitude"),
    "lng": _l("Longitude"), "checklist": _l("Checklist"), "accuracy": _l("Accuracy (m)"), "accuracy_m": _l("Accuracy (m)"),
    "submitted_at": _l("Submitted on the phone at"), "user_id": _l("User"), "reason": _l("Reason"),
    "refused": _l("Refused to sign"), "edit": _l("Edit"), "taken_at": _l("Taken at"), "photo": _l("Photo"), "image": _l("Photo"),
    # accounts
    "username": _l("User name"), "display_name": _l("Display name"), "via": _l("Signed in through"),
    "session_id": _l("Session"), "token_id": _l("Token"), "device": _l("Device"),
    "sessions_ended": _l("Sessions ended"), "tokens_revoked": _l("Tokens revoked"),
    # the archive
    "tasks": _l("Number of tasks"), "records_deleted": _l("Records deleted"),
    # the summary of experience (issue #13, R23)
    "problems": _l("Problems found"), "causes": _l("Causes"), "suggestions": _l("Suggestions to the business offices"),
    "offices": _l("Sent to"), "acknowledged_at": _l("Acknowledged at"),
}

PLAN_STATE_LABELS = {"draft": _l("Draft"), "approved": _l("Approved"), "published": _l("Published")}
REPORT_STATE_LABELS = {"draft": _l("Draft, not sent"), "sent": _l("Sent")}  # issue #13 (summary of experience)
DRAW_STATE_LABELS = {"proposed": _l("Proposed"), "committed": _l("Sealed"), "drawn": _l("Drawn"),
                     "superseded": _l("Superseded"), "withdrawn": _l("Withdrawn")}
TASK_STATUS_LABELS = {"dispatched": _l("Dispatched"), "unstaffed": _l("No group drawn"),
                      "cancelled": _l("Cancelled")}
LOGIN_LABELS = {"login": _l("The sign-in page"), "token": _l("The inspection app"), "reauth": _l("Confirmation")}
ENDED_BY_LABELS = {"admin": _l("An administrator"), "revoked": _l("The user"), "logout": _l("Signing out"),
                   "password": _l("A password change"), "": _l("The user")}
VERDICT_LABELS = {"accepted": _l("Accepted"), "rejected": _l("Not accepted"), "pending": _l("Pending")}

#: Fields holding ids, and what they point at.
_ID_FIELDS = {"region_id": "region", "department_id": "department", "inspector_id": "inspector",
              "enterprise_id": "enterprise", "members": "inspector", "task_id": "task",
              "reinspection_task_id": "task", "origin_task_id": "task", "filter_regions": "region_code",
              "items": "item", "checklists": "checklist", "checklist": "checklist", "user_id": "user",
              "offices": "department"}
#: Who signed a signature record (a sync record's ``role``), beside the accounts' roles.
SIGNER_LABELS = {"enterprise": _l("The enterprise's responsible person")}
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_EMPTY = (None, "", [], {})
#: A value mapping's field → the import's domain its target codes belong to (registries/mapping.py).
_TARGET_DOMAINS = {"industry": "industry", "method": "method", "region": "region", "region_id": "region",
                   "region_name": "region", "region_code": "region", "department": "department",
                   "department_id": "department", "competences": "competence"}


def action_label(action: str) -> str:
    """The words for an action; an action nobody labelled reads as a generic change of its object."""
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    parts = action.split(".")
    if parts[0] == "sync" and len(parts) == 3 and parts[1] in SYNC_KIND_LABELS:
        kind = SYNC_KIND_LABELS[parts[1]]
        if parts[2] == "create":
            return _("%(kind)s received from a phone", kind=kind)
        return _("%(kind)s changed from a phone", kind=kind)
    if parts[0] in OBJECT_LABELS:
        return _("Other change: %(object)s", object=OBJECT_LABELS[parts[0]])
    return _("Other recorded change")


def object_type_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else _("Other record")


def field_label(name: str) -> str:
    from ..registries.vocab import FIELD_LABELS
    label = FIELD_LABELS.get(name) or EXTRA_FIELD_LABELS.get(name)
    return str(label) if label is not None else name


def _field_order(name: str) -> tuple[int, str]:
    """Fields in the order the forms show them (the stored JSON sorts them alphabetically)."""
    from ..registries.vocab import FIELD_LABELS
    if not _FIELD_ORDER:
        keys = list(FIELD_LABELS) + [k for k in EXTRA_FIELD_LABELS if k not in FIELD_LABELS]
        _FIELD_ORDER.update({k: i for i, k in enumerate(keys)})
    return _FIELD_ORDER.get(name, len(_FIELD_ORDER)), name


_FIELD_ORDER: dict[str, int] = {}


def local_time(value) -> str:
    """An instant in Asia/Shanghai, to the minute (no seconds, no microseconds)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)  # the app stores UTC
    return format_datetime(value.astimezone(SHANGHAI), "yyyy-MM-dd HH:mm")


def _local_times(text: str) -> str:
    def repl(m):
        try:
            return local_time(m.group(0))
        except ValueError:
            return m.group(0)
    return _ISO_INSTANT.sub(repl, text)


@dataclass
class Change:
    label: str
    before: str | None  #: None: the field was not there before (a new record, or newly recorded)
    after: str | None   #: None: the field is gone


@dataclass
class Row:
    entry: AuditEntry
    when: str
    who: str
    action: str
    object: str
    changes: list[Change] = field(default_factory=list)

    @property
    def raw(self) -> str:
        """The entry as stored, pretty-printed, for an auditor."""
        e = self.entry
        return json.dumps({"action": e.action, "object_type": e.object_type, "object_id": e.object_id,
                           "actor": e.actor, "before": json.loads(e.before) if e.before else None,
                           "after": json.loads(e.after) if e.after else None}, ensure_ascii=False, indent=1)


class _Names:
    """Ids → names for a set of entries, fetched in one query per kind."""

    def __init__(self, entries: list[AuditEntry], docs: list[tuple[dict, dict]]):
        want: dict[str, set] = {}

        def walk(value, key=None):
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, k)
            elif isinstance(value, list) and key in _ID_FIELDS:
                want.setdefault(_ID_FIELDS[key], set()).update(x for x in value if isinstance(x, (int, str)))
            elif key in _ID_FIELDS and isinstance(value, (int, str)) and not isinstance(value, bool):
                want.setdefault(_ID_FIELDS[key], set()).add(value)

        for before, after in docs:
            walk(before)
            walk(after)
            for doc in (before, after):  # a value mapping's target: a township's code, a competence's id
                if isinstance(doc, dict) and doc.get("target") and doc.get("field") in ("region_id", "region",
                                                                                       "competences"):
                    kind = "competence" if doc["field"] == "competences" else "region_code"
                    want.setdefault(kind, set()).add(doc["target"])
        for e in entries:
            kind = {"enterprise": "enterprise", "inspector": "inspector", "region": "region",
                    "department": "department", "task": "task", "user": "user", "plan": "plan",
                    "batch": "batch", "draw": "draw", "inspection_item": "item_id", "competence": "competence",
                    "checklist_version": "checklist_id", "recusal": "recusal", "hazard": "hazard",
                    "sync_record": "sync_record"}.get(e.object_type)
            if kind:
                want.setdefault(kind, set()).add(e.object_id)
            if e.actor_id is not None:
                want.setdefault("user", set()).add(e.actor_id)
            elif e.actor.startswith("enterprise:"):
                want.setdefault("uscc", set()).add(e.actor.split(":", 1)[1])
            else:
                want.setdefault("username", set()).add(e.actor)
        self.names: dict[str, dict] = {}
        for kind, keys in want.items():
            self.names[kind] = self._load(kind, keys)

    @staticmethod
    def _ints(keys) -> list[int]:
        out = []
        for k in keys:
            try:
                out.append(int(k))
            except (TypeError, ValueError):
                pass
        return out

    def _load(self, kind: str, keys: set) -> dict:
        from ..auth.models import User
        from ..checklists.models import ChecklistVersion
        from ..draws.models import Batch, Draw, Plan
        from ..registries.models import Competence, Department, Enterprise, InspectionItem, Inspector, Recusal, Region
        from ..review.models import Hazard
        from ..sync.models import SyncRecord
        from ..tasks.models import Task
        ids = self._ints(keys)
        simple = {"region": (Region, Region.name), "department": (Department, Department.name),
                  "inspector": (Inspector, Inspector.name), "enterprise": (Enterprise, Enterprise.name),
                  "plan": (Plan, Plan.title), "batch": (Batch, Batch.title), "draw": (Draw, Draw.draw_id),
                  "competence": (Competence, Competence.name), "user": (User, User.display_name),
                  "checklist_id": (ChecklistVersion, ChecklistVersion.title)}
        if kind in simple:
            model, col = simple[kind]
            return {str(i): n for i, n in db.session.execute(select(model.id, col).where(model.id.in_(ids)))}
        if kind == "item_id":
            return {str(i.id): i.current.name if i.current else i.code
                    for i in db.session.scalars(select(InspectionItem).where(InspectionItem.id.in_(ids)))}
        if kind == "item":
            codes = {str(k).split("@")[0] for k in keys}
            found = {i.code: (i.current.name if i.current else i.code)
                     for i in db.session.scalars(select(InspectionItem).where(InspectionItem.code.in_(codes)))}
            return {str(k): found.get(str(k).split("@")[0], str(k)) for k in keys}
        if kind == "checklist":
            codes = {str(k).split("@")[0] for k in keys}
            found = {c: t for c, t in db.session.execute(
                select(ChecklistVersion.code, ChecklistVersion.title).where(ChecklistVersion.code.in_(codes)))}
            return {str(k): found.get(str(k).split("@")[0], str(k)) for k in keys}
        if kind == "region_code":
            return {c: n for c, n in db.session.execute(select(Region.code, Region.name)
                                                        .where(Region.code.in_([str(k) for k in keys])))}
        if kind == "task":
            return {str(t.id): (t.enterprise or {}).get("name") or t.uscc
                    for t in db.session.scalars(select(Task).where(Task.id.in_(ids)))}
        if kind == "recusal":
            return {str(r.id): f"{r.inspector.name} — {r.enterprise.name}"
                    for r in db.session.scalars(select(Recusal).where(Recusal.id.in_(ids)))}
        if kind == "hazard":
            return {h.record_uuid: f"{h.enterprise_name}：{h.description[:40]}"
                    for h in db.session.scalars(select(Hazard).where(Hazard.record_uuid.in_([str(k) for k in keys])))}
        if kind == "sync_record":
            rows = db.session.execute(select(SyncRecord.uuid, SyncRecord.kind, SyncRecord.task_id)
                                      .where(SyncRecord.uuid.in_([str(k) for k in keys]))).all()
            tasks = self._load("task", {r.task_id for r in rows})
            return {u: f"{SYNC_KIND_LABELS.get(k, _('Record'))} · {tasks.get(str(t), '')}" for u, k, t in rows}
        if kind == "username":
            return {u: n for u, n in db.session.execute(select(User.username, User.display_name)
                                                        .where(User.username.in_([str(k) for k in keys])))}
        if kind == "uscc":
            return {u: n for u, n in db.session.execute(select(Enterprise.uscc, Enterprise.name)
                                                        .where(Enterprise.uscc.in_([str(k) for k in keys])))}
        return {}

    def get(self, kind: str, key) -> str | None:
        return self.names.get(kind, {}).get(str(key))


class Presenter:
    def __init__(self, entries: list[AuditEntry]):
        self.entries = list(entries)
        self.docs = [(json.loads(e.before) if e.before else None, json.loads(e.after) if e.after else None)
                     for e in self.entries]
        self.names = _Names(self.entries, self.docs)
        self._domains: dict[str, dict] = {}

    # --- values -------------------------------------------------------------------------------
    def _vocab(self, object_type: str, action: str, key: str) -> dict | None:
        from .. import roles
        from ..draws.plans import DRAW_TYPE_LABELS
        from ..publication.models import CATEGORY_LABELS
        from ..registries import vocab as V
        from ..review.models import LABELS
        if key in ("industry", "filter_industries"):
            return V.INDUSTRY_LABELS
        if key == "filter_flags":
            return V.FLAG_LABELS
        if key == "status":
            return {"enterprise": V.STATUS_LABELS, "task": TASK_STATUS_LABELS,
                    "hazard": LABELS["hazard"]}.get(object_type)
        if key == "state":
            if object_type == "batch_report":
                return REPORT_STATE_LABELS
            return PLAN_STATE_LABELS if object_type == "plan" else DRAW_STATE_LABELS
        if key == "method":
            return V.METHOD_LABELS
        if key == "inactive_reason":
            return V.INACTIVE_LABELS
        if key == "kind":
            if object_type == "department":
                return V.DEPARTMENT_KIND_LABELS
            if action == "document.issue":
                from ..documents.models import KINDS
                return {k: v[1] for k, v in KINDS.items()}
            if action == "hazard.escalate":
                return LABELS["escalation"]
            return SYNC_KIND_LABELS
        return {"draw_type": DRAW_TYPE_LABELS, "review_state": LABELS["review"], "grade": LABELS["grade"],
                "way": LABELS["way"], "result": LABELS["result"], "outcome": LABELS["outcome"],
                "category": CATEGORY_LABELS, "role": {**roles.LABELS, **SIGNER_LABELS}, "via": LOGIN_LABELS, "by": ENDED_BY_LABELS
                if object_type == "user" else None, "verdict": VERDICT_LABELS}.get(key)

    def _named(self, kind: str, key) -> str:
        name = self.names.get(kind, key)
        if name is None:
            return str(key)
        return _("Inspection of %(name)s", name=name) if kind == "task" else name

    def value(self, object_type: str, action: str, key: str, value) -> str:
        if value in _EMPTY:
            return "—"
        if isinstance(value, bool):
            if key == "active" and object_type == "inspector":
                return _("Active") if value else _("Inactive")
            if key == "active":
                return _("Enabled") if value else _("Disabled")
            if key == "workday":
                return _("Working day") if value else _("Day off")
            return _("Yes") if value else _("No")
        if key == "basis":
            from ..tasks.phase import basis_label
            return str(basis_label(value)[0])
        if key in ("photos", "photo", "image", "sha256") and object_type == "sync_record":
            # Photos by their count: the fingerprints are in the stored record, behind the expander.
            shas = value if isinstance(value, list) else [value]
            return _("%(n)d photo(s)", n=len(shas))
        if key in _ID_FIELDS and not isinstance(value, (dict, float)):
            kind = _ID_FIELDS[key]
            if isinstance(value, list):
                return "、".join(self._named(kind, v) for v in value)
            return self._named(kind, value)
        if key == "columns" and isinstance(value, dict):  # a file's header → a registry field ("" = not imported)
            return "；".join(f"{h} → {field_label(f) if f else _('not imported')}" for h, f in value.items())
        if key == "field" and isinstance(value, str):
            return field_label(value)
        if key == "kind" and object_type in ("import_mapping", "import_value_mapping") and value in REGISTRY_LABELS:
            return str(REGISTRY_LABELS[value])
        if key == "plan" and isinstance(value, dict):
            from ..review.models import LABELS
            return "；".join(f"{LABELS['plan'].get(k, field_label(k))}：{self.value(object_type, action, k, v)}"
                            for k, v in value.items() if v not in _EMPTY)
        vocab = self._vocab(object_type, action, key)
        if isinstance(value, list):
            return "、".join(self.value(object_type, action, key, v) for v in value) or "—"
        if isinstance(value, dict):
            return "；".join(f"{field_label(k)}：{self.value(object_type, action, k, v)}"
                            for k, v in value.items() if v not in _EMPTY) or "—"
        if vocab and isinstance(value, str) and value in vocab:
            return str(vocab[value])
        if isinstance(value, str):
            return _local_times(value)
        return str(value)

    # --- entries ------------------------------------------------------------------------------
    def actor(self, e: AuditEntry) -> str:
        if e.actor_id is not None:
            return self.names.get("user", e.actor_id) or e.actor
        return _actor_words(e.actor, self.names.names.get("username", {}), self.names.names.get("uscc", {}))

    def object(self, e: AuditEntry) -> str:
        kind = object_type_label(e.object_type)
        lookup = {"inspection_item": "item_id", "checklist_version": "checklist_id"}.get(e.object_type, e.object_type)
        name = self.names.get(lookup, e.object_id)
        if name is None:
            if e.object_type == "registry":
                name = REGISTRY_LABELS.get(e.object_id)
            elif e.object_type in ("calendar_day", "calendar_year"):
                name = e.object_id
        return f"{kind} · {name}" if name else kind

    def changes(self, index: int) -> list[Change]:
        e = self.entries[index]
        before, after = self.docs[index]
        before, after = before or {}, after or {}
        created = not before
        from ..registries.vocab import FLAG_LABELS
        out = []
        for key in sorted(set(after) | set(before), key=_field_order):
            b, a = before.get(key), after.get(key)
            if key in before and key in after and b == a:
                continue
            if created and (a in _EMPTY or (a is False and key in FLAG_LABELS)):
                continue  # a new record: its empty fields and unset flags say nothing
            if key == "target":  # a value mapping's target is a value of the mapped field
                field_name = (after or before).get("field") or key
                kind = (after or before).get("kind") or ""
                shown = lambda v: self._target(e, field_name, v, kind)  # noqa: E731
            else:
                shown = lambda v: self.value(e.object_type, e.action, key, v)  # noqa: E731
            out.append(Change(field_label(key), shown(b) if key in before else None,
                              shown(a) if key in after else None))
        return out

    def _target(self, e: AuditEntry, key: str, value, kind: str = "") -> str:
        """A value mapping's target: a code of the field ``key`` (an industry, a township's code, a
        department's id …), shown as the import's own select shows it."""
        from ..registries.mapping import domain_options
        from ..registries.vocab import FLAG_LABELS
        if value in ("yes", "no") and (key in FLAG_LABELS or key == "is_random"):
            return _("Yes") if value == "yes" else _("No")
        domain = _TARGET_DOMAINS.get(key)
        if key == "status":
            domain = "active" if kind == "inspectors" else "status"
        if domain:
            if domain not in self._domains:  # one query per domain and page, not per entry
                self._domains[domain] = dict(domain_options(domain))
            label = self._domains[domain].get(str(value))
            if label:
                return label
        return self.value(e.object_type, e.action, key, value)

    def rows(self) -> list[Row]:
        return [Row(e, local_time(e.at), self.actor(e), action_label(e.action), self.object(e), self.changes(i))
                for i, e in enumerate(self.entries)]


def _actor_words(actor: str, users: dict, enterprises: dict) -> str:
    """Who acted, for people: a display name, the public, the command line, an enterprise by name."""
    if actor == "public":
        return _("The public")
    if actor == "seed-demo":
        return _("Demo data")
    if actor == "cli:hazards-due":
        return _("Daily check of hazard deadlines")
    if actor == "cli:archive-purge":
        return _("Deletion after the retention period")
    if actor.startswith("cli:"):
        return _("Command line (%(user)s)", user=actor[4:])
    if actor.startswith("enterprise:"):
        uscc = actor.split(":", 1)[1]
        return _("The enterprise %(name)s", name=enterprises.get(uscc) or uscc)
    return users.get(actor) or actor


def actor_labels(actors) -> dict[str, str]:
    """The words for each stored ``actor`` (the audit page's person filter)."""
    from ..auth.models import User
    from ..registries.models import Enterprise
    actors = list(actors)
    usccs = [a.split(":", 1)[1] for a in actors if a.startswith("enterprise:")]
    users = dict(db.session.execute(select(User.username, User.display_name).where(User.username.in_(actors))).all())
    firms = dict(db.session.execute(select(Enterprise.uscc, Enterprise.name).where(Enterprise.uscc.in_(usccs))).all())
    return {a: _actor_words(a, users, firms) for a in actors}


def actor_name(actor: str | None) -> str:
    """One stored actor (a draw's ``committed_by``, a substitution's ``by`` …) as people read it."""
    if not actor:
        return ""
    return actor_labels([actor])[actor]


def present(entries) -> list[Row]:
    """Entries as people read them, in the order given."""
    return Presenter(entries).rows()
