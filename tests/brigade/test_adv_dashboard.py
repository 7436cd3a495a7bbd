"""Adversarial checks of the dashboard, accountability and exports (issue #13), as strangers would try them:
text users typed must never turn into a spreadsheet formula; odd parameters give a clear answer."""
import pytest
from sqlalchemy import select

from webapp.draws.models import Plan
from webapp.extensions import db
from webapp.registries.models import Inspector
from webapp.review.models import Hazard
from webapp.tasks.models import Task
from tests.brigade.test_exports import _folder, run, workbook  # noqa: F401  (fixture)
from tests.brigade.test_summary import world  # noqa: F401  (fixture)

EVIL = ["=HYPERLINK(\"http://evil.example/\",\"点我\")", "+1+2", "-2+3", "@SUM(A1:A2)", "=1+1"]


def _evil_world(world):  # noqa: F811
    tasks = world["tasks"]
    for t, name in zip(tasks, EVIL):
        t.enterprise = {**t.enterprise, "name": name, "region": "=A1"}
    for h in db.session.scalars(select(Hazard).where(Hazard.batch_id == world["batch"].id)):
        h.description = "=cmd|' /C calc'!A0"
    inspector = db.session.get(Inspector, tasks[0].active_members[0].inspector_id)
    inspector.name = "@张三"
    db.session.commit()


def _cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yield ws.title, cell


@pytest.mark.parametrize("kind", ["batch_xlsx", "year_xlsx"])
def test_user_text_never_becomes_a_formula(world, kind):  # noqa: F811
    """An enterprise named ``=HYPERLINK(…)`` (or starting with +, -, @), a hazard described ``=cmd|…``, an
    inspector named ``@…``: each is text in the workbook, shown as typed, never a formula (CSV/formula
    injection)."""
    _evil_world(world)
    params = {"batch_id": world["batch"].id} if kind == "batch_xlsx" else \
        {"year": db.session.get(Plan, world["batch"].plan_id).year}
    wb = workbook(run(kind, params, world["admin"]))
    formulas = [(t, c.coordinate, c.value) for t, c in _cells(wb) if c.data_type == "f"]
    assert formulas == []
    values = {c.value for _t, c in _cells(wb) if isinstance(c.value, str)}
    for name in EVIL:  # shown as typed (Excel's quote prefix keeps it text, it adds no character)
        assert name in values, name
    assert any("@张三" in v for v in values)
    leads = [c for _t, c in _cells(wb) if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert leads and all(c.data_type == "s" and c.quotePrefix for c in leads)
    if kind == "batch_xlsx":
        assert "=cmd|' /C calc'!A0" in values


def test_markup_in_user_text_does_not_break_the_pdf(world):  # noqa: F811
    """reportlab reads ``<…>`` and ``&`` in a paragraph as markup: a batch titled with them, an enterprise
    and an inspector named with them still give the PDF, with the text as typed."""
    from pypdf import PdfReader

    from webapp.jobs import runner
    world["batch"].title = "第<一>批 & <b>加急"
    world["tasks"][0].enterprise = {**world["tasks"][0].enterprise, "name": "<font size=99>甲&乙</font>"}
    db.session.get(Inspector, world["tasks"][0].active_members[0].inspector_id).name = "李<i>四"
    db.session.commit()
    job = run("batch_pdf", {"batch_id": world["batch"].id}, world["lead"])
    text = "".join(p.extract_text() for p in PdfReader(runner.export_folder() / job.file_path).pages)
    assert "第<一>批 & <b>加急" in text.replace("\n", "")
    assert "李<i>四" in text.replace("\n", "")


@pytest.mark.parametrize("kind", ["year_xlsx", "year_pdf"])
def test_a_year_without_data(world, kind):  # noqa: F811
    """A year nobody planned: the export still finishes, with its headers and no invented figures."""
    job = run(kind, {"year": 2001}, world["admin"])
    assert job.file_name and "2001" in job.file_name
    if kind == "year_xlsx":
        wb = workbook(job)
        assert wb["任务"].max_row == 1  # the header only


@pytest.mark.parametrize("year", ["99999999999999999999", "-5", "1999", "2100", "２０２６", "", "2026.0"])
def test_odd_years_are_a_clear_error_and_nothing_is_queued(app, world, year):  # noqa: F811
    from sqlalchemy import func

    from tests.brigade.test_exports import client_for
    from webapp.jobs.models import Job
    c = client_for(app, "office")
    resp = c.post("/brigade/exports", data={"kind": "year_xlsx", "year": year})
    assert resp.status_code == 422 and "2000" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Job.id))) == 0
    for url in (f"/brigade/dashboard?year={year}", f"/brigade/accountability?year={year}"):
        got = c.get(url)
        assert got.status_code in (200, 302, 303), (url, got.status_code)


def test_the_export_form_starts_on_a_batch_with_tasks(app, world):  # noqa: F811
    """The demo's next batch (not drawn yet, no task) came first in the list, so a newcomer's first export
    was an empty workbook: the form starts on the latest batch with tasks and says which have none."""
    from datetime import timedelta

    from webapp.draws.models import Batch

    from tests.brigade.test_exports import client_for
    b = world["batch"]
    later = Batch(plan_id=b.plan_id, seq=b.seq + 1, title="下一批（未抽取）", window_start=b.window_end + timedelta(days=10),
                  window_end=b.window_end + timedelta(days=30))
    db.session.add(later)
    db.session.commit()
    html = client_for(app, "blead").get("/brigade/exports").get_data(as_text=True)
    select_html = html[html.index('name="batch"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert f'<option value="{b.id}" selected>' in select_html
    assert f'<option value="{later.id}" >' in select_html and "下一批（未抽取）（尚无任务）" in select_html


def test_long_chart_labels_stay_within_their_bars(app):
    """The annual report's bars are named by batch titles ("第一批：工贸企业粉尘防爆和安全管理检查（定向）"):
    they ran into each other. Each label now fits its bar's slot (on up to two lines, cut with …)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from webapp.brigade import export_pdf as E
    titles = ["第一批：工贸企业粉尘防爆和安全管理检查（定向）", "第二批：工贸企业安全管理检查（定向）",
              "第三批：危险化学品企业专项检查（定向）", "第四批：矿山企业检查（定向）"]
    with app.app_context():
        for horizontal in (False, True):
            drawing = E.bar_chart("各批次任务完成（项）", [(t, k) for k, t in enumerate(titles)], horizontal=horizontal)
            chart = drawing.contents[0]
            slot = chart.x - 3 * E.mm if horizontal else chart.width / len(titles) - 2 * E.mm
            for name in chart.categoryAxis.categoryNames:
                assert all(stringWidth(line, E.FONT, E.LABEL_SIZE) <= slot + 0.01 for line in name.split("\n")), name
            assert chart.categoryAxis.categoryNames[0].startswith("第一批：")
        assert E.fit_label("派发", 40 * E.mm) == "派发"


def test_a_heading_does_not_end_a_page(app, tmp_path):
    """The annual report left "隐患" and "三.4 第四批…" alone at the foot of a page, their tables on the
    next: a heading goes to the page of what it heads."""
    from pypdf import PdfReader
    from reportlab.platypus import Spacer

    from webapp.brigade import export_pdf as E
    with app.app_context():
        s = E._styles()
        usable = E.A4[1] - 36 * E.mm
        story = [Spacer(1, usable - 40), E._p("孤立的标题", s["h"]), E.bar_chart("图表", [("甲", 1), ("乙", 2)])]
        E._build(tmp_path / "h.pdf", "标题测试", story)
    pages = [p.extract_text() for p in PdfReader(tmp_path / "h.pdf").pages]
    assert len(pages) == 2 and "孤立的标题" in pages[1] and "孤立的标题" not in pages[0]


def test_the_exports_page_in_english_names_batches_in_english(app, world):  # noqa: F811
    """The English UI showed "2026年 第一批…": the year's suffix was written into the code, not translated."""
    from tests.brigade.test_exports import client_for
    c = client_for(app, "blead")
    from flask_babel import refresh
    c.post("/lang/en")
    refresh()  # the test's app context outlives the request: drop the locale it cached
    c.post("/brigade/exports", data={"kind": "batch_xlsx", "batch": str(world["batch"].id)})
    html = c.get("/brigade/exports").get_data(as_text=True)
    year = db.session.get(Plan, world["batch"].plan_id).year
    assert f"{year}年" not in html
    assert f"{year}: {world['batch'].title}" in html


@pytest.mark.parametrize("year", ["1999", "99999999999", "abc", ""])
def test_a_list_behind_a_shortfall_says_when_it_shows_another_year(app, world, year):  # noqa: F811
    """/brigade/dashboard/feedback?year=1999 silently showed this year's list under this year's heading:
    it now says so, as the dashboard does."""
    from tests.brigade.test_exports import client_for
    c = client_for(app, "office")
    for kind in ("feedback", "key", "items"):
        html = c.get(f"/brigade/dashboard/{kind}?year={year}").get_data(as_text=True)
        assert 'class="flash error"' in html, kind
    this = str(world["batch"].window_start.year)
    assert 'class="flash error"' not in c.get(f"/brigade/dashboard/feedback?year={this}").get_data(as_text=True)
    assert 'class="flash error"' not in c.get("/brigade/dashboard/feedback").get_data(as_text=True)


def test_a_batch_not_drawn_is_refused_when_asked_not_queued_to_fail(app, world):  # noqa: F811
    """The exports form offers every batch; one not drawn yet was queued and the job failed a moment later.
    The request itself is refused in words (422) and nothing is queued."""
    from datetime import timedelta

    from sqlalchemy import func

    from webapp.draws.models import Batch
    from webapp.jobs.models import Job

    from tests.brigade.test_exports import client_for
    b = world["batch"]
    later = Batch(plan_id=b.plan_id, seq=b.seq + 1, title="下一批（未抽取）", window_start=b.window_end + timedelta(days=10),
                  window_end=b.window_end + timedelta(days=30))
    db.session.add(later)
    db.session.commit()
    c = client_for(app, "blead")
    resp = c.post("/brigade/exports", data={"kind": "batch_xlsx", "batch": str(later.id)})
    assert resp.status_code == 422 and 'class="flash error"' in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert c.post("/brigade/exports", data={"kind": "batch_xlsx", "batch": str(b.id)}).status_code == 303


def test_the_new_export_form_comes_before_the_earlier_exports(app, world):  # noqa: F811
    """On a phone the form sat under every earlier export (up to 30 cards): it comes first now."""
    from tests.brigade.test_exports import client_for
    c = client_for(app, "blead")
    for kind in ("batch_xlsx", "batch_pdf"):
        assert c.post("/brigade/exports", data={"kind": kind, "batch": str(world["batch"].id)}).status_code == 303
    html = c.get("/brigade/exports").get_data(as_text=True)
    assert html.index('class="card export-new"') < html.index('id="jobs"') < html.index('data-job=')
