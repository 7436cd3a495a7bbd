"""The sync API's records, validated with marshmallow; every message a phone may show is Chinese
(translated), naming the field. docs/sync-api.md and /api/v1/openapi.json describe the same shapes (the
OpenAPI document is made from these fields: webapp/sync/openapi.py).

Issue #11 point 3: every field has a length, character and depth limit matching the database, so a bad
record is rejected alone with its reason instead of failing the whole request on the database: a
``question`` longer than its column (60), a NUL byte (PostgreSQL refuses it in text), a lone surrogate
(no UTF-8 for it), an id past the integer columns (2**31 - 1), a date whose arithmetic overflows, a
``value`` of 50 MB or nested 500 deep.
"""
import json
import math
import unicodedata
from datetime import date, datetime, timezone

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..inputs import DB_INT_MAX, YEAR_MAX, YEAR_MIN

#: JSON Schema (ECMA-262) patterns, stated in the OpenAPI document; Python checks the same with fullmatch
#: (``$`` in a Python pattern also matches before a final newline: "…\n" passed as a uuid of 37 characters).
SHA_PATTERN = "^[0-9a-f]{64}$"
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#: No control characters on one line; free text may also hold newlines and tabs (and no lone surrogates).
LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$"

#: An answer's ``value`` (a measurement, a permit number): at most this many bytes as compact UTF-8 JSON,
#: nested at most VALUE_MAX_DEPTH deep (a scalar is 0, ``[1]`` is 1). Docs: docs/sync-api.md, "Limits".
VALUE_MAX_BYTES = 4096
VALUE_MAX_DEPTH = 4
#: Free text (notes, a hazard's description) and the one-line fields, in characters.
TEXT_MAX = 2000
QUESTION_MAX = 60  #: sync_record.question and hazard.question are VARCHAR(60)
#: A deadline the inspector enters: date arithmetic on 9999-12-31 (a link's expiry after it) overflows.
DAY_MIN, DAY_MAX = date(YEAR_MIN, 1, 1), date(YEAR_MAX, 12, 31)
#: The phone's clock (``device_time``, ``submitted_at``) is kept, not used, and may be wrong (a phone reset
#: to 1970): any time is taken except one whose shift to UTC overflows (year 1 or 9999).
TIME_MIN = datetime(1900, 1, 1, tzinfo=timezone.utc)
TIME_MAX = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)

MESSAGES = {"required": _l("required field is missing"), "null": _l("may not be empty"),
            "invalid": _l("invalid value"), "unknown": _l("unknown field"), "type": _l("invalid value"),
            "too_large": _l("out of range"), "special": _l("invalid value"),
            "invalid_awareness": _l("give the time with its time zone"), "format": _l("invalid value")}


def _f(cls, *args, **kw):
    return cls(*args, error_messages={**MESSAGES, **kw.pop("error_messages", {})}, **kw)


class Chars(validate.Validator):
    """No NUL or other control characters (free text: newline and tab allowed), no lone surrogates."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline
        self.pattern = TEXT_PATTERN if multiline else LINE_PATTERN

    def __call__(self, value: str) -> str:
        allowed = "\n\t" if self.multiline else ""
        for ch in value:
            if (unicodedata.category(ch) in ("Cc", "Cs")) and ch not in allowed:
                raise ValidationError(str(_l("contains a control character (U+%(code)04X)", code=ord(ch))))
        return value


class Fullmatch(validate.Validator):
    """The whole string matches (a Regexp validator's ``$`` lets a final newline through)."""

    def __init__(self, pattern: str, error):
        import re
        self.pattern, self.error = pattern, error
        self._regex = re.compile(pattern.removeprefix("^").removesuffix("$"))

    def __call__(self, value: str) -> str:
        if not self._regex.fullmatch(value):
            raise ValidationError(str(self.error))
        return value


SHA = Fullmatch(SHA_PATTERN, _l("not a photo's SHA-256"))
UUID = Fullmatch(UUID_PATTERN, _l("not a UUID"))


def _length(low: int, high: int):
    if low:
        return validate.Length(min=low, max=high, error=_l("%(a)d to %(b)d characters", a=low, b=high))
    return validate.Length(max=high, error=_l("longer than %(n)d characters", n=high))


def line(limit: int, low: int = 0, **kw):
    """One line of at most ``limit`` characters, no control characters."""
    if not kw.get("required"):
        kw.setdefault("load_default", None)
    return _f(fields.String, validate=[_length(low, limit), Chars()], **kw)


def text(limit: int = TEXT_MAX, low: int = 0, **kw):
    """Free text of at most ``limit`` characters: newlines and tabs, no other control characters."""
    if not kw.get("required"):
        kw.setdefault("load_default", None)
    return _f(fields.String, validate=[_length(low, limit), Chars(multiline=True)], **kw)


def db_int(low: int = 1, **kw):
    """A whole number (not 1.0, not "1") that the database's integer columns hold."""
    return _f(fields.Integer, strict=True, validate=validate.Range(low, DB_INT_MAX, error=_l("out of range")), **kw)


def photos():
    return _f(fields.List, _f(fields.String, validate=SHA), load_default=list,
              validate=validate.Length(max=20, error=_l("at most 20 photos")))


class JsonValue(fields.Raw):
    """Any JSON value, at most VALUE_MAX_BYTES as compact JSON and VALUE_MAX_DEPTH deep, its strings (and
    keys) free of control characters other than newline and tab, its numbers finite."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not _shallow(value, VALUE_MAX_DEPTH):
            raise ValidationError(str(_l("nested more than %(n)d deep", n=VALUE_MAX_DEPTH)))
        for item in _leaves(value):
            if isinstance(item, float) and not math.isfinite(item):
                raise ValidationError(str(_l("invalid value")))
            if isinstance(item, str):
                Chars(multiline=True)(item)
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
        if size > VALUE_MAX_BYTES:
            raise ValidationError(str(_l("larger than %(n)d bytes", n=VALUE_MAX_BYTES)))
        return value


def _shallow(value, depth: int) -> bool:
    if isinstance(value, (dict, list)):
        if depth == 0:
            return False
        return all(_shallow(v, depth - 1) for v in (value.values() if isinstance(value, dict) else value))
    return True


def _leaves(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


class Strict(Schema):
    class Meta:
        unknown = "raise"
        error_messages = {"unknown": _l("unknown field"), "type": _l("invalid value")}


class CheckinData(Strict):
    lat = _f(fields.Float, load_default=None, validate=validate.Range(-90, 90, error=_l("out of range")))
    lng = _f(fields.Float, load_default=None, validate=validate.Range(-180, 180, error=_l("out of range")))
    accuracy_m = _f(fields.Float, load_default=None, validate=validate.Range(0, 1_000_000, error=_l("out of range")))


class AnswerData(Strict):
    question = line(QUESTION_MAX, 1, required=True)
    checklist = line(120, 3, required=True)
    result = _f(fields.String, load_default=None, validate=validate.OneOf(
        ["yes", "no", "na"], error=_l("must be yes (符合), no (不符合) or na (不涉及)")))
    value = _f(JsonValue, load_default=None, allow_none=True)
    note = text()
    photos = photos()


class HazardData(Strict):
    question = line(QUESTION_MAX)
    grade = _f(fields.String, required=True, validate=validate.OneOf(
        ["general", "major"], error=_l("must be general (一般) or major (重大事故隐患)")))
    description = _f(fields.String, required=True, validate=[validate.Length(
        min=2, max=TEXT_MAX, error=_l("describe the hazard (2 to 2000 characters)")), Chars(multiline=True)])
    deadline = _f(fields.Date, load_default=None, validate=validate.Range(DAY_MIN, DAY_MAX, error=_l("out of range")))
    photos = photos()


#: R17 and the outcomes that end an inspection early.
OUTCOMES = ("completed", "non_cooperation", "closed", "not_found")
R17_REASONS = ("refused_entry", "refused_materials", "false_materials", "obstruction")


class OutcomeData(Strict):
    outcome = _f(fields.String, required=True, validate=validate.OneOf(OUTCOMES, error=_l("unknown outcome")))
    reason = line(40)
    note = text()
    #: The phone's time of (re)submission: submitting again after a return is a new revision.
    submitted_at = _f(fields.AwareDateTime, load_default=None,
                      validate=validate.Range(TIME_MIN, TIME_MAX, error=_l("out of range")))

    @validates_schema
    def _r17(self, data, **kw):
        if data["outcome"] == "non_cooperation" and data.get("reason") not in R17_REASONS:
            raise ValidationError(_l("non-cooperation needs one of the listed serious circumstances"), "reason")


class SignatureData(Strict):
    role = _f(fields.String, required=True, validate=validate.OneOf(
        ["inspector", "enterprise"], error=_l("must be inspector or enterprise")))
    name = line(60)
    inspector_id = db_int(load_default=None)
    refused = _f(fields.Boolean, load_default=False)
    image = _f(fields.String, load_default=None, validate=SHA)

    @validates_schema
    def _signed_or_refused(self, data, **kw):
        if not data.get("refused") and not data.get("image"):
            raise ValidationError(_l("a signature image, or record that the person refused to sign"), "image")


class ClosureData(Strict):
    hazard = _f(fields.String, required=True, validate=UUID)
    rectified = _f(fields.Boolean, required=True)
    note = text()
    photos = photos()


DATA_SCHEMAS = {"checkin": CheckinData, "answer": AnswerData, "hazard": HazardData, "outcome": OutcomeData,
                "signature": SignatureData, "closure": ClosureData}


class RecordSchema(Strict):
    uuid = _f(fields.String, required=True, validate=UUID)
    kind = _f(fields.String, required=True, validate=validate.OneOf(sorted(DATA_SCHEMAS), error=_l("unknown kind")))
    task_id = db_int(required=True)
    base_revision = db_int(0, required=True)
    device_time = _f(fields.AwareDateTime, load_default=None,
                     validate=validate.Range(TIME_MIN, TIME_MAX, error=_l("out of range")))
    #: The phone's id of this edit (one per intent): lets the phone recognise its own earlier revision.
    edit = _f(fields.String, load_default=None, validate=UUID)
    data = _f(fields.Dict, required=True)


# One instance each, made once: a schema holds no per-load state, and building one (it deep-copies its
# fields) cost more than loading a record.
_RECORD = RecordSchema()
_DATA = {kind: schema() for kind, schema in DATA_SCHEMAS.items()}


def load_record(raw) -> tuple[dict | None, dict]:
    """(the record with its data validated, {}) or (None, {field: [messages]}) with plain strings."""
    try:
        record = _RECORD.load(raw if isinstance(raw, dict) else {})
        record["data"] = _DATA[record["kind"]].load(record["data"])
        return record, {}
    except ValidationError as exc:
        return None, _plain(exc.messages)


def echo_uuid(raw) -> str | None:
    """The uuid a refused record is named by in the reply: its own when it is a string (the phone finds the
    record by it, even a malformed one), else None; never an object or a number sent in its place."""
    uuid = raw.get("uuid") if isinstance(raw, dict) else None
    return uuid if isinstance(uuid, str) else None


def _plain(value):
    """Messages per field as lists of plain strings (a lazy message raised alone becomes a list of one)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) if isinstance(v, (dict, list)) else [str(v)] for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)
