"""The offline app on a 360-px phone: take a task offline, inspect with no network, come back, sync.

Download tasks → offline → reload (served by the service worker) → answer every question, a photo,
a hazard, check-in, signatures → close and reopen the page → online → sync → the server holds exactly
that data and each photo's hash matches what the phone stored.
"""
import hashlib

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.sync import photos as photo_store
from webapp.sync.models import Photo, SyncRecord
from webapp.tasks.models import Task
from tests.browser.conftest import draw
from tests.factories import PASSWORD, make_drawn, member_user


@pytest.fixture
def assignment(demo):
    """The demo county, one drawn batch, and an account for a member of the first task's group."""
    _plan, _batch, draw = make_drawn(n_enterprises=0, sample=2)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched").order_by(Task.id))
    user = member_user(task, 0, "field1")
    questions = sum(len(c["questions"]) for c in _checklists(task))
    return {"task": task, "user": user, "questions": questions}


def sign_in_app(page, base, task):
    """Sign in to the app online; it downloads the tasks and the service worker takes control."""
    page.goto(f"{base}/app/")
    page.get_by_label("用户名").fill("field1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("ul.tasks")).to_contain_text(task.enterprise["name"])
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _checklists(task):
    from webapp.checklists.models import ChecklistVersion
    return [db.session.get(ChecklistVersion, c["id"]).content for c in task.checklists]


def _photo(tmp_path):
    path = tmp_path / "site.jpg"
    Image.new("RGB", (2400, 1800), (90, 120, 160)).save(path, "JPEG")
    return path


def pending(page) -> str:
    return page.locator("#sync-status").get_attribute("data-pending")


def test_a_whole_inspection_offline_then_synced(page, live_server, assignment, shot, tmp_path):
    task = assignment["task"]
    errors = []
    page.on("pageerror", lambda exc: errors.append(exc))
    sign_in_app(page, live_server, task)
    shot(page, "40-pwa-tasks")

    context = page.context
    context.set_offline(True)
    page.reload()  # served by the service worker from its cache
    expect(page.locator("#sync-status")).to_contain_text("离线")
    page.get_by_role("link", name=task.enterprise["name"]).click()
    expect(page.locator("h1")).to_have_text(task.enterprise["name"])
    page.get_by_role("button", name="签到").click()
    expect(page.locator("#checkin")).to_contain_text("已签到")

    cards = page.locator("article.question")
    expect(cards).to_have_count(assignment["questions"])
    first = cards.first
    first.get_by_role("button", name="不符合").click()
    expect(page.locator("article.question").first.locator(".choice.on.no")).to_be_visible()
    page.locator("article.question").first.locator("input.photo-input").set_input_files(str(_photo(tmp_path)))
    expect(page.locator("article.question").first.locator("img.thumb")).to_have_count(1)
    from tests.browser.test_pwa_failures import record_hazard, submit_inspection
    page.locator("article.question").first.get_by_role("button", name="登记隐患").click()
    record_hazard(page, "除尘系统未设置锁气卸灰装置")
    expect(page.locator("ul.hazards li")).to_have_count(1)
    for k in range(1, assignment["questions"]):
        page.locator("article.question").nth(k).get_by_role("button", name="符合", exact=True).click()
        expect(page.locator("article.question").nth(k).locator(".choice.on.yes")).to_be_visible()
    # Every answer, the hazard, the check-in and the photo are stored: the page has stopped changing.
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", str(assignment["questions"] + 3))
    shot(page, "41-pwa-checklist-offline")

    draw(page, ".signature[data-role=inspector] canvas")
    expect(page.locator(".signature[data-role=inspector] canvas")).to_have_attribute("data-drawn", "1")
    page.locator(".signature[data-role=inspector]").get_by_role("button", name="保存签名").click()
    expect(page.locator(".signature[data-role=inspector] .tag.good")).to_have_text("已签名")
    page.locator(".signature[data-role=enterprise]").get_by_role("button", name="拒绝签名").click()
    expect(page.locator(".signature[data-role=enterprise] .tag.warn")).to_have_text("已拒绝签名")
    submit_inspection(page)
    expect(page.locator("#submit")).to_contain_text("已提交")
    shot(page, "42-pwa-submitted-offline")
    assert db.session.scalar(select(db.func.count()).select_from(SyncRecord)) == 0  # nothing left the phone

    # Close the page and open the app again, still offline: everything is still there.
    url = page.url
    page.close()
    page = context.new_page()
    page.goto(url)
    expect(page.locator("article.question").first.locator(".choice.on.no")).to_be_visible()
    phone_photos = page.evaluate("ssjStore.all('photos').then(ps => ps.map(p => p.sha))")
    assert len(phone_photos) == 2  # the site photo and the signature

    context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0", timeout=20000)
    shot(page, "43-pwa-synced")

    db.session.expire_all()
    rows = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)).all()
    kinds = sorted(r.kind for r in rows)
    assert kinds.count("answer") == assignment["questions"]
    assert kinds.count("hazard") == 1 and kinds.count("checkin") == 1 and kinds.count("outcome") == 1
    assert kinds.count("signature") == 2
    answers = {r.data["question"]: r.data for r in rows if r.kind == "answer"}
    assert sorted(a["result"] for a in answers.values()).count("no") == 1
    hazard = next(r for r in rows if r.kind == "hazard")
    assert hazard.data["description"] == "除尘系统未设置锁气卸灰装置" and hazard.data["photos"]
    assert sorted(phone_photos) == sorted(db.session.scalars(select(Photo.sha256)))
    for sha in phone_photos:  # the server's file is byte for byte what the phone hashed
        assert hashlib.sha256(photo_store.original_path(sha).read_bytes()).hexdigest() == sha
    stored = db.session.get(Photo, hazard.data["photos"][0])
    assert max(stored.width, stored.height) == 1600  # compressed on the phone
    assert all(r.revision == 1 for r in rows)  # each sent once, no duplicates
    assert errors == []
