"""The administrator enters 2027's holidays on a phone-sized screen (issue #5 §8)."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_the_administrator_enters_and_confirms_next_years_holidays(page, live_server, demo, shot):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/calendar/")
    year = page.locator("#year-2027")
    expect(year).to_contain_text("暂定")
    year.get_by_label("日期").fill("2027-01-01")
    year.get_by_label("说明").fill("元旦")
    year.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("已重新计算")
    expect(page.locator("#year-2027")).to_contain_text("2027-01-01")
    expect(page.locator("#year-2027")).to_contain_text("放假（休）")
    page.locator("#year-2027").get_by_role("button", name="确认").click()
    expect(page.locator("#year-2027")).to_contain_text("已确认")
    expect(page.locator("#year-2026")).to_contain_text("已内置")
    shot(page, "51-holiday-calendar")
