"""Issue #11 point 3: one bad record is refused alone, with its reason, never a 500 for the whole request.

Each bad kind below is posted between two good records: the good ones must be accepted, the bad one
rejected naming the field. Before the limits, several of these failed the whole request with a 500 on
PostgreSQL (a hazard question longer than VARCHAR(60), NUL in text, an id past int4, a uuid of 37
characters with its newline) and others were stored (a value of any size or depth).
"""
import json
import uuid as uuidlib

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.inputs import SYNC_MAX_BODY
from webapp.review.models import Hazard
from webapp.sync.models import SyncRecord
from webapp.sync.schemas import QUESTION_MAX, TEXT_MAX, VALUE_MAX_BYTES, VALUE_MAX_DEPTH
from tests.sync.test_api import answer, field  # noqa: F401  (field: the fixture)


def hazard(task, **data):
    return {"uuid": str(uuidlib.uuid4()), "kind": "hazard", "task_id": task.id, "base_revision": 0,
            "device_time": "2026-11-23T10:00:00+08:00",
            "data": {"question": "Q-1", "grade": "general", "description": "安全出口堵塞", "deadline": "2026-12-31",
                     "photos": [], **data}}


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def _answer(task, **data):
    return answer(task, question=f"Q-{uuidlib.uuid4().hex[:8]}", **data)


def _with(record: dict, **envelope) -> dict:
    return {**record, **envelope}


#: (name, a function of the task making the bad record, the field its error names)
BAD = [
    ("hazard question longer than its column", lambda t: hazard(t, question="Q" * (QUESTION_MAX + 1)), "question"),
    ("answer question longer than its column", lambda t: answer(t, question="Q" * (QUESTION_MAX + 1)), "question"),
    ("NUL in a note", lambda t: _answer(t, note="现场\x00检查"), "note"),
    ("NUL in a hazard's description", lambda t: hazard(t, description="安全出口\x00堵塞"), "description"),
    ("control character in a question", lambda t: answer(t, question="Q\x07-1"), "question"),
    ("lone surrogate in a note", lambda t: _answer(t, note="a\ud800b"), "note"),
    ("note longer than 2000", lambda t: _answer(t, note="字" * (TEXT_MAX + 1)), "note"),
    ("value nested 500 deep", lambda t: _answer(t, value=nested(500)), "value"),
    ("value nested one too deep", lambda t: _answer(t, value=nested(VALUE_MAX_DEPTH + 1)), "value"),
    ("value of more than 4 KB", lambda t: _answer(t, value="x" * (VALUE_MAX_BYTES - 1)), "value"),
    ("NUL inside a value", lambda t: _answer(t, value={"permit": "A\x00"}), "value"),
    ("task id past int4", lambda t: _with(_answer(t), task_id=2**31), "task_id"),
    ("task id past int8", lambda t: _with(_answer(t), task_id=2**64), "task_id"),
    ("base revision past int8", lambda t: _with(_answer(t), base_revision=2**63), "base_revision"),
    ("uuid with a trailing newline", lambda t: _with(_answer(t), uuid=str(uuidlib.uuid4()) + "\n"), "uuid"),
    ("edit id with a trailing newline", lambda t: _with(_answer(t), edit=str(uuidlib.uuid4()) + "\n"), "edit"),
    ("device time that overflows in UTC", lambda t: _with(_answer(t), device_time="9999-12-31T23:00:00-14:00"),
     "device_time"),
    ("deadline in the year 9999", lambda t: hazard(t, deadline="9999-12-31"), "deadline"),
    ("photo hash with a trailing newline", lambda t: hazard(t, photos=["a" * 64 + "\n"]), "photos"),
    ("signature inspector id past int4", lambda t: {"uuid": str(uuidlib.uuid4()), "kind": "signature",
                                                    "task_id": t.id, "base_revision": 0,
                                                    "data": {"role": "inspector", "inspector_id": 2**40,
                                                             "refused": True}}, "inspector_id"),
    ("outcome reason of 5,000 characters", lambda t: {"uuid": str(uuidlib.uuid4()), "kind": "outcome",
                                                      "task_id": t.id, "base_revision": 0,
                                                      "data": {"outcome": "closed", "reason": "x" * 5000}}, "reason"),
]


def _errors_name(errors: dict, name: str) -> bool:
    return name in errors or any(isinstance(v, dict) and name in v for v in errors.values())


@pytest.mark.parametrize("make_bad, field_name", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_one_bad_record_is_rejected_alone_with_a_reason(field, make_bad, field_name):  # noqa: F811
    task = field["task"]
    before, bad, after = _answer(task, result="yes"), make_bad(task), hazard(task)
    resp = field["client"].post("/api/v1/sync", json={"records": [before, bad, after]}, headers=field["tokens"]["a"])
    assert resp.status_code == 200 and resp.is_json, (resp.status_code, resp.get_data(as_text=True)[:300])
    reply = resp.get_json()
    assert sorted(a["uuid"] for a in reply["accepted"]) == sorted([before["uuid"], after["uuid"]])
    [rejected] = reply["rejected"]
    assert rejected["uuid"] == bad["uuid"] and not rejected.get("retry")  # refused for good, not "send again"
    assert _errors_name(rejected["errors"], field_name), rejected["errors"]
    assert all(isinstance(m, str) and m for v in rejected["errors"].values()
               for m in (v if isinstance(v, list) else [x for w in v.values() for x in w]))
    db.session.expire_all()
    assert db.session.get(SyncRecord, before["uuid"]) is not None and db.session.get(SyncRecord, after["uuid"])
    assert db.session.scalar(select(func.count()).select_from(Hazard)) == 1


def test_the_limits_themselves_are_accepted(field):  # noqa: F811
    """The boundaries are inside: a 60-character hazard question, a value of exactly 4 KB and 4 deep,
    a note of 2,000 characters with newlines and tabs."""
    task = field["task"]
    exactly = "x" * (VALUE_MAX_BYTES - 2)  # a JSON string's two quotes make it 4,096 bytes
    lines = "第一行\n\t第二行"
    records = [hazard(task, question="Q" * QUESTION_MAX), _answer(task, value=exactly),
               _answer(task, value=nested(VALUE_MAX_DEPTH)), _answer(task, note=lines + "字" * (TEXT_MAX - len(lines))),
               _answer(task, value={"reading": 20.5, "unit": "%"})]
    reply = field["client"].post("/api/v1/sync", json={"records": records}, headers=field["tokens"]["a"]).get_json()
    assert reply["rejected"] == [] and len(reply["accepted"]) == len(records)


def test_a_record_that_is_not_an_object_or_has_a_non_string_uuid_is_named_null(field):  # noqa: F811
    task = field["task"]
    good = _answer(task)
    reply = field["client"].post("/api/v1/sync", headers=field["tokens"]["a"], json={"records": [
        [], "x", 7, None, _with(_answer(task), uuid={"nested": [1]}), good]}).get_json()
    assert [a["uuid"] for a in reply["accepted"]] == [good["uuid"]]
    assert [r["uuid"] for r in reply["rejected"]] == [None] * 5


def test_a_sync_body_over_the_cap_is_a_json_413_and_nothing_is_applied(app, field, monkeypatch):  # noqa: F811
    task = field["task"]
    monkeypatch.setitem(app.config, "SYNC_MAX_BODY", 20_000)
    records = [_answer(task, note="字" * 1500) for _ in range(10)]  # ~ 50 KB of UTF-8
    resp = field["client"].post("/api/v1/sync", headers=field["tokens"]["a"],
                                data=json.dumps({"records": records}, ensure_ascii=False).encode(),
                                content_type="application/json")
    assert resp.status_code == 413 and resp.is_json
    assert resp.get_json()["error"] == "too_large" and resp.get_json()["limit"] == 20_000
    assert resp.get_json()["message"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SyncRecord)) == 0


def test_the_default_cap_holds_500_records_at_their_limits():
    """docs/sync-api.md: 500 records at their limits fit in SYNC_MAX_BODY as UTF-8 JSON, even in
    four-byte characters; a 50 MB value (the security review's) does not."""
    wide = "😀"  # four bytes in UTF-8
    record = {"uuid": str(uuidlib.uuid4()), "kind": "answer", "task_id": 2**31 - 1, "base_revision": 2**31 - 1,
              "device_time": "2026-11-23T10:00:00.000000+08:00", "edit": str(uuidlib.uuid4()),
              "data": {"question": wide * QUESTION_MAX, "checklist": wide * 120, "result": "yes",
                       "value": wide * (VALUE_MAX_BYTES // 4 - 1), "note": wide * TEXT_MAX, "photos": ["a" * 64] * 20}}
    body = json.dumps({"records": [record] * 500}, ensure_ascii=False).encode()
    assert len(body) < SYNC_MAX_BODY < 50 * 1024 * 1024


def test_a_token_body_over_its_cap_is_a_json_413(app):
    resp = app.test_client().post("/api/v1/token", json={"username": "x" * 20_000, "password": "y"})
    assert resp.status_code == 413 and resp.is_json and resp.get_json()["error"] == "too_large"


@pytest.mark.parametrize("body", [b'{"records": [{"uuid": NaN}]}', b'{"records": Infinity}', b"[" * 100_000,
                                  b'["records"]', b'{"records": {}}'])
def test_a_body_that_is_not_a_list_of_records_is_a_json_400(field, body):  # noqa: F811
    resp = field["client"].post("/api/v1/sync", headers=field["tokens"]["a"], data=body,
                                content_type="application/json")
    assert resp.status_code == 400 and resp.is_json and resp.get_json()["message"]


def test_a_phone_whose_clock_was_reset_still_syncs(field):  # noqa: F811
    """The phone's clock is kept, never used for deadlines: a phone reset to 1970 must not have every
    record refused for good by the limits above."""
    task = field["task"]
    records = [_with(_answer(task), device_time="1970-01-01T00:00:05+08:00"),
               {"uuid": str(uuidlib.uuid4()), "kind": "outcome", "task_id": task.id, "base_revision": 0,
                "device_time": "1970-01-01T00:10:00Z", "data": {"outcome": "completed",
                                                                "submitted_at": "1970-01-01T00:10:00Z"}}]
    reply = field["client"].post("/api/v1/sync", json={"records": records}, headers=field["tokens"]["a"]).get_json()
    assert reply["rejected"] == [] and len(reply["accepted"]) == 2
