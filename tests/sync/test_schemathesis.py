"""Issue #11 point 13: schemathesis over the sync API's own OpenAPI document, through the WSGI app.

Every operation of /api/v1/openapi.json gets data generated from the document, both valid (positive)
and schema-breaking (negative), sent with a member's bearer token. It fails on any 5xx, an undocumented
status, a wrong content type or a response that breaks its documented schema. Half the records are
pointed at the member's real task, so the generated data reaches the merge, the hazard register and the
database, not only "no such task". Bounded: a fixed number of examples per operation, derandomized so CI
sees the same ones each run. Run it on PostgreSQL too (TEST_DATABASE_URL).
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from webapp.sync.openapi import SPEC
from tests.sync.test_api import field  # noqa: F401  (the fixture: a drawn task, its members' tokens)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
OPERATIONS = [(path, method.upper()) for path, item in SPEC["paths"].items() for method in item]
#: Examples per operation and generation mode; the sync upload, the one that parses most, gets more.
EXAMPLES = {"/api/v1/sync": 100}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_the_sync_api_keeps_to_its_openapi_document(app, field, path, method, mode):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    task_id = field["task"].id
    checklist = f"{field['task'].checklists[0]['code']}@{field['task'].checklists[0]['version']}"
    auth = field["tokens"]["a"]

    @settings(max_examples=EXAMPLES.get(path, 25), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), aim=st.lists(st.booleans(), max_size=8))
    def run(case, aim):
        records = case.body.get("records") if isinstance(case.body, dict) else None
        for record, real in zip(records if isinstance(records, list) else [], aim):
            if real and isinstance(record, dict):
                _aim(record, task_id, checklist)
        response = case.call(headers=auth)
        case.validate_response(response, checks=CHECKS)

    run()


def _aim(record: dict, task_id: int, checklist: str) -> None:
    """Make a generated record one the server can apply (the member's task, its checklist, no photo still
    to upload, times and dates it takes), keeping every generated string, number and value: these are the
    ones that must reach the database, the merge and the audit trail without a 5xx."""
    record.update(task_id=task_id, base_revision=0)
    if "device_time" in record:
        record["device_time"] = "2026-11-23T10:00:00+08:00"
    data = record.get("data")
    if not isinstance(data, dict):
        return
    if record.get("kind") == "answer":
        data["checklist"] = checklist
    for key, value in (("photos", []), ("submitted_at", "2026-11-23T11:00:00+08:00"), ("deadline", "2026-12-31"),
                       ("inspector_id", None)):
        if key in data:
            data[key] = value
    if record.get("kind") == "signature":
        data.update(image=None, refused=True)
