"""The inspector's first hour in the offline app on a 360-px phone (issue #12 points 2, 4, 6, 7 and 9).

- Submitting an incomplete inspection asks first, in the page, and lists what is not done, each
  unanswered question a link to it; going back keeps everything editable; submitting makes the task
  read-only on the phone at once (before any sync) until the team lead returns it, with the comment.
- The hazard form opens right below its question, names it, and leaves the grade to the inspector (no
  preset; the checklist's grade for the question is a hint). A hazard not tied to a question can be
  recorded too.
- The sync line stays in view while scrolling.
- The task view shows labels and names, never `USCC`, a checklist code, `(inspector)` or a rule id.
- The app opens a task from its link (/app/#/task/<id>), signing in first if needed, and a browser tab
  says how to install the app on the home screen.
"""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.sync.models import SyncRecord
from webapp.tasks.models import Task
from tests.browser.test_pwa import _checklists, assignment  # noqa: F401  (assignment: fixture)
from tests.browser.test_pwa_failures import _questions, open_task, synced
from tests.factories import PASSWORD

#: Raw values that must never reach the inspector's screen (issue #12 point 4).
RAW = re.compile(r"USCC|@20\d\d|\(inspector\)|\(enterprise\)|\bR\d{1,2}\b|None|undefined|null|NaN|T\d\d:\d\d:\d\d")


def no_raw_text(page):
    text = page.locator("#view").inner_text()
    found = RAW.findall(text)
    assert not found, f"raw values on the task page: {found}"


def in_view(page, locator) -> bool:
    """Fully below the sticky top bar and above the bottom of the screen."""
    box = locator.bounding_box()
    top = page.locator(".top").bounding_box()
    return box is not None and box["y"] >= top["y"] + top["height"] - 1 and box["y"] < 780


def grades(task) -> dict:
    return {q["id"]: q["hazard_grade"] for c in _checklists(task) for q in c["questions"]}


def test_an_incomplete_submission_warns_and_a_submitted_task_is_read_only_until_returned(  # noqa: F811
        page, live_server, assignment, shot):
    from webapp import roles as R
    from webapp.auth.services import create_user
    from webapp.review import services

    task = assignment["task"]
    errors = []
    page.on("pageerror", lambda exc: errors.append(exc))
    open_task(page, live_server, task)
    # Labels, names and readable dates; no codes.
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("统一社会信用代码")
    expect(facts).to_contain_text(task.uscc)
    expect(facts.locator(".date")).to_have_text(task.due_date.isoformat())
    assert facts.locator(".date").evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    version = _checklists(task)[0]["version"]
    expect(page.locator("h2").first).to_contain_text(f"版本 {version}")
    expect(page.locator(".signature[data-role=inspector]")).to_contain_text("检查人员签名（")
    expect(page.locator(".signature[data-role=enterprise]")).to_contain_text("企业负责人签名")
    no_raw_text(page)
    shot(page, "70-pwa-newcomer-task-top")

    questions = _questions(page)
    page.context.set_offline(True)  # submitted on the phone: read-only before any sync
    page.locator(f"#q-{questions[0]}").get_by_role("button", name="符合", exact=True).click()
    expect(page.locator(f"#q-{questions[0]} .choice.on.yes")).to_be_visible()

    # 1. Incomplete: the app asks first, in the page, and lists the unanswered questions.
    page.get_by_role("button", name="提交检查").click()
    dialog = page.locator("#submit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#sd-title")).to_contain_text("未完成")
    expect(dialog).to_contain_text(f"未作答的检查项（{len(questions) - 1} 项）")
    expect(dialog.locator("#sd-unanswered button.jump")).to_have_count(len(questions) - 1)
    expect(dialog).to_contain_text("尚未签到")
    expect(dialog).to_contain_text("检查人员尚未签名")
    expect(dialog).to_contain_text("企业负责人尚未签名")
    expect(dialog.get_by_role("button", name="仍然提交")).to_be_visible()
    shot(page, "71-pwa-newcomer-unanswered-warning")
    assert page.evaluate(f"ssjStore.all('records', 'task_id', {task.id}).then(rs => rs.filter(r => r.kind === 'outcome').length)") == 0

    # 2. Going back keeps everything editable.
    dialog.get_by_role("button", name="返回继续检查").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#frozen")).to_have_count(0)
    expect(page.locator(f"#q-{questions[1]}").get_by_role("button", name="不符合")).to_be_enabled()

    # 3. A question in the list is a link to it: the dialog closes and the question is in view.
    page.get_by_role("button", name="提交检查").click()
    dialog.locator(f"button.jump[data-q='{questions[-1]}']").click()
    expect(dialog).to_be_hidden()
    card = page.locator(f"#q-{questions[-1]}")
    page.wait_for_timeout(200)
    assert in_view(page, card)
    card.get_by_role("button", name="不涉及").click()
    expect(card.locator(".choice.on.na")).to_be_visible()

    # 4. Confirmed: submitted on the phone (offline), and read-only at once.
    page.get_by_role("button", name="提交检查").click()
    expect(dialog.locator("#sd-unanswered button.jump")).to_have_count(len(questions) - 2)
    dialog.get_by_role("button", name="仍然提交").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#frozen")).to_contain_text("在手机上提交")
    expect(page.locator("#frozen")).to_contain_text("组长退回修改前")
    first = page.locator(f"#q-{questions[1]}")
    expect(first.get_by_role("button", name="不符合")).to_be_disabled()
    expect(page.locator(f"#q-{questions[0]} input.note")).to_be_hidden()  # an empty note is not offered
    expect(page.locator("button#submit")).to_have_count(0)  # no live submit button
    expect(page.get_by_role("button", name=re.compile("提交"))).to_have_count(0)
    expect(page.locator("#submit")).to_contain_text("已提交，等待组长审核")
    expect(page.locator("#checkin")).to_be_hidden()
    expect(page.locator(".signature canvas.pad").first).to_be_hidden()
    # A tap on a disabled choice changes nothing; a save forced through the page is refused on the phone.
    first.locator("button.choice[data-v=no]").click(force=True)
    expect(first.locator(".choice.on")).to_have_count(0)
    page.locator("#submit-row").scroll_into_view_if_needed()
    shot(page, "72-pwa-newcomer-submitted-read-only")
    page.reload()  # still read-only when the app is opened again
    expect(page.locator("#frozen")).to_contain_text("在手机上提交")
    expect(page.locator(f"#q-{questions[1]}").get_by_role("button", name="不符合")).to_be_disabled()

    page.context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    db.session.expire_all()
    assert db.session.get(Task, task.id).review_state == "submitted"
    expect(page.locator("#frozen")).to_contain_text("等待组长审核")

    # 5. The team lead returns it: the phone shows the comment and the task is editable again.
    lead = create_user("newcomerlead", "本组组长", R.TEAM_LEAD, PASSWORD, None,
                       task.active_members[0].inspector.department_id)
    services.return_for_correction(db.session.get(Task, task.id), lead, "请补充第二项的检查情况")
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    expect(page.locator("#returned")).to_contain_text("请补充第二项的检查情况")
    expect(page.locator("#frozen")).to_have_count(0)
    second = page.locator(f"#q-{questions[1]}")
    expect(second.get_by_role("button", name="不符合")).to_be_enabled()
    expect(page.get_by_role("button", name="修改后重新提交")).to_be_visible()
    second.get_by_role("button", name="符合", exact=True).click()
    expect(second.locator(".choice.on.yes")).to_be_visible()
    shot(page, "73-pwa-newcomer-returned")
    assert errors == []


def test_the_hazard_form_opens_beside_its_question_and_the_grade_is_chosen(page, live_server, assignment, shot):  # noqa: F811
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    graded = grades(task)
    q = _questions(page)[-1]
    card = page.locator(f"#q-{q}")
    card.get_by_role("button", name="不符合").click()
    expect(card).to_contain_text("如存在事故隐患，请登记")
    card.get_by_role("button", name="登记隐患").click()
    form = page.locator("#hazard-form")
    expect(form).to_be_visible()
    # Right below its question, in view, naming it.
    assert page.evaluate(f"document.getElementById('q-{q}').nextElementSibling.id") == "hazard-form"
    page.wait_for_timeout(200)
    assert in_view(page, form.locator("#hz-title"))
    expect(form.locator("#hz-title")).to_contain_text(f"登记隐患：{q}")
    text = next(x["text"] for c in _checklists(task) for x in c["questions"] if x["id"] == q)
    expect(form.locator("#hz-title")).to_contain_text(text[:10])
    # No grade chosen for the inspector; the checklist's grade is a hint.
    expect(form.locator("#hz-grade")).to_have_value("")
    hint = "本项对应重大事故隐患判定标准" if graded[q] == "major" else "检查表将本项列为一般事故隐患"
    expect(form.locator("#hz-suggest")).to_have_text(f"提示：{hint}")
    shot(page, "74-pwa-newcomer-hazard-beside-question")
    # Saving without a grade is refused in the form, and nothing is stored.
    form.locator("#hz-desc").fill("配电箱未接地")
    form.get_by_role("button", name="保存隐患").click()
    expect(form.locator("#hz-error")).to_have_text("请选择隐患等级。")
    expect(form.locator("#hz-grade")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate(f"ssjStore.all('records', 'task_id', {task.id}).then(rs => rs.filter(r => r.kind === 'hazard').length)") == 0
    # The inspector chooses (here the other grade than the hint's: the choice is theirs).
    chosen = "general" if graded[q] == "major" else "major"
    form.locator("#hz-grade").select_option(chosen)
    form.get_by_role("button", name="保存隐患").click()
    expect(form).to_be_hidden()
    expect(card.locator(".here")).to_contain_text("本项已登记隐患")
    expect(card.locator(".here")).to_contain_text("配电箱未接地")
    expect(page.locator("ul.hazards li")).to_contain_text(q)

    # A hazard not tied to a question.
    page.get_by_role("button", name="登记其他隐患").click()
    expect(form).to_be_visible()
    expect(form.locator("#hz-title")).to_have_text("登记隐患（不对应某一检查项）")
    expect(form.locator("#hz-suggest")).to_be_hidden()
    expect(form.locator("#hz-grade")).to_have_value("")
    form.locator("#hz-grade").select_option("general")
    form.locator("#hz-desc").fill("厂区消防通道被货车占用")
    form.get_by_role("button", name="保存隐患").click()
    expect(page.locator("ul.hazards li")).to_have_count(2)

    # A hazard typed but not saved holds the submission back: it would not be part of it, and the greyed
    # form under the read-only banner would look saved (a major hazard lost for good).
    page.get_by_role("button", name="登记其他隐患").click()
    form.locator("#hz-desc").fill("二楼仓库堆放易燃物")
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#submit-dialog")).to_be_hidden()
    expect(form.locator("#hz-error")).to_contain_text("正在登记的隐患还没有保存")
    assert page.evaluate("ssjStore.all('records', 'task_id', %d).then(rs => rs.filter(r => r.kind === 'outcome').length)" % task.id) == 0
    form.get_by_role("button", name="取消").click()
    expect(form).to_be_hidden()

    page.context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    db.session.expire_all()
    rows = {r.data["description"]: r.data for r in db.session.scalars(
        select(SyncRecord).where(SyncRecord.task_id == task.id, SyncRecord.kind == "hazard"))}
    assert rows["配电箱未接地"]["grade"] == chosen and rows["配电箱未接地"]["question"] == q
    assert rows["厂区消防通道被货车占用"]["question"] is None


def test_the_sync_line_stays_in_view_and_english_has_no_raw_values(page, live_server, assignment, shot):  # noqa: F811
    task = assignment["task"]
    open_task(page, live_server, task)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    assert page.evaluate("window.scrollY") > 500
    status, button = page.locator("#sync-status"), page.locator("#sync-now")
    expect(status).to_be_visible()
    # Nothing covers the sync line: the element at its centre is the line itself.
    for el in (status, button):
        box = el.bounding_box()
        assert 0 <= box["y"] < 160, box
        hit = page.evaluate(f"document.elementFromPoint({box['x'] + box['width'] / 2}, {box['y'] + box['height'] / 2}).id")
        assert hit == el.get_attribute("id")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "75-pwa-newcomer-scrolled-sync-line")
    # The English dictionary says it in words too.
    page.locator("#lang").click()
    expect(page.locator("dl.facts")).to_contain_text("Unified social credit code")
    expect(page.locator(".signature[data-role=inspector]")).to_contain_text("Inspector's signature")
    expect(page.locator("h2").first).to_contain_text("version ")
    no_raw_text(page)


def test_a_link_opens_the_task_and_a_browser_tab_says_how_to_install(browser, browser_context_args,  # noqa: F811
                                                                     live_server, assignment, shot):
    task = assignment["task"]
    page = browser.new_context(**browser_context_args).new_page()
    # From the web task page's link, signed out: sign in first, then the task.
    page.goto(f"{live_server}/app/#/task/{task.id}")
    expect(page.locator("#install")).to_contain_text("添加到主屏幕")
    page.get_by_label("用户名").fill("field1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text(task.enterprise["name"], timeout=20000)
    expect(page.locator("article.question").first).to_be_visible()
    expect(page.locator("#install")).to_be_hidden()  # not over the inspection
    # The list says how to install the app, until the inspector has read it.
    page.get_by_role("link", name="‹ 任务").click()
    expect(page.locator("#install")).to_contain_text("添加到主屏幕")
    page.locator("#install").get_by_role("button", name="知道了").click()
    expect(page.locator("#install")).to_be_hidden()
    page.reload()
    expect(page.locator("ul.tasks")).to_be_visible()
    expect(page.locator("#install")).to_be_hidden()
    # A link to a task that is not the inspector's goes to the list and says why.
    page.goto(f"{live_server}/app/#/task/99999999")
    expect(page.locator("#message")).to_contain_text("不在本机的任务列表中", timeout=20000)
    expect(page.locator("ul.tasks")).to_be_visible()
    page.context.close()
