"""Exports on a 360-px phone (issue #13 point 5): the brigade lead asks for a batch's Excel file, leaves
the page, comes back to see it waiting, watches it finish without reloading (the page polls every 2 s
while one runs) and downloads it; the file opens as a workbook. Screenshots: export-*.png."""
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import SHOTS, sign_in

SHOTS_COPY = Path(os.environ.get("EXPORT_SHOTS_DIR", "/tmp/h/shots"))


@pytest.fixture
def snap(shot):
    def take(page, name):
        shot(page, name)
        if SHOTS_COPY.parent.exists():
            SHOTS_COPY.mkdir(parents=True, exist_ok=True)
            shutil.copy(SHOTS / f"{name}.png", SHOTS_COPY / f"{name}.png")
    return take


@pytest.fixture
def batch(demo, app, tmp_path):
    from webapp.demo.plan import seed_plan
    from webapp.draws.models import Batch, Draw

    seed_plan()
    old = app.config.get("EXPORT_FOLDER"), app.config.get("JOBS_IN_WEB")
    app.config["EXPORT_FOLDER"], app.config["JOBS_IN_WEB"] = str(tmp_path / "exports"), False
    from webapp.extensions import db
    yield db.session.scalar(select(Batch).join(Draw, Draw.batch_id == Batch.id).order_by(Batch.id))
    app.config["EXPORT_FOLDER"], app.config["JOBS_IN_WEB"] = old


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_export_leave_come_back_download(page, live_server, app, batch, snap, tmp_path):
    from webapp.jobs import runner

    sign_in(page, live_server, "brigade")
    page.goto(f"{live_server}/brigade/exports")
    expect(page.locator("h1")).to_have_text("我的导出")
    expect(page.get_by_text("您还没有导出过文件")).to_be_visible()
    _fits(page)
    snap(page, "export-new")
    page.get_by_label("Excel：本批次的任务、检查结果和隐患").check()
    page.get_by_label("批次（导出批次时）").select_option(str(batch.id))
    page.get_by_role("button", name="开始导出").click()
    # Queued (no worker yet in this test): the page says so and polls.
    row = page.locator("li.export-job").first
    expect(row).to_contain_text("排队等待")
    expect(page.locator("#jobs[hx-trigger='every 2s']")).to_have_count(1)
    _fits(page)
    snap(page, "export-queued")
    # A double tap: back and tap again; still one export.
    page.go_back()
    page.get_by_role("button", name="开始导出").click()
    expect(page.locator("li.export-job")).to_have_count(1)
    # Leave: the home page. The worker runs meanwhile (the web process's thread, as in the demo).
    page.goto(f"{live_server}/")
    # Come back while it waits; it finishes under our eyes, without a reload.
    page.goto(f"{live_server}/brigade/exports")
    expect(row).to_contain_text("排队等待")
    app.config["JOBS_IN_WEB"] = True
    with app.app_context():
        thread = runner.kick()
    thread.join(60)
    expect(row).to_contain_text("可以下载", timeout=10000)
    expect(page.locator("#jobs[hx-trigger]")).to_have_count(0)  # the polling stopped
    _fits(page)
    snap(page, "export-done")
    with page.expect_download() as info:
        row.get_by_role("button", name="下载").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and batch.title in download.suggested_filename
    path = tmp_path / "got.xlsx"
    download.save_as(path)
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["任务", "检查结果", "隐患"]
    from webapp.extensions import db
    from webapp.tasks.models import Task
    with app.app_context():
        n = len(db.session.scalars(select(Task.id).where(Task.batch_id == batch.id)).all())
    assert sum(1 for _ in wb["任务"].iter_rows(min_row=2)) == n
    wb.close()
