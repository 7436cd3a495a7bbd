"""Every role's main pages, the enterprise's link and the offline app work in a real browser under the
Content-Security-Policy (issue #11 point 9): no `securitypolicyviolation`, no CSP error in the console, no
script error, and the scripts that must run do (htmx search swaps results, the draw verifier enables its
controls, the app syncs a photographed inspection). A planted inline handler proves the watch works.

Issue #11 point 10 on the same pages: the document opens as a draft until issued by its button; the
enterprise's page records the notice only from its button."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from tests.browser.conftest import sign_in
from tests.browser.test_pwa import _photo, assignment  # noqa: F401  (assignment: fixture)
from tests.browser.test_pwa_failures import answer_all, open_task, record_hazard, submit_inspection, synced

#: Records each violation in sessionStorage, so it survives the page's own navigations (init scripts run
#: before the page's and are not subject to its policy).
WATCH = """
document.addEventListener("securitypolicyviolation", e => {
  const seen = JSON.parse(sessionStorage.getItem("__csp") || "[]");
  seen.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} on ${location.pathname}`);
  sessionStorage.setItem("__csp", JSON.stringify(seen));
});
"""


class Watch:
    """A browser context's pages, watched for CSP violations, CSP console messages and script errors."""

    def __init__(self, context):
        self.problems = []
        context.add_init_script(WATCH)
        context.on("page", self.attach)
        for page in context.pages:
            self.attach(page)

    def attach(self, page):
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if re.search(r"Content.Security.Policy|Refused to", m.text) else None)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror on {page.url}: {exc}"))

    def check(self, page):
        """The problems seen so far on this page's tab, and everything the listeners heard."""
        seen = page.evaluate("JSON.parse(sessionStorage.getItem('__csp') || '[]')")
        page.evaluate("sessionStorage.removeItem('__csp')")
        problems, self.problems = self.problems + seen, []
        return problems


def visit(page, watch, url, expect_status=200):
    resp = page.goto(url)
    assert resp.status == expect_status, (url, resp.status)
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert watch.check(page) == [], url


@pytest.fixture
def watched(browser, browser_context_args):
    contexts = []

    def make():
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        watch = Watch(context)
        return context.new_page(), watch
    yield make
    for context in contexts:
        context.close()


def test_the_watch_sees_a_violation(watched, live_server):
    """The control: an inline handler planted in a page is blocked, and the watch says so."""
    page, watch = watched()
    visit(page, watch, f"{live_server}/")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<img src="/none.png" onerror="window.ran=1">')""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None
    assert any("script-src" in p for p in watch.check(page))


def test_every_role_under_the_policy(watched, live_server, assignment, tmp_path, app, shot):  # noqa: F811
    from webapp import roles as R
    from webapp.auth.services import create_user
    from webapp.demo.seed import DEMO_PASSWORD
    from webapp.documents.models import IssuedDocument
    from webapp.review.models import Feedback, Hazard

    task = assignment["task"]

    # The inspector's offline app: sign in, answer, a hazard, a photo (a blob: thumbnail), submit, sync.
    phone, phone_watch = watched()
    open_task(phone, live_server, task)
    phone.context.set_offline(True)
    answer_all(phone)
    first = phone.locator("article.question").first
    first.get_by_role("button", name="不符合").click()
    first = phone.locator("article.question").first
    first.locator("input.photo-input").set_input_files(str(_photo(tmp_path)))
    expect(phone.locator("article.question").first.locator("img.thumb")).to_have_count(1)
    first.get_by_role("button", name="登记隐患").click()
    record_hazard(phone, "配电箱未接地", "major", "2026-12-20")
    expect(phone.locator("ul.hazards")).to_contain_text("配电箱未接地")
    submit_inspection(phone)
    expect(phone.locator("#submit")).to_contain_text("已提交")
    phone.context.set_offline(False)
    synced(phone)
    phone.reload()  # served by the service worker under the same policy
    expect(phone.locator("h1")).to_have_text(task.enterprise["name"])
    assert phone_watch.check(phone) == []

    # The inspector's back office (their tasks, what they owe, their pool entry, checklists).
    from tests.factories import PASSWORD
    desk, desk_watch = watched()
    desk.goto(f"{live_server}/login")
    desk.get_by_label("用户名").fill("field1")
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录").click()
    expect(desk.locator("h1")).to_contain_text("欢迎")
    for path in ("/", "/tasks/", f"/tasks/{task.id}", "/due/", "/me", "/checklists/", "/account/password",
                 "/account/devices"):
        visit(desk, desk_watch, f"{live_server}{path}")
    shot(desk, "62-account-devices")  # the web session and the app's sign-in, each with its sign-out
    expect(desk.locator("main")).to_contain_text("已登录的设备")

    # The team lead of the group's department.
    create_user("grouplead", "本组组长", R.TEAM_LEAD, DEMO_PASSWORD, None,
                task.active_members[0].inspector.department_id, demo=True)  # demo password: issue #11 point 8
    lead, watch = watched()
    sign_in(lead, live_server, "grouplead")
    assert watch.check(lead) == []
    for path in ("/", "/enterprises", "/inspectors", "/items", "/reference", "/due/", "/tasks/", "/review/",
                 "/hazards/", "/plans/", "/checklists/", "/me", f"/tasks/{task.id}"):
        visit(lead, watch, f"{live_server}{path}")
    # htmx under the policy (allowEval off): search as you type swaps the results in.
    visit(lead, watch, f"{live_server}/enterprises")
    name = task.enterprise["name"]
    with lead.expect_response(re.compile(r"/enterprises\?")):
        lead.get_by_role("searchbox").fill(name[:4])
    expect(lead.locator("#results")).to_contain_text(name)
    assert watch.check(lead) == []

    # The review page: QR code (inline SVG), documents as drafts until issued by the button (point 10).
    visit(lead, watch, f"{live_server}/review/{task.id}")
    order = lead.locator("#documents .document[data-kind=order]")
    expect(order.locator(".tag.warn")).to_be_visible()
    assert db.session.scalar(select(db.func.count()).select_from(IssuedDocument)) == 0
    order.get_by_role("button").click()
    expect(lead.locator("#documents .document[data-kind=order] code")).to_contain_text("责改")
    lead.locator("#documents").scroll_into_view_if_needed()
    shot(lead, "63-review-documents-issued")
    assert db.session.scalar(select(IssuedDocument.kind)) == "order"
    hazard = db.session.scalar(select(Hazard).where(Hazard.task_id == task.id))
    visit(lead, watch, f"{live_server}/hazards/{hazard.id}")
    visit(lead, watch, f"{live_server}/review/{task.id}")
    lead.locator("#enterprise-link").get_by_role("button").first.click()
    expect(lead.locator("#enterprise-link svg")).to_be_visible()
    link_url = lead.locator("#link-url").inner_text()
    assert watch.check(lead) == []

    # The enterprise's page: opening it records nothing; its button records the notice (R19).
    firm, firm_watch = watched()
    visit(firm, firm_watch, link_url)
    visit(firm, firm_watch, link_url)
    assert db.session.scalar(select(db.func.count()).select_from(Feedback)) == 0
    shot(firm, "64-enterprise-order-unread")
    firm.locator("#receipt").get_by_role("button").click()
    expect(firm.locator("#receipt form")).to_have_count(0)
    db.session.expire_all()
    assert [f.way for f in db.session.scalars(select(Feedback))] == ["link"]
    assert firm_watch.check(firm) == []

    # The administrator.
    admin, admin_watch = watched()
    sign_in(admin, live_server, "admin")
    for path in ("/users", "/users/new", "/audit/", "/audit/verify", "/calendar/", "/enterprises/new",
                 "/inspectors/new", "/items/new", "/registries/import/enterprises", "/account/password",
                 f"/batches/{task.batch_id}"):
        visit(admin, admin_watch, f"{live_server}{path}")
    with admin.expect_response(re.compile(r"/audit/\?")):
        admin.goto(f"{live_server}/audit/")
        admin.locator("select[name=action]").select_option("document.issue")
    expect(admin.locator("#results")).to_contain_text("出具执法文书")  # the action by its label (issue #12)
    assert admin_watch.check(admin) == []

    # The brigade lead: plans and batches.
    brigade, brigade_watch = watched()
    sign_in(brigade, live_server, "brigade")
    from webapp.tasks.models import Task
    batch = db.session.get(Task, task.id).batch_id
    for path in ("/plans/", f"/batches/{batch}", "/plans/new", "/review/"):
        visit(brigade, brigade_watch, f"{live_server}{path}")

    # The public: published plans and results, the item list, checklists, and the verifier's script runs.
    citizen, citizen_watch = watched()
    for path in ("/", "/login", "/public/plans", "/public/results", "/public/items", "/checklists/"):
        visit(citizen, citizen_watch, f"{live_server}{path}")
    visit(citizen, citizen_watch, f"{live_server}/public/verify")
    expect(citizen.locator("#verify-file")).to_be_enabled()  # verify-draw.js ran
    with citizen.expect_response(re.compile(r"/public/results\?")):
        citizen.goto(f"{live_server}/public/results")
        citizen.get_by_role("searchbox").fill("不存在的企业")
    assert citizen_watch.check(citizen) == []
