"""Locale selection (Chinese first, English on request) and date display in Asia/Shanghai."""
from datetime import datetime

from flask import Flask, has_request_context, request, session
from flask_babel import format_datetime
from markupsafe import Markup

from .db_types import SHANGHAI


def select_locale() -> str:
    lang = session.get("lang") if has_request_context() else None
    if lang in ("zh_CN", "en"):
        return lang
    return "zh_CN"


def local_dt_text(value, fmt="yyyy-MM-dd HH:mm") -> str:
    """An aware UTC instant shown in Asia/Shanghai, as plain text (CSV, PDF, mail, attributes)."""
    if value is None:
        return ""
    return format_datetime(value.astimezone(SHANGHAI), fmt)


def local_dt(value, fmt="yyyy-MM-dd HH:mm") -> Markup:
    """The same, for a page: a <time> element, which the style sheet never breaks inside, so a date
    does not wrap mid-number on a phone (issue #12 point 9)."""
    if value is None:
        return Markup("")
    moment = value.astimezone(SHANGHAI)
    return Markup('<time datetime="%s">%s</time>') % (moment.isoformat(timespec="minutes"),
                                                     format_datetime(moment, fmt))


def local_date(value) -> Markup:
    """A calendar day (or an instant's day in Asia/Shanghai) for a page, as a <time> element."""
    if value is None:
        return Markup("")
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    if not hasattr(value, "isoformat"):  # already text (a form's value): shown as given
        return value
    return Markup('<time datetime="%s">%s</time>') % (value.isoformat(), value.isoformat())


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["local_dt_text"] = local_dt_text
    app.jinja_env.filters["local_date"] = local_date

    @app.context_processor
    def _locale():
        return {"current_lang": select_locale(), "request_path": request.full_path if request else "/"}
