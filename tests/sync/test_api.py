"""The sync API as a phone uses it: token, tasks, idempotent records, conflicts, resumable photos."""
import hashlib
import io
import uuid as uuidlib

import pytest
from PIL import Image
from sqlalchemy import select

from webapp import roles as R
from webapp.audit.services import history
from webapp.draws import ceremony
from webapp.extensions import db
from webapp.sync import photos as photo_store
from webapp.sync.models import Photo, SyncRecord
from webapp.tasks.models import Task
from tests.factories import PASSWORD, make_drawn, make_inspector, make_user


@pytest.fixture
def field(ctx, app):
    """A drawn batch; two users who are members of the first task's group, and one who is not."""
    for k in range(4):
        make_inspector(name=f"检查员{k}")
    _plan, _batch, draw = make_drawn(n_enterprises=6, sample=3)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched").order_by(Task.id))
    a, b = [m.inspector_id for m in task.active_members]
    outsider = next(i for i in (draw.roster[c]["pk"] for c in draw.roster) if i not in (a, b))
    users = {"a": make_user(R.INSPECTOR, "phone-a", inspector_id=a), "b": make_user(R.INSPECTOR, "phone-b", inspector_id=b),
             "x": make_user(R.INSPECTOR, "outsider", inspector_id=outsider)}
    client = app.test_client()
    tokens = {}
    for key, user in users.items():
        resp = client.post("/api/v1/token", json={"username": user.username, "password": PASSWORD, "device": key})
        assert resp.status_code == 200, resp.get_json()
        tokens[key] = {"Authorization": "Bearer " + resp.get_json()["token"]}
    return {"client": client, "task": task, "draw": draw, "tokens": tokens, "users": users}


def answer(task, question="Q-1", result="yes", uid=None, base=0, **extra):
    checklist = f"{task.checklists[0]['code']}@{task.checklists[0]['version']}"
    return {"uuid": uid or str(uuidlib.uuid4()), "kind": "answer", "task_id": task.id, "base_revision": base,
            "device_time": "2026-11-23T10:00:00+08:00",
            "data": {"question": question, "checklist": checklist, "result": result, **extra}}


def post(field, who, records):
    resp = field["client"].post("/api/v1/sync", json={"records": records}, headers=field["tokens"][who])
    assert resp.status_code == 200 and resp.is_json
    return resp.get_json()


def test_token_login_is_json_and_only_for_field_roles(app, ctx, users):
    client = app.test_client()
    wrong = client.post("/api/v1/token", json={"username": "inspector", "password": "nope"})
    assert wrong.status_code == 401 and wrong.is_json and wrong.get_json()["message"]
    lead = client.post("/api/v1/token", json={"username": R.BRIGADE_LEAD, "password": PASSWORD})
    assert lead.status_code == 403
    ok = client.post("/api/v1/token", json={"username": R.INSPECTOR, "password": PASSWORD})
    assert ok.status_code == 200 and len(ok.get_json()["token"]) > 30
    bad = client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401 and bad.is_json and "重新登录" in bad.get_json()["message"]


def test_the_phone_downloads_only_its_tasks_with_checklists(field):
    client, task = field["client"], field["task"]
    mine = client.get("/api/v1/tasks", headers=field["tokens"]["a"]).get_json()
    ids = [t["id"] for t in mine["tasks"]]
    assert task.id in ids
    got = next(t for t in mine["tasks"] if t["id"] == task.id)
    assert got["enterprise"]["uscc"] == task.uscc and got["checklists"][0]["questions"][0]["id"] == "Q-1"
    theirs = client.get("/api/v1/tasks", headers=field["tokens"]["x"]).get_json()
    assert task.id not in [t["id"] for t in theirs["tasks"]]


def test_records_are_idempotent_and_revisioned(field):
    task = field["task"]
    rec = answer(task)
    first = post(field, "a", [rec])
    assert first["accepted"] == [{"uuid": rec["uuid"], "revision": 1, "duplicate": False, "conflict": False,
                                  "reassigned": False}]
    again = post(field, "a", [rec])  # a lost response: the phone sends it again
    assert again["accepted"][0]["duplicate"] and again["accepted"][0]["revision"] == 1
    edited = answer(task, result="no", uid=rec["uuid"], base=1)
    assert post(field, "a", [edited])["accepted"][0]["revision"] == 2
    stale = answer(task, result="na", uid=rec["uuid"], base=1)
    conflict = post(field, "a", [stale])["conflicts"][0]
    assert conflict["server"]["revision"] == 2 and conflict["server"]["data"]["result"] == "no"
    assert db.session.scalar(select(db.func.count()).select_from(SyncRecord)) == 1
    assert [e.action for e in history("sync_record", rec["uuid"])] == ["sync.answer.create", "sync.answer.update"]


def test_a_bad_record_is_rejected_in_chinese_and_the_rest_kept(field):
    task = field["task"]
    good, bad = answer(task), answer(task, question="Q-2", result="maybe")
    reply = post(field, "a", [good, bad, {"kind": "nonsense"}])
    assert [a["uuid"] for a in reply["accepted"]] == [good["uuid"]]
    errors = reply["rejected"][0]["errors"]["result"][0]
    assert "符合" in errors and reply["rejected"][0]["uuid"] == bad["uuid"]
    assert len(reply["rejected"]) == 2


def test_two_phones_merge_per_question_and_flag_disagreement(field):
    task = field["task"]
    post(field, "a", [answer(task, "Q-1", "yes"), answer(task, "Q-2", "no")])
    reply = post(field, "b", [answer(task, "Q-1", "yes"), answer(task, "Q-2", "yes")])
    flags = {r["uuid"]: r["conflict"] for r in reply["accepted"]}
    assert list(flags.values()) == [False, True]
    q2 = db.session.scalars(select(SyncRecord).where(SyncRecord.question == "Q-2")).all()
    assert len(q2) == 2 and all(r.conflict for r in q2)  # both kept, for the team lead


def test_work_of_a_former_member_is_kept_and_flagged(field):
    task, draw = field["task"], field["draw"]
    code = next(c for c, p in draw.roster.items() if p["pk"] == field["users"]["a"].inspector_id)
    ceremony.substitute(draw, "inspector", task.uscc, code, "调岗")
    reply = post(field, "a", [answer(task)])
    assert reply["accepted"][0]["reassigned"] is True


def test_someone_who_never_held_the_task_is_refused(field):
    reply = post(field, "x", [answer(field["task"])])
    assert reply["accepted"] == [] and "从未分配" in reply["rejected"][0]["errors"]["task_id"][0]


def _jpeg(size=(64, 48), gps=True) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the thumbnail must come out upright
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def put(field, data: bytes, sha=None, start=0, total=None):
    sha = sha or hashlib.sha256(data).hexdigest()
    headers = dict(field["tokens"]["a"])
    if total is not None:
        headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{total}"
    return field["client"].put(f"/api/v1/photos/{sha}", data=data, headers=headers)


def test_photos_are_checked_stored_by_hash_and_resumable(field, app):
    data = _jpeg()
    sha = hashlib.sha256(data).hexdigest()
    half = len(data) // 2
    assert put(field, data[:half], sha, 0, len(data)).status_code == 202
    status = field["client"].get(f"/api/v1/photos/{sha}", headers=field["tokens"]["a"]).get_json()
    assert status == {"stored": False, "offset": half}
    wrong = put(field, data[half + 5:], sha, half + 5, len(data))
    assert wrong.status_code == 409 and wrong.get_json()["offset"] == half
    assert put(field, data[half:], sha, half, len(data)).status_code == 201
    photo = db.session.get(Photo, sha)
    assert photo.width == 64 and round(photo.lat, 1) == 39.9  # GPS kept for the evidence record
    assert photo_store.original_path(sha).read_bytes() == data
    with Image.open(photo_store.thumb_path(sha)) as thumb:
        assert thumb.size[1] > thumb.size[0]  # orientation applied
        assert not thumb.getexif()  # nothing private in what is shown
    assert put(field, data).status_code == 200  # already held: skipped


def test_bad_photos_are_refused_with_a_reason(field):
    fake = b"this is a text file renamed to photo.jpg"
    resp = put(field, fake)
    assert resp.status_code == 422 and "图像" in resp.get_json()["message"]
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, "PNG")  # 48 Mpx, tiny file: a decompression bomb
    resp = put(field, bomb.getvalue())
    assert resp.status_code == 422 and "像素" in resp.get_json()["message"]
    mismatch = put(field, _jpeg(), sha="0" * 64)
    assert mismatch.status_code == 409 and mismatch.get_json()["offset"] == 0  # garbled in transit: again
    assert db.session.scalar(select(db.func.count()).select_from(Photo)) == 0


def test_a_record_waits_for_its_photo(field):
    task = field["task"]
    data = _jpeg(gps=False)
    sha = hashlib.sha256(data).hexdigest()
    rec = answer(task, photos=[sha])
    early = post(field, "a", [rec])
    assert early["rejected"][0]["retry"] is True
    assert put(field, data).status_code == 201
    assert post(field, "a", [rec])["accepted"][0]["revision"] == 1
