"""OpenAPI 3.1 description of the sync API (served at /api/v1/openapi.json).

Each record kind's ``data`` is described from its marshmallow schema (webapp/sync/schemas.py), so the
required fields, lengths, patterns (a photo's SHA-256, UUIDs, no control characters), ranges and enums
stated here are the ones the server enforces (issue #11 points 3 and 13). tests/sync/test_schemathesis.py
runs schemathesis over this document against the app.
"""
from marshmallow import fields, validate

from ..inputs import SYNC_MAX_BODY, TOKEN_MAX_BODY
from .schemas import (DATA_SCHEMAS, DAY_MAX, DAY_MIN, SHA_PATTERN, TIME_MAX, TIME_MIN, VALUE_MAX_BYTES,
                      VALUE_MAX_DEPTH, Chars, Fullmatch, JsonValue, RecordSchema)
from .services import MAX_RECORDS

RECORD_KINDS = sorted(DATA_SCHEMAS)


def field_schema(field: fields.Field) -> dict:
    """The JSON Schema of one marshmallow field, with its validators' limits."""
    if isinstance(field, JsonValue):
        return {"description": f"any JSON value: at most {VALUE_MAX_BYTES} bytes as compact UTF-8 JSON, nested "
                               f"at most {VALUE_MAX_DEPTH} deep, strings without control characters other than "
                               "newline and tab, numbers finite",
                "x-max-bytes": VALUE_MAX_BYTES, "x-max-depth": VALUE_MAX_DEPTH}
    if isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, fields.Float):
        out = {"type": "number"}
    elif isinstance(field, fields.AwareDateTime):
        out = {"type": "string", "format": "date-time",
               "description": f"with its time zone, {TIME_MIN:%Y-%m-%d} to {TIME_MAX:%Y-%m-%d} (UTC)"}
    elif isinstance(field, fields.Date):
        out = {"type": "string", "format": "date", "description": f"{DAY_MIN} to {DAY_MAX}"}
    elif isinstance(field, fields.Dict):
        out = {"type": "object"}
    else:
        out = {"type": "string"}
    for rule in field.validators:
        if isinstance(rule, validate.Length):
            key = "Items" if out["type"] == "array" else "Length"
            if rule.min:
                out[f"min{key}"] = rule.min
            if rule.max is not None:
                out[f"max{key}"] = rule.max
        elif isinstance(rule, validate.OneOf):
            out["enum"] = list(rule.choices)
        elif isinstance(rule, validate.Range) and out["type"] in ("integer", "number"):
            if rule.min is not None:
                out["minimum"] = rule.min
            if rule.max is not None:
                out["maximum"] = rule.max
        elif isinstance(rule, Fullmatch):
            out["pattern"] = rule.pattern
        elif isinstance(rule, Chars) and "pattern" not in out:
            out["pattern"] = rule.pattern
    if field.allow_none:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"].append(None)
    return out


def object_schema(schema_class) -> dict:
    """A marshmallow schema as a closed JSON Schema object with its required fields."""
    declared = schema_class._declared_fields
    out = {"type": "object", "additionalProperties": False,
           "properties": {name: field_schema(f) for name, f in declared.items()}}
    required = [name for name, f in declared.items() if f.required]
    if required:
        out["required"] = required
    return out


def _record(kind: str) -> dict:
    """A record of one kind: the envelope with its kind fixed and that kind's data."""
    out = object_schema(RecordSchema)
    out["properties"] = {**out["properties"], "kind": {"const": kind},
                         "data": {"$ref": f"#/components/schemas/{kind.capitalize()}Data"}}
    out["title"] = f"{kind} record"
    return out


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


BAD_REQUEST = _error("a body that is not what this operation takes (not JSON, JSON of another shape, or a "
                     "NUL byte anywhere in the request); nothing was applied")
UNAUTHORISED = _error("no token, or an expired or revoked one: sign in again; nothing was applied, and the "
                      "phone keeps everything")
FORBIDDEN = _error("this account may not use the inspection app")
SERVER_FAILED = _error("the server failed: nothing of this request was kept; send it again")
PHOTO_STATE = {"type": "object", "required": ["stored"],
               "properties": {"stored": {"type": "boolean"}, "offset": {"type": "integer", "minimum": 0}}}
SHA_PARAMETER = [{"name": "sha256", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": SHA_PATTERN}}]


def _too_large(limit: int) -> dict:
    return _error(f"the body is larger than {limit // 1024} KB (the answer names the limit in bytes as `limit`); "
                  "nothing was applied")


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "双随机 inspection sync API", "version": "1",
             "description": "Phones upload records under their own UUIDs with the revision they edited; "
                            "see docs/sync-api.md. Every answer, errors included, is JSON. A record that breaks "
                            "the Record schema below is refused alone, in `rejected` with its reasons per field, "
                            "while the others of the request are applied."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Record": {"oneOf": [{"$ref": f"#/components/schemas/{kind.capitalize()}Record"} for kind in RECORD_KINDS]},
            **{f"{kind.capitalize()}Record": _record(kind) for kind in RECORD_KINDS},
            **{f"{kind.capitalize()}Data": object_schema(DATA_SCHEMAS[kind]) for kind in RECORD_KINDS},
            "SyncReply": {"type": "object", "required": ["accepted", "conflicts", "rejected"], "properties": {
                "accepted": {"type": "array", "items": {
                    "type": "object", "required": ["uuid", "revision", "duplicate", "conflict", "reassigned"],
                    "properties": {"uuid": {"type": "string"}, "revision": {"type": "integer", "minimum": 1},
                                   "duplicate": {"type": "boolean"}, "conflict": {"type": "boolean"},
                                   "reassigned": {"type": "boolean"}}}},
                "conflicts": {"type": "array", "items": {"type": "object", "required": ["uuid", "server"], "properties": {
                    "uuid": {"type": "string"}, "server": {"type": "object", "properties": {
                        "revision": {"type": "integer"}, "data": {"type": "object"},
                        "edit_id": {"type": ["string", "null"]}, "inspector_id": {"type": ["integer", "null"]}}}}}},
                "rejected": {"type": "array", "items": {"type": "object", "required": ["uuid", "errors"], "properties": {
                    "uuid": {"type": ["string", "null"],
                             "description": "the record's uuid as sent when it was a string, else null"},
                    "retry": {"type": "boolean", "description": "send it again later (a photo not uploaded yet, "
                                                                "a batch over the limit)"},
                    "frozen": {"type": "string", "description": "the review state that froze the task"},
                    "errors": {"$ref": "#/components/schemas/Errors"}}}}}},
            "Errors": {"type": "object", "description": "messages in Chinese per field; a record's data nests its "
                                                        "fields' messages under `data`' names",
                       "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}},
                                                          {"$ref": "#/components/schemas/Errors"}]}},
            "Error": {"type": "object", "required": ["error", "message"],
                      "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                     "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
        },
    },
    "paths": {
        "/api/v1/token": {"post": {
            "summary": "Sign in (username, password, device) for a 30-day bearer token",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["username", "password"], "properties": {
                    "username": {"type": "string", "maxLength": 80}, "password": {"type": "string", "maxLength": 1024},
                    "device": {"type": "string", "maxLength": 120},
                    "device_key": {"type": "string", "description": "from an earlier sign-in on this phone"}}}}}},
            "responses": {"200": _json("token", {"type": "object", "required": ["token", "expires_at", "user"],
                                                 "properties": {"token": {"type": "string"},
                                                                "expires_at": {"type": "string", "format": "date-time"},
                                                                "device_key": {"type": ["string", "null"]},
                                                                "user": {"type": "object"}}}),
                          "400": BAD_REQUEST,
                          "401": _error("wrong credentials"),
                          "403": FORBIDDEN,
                          "413": _too_large(TOKEN_MAX_BODY),
                          "429": _error("too many attempts: wait (Retry-After) and try again"),
                          "500": SERVER_FAILED}}},
        "/api/v1/tasks": {"get": {
            "security": [{"bearer": []}], "summary": "The caller's tasks to take offline",
            "responses": {"200": _json("tasks", {"type": "object", "required": ["tasks", "withdrawn"], "properties": {
                              "server_time": {"type": "string", "format": "date-time"},
                              "withdrawn": {"type": "array", "items": {"type": "integer"}},
                              "withdrawn_review": {"type": "object", "additionalProperties": {"type": "string"},
                                                   "description": "review state of each withdrawn task, by id"},
                              "tasks": {"type": "array", "items": {"type": "object"}}}}),
                          "401": UNAUTHORISED, "403": FORBIDDEN, "500": SERVER_FAILED}}},
        "/api/v1/sync": {"post": {
            "security": [{"bearer": []}], "summary": "Upload records; each is accepted, a conflict or rejected",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["records"], "properties": {
                    "records": {"type": "array", "maxItems": MAX_RECORDS,
                                "description": f"at most {MAX_RECORDS}; more are refused with retry",
                                "items": {"$ref": "#/components/schemas/Record"}}}}}}},
            "responses": {"200": _json("per-record outcome", {"$ref": "#/components/schemas/SyncReply"}),
                          "400": BAD_REQUEST, "401": UNAUTHORISED, "403": FORBIDDEN,
                          "413": _too_large(SYNC_MAX_BODY), "500": SERVER_FAILED}}},
        "/api/v1/photos/{sha256}": {
            "get": {"security": [{"bearer": []}], "summary": "Stored, or the offset to resume at",
                    "parameters": SHA_PARAMETER,
                    "responses": {"200": _json("{stored, offset}", PHOTO_STATE),
                                  "400": _error("not a SHA-256 (64 lowercase hex characters)"),
                                  "401": UNAUTHORISED, "403": FORBIDDEN, "500": SERVER_FAILED}},
            "put": {"security": [{"bearer": []}], "summary": "The photo or a piece (Content-Range: bytes a-b/total)",
                    "parameters": SHA_PARAMETER,
                    "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                        "format": "binary"}}}},
                    "responses": {"200": _json("already stored", PHOTO_STATE), "201": _json("stored", PHOTO_STATE),
                                  "202": _json("piece kept; offset", PHOTO_STATE),
                                  "400": _error("not a SHA-256 (64 lowercase hex characters)"),
                                  "401": UNAUTHORISED, "403": FORBIDDEN,
                                  "409": _error("wrong offset; resume at the offset given"),
                                  "413": _error("larger than the server takes"),
                                  "429": _error("too many unfinished uploads: try again later"),
                                  "422": _error("not a valid image (reason in Chinese)"), "500": SERVER_FAILED}}},
    },
}
