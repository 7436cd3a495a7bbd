"""Issue #13 point 2 (R23) on a 360-px phone: the brigade lead opens the batch's summary of experience from
the batch page, finds the platform's draft with the batch's figures and its most-failed question, writes
the causes and suggestions, is told what is missing without losing a word, saves, and sends it with a
double tap (sent once); an office sees it waiting on its home page, acknowledges it with an answer (a
double tap again), and the brigade lead sees that office's acknowledgement and answer."""
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import func, select

from webapp.audit.models import AuditEntry
from webapp.extensions import db
from tests.brigade.test_report import world  # noqa: F401  (fixture)
from tests.factories import PASSWORD

SHOTS = Path("/tmp/h/shots")


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"report-{name}.png"), full_page=True)


def _sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("欢迎")


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling


def _audits(action):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(AuditEntry.action == action))


def test_the_lead_writes_and_sends_and_an_office_acknowledges_on_a_phone(page, browser, browser_context_args,
                                                                         live_server, world):  # noqa: F811
    batch = world["batch"]
    _sign_in(page, live_server, "brigade")
    page.goto(f"{live_server}/batches/{batch.id}")
    block = page.locator("#batch-report")
    expect(block).to_contain_text("未撰写")
    block.get_by_role("link", name="经验总结").click()
    expect(page.locator("h1")).to_have_text("经验总结")
    problems = page.locator("#problems")
    text = problems.input_value()
    assert "共派出检查任务 2 项" in text and "是否符合？" in text  # the batch's figures, its failed question
    # The coordinating office is offered but not ticked; the business offices are.
    expect(page.get_by_label("危险化学品安全监督管理股")).to_be_checked()
    expect(page.get_by_label("工贸行业安全监督管理股")).to_be_checked()
    expect(page.get_by_label("双随机工作领导小组办公室")).not_to_be_checked()
    _fits(page)
    _shot(page, "1-draft")

    # Sending without the causes: told where, nothing typed is lost.
    problems.fill(text + "\n另：部分企业安全出口堵塞。")
    page.locator("#suggestions").fill("建议危化股将安全出口纳入下批次重点。")
    page.locator("#report-send").click()
    expect(page.locator(".field-error")).to_have_text("发送前必须填写。")
    expect(page.locator("#suggestions")).to_have_value("建议危化股将安全出口纳入下批次重点。")
    expect(page.locator("#problems")).to_have_value(text + "\n另：部分企业安全出口堵塞。")
    _fits(page)
    _shot(page, "2-error")

    page.locator("#causes").fill("日常巡查流于形式，企业主体责任落实不到位。")
    page.locator("#report-save").click()
    expect(page.locator(".flash.success")).to_have_text("草稿已保存。")
    expect(page.locator("#report-state")).to_contain_text("草稿，未发送")
    expect(page.locator("#causes")).to_have_value("日常巡查流于形式，企业主体责任落实不到位。")

    # The send button tapped twice: sent once.
    page.locator("#report-send").dblclick()
    expect(page.locator("#report-state")).to_contain_text("已发送")
    expect(page.locator("#report-text")).to_contain_text("日常巡查流于形式")
    expect(page.locator("#report-addressees li")).to_have_count(2)
    expect(page.locator("#problems")).to_have_count(0)  # frozen
    assert _audits("batch_report.send") == 1
    _fits(page)
    _shot(page, "3-sent")

    # The office, on its own phone.
    office = browser.new_context(**browser_context_args).new_page()
    _sign_in(office, live_server, "hazchem")
    waiting = office.locator("[data-count=reports-awaiting]")
    expect(waiting).to_contain_text("1")
    _fits(office)
    _shot(office, "4-office-home")
    waiting.click()
    expect(office.locator("#report-inbox")).to_contain_text("待确认")
    office.locator("#report-inbox a").first.click()
    expect(office.locator("#report-text")).to_contain_text("建议危化股将安全出口纳入下批次重点。")
    office.locator("#answer").fill("我股下月开展安全出口专项检查。")
    office.locator("#report-ack").dblclick()
    expect(office.locator("#my-acknowledgement")).to_contain_text("已确认")
    expect(office.locator("#answer")).to_have_value("我股下月开展安全出口专项检查。")
    assert _audits("batch_report.acknowledge") == 1 and _audits("batch_report.answer") == 1
    _fits(office)
    _shot(office, "5-office-acknowledged")
    office.goto(f"{live_server}/")
    expect(office.locator("[data-count=reports-awaiting] b")).to_have_text("0")

    # The brigade lead sees who acknowledged and what they answered.
    page.reload()
    hazchem = page.locator(f"#report-addressees li[data-department='{world['hazchem'].id}']")
    expect(hazchem).to_contain_text("已确认")
    expect(hazchem).to_contain_text("我股下月开展安全出口专项检查。")
    expect(page.locator(f"#report-addressees li[data-department='{world['trade'].id}']")).to_contain_text("待确认")
    page.goto(f"{live_server}/brigade/reports")
    expect(page.locator("#report-overview")).to_contain_text("1/2 个股室已确认")
    _fits(page)
    _shot(page, "6-lead-overview")
