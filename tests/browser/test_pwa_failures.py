"""The ways sync goes wrong in the field: a lost response, a server error or a captive portal, an
expired session, a browser without Background Sync, and an app update in the middle of an inspection."""
import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select, update

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.sync.models import ApiToken, SyncRecord
from tests.browser.conftest import phone_on_task
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


def submit_inspection(page, again=False):
    """Submit from the task page: the app asks first, in the page, saying what is not done (issue #12
    point 6); the inspector confirms, and the submitted inspection is read-only."""
    page.get_by_role("button", name="修改后重新提交" if again else "提交检查").click()
    dialog = page.locator("#submit-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#submit-confirm").click()
    expect(dialog).to_be_hidden()


def record_hazard(page, description, grade="general", deadline=None):
    """Fill the open hazard form (beside its question) and save it: the grade is the inspector's choice."""
    page.locator("#hz-grade").select_option(grade)
    page.locator("#hz-desc").fill(description)
    if deadline:
        page.locator("#hz-deadline").fill(deadline)
    page.get_by_role("button", name="保存隐患").click()


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
    expect(page.locator("#message")).to_contain_text("没有网络或连接中断")  # said as it is: nothing is lost
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
    expect(page.locator("#message")).to_contain_text("不会丢失")
    # The task page stays as it is (nothing being typed is lost) until the inspector chooses to sign in.
    expect(page.locator("article.question").first).to_be_visible()
    page.get_by_role("button", name="重新登录").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
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
    old_version = webapp.pwa.shell_version()
    (newer / "app.js").write_text((newer / "app.js").read_text() + "\n// the next release\n")
    monkeypatch.setattr(webapp.pwa, "PWA_DIR", newer)
    new_version = webapp.pwa.shell_version()
    assert new_version != old_version  # any change to the shell is a new version
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then(r => r.update())")
    expect(page.locator("#update")).to_contain_text("完成当前检查后可更新")
    expect(page.locator("#apply-update")).to_have_count(0)  # not offered mid-inspection
    page.get_by_role("link", name="‹ 任务").click()
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then(r => r.update())")
    page.reload()
    with page.expect_navigation():  # the new version takes over and the page reloads once
        page.get_by_role("button", name="更新").click()
    # (polled with evaluate: page.wait_for_function takes a returned Promise as true at once)
    from tests.browser.conftest import until
    until(page, f"async () => {{ const k = await caches.keys(); "
                f"return k.includes('{new_version}') && !k.includes('{old_version}'); }}")
    page.get_by_role("link", name=task.enterprise["name"]).click()
    expect(page.locator("h1")).to_have_text(task.enterprise["name"])
    # The inspection in progress survived the update untouched.
    stored = page.evaluate(f"ssjStore.all('records', 'task_id', {task.id}).then(rs => rs.map(r => r.data.result))")
    assert stored.count("yes") == assignment["questions"], stored
    expect(page.locator("article.question .choice.on.yes")).to_have_count(assignment["questions"])
    page.get_by_role("button", name="立即同步").click()
    synced(page)


def test_a_server_error_mid_batch_keeps_nothing_half_done_and_isolates_the_bad_record(  # noqa: F811
        page, live_server, assignment, monkeypatch, shot):
    from webapp.audit.models import AuditEntry
    from webapp.sync import services

    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    third = page.locator("article.question").nth(2).get_attribute("id")[2:]
    real_apply = services._apply

    def failing(user, rec, batch):  # the server trips over one record, half-way through the batch
        if rec["data"].get("question") == third:
            raise RuntimeError("disk full")
        return real_apply(user, rec, batch)

    monkeypatch.setattr(services, "_apply", failing)
    page.context.set_offline(False)
    expect(page.locator("#message")).to_contain_text("服务器出错")
    expect(page.locator(f"#q-{third} .tag.bad")).to_contain_text("服务器出错")
    shot(page, "44-pwa-server-error")
    # The failed batch left nothing behind; the halves around the bad record went through, once each.
    db.session.expire_all()
    rows = db.session.scalars(select(SyncRecord)).all()
    assert sorted(r.question for r in rows) == sorted(
        q for q in _questions(page) if q != third) and all(r.revision == 1 for r in rows)
    audited = db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "sync.answer.create")).all()
    assert sorted(audited) == sorted(r.uuid for r in rows)
    assert page.locator("#sync-status").get_attribute("data-pending") == "1"

    monkeypatch.setattr(services, "_apply", real_apply)  # the server is mended
    page.get_by_role("button", name="立即同步").click()  # sends at once, backoff or not
    synced(page)
    db.session.expire_all()
    rows = db.session.scalars(select(SyncRecord)).all()
    assert len(rows) == assignment["questions"] and all(r.revision == 1 for r in rows)


def _questions(page) -> list[str]:
    return [i[2:] for i in page.locator("article.question").evaluate_all("cards => cards.map(c => c.id)")]


def test_two_phones_on_one_task_merge_per_question_and_flag_the_difference(  # noqa: F811
        browser, browser_context_args, live_server, assignment, shot):
    from tests.factories import member_user

    task = assignment["task"]
    member_user(task, 1, "field2")
    phones = [phone_on_task(browser, browser_context_args, live_server, username, task)
              for username in ("field1", "field2")]  # two phones: two browsers' storage
    for page in phones:
        page.context.set_offline(True)
    a, b = phones
    questions = _questions(a)
    first, last = questions[0], questions[-1]
    # Offline, each answers part of the checklist; both answer the first question, differently.
    for q in questions[:-1]:
        a.locator(f"#q-{q}").get_by_role("button", name="符合", exact=True).click()
        expect(a.locator(f"#q-{q} .choice.on")).to_be_visible()
    b.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
    b.locator(f"#q-{last}").get_by_role("button", name="不涉及", exact=True).click()
    expect(b.locator("#sync-status")).to_have_attribute("data-pending", "2")
    for page in (a, b):
        page.context.set_offline(False)
        synced(page)
    db.session.expire_all()
    rows = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)).all()
    by_question = {}
    for row in rows:
        by_question.setdefault(row.question, []).append(row)
    assert set(by_question) == set(questions)  # merged: every question answered by one phone or the other
    assert sorted(r.data["result"] for r in by_question[first]) == ["no", "yes"]  # both kept…
    assert all(r.conflict for r in by_question[first])  # …and flagged for the team lead
    assert not any(r.conflict for q in questions[1:] for r in by_question[q])
    # Each phone learns of the difference on its next sync; neither answer was overwritten.
    a.get_by_role("button", name="立即同步").click()
    synced(a)
    a.get_by_role("link", name="‹ 任务").click()
    a.get_by_role("link", name=task.enterprise["name"]).click()
    expect(a.locator(f"#q-{first} .qtext")).to_contain_text("与同组人员的记录不一致")
    expect(a.locator(f"#q-{first} .choice.on.yes")).to_be_visible()
    expect(a.locator(f"#q-{last}")).to_contain_text(re.compile(r"同组 \S+: 不涉及"))
    expect(b.locator(f"#q-{first} .qtext")).to_contain_text("与同组人员的记录不一致")
    shot(a, "45-pwa-two-phones")
    for page in phones:
        page.context.close()


def test_a_bad_photo_is_refused_with_its_reason_while_the_rest_syncs(page, live_server, assignment,  # noqa: F811
                                                                      tmp_path, shot):
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    first, second = _questions(page)[:2]
    # 1. A text file renamed to .jpg never becomes a photo on the phone.
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"this is a text file renamed to photo.jpg")
    page.locator(f"#q-{first} input.photo-input").set_input_files(str(fake))
    expect(page.locator("#message")).to_contain_text("无法读取「photo.jpg」")
    expect(page.locator(f"#q-{first} img.thumb")).to_have_count(0)
    # 2. A file the server refuses (here one put into the phone's store as a faulty app version might):
    #    its reason shows on the photo, the answer waits for it, everything else is sent.
    page.evaluate("""async ([taskId, q]) => {
      const blob = new Blob(["not an image at all"], {type: "image/jpeg"});
      const sha = await ssjPhoto.sha256Hex(blob);
      const recs = await ssjStore.all("records", "task_id", taskId);
      const rec = recs.find(r => r.kind === "answer" && r.data.question === q);
      await ssjStore.saveRecord({...rec, data: {...rec.data, photos: [sha]}, dirty: 1, editSeq: rec.editSeq + 1},
                                [{sha, blob, size: blob.size, uploaded: 0, task_id: taskId}]);
    }""", [task.id, second])
    page.context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator(f"#q-{second} .photo-error")).to_contain_text("图像")
    expect(page.locator("#message")).to_contain_text("未能上传")
    shot(page, "46-pwa-bad-photo")
    db.session.expire_all()
    stored = {r.question for r in db.session.scalars(select(SyncRecord))}
    assert stored == set(_questions(page)) - {second}
    # The inspector takes the bad photo out; the answer then goes through.
    page.locator(f"#q-{second}").get_by_role("button", name="移除此照片").click()
    expect(page.locator(f"#q-{second} img.thumb")).to_have_count(0)
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    db.session.expire_all()
    assert {r.question for r in db.session.scalars(select(SyncRecord))} == set(_questions(page))
