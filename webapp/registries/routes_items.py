"""随机抽查事项清单: the item list and its versions."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sqlalchemy import select

from .. import roles as R
from ..access import require, roles
from ..extensions import db
from ..services import ServiceError
from .blueprint import bp
from .items import item_list, random_share
from .models import Department, InspectionItem
from .policy import can_edit_registries
from .services import save_item_version
from .vocab import METHOD_LABELS


@bp.get("/items")
@roles(*R.STAFF)
def items():
    """The current item list with the R7 share of random-check items."""
    rows = item_list()
    random_n, total, r7_ok = random_share(rows)
    return render_template("registries/items.html", items=rows, methods=METHOD_LABELS, random_n=random_n,
                           total=total, r7_ok=r7_ok, can_edit=can_edit_registries(current_user))


@bp.get("/items/<int:item_id>")
@roles(*R.STAFF)
def item(item_id: int):
    """An item with every version it had."""
    return render_template("registries/item.html", item=db.get_or_404(InspectionItem, item_id),
                           methods=METHOD_LABELS, can_edit=can_edit_registries(current_user))


@bp.route("/items/new", methods=["GET", "POST"])
@roles(R.ADMIN)
def item_new():
    """Add an item to the list."""
    return _item_form(None)


@bp.route("/items/<int:item_id>/version", methods=["GET", "POST"])
@roles(R.ADMIN)
def item_version(item_id: int):
    """Change an item: this makes a new version; the old text stays."""
    return _item_form(db.get_or_404(InspectionItem, item_id))


def _item_form(item: InspectionItem | None):
    require(can_edit_registries(current_user))
    error = None
    if request.method == "POST":
        try:
            item = save_item_version(request.form, item)
        except ServiceError as exc:
            error = exc
        else:
            flash(_("Saved as version %(n)d.", n=item.latest_version), "success")
            return redirect(url_for("registries.item", item_id=item.id), 303)
    if request.method == "POST":
        form = request.form
    elif item:
        v = item.current
        form = {"department_id": v.department_id, "name": v.name, "legal_basis": v.legal_basis,
                "content": v.content, "method": v.method, "is_random": "1" if v.is_random else "",
                "valid_from": "", "valid_to": v.valid_to.isoformat() if v.valid_to else ""}
    else:
        form = {"is_random": "1", "method": "onsite"}
    return render_template("registries/item_form.html", item=item, form=form, error=error, methods=METHOD_LABELS,
                           departments=db.session.scalars(select(Department).order_by(Department.name)).all()
                           ), (422 if error else 200)
