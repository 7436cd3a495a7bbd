"""经验总结 (R23) pages: the batch's report (write, send, acknowledge, answer) and the offices' inbox.

Object checks (webapp/brigade/report.py ``can_view``/``addressee_of``) on every view: the coordinating
office and the brigade lead see every report; an office sees only what is addressed to it.
"""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import roles as R
from ..access import require, roles
from ..extensions import db
from ..services import ServiceError
from . import bp, report as svc
from .models import BatchReport, BatchReportAddressee


def _batch(batch_id: int):
    from ..draws.models import Batch
    return db.session.get(Batch, batch_id) or abort(404)


def _summary_url(batch) -> str | None:
    """The batch summary page (issue #13 point 1), once that part is registered."""
    if "brigade.summary" in current_app.view_functions:
        return url_for("brigade.summary", batch_id=batch.id)
    return None


def _page(batch, report, form=None, error=None, status=200):
    """The report page. ``form`` carries what was typed when a step was refused: nothing typed is lost."""
    from . import stats

    user = current_user
    editing = svc.can_edit(report, user) and svc.is_drawn(batch)
    summary = None
    if report is not None and report.state == "sent":
        summary = report.figures
    elif svc.is_drawn(batch):
        summary = stats.batch_summary(batch)
    draft = svc.draft_text(batch, summary) if editing else None
    if form is not None:
        values = {k: form.get(k, "") for k in svc.FIELDS}
        chosen = {v for v in form.getlist("offices")}
        answer = form.get("answer", "")
    else:
        values = {k: getattr(report, k) for k in svc.FIELDS} if report is not None else draft
        chosen = {str(i) for i in svc.default_addressee_ids()}
        answer = None
    mine = svc.addressee_of(report, user)
    if answer is None:
        answer = mine.answer if mine is not None else ""
    names = {}
    if report is not None:
        from ..auth.models import User
        ids = {report.sent_by, report.author_id, *(a.acknowledged_by for a in report.addressees)} - {None}
        if ids:
            names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    return render_template(
        "brigade/report.html", names=names, batch=batch, report=report, editing=editing, drawn=svc.is_drawn(batch),
        values=values, draft=draft, offices=svc.offices(), chosen=chosen,
        coordinating=svc.coordinating_office_ids(), summary=summary, mine=mine, answer=answer, error=error,
        summary_url=_summary_url(batch), max_chars=svc.MAX_CHARS, base=_base(report, form, error),
        conflict=report if error is not None and error.field == "base" else None), status


def _base(report, form, error) -> str:
    """The text the writer's form stands on: the stored one, except when a step was refused for another
    reason, when it keeps the one it was opened on (a later save must still see a change made meanwhile).
    After a conflict it is the stored text: the writer has now seen it, and saving again overwrites it."""
    if form is not None and "base" in form and (error is None or error.field != "base"):
        return form.get("base", "")
    return svc.stamp(report)


@bp.get("/batches/<int:batch_id>/report")
@roles(*R.STAFF)
def report(batch_id: int):
    """The batch's 经验总结: the brigade lead writes it from the platform's draft; an addressee office
    reads, acknowledges and answers; the office and the brigade lead follow each office's state."""
    batch = _batch(batch_id)
    rep = svc.report_of(batch)
    require(svc.can_view(rep, current_user))
    return _page(batch, rep)


@bp.post("/batches/<int:batch_id>/report")
@roles(R.BRIGADE_LEAD)
def report_save(batch_id: int):
    batch = _batch(batch_id)
    try:
        _row, changed = svc.save_draft(batch, request.form, current_user)
    except ServiceError as exc:
        return _page(batch, svc.report_of(batch), request.form, exc, 422)
    flash(_("Draft saved.") if changed else _("Nothing changed since the last save."), "success")
    return redirect(url_for("brigade.report", batch_id=batch.id), 303)


@bp.post("/batches/<int:batch_id>/report/send")
@roles(R.BRIGADE_LEAD)
def report_send(batch_id: int):
    batch = _batch(batch_id)
    try:
        rep, sent_now = svc.send(batch, request.form, request.form.getlist("offices"), current_user)
    except ServiceError as exc:
        return _page(batch, svc.report_of(batch), request.form, exc, 422)
    if sent_now:
        flash(_("Sent to %(n)d offices.", n=len(rep.addressees)), "success")
    else:
        flash(_("This summary had already been sent; nothing was sent again."), "success")
    return redirect(url_for("brigade.report", batch_id=batch.id), 303)


def _addressed(batch_id: int):
    batch = _batch(batch_id)
    rep = svc.report_of(batch)
    require(svc.addressee_of(rep, current_user) is not None)
    return batch, rep


@bp.post("/batches/<int:batch_id>/report/acknowledge")
@roles(*R.STAFF)
def report_ack(batch_id: int):
    """An addressee office acknowledges receipt (and may answer at once); a second tap changes nothing."""
    batch, rep = _addressed(batch_id)
    try:
        _row, changed = svc.acknowledge(rep, current_user, request.form.get("answer", ""))
    except ServiceError as exc:
        return _page(batch, rep, request.form, exc, 422)
    flash(_("Acknowledged.") if changed else _("Already acknowledged; nothing changed."), "success")
    return redirect(url_for("brigade.report", batch_id=batch.id), 303)


@bp.post("/batches/<int:batch_id>/report/answer")
@roles(*R.STAFF)
def report_answer(batch_id: int):
    """An addressee office writes or amends its answer."""
    batch, rep = _addressed(batch_id)
    try:
        _row, changed = svc.answer(rep, current_user, request.form.get("answer", ""))
    except ServiceError as exc:
        return _page(batch, rep, request.form, exc, 422)
    flash(_("Answer saved.") if changed else _("Nothing changed since the last save."), "success")
    return redirect(url_for("brigade.report", batch_id=batch.id), 303)


@bp.get("/reports")
@roles(*R.STAFF)
def reports():
    """What is addressed to the user's office (awaiting acknowledgement first); for the coordinating
    office and the brigade lead also every drawn batch with its report's state and each office's."""
    from ..draws.models import Batch, Draw, Plan

    user = current_user
    inbox = []
    if user.department_id:
        inbox = db.session.execute(
            select(BatchReportAddressee, BatchReport, Batch).join(BatchReport, BatchReport.id == BatchReportAddressee.report_id)
            .join(Batch, Batch.id == BatchReport.batch_id)
            .where(BatchReport.state == "sent", BatchReportAddressee.department_id == user.department_id)
            .order_by(BatchReportAddressee.acknowledged_at.is_not(None), BatchReport.sent_at.desc())).all()
    overview = []
    if user.role in (R.ADMIN, R.BRIGADE_LEAD):
        batches = db.session.scalars(
            select(Batch).join(Plan, Plan.id == Batch.plan_id)
            .where(select(Draw.id).where(Draw.batch_id == Batch.id, Draw.state == "drawn").exists())
            .order_by(Plan.year.desc(), Batch.window_end.desc(), Batch.id.desc()).limit(100)).all()
        reps = {r.batch_id: r for r in db.session.scalars(
            select(BatchReport).where(BatchReport.batch_id.in_([b.id for b in batches]))
            .options(selectinload(BatchReport.addressees)))} if batches else {}
        overview = [(b, reps.get(b.id)) for b in batches]
    return render_template("brigade/reports.html", inbox=inbox, overview=overview,
                           awaiting=sum(1 for a, _r, _b in inbox if a.acknowledged_at is None))


@bp.app_context_processor
def _report_of():
    """``batch_report_of(batch)`` for the batch page's short block on its summary of experience."""
    return {"batch_report_of": svc.report_of}
