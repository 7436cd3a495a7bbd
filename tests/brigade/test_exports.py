"""The exports (issue #13 point 5): the workbooks and PDFs a job writes, opened as a spreadsheet program
and a PDF reader would, and the pages that ask for them, show their progress and hand them over."""
import io
import json
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.draws.models import Batch, Plan
from webapp.extensions import db
from webapp.jobs import runner
from webapp.jobs.models import Job
from webapp.registries.models import Department
from webapp.review.models import Hazard
from webapp.tasks.models import Task
from tests.brigade.test_summary import OFFICE, world  # noqa: F401  (the summary's batch at every stage)
from tests.factories import PASSWORD, make_user


@pytest.fixture(autouse=True)
def _folder(app, tmp_path):
    old = app.config.get("EXPORT_FOLDER")
    app.config["EXPORT_FOLDER"] = str(tmp_path / "exports")
    yield
    app.config["EXPORT_FOLDER"] = old


def run(kind, params, user) -> Job:
    job = runner.enqueue(kind, params, user)
    runner.run_pending(limit=1)
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "done", job.error
    return job


def workbook(job):
    return load_workbook(runner.export_folder() / job.file_path)  # not read-only: print set-up is read too


def client_for(app, username):
    c = app.test_client()
    assert c.post("/login", data={"username": username, "password": PASSWORD}).status_code == 303
    return c


def _print_ready(ws, headers):
    assert [c.value for c in ws[1]] == headers
    assert ws.freeze_panes == "A2"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"  # 9 = A4
    # Fitted to one page wide; an absent fitToWidth is 1 (ECMA-376 CT_PageSetup's default, which XlsxWriter
    # leaves out), any other width is written and fails here.
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1"
    from openpyxl.utils import get_column_letter
    widths = [ws.column_dimensions[get_column_letter(k)] for k in range(1, len(headers) + 1)]
    assert all(d.customWidth and d.width >= 8 for d in widths)
    assert max(d.width for d in widths) >= 24  # the long texts (names, descriptions) get room


def test_batch_workbook(world):  # noqa: F811
    batch, lead = world["batch"], world["lead"]
    job = run("batch_xlsx", {"batch_id": batch.id}, lead)
    assert job.file_name.endswith(".xlsx") and batch.title in job.file_name
    wb = workbook(job)
    assert wb.sheetnames == ["任务", "检查结果", "隐患"]
    tasks, results, hazards = wb["任务"], wb["检查结果"], wb["隐患"]
    _print_ready(tasks, ["任务编号", "批次", "企业名称", "统一社会信用代码", "乡镇（街道）", "行业", "抽取依据",
                         "检查方式", "检查组成员", "阶段", "是否逾期", "检查开始日期", "检查截止日期", "派发时间",
                         "检查完成时间", "审核时间", "隐患数"])
    _print_ready(results, ["任务编号", "企业名称", "统一社会信用代码", "检查情形", "已答检查项", "符合", "不符合",
                           "不涉及", "不符合的检查项", "审核", "退回意见", "反馈日期", "反馈方式", "公示类别", "公示时间"])
    _print_ready(hazards, ["隐患编号", "任务编号", "企业名称", "乡镇（街道）", "行业", "隐患等级", "检查项", "隐患描述",
                           "整改期限", "状态", "销号日期", "是否逾期", "逾期天数", "升级处理", "发现时间"])
    # Row counts: what the batch holds (its eight tasks and the re-inspection; four hazards).
    n_tasks = db.session.scalar(select(func.count(Task.id)).where(Task.batch_id == batch.id))
    n_hazards = db.session.scalar(select(func.count(Hazard.id)).where(Hazard.batch_id == batch.id))
    assert n_tasks == 9 and n_hazards == 4
    task_rows = list(tasks.iter_rows(min_row=2, values_only=True))
    assert len(task_rows) == n_tasks and tasks.max_row == n_tasks + 1
    assert len(list(results.iter_rows(min_row=2, values_only=True))) == n_tasks
    hazard_rows = list(hazards.iter_rows(min_row=2, values_only=True))
    assert len(hazard_rows) == n_hazards
    assert (job.done, job.total) == (2 * n_tasks + n_hazards,) * 2
    # Numbers are numbers, dates are dates with a date format; words, never codes.
    first = next(r for r in tasks.iter_rows(min_row=2) if r[0].value == world["tasks"][0].id)
    assert isinstance(first[0].value, int) and isinstance(first[16].value, int) and first[16].value == 2
    assert isinstance(first[11].value, datetime) and first[11].number_format == "yyyy-mm-dd"
    assert first[11].value.date() == world["tasks"][0].start_date
    assert isinstance(first[13].value, datetime) and first[13].number_format == "yyyy-mm-dd hh:mm"
    assert first[3].value == world["tasks"][0].uscc and first[9].value == "结果已公示"
    assert first[8].value and "、" in first[8].value  # the group's names
    phases = {r[9] for r in task_rows}
    assert "已退回修改" in phases or any("退回" in p for p in phases)
    assert not any(re.fullmatch(r"[a-z_]+", str(v)) for r in task_rows for v in r if isinstance(v, str))
    overdue = [r for r in hazard_rows if r[11] == "是"]
    assert len(overdue) == 1 and overdue[0][12] == 3 and isinstance(overdue[0][8], datetime)
    assert {r[5] for r in hazard_rows} == {"重大事故隐患", "一般事故隐患"}
    assert "是否符合？" in {r[6] for r in hazard_rows}  # the question's text, not its id
    closed = [r for r in hazard_rows if r[10] is not None]
    assert len(closed) == 1 and isinstance(closed[0][10], datetime)
    t0 = next(r for r in results.iter_rows(min_row=2, values_only=True) if r[0] == world["tasks"][0].id)
    assert t0[3] == "检查完成" or t0[3]  # the outcome in words
    assert isinstance(t0[11], datetime) and t0[13]  # feedback date, published category


def test_a_team_lead_exports_their_groups_only(app, world):  # noqa: F811
    office = db.session.scalar(select(Department).where(Department.name == OFFICE))
    tl = make_user(R.TEAM_LEAD, "tl-office", department_id=office.id)
    every = db.session.scalars(select(Task).where(Task.batch_id == world["batch"].id)).all()
    mine = {t.id for t in every if any(m.inspector.department_id == office.id for m in t.active_members)}
    assert 0 < len(mine) < len(every)
    wb = workbook(run("batch_xlsx", {"batch_id": world["batch"].id}, tl))
    assert {r[0] for r in wb["任务"].iter_rows(min_row=2, values_only=True)} == mine
    assert {r[0] for r in wb["检查结果"].iter_rows(min_row=2, values_only=True)} == mine
    assert {r[1] for r in wb["隐患"].iter_rows(min_row=2, values_only=True)} <= mine
    # The year's exports are the office's and the brigade lead's: refused at the route and in the job.
    c = client_for(app, "tl-office")
    assert c.post("/brigade/exports", data={"kind": "year_xlsx", "year": "2026"}).status_code == 403
    job = runner.enqueue("year_xlsx", {"year": 2026}, tl)
    runner.run_pending()
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "failed" and job.error == "您无权导出年度数据。" and not job.file_path


def test_year_workbook(world):  # noqa: F811
    year = db.session.get(Plan, world["batch"].plan_id).year
    job = run("year_xlsx", {"year": year}, world["admin"])
    wb = workbook(job)
    assert wb.sheetnames == ["年度合规", "任务"]
    ws = wb["年度合规"]
    _print_ready(ws, ["依据", "要求", "是否达到", "实际", "目标", "差距"])
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 8  # R5–R10, R19, R20
    assert all(isinstance(r[5], int) for r in rows) and {r[2] for r in rows} <= {"已达到", "未达到", "尚不能判断"}
    n = db.session.scalar(select(func.count(Task.id)).join(Batch, Batch.id == Task.batch_id)
                          .join(Plan, Plan.id == Batch.plan_id).where(Plan.year == year))
    assert wb["任务"].max_row == n + 1


def _pdf(job) -> PdfReader:
    return PdfReader(runner.export_folder() / job.file_path)


def _drawing_ops(reader) -> int:
    """Filled rectangles and paths drawn on the pages: bars (re … f) and pie slices (curves … f)."""
    n = 0
    for page in reader.pages:
        data = page.get_contents().get_data().decode("latin-1")
        n += len(re.findall(r"\bre\b[^\n]*\n?\s*[fB]\*?\b", data)) + len(re.findall(r"\bc\b", data))
    return n


def test_batch_summary_pdf(world):  # noqa: F811
    job = run("batch_pdf", {"batch_id": world["batch"].id}, world["lead"])
    assert job.file_name.endswith(".pdf")
    reader = _pdf(job)
    text = "".join(page.extract_text() for page in reader.pages)
    title = f"{db.session.get(Plan, world['batch'].plan_id).year}年{world['batch'].title}工作小结"
    assert title in text.replace("\n", "")
    for words in ("派发任务", "隐患等级", "问题最多的检查项", "是否符合？", "印发日期", "检查人员工作量"):
        assert words in text, words
    assert len(reader.pages) >= 2 and f"共 {len(reader.pages)} 页" in text
    assert reader.pages[0].mediabox.width == pytest.approx(595.27, abs=1)  # A4
    fonts = str(reader.pages[0]["/Resources"]["/Font"].get_object())
    assert "NotoSansSC" in str([f.get_object()["/BaseFont"] for f in reader.pages[0]["/Resources"]["/Font"].values()]) \
        or "NotoSansSC" in fonts
    # The charts are drawn: the pie's curves and the bars' filled rectangles (the tables draw only lines).
    assert _drawing_ops(reader) > 20


def test_a_pdf_without_charts_would_be_told_apart(world, monkeypatch):  # noqa: F811
    """The chart check above can fail: the same PDF with the charts left out has far fewer drawing ops."""
    from reportlab.platypus import Spacer

    from webapp.brigade import export_pdf
    monkeypatch.setattr(export_pdf, "bar_chart", lambda *a, **kw: Spacer(1, 1))
    monkeypatch.setattr(export_pdf, "pie_chart", lambda *a, **kw: Spacer(1, 1))
    job = run("batch_pdf", {"batch_id": world["batch"].id}, world["lead"])
    assert _drawing_ops(_pdf(job)) <= 20


def test_annual_report_pdf(world):  # noqa: F811
    year = db.session.get(Plan, world["batch"].plan_id).year
    job = run("year_pdf", {"year": year}, world["admin"])
    reader = _pdf(job)
    text = "".join(page.extract_text() for page in reader.pages)
    assert f"{year}年度双随机抽查工作报告" in text and "年度规则执行情况" in text and "各批次主要数据" in text
    assert world["batch"].title in text and "规则执行" in text
    assert _drawing_ops(reader) > 20


def test_pages_start_poll_and_download_only_for_the_owner(app, world):  # noqa: F811
    lead_c = client_for(app, "blead")
    page = lead_c.get("/brigade/exports")
    assert page.status_code == 200 and "开始导出" in page.get_data(as_text=True)
    resp = lead_c.post("/brigade/exports", data={"kind": "batch_xlsx", "batch": str(world["batch"].id)})
    assert resp.status_code == 303
    job_id = int(re.search(r"job=(\d+)", resp.location).group(1))
    # Double tap: the same job, not a second one.
    again = lead_c.post("/brigade/exports", data={"kind": "batch_xlsx", "batch": str(world["batch"].id)})
    assert int(re.search(r"job=(\d+)", again.location).group(1)) == job_id
    assert db.session.scalar(select(func.count(Job.id))) == 1
    html = lead_c.get(resp.location).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in html and "排队等待" in html  # polled while it waits
    assert lead_c.get(f"/brigade/exports/status?job={job_id}").status_code == 200
    runner.run_pending()
    html = lead_c.get("/brigade/exports/status").get_data(as_text=True)
    assert "every 2s" not in html and "可以下载" in html  # done: the polling stops
    # Someone else: neither its status nor its file (404, as if it did not exist).
    other = client_for(app, "office")
    assert other.get(f"/brigade/exports/status?job={job_id}").status_code == 404
    assert other.post("/brigade/exports/download", data={"job": str(job_id)}).status_code == 404
    assert other.get("/brigade/exports/download").status_code == 405  # never a GET
    before = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "export.download"))
    got = lead_c.post("/brigade/exports/download", data={"job": str(job_id)})
    body = got.data
    got.close()
    assert got.status_code == 200 and body[:2] == b"PK"
    assert "attachment" in got.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(body)).sheetnames == ["任务", "检查结果", "隐患"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export.download")).all()
    assert len(entries) == before + 1 and entries[-1].actor_id == world["lead"].id
    assert json.loads(entries[-1].after)["kind"] == "batch_xlsx"
    # Bad input: a clear error in words, nothing queued.
    bad = lead_c.post("/brigade/exports", data={"kind": "batch_xlsx", "batch": "99999"})
    assert bad.status_code == 422 and "请选择要导出的批次" in bad.get_data(as_text=True)
    bad = lead_c.post("/brigade/exports", data={"kind": "nonsense"})
    assert bad.status_code == 422 and "请选择要导出的内容" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Job.id))) == 1
    # An inspector has no exports at all.
    make_user(R.INSPECTOR, "insp2")
    assert client_for(app, "insp2").get("/brigade/exports").status_code == 403


def test_the_summary_and_the_dashboard_offer_their_exports(app, world):  # noqa: F811
    c = client_for(app, "blead")
    from flask import url_for
    with app.test_request_context():
        summary_url = url_for("brigade.summary", batch_id=world["batch"].id)
        dashboard_url = url_for("brigade.dashboard")
    html = c.get(summary_url).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/brigade/exports"[^>]*>.*?</form>', html, re.S).group(0)
    assert f'name="batch" value="{world["batch"].id}"' in form
    assert 'value="batch_xlsx"' in form and 'value="batch_pdf"' in form
    resp = c.post("/brigade/exports", data={"batch": str(world["batch"].id), "kind": "batch_pdf"})
    assert resp.status_code == 303
    html = c.get(dashboard_url).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/brigade/exports"[^>]*>.*?</form>', html, re.S).group(0)
    assert 'value="year_xlsx"' in form and 'value="year_pdf"' in form and 'name="year"' in form


def test_a_team_lead_cannot_export_a_batch_their_groups_never_worked_in(app, world):  # noqa: F811
    """As the summary page refuses them (review finding): no other batch's title, window or plan through an export;
    and nobody exports a batch that was never drawn."""
    from webapp.brigade.exports import batch_for
    from webapp.services import ServiceError

    other = Department(name="别的股室", kind="office")
    db.session.add(other)
    db.session.commit()
    stranger = make_user(R.TEAM_LEAD, "tl-stranger", department_id=other.id)
    with pytest.raises(ServiceError):
        batch_for(stranger, world["batch"].id)
    job = runner.enqueue("batch_pdf", {"batch_id": world["batch"].id}, stranger)
    runner.run_pending()
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "failed" and not job.file_path
    undrawn = Batch(plan_id=world["batch"].plan_id, seq=99, title="未抽取的批次", window_start=date(2026, 12, 1),
                    window_end=date(2026, 12, 20))
    db.session.add(undrawn)
    db.session.commit()
    boss = make_user(R.ADMIN, "boss-undrawn")
    with pytest.raises(ServiceError, match="尚未抽取"):
        batch_for(boss, undrawn.id)


def test_a_control_character_neither_breaks_the_workbook_nor_is_lost(world):  # noqa: F811
    """A stray control character (a phone's \\x01 in a description) cannot stand in XML 1.0: XlsxWriter writes it
    as Excel's _xHHHH_ escape (Excel reads it back as the character; openpyxl leaves inline strings' escapes as
    they are), so the file opens, the job does not fail and nothing of the text is lost."""
    task = world["tasks"][0]
    task.enterprise = {**task.enterprise, "name": "控制\x01字符有限公司"}
    hazard = db.session.scalar(select(Hazard).where(Hazard.task_id == task.id).order_by(Hazard.id))
    hazard.description = "=\x02开头的描述"
    db.session.commit()
    wb = workbook(run("batch_xlsx", {"batch_id": world["batch"].id}, world["lead"]))
    names = {r[0]: r[2] for r in wb["任务"].iter_rows(min_row=2, values_only=True)}
    assert names[task.id] == "控制_x0001_字符有限公司"
    cell = next(r[7] for r in wb["隐患"].iter_rows(min_row=2) if r[0].value == hazard.id)
    assert cell.value == "=_x0002_开头的描述" and cell.data_type == "s" and cell.quotePrefix  # text, not a formula
