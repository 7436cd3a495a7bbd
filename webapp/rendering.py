"""What a template may print: the class-level guard behind issue #12 point 1.

A home page printed ``<built-in method items of dict object at 0x…>`` because a template read
``counts.items`` (a dict method, not the key), and pages printed ``None``, ``True``/``False`` and
UTC instants with microseconds. Jinja passes every ``{{ … }}`` value through ``finalize`` before
output, so the rules live here once instead of in every template:

- a callable (a method or function not called) is a template bug: it raises under testing and
  debug so the test that renders the page fails, and prints nothing in production;
- ``None`` prints as nothing (a missing value is left blank, or the template says 「—」 itself);
- ``True``/``False`` print as 是/否 in the user's language;
- an aware datetime prints in Asia/Shanghai to the minute, like the ``local_dt`` filter.
"""
from datetime import datetime

from flask import Flask, current_app
from flask_babel import gettext as _
from jinja2 import Undefined
from markupsafe import Markup


class TemplateValueError(TypeError):
    """A template tried to print something no person should read."""


def finalize(value):
    if value is None or isinstance(value, Undefined):
        return "" if value is None else value
    if isinstance(value, (str, Markup, int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime) and value.tzinfo is not None:
        from .i18n import local_dt_text  # text: the value may sit in an attribute
        return local_dt_text(value)
    if callable(value) and not hasattr(value, "__html__"):
        if current_app.testing or current_app.debug:
            raise TemplateValueError(f"template printed a callable: {value!r} (a dict key shadowed by a method?)")
        current_app.logger.error("template printed a callable: %r", value)
        return ""
    return value


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = finalize
