"""Issue #12 point 8, on a 360-px phone: the team lead opens a submitted inspection and finds, before any
finding, what is missing (unanswered questions, differing records, signatures) and the decision; approving
with questions unanswered needs the confirmation ticked; a thumbnail opens the photo at full size."""
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.review.test_review_page_newcomer import build_inspection


def _sign_in(page, base):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("lead")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_be_visible()


def _top(page, selector) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


def test_the_lead_reads_the_flags_and_decides_at_the_top_on_a_phone(page, ctx, live_server, shot):
    made = build_inspection()
    task, hazard = made["task"], made["hazard"]
    _sign_in(page, live_server)
    page.goto(f"{live_server}/review/{task.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling

    # On opening: the summary and its flags are on the first screen.
    expect(page.locator("#review-summary")).to_be_in_viewport()
    expect(page.locator("#flag-unanswered")).to_contain_text("3 个检查项未作答")
    expect(page.locator("#flag-unanswered")).to_be_in_viewport()
    expect(page.locator("#flag-conflicts")).to_be_in_viewport()
    expect(page.locator("#unanswered")).to_contain_text("是否开展应急演练？")
    shot(page, "review-phone-top")
    # The decision comes before every finding: the lead reaches it without scrolling past any of them.
    approve = page.get_by_role("button", name="审核通过")
    findings = min(_top(page, sel) for sel in ("#conflicts", f"#hazard-{hazard.id}", "#answers", "#signatures"))
    assert _top(page, "#return-form") < findings and _top(page, "#approve-form") < findings
    expect(approve).to_be_disabled()  # the phones disagree on Q-1: that is settled first

    # The differing answer is settled where it is shown; the decision is then open.
    page.locator("#conflict-Q-1 form", has_text="符合").get_by_role("button", name="采用此条").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#flag-conflicts")).to_have_count(0)
    approve = page.get_by_role("button", name="审核通过")
    expect(approve).to_be_enabled()
    # Approving with questions unanswered asks first: without the confirmation nothing is sent.
    confirm = page.locator("#confirm-unanswered")
    expect(confirm).to_contain_text("3 个检查项未作答")
    expect(confirm).to_contain_text("缺少企业负责人签名")
    approve.click()
    expect(page.locator("input[name=confirm_unanswered]:invalid")).to_have_count(1)
    expect(page.locator("#review-state")).to_have_text("已提交，待审核")

    # A thumbnail opens the photo at full size.
    page.locator("#answers").scroll_into_view_if_needed()
    shot(page, "review-phone-scrolled")
    thumb = page.locator(f"#hazard-{hazard.id} a.thumb-link").first
    thumb.scroll_into_view_if_needed()
    expect(thumb.locator("img")).to_have_js_property("complete", True)
    assert thumb.locator("img").evaluate("i => i.naturalWidth") == 480  # the thumbnail, not the photo
    with page.expect_response(lambda r: r.url.endswith("/full")) as opened:
        thumb.click()
    assert opened.value.status == 200 and opened.value.headers["content-type"] == "image/jpeg"
    expect(page.locator("img")).to_have_js_property("naturalWidth", 1600)
    page.go_back()

    # With the confirmation ticked, approved.
    page.locator("input[name=confirm_unanswered]").check()
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#review-state")).to_have_text("已审核，待公示")

    # The hazard's own page names its question and shows its photo.
    page.goto(f"{live_server}/hazards/{hazard.id}")
    expect(page.locator(f"#hazard-{hazard.id}")).to_contain_text("配电箱是否可靠接地？")
    # Its own photo and the one taken at its question.
    expect(page.locator(f"#hazard-{hazard.id} a.thumb-link img")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "review-phone-hazard")
