"""The sync API's records, validated with marshmallow; every message a phone may show is Chinese
(translated), naming the field. docs/sync-api.md and /api/v1/openapi.json describe the same shapes."""
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

SHA = validate.Regexp(r"^[0-9a-f]{64}$", error=_l("not a photo's SHA-256"))
UUID = validate.Regexp(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                       error=_l("not a UUID"))
MESSAGES = {"required": _l("required field is missing"), "null": _l("may not be empty"),
            "invalid": _l("invalid value"), "unknown": _l("unknown field")}


def _f(cls, *args, **kw):
    return cls(*args, error_messages={**MESSAGES, **kw.pop("error_messages", {})}, **kw)


def text(limit: int):
    return _f(fields.String, load_default=None,
              validate=validate.Length(max=limit, error=_l("longer than %(n)d characters", n=limit)))


def photos():
    return _f(fields.List, _f(fields.String, validate=SHA), load_default=list,
              validate=validate.Length(max=20, error=_l("at most 20 photos")))


class Strict(Schema):
    class Meta:
        unknown = "raise"
        error_messages = {"unknown": _l("unknown field"), "type": _l("invalid value")}


class CheckinData(Strict):
    lat = _f(fields.Float, load_default=None, validate=validate.Range(-90, 90, error=_l("out of range")))
    lng = _f(fields.Float, load_default=None, validate=validate.Range(-180, 180, error=_l("out of range")))
    accuracy_m = _f(fields.Float, load_default=None)


class AnswerData(Strict):
    question = _f(fields.String, required=True, validate=validate.Length(min=1, max=60))
    checklist = _f(fields.String, required=True, validate=validate.Length(min=3, max=120))
    result = _f(fields.String, load_default=None, validate=validate.OneOf(
        ["yes", "no", "na"], error=_l("must be yes (符合), no (不符合) or na (不涉及)")))
    value = _f(fields.Raw, load_default=None)
    note = text(2000)
    photos = photos()


class HazardData(Strict):
    question = _f(fields.String, load_default=None)
    grade = _f(fields.String, required=True, validate=validate.OneOf(
        ["general", "major"], error=_l("must be general (一般) or major (重大事故隐患)")))
    description = _f(fields.String, required=True, validate=validate.Length(
        min=2, max=2000, error=_l("describe the hazard (2 to 2000 characters)")))
    deadline = _f(fields.Date, load_default=None)
    photos = photos()


#: R17 and the outcomes that end an inspection early.
OUTCOMES = ("completed", "non_cooperation", "closed", "not_found")
R17_REASONS = ("refused_entry", "refused_materials", "false_materials", "obstruction")


class OutcomeData(Strict):
    outcome = _f(fields.String, required=True, validate=validate.OneOf(OUTCOMES, error=_l("unknown outcome")))
    reason = _f(fields.String, load_default=None)
    note = text(2000)
    #: The phone's time of (re)submission: submitting again after a return is a new revision.
    submitted_at = _f(fields.AwareDateTime, load_default=None)

    @validates_schema
    def _r17(self, data, **kw):
        if data["outcome"] == "non_cooperation" and data.get("reason") not in R17_REASONS:
            raise ValidationError(_l("non-cooperation needs one of the R17 reasons"), "reason")


class SignatureData(Strict):
    role = _f(fields.String, required=True, validate=validate.OneOf(["inspector", "enterprise"]))
    name = text(60)
    inspector_id = _f(fields.Integer, load_default=None, strict=True)
    refused = _f(fields.Boolean, load_default=False)
    image = _f(fields.String, load_default=None, validate=SHA)

    @validates_schema
    def _signed_or_refused(self, data, **kw):
        if not data.get("refused") and not data.get("image"):
            raise ValidationError(_l("a signature image, or record that the person refused to sign"), "image")


class ClosureData(Strict):
    hazard = _f(fields.String, required=True, validate=UUID)
    rectified = _f(fields.Boolean, required=True)
    note = text(2000)
    photos = photos()


DATA_SCHEMAS = {"checkin": CheckinData, "answer": AnswerData, "hazard": HazardData, "outcome": OutcomeData,
                "signature": SignatureData, "closure": ClosureData}


class RecordSchema(Strict):
    uuid = _f(fields.String, required=True, validate=UUID)
    kind = _f(fields.String, required=True, validate=validate.OneOf(sorted(DATA_SCHEMAS), error=_l("unknown kind")))
    task_id = _f(fields.Integer, required=True, strict=True)
    base_revision = _f(fields.Integer, required=True, strict=True, validate=validate.Range(min=0))
    device_time = _f(fields.AwareDateTime, load_default=None)
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


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)
