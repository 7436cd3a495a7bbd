"""Reference data: departments, townships (乡镇/街道) and competences."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import roles as R
from ..access import roles
from ..extensions import db
from ..services import ServiceError
from .blueprint import bp
from .models import Competence, Department, Enterprise, Inspector, Region
from .services import save_competence, save_department, save_region
from .vocab import DEPARTMENT_KIND_LABELS


@bp.get("/reference")
@roles(*R.STAFF)
def reference():
    """Departments, townships and competences, with how much uses each."""
    ent_counts = dict(db.session.execute(select(Enterprise.region_id, func.count()).group_by(Enterprise.region_id)).all())
    insp_counts = dict(db.session.execute(select(Inspector.department_id, func.count())
                                          .group_by(Inspector.department_id)).all())
    return render_template(
        "registries/reference.html", kinds=DEPARTMENT_KIND_LABELS, ent_counts=ent_counts, insp_counts=insp_counts,
        departments=db.session.scalars(select(Department).order_by(Department.name)).all(),
        regions=db.session.scalars(select(Region).order_by(Region.code)).all(),
        competences=db.session.scalars(select(Competence).order_by(Competence.name)).all())


@bp.post("/reference/<kind>")
@roles(R.ADMIN)
def reference_add(kind: str):
    """Add a department, township or competence."""
    form = request.form
    savers = {"department": lambda: save_department(form.get("name", ""), form.get("kind", "")),
              "region": lambda: save_region(form.get("code", ""), form.get("name", "")),
              "competence": lambda: save_competence(form.get("name", ""))}
    if kind not in savers:
        return ("", 404)
    try:
        savers[kind]()
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("registries.reference") + f"#{kind}", 303)
