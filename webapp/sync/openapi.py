"""OpenAPI 3.1 description of the sync API (served at /api/v1/openapi.json)."""
from .schemas import DATA_SCHEMAS
from .services import MAX_RECORDS

RECORD_KINDS = sorted(DATA_SCHEMAS)

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "双随机 inspection sync API", "version": "1",
             "description": "Phones upload records under their own UUIDs with the revision they edited; "
                            "see docs/sync-api.md."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Record": {"type": "object", "required": ["uuid", "kind", "task_id", "base_revision", "data"],
                       "additionalProperties": False, "properties": {
                           "uuid": {"type": "string", "format": "uuid"},
                           "kind": {"enum": RECORD_KINDS},
                           "task_id": {"type": "integer"},
                           "base_revision": {"type": "integer", "minimum": 0},
                           "device_time": {"type": "string", "format": "date-time"},
                           "edit": {"type": "string", "format": "uuid",
                                    "description": "the phone's id of this edit; returned as edit_id in a conflict"},
                           "data": {"type": "object"}}},
            "SyncReply": {"type": "object", "properties": {
                "accepted": {"type": "array", "items": {"type": "object", "properties": {
                    "uuid": {"type": "string"}, "revision": {"type": "integer"}, "duplicate": {"type": "boolean"},
                    "conflict": {"type": "boolean"}, "reassigned": {"type": "boolean"}}}},
                "conflicts": {"type": "array", "items": {"type": "object", "properties": {
                    "uuid": {"type": "string"}, "server": {"type": "object", "properties": {
                        "revision": {"type": "integer"}, "data": {"type": "object"},
                        "edit_id": {"type": ["string", "null"]}, "inspector_id": {"type": ["integer", "null"]}}}}}},
                "rejected": {"type": "array", "items": {"type": "object", "properties": {
                    "uuid": {"type": ["string", "null"]}, "retry": {"type": "boolean"},
                    "errors": {"type": "object"}}}}}},
            "Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        },
    },
    "paths": {
        "/api/v1/token": {"post": {
            "summary": "Sign in (username, password, device) for a 30-day bearer token",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "username": {"type": "string"}, "password": {"type": "string"}, "device": {"type": "string"}}}}}},
            "responses": {"200": {"description": "token"}, "401": {"description": "wrong credentials or throttled",
                                                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
        "/api/v1/tasks": {"get": {"security": [{"bearer": []}], "summary": "The caller's tasks to take offline",
                                  "responses": {"200": {"description": "tasks"}, "401": {"description": "sign in again"}}}},
        "/api/v1/sync": {"post": {
            "security": [{"bearer": []}], "summary": "Upload records; each is accepted, a conflict or rejected",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "records": {"type": "array", "maxItems": MAX_RECORDS, "items": {"$ref": "#/components/schemas/Record"}}}}}}},
            "responses": {"200": {"description": "per-record outcome",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncReply"}}}},
                          "401": {"description": "sign in again; nothing was applied"}}}},
        "/api/v1/photos/{sha256}": {
            "get": {"security": [{"bearer": []}], "summary": "Stored, or the offset to resume at",
                    "parameters": [{"name": "sha256", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "{stored, offset}"}}},
            "put": {"security": [{"bearer": []}], "summary": "The photo or a piece (Content-Range: bytes a-b/total)",
                    "parameters": [{"name": "sha256", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"201": {"description": "stored"}, "202": {"description": "piece kept; offset"},
                                  "409": {"description": "wrong offset; resume at the offset given"},
                                  "422": {"description": "not a valid image (reason in Chinese)"}}}},
    },
}
