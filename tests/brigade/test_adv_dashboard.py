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
