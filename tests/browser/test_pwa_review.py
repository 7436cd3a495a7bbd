"""The loop after the inspection, as the inspector's phone and the team lead's browser see it:
submitted → returned for correction (the comment reaches the phone) → submitted again → approved →
order PDF → the enterprise's evidence through its link → re-inspection done offline → closure synced →
销号 by the team lead → published → found in the public search (issues #4 and #5)."""
import io

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from webapp.extensions import db
from webapp.review.models import Hazard
from webapp.tasks.models import Task
from tests.browser.conftest import sign_in
from tests.browser.test_pwa import _photo, assignment  # noqa: F401  (assignment: fixture)
from tests.browser.test_pwa_failures import answer_all, open_task, record_hazard, submit_inspection, synced


def test_return_correct_approve_reinspect_and_close(page, browser, browser_context_args, live_server,  # noqa: F811
                                                    assignment, shot, tmp_path):
    task = assignment["task"]
    open_task(page, live_server, task)
    page.context.set_offline(True)
    answer_all(page)
    first = page.locator("article.question").first
    first.get_by_role("button", name="不符合").click()
    first = page.locator("article.question").first
    first.get_by_role("button", name="登记隐患").click()
    record_hazard(page, "配电箱未接地", "major", "2026-12-20")
    expect(page.locator("ul.hazards")).to_contain_text("配电箱未接地")
    submit_inspection(page)
    expect(page.locator("#submit")).to_contain_text("已提交")  # the outcome is stored before the network returns
    page.context.set_offline(False)
    synced(page)

    # The team lead, in the back office on a phone, returns it with a comment.
    # A team lead of the group's own department (the demo draw's groups come from several).
    from webapp import roles as R
    from webapp.auth.services import create_user
    from webapp.demo.seed import DEMO_PASSWORD
    create_user("grouplead", "本组组长", R.TEAM_LEAD, DEMO_PASSWORD, None,
                task.active_members[0].inspector.department_id, demo=True)  # demo password: issue #11 point 8
    lead = browser.new_context(**browser_context_args).new_page()
    sign_in(lead, live_server, "grouplead")
    lead.goto(f"{live_server}/review/")
    lead.get_by_role("link", name=task.enterprise["name"]).click()
    expect(lead.locator("#review-state")).to_have_text("已提交，待审核")
    lead.get_by_label("需要修改的内容").fill("第一项请补拍现场照片")
    lead.get_by_role("button", name="退回修改").click()
    expect(lead.locator(".flash")).to_contain_text("已退回检查组")

    # The comment reaches the phone at its next sync; the inspector corrects and submits again.
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    expect(page.locator("#returned")).to_contain_text("第一项请补拍现场照片")
    shot(page, "47-pwa-returned")
    page.locator("article.question").first.locator("input.photo-input").set_input_files(str(_photo(tmp_path)))
    expect(page.locator("article.question").first.locator("img.thumb")).to_have_count(1)
    submit_inspection(page, again=True)
    expect(page.locator("#returned")).to_have_count(0)
    page.get_by_role("button", name="立即同步").click()
    synced(page)

    lead.reload()
    expect(lead.locator("#review-state")).to_have_text("已提交，待审核")
    lead.get_by_role("button", name="审核通过").click()
    expect(lead.locator("#review-state")).to_have_text("已审核，待公示")
    lead.get_by_label("告知方式").select_option(label="现场送达")  # R19: told on site, today
    lead.get_by_role("button", name="记录告知").click()
    expect(lead.locator("#feedback")).to_contain_text("现场送达")
    # A major hazard: its rectification plan, on the hazard's own page.
    lead.get_by_role("link", name="详情与处置").click()
    for label, value in (("治理目标", "消除触电风险"), ("治理措施", "重新敷设接地线"), ("资金", "0.5万元"),
                         ("负责人员", "电工 李师傅"), ("整改期间安全措施", "断电挂牌")):
        lead.get_by_label(label, exact=True).fill(value)
    lead.locator("#plan-deadline").fill("2026-12-15")
    lead.get_by_role("button", name="保存方案").click()
    expect(lead.locator("#plan")).to_contain_text("重新敷设接地线")
    expect(lead.locator("ul.history")).to_contain_text("整改方案")
    shot(lead, "54-hazard-plan")
    lead.get_by_role("link", name="原检查").click()

    # The order as a PDF, from the review page's link (fetched with the lead's session).
    order_url = lead.get_by_role("link", name="责令限期整改指令书（PDF）").get_attribute("href")
    pdf = lead.context.request.get(f"{live_server}{order_url}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "责令限期整改指令书" in text and "配电箱未接地" in text

    # The enterprise's link and QR code; the enterprise, without an account, sends its evidence.
    lead.get_by_role("button", name="生成企业专属链接").click()
    expect(lead.locator("#enterprise-link svg")).to_be_visible()
    link_url = lead.locator("#link-url").inner_text()
    shot(lead, "52-review-enterprise-link")
    firm = browser.new_context(**browser_context_args).new_page()
    firm.goto(link_url)
    expect(firm.locator("h1")).to_have_text(task.enterprise["name"])
    firm.get_by_label("整改情况").fill("已重新敷设接地线并检测")
    firm.get_by_label("照片（最多 6 张）").set_input_files(str(_photo(tmp_path)))
    firm.get_by_role("button", name="提交").click()
    expect(firm.locator(".flash")).to_contain_text("已收到")
    expect(firm.locator(".hazard")).to_contain_text("待审核")
    shot(firm, "53-enterprise-order")
    firm.context.close()
    lead.reload()
    expect(lead.locator(".evidence img.thumb")).to_have_count(1)
    lead.get_by_role("button", name="采纳整改材料").click()
    expect(lead.locator(".evidence")).to_contain_text("已采纳")
    lead.get_by_role("button", name="安排复查").click()
    expect(lead.locator(".flash")).to_contain_text("复查任务已派发")
    shot(lead, "48-review-approved")

    # The re-inspection comes down to the phone and is done offline.
    page.get_by_role("link", name="‹ 任务").click()
    page.get_by_role("button", name="立即同步").click()
    synced(page)
    again = db.session.scalar(select(Task).where(Task.origin_task_id == task.id))
    expect(page.locator("ul.tasks li", has_text="复查")).to_have_count(1)
    page.context.set_offline(True)
    page.locator("ul.tasks li", has_text="复查").get_by_role("link").click()
    card = page.locator("article.closure")
    expect(card).to_contain_text("配电箱未接地")
    card.get_by_role("button", name="已整改").click()
    page.locator("article.closure input.note").fill("已重新接地并检测合格")
    page.locator("article.closure input.note").blur()
    page.locator("article.closure input.photo-input").set_input_files(str(_photo(tmp_path)))
    expect(page.locator("article.closure img.thumb")).to_have_count(1)
    submit_inspection(page)
    expect(page.locator("#submit")).to_contain_text("已提交")
    shot(page, "49-pwa-reinspection")
    page.context.set_offline(False)
    synced(page)
    hazard = db.session.scalar(select(Hazard))
    db.session.refresh(hazard)
    assert (hazard.status, hazard.rectified, hazard.reinspection_task_id) == ("awaiting_review", True, again.id)

    # The team lead closes it (销号) on the re-inspection's review page.
    lead.goto(f"{live_server}/review/{again.id}")
    expect(lead.locator(f"#hazard-{hazard.id}")).to_contain_text("已整改")
    lead.get_by_role("button", name="销号", exact=True).click()
    expect(lead.locator(f"#hazard-{hazard.id}")).to_contain_text("已销号")
    lead.goto(f"{live_server}/hazards/?status=closed")
    expect(lead.locator("ul.tasklist")).to_contain_text("配电箱未接地")

    # Published (R20): the records suggest the category; the public finds it by name.
    lead.goto(f"{live_server}/review/{task.id}")
    expect(lead.locator("#category")).to_have_value("corrected")  # a hazard found, and closed
    lead.locator("#publication").get_by_role("button", name="公示").click()
    expect(lead.locator(".flash")).to_contain_text("已公示")
    lead.context.close()
    citizen = browser.new_context(**browser_context_args).new_page()
    citizen.goto(f"{live_server}/public/results")
    citizen.get_by_role("searchbox").fill(task.enterprise["name"][:4])
    expect(citizen.locator("ul.results")).to_contain_text("发现问题已责令改正")
    expect(citizen.locator("ul.results")).to_contain_text(task.enterprise["name"])
    shot(citizen, "50-public-results")
    citizen.context.close()
