"""Home page, the public item list and error pages."""
from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from .. import roles as R
from ..access import public
from ..extensions import db
from ..registries.models import Enterprise, InspectionItem, Inspector
from ..registries.items import item_list, random_share
from ..registries.vocab import METHOD_LABELS

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    """The public landing page, or a signed-in user's overview."""
    counts = {}
    if current_user.is_authenticated and current_user.role in R.STAFF:
        counts = {
            "enterprises": db.session.scalar(select(func.count()).select_from(Enterprise)),
            "operating": db.session.scalar(select(func.count()).where(Enterprise.status == "operating")),
            "inspectors": db.session.scalar(select(func.count()).where(Inspector.active.is_(True))),
            "items": db.session.scalar(select(func.count()).select_from(InspectionItem)),
        }
    return render_template("public/home.html", counts=counts, role_labels=R.LABELS)


@bp.get("/public/items")
@public
def items():
    """随机抽查事项清单 as published: current version of each item (R1)."""
    rows = item_list()
    random_n, total, r7_ok = random_share(rows)
    return render_template("public/items.html", items=rows, methods=METHOD_LABELS, random_n=random_n, total=total,
                           r7_ok=r7_ok)


@bp.get("/healthz")
@public
def health():
    """Liveness and database reachability for the load balancer."""
    db.session.execute(select(1))
    return {"status": "ok"}


def forbidden(error):
    return render_template("errors/403.html"), 403


def not_found(error):
    return render_template("errors/404.html"), 404
