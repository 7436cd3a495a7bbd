"""Background jobs (issue #13 point 5): rows in the database, run by any worker."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401
