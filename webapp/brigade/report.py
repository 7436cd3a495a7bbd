"""经验总结 (R23, 000 四(二)): after a batch the brigade's responsible person sums up its problems, their
causes and the brigade's suggestions, and feeds them back to the business offices.

- The brigade lead starts from a draft the platform fills with the batch's figures and the checklist
  questions that failed most (``draft_text``), edits and saves it as a draft (``save_draft``, audited),
  then sends it to chosen offices (``send``). Sending freezes the text and stores the batch's figures as
  they stood (``BatchReport.figures``): the summary page keeps moving, the report does not.
- Each addressee office acknowledges receipt and may answer (``acknowledge``, ``answer``): a signed-in
  staff user whose department is the addressee does so for the department.
- Who sees what (``can_view``): the coordinating office (admin) and the brigade lead every report; an
  office only a sent report addressed to it.

Every step runs in one transaction with its audit entry, and a repeated step (a double tap, a re-sent
form) changes nothing and writes no second entry.
"""
import hashlib

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import roles as R
from ..audit.services import record
from ..db_types import utcnow
from ..extensions import db
from ..services import ServiceError, lock_row, transaction
from .models import BatchReport, BatchReportAddressee

FIELDS = ("problems", "causes", "suggestions")
#: A report is read on a phone and printed: ample for a batch, short of pasting a whole register.
MAX_CHARS = 20000
#: The questions the draft lists as the batch's problems.
TOP_QUESTIONS = 10


# --- reading ------------------------------------------------------------------------------------------

def report_of(batch) -> BatchReport | None:
    return db.session.scalar(select(BatchReport).where(BatchReport.batch_id == batch.id))


def is_drawn(batch) -> bool:
    """A batch is summed up once it has been drawn (it has tasks); before that there is nothing to say."""
    live = batch.live_draw
    return bool(live and live.state == "drawn")


def addressee_of(report: BatchReport | None, user) -> BatchReportAddressee | None:
    """The addressee row the user answers for: a staff user of an addressee department, on a sent report."""
    if report is None or report.state != "sent" or not user.department_id or user.role not in R.STAFF:
        return None
    return next((a for a in report.addressees if a.department_id == user.department_id), None)


def can_view(report: BatchReport | None, user) -> bool:
    """The coordinating office and the brigade lead see every report (a draft too); an office only a sent
    report addressed to it; nobody else (another office, inspectors)."""
    if user.role in (R.ADMIN, R.BRIGADE_LEAD):
        return True
    return addressee_of(report, user) is not None


def can_edit(report: BatchReport | None, user) -> bool:
    """Only the brigade's responsible person writes, and only until the report is sent."""
    return user.role == R.BRIGADE_LEAD and (report is None or report.state == "draft")


def awaiting_count(user) -> int:
    """Sent reports addressed to the user's department that it has not acknowledged yet (home page)."""
    if not user.department_id or user.role not in R.STAFF:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(BatchReportAddressee)
        .join(BatchReport, BatchReport.id == BatchReportAddressee.report_id)
        .where(BatchReport.state == "sent", BatchReportAddressee.department_id == user.department_id,
               BatchReportAddressee.acknowledged_at.is_(None))) or 0


def addressed_count(user) -> int:
    """Every sent report ever addressed to the user's department."""
    if not user.department_id or user.role not in R.STAFF:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(BatchReportAddressee)
        .join(BatchReport, BatchReport.id == BatchReportAddressee.report_id)
        .where(BatchReport.state == "sent", BatchReportAddressee.department_id == user.department_id)) or 0


def offices():
    """The business offices a report may be sent to: active departments of kind ``office``."""
    from ..registries.models import Department
    return db.session.scalars(select(Department).where(Department.kind == "office", Department.active.is_(True))
                              .order_by(Department.id)).all()


def coordinating_office_ids() -> set[int]:
    """The departments of the coordinating office: those holding an active administrator account (the
    admin role *is* the coordinating office, webapp/roles.py). It sees every report anyway, so it is not
    an addressee by default; the brigade lead may still tick it."""
    from ..auth.models import User
    return set(db.session.scalars(select(User.department_id).where(
        User.role == R.ADMIN, User.active.is_(True), User.department_id.is_not(None))))


def default_addressee_ids() -> list[int]:
    """The business offices (业务股室) the experience is fed back to (000 四(二)): every active office
    except the coordinating office."""
    coordinating = coordinating_office_ids()
    return [d.id for d in offices() if d.id not in coordinating]


# --- the platform's draft -----------------------------------------------------------------------------

def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def draft_text(batch, summary: dict | None = None) -> dict:
    """The draft the brigade lead starts from: the batch's figures and its most-failed questions as the
    problems; causes and suggestions are the brigade's to write (an empty field, with a prompt on screen,
    rather than words the platform cannot know). Returns ``{problems, causes, suggestions}``."""
    from . import stats

    s = summary if summary is not None else stats.batch_summary(batch)
    b, t, o, h = s["batch"], s["tasks"], s["outcomes"], s["hazards"]
    lines = [
        _("Batch %(title)s (%(start)s to %(end)s): %(dispatched)d inspection tasks dispatched, %(done)d done, "
          "%(returned)d returned for correction, %(overdue)d overdue.",
          title=b["title"], start=b["window_start"], end=b["window_end"], dispatched=t["dispatched"],
          done=t["done"], returned=t["returned"], overdue=t["overdue"]),
    ]
    if o["non_cooperation"] or o["closed"] or o["not_found"]:
        lines.append(_("Enterprises refusing the inspection: %(refused)d; closed down: %(closed)d; not found: "
                       "%(missing)d.", refused=o["non_cooperation"], closed=o["closed"], missing=o["not_found"]))
    lines.append(_("Hazards found: %(total)d (%(major)d major, %(general)d general); %(closed)d closed, "
                   "rectification rate %(rate)s; %(overdue)d past their deadline, %(escalated)d escalated.",
                   total=h["total"], major=h["major"], general=h["general"], closed=h["closed"],
                   rate=_percent(h["rectification_rate"]), overdue=h["overdue"], escalated=h["escalated"]))
    top = s.get("top_questions") or []
    if top:
        lines.append("")
        lines.append(_("The checklist questions that failed most:"))
        for k, q in enumerate(top[:TOP_QUESTIONS], 1):
            where = f"（{q['checklist']}）" if q.get("checklist") else ""
            lines.append(_("%(k)d. %(text)s%(where)s: %(n)d hazards", k=k, text=q.get("text") or q["question"],
                           where=where, n=q["n"]))
    else:
        lines.append(_("No checklist question failed in this batch."))
    return {"problems": "\n".join(lines), "causes": "", "suggestions": ""}


# --- writing ------------------------------------------------------------------------------------------

def stamp(report: BatchReport | None) -> str:
    """What the writer's form was opened on: a digest of the stored text (empty before the first save).
    The form sends it back as ``base``; a save or send from a form opened on an older text (a second tab,
    a page kept open while the draft was changed elsewhere) is refused instead of overwriting it."""
    if report is None:
        return ""
    text = "\x1f".join([report.state, *(getattr(report, k) or "" for k in FIELDS)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _check_base(report: BatchReport | None, data, values: dict) -> None:
    """Refuse to overwrite a draft changed since the form was opened (``base`` sent by the form only;
    a service caller without it writes as before). The same text as stored is no conflict (a double tap)."""
    base = data.get("base") if hasattr(data, "get") else None
    if base is None or str(base) == stamp(report):
        return
    if report is not None and all((getattr(report, k) or "") == v for k, v in values.items()):
        return
    raise ServiceError(_("The draft was changed in another window since you opened this page. The version "
                         "saved there is shown first and your text below it: compare them, then save again."), "base")


def _clean(data) -> dict:
    values = {k: str(data.get(k) or "").replace("\r\n", "\n").strip() for k in FIELDS}
    for k, v in values.items():
        if len(v) > MAX_CHARS:
            raise ServiceError(_("At most %(n)d characters.", n=MAX_CHARS), k)
    return values


def _lock_batch_report(batch) -> BatchReport | None:
    """Serialise writers of one batch's report (two tabs, a double tap): lock the batch row, then read."""
    from ..draws.models import Batch
    lock_row(db.session.get(Batch, batch.id))
    report = report_of(batch)
    if report is not None:
        db.session.refresh(report)
    return report


def _check_writer(batch, user) -> None:
    if user.role != R.BRIGADE_LEAD:
        raise ServiceError(_("Only the brigade lead writes the summary of experience."))
    if not is_drawn(batch):
        raise ServiceError(_("The summary of experience is written once the batch has been drawn."))


def save_draft(batch, data, user) -> tuple[BatchReport, bool]:
    """Save the text as a draft (created on first save). Returns (report, changed); an unchanged text
    writes nothing. A sent report is frozen."""
    _check_writer(batch, user)
    values = _clean(data)
    if not any(values.values()):
        raise ServiceError(_("Write the problems, their causes or the suggestions before saving."), "problems")
    with transaction():
        report = _lock_batch_report(batch)
        if report is not None and report.state != "draft":
            raise ServiceError(_("This summary has been sent and can no longer be changed."))
        if report is not None and all(getattr(report, k) == v for k, v in values.items()):
            return report, False
        _check_base(report, data, values)
        before = report.audit_view() if report is not None else None
        if report is None:
            report = BatchReport(batch_id=batch.id, state="draft", **values)
            db.session.add(report)
        else:
            for k, v in values.items():
                setattr(report, k, v)
        report.author_id, report.updated_at = user.id, utcnow()
        db.session.flush()
        record("batch_report.save", "batch_report", report.id, before, {**report.audit_view(), "batch": batch.title})
    return report, True


def _addressee_ids(raw) -> list[int]:
    from ..inputs import int_arg
    allowed = {d.id for d in offices()}
    ids, seen = [], set()
    for value in raw or []:
        number = int_arg(value)
        if number is None or number not in allowed:
            raise ServiceError(_("Choose business offices from the list."), "offices")
        if number not in seen:
            seen.add(number)
            ids.append(number)
    if not ids:
        raise ServiceError(_("Choose at least one office to send the summary to."), "offices")
    return ids


def send(batch, data, office_ids, user) -> tuple[BatchReport, bool]:
    """Send the text on screen to the chosen offices: save it, freeze it, store the batch's figures as they
    stand. Returns (report, sent_now): sending a report already sent (a double tap) changes nothing."""
    from . import stats

    _check_writer(batch, user)
    with transaction():
        report = _lock_batch_report(batch)
        if report is not None and report.state == "sent":
            return report, False
    values = _clean(data)
    missing = [k for k in FIELDS if not values[k]]
    if missing:
        raise ServiceError(_("Required before sending."), missing[0])
    ids = _addressee_ids(office_ids)
    figures = stats.batch_summary(batch)
    with transaction():
        report = _lock_batch_report(batch)
        if report is not None and report.state == "sent":  # the other tap won meanwhile
            return report, False
        _check_base(report, data, values)
        before = report.audit_view() if report is not None else None
        if report is None:
            report = BatchReport(batch_id=batch.id, author_id=user.id)
            db.session.add(report)
        for k, v in values.items():
            setattr(report, k, v)
        now = utcnow()
        report.state, report.figures, report.updated_at = "sent", figures, now
        report.sent_at, report.sent_by = now, user.id
        report.author_id = report.author_id or user.id
        db.session.flush()
        for department_id in ids:
            db.session.add(BatchReportAddressee(report_id=report.id, department_id=department_id))
        db.session.flush()
        record("batch_report.send", "batch_report", report.id, before,
               {**report.audit_view(), "batch": batch.title, "offices": ids})
    return report, True


def _addressee_for(report: BatchReport, user) -> BatchReportAddressee:
    row = addressee_of(report, user)
    if row is None:
        raise ServiceError(_("This summary is not addressed to your department."))
    lock_row(row)
    return row


def acknowledge(report: BatchReport, user, answer_text: str = "") -> tuple[BatchReportAddressee, bool]:
    """The user's department acknowledges receipt, with an answer if one is written. Returns (addressee,
    changed); acknowledging again with the same (or no) answer changes nothing."""
    text = str(answer_text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_CHARS:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_CHARS), "answer")
    with transaction():
        row = _addressee_for(report, user)
        changed = False
        if row.acknowledged_at is None:
            before = row.audit_view()
            row.acknowledged_at, row.acknowledged_by = utcnow(), user.id
            db.session.flush()
            record("batch_report.acknowledge", "batch_report_addressee", row.id, before,
                   {**row.audit_view(), "batch": _batch_title(report)})
            changed = True
        if text and text != row.answer:
            _set_answer(row, report, text)
            changed = True
    return row, changed


def answer(report: BatchReport, user, answer_text: str) -> tuple[BatchReportAddressee, bool]:
    """The department's answer (written or amended; each change audited). Answering acknowledges too.
    Returns (addressee, changed)."""
    if not str(answer_text or "").strip():
        raise ServiceError(_("Write the answer."), "answer")
    return acknowledge(report, user, answer_text)


def _set_answer(row: BatchReportAddressee, report: BatchReport, text: str) -> None:
    before = row.audit_view()
    row.answer, row.answered_at = text, utcnow()
    db.session.flush()
    record("batch_report.answer", "batch_report_addressee", row.id, before,
           {**row.audit_view(), "batch": _batch_title(report)})


def _batch_title(report: BatchReport) -> str:
    from ..draws.models import Batch
    return db.session.get(Batch, report.batch_id).title


# --- the archive ---------------------------------------------------------------------------------------

def archive_view(report: BatchReport) -> dict:
    """The report, its figures as sent, and each addressee's acknowledgement and answer (the batch archive)."""
    from ..auth.models import User

    names = {}
    ids = {report.author_id, report.sent_by, *(a.acknowledged_by for a in report.addressees)} - {None}
    if ids:
        names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    return {
        "id": report.id, "batch_id": report.batch_id, "state": report.state,
        "problems": report.problems, "causes": report.causes, "suggestions": report.suggestions,
        "author": names.get(report.author_id), "updated_at": report.updated_at,
        "sent_at": report.sent_at, "sent_by": names.get(report.sent_by), "figures": report.figures,
        "addressees": [{"department": a.department.name, "acknowledged_at": a.acknowledged_at,
                        "acknowledged_by": names.get(a.acknowledged_by), "answer": a.answer,
                        "answered_at": a.answered_at} for a in report.addressees],
    }


def archive_text(report: BatchReport) -> str:
    """The same, as a text an office reads without tools (Asia/Shanghai times)."""
    from ..i18n import local_dt_text

    view = archive_view(report)
    state = _("Sent %(t)s by %(who)s", t=local_dt_text(report.sent_at), who=view["sent_by"] or "—") \
        if report.state == "sent" else _("Draft, not sent")
    parts = [_("Summary of experience"), state, "",
             "【" + _("Problems found") + "】", report.problems, "",
             "【" + _("Causes") + "】", report.causes, "",
             "【" + _("Suggestions to the business offices") + "】", report.suggestions, ""]
    for a in view["addressees"]:
        ack = (_("Acknowledged %(t)s by %(who)s", t=local_dt_text(a["acknowledged_at"]), who=a["acknowledged_by"] or "—")
               if a["acknowledged_at"] else _("Awaiting acknowledgement"))
        parts += [f"【{a['department']}】{ack}"]
        if a["answer"]:
            parts += [_("Answer (%(t)s):", t=local_dt_text(a["answered_at"])), a["answer"]]
        parts.append("")
    return "\n".join(parts)
