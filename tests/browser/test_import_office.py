"""Issue #12 done-means: an office file of 300 rows with a title row, its own headers and GBK encoding
imports in the browser on a 360-px phone, with the mapping chosen in the UI and no hand editing of the
file; afterwards every row matches the source, key-supervision and blacklist flags included.

The file is built as the office makes it (tests/registries/office_files.py). Its blacklist column is
headed 「黑名单情况」, which no synonym knows: the clerk maps it in the preview. Its industry word
「工贸-粉尘涉爆」 is mapped to 机械, and its third township 「新城街道」 is registered from the preview."""
import os
import shutil

from playwright.sync_api import expect
from sqlalchemy import func, select

from webapp import roles as R
from webapp.extensions import db
from webapp.registries.models import Enterprise, ImportMapping, ImportValueMapping, Region
from tests.factories import PASSWORD, make_user
from tests.registries.office_files import HEADERS, gbk_csv, mismatches, office_rows

BLACKLIST_HEADER = "黑名单情况"


def _snap(shot, page, name):
    """A full-page screenshot (test-results/screenshots), copied to $IMPORT_SHOTS_DIR if set (another run's
    clean-up of test-results may remove it before anyone looks)."""
    shot(page, name)
    if os.environ.get("IMPORT_SHOTS_DIR"):
        from tests.browser.conftest import SHOTS
        os.makedirs(os.environ["IMPORT_SHOTS_DIR"], exist_ok=True)
        shutil.copy(SHOTS / f"{name}.png", os.environ["IMPORT_SHOTS_DIR"])


def _fits(page):
    """Nothing wider than the phone: the page never scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360-px phone"


def _sign_in(page, base):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("欢迎")


def test_office_file_imports_on_a_phone_with_mapping_chosen_in_the_preview(page, live_server, ctx, tmp_path, shot):
    make_user(R.ADMIN)  # with the reference data: townships 城关镇 and 河西镇
    rows = office_rows(300, towns=("城关镇", "河西镇", "新城街道"))
    headers = list(HEADERS)
    headers[6] = BLACKLIST_HEADER
    path = tmp_path / "XX县2026年安全生产监管企业名录.csv"
    path.write_bytes(gbk_csv(rows, headers))
    assert sum(r.expect["blacklisted"] for r in rows) > 0 and sum(r.expect["key_supervision"] for r in rows) > 0

    _sign_in(page, live_server)
    page.goto(f"{live_server}/registries/import/enterprises")
    page.get_by_label("文件").set_input_files(str(path))
    page.get_by_role("button", name="校验文件").click()

    preview = page.locator("#preview")
    expect(preview).to_contain_text("按 GBK 编码读取")
    expect(preview).to_contain_text("表头在第 3 行")
    expect(preview).to_contain_text("XX县2026年安全生产监管企业名录")
    expect(preview).to_contain_text("「行业类别」「工贸-粉尘涉爆」：不是已知的行业")
    expect(preview).to_contain_text("「所属街道」「新城街道」")
    # The office's own headers are mapped by synonym; the unknown one is flagged as a yes/no mark.
    expect(page.locator("#col-1")).to_have_value("name")
    expect(page.locator("#col-2")).to_have_value("uscc")
    expect(page.locator("#col-5")).to_have_value("key_supervision")
    expect(page.locator("#col-6")).to_have_value("-")
    expect(page.locator("ol.colmap li").nth(6)).to_contain_text("像是“是/否”标记")
    expect(page.get_by_role("button", name="立即导入")).to_have_count(0)
    _fits(page)
    _snap(shot, page, "import-office-01-preview")

    # Map the blacklist column and the office's industry word in the UI, then check again.
    page.locator("#col-6").select_option("blacklisted")
    page.get_by_label("把「工贸-粉尘涉爆」对应为：").select_option(label="机械")
    page.get_by_role("button", name="应用并重新校验").click()
    expect(preview).not_to_contain_text("不是已知的行业")
    expect(page.locator("#col-6")).to_have_value("blacklisted")
    expect(preview).to_contain_text("「所属街道」「新城街道」")
    _fits(page)
    _snap(shot, page, "import-office-02-township")

    # Register the missing township from the preview (name and code).
    page.get_by_label("乡镇（街道）代码").fill("140525102")
    page.get_by_role("button", name="登记乡镇（街道）").click()
    expect(preview).to_contain_text("新增 300")
    expect(preview).to_contain_text("拒绝 0")
    expect(preview).to_contain_text("以下各列有数据，但不会导入：备注")  # nothing ignored silently
    expect(page.locator("input[name=without_unmapped]")).to_have_count(0)  # every flag column is mapped
    _fits(page)
    _snap(shot, page, "import-office-03-ready")
    # A column changed but not applied holds the import back until it is checked again.
    page.locator("#col-9").select_option("-")
    page.locator("#col-9").select_option("phone")  # changed back, still not checked
    expect(page.get_by_role("button", name="立即导入 300 行")).to_be_disabled()
    expect(page.locator("#confirm-stale")).to_be_visible()
    page.get_by_role("button", name="应用并重新校验").click()
    expect(page.get_by_role("button", name="立即导入 300 行")).to_be_enabled()
    expect(page.locator("#confirm-stale")).to_be_hidden()

    page.get_by_role("button", name="立即导入 300 行").click()
    expect(page.locator(".flash.success")).to_contain_text("300")
    _fits(page)
    _snap(shot, page, "import-office-04-done")

    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == 300
    assert mismatches(rows) == []  # every row as in the file, flags included
    assert db.session.scalar(select(Region.name).where(Region.code == "140525102")) == "新城街道"
    # Remembered for the next import: the columns of this file and the industry word.
    assert db.session.scalar(select(func.count()).select_from(ImportMapping)) == 1
    assert db.session.scalar(select(ImportValueMapping.target).where(ImportValueMapping.field == "industry")) \
        == "machinery"

    # The next file from the office (same headers) is mapped as last time, without a choice.
    page.goto(f"{live_server}/registries/import/enterprises")
    page.get_by_label("文件").set_input_files(str(path))
    page.get_by_role("button", name="校验文件").click()
    expect(page.locator("#col-6")).to_have_value("blacklisted")
    expect(preview).to_contain_text("无变化 300")
    expect(preview).to_contain_text("同上次")
