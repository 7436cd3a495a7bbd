"""Publication of results (R20, "一公开"): versioned results in the national categories and the public search."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import routes
    from .models import CATEGORY_LABELS

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["result_categories"] = CATEGORY_LABELS
