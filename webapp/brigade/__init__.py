"""The brigade's and the office's own views (issue #13): the batch summary, the 经验总结 (R23), the
year's compliance dashboard, accountability (R24) and the exports."""
from flask import Blueprint, Flask

bp = Blueprint("brigade", __name__, url_prefix="/brigade")


def init_app(app: Flask) -> None:
    import importlib

    from . import models  # noqa: F401
    # Each part registers its routes on ``bp``; a part not written yet is simply absent.
    for name in ("summary_routes", "report_routes", "dashboard_routes", "accountability_routes", "export_routes"):
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    app.register_blueprint(bp)
