"""The phone never loses an edit (issue #10): each of the four data-loss paths found by hand, the two
phones' combined state, and what the inspector is told at each step. Each test failed on the app
before the fix."""
import re
import uuid as uuidlib

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.sync.models import SyncRecord
from webapp.sync.services import content_hash
from webapp.tasks.models import Task
from tests.browser.conftest import draw, phone_on_task, until
from tests.browser.test_pwa import assignment  # noqa: F401  (fixture)
from tests.browser.test_pwa_failures import _questions, answer_all, open_task, record_hazard, submit_inspection, synced
from tests.factories import PASSWORD


def rows_of(task, kind=None):
    db.session.expire_all()
    stmt = select(SyncRecord).where(SyncRecord.task_id == task.id)
    return db.session.scalars(stmt.where(SyncRecord.kind == kind) if kind else stmt).all()


def settled(page):
    """Nothing left on the phone to send (asked of IndexedDB, not of a status line that may lag a save)."""
    until(page, "async () => (await ssjStore.all('records', 'dirty', 1)).length"
                " + (await ssjStore.all('photos', 'uploaded', 0)).length === 0")
    synced(page)


def phone_records(page, task):
    return page.evaluate(f"ssjStore.all('records', 'task_id', {task.id})")


def lose_responses(page):
    """The server gets and stores every upload; the phone never hears back."""
    page.route("**/api/v1/sync", lambda route: (route.fetch(), route.abort()))


def test_an_edit_after_a_lost_response_reaches_the_server(page, live_server, assignment):  # noqa: F811
    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")  # only the page syncs: one sender to follow
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    # The server stores revision 1 of every answer but the response is lost.
    lose_responses(page)
    page.context.set_offline(False)
    expect(page.locator("#message")).to_contain_text("没有网络或连接中断")
    assert len(rows_of(task)) == assignment["questions"] and rows_of(task, "outcome") == []
    # Offline again (responses still lost till then), the inspector changes an answer and submits (a
    # submitted inspection is read-only on the phone, issue #12 point 6, so the change comes first).
    page.context.set_offline(True)
    page.unroute("**/api/v1/sync")
    first = _questions(page)[0]
    page.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
    expect(page.locator(f"#q-{first} .choice.on.no")).to_be_visible()
    page.locator("#outcome").select_option("closed")
    submit_inspection(page)
    # Stored before the network returns: an edit landing while the submission is on the way would reach
    # a submitted inspection and be kept on the phone as frozen (issue #11), a different story.
    until(page, f"async () => (await ssjStore.all('records', 'task_id', {task.id}))"
                ".some(r => r.kind === 'outcome' && r.data.outcome === 'closed')")
    page.context.set_offline(False)
    synced(page)
    # The server holds exactly what the phone shows, as the next revision of each record.
    answer = next(r for r in rows_of(task, "answer") if r.question == first)
    assert (answer.data["result"], answer.revision) == ("no", 2)
    [outcome] = rows_of(task, "outcome")
    assert (outcome.data["outcome"], outcome.revision) == ("closed", 1)
    phone = {r["uuid"]: r for r in phone_records(page, task)}
    for row in rows_of(task):
        assert phone[row.uuid]["data"]["result" if row.kind == "answer" else "outcome"] == \
            row.data["result" if row.kind == "answer" else "outcome"]
        assert phone[row.uuid]["revision"] == row.revision and not phone[row.uuid].get("conflict")
    expect(page.locator(f"#q-{first} .tag.good")).to_have_text("✓")


def test_a_real_conflict_shows_both_versions_until_the_inspector_chooses(page, live_server, assignment, shot):  # noqa: F811
    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")
    open_task(page, live_server, task)
    first = _questions(page)[0]
    page.locator(f"#q-{first}").get_by_role("button", name="符合", exact=True).click()
    expect(page.locator(f"#q-{first} .tag.good")).to_have_text("✓", timeout=20000)
    settled(page)
    # An edit this phone never made reaches the server under its record (the same account restored on
    # another phone, say): the server's revision 2 is not this phone's.
    [row] = rows_of(task, "answer")
    row.data = {**row.data, "result": "na", "note": "另一台手机"}
    row.content_hash, row.revision, row.edit_id = content_hash(row.data), 2, str(uuidlib.uuid4())
    db.session.commit()
    page.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
    box = page.locator(".conflicts")
    expect(box).to_contain_text(re.compile(f"本机: {first} 不符合.*服务器: {first} 不涉及 另一台手机"))
    expect(page.locator(f"#q-{first} .qtext")).to_contain_text("版本不一致")
    shot(page, "53-pwa-revision-conflict")
    # Nothing is marked sent and nothing overwritten while the inspector has not chosen.
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "1")
    [row] = rows_of(task, "answer")
    assert (row.revision, row.data["result"]) == (2, "na")
    page.get_by_role("button", name="保留本机版本").click()
    synced(page)
    [row] = rows_of(task, "answer")
    assert (row.revision, row.data["result"]) == (3, "no")
    expect(page.locator(".conflicts")).to_have_count(0)


def test_a_background_sync_keeps_what_is_being_typed(page, live_server, assignment, shot):  # noqa: F811
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    first, second = _questions(page)[:2]
    page.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
    page.locator(f"#q-{first}").get_by_role("button", name="登记隐患").click()
    page.get_by_label("隐患描述").fill("配电箱前堆放")  # half-written, not saved
    page.locator("#outcome").select_option("non_cooperation")
    page.locator("#reason").select_option("refused_materials")
    draw(page, ".signature[data-role=enterprise] canvas")
    note = page.locator(f"#q-{second} input.note")
    note.click()
    note.type("二楼仓库")  # still typing: no change event yet
    # Back online: the sync runs and ends while all of that is on screen.
    page.context.set_offline(False)
    synced(page)
    page.wait_for_timeout(300)  # the end of the run refreshes the page
    assert page.locator("#hazard-form").is_visible()
    expect(page.get_by_label("隐患描述")).to_have_value("配电箱前堆放")
    expect(page.locator("#outcome")).to_have_value("non_cooperation")
    expect(page.locator("#reason")).to_have_value("refused_materials")
    expect(note).to_have_value("二楼仓库")
    assert page.evaluate("document.activeElement.closest('article') && document.activeElement.closest('article').id") == f"q-{second}"
    assert page.evaluate("""(() => { const c = document.querySelector('.signature[data-role=enterprise] canvas');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0); })()""")
    # …while what was saved got its ✓ from the same sync.
    expect(page.locator(f"#q-{first} .tag.good")).to_have_text("✓")
    shot(page, "54-pwa-typing-kept")


def double_tap(page, selector):
    """Two taps faster than any save: the second lands before the first has written anything."""
    page.evaluate("s => { const b = document.querySelector(s); b.click(); b.click(); }", selector)


def test_double_taps_make_one_record_each(page, live_server, assignment, tmp_path):  # noqa: F811
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    first, second = _questions(page)[:2]
    double_tap(page, "#checkin")
    expect(page.locator("#checkin")).to_contain_text("已签到")
    page.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
    page.locator(f"#q-{first}").get_by_role("button", name="登记隐患").click()
    page.locator("#hz-grade").select_option("general")
    page.get_by_label("隐患描述").fill("灭火器压力不足")
    double_tap(page, "#hazard-form button[type=submit]")
    expect(page.locator("ul.hazards li")).to_have_count(1)
    double_tap(page, f"#q-{second} button.choice[data-v=yes]")
    expect(page.locator(f"#q-{second} .choice.on.yes")).to_be_visible()
    draw(page, ".signature[data-role=inspector] canvas")
    double_tap(page, ".signature[data-role=inspector] .save-sig")
    expect(page.locator(".signature[data-role=inspector] .tag.good")).to_have_text("已签名")
    double_tap(page, "#submit")
    expect(page.locator("#submit-dialog")).to_be_visible()
    double_tap(page, "#submit-confirm")
    expect(page.locator("#submit")).to_contain_text("已提交")
    page.wait_for_timeout(500)  # any second save would have landed by now
    kinds = [r["kind"] for r in phone_records(page, task)]
    assert sorted(kinds) == ["answer", "answer", "checkin", "hazard", "outcome", "signature"]
    assert [r["editSeq"] for r in phone_records(page, task) if r["kind"] in ("outcome", "checkin", "hazard")] == [1, 1, 1]
    page.context.set_offline(False)
    synced(page)
    rows = rows_of(task)
    assert sorted(r.kind for r in rows) == sorted(kinds) and all(r.revision == 1 for r in rows)


def _noise(path, size=(1800, 1350), seed=0):
    import random
    rnd = random.Random(seed)
    Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3)).save(path, "JPEG", quality=95)
    return path


def test_full_storage_says_what_was_not_saved_and_keeps_everything_else(page, live_server, assignment, tmp_path, shot):  # noqa: F811
    task = assignment["task"]
    errors = []
    page.on("pageerror", lambda exc: errors.append(exc))
    # A phone with about 3 MB left for the app (the quota the browser enforces on IndexedDB).
    page.goto("about:blank")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": live_server, "quotaSize": 3_000_000})
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    questions = _questions(page)
    kept = 0
    for k in range(8):  # each photo is about 1 MB: the quota runs out after two or three
        q = questions[k % len(questions)]
        kept = page.evaluate("ssjStore.all('photos').then(p => p.length)")
        page.locator(f"#q-{q} input.photo-input").set_input_files(str(_noise(tmp_path / f"p{k}.jpg", seed=k)))
        until(page, f"""async () => (await ssjStore.all('photos')).length > {kept}
                        || !document.getElementById('message').hidden""", 15)
        if page.locator("#message").is_visible():
            break
    expect(page.locator("#message")).to_contain_text("存储空间已满")
    expect(page.locator("#message")).to_contain_text("照片未保存")
    assert kept >= 1 and errors == []
    # The storage line warns, whatever the browser's estimate still says.
    expect(page.locator("#storage")).to_contain_text("手机存储空间不足")
    shot(page, "55-pwa-storage-full")
    # Everything saved before is still there, and goes to the server once the phone is online.
    phone = phone_records(page, task)
    assert len([r for r in phone if r["kind"] == "answer"]) == assignment["questions"]
    # No record refers to a photo the phone does not hold, and no photo is held that nothing refers to:
    # the failed photo was not half-saved, and every one saved before is still there.
    stored = set(page.evaluate("ssjStore.all('photos').then(p => p.map(x => x.sha))"))
    referenced = {sha for r in phone for sha in r["data"].get("photos") or []}
    assert stored == referenced and len(stored) >= kept >= 1
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": live_server})
    page.context.set_offline(False)
    synced(page)
    assert len(rows_of(task, "answer")) == assignment["questions"]


def test_the_status_line_says_what_is_happening(page, live_server, assignment, tmp_path, shot):  # noqa: F811
    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")
    open_task(page, live_server, task)
    status = page.locator("#sync-status")
    first, second = _questions(page)[:2]
    # Saved on the phone (online, the sync follows a moment later).
    held = []
    page.route("**/api/v1/sync", lambda route: held.append(route))
    page.locator(f"#q-{first}").get_by_role("button", name="符合", exact=True).click()
    expect(status).to_have_attribute("data-state", "saved")
    expect(status).to_contain_text("已保存在手机")
    shot(page, "50-pwa-status-saved")
    # Uploading n of m, and 立即同步 does not start a second run meanwhile.
    expect(status).to_have_attribute("data-state", "uploading", timeout=5000)
    expect(status).to_contain_text("正在上传 0/1")
    expect(page.locator("#sync-now")).to_be_disabled()
    shot(page, "51-pwa-status-uploading")
    assert len(held) == 1
    page.unroute("**/api/v1/sync")  # lets the held request go on
    expect(status).to_have_attribute("data-state", "synced")
    expect(status).to_contain_text("已全部上传到服务器")
    shot(page, "52-pwa-status-synced")
    # Waiting for signal.
    page.context.set_offline(True)
    page.locator(f"#q-{second}").get_by_role("button", name="不涉及", exact=True).click()
    expect(status).to_have_attribute("data-state", "waiting")
    expect(status).to_contain_text("等待网络")
    shot(page, "56-pwa-status-waiting")
    # A gateway's plain 503 says the server is unreachable (not a Wi-Fi login), and nothing is lost.
    page.route("**/api/v1/**", lambda route: route.fulfill(status=503, content_type="text/html", body="<h1>503</h1>"))
    page.context.set_offline(False)
    expect(page.locator("#message")).to_contain_text("服务器暂时无法访问（HTTP 503）")
    expect(status).to_have_attribute("data-pending", "1")
    page.unroute("**/api/v1/**")
    # An answer waiting for its photo is not a failure; the photo that failed says so.
    page.route("**/api/v1/photos/*", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"error": "server", "message": "磁盘故障"}')
        if route.request.method == "PUT" else route.continue_())
    page.locator(f"#q-{second} input.photo-input").set_input_files(str(_noise(tmp_path / "a.jpg", (800, 600))))
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator(f"#q-{second} .qtext")).to_contain_text("等待照片上传")
    expect(page.locator(f"#q-{second} .qtext .tag.bad")).to_have_count(0)
    expect(page.locator(f"#q-{second} .photo-error")).to_contain_text("磁盘故障")
    page.unroute("**/api/v1/photos/*")
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    # The task list says whether the submission is only on the phone or on the server.
    page.context.set_offline(True)
    submit_inspection(page)
    page.get_by_role("link", name="‹ 任务").click()
    expect(page.locator("ul.tasks")).to_contain_text("已提交 · 待上传")
    expect(page.locator("ul.tasks .tag.good")).to_have_count(0)
    shot(page, "57-pwa-task-list-submitted-on-phone")
    page.context.set_offline(False)
    synced(page)
    expect(page.locator("ul.tasks .tag.good")).to_have_text("已提交")
    # A camera file too large to take says why and what to do.
    page.get_by_role("link", name=task.enterprise["name"]).click()
    big = tmp_path / "IMG_0001.jpg"
    with open(big, "wb") as f:
        f.truncate(55 * 1024 * 1024)
    page.locator(f"#q-{first} input.photo-input").set_input_files(str(big))
    expect(page.locator("#message")).to_contain_text("55 MB")
    expect(page.locator("#message")).to_contain_text("调低分辨率")


def test_two_phones_see_the_groups_combined_state_and_never_submit_differing_outcomes(  # noqa: F811
        browser, browser_context_args, live_server, assignment, shot):
    from webapp import roles as R
    from webapp.auth.services import create_user
    from webapp.review import services
    from tests.factories import member_user

    task = assignment["task"]
    member_user(task, 1, "field2")
    phones = [phone_on_task(browser, browser_context_args, live_server, username, task, background_sync=False)
              for username in ("field1", "field2")]
    a, b = phones
    first = _questions(a)[0]
    for page, note, hazard, outcome in ((a, "消防通道堵塞", "灭火器过期", "completed"),
                                        (b, "东侧通道堆放货物", "应急照明损坏", "non_cooperation")):
        page.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
        page.locator(f"#q-{first} input.note").fill(note)
        page.locator(f"#q-{first} input.note").press("Tab")
        page.locator(f"#q-{first}").get_by_role("button", name="登记隐患").click()
        record_hazard(page, hazard)
        page.locator("#outcome").select_option(outcome)
        if outcome == "non_cooperation":
            page.locator("#reason").select_option("refused_entry")
        submit_inspection(page)
        expect(page.locator("#submit-row")).to_contain_text("已提交")
        if page is a:
            settled(page)
    # A submitted first: the inspection is frozen for the review (issue #11 point 1), so B's work waits
    # on B's phone, which says why, and the team lead sees it on the review page.
    b.get_by_role("button", name="立即同步").click()
    expect(b.locator("#message")).to_contain_text("未被服务器接受")
    expect(b.locator("#frozen")).to_contain_text("等待组长审核")
    assert {c["kind"] for c in services.refused_changes(task.id)} == {"answer", "hazard"}
    lead = create_user("grouplead", "本组组长", R.TEAM_LEAD, PASSWORD, None, task.active_members[0].inspector.department_id)
    services.return_for_correction(db.session.get(Task, task.id), lead, "两部手机的记录需要核对")
    for page in (b, a, b):  # B's work lands once returned; each phone's next sync brings the other's
        page.get_by_role("button", name="立即同步").click()
        settled(page)
    for page in (a, b):
        page.get_by_role("button", name="立即同步").click()
        synced(page)
        expect(page.locator("ul.hazards li")).to_have_count(2)
        expect(page.locator(f"#q-{first} .qtext")).to_contain_text("消防通道堵塞" if page is b else "东侧通道堆放货物")
        expect(page.locator("#outcome-differs")).to_contain_text("检查结果与同组人员不一致")
    shot(a, "58-pwa-two-phones-outcomes-differ")
    db.session.expire_all()
    assert db.session.get(Task, task.id).review_state == "returned"  # not submitted while they differ
    a.get_by_role("link", name="‹ 任务").click()
    expect(a.locator("ul.tasks")).to_contain_text("检查结果与同组人员不一致")
    # Phone A agrees with B: the task is submitted, and both phones stop warning.
    a.get_by_role("link", name=task.enterprise["name"]).click()
    a.locator("#outcome").select_option("non_cooperation")
    a.locator("#reason").select_option("refused_entry")
    submit_inspection(a, again=True)
    expect(a.locator("#submit-row")).to_contain_text("待上传")
    settled(a)
    db.session.expire_all()
    assert db.session.get(Task, task.id).review_state == "submitted"
    for page in (a, b):
        page.get_by_role("button", name="立即同步").click()
        synced(page)
        expect(page.locator("#outcome-differs")).to_have_count(0)
    for page in phones:
        page.context.close()


# --- found by an adversarial review of the fixes above ---------------------------------------------

def test_a_photo_the_server_failed_to_store_after_its_last_piece_is_finished_later(  # noqa: F811
        page, live_server, assignment, tmp_path, monkeypatch):
    from webapp.sync import photos
    from webapp.sync.models import Photo

    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")
    open_task(page, live_server, task)
    first = _questions(page)[0]
    page.context.set_offline(True)
    answer_all(page)
    real, calls = photos.store, []

    def fails_once(*args, **kw):  # every byte arrived; the worker dies before the photo is stored
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker killed")
        return real(*args, **kw)
    monkeypatch.setattr(photos, "store", fails_once)
    page.locator(f"#q-{first} input.photo-input").set_input_files(str(_noise(tmp_path / "a.jpg", (900, 700))))
    expect(page.locator(f"#q-{first} img.thumb")).to_have_count(1)
    page.context.set_offline(False)
    expect(page.locator("#message")).to_contain_text("未能上传")  # the photo failed, said so
    page.get_by_role("button", name="立即同步").click()
    settled(page)
    [sha] = page.evaluate("ssjStore.all('photos').then(p => p.map(x => x.sha))")
    db.session.expire_all()
    assert db.session.get(Photo, sha) is not None and len(calls) == 2
    answer = next(r for r in rows_of(task, "answer") if r.question == first)
    assert answer.data["photos"] == [sha]


def test_a_note_being_typed_survives_a_reload_and_a_closed_page(page, live_server, assignment):  # noqa: F811
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    first, second = _questions(page)[:2]
    page.locator(f"#q-{first} input.note").fill("配电室门未上锁")  # no change event: still in the field
    page.reload()
    expect(page.locator(f"#q-{first} input.note")).to_have_value("配电室门未上锁")
    page.locator(f"#q-{second} input.note").fill("应急灯不亮")
    url = page.url
    context = page.context
    page.close(run_before_unload=True)
    page = context.new_page()
    page.goto(url)
    expect(page.locator(f"#q-{second} input.note")).to_have_value("应急灯不亮")


def test_an_expired_sign_in_keeps_the_half_written_hazard_and_returns_to_it(page, live_server, assignment):  # noqa: F811
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.db_types import utcnow
    from webapp.sync.models import ApiToken

    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")
    open_task(page, live_server, task)
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    first = _questions(page)[0]
    page.locator(f"#q-{first}").get_by_role("button", name="不符合", exact=True).click()
    page.locator(f"#q-{first}").get_by_role("button", name="登记隐患").click()
    page.get_by_label("隐患描述").fill("二楼防火门常开")
    expect(page.locator("#message")).to_contain_text("登录已过期", timeout=10000)  # the sync after the save
    expect(page.get_by_label("隐患描述")).to_have_value("二楼防火门常开")  # still on screen
    page.get_by_role("button", name="重新登录").click()
    page.get_by_label("用户名").fill("field1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text(task.enterprise["name"])  # back on the task…
    expect(page.get_by_label("隐患描述")).to_have_value("二楼防火门常开")  # …with the draft


def test_another_account_cannot_sign_in_over_unsent_work(page, live_server, assignment):  # noqa: F811
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.db_types import utcnow
    from webapp.sync.models import ApiToken
    from tests.factories import member_user

    task = assignment["task"]
    member_user(task, 1, "field2")
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    page.context.set_offline(False)
    page.get_by_role("button", name="重新登录").click()
    page.get_by_label("用户名").fill("field2")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#message")).to_contain_text("未上传的检查记录")
    assert rows_of(task) == []  # nothing went under field2's name
    page.get_by_label("用户名").fill("field1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    settled(page)
    assert {r.user_id for r in rows_of(task)} == {assignment["user"].id}


def test_an_outcome_waits_until_the_inspections_other_records_are_on_the_server(  # noqa: F811
        page, live_server, assignment, monkeypatch):
    from webapp.sync import services

    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")
    open_task(page, live_server, task)
    first = _questions(page)[0]
    expect(page.locator(f"#q-{first} input.note")).to_have_attribute("maxlength", "2000")
    page.context.set_offline(True)
    answer_all(page)
    submit_inspection(page)
    expect(page.locator("#submit")).to_contain_text("已提交")  # stored before the network returns
    real_check = services._check

    def refuse_first(user, rec, batch):
        if rec["data"].get("question") == first:
            return {"status": "rejected", "uuid": rec["uuid"], "errors": {"note": ["太长"]}}
        return real_check(user, rec, batch)
    monkeypatch.setattr(services, "_check", refuse_first)
    page.context.set_offline(False)
    expect(page.locator(f"#q-{first} .qtext")).to_contain_text("太长")
    expect(page.locator("#submit-row")).to_contain_text("等待本检查其他记录上传后提交")
    assert rows_of(task, "outcome") == []
    db.session.expire_all()
    assert db.session.get(Task, task.id).review_state == "open"  # the team lead sees nothing half done
    monkeypatch.setattr(services, "_check", real_check)
    page.get_by_role("button", name="立即同步").click()
    settled(page)
    assert len(rows_of(task, "outcome")) == 1
    db.session.expire_all()
    assert db.session.get(Task, task.id).review_state == "submitted"


def test_a_resubmission_clears_returned_on_the_phone_even_if_the_task_list_is_not_fetched(  # noqa: F811
        page, live_server, assignment):
    task = assignment["task"]
    page.add_init_script("delete window.SyncManager")
    open_task(page, live_server, task)
    answer_all(page)
    submit_inspection(page)
    settled(page)
    db.session.expire_all()
    row = db.session.get(Task, task.id)
    row.review_state, row.review_comment = "returned", "请补充现场照片"
    db.session.commit()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#returned")).to_contain_text("请补充现场照片")
    page.route("**/api/v1/tasks", lambda route: route.abort())
    submit_inspection(page, again=True)
    until(page, """async () => { const rs = await ssjStore.all('records');
        return rs.some(r => r.kind === 'outcome' && r.editSeq === 2) && rs.every(r => !r.dirty); }""")
    db.session.expire_all()
    assert db.session.get(Task, task.id).review_state == "submitted"
    page.reload()
    expect(page.locator("#returned")).to_have_count(0)
    expect(page.locator("#submit")).to_contain_text("已提交")
