"""执法检查人员名录库: the inspector pool, each person's page, recusals (回避)."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import roles as R
from ..access import require, roles, signed_in
from ..audit.services import history
from ..db_types import today_shanghai
from ..extensions import db, htmx
from ..pagination import paginate
from ..inputs import int_arg, int_args as _ids
from ..services import ServiceError
from .blueprint import bp
from .models import Competence, Department, Inspector, Recusal
from .policy import can_edit_registries, can_view_inspector, can_view_recusals, inspector_scope
from .services import INACTIVE_REASONS, add_recusal, remove_recusal, save_inspector
from .vocab import INACTIVE_LABELS


@bp.get("/inspectors")
@roles(*R.STAFF)
def inspectors():
    """The pool, scoped to what the user may see (a team lead: their department)."""
    args = {k: request.args.get(k, "") for k in ("q", "department", "competence", "active")}
    stmt = select(Inspector).options(selectinload(Inspector.competences), selectinload(Inspector.department))
    if args["q"].strip():
        q = args["q"].strip()
        stmt = stmt.where(or_(Inspector.name.contains(q, autoescape=True),
                              Inspector.cert_no.contains(q, autoescape=True)))
    if (department_id := int_arg(args["department"])) is not None:  # issue #11 point 13
        stmt = stmt.where(Inspector.department_id == department_id)
    if (competence_id := int_arg(args["competence"])) is not None:
        stmt = stmt.where(Inspector.competences.any(Competence.id == competence_id))
    if args["active"] in ("1", "0"):
        stmt = stmt.where(Inspector.active.is_(args["active"] == "1"))
    stmt = inspector_scope(stmt, current_user).order_by(Inspector.name, Inspector.id)
    ctx = dict(page=paginate(stmt), args=args, today=today_shanghai(), reasons=INACTIVE_LABELS,
               departments=db.session.scalars(select(Department).order_by(Department.name)).all(),
               competences=db.session.scalars(select(Competence).order_by(Competence.name)).all(),
               can_edit=can_edit_registries(current_user))
    if htmx and not htmx.boosted:
        return render_block("registries/inspectors.html", "results", **ctx)
    return render_template("registries/inspectors.html", **ctx)


@bp.get("/inspectors/<int:inspector_id>")
@signed_in
def inspector(inspector_id: int):
    """One inspector: certificate, competences, status, recusals and history."""
    insp = db.get_or_404(Inspector, inspector_id)
    require(can_view_inspector(current_user, insp))
    show_recusals = can_view_recusals(current_user)
    recusals = (db.session.scalars(select(Recusal).where(Recusal.inspector_id == insp.id)).all()
                if show_recusals else [])
    return render_template("registries/inspector.html", insp=insp, today=today_shanghai(),
                           reasons=INACTIVE_LABELS, recusals=recusals, show_recusals=show_recusals,
                           history=history("inspector", insp.id),
                           can_edit=can_edit_registries(current_user), error=None, form={})


@bp.get("/me")
@roles(R.INSPECTOR, R.TEAM_LEAD)
def me():
    """An inspector's own pool entry."""
    if not current_user.inspector_id:
        flash(_("Your account is not linked to an inspector-pool entry."), "warning")
        return redirect(url_for("public.home"), 303)
    return redirect(url_for("registries.inspector", inspector_id=current_user.inspector_id), 303)


@bp.route("/inspectors/new", methods=["GET", "POST"])
@roles(R.ADMIN)
def inspector_new():
    """Add an officer to the pool."""
    return _inspector_form(None)


@bp.route("/inspectors/<int:inspector_id>/edit", methods=["GET", "POST"])
@roles(R.ADMIN)
def inspector_edit(inspector_id: int):
    """Change an officer's entry (deactivation needs a reason)."""
    return _inspector_form(db.get_or_404(Inspector, inspector_id))


def _inspector_form(insp: Inspector | None):
    require(can_edit_registries(current_user))
    error = None
    if request.method == "POST":
        try:
            insp = save_inspector(request.form, _ids(request.form.getlist("competence")),
                                  insp)
        except ServiceError as exc:
            error = exc
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("registries.inspector", inspector_id=insp.id), 303)
    if request.method == "POST":
        form, chosen = request.form, set(_ids(request.form.getlist("competence")))
    elif insp:
        form = {"name": insp.name, "cert_no": insp.cert_no, "cert_expiry": insp.cert_expiry.isoformat(),
                "department_id": insp.department_id, "post": insp.post, "phone": insp.phone,
                "active": "1" if insp.active else "0", "inactive_reason": insp.inactive_reason or "",
                "inactive_note": insp.inactive_note}
        chosen = {c.id for c in insp.competences}
    else:
        form, chosen = {"active": "1"}, set()
    return render_template(
        "registries/inspector_form.html", insp=insp, form=form, chosen=chosen, error=error,
        reasons=INACTIVE_LABELS, reason_codes=INACTIVE_REASONS,
        departments=db.session.scalars(select(Department).order_by(Department.name)).all(),
        competences=db.session.scalars(select(Competence).order_by(Competence.name)).all(),
    ), (422 if error else 200)


@bp.post("/inspectors/<int:inspector_id>/recusals")
@roles(R.ADMIN)
def recusal_add(inspector_id: int):
    """Record a recusal pair with its reason."""
    insp = db.get_or_404(Inspector, inspector_id)
    require(can_edit_registries(current_user))
    try:
        add_recusal(insp, request.form.get("uscc", ""), request.form.get("reason", ""))
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Recusal recorded."), "success")
    return redirect(url_for("registries.inspector", inspector_id=insp.id) + "#recusals", 303)


@bp.post("/recusals/<int:recusal_id>/delete")
@roles(R.ADMIN)
def recusal_delete(recusal_id: int):
    """Remove a recusal pair (the trail keeps it)."""
    recusal = db.get_or_404(Recusal, recusal_id)
    require(can_edit_registries(current_user))
    inspector_id = recusal.inspector_id
    remove_recusal(recusal)
    flash(_("Recusal removed."), "success")
    return redirect(url_for("registries.inspector", inspector_id=inspector_id) + "#recusals", 303)
