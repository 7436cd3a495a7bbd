"""The batch summary's charts tapped on a 360-px phone (found by an adversarial walk of the demo batch): a
bar whose label is a long checklist question showed a tooltip wider than the screen; the page grew
sideways, shifted under the finger, and the tap did not reach the bar's list."""
import json

from tests.browser.conftest import sign_in
from tests.browser.test_batch_summary import worked  # noqa: F401 (the fixture)

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}


def _tap_bar(page, chart: str, index: int):
    box = page.locator(f'[data-chart="{chart}"]')
    box.scroll_into_view_if_needed()
    spec = json.loads(page.locator(f"script#{chart}").text_content())
    value = spec["series"][0]["data"][index]
    x, y = page.evaluate("""([id, v, i]) => { const el = document.querySelector(`[data-chart="${id}"]`);
        const pt = echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [v / 2, i]);
        const r = el.getBoundingClientRect(); return [r.left + pt[0], r.top + pt[1]]; }""", [chart, value, index])
    page.touchscreen.tap(x, y)
    return spec["series"][0]["links"][index], value


def test_tapping_a_long_labelled_bar_opens_its_list_and_nothing_spills_sideways(worked, live_server, browser):  # noqa: F811
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, "brigade")
    url = f"{live_server}/brigade/batches/{worked.id}"
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('#problems .chart.drawn canvas').length == 1")
    spec = json.loads(page.locator("script#chart-questions").text_content())
    assert max(len(label) for label in spec["labels"]) > 30  # real checklist questions: long labels
    # A touch shows the tooltip first: it must stay inside the screen (wrapped, not one long line).
    box = page.locator('[data-chart="chart-questions"]')
    box.scroll_into_view_if_needed()
    b = box.bounding_box()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + 30)
    page.wait_for_function("document.querySelector('[data-chart=\"chart-questions\"] > div:nth-child(2)') !== null")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for index in range(len(spec["labels"])):
        page.goto(url)
        page.wait_for_function("document.querySelectorAll('#problems .chart.drawn canvas').length == 1")
        link, n = _tap_bar(page, "chart-questions", index)
        page.wait_for_url(f"{live_server}{link}", timeout=5000)
        assert page.locator("[data-hazard]").count() == min(n, 50)
    context.close()


def test_english_axis_labels_break_between_words_not_inside_them(worked, live_server, browser):  # noqa: F811
    """In English the progress chart's labels read "Dispat…", "Inspec…", "Review…" on a phone (cut to 7
    characters, as fits Chinese): they now break between words in two lines; Chinese is cut as before."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, "brigade")
    page.request.post(f"{live_server}/lang/en", form={"csrf_token": page.evaluate(
        "(document.querySelector('input[name=csrf_token]') || {}).value")})
    page.goto(f"{live_server}/brigade/batches/{worked.id}")
    assert page.locator("html").get_attribute("lang") == "en"
    page.wait_for_function("document.querySelectorAll('.chart.drawn canvas').length >= 6")
    shown = page.evaluate("""() => { const el = document.querySelector('[data-chart="chart-progress"]');
        const axis = echarts.getInstanceByDom(el).getOption().yAxis[0];
        return axis.data.map(v => [v, axis.axisLabel.formatter(v)]); }""")
    assert [v for v, _f in shown][:2] == ["Dispatched to a group", "Inspection done"]
    for original, label in shown:
        assert label.replace("\n", " ") == original and label.count("\n") <= 1, (original, label)
    page.request.post(f"{live_server}/lang/zh_CN", form={"csrf_token": page.evaluate(
        "(document.querySelector('input[name=csrf_token]') || {}).value")})
    page.goto(f"{live_server}/brigade/batches/{worked.id}")
    page.wait_for_function("document.querySelectorAll('.chart.drawn canvas').length >= 6")
    shown = page.evaluate("""() => { const el = document.querySelector('[data-chart="chart-questions"]');
        const axis = echarts.getInstanceByDom(el).getOption().yAxis[0];
        return axis.data.map(v => axis.axisLabel.formatter(v)); }""")
    assert all("\n" not in s and len(s) <= 8 for s in shown), shown
    context.close()
