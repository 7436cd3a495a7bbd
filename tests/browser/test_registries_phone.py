"""On a 360-px phone: sign in and walk the registries as each role would."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def open_menu(page, link_name):
    page.locator(".menu summary").click()
    page.locator(".menu nav").get_by_role("link", name=link_name, exact=True).click()


def test_admin_walks_the_registries(page, live_server, demo, shot):
    sign_in(page, live_server, "admin")
    shot(page, "01-home-admin")
    open_menu(page, "检查对象名录库")
    expect(page.locator("h1")).to_have_text("检查对象名录库")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_placeholder(re.compile("名称")).fill("化工")
    expect(page).to_have_url(re.compile(r"q=%E5%8C%96%E5%B7%A5"))  # htmx pushed the search into the URL
    first = page.locator("#results tbody tr").first
    expect(first).to_contain_text("化工")
    shot(page, "02-enterprises-search")
    first.get_by_role("link").click()
    expect(page.locator("dl.facts")).to_contain_text("统一社会信用代码")
    shot(page, "03-enterprise")
    # The page must fit the phone: nothing wider than the viewport but the scrolling tables.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    open_menu(page, "执法检查人员名录库")
    expect(page.locator("#results tbody tr")).to_have_count(50)
    shot(page, "04-inspectors")
    open_menu(page, "随机抽查事项清单")
    expect(page.locator("table")).to_contain_text("抽查依据")
    shot(page, "05-items")
    page.goto(f"{live_server}/registries/import/enterprises")
    shot(page, "06-import")
    page.goto(f"{live_server}/audit/verify")
    expect(page.locator(".flash.success")).to_be_visible()


def test_inspector_sees_own_profile_only(page, live_server, demo, shot):
    sign_in(page, live_server, "inspector")
    open_menu(page, "我的信息")
    expect(page.locator("dl.facts")).to_contain_text("执法证")
    shot(page, "07-inspector-profile")
    page.goto(f"{live_server}/enterprises")
    expect(page.locator("h1")).to_have_text("无权访问")


def test_invalid_credit_code_is_flagged_inline(page, live_server, demo, shot):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/enterprises/new")
    page.get_by_label(re.compile("统一社会信用代码")).fill("91140525MA0XXXXXX1")
    expect(page.locator("#uscc-msg .field-error")).to_be_visible()
    shot(page, "08-enterprise-form-inline-error")


def test_team_lead_sees_own_department_only(page, live_server, demo, shot):
    sign_in(page, live_server, "teamlead")
    open_menu(page, "执法检查人员名录库")
    departments = page.locator("#results td[data-label='所属部门']").all_inner_texts()
    assert departments and set(departments) == {"综合行政执法大队"}
    shot(page, "09-teamlead-inspectors")
    open_menu(page, "检查对象名录库")
    expect(page.locator("#results tbody tr")).to_have_count(50)
    expect(page.get_by_role("link", name="新增企业")).to_have_count(0)  # read-only for a team lead
