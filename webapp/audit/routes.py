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


def _choices(args: dict) -> dict:
    """The filters' options, as labels: every action and kind of record the code records, and the
    accounts. Taken from the code and the users table, not by scanning the trail (which only grows);
    a value in the URL that is none of these (an enterprise's link, the command line) stays selectable."""
    from ..auth.models import User
    from .present import ACTION_LABELS
    actions = set(ACTION_LABELS) | ({args["action"]} if args.get("action") else set())
    actors = set(db.session.scalars(select(User.username))) | ({args["actor"]} if args.get("actor") else set())
    names = actor_labels(sorted(actors))
    return {
        "actions": sorted(((a, action_label(a)) for a in actions), key=lambda x: x[1]),
        "actors": sorted(names.items(), key=lambda x: x[1]),
        "object_types": sorted(((k, str(v)) for k, v in OBJECT_LABELS.items()), key=lambda x: x[1]),
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
    return render_template("audit/index.html", **ctx, **_choices(args))


@bp.get("/verify")
@roles(R.ADMIN)
def check():
    """Verify the chain now and show the outcome."""
    result = verify()
    return render_template("audit/verify.html", result=result,
                           reason=reason_text(result.reason) if result.reason else None)
