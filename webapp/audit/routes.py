"""The administrator's view of the audit trail, filtered by object, person and action.

The primary view is in words (webapp/audit/present.py); each entry's stored JSON stays one tap away,
labelled, for an auditor.
"""
from flask import Blueprint, render_template, request
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import roles as R
from ..access import roles
from ..extensions import db, htmx
from ..pagination import paginate
from .messages import reason_text
from .models import AuditEntry
from .present import OBJECT_LABELS, Presenter, action_label, actor_labels, present
from .services import verify

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _choices() -> dict:
    """The filters' options, as labels: the actions, object kinds and people the trail holds."""
    actions = db.session.scalars(select(AuditEntry.action).distinct()).all()
    actors = db.session.scalars(select(AuditEntry.actor).distinct()).all()
    kinds = db.session.scalars(select(AuditEntry.object_type).distinct()).all()
    names = actor_labels(actors)
    return {
        "actions": sorted(((a, action_label(a)) for a in actions), key=lambda x: x[1]),
        "actors": sorted(names.items(), key=lambda x: x[1]),
        "object_types": sorted(((k, str(OBJECT_LABELS[k])) for k in kinds if k in OBJECT_LABELS), key=lambda x: x[1]),
    }


@bp.get("/")
@roles(R.ADMIN)
def index():
    """Browse entries, newest first, filtered by object type/id, actor and action."""
    args = {k: request.args.get(k, "").strip() for k in ("object_type", "object_id", "actor", "action")}
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if args["object_type"]:
        stmt = stmt.where(AuditEntry.object_type == args["object_type"])
    if args["object_id"]:
        stmt = stmt.where(AuditEntry.object_id == args["object_id"])
    if args["actor"]:
        stmt = stmt.where(AuditEntry.actor == args["actor"])
    if args["action"].endswith("."):  # a family of actions, e.g. ``document.``
        stmt = stmt.where(AuditEntry.action.startswith(args["action"], autoescape=True))
    elif args["action"]:
        stmt = stmt.where(AuditEntry.action == args["action"])
    page = paginate(stmt)
    rows = present(page.items)
    subject = None
    if args["object_type"] and args["object_id"]:
        last = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == args["object_type"],
                                                         AuditEntry.object_id == args["object_id"]).limit(1))
        subject = Presenter([last]).object(last) if last else None
    ctx = dict(page=page, rows=rows, args=args, subject=subject)
    if htmx and not htmx.boosted:
        return render_block("audit/index.html", "results", **ctx)
    return render_template("audit/index.html", **ctx, **_choices())


@bp.get("/verify")
@roles(R.ADMIN)
def check():
    """Verify the chain now and show the outcome."""
    result = verify()
    return render_template("audit/verify.html", result=result,
                           reason=reason_text(result.reason) if result.reason else None)
