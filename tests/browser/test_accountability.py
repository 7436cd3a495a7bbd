"""Accountability (R24, issue #13 point 4) on a 360-px phone: the office opens the year's accountability,
reads the explanation, follows a count to the tasks behind it and opens a task's duty record; every page is
in Chinese, without raw codes or rule ids, and nothing overflows. Screenshots go to /tmp/h/shots (and the
usual test-results/screenshots)."""
from pathlib import Path

from playwright.sync_api import expect

from tests.brigade.test_accountability import world  # noqa: F401  (fixture)
from tests.browser.crawl import page_problems
from tests.factories import PASSWORD

SHOTS = Path("/tmp/h/shots")


def _shot(page, shot, name):
    shot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_office_follows_a_count_to_the_duty_record_on_a_phone(page, world, live_server, shot):  # noqa: F811
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("office")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_be_visible()

    year, batch = world["plan"].year, world["batch"].id
    page.goto(f"{live_server}/brigade/accountability?year={year}&batch={batch}")
    expect(page.locator("h1")).to_have_text("履职问责")
    expect(page.locator('[data-metric="returned"] b')).to_have_text("2")
    _shot(page, shot, "accountability-overview")
    page.get_by_text("统计口径说明").click()
    expect(page.locator(".acc-explain")).to_contain_text("尽职照单免责")
    page.locator(".acc-explain").screenshot(path=str(SHOTS / "accountability-explained.png"))
    problems, _links = page_problems(page)  # opens every <details> (the menu too): reload after it
    assert problems == [], problems
    page.reload()

    # The newcomer who took over task A answers for it; the count links to the task.
    row = page.locator(f'tr[data-inspector="{world["newcomer"]}"]')
    row.locator('a[href*="metric=late"]').click()
    expect(page.locator("h1")).to_have_text("未在时限内完成检查")
    expect(page.locator(f'tr[data-task="{world["a"].id}"]')).to_contain_text("未提交")
    _shot(page, shot, "accountability-list")
    problems, _links = page_problems(page)
    assert problems == [], problems
    page.reload()

    page.locator(f'tr[data-task="{world["a"].id}"]').get_by_role("link", name="履职记录").click()
    expect(page.locator("h1")).to_have_text("履职记录")
    expect(page.locator('[data-step="checkin"]')).to_contain_text("缺失")
    expect(page.locator('[data-step="dispatched"]')).to_contain_text("病假")
    _shot(page, shot, "accountability-duty-missing")
    problems, _links = page_problems(page)
    assert problems == [], problems

    # A task done by the book: the check-in's two times and its distance from the registered location.
    page.goto(f"{live_server}/brigade/tasks/{world['c'].id}/duty")
    expect(page.locator('[data-step="checkin"]')).to_contain_text("111 米")
    expect(page.locator('[data-step="published"]')).to_contain_text("按时")
    _shot(page, shot, "accountability-duty-done")
    problems, _links = page_problems(page)
    assert problems == [], problems

    # The hazards behind a count.
    page.goto(f"{live_server}/brigade/accountability?year={year}&metric=escalation")
    expect(page.locator("tr[data-hazard]")).to_have_count(2)
    _shot(page, shot, "accountability-hazards")
    problems, _links = page_problems(page)
    assert problems == [], problems


def test_the_overview_puts_failures_first_and_clears_the_others_on_a_phone(page, world, live_server, shot):  # noqa: F811
    """The demo's overview was ~35,000 px tall on a phone (a card per inspector and per group): the rows
    are those with a failure; those who followed the list are named in one folded list; a tap shows all."""
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("office")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_be_visible()
    year, batch = world["plan"].year, world["batch"].id
    clean = [m.inspector_id for m in world["c"].active_members]
    page.goto(f"{live_server}/brigade/accountability?year={year}&batch={batch}")
    expect(page.locator("[data-acc-summary]")).to_contain_text("有失职记录")
    expect(page.locator(f'tr[data-inspector="{world["newcomer"]}"]')).to_be_visible()
    expect(page.locator(f'tr[data-inspector="{clean[0]}"]')).to_have_count(0)
    cleared = page.locator("details[data-acc-clean]").first
    cleared.locator("summary").tap()
    expect(cleared.locator("li").first).to_be_visible()
    _shot(page, shot, "adv2-accountability-cleared")
    problems, _links = page_problems(page)
    assert problems == [], problems
    page.reload()
    page.locator("a[data-acc-toggle]").tap()
    expect(page.locator(f'tr[data-inspector="{clean[0]}"]')).to_be_visible()
    expect(page.locator("details[data-acc-clean]")).to_have_count(0)
    _shot(page, shot, "adv2-accountability-all")
    page.locator("a[data-acc-toggle]").tap()
    expect(page.locator(f'tr[data-inspector="{clean[0]}"]')).to_have_count(0)
