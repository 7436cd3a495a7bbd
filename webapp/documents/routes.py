"""Documents from the review page: staff who may see the task (the object check), PDF, A4.

Opening a document changes nothing (issue #11 point 10): an issued one comes with its 文号, an unissued
one as a draft (no number, a watermark on every page). Issuing, which takes the number, is a POST.
"""
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import roles as R
from ..access import require, roles
from ..extensions import db
from ..flashing import flash_step
from ..services import ServiceError
from ..tasks.models import Task
from ..tasks.policy import can_view_task
from . import pdf
from .models import KINDS
from .services import check_issuable, gather, issue, issued

bp = Blueprint("documents", __name__)


def _task(task_id: int, kind: str) -> Task:
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    if kind not in KINDS:
        abort(404)
    return task


@bp.get("/review/<int:task_id>/documents/<kind>.pdf")
@roles(*R.STAFF)
def download(task_id: int, kind: str):
    task = _task(task_id, kind)
    facts = gather(task)
    try:
        check_issuable(facts, kind)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.task", task_id=task_id), 303)
    doc = issued(task, kind)
    body = pdf.render(facts, kind, doc.number if doc else None)
    filename = f"{KINDS[kind][1]}-{doc.number}.pdf" if doc else f"{KINDS[kind][1]}-草稿.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
                             "Cache-Control": "private, no-store"})


@bp.post("/review/<int:task_id>/documents/<kind>/issue")
@roles(*R.STAFF)
def issue_document(task_id: int, kind: str):
    task = _task(task_id, kind)
    return flash_step(lambda: issue(task, kind, current_user),
                      lambda doc: _("Issued as %(number)s.", number=doc.number),
                      url_for("review.task", task_id=task_id, _anchor="documents"))
