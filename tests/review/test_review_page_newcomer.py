"""Issue #12 point 8: the team lead no longer approves blind. The review page shows the inspection's photos
as thumbnails that open at full size (to those who may see the task, and nobody else), flags what is
missing or in question at the top (unanswered questions, differing records, signatures, check-in), puts
the decision there, and asks before approving with questions unanswered. Point 4 for the review pages:
labels, names and local times, never rule ids or raw codes."""
import hashlib
import io
import re
import uuid as uuidlib

import pytest
from PIL import Image
from sqlalchemy import select

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.registries.models import Department
from webapp.review import services
from webapp.review.models import Hazard
from webapp.sync import photos as photo_store
from webapp.sync.services import sync
from webapp.tasks.models import Task
from tests.factories import login, make_drawn, make_inspector, make_item, make_user, member_user

CHECKLIST = """code: review-list
version: "1"
title: 审核测试检查表
source: {title: 测试标准, document_no: 测试令第1号, valid_from: 2023-05-15}
competences: [危化]
questions:
  - {id: Q-1, item: GM-GEN-01, text: 安全出口是否保持畅通？, basis: 第一条, answer: choice, hazard_grade: general}
  - {id: Q-2, item: GM-GEN-01, text: 配电箱是否可靠接地？, basis: 第二条, answer: choice, hazard_grade: major}
  - {id: Q-3, item: GM-GEN-01, text: 是否建立安全生产责任制？, basis: 第三条, answer: choice, hazard_grade: general}
  - {id: Q-4, item: GM-GEN-01, text: 特种作业人员是否持证上岗？, basis: 第四条, answer: choice, hazard_grade: general}
  - {id: Q-5, item: GM-GEN-01, text: 是否开展应急演练？, basis: 第五条, answer: choice, hazard_grade: general}
"""
UNANSWERED = ("是否建立安全生产责任制？", "特种作业人员是否持证上岗？", "是否开展应急演练？")


def jpeg(colour, size=(1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def upload(user, data: bytes) -> str:
    """A photo as the phone's upload stores it (every check of photos.inspect_image), sent by ``user``."""
    sha = hashlib.sha256(data).hexdigest()
    photo_store.store(sha, data, photo_store.inspect_image(data), user.id)
    return sha


def rec(task, kind, data, when="2026-11-23T10:00:00.123456+08:00"):
    return {"uuid": str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": 0,
            "device_time": when, "data": data}


def answer(task, question, result, photos=()):
    return rec(task, "answer", {"question": question, "checklist": "review-list@1", "result": result,
                                "photos": list(photos)})


def build_inspection() -> dict:
    """A submitted inspection of five questions: two answered (with photos), Q-1 answered differently by
    the two phones, three unanswered; a major hazard at Q-2 with its photo; one inspector's signature;
    the enterprise's and the other inspector's missing. Also used by tests/browser/test_review_phone.py."""
    from webapp.checklists.loader import load_documents

    make_item("GM-GEN-01")
    report = load_documents([("review-list@1.yaml", CHECKLIST.encode())])
    assert not report.errors, report.errors
    for k in range(4):
        make_inspector(name=f"检查员{k}")
    _plan, _batch, draw = make_drawn(n_enterprises=6, sample=3)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched")
                             .order_by(Task.id))
    assert [c["code"] for c in task.checklists] == ["review-list"]
    a, b = member_user(task, 0, "phone-a"), member_user(task, 1, "phone-b")
    brigade = db.session.scalar(select(Department).where(Department.name == "综合行政执法大队"))
    lead = make_user(R.TEAM_LEAD, "lead", department_id=brigade.id)
    shas = {"exit": upload(a, jpeg((200, 60, 40))), "box": upload(a, jpeg((40, 60, 200))),
            "hazard": upload(a, jpeg((240, 200, 20))), "signature": upload(a, jpeg((250, 250, 250), (320, 120)))}
    out = sync(a, [rec(task, "checkin", {"lat": 35.5, "lng": 112.8}),
                   answer(task, "Q-1", "yes", [shas["exit"]]), answer(task, "Q-2", "no", [shas["box"]]),
                   rec(task, "hazard", {"question": "Q-2", "grade": "major", "description": "配电箱未接地",
                                        "deadline": "2026-12-20", "photos": [shas["hazard"]]}),
                   rec(task, "signature", {"role": "inspector", "inspector_id": a.inspector_id,
                                           "image": shas["signature"]})])
    assert not out["rejected"], out
    assert not sync(b, [answer(task, "Q-1", "na")])["rejected"]  # differs from phone A: a conflict
    assert not sync(a, [rec(task, "outcome", {"outcome": "completed"})])["rejected"]
    db.session.refresh(task)
    assert task.review_state == "submitted"
    return {"task": task, "a": a, "b": b, "lead": lead, "shas": shas,
            "hazard": db.session.scalar(select(Hazard).where(Hazard.task_id == task.id))}


@pytest.fixture
def inspection(ctx):
    return build_inspection()


def _page(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _visible(html: str) -> str:
    """The page's text as read on screen: tags, attributes (tooltips may cite an article) and comments out."""
    body = re.sub(r"<!--.*?-->|<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", "", body)


class Got:
    """A response read whole and closed (a served file keeps its handle open until then)."""

    def __init__(self, resp):
        with resp:
            self.status_code, self.mimetype, self.headers = resp.status_code, resp.mimetype, resp.headers
            self.location, self.data = resp.location, resp.get_data()


def fetch(client, url) -> Got:
    return Got(client.get(url))


def test_the_lead_sees_thumbnails_that_open_the_photo_at_full_size(inspection, client):
    task, shas = inspection["task"], inspection["shas"]
    login(client, "lead")
    page = _page(client, f"/review/{task.id}")
    for name in ("exit", "box", "hazard"):
        thumb, full = f"/review/{task.id}/photos/{shas[name]}", f"/review/{task.id}/photos/{shas[name]}/full"
        # Each thumbnail is inside a link to the photo at full size.
        assert re.search(rf'<a [^>]*href="{re.escape(full)}"[^>]*><img [^>]*src="{re.escape(thumb)}"', page), name
        small = fetch(client, thumb)
        assert small.status_code == 200 and small.mimetype == "image/jpeg"
        assert "private" in small.headers["Cache-Control"] and "public" not in small.headers["Cache-Control"]
        assert max(Image.open(io.BytesIO(small.data)).size) <= 480
        big = fetch(client, full)
        assert big.status_code == 200 and big.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(big.data)).size == (1600, 1200)
        assert hashlib.sha256(big.data).hexdigest() == shas[name]  # the photo itself, as taken
    # The inspector's signature shows as an image too, labelled in words.
    assert f"/review/{task.id}/photos/{shas['signature']}" in page
    assert "照片 1 张" not in page  # no longer a count in place of the photo


def test_nobody_else_gets_the_photos(inspection, app):
    task, shas, a = inspection["task"], inspection["shas"], inspection["a"]
    office = db.session.scalar(select(Department).where(Department.name == "危险化学品安全监督管理股"))
    make_user(R.TEAM_LEAD, "otherlead", department_id=office.id)  # another department's team lead
    urls = [f"/review/{task.id}/photos/{shas['box']}", f"/review/{task.id}/photos/{shas['box']}/full"]
    other = app.test_client()
    login(other, "otherlead")
    assert other.get(f"/review/{task.id}").status_code == 403
    for url in urls:
        resp = fetch(other, url)
        assert resp.status_code == 403 and not resp.mimetype.startswith("image/")
    public = app.test_client()  # not signed in
    for url in urls:
        resp = fetch(public, url)
        assert resp.status_code in (302, 403, 404) and not resp.mimetype.startswith("image/")
        if resp.status_code == 302:
            assert "/login" in resp.location
    inspector = app.test_client()  # a member of the group, but the review pages are staff's
    login(inspector, "phone-a")
    assert fetch(inspector, urls[1]).status_code == 403
    # The lead reaches a photo only through the task whose records cite it: not another task's by its hash.
    elsewhere = db.session.scalar(select(Task).where(Task.draw_pk == task.draw_pk, Task.id != task.id,
                                                     Task.status == "dispatched").order_by(Task.id))
    stranger = member_user(elsewhere, 0, "phone-c") if elsewhere.active_members[0].inspector_id != a.inspector_id \
        else member_user(elsewhere, 1, "phone-c")
    secret = upload(stranger, jpeg((10, 10, 10)))
    assert not sync(stranger, [answer(elsewhere, "Q-1", "yes", [secret])])["rejected"]
    lead = app.test_client()
    login(lead, "lead")
    assert fetch(lead, f"/review/{task.id}/photos/{secret}").status_code == 404
    assert fetch(lead, f"/review/{task.id}/photos/{secret}/full").status_code == 404
    assert fetch(lead, f"/review/{task.id}/photos/{'0' * 64}/full").status_code == 404
    assert fetch(lead, f"/review/{task.id}/photos/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_a_lost_thumbnail_is_made_again_once_from_the_original(inspection, client):
    task, sha = inspection["task"], inspection["shas"]["exit"]
    path = photo_store.thumb_path(sha)
    path.unlink()
    login(client, "lead")
    resp = fetch(client, f"/review/{task.id}/photos/{sha}")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert path.exists() and path.read_bytes() == resp.data  # cached on disk, under the same address
    assert not list(path.parent.glob(".*.tmp"))  # written atomically: no temporary left behind
    # An original that no longer passes the upload checks gives no thumbnail (and no error page).
    bad = "f" * 64
    photo_store.original_path(bad).parent.mkdir(parents=True, exist_ok=True)
    photo_store.original_path(bad).write_bytes(b"not an image")
    assert photo_store.thumbnail(bad) is None and not photo_store.thumb_path(bad).exists()


def test_what_is_missing_is_flagged_at_the_top(inspection, client):
    task, a, b = inspection["task"], inspection["a"], inspection["b"]
    login(client, "lead")
    page = _page(client, f"/review/{task.id}")
    summary = page[page.index('id="review-summary"'):page.index('id="decision"')]
    assert "3 个检查项未作答" in summary
    for text in UNANSWERED:  # listed by their text, near the top
        assert text in summary
    assert "安全出口是否保持畅通？" not in summary  # answered (differently, but answered)
    assert 'id="flag-conflicts"' in summary and "1 处记录不一致" in summary
    other_name = next(m.inspector.name for m in task.active_members if m.inspector_id == b.inspector_id)
    assert f"缺少检查人员签名：{other_name}" in summary
    assert "没有企业负责人签名" in summary
    assert "无人现场签到" not in summary  # phone A checked in
    assert "已答 2 / 5 项" in summary


def test_the_decision_comes_before_the_findings(inspection, client):
    task, hazard = inspection["task"], inspection["hazard"]
    login(client, "lead")
    page = _page(client, f"/review/{task.id}")
    decision = page.index(f'action="/review/{task.id}/approve"')
    assert decision < page.index(f'action="/review/{task.id}/return"')
    for finding in ('id="answers"', f'id="hazard-{hazard.id}"', 'id="conflict-Q-1"', 'id="signatures"'):
        assert decision < page.index(finding), finding
    assert page.index('id="review-summary"') < page.index('id="flag-unanswered"') < decision
    # The return form is beside it, and no longer below the feedback form.
    assert page.index(f'action="/review/{task.id}/return"') < page.index('id="answers"')


def test_approving_with_questions_unanswered_asks_first(inspection, client):
    task, lead = inspection["task"], inspection["lead"]
    login(client, "lead")
    # A difference between the phones is settled first, as before (the button says so and is disabled).
    page = _page(client, f"/review/{task.id}")
    assert re.search(r'<button type="submit"\s+disabled>审核通过</button>', page)
    client.post(f"/review/{task.id}/approve", data={"confirm_unanswered": "1"})
    db.session.refresh(task)
    assert task.review_state == "submitted"
    kept = next(r for r in services.conflicts_of(task.id)["Q-1"] if r.data["result"] == "yes")
    client.post(f"/review/{task.id}/resolve", data={"question": "Q-1", "uuid": kept.uuid})
    assert services.conflicts_of(task.id) == {}
    # The form asks for the confirmation, saying what is missing.
    page = _page(client, f"/review/{task.id}")
    confirm = page[page.index('id="confirm-unanswered"'):]
    confirm = confirm[:confirm.index("</label>")]
    assert 'name="confirm_unanswered"' in confirm and "required" in confirm
    assert "3 个检查项未作答" in confirm and "缺少企业负责人签名" in confirm
    # Without it, nothing is approved and the lead is told why.
    resp = client.post(f"/review/{task.id}/approve", follow_redirects=True)
    db.session.refresh(task)
    assert task.review_state == "submitted"
    assert "3 个检查项未作答" in resp.get_data(as_text=True)
    # With it, approved; the audit entry names the questions approved unanswered.
    client.post(f"/review/{task.id}/approve", data={"confirm_unanswered": "1"})
    db.session.refresh(task)
    assert task.review_state == "approved" and task.reviewed_by == lead.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "task.approve"))
    assert all(q in entry.after for q in ("Q-3", "Q-4", "Q-5")) and "Q-1" not in entry.after


def test_a_fully_answered_inspection_needs_no_confirmation(inspection, client):
    task, a = inspection["task"], inspection["a"]
    services.return_for_correction(task, inspection["lead"], "请补全检查项")
    assert not sync(a, [answer(task, q, "yes") for q in ("Q-3", "Q-4", "Q-5")])["rejected"]
    kept = next(r for r in services.conflicts_of(task.id)["Q-1"] if r.data["result"] == "yes")
    services.resolve_conflict(task, "Q-1", kept.uuid, inspection["lead"])
    outcome = db.session.scalar(select(services.SyncRecord).where(services.SyncRecord.task_id == task.id,
                                                                  services.SyncRecord.kind == "outcome"))
    assert not sync(a, [{**rec(task, "outcome", {"outcome": "completed", "submitted_at": "2026-11-24T09:00:00+08:00"}),
                         "uuid": outcome.uuid, "base_revision": outcome.revision}])["rejected"]
    db.session.refresh(task)
    assert task.review_state == "submitted" and services.unanswered_questions(task) == []
    login(client, "lead")
    page = _page(client, f"/review/{task.id}")
    assert 'name="confirm_unanswered"' not in page and 'id="flag-unanswered"' not in page
    client.post(f"/review/{task.id}/approve")
    db.session.refresh(task)
    assert task.review_state == "approved"


def test_the_review_page_shows_labels_names_and_local_times(inspection, client):
    task, a = inspection["task"], inspection["a"]
    login(client, "lead")
    page = _page(client, f"/review/{task.id}")
    text = _visible(page)
    a_name = next(m.inspector.name for m in task.active_members if m.inspector_id == a.inspector_id)
    assert f"检查人员签名：{a_name}" in text
    assert "(inspector)" not in text and "签名 (" not in text
    assert not re.search(r"\bR\d{1,2}\b", text)  # rule ids stay in code, tests and docs
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+|T\d{2}:\d{2}", text)  # no ISO times, no microseconds
    assert "手机时间：2026-11-23 10:00" in text  # the phone's clock, labelled, in Asia/Shanghai
    assert "服务器收到：" in text
    for raw in ("None", "True", "False", "completed", "review-list@1", "inspector_id", "yes", "na"):
        assert not re.search(rf"\b{re.escape(raw)}\b", text), raw
    assert "符合" in text and "不符合" in text and "配电箱是否可靠接地？" in text  # the question's text, not only Q-2


def test_the_hazard_page_shows_its_photos_its_question_and_the_closure(inspection, client):
    task, hazard, shas, a, lead = (inspection[k] for k in ("task", "hazard", "shas", "a", "lead"))
    login(client, "lead")
    page = _page(client, f"/hazards/{hazard.id}")
    assert "配电箱是否可靠接地？" in page  # the question it was found at, by its text
    full = f"/review/{task.id}/photos/{shas['hazard']}/full"
    assert f'href="{full}"' in page and fetch(client, full).status_code == 200
    # The photo taken at its question (the phone's hazard form has no camera) shows beside it too.
    assert f'href="/review/{task.id}/photos/{shas["box"]}/full"' in page
    assert f'href="/review/{task.id}/photos/{shas["exit"]}/full"' not in page  # another question's photo
    register = _page(client, "/hazards/")
    assert "配电箱是否可靠接地？" in register
    # Approved, re-inspected, rectified: the closure's photos show on the hazard's page too.
    kept = next(r for r in services.conflicts_of(task.id)["Q-1"] if r.data["result"] == "yes")
    services.resolve_conflict(task, "Q-1", kept.uuid, lead)
    services.approve(task, lead, confirm_unanswered=True)
    again = services.schedule_reinspection(task, lead)
    fixed = upload(a, jpeg((20, 160, 60)))
    assert not sync(a, [rec(again, "closure", {"hazard": hazard.record_uuid, "rectified": True,
                                               "note": "已重新接地", "photos": [fixed]}),
                        rec(again, "outcome", {"outcome": "completed"})])["rejected"]
    page = _page(client, f"/hazards/{hazard.id}")
    closure_full = f"/review/{again.id}/photos/{fixed}/full"
    assert f'href="{closure_full}"' in page and "已重新接地" in page
    assert fetch(client, closure_full).status_code == 200
    # The re-inspection's review page shows the same photo beside its hazard.
    assert f'href="{closure_full}"' in _page(client, f"/review/{again.id}")
