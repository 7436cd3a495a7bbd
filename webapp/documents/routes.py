"""Document downloads from the review page: staff who may see the task (the object check), PDF, A4."""
from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_login import current_user

from .. import roles as R
from ..access import require, roles
from ..extensions import db
from ..services import ServiceError
from ..tasks.models import Task
from ..tasks.policy import can_view_task
from . import pdf
from .models import KINDS
from .services import check_issuable, gather, number_for

bp = Blueprint("documents", __name__)


@bp.get("/review/<int:task_id>/documents/<kind>.pdf")
@roles(*R.STAFF)
def download(task_id: int, kind: str):
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    if kind not in KINDS:
        abort(404)
    facts = gather(task)
    try:
        check_issuable(facts, kind)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.task", task_id=task_id), 303)
    doc = number_for(task, kind, current_user)
    body = pdf.render(facts, kind, doc.number)
    filename = f"{KINDS[kind][1]}-{doc.number}.pdf"
    from urllib.parse import quote
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
                             "Cache-Control": "private, no-store"})
