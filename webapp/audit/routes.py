"""The administrator's view of the audit trail, filtered by object and person."""
from flask import Blueprint, render_template, request
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import roles as R
from ..access import roles
from ..extensions import htmx
from ..pagination import paginate
from .messages import reason_text
from .models import AuditEntry
from .services import diff, verify

bp = Blueprint("audit", __name__, url_prefix="/audit")


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
    if args["action"]:
        stmt = stmt.where(AuditEntry.action.startswith(args["action"]))
    page = paginate(stmt)
    ctx = dict(page=page, args=args, diff=diff)
    if htmx and not htmx.boosted:
        return render_block("audit/index.html", "results", **ctx)
    return render_template("audit/index.html", **ctx)


@bp.get("/verify")
@roles(R.ADMIN)
def check():
    """Verify the chain now and show the outcome."""
    result = verify()
    return render_template("audit/verify.html", result=result,
                           reason=reason_text(result.reason) if result.reason else None)
