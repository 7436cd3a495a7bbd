"""A submitted inspection on the phone (issue #11 point 1): it says why it cannot change; a change the
server refused stays on the phone with its reason and goes once the team lead returns the inspection."""
from playwright.sync_api import expect

from webapp import roles as R
from webapp.auth.services import create_user
from webapp.extensions import db
from webapp.review import services
from webapp.sync.models import SyncRecord
from webapp.tasks.models import Task
from tests.browser.test_pwa import assignment, pending  # noqa: F401  (assignment: fixture)
from tests.browser.test_pwa_failures import answer_all, open_task, submit_inspection, synced
from tests.browser.conftest import sign_in


def submit_offline_then_sync(page):
    """Answer everything and submit offline, then sync: the inspection is submitted on the server."""
    page.context.set_offline(True)
    answer_all(page)
    submit_inspection(page)
    page.context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    synced(page)


def offline_believing_open(page, task):
    """The phone offline and still believing the task open (as when a colleague submitted meanwhile);
    returns the first question's card, its controls enabled."""
    page.context.set_offline(True)
    expect(page.locator("#progress")).to_be_hidden()  # no sync run left to write the task list back
    page.evaluate(f"""self.ssjStore.update("tasks", {task.id}, t => ({{...t, review: {{...t.review, state: "open"}}}}))""")
    page.reload()
    first = page.locator("article.question").first
    expect(first.get_by_role("button", name="不符合")).to_be_enabled()
    return first

def test_a_submitted_inspection_is_frozen_on_the_phone_until_returned(page, app, browser, browser_context_args,  # noqa: F811
                                                                      live_server, assignment, shot):
    task = assignment["task"]
    open_task(page, live_server, task)
    # The phone keeps its device key for the next sign-in (issue #11 point 8: known devices skip the delay).
    from webapp.auth import known
    key = page.evaluate("localStorage.getItem('ssj-device')")
    with app.test_request_context():
        assert assignment["user"].id in known.account_ids(key)
    submit_offline_then_sync(page)
    expect(page.locator("#frozen")).to_contain_text("等待组长审核")

    # A submitted inspection's controls are disabled, and the page says why.
    first = page.locator("article.question").first
    expect(page.locator("#frozen")).to_contain_text("组长退回修改前")
    expect(first.get_by_role("button", name="不符合")).to_be_disabled()
    expect(first.locator("input.note")).to_be_disabled()
    expect(page.locator("#submit")).to_contain_text("已提交，等待组长审核")
    expect(page.locator("button#submit")).to_have_count(0)  # no live submit button
    assert pending(page) == "0"
    expect(first.locator(".choice.on")).to_have_text("符合")

    # A phone that did not know yet (a colleague submitted while it was offline): its change is refused
    # by the server, kept on the phone with the reason, and nothing on the server moves.
    first = offline_believing_open(page, task)
    first.get_by_role("button", name="不符合").click()
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "1")
    page.context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("article.question").first.locator(".tag.bad")).to_contain_text("未被服务器接受")
    expect(page.locator("#message")).to_contain_text("组长退回后自动发送")
    expect(page.locator("#frozen")).to_contain_text("等待组长审核")
    assert pending(page) == "1"
    shot(page, "60-pwa-frozen")
    question = page.locator("article.question").first.get_attribute("id").removeprefix("q-")
    db.session.expire_all()
    row = db.session.query(SyncRecord).filter_by(task_id=task.id, question=question).one()
    assert row.data["result"] == "yes" and row.revision == 1

    # The team lead (not of the group), on a phone, sees the refused change; approval would pass over it,
    # so the lead returns the inspection.
    from webapp.demo.seed import DEMO_PASSWORD
    create_user("frozenlead", "组长", R.TEAM_LEAD, DEMO_PASSWORD, None, task.active_members[0].inspector.department_id,
                demo=True)
    assert [c["data"]["result"] for c in services.refused_changes(task.id)] == ["no"]
    lead = browser.new_context(**browser_context_args).new_page()
    sign_in(lead, live_server, "frozenlead")
    lead.goto(f"{live_server}/review/{task.id}")
    expect(lead.locator("#refused-changes")).to_contain_text("不符合")
    lead.get_by_role("button", name="审核通过").click()
    expect(lead.locator(".flash")).to_contain_text("未被接受")
    shot(lead, "61-review-refused-changes")
    lead.get_by_label("需要修改的内容").fill("请核对第一项")
    lead.get_by_role("button", name="退回修改").click()
    expect(lead.locator(".flash")).to_contain_text("已退回检查组")
    lead.context.close()
    page.get_by_role("button", name="立即同步").click()
    synced(page)  # released by the return, sent by the next run
    expect(page.locator("#returned")).to_contain_text("请核对第一项")
    expect(page.locator("#frozen")).to_have_count(0)
    db.session.expire_all()
    row = db.session.query(SyncRecord).filter_by(task_id=task.id, question=question).one()
    assert row.data["result"] == "no" and row.revision == 2
    assert services.refused_changes(task.id) == []


def test_a_change_refused_after_approval_is_set_aside_on_the_phone(page, live_server, assignment):  # noqa: F811
    """Approved: the refused change can never land. The server keeps it on the audit trail; the phone takes
    the server's version back and says so, so nothing stays pending for ever (or blocks another sign-in)."""
    task = assignment["task"]
    open_task(page, live_server, task)
    submit_offline_then_sync(page)
    # The phone goes offline still believing the task open, and the team lead approves meanwhile.
    first = offline_believing_open(page, task)
    first.get_by_role("button", name="不符合").click()
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "1")
    from webapp.demo.seed import DEMO_PASSWORD
    lead = create_user("approver", "组长", R.TEAM_LEAD, DEMO_PASSWORD, None,
                       task.active_members[0].inspector.department_id, demo=True)
    services.approve(db.session.get(Task, task.id), lead)
    page.context.set_offline(False)
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    expect(page.locator("#set-aside")).to_contain_text("1 条修改未被采纳")
    expect(page.locator("#frozen")).to_contain_text("审核通过")
    expect(page.locator("article.question").first.locator(".choice.on")).to_have_text("符合")
    # On the server: the approved answer unchanged, the refused change on record for the team lead.
    assert [c["data"]["result"] for c in services.refused_changes(task.id)] == ["no"]
