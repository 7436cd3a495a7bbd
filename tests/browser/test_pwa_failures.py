"""The ways sync goes wrong in the field: a lost response, a server error or a captive portal, an
expired session, a browser without Background Sync, and an app update in the middle of an inspection."""
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select, update

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.sync.models import ApiToken, SyncRecord
from tests.browser.test_pwa import assignment, sign_in_app  # noqa: F401  (assignment: fixture)
from tests.factories import PASSWORD


def open_task(page, base, task):
    sign_in_app(page, base, task)
    page.get_by_role("link", name=task.enterprise["name"]).click()
    # The task page renders in one piece: wait for it, or answer_all would find no questions.
    expect(page.locator("h1")).to_have_text(task.enterprise["name"])
    expect(page.locator("article.question").first).to_be_visible()


def answer_all(page, result="符合"):
    cards = page.locator("article.question")
    count = cards.count()
    assert count > 0, "the task page shows no questions"
    for k in range(count):
        cards.nth(k).get_by_role("button", name=result, exact=True).click()
        expect(page.locator("article.question").nth(k).locator(".choice.on")).to_be_visible()
    # Every answer is in IndexedDB (the status line counts what waits to be sent).
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", str(count))


def synced(page):
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0", timeout=20000)


def test_lost_response_and_server_error_never_lose_or_duplicate(page, live_server, assignment):  # noqa: F811
    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")  # as on Safari: no Background Sync at all
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)

    # 1. Back online behind a captive portal: it answers 200 with an HTML page; nothing counts as sent.
    page.route("**/api/v1/sync", lambda route: route.fulfill(status=200, content_type="text/html",
                                                             body="<html>请登录Wi-Fi</html>"))
    page.context.set_offline(False)  # the `online` event starts a sync by itself
    expect(page.locator("#message")).to_contain_text("网络异常")
    assert int(page.locator("#sync-status").get_attribute("data-pending")) == assignment["questions"]
    page.unroute("**/api/v1/sync")

    # 2. The server stores the batch but the phone never hears back.
    page.evaluate("document.getElementById('message').textContent = ''")
    page.route("**/api/v1/sync", lambda route: (route.fetch(), route.abort()))
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#message")).to_contain_text("未能上传")
    assert db.session.scalar(select(db.func.count()).select_from(SyncRecord)) == assignment["questions"]
    assert int(page.locator("#sync-status").get_attribute("data-pending")) == assignment["questions"]
    page.unroute("**/api/v1/sync")

    # 3. The retry carries the same uuids: acknowledged, nothing stored twice.
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    db.session.expire_all()
    rows = db.session.scalars(select(SyncRecord)).all()
    assert len(rows) == assignment["questions"] and all(r.revision == 1 for r in rows)


def test_an_expired_session_asks_for_login_then_syncs_losing_nothing(page, live_server, assignment):  # noqa: F811
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page, "不涉及")
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    page.context.set_offline(False)  # the `online` sync meets the expired token
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("#message")).to_contain_text("不会丢失")
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", str(assignment["questions"]))
    page.get_by_label("用户名").fill("field1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    synced(page)
    db.session.expire_all()
    results = [r.data["result"] for r in db.session.scalars(select(SyncRecord).where(SyncRecord.kind == "answer"))]
    assert results == ["na"] * assignment["questions"]


def test_an_app_update_waits_until_the_inspection_is_left(page, live_server, assignment, tmp_path,  # noqa: F811
                                                         monkeypatch):
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    page.context.set_offline(False)
    # A new version of the service worker is published while the inspector is on the task page.
    import shutil

    import webapp.pwa
    newer = tmp_path / "pwa"
    shutil.copytree(webapp.pwa.PWA_DIR, newer)
    sw = newer / "sw.js"
    sw.write_text(sw.read_text().replace("ssj-shell-v1", "ssj-shell-v2"))
    monkeypatch.setattr(webapp.pwa, "PWA_DIR", newer)
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then(r => r.update())")
    expect(page.locator("#update")).to_contain_text("完成当前检查后可更新")
    expect(page.locator("#apply-update")).to_have_count(0)  # not offered mid-inspection
    page.get_by_role("link", name="‹ 任务").click()
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then(r => r.update())")
    page.reload()
    with page.expect_navigation():  # the new version takes over and the page reloads once
        page.get_by_role("button", name="更新").click()
    page.wait_for_function("caches.keys().then(k => k.includes('ssj-shell-v2') && !k.includes('ssj-shell-v1'))")
    page.get_by_role("link", name=task.enterprise["name"]).click()
    expect(page.locator("h1")).to_have_text(task.enterprise["name"])
    # The inspection in progress survived the update untouched.
    stored = page.evaluate(f"ssjStore.all('records', 'task_id', {task.id}).then(rs => rs.map(r => r.data.result))")
    assert stored.count("yes") == assignment["questions"], stored
    expect(page.locator("article.question .choice.on.yes")).to_have_count(assignment["questions"])
    page.get_by_role("button", name="立即同步").click()
    synced(page)
