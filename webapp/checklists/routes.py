"""Checklists for reading: public, since they only restate published standards (照单)."""
from flask import Blueprint, render_template
from sqlalchemy import select

from ..access import public
from ..db_types import today_shanghai
from ..extensions import db
from ..registries.models import InspectionItem
from .models import ChecklistVersion

bp = Blueprint("checklists", __name__, url_prefix="/checklists")


@bp.get("/")
@public
def index():
    """Every checklist version, current ones first."""
    rows = db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.code,
                                                                ChecklistVersion.valid_from.desc())).all()
    return render_template("checklists/index.html", checklists=rows, today=today_shanghai())


@bp.get("/<int:checklist_id>")
@public
def show(checklist_id: int):
    """One checklist version with every question, its legal basis and hint."""
    cv = db.get_or_404(ChecklistVersion, checklist_id)
    codes = {q["item"] for q in cv.questions}
    items = {i.code: i for i in db.session.scalars(select(InspectionItem).where(InspectionItem.code.in_(codes)))}
    return render_template("checklists/show.html", cv=cv, items=items, today=today_shanghai())
