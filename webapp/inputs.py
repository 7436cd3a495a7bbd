"""Odd input is refused at the door, centrally, never a server error (issue #11 point 13).

- ``<int:…>`` in a URL takes 0 … 2**31 - 1 only, the range of the database's integer columns: an id
  above it (PostgreSQL overflows at 2**31, SQLite at 2**63) is a 404 like any id that does not exist.
- A NUL byte or a lone surrogate anywhere in the path, the query string, the form (names, values, file
  names) or a JSON body is a 400: PostgreSQL refuses NUL in text and a surrogate cannot be encoded. The
  sync upload is the exception: its schema refuses such a record alone (issue #11 point 3).
- JSON bodies: ``NaN`` and ``Infinity`` (not JSON) and nesting too deep for the parser are invalid
  JSON, hence a 400 where a view asks for JSON, never a 500.
- The sync API's bodies are capped (``SYNC_MAX_BODY``, ``TOKEN_MAX_BODY``); a larger one is a 413, in
  JSON like every API answer (docs/sync-api.md, "Limits").
- ``int_arg`` reads an id from the query string or a form: a value that is not a whole number in range
  is None, so filters never hand the database a number it cannot hold.

``tests/test_fuzz_routes.py`` tries every route with such values.
"""
import json
import math
from datetime import date

from flask import Flask, abort, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, ValidationError

#: The largest value of the database's INTEGER columns (PostgreSQL int4; SQLite's are wider).
DB_INT_MAX = 2**31 - 1


class DbIntConverter(IntegerConverter):
    """``<int:…>`` limited to the database's integer range (ids, years); a longer number never reaches
    ``int()`` (Python refuses to convert more than 4,300 digits)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=DB_INT_MAX if max is None else max,
                         signed=signed)

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-")) > len(str(DB_INT_MAX)) or not value.lstrip("-").isascii():
            raise ValidationError()
        return super().to_python(value)


def int_arg(value, low: int = 0, high: int = DB_INT_MAX) -> int | None:
    """A whole number in ``low … high`` written in ASCII digits, else None (a filter then ignores it).

    ``"²".isdigit()`` is true yet ``int("²")`` fails, and ``int("9" * 20)`` overflows the database: use
    this, not ``isdigit()`` and ``int()``, for ids from a query string or a form."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > 12 or not text.isascii() or not text.lstrip("-").isdigit():
        return None
    number = int(text)
    return number if low <= number <= high else None


#: Dates people enter (deadlines, calendar days, beacon times) lie in these years: date arithmetic on
#: 9999-12-31 or 0001-01-01 (a deadline plus days, a time zone shift) overflows.
YEAR_MIN, YEAR_MAX = 2000, 2099


def date_arg(value) -> date:
    """An ISO date (``YYYY-MM-DD``) in YEAR_MIN … YEAR_MAX; ValueError otherwise, as ``date.fromisoformat``."""
    day = date.fromisoformat(str(value or "").strip())
    if not YEAR_MIN <= day.year <= YEAR_MAX:
        raise ValueError(f"{day} is out of range")
    return day


def int_args(values) -> list[int]:
    """The values of a multi-valued field (``getlist``) that ``int_arg`` reads as ids, in order."""
    return [n for n in map(int_arg, values) if n is not None]


def bad_text(value: str) -> bool:
    """NUL, or a lone surrogate (which cannot be encoded as UTF-8)."""
    return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)


class StrictJSONProvider(DefaultJSONProvider):
    """``json.loads`` that refuses what JSON does not allow (NaN, Infinity) and turns nesting deeper than
    the parser's recursion limit into a ValueError, which Flask answers as invalid JSON (400)."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _no_constant)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def finite_json(value, depth: int = 0, max_depth: int = 32) -> bool:
    """True if ``value`` holds no NaN or infinite number and nests at most ``max_depth`` deep."""
    if depth > max_depth:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_json(v, depth + 1, max_depth) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v, depth + 1, max_depth) for v in value)
    return True


#: JSON bodies whose strings are checked per record (one bad record is refused alone, issue #11 point 3).
PER_RECORD = {"api.upload"}


def _json_texts(value) -> list[str]:
    """Every string in a parsed JSON body, keys included."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


#: Body caps per endpoint (bytes), defaults of the config keys named in BODY_LIMITS: a sync batch of 500
#: records at their limits is under 8 MB (webapp/sync/schemas.py); sign-in needs a few hundred bytes.
SYNC_MAX_BODY = 8 * 1024 * 1024
TOKEN_MAX_BODY = 16 * 1024
BODY_LIMITS = {"api.upload": "SYNC_MAX_BODY", "api.issue": "TOKEN_MAX_BODY"}


def init_app(app: Flask) -> None:
    """Register before the blueprints (the converter applies to rules as they are added) and before the
    access check (garbage is refused before anything reads it)."""
    app.url_map.converters["int"] = DbIntConverter
    app.json = StrictJSONProvider(app)
    app.config.setdefault("SYNC_MAX_BODY", SYNC_MAX_BODY)
    app.config.setdefault("TOKEN_MAX_BODY", TOKEN_MAX_BODY)

    @app.before_request
    def _refuse_odd_input():
        limit = BODY_LIMITS.get(request.endpoint or "")
        if limit:
            request.max_content_length = app.config[limit]
        texts = [request.path, *(t for pair in request.args.items(multi=True) for t in pair)]
        # The sync API takes JSON only: its schemas check the strings (webapp/sync/schemas.py).
        if request.blueprint != "api" and request.method in ("POST", "PUT", "PATCH", "DELETE") and \
                request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            texts += [t for pair in request.form.items(multi=True) for t in pair]
            texts += [t for key, upload in request.files.items(multi=True) for t in (key, upload.filename or "")]
        if request.is_json and request.endpoint not in PER_RECORD:
            texts += _json_texts(request.get_json(silent=True))
        if any(bad_text(t) for t in texts):
            abort(400, description=_("The request contains a character that is not allowed (a NUL byte)."))
        return None

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        """413: in JSON on the sync API (every answer there is JSON), naming the limit."""
        if request.blueprint != "api":
            return exc
        limit = request.max_content_length or 0
        response = jsonify({"error": "too_large", "limit": limit, "message": _(
            "The request is larger than the server takes (%(n)s KB); nothing of it was stored.", n=limit // 1024)})
        response.status_code = 413
        return response
