"""Enforcement documents (issue #5 §5): 现场检查记录, 责令限期整改指令书 and 整改复查意见书 from the synced
records, numbered per bureau and year, as A4 PDFs with an embedded Chinese font."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import routes
    from .services import issued_by_kind

    app.register_blueprint(routes.bp)
    # The review page asks which of a task's documents are issued (a read; issuing is a POST).
    app.add_template_global(issued_by_kind, "issued_documents")
