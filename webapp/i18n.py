"""Locale selection (Chinese first, English on request) and date display in Asia/Shanghai."""
from flask import Flask, has_request_context, request, session
from flask_babel import format_datetime

from .db_types import SHANGHAI


def select_locale() -> str:
    lang = session.get("lang") if has_request_context() else None
    if lang in ("zh_CN", "en"):
        return lang
    return "zh_CN"


def local_dt(value, fmt="yyyy-MM-dd HH:mm") -> str:
    """An aware UTC instant shown in Asia/Shanghai."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(SHANGHAI), fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = local_dt

    @app.context_processor
    def _locale():
        return {"current_lang": select_locale(), "request_path": request.full_path if request else "/"}
