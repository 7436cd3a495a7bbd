"""The brigade's and the office's own views (issue #13): the batch summary, the 经验总结 (R23), the
year's compliance dashboard, accountability (R24) and the exports."""
from flask import Blueprint, Flask

bp = Blueprint("brigade", __name__, url_prefix="/brigade")


def init_app(app: Flask) -> None:
    from . import (accountability_routes, dashboard_routes, export_routes, models, report_routes,  # noqa: F401
                   summary_routes)

    app.register_blueprint(bp)
