"""Review queue (team lead), the hazard register and its actions. Every object goes through the task
policy: a team lead reviews the groups of their own department only."""
import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import roles as R
from ..access import public, require, roles
from ..db_types import today_shanghai
from ..extensions import db, htmx
from ..flashing import flash_step
from ..checklists.models import questions_by_id
from ..draws.models import Batch, Plan
from ..pagination import paginate
from ..inputs import int_arg
from ..registries.models import INDUSTRIES, Region
from ..registries.vocab import INDUSTRY_LABELS
from ..sync.models import SyncRecord
from ..tasks.models import Task, with_members
from ..services import ServiceError
from ..tasks.policy import can_view_task, task_scope
from . import services
from . import enterprise
from .models import (ESCALATIONS, FEEDBACK_WAYS, GRADES, HAZARD_STATES, PLAN_FIELDS, Feedback, Hazard,
                     HazardEvent)

bp = Blueprint("review", __name__)
REVIEWERS = (R.TEAM_LEAD, R.BRIGADE_LEAD)
QUEUES = ("submitted", "returned", "approved")
#: The register counts matches up to this many; past it the pager says "more than".
COUNT_CAP = 5_000


def _task(task_id: int) -> Task:
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    return task


def _hazard(hazard_id: int) -> Hazard:
    hazard = db.session.get(Hazard, hazard_id) or abort(404)
    require(can_view_task(current_user, hazard.task))
    return hazard


@bp.get("/review/")
@roles(*R.STAFF)
def queue():
    """Inspections synced by the lead's groups, waiting for review (or returned, or approved)."""
    # The queues are the tasks' phases after submission (issue #12 point 3): 'approved' waits for its
    # publication, 'published' is done; each chip counts its tasks.
    from ..tasks import phase as task_phase
    queues = QUEUES + ("published",)
    state = request.args.get("state", "submitted")
    state = state if state in queues else "submitted"
    scoped = task_scope(current_user, select(Task))
    stmt = (scoped.where(task_phase.clause(state)).order_by(Task.due_date, Task.id).options(with_members()))
    page = paginate(stmt)
    ctx = {"page": page, "state": state, "queues": queues, "phases": task_phase.phases(page.items),
           "today": today_shanghai()}
    if htmx and not htmx.boosted:  # the pager swaps the list only
        return render_block("review/queue.html", "results", **ctx)
    return render_template("review/queue.html", counts=task_phase.counts(scoped, today_shanghai()), **ctx)


@bp.get("/review/<int:task_id>")
@roles(*R.STAFF)
def task(task_id: int):
    task = _task(task_id)
    records = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)
                                 .order_by(SyncRecord.kind, SyncRecord.question, SyncRecord.received_at)).all()
    by_kind = {}
    for row in records:
        by_kind.setdefault(row.kind, []).append(row)
    hazards = db.session.scalars(select(Hazard).where((Hazard.task_id == task.id) |
                                                      (Hazard.reinspection_task_id == task.id))
                                 .order_by(Hazard.id)).all()
    questions = questions_by_id(task.checklists)
    from ..publication import services as publication
    due, provisional = publication.publication_due(task)
    fb_due, fb_provisional = services.feedback_due(task)
    conflicts, refused = services.conflicts_of(task.id), services.refused_changes(task.id)
    # Issue #12 point 8: the lead reads what is missing or in question first, with the decision beside it.
    answers = {}
    for row in by_kind.get("answer", []):
        answers.setdefault(row.question, []).append(row)
    lists = services.checklist_questions(task)
    listed = {q["id"] for _c, qs in lists for q in qs}
    return render_template("review/task.html", task=task, by_kind=by_kind, hazards=hazards,
                           flags=services.review_flags(task, records, conflicts, refused, hazards),
                           lists=lists, answers=answers,
                           extra_answers=sorted(((q, rows) for q, rows in answers.items() if q not in listed),
                                                key=lambda kv: kv[0] or ""),
                           hazard_records=_hazard_records(hazards),
                           published=publication.versions(task.id), publication_due=due,
                           due_provisional=provisional, feedback_due=fb_due, feedback_provisional=fb_provisional,
                           feedback=db.session.scalar(select(Feedback).where(Feedback.task_id == task.id)),
                           ways=FEEDBACK_WAYS, today_iso=today_shanghai().isoformat(), **_link_context(task),
                           suggested=publication.suggest_category(task) if task.review_state == "approved" else None,
                           conflicts=conflicts, questions=questions,
                           names={m.inspector_id: m.inspector.name for m in task.members},
                           today=today_shanghai(), refused=refused,
                           **_review_rights(task, hazards))


def _hazard_records(hazards: list) -> dict:
    """Each hazard's record as the phone made it (its photos), and its closures (the re-inspection's
    finding and photos), by hazard id."""
    if not hazards:
        return {}
    uuids = [h.record_uuid for h in hazards]
    found = {r.uuid: r for r in db.session.scalars(select(SyncRecord).where(SyncRecord.uuid.in_(uuids)))}
    again = {h.reinspection_task_id for h in hazards if h.reinspection_task_id}
    again |= set(db.session.scalars(select(Task.id).where(Task.origin_task_id.in_({h.task_id for h in hazards}))))
    closures = {}
    if again:
        for row in db.session.scalars(select(SyncRecord).where(SyncRecord.kind == "closure",
                                                               SyncRecord.task_id.in_(again))
                                      .order_by(SyncRecord.received_at)):
            closures.setdefault(row.data.get("hazard"), []).append(row)
    return {h.id: {"record": found.get(h.record_uuid), "closures": closures.get(h.record_uuid, [])} for h in hazards}


@bp.get("/review/<int:task_id>/photos/<sha>")
@roles(*R.STAFF)
def photo(task_id: int, sha: str):
    """A photo's thumbnail, for staff who may see the task (issue #12 point 8); ``photo_full`` serves the
    photo itself. Only a photo the task's own records or its enterprise's evidence cite: a hash another
    task cites is not found here, whoever asks."""
    from ..sync import photos as photo_store
    _task_photo(task_id, sha)
    path = photo_store.thumbnail(sha)
    if path is None:
        abort(404)
    return _private(send_file(path, mimetype="image/jpeg", max_age=86400, conditional=True))


@bp.get("/review/<int:task_id>/photos/<sha>/full")
@roles(*R.STAFF)
def photo_full(task_id: int, sha: str):
    """The photo at full size, as it was taken (its EXIF kept: GPS is evidence), under ``photo``'s rule."""
    from ..sync import photos as photo_store
    from ..sync.models import Photo
    _task_photo(task_id, sha)
    row = db.session.get(Photo, sha)
    path = photo_store.original_path(sha)
    if row is None or not path.exists():
        abort(404)
    return _private(send_file(path, mimetype=row.mime, max_age=86400, conditional=True))


def _task_photo(task_id: int, sha: str) -> None:
    from ..sync import photos as photo_store
    task = _task(task_id)  # the object check: 403 for a lead of another department
    if not photo_store.SHA_RE.match(sha) or sha not in services.task_photos(task.id):
        abort(404)


def _private(resp):
    # Evidence of an inspection: kept by this browser only, never by a shared cache.
    resp.cache_control.public = False
    resp.cache_control.private = True
    return resp


def _review_rights(task: Task, hazards: list) -> dict:
    """Who may do what on the review page. Managing the follow-up (the enterprise's link, its evidence,
    feedback, re-inspection) is any reviewer's; reviewing the work itself (settle, approve, return,
    publish, 销号) is not for someone who took part in it (issue #11 point 2)."""
    manage = current_user.role in REVIEWERS
    own = services.took_part(current_user, task)
    return {"can_manage": manage, "own_work": manage and own, "can_review": manage and not own,
            "closable": {h.id for h in hazards if manage and services.closure_reviewable(current_user, h)}}


def _back(task_id: int) -> str:
    return url_for("review.task", task_id=task_id)


@bp.post("/review/<int:task_id>/approve")
@roles(*REVIEWERS)
def approve(task_id: int):
    return flash_step(lambda: services.approve(_task(task_id), current_user,
                                               without_refused=request.form.get("without_refused") == "1",
                                               confirm_unanswered=request.form.get("confirm_unanswered") == "1"),
                      _("Inspection approved."),
                      _back(task_id))


@bp.post("/review/<int:task_id>/return")
@roles(*REVIEWERS)
def send_back(task_id: int):
    return flash_step(lambda: services.return_for_correction(_task(task_id), current_user,
                                                             request.form.get("comment", "")),
                      _("Returned to the group; their phones get your comment at the next sync."), _back(task_id))


@bp.post("/review/<int:task_id>/resolve")
@roles(*REVIEWERS)
def resolve(task_id: int):
    return flash_step(lambda: services.resolve_conflict(_task(task_id), request.form.get("question", ""),
                                                        request.form.get("uuid", ""), current_user),
                      _("Answer chosen; the other stays on record."), _back(task_id))


@bp.post("/review/<int:task_id>/reinspect")
@roles(*REVIEWERS)
def reinspect(task_id: int):
    return flash_step(lambda: services.schedule_reinspection(_task(task_id), current_user),
                      lambda t: _("Re-inspection dispatched to the group, due %(d)s.", d=t.due_date), _back(task_id))


@bp.post("/review/<int:task_id>/feedback")
@roles(*REVIEWERS)
def feedback(task_id: int):
    form = request.form
    return flash_step(lambda: services.record_feedback(_task(task_id), form.get("given_on", ""), form.get("way", ""),
                                                       form.get("note", ""), current_user),
                      _("Feedback to the enterprise recorded."), _back(task_id))


@bp.get("/hazards/")
@roles(*R.STAFF)
def hazards():
    """The hazard register: filter by status, grade, overdue, batch; a team lead sees their groups'."""
    args = {k: request.args.get(k, "") for k in ("q", "status", "grade", "overdue", "batch", "region", "industry",
                                                 "closable")}
    # The batch summary's links (issue #13): a checklist question, escalated, still to rectify, what the
    # re-inspection found, an inspector's groups. Kept only when they narrow something.
    from ..brigade.stats import hazard_clause, hazard_narrow_words
    narrow = {k: request.args.get(k, "") for k in ("question", "escalated", "open", "reinspection", "inspector")}
    narrow = {k: v[:60] for k, v in narrow.items() if v and hazard_clause(k, v[:60]) is not None}
    args.update(narrow)
    stmt = select(Hazard).join(Task, Task.id == Hazard.task_id)
    stmt = task_scope(current_user, stmt)
    status, grade = args.get("status", ""), args.get("grade", "")
    if status in HAZARD_STATES:
        stmt = stmt.where(Hazard.status == status)
    if grade in GRADES:
        stmt = stmt.where(Hazard.grade == grade)
    today = today_shanghai()
    if args.get("overdue"):
        stmt = stmt.where(Hazard.overdue_on(today))
    if args.get("closable"):  # re-inspected, the closure (销号) waits for the lead: the home page's count
        stmt = stmt.where(Hazard.status == "awaiting_review", Hazard.closure_uuid.is_not(None))
    if (batch_id := int_arg(args.get("batch"))) is not None:  # issue #11 point 13: never past the column
        stmt = stmt.where(Hazard.batch_id == batch_id)
    if args.get("region"):
        stmt = stmt.where(Hazard.region == args["region"])
    if args.get("industry") in INDUSTRIES:
        stmt = stmt.where(Hazard.industry == args["industry"])
    if args.get("q"):
        stmt = stmt.where(Hazard.enterprise_name.contains(args["q"].strip(), autoescape=True))
    for key, value in narrow.items():
        stmt = stmt.where(hazard_clause(key, value))
    stmt = stmt.order_by(Hazard.deadline.is_(None), Hazard.deadline, Hazard.id)
    page = paginate(stmt, count_cap=COUNT_CAP)
    ctx = {"page": page, "args": args, "narrow": narrow, "narrow_words": hazard_narrow_words(narrow) if narrow else [],
           "states": HAZARD_STATES, "grades": GRADES, "today": today,
           "industries": INDUSTRIES, "industry_labels": INDUSTRY_LABELS, "question_texts": _question_texts(page.items)}
    if not (htmx and not htmx.boosted):
        ctx["regions"] = db.session.scalars(select(Region.name).order_by(Region.code)).all()
        ctx["batches"] = db.session.execute(select(Batch.id, Batch.title, Plan.year).join(Plan, Plan.id == Batch.plan_id)
                                            .order_by(Plan.year.desc(), Batch.seq)).all()
    if htmx and not htmx.boosted:
        return render_block("review/hazards.html", "results", **ctx)
    return render_template("review/hazards.html", **ctx)


def _question_texts(hazards) -> dict:
    """(task id, question id) → the question's text, for a page of hazards (one query for the tasks'
    checklists, one for their versions): a hazard is named by its question, not its code."""
    task_ids = {h.task_id for h in hazards if h.question}
    if not task_ids:
        return {}
    from ..checklists.models import ChecklistVersion
    lists = {task_id: [c["id"] for c in checklists or []] for task_id, checklists in
             db.session.execute(select(Task.id, Task.checklists).where(Task.id.in_(task_ids)))}
    versions = {v.id: v for v in db.session.scalars(select(ChecklistVersion).where(
        ChecklistVersion.id.in_({i for ids in lists.values() for i in ids})))}
    out = {}
    for task_id, ids in lists.items():
        questions = {q["id"]: q for i in ids if i in versions for q in versions[i].questions}
        out.update({(task_id, q): questions[q].get("text", "") for q in
                    {h.question for h in hazards if h.task_id == task_id} if q in questions})
    return out


@bp.get("/hazards/<int:hazard_id>")
@roles(*R.STAFF)
def hazard(hazard_id: int):
    """One hazard: its order, plan, supervision, extensions, escalation and history."""
    hazard = _hazard(hazard_id)
    events = db.session.scalars(select(HazardEvent).where(HazardEvent.hazard_id == hazard.id)
                                .order_by(HazardEvent.id)).all()
    return render_template("review/hazard.html", hazard=hazard, events=events, plan_fields=PLAN_FIELDS,
                           escalations=ESCALATIONS, can_review=current_user.role in REVIEWERS, today=today_shanghai(),
                           question=questions_by_id(hazard.task.checklists).get(hazard.question),
                           records=_hazard_records([hazard])[hazard.id],
                           evidence=db.session.scalars(select(enterprise.Evidence).where(
                               enterprise.Evidence.hazard_id == hazard.id).order_by(enterprise.Evidence.id)).all(),
                           names={m.inspector_id: m.inspector.name for m in hazard.task.members},
                           question_photos=_question_photos(hazard))


def _question_photos(hazard) -> list[str]:
    """The photos taken at the hazard's question (the phone's hazard form has no camera of its own: the
    evidence is the answer's photo), so whoever handles the hazard or its 销号 sees it."""
    if not hazard.question:
        return []
    rows = db.session.scalars(select(SyncRecord.data).where(
        SyncRecord.task_id == hazard.task_id, SyncRecord.kind == "answer", SyncRecord.question == hazard.question,
        SyncRecord.superseded.is_(False))).all()
    return list(dict.fromkeys(sha for data in rows for sha in (data or {}).get("photos") or []))


def _hazard_step(hazard_id: int, action, message: str):
    hazard = _hazard(hazard_id)
    return flash_step(lambda: action(hazard), message, url_for("review.hazard", hazard_id=hazard_id))


@bp.post("/hazards/<int:hazard_id>/plan")
@roles(*REVIEWERS)
def hazard_plan(hazard_id: int):
    return _hazard_step(hazard_id, lambda h: services.save_plan(h, request.form, current_user),
                        _("Rectification plan saved."))


@bp.post("/hazards/<int:hazard_id>/supervise")
@roles(*REVIEWERS)
def hazard_supervise(hazard_id: int):
    return _hazard_step(hazard_id, lambda h: services.supervise(h, request.form.get("supervised_by", ""), current_user),
                        _("Put under supervision (挂牌督办)."))


@bp.post("/hazards/<int:hazard_id>/extend")
@roles(*REVIEWERS)
def hazard_extend(hazard_id: int):
    form = request.form
    return _hazard_step(hazard_id, lambda h: services.extend_deadline(h, form.get("deadline", ""),
                                                                      form.get("reason", ""), current_user),
                        _("Deadline extended."))


@bp.post("/hazards/<int:hazard_id>/escalate")
@roles(*REVIEWERS)
def hazard_escalate(hazard_id: int):
    form = request.form
    return _hazard_step(hazard_id, lambda h: services.escalate(h, form.get("kind", ""), form.get("to", ""),
                                                               form.get("reason", ""), current_user),
                        _("Escalation recorded."))


@bp.post("/hazards/<int:hazard_id>/close")
@roles(*REVIEWERS)
def hazard_close(hazard_id: int):
    hazard = _hazard(hazard_id)
    return flash_step(lambda: services.close_hazard(hazard, current_user), _("Hazard closed (销号)."),
                      _back(hazard.reinspection_task_id or hazard.task_id))


@bp.post("/hazards/<int:hazard_id>/keep-open")
@roles(*REVIEWERS)
def hazard_keep_open(hazard_id: int):
    hazard = _hazard(hazard_id)
    return flash_step(lambda: services.keep_open(hazard, current_user, request.form.get("note", "")),
                      _("The hazard stays open."), _back(hazard.reinspection_task_id or hazard.task_id))


# --- the enterprise's link ------------------------------------------------------------------------

def _link_context(task: Task) -> dict:
    link = enterprise.active_link(task)
    url = url_for("review.enterprise_order", token=enterprise.token_of(link), _external=True) if link else None
    return {"link": link, "link_url": url,
            "link_qr": segno.make(url, error="m").svg_inline(scale=4) if url else None,
            "evidence": db.session.scalars(select(enterprise.Evidence).where(enterprise.Evidence.task_id == task.id)
                                           .order_by(enterprise.Evidence.id)).all()}


@bp.post("/review/<int:task_id>/link")
@roles(*REVIEWERS)
def link_issue(task_id: int):
    return flash_step(lambda: enterprise.issue_link(_task(task_id), current_user),
                      _("A new link for the enterprise; any earlier one no longer works."), _back(task_id))


@bp.post("/review/<int:task_id>/link/revoke")
@roles(*REVIEWERS)
def link_revoke(task_id: int):
    task = _task(task_id)

    def revoke():
        link = enterprise.active_link(task)
        if link is None:
            raise ServiceError(_("There is no working link to revoke."))
        enterprise.revoke_link(link, current_user)
    return flash_step(revoke, _("The link no longer works."), _back(task_id))


def _evidence(evidence_id: int):
    evidence = db.session.get(enterprise.Evidence, evidence_id) or abort(404)
    _task(evidence.task_id)  # the object check
    return evidence


@bp.post("/evidence/<int:evidence_id>/review")
@roles(*REVIEWERS)
def evidence_review(evidence_id: int):
    evidence = _evidence(evidence_id)
    accept = request.form.get("verdict") == "accept"
    return flash_step(lambda: enterprise.review_evidence(evidence, accept, request.form.get("comment", ""),
                                                         current_user),
                      _("Evidence accepted.") if accept else _("Evidence rejected; the enterprise sees why."),
                      _back(evidence.task_id))


@bp.get("/evidence/<int:evidence_id>/photos/<int:k>")
@roles(*R.STAFF)
def evidence_photo(evidence_id: int, k: int):
    """A thumbnail of the evidence, for the reviewer (never public)."""
    from ..sync import photos as photo_store
    evidence = _evidence(evidence_id)
    path = photo_store.thumb_path(evidence.photos[k]) if 0 <= k < len(evidence.photos) else None
    if path is None or not path.exists():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.route("/e/<token>", methods=["GET", "POST"])
@public
def enterprise_order(token: str):
    """The enterprise's own rectification order, reached by its link only (no account)."""
    link = enterprise.resolve(token)
    if link is None:
        abort(404)  # unknown, forged, revoked and expired look the same
    task = link.task
    error = None
    # Opening the page records nothing (a chat app's link preview opens it too): the enterprise's
    # "I have read this order" button (enterprise_read, a POST) records R19's notice (issue #11 point 10).
    if request.method == "POST":
        files = [(f.filename or "photo", f.read()) for f in request.files.getlist("photos")]
        try:
            enterprise.submit_evidence(link, request.form.get("hazard", ""), request.form.get("text", ""), files,
                                       complete=request.form.get("complete") == "1", address=request.remote_addr or "")
            flash(_("Received. The inspection team will review it."), "success")
            return redirect(url_for("review.enterprise_order", token=token), 303)
        except ServiceError as exc:
            error = exc.message
    hazards = db.session.scalars(select(Hazard).where(Hazard.task_id == task.id).order_by(Hazard.id)).all()
    evidence = db.session.scalars(select(enterprise.Evidence).where(enterprise.Evidence.task_id == task.id)
                                  .order_by(enterprise.Evidence.id.desc())).all()
    page = render_template("review/enterprise.html", task=task, hazards=hazards, evidence=evidence, error=error,
                           link=link, today=today_shanghai(), token=token, questions=questions_by_id(task.checklists),
                           feedback=db.session.scalar(select(Feedback).where(Feedback.task_id == task.id)))
    # The token is in the address: never send it on as a referrer, never index the page.
    return page, (422 if error else 200), {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow",
                                           "Cache-Control": "private, no-store"}


@bp.post("/e/<token>/read")
@public
def enterprise_read(token: str):
    """R19 "by its link": a person at the enterprise says they have read the order (a button on the page,
    CSRF-protected), never the page's being opened (issue #11 point 10)."""
    link = enterprise.resolve(token)
    if link is None:
        abort(404)
    if enterprise.acknowledge(link) is not None:
        flash(_("Thank you: your receipt of this order is recorded."), "success")
    return redirect(url_for("review.enterprise_order", token=token), 303), {"Referrer-Policy": "no-referrer"}
