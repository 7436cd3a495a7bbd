"""检查对象名录库: list, search, view with history, create and edit enterprises."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import roles as R
from ..access import require, roles
from ..audit.services import history
from ..extensions import db, htmx
from ..pagination import paginate
from ..inputs import int_arg
from ..services import ServiceError
from . import cells
from .blueprint import bp
from .models import ENTERPRISE_FLAGS, INDUSTRIES, STATUSES, Enterprise, Recusal, Region
from .policy import can_edit_registries, can_view_recusals
from .services import save_enterprise
from .vocab import FLAG_LABELS, INDUSTRY_LABELS, STATUS_LABELS


def _vocab() -> dict:
    return dict(flags=ENTERPRISE_FLAGS, flag_labels=FLAG_LABELS, industries=INDUSTRIES,
                industry_labels=INDUSTRY_LABELS, statuses=STATUSES, status_labels=STATUS_LABELS,
                regions=db.session.scalars(select(Region).order_by(Region.code)).all())


def enterprise_query(args) -> tuple:
    """The list's filters: text (name or credit code), township, industry, status, flag."""
    stmt = select(Enterprise).options(selectinload(Enterprise.region))
    q = args.get("q", "").strip()
    if q:
        stmt = stmt.where(or_(Enterprise.name.contains(q, autoescape=True),
                              Enterprise.uscc.startswith(q.upper(), autoescape=True)))
    if (region_id := int_arg(args.get("region"))) is not None:  # issue #11 point 13: never past the column
        stmt = stmt.where(Enterprise.region_id == region_id)
    if args.get("industry") in INDUSTRIES:
        stmt = stmt.where(Enterprise.industry == args["industry"])
    if args.get("status") in STATUSES:
        stmt = stmt.where(Enterprise.status == args["status"])
    if args.get("flag") in ENTERPRISE_FLAGS:
        stmt = stmt.where(getattr(Enterprise, args["flag"]).is_(True))
    return stmt.order_by(Enterprise.name, Enterprise.id)


@bp.get("/enterprises")
@roles(*R.STAFF)
def enterprises():
    """The enterprise pool, searchable; htmx requests get only the results block."""
    args = {k: request.args.get(k, "") for k in ("q", "region", "industry", "status", "flag")}
    page = paginate(enterprise_query(args))
    ctx = dict(page=page, args=args, can_edit=can_edit_registries(current_user), **_vocab())
    if htmx and not htmx.boosted:
        return render_block("registries/enterprises.html", "results", **ctx)
    return render_template("registries/enterprises.html", **ctx)


@bp.get("/enterprises/<int:enterprise_id>")
@roles(*R.STAFF)
def enterprise(enterprise_id: int):
    """One enterprise, its flags, recusals and change history."""
    ent = db.get_or_404(Enterprise, enterprise_id)
    show_recusals = can_view_recusals(current_user)
    recusals = (db.session.scalars(select(Recusal).where(Recusal.enterprise_id == ent.id)).all()
                if show_recusals else [])
    return render_template("registries/enterprise.html", ent=ent, recusals=recusals,
                           show_recusals=show_recusals, history=history("enterprise", ent.id),
                           can_edit=can_edit_registries(current_user), **_vocab())


@bp.route("/enterprises/new", methods=["GET", "POST"])
@roles(R.ADMIN)
def enterprise_new():
    """Register an enterprise by hand."""
    return _enterprise_form(None)


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@roles(R.ADMIN)
def enterprise_edit(enterprise_id: int):
    """Change an enterprise; the change lands in its history."""
    return _enterprise_form(db.get_or_404(Enterprise, enterprise_id))


def _enterprise_form(ent: Enterprise | None):
    require(can_edit_registries(current_user))
    error = None
    if request.method == "POST":
        try:
            ent = save_enterprise(request.form, ent)
        except ServiceError as exc:
            error = exc
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("registries.enterprise", enterprise_id=ent.id), 303)
    form = request.form if request.method == "POST" else (_form_values(ent) if ent else {"status": "operating"})
    status = 422 if error else 200
    return render_template("registries/enterprise_form.html", ent=ent, form=form, error=error,
                           **_vocab()), status


def _form_values(ent: Enterprise) -> dict:
    values = ent.audit_view()
    values = {k: ("" if v is None else v) for k, v in values.items()}
    values.update({f: "1" if getattr(ent, f) else "" for f in ENTERPRISE_FLAGS})
    return values


@bp.post("/enterprises/check-uscc")
@roles(R.ADMIN)
def check_uscc():
    """Inline validation of a credit code while the form is filled in (htmx)."""
    value = request.form.get("uscc", "")
    message, ok = "", False
    if value.strip():
        try:
            code = cells.uscc(value)
        except cells.CellError as exc:
            message = exc.message
        else:
            other = db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == code))
            current = int_arg(request.form.get("enterprise_id"))
            if other and other != current:
                message = _("An enterprise with this credit code is already registered.")
            else:
                message, ok = _("Credit code is valid."), True
    return render_template("registries/_field_message.html", message=message, ok=ok)
