"""The year's compliance dashboard on a 360-px phone (issue #13 point 3): the office opens it, picks the
year that broke every rule once, sees each breach in words and follows a shortfall to the units behind it."""
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from webapp import roles as R
from sqlalchemy import select

from webapp.db_types import today_shanghai
from webapp.extensions import db
from webapp.registries.models import Enterprise
from tests.brigade.test_compliance import BREACHES, YEAR, Year, seed_year
from tests.factories import PASSWORD, make_role_users

SHOTS = Path("/tmp/h/shots")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=True)


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.fixture
def year(ctx):
    make_role_users()
    found = seed_year(breaks=BREACHES)
    this = today_shanghai().year
    running = None
    if this != YEAR:  # this year, running: some of the same units inspected, one enterprise told late
        y = Year(this)
        units = db.session.scalars(select(Enterprise).where(Enterprise.status == "operating")
                                   .order_by(Enterprise.id)).all()
        for k, unit in enumerate(units[:12]):
            y.task(unit, done=date(this, 3 + k % 8, 10 + k), told=9 if k == 0 else 0)
        db.session.commit()
        running = y
    return found, running


def sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("欢迎")


def test_office_follows_a_shortfall_to_its_units(page, live_server, year):
    found, running = year
    sign_in(page, live_server, R.ADMIN)
    page.goto(f"{live_server}/brigade/dashboard")
    this = today_shanghai().year
    expect(page.locator("h1")).to_have_text(f"{this} 年度合规情况")
    if running is not None:
        expect(page.locator(".dash-state")).to_contain_text("年度进行中")
        expect(page.locator(".chart.drawn canvas")).to_be_visible()  # the month-by-month line
        expect(page.locator('[data-rule="R19"]')).to_have_attribute("data-ok", "no")
    fits(page)
    shoot(page, "01-this-year")

    page.locator("#year").select_option(str(YEAR))
    page.get_by_role("button", name="查看").click()
    expect(page.locator("h1")).to_have_text(f"{YEAR} 年度合规情况")
    expect(page.locator(".dash-state")).to_contain_text("8 项规则未达标")
    for rid in BREACHES:
        expect(page.locator(f'[data-rule="{rid}"]')).to_have_attribute("data-ok", "no")
    body = page.locator("main").inner_text()
    assert not re.search(r"\bR(5|6|7|8|9|10|19|20)\b", body)  # rules in words
    assert "重点监管单位全年全部抽查" in body and "黑名单单位全年全部抽查" in body
    fits(page)
    shoot(page, "02-year-with-breaches")

    page.locator('[data-rule="R8"] a.shortfall').click()
    expect(page.locator("h1")).to_have_text("尚未检查的重点监管单位")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(found["R8"])
    expect(rows.first).to_contain_text("未列入任何任务")
    fits(page)
    shoot(page, "03-key-units-unchecked")
    rows.first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(found["R8"])

    page.goto(f"{live_server}/brigade/dashboard?year={YEAR}")
    page.locator('[data-rule="R19"] a.shortfall').click()
    expect(page.locator("h1")).to_have_text("逾期反馈或未反馈的企业")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr").first).to_contain_text("逾期")
    fits(page)
    shoot(page, "04-feedback-late")

    page.goto(f"{live_server}/brigade/dashboard?year={YEAR}")
    page.locator('[data-rule="R10"] a.shortfall').click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_contain_text("3")
    fits(page)
    shoot(page, "05-over-cap")

    page.goto(f"{live_server}/brigade/dashboard?year={YEAR}")
    page.locator('[data-rule="R5"] a.shortfall').click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_contain_text(found["R5"])
    fits(page)
    shoot(page, "06-changes-late")


def test_brigade_lead_sees_a_clean_year(page, live_server, ctx):
    make_role_users()
    seed_year()
    sign_in(page, live_server, R.BRIGADE_LEAD)
    page.goto(f"{live_server}/brigade/dashboard?year={YEAR}")
    expect(page.locator(".dash-state")).to_contain_text("各项规则均已达标")
    expect(page.locator('[data-ok="no"]')).to_have_count(0)
    expect(page.locator('[data-ok="yes"]')).to_have_count(len(BREACHES))
    fits(page)
    shoot(page, "07-clean-year")
