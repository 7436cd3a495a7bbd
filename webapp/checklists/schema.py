"""The checklist file format (docs/checklist-format.md), enforced with marshmallow."""
import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
QUESTION_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
ANSWERS = ("choice", "number", "text")
GRADES = ("major", "general")


class SourceSchema(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    document_no = fields.String(required=True, validate=validate.Length(min=1, max=100))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)


class QuestionSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(QUESTION_ID))
    item = fields.String(required=True, validate=validate.Length(min=1, max=40))
    text = fields.String(required=True, validate=validate.Length(min=1))
    #: R16: every question states the article it rests on.
    basis = fields.String(required=True, validate=validate.Length(min=1))
    answer = fields.String(required=True, validate=validate.OneOf(ANSWERS))
    unit = fields.String(load_default=None, allow_none=True)
    photo_required = fields.Boolean(load_default=False)
    hazard_grade = fields.String(required=True, validate=validate.OneOf(GRADES))
    hint = fields.String(load_default="")


class ChecklistSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Regexp(CODE))
    version = fields.String(required=True, validate=validate.Length(min=1, max=40))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_en = fields.String(load_default="")
    source = fields.Nested(SourceSchema, required=True)
    competences = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    applies_to = fields.String(load_default="")
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(min=1))

    @validates("questions")
    def unique_ids(self, value, **kwargs):
        ids = [q["id"] for q in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValidationError(f"duplicate question ids: {', '.join(dupes)}")

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        src = data.get("source") or {}
        if src.get("valid_to") and src["valid_to"] < src["valid_from"]:
            raise ValidationError("source.valid_to is before source.valid_from")
