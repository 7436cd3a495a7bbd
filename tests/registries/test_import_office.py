"""Issue #12: a county office's own registry file imports with column and value mapping.

The files are built as an office makes them (tests/registries/office_files.py): title row, own headers,
GBK CSV, own industry words, Excel's number-formatted credit codes, full-width digits and stray spaces.
"""
import io
import json

import pytest
from sqlalchemy import func, select

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.audit.services import verify
from webapp.extensions import db
from webapp.registries import tabular
from webapp.registries.io import import_file
from webapp.registries.mapping import remember_columns, remember_values
from webapp.registries.models import Enterprise, ImportMapping, ImportValueMapping, Inspector, InspectionItem, Region
from tests.factories import login, make_reference, make_user
from tests.registries.office_files import (HEADERS, MAPPING, TITLE, csv_text, gbk_csv, mismatches, numeric_uscc,
                                           office_rows, office_xlsx)

DUSTY = {"industry": {"工贸-粉尘涉爆": "machinery"}}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- reading the file -------------------------------------------------------------------------------

@pytest.mark.parametrize("encode,expected", [
    (lambda t: t.encode("gbk"), "GBK"),
    (lambda t: t.encode("gb18030"), "GBK"),
    (lambda t: t.encode("utf-8"), "UTF-8"),
    (lambda t: "\ufeff".encode() + t.encode("utf-8"), "UTF-8"),
    (lambda t: t.replace(",", "\t").encode("utf-16"), "UTF-16"),  # Excel's "Unicode text"
])
def test_the_encoding_is_detected_and_named(ctx, encode, expected):
    rows = office_rows(5)
    sheet = tabular.read_sheet("名录.csv", encode(csv_text(rows)))
    assert sheet.encoding == expected
    assert sheet.rows[0][1][1] == rows[0].cells[1]  # 城关第1号示例有限公司, not mojibake


def test_a_csv_in_no_known_encoding_is_refused_with_the_reason(ctx):
    report = import_file("enterprises", "e.csv", b"\xff\xfe\x00\xd8" + bytes(range(128, 256)) * 3)
    assert not report.ok and "GBK" in report.errors[0].message and not report.committed


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_header_row_is_found_below_the_title_rows(ctx, fmt):
    make_reference()
    rows = office_rows(4)
    data = gbk_csv(rows) if fmt == "csv" else office_xlsx(rows)
    report = import_file("enterprises", f"名录.{fmt}", data, commit=False, values=DUSTY)
    assert report.header_row == 3 and report.title_rows[0] == (1, TITLE)
    assert report.headers[:3] == ["序号", "单位名称", "社会信用代码"] and report.rows == 4
    assert report.ok, report.errors


def test_the_notes_below_the_list_are_skipped_and_shown(ctx):
    """An office's sheet ends with a total and who filled it in: those rows are notes, not refused firms; a
    row in the middle that happens to start so is still data (and refused if bad)."""
    make_reference()
    rows = office_rows(5)
    footer = ("合计：5 家" + "," * (len(HEADERS) - 1) + "\r\n" + "制表人：张三　　审核人：李四　　填表日期：2026年11月20日"
              + "," * (len(HEADERS) - 1) + "\r\n")
    data = (csv_text(rows) + footer).encode("gbk")
    report = import_file("enterprises", "名录.csv", data, values=DUSTY)
    assert report.ok and report.committed, report.errors
    assert report.rows == 5 and [n for n, _t in report.footer_rows] == [9, 10]
    assert report.footer_rows[0][1].startswith("合计")
    assert not mismatches(rows)


def test_row_numbers_are_the_ones_excel_shows(ctx):
    """A bad cell is named by the row number the clerk sees in Excel (title and blank rows counted)."""
    make_reference()
    rows = office_rows(6)
    rows[4].cells[2] = "91140525MA0XXXXXX1"
    report = import_file("enterprises", "名录.csv", gbk_csv(rows), values=DUSTY)
    assert [(e.row, e.column, e.value) for e in report.errors] == [(8, "社会信用代码", "91140525MA0XXXXXX1")]


# --- column mapping -------------------------------------------------------------------------------

def test_columns_are_suggested_from_the_synonyms(ctx):
    make_reference()
    report = import_file("enterprises", "名录.csv", gbk_csv(office_rows(10)), commit=False)
    got = {c.header: c.target for c in report.columns}
    assert got == {"序号": None, "单位名称": "name", "社会信用代码": "uscc", "所属街道": "region_name",
                   "行业类别": "industry", "是否重点监管": "key_supervision", "是否列入黑名单": "blacklisted",
                   "详细地址": "address", "法定代表人": "legal_rep", "联系电话": "phone", "备注": None}
    by_header = {c.header: c for c in report.columns}
    assert by_header["序号"].ignored and not by_header["备注"].ignored
    # Nothing is ignored silently: the remark column has data and is reported with its values.
    assert [c.header for c in report.unmapped] == ["备注"] and by_header["备注"].samples == ["新增"]
    assert not report.needs_choice  # a remark column is not a flag


@pytest.mark.parametrize("header,target", [
    ("统一社会信用代码", "uscc"), ("信用代码", "uscc"), ("企业名称", "name"), ("所属乡镇（街道）", "region_name"),
    ("乡镇", "region_name"), ("行业", "industry"), ("重点监管", "key_supervision"), ("黑名单", "blacklisted"),
    ("是否重点监管(是/否)", "key_supervision"), ("地址", "address"), ("注册地址", "address"), ("经营地址", "address"),
    ("负责人", "legal_rep"), ("联系电话", "phone"), ("＊单位名称", "name"), ("单 位 名 称", "name"),
    ("是否粉尘涉爆", "dust_explosion"), ("是否构成重大危险源", "major_hazard"), ("经营异常名录", "abnormal_operation"),
])
def test_synonyms_of_every_field(ctx, header, target):
    make_reference()
    data = csv_text([], ["社会信用代码", "单位名称", "所属街道", "行业类别", header] if target not in
                    ("uscc", "name", "region_name", "industry") else [header]).encode()
    report = import_file("enterprises", "e.csv", data, commit=False)
    assert {c.header: c.target for c in report.columns}[header] == target


def test_inspector_and_item_synonyms(ctx):
    make_reference()
    report = import_file("inspectors", "i.csv", "序号,执法人员姓名,部门,执法证件号,有效期至,专业,手机\r\n".encode(),
                         commit=False)
    assert [c.target for c in report.columns] == [None, "name", "department", "cert_no", "cert_expiry",
                                                  "competences", "phone"]
    report = import_file("items", "i.csv", "事项编号,实施主体,检查事项,检查依据,检查内容,检查方式,生效时间\r\n".encode(),
                         commit=False)
    assert [c.target for c in report.columns] == ["code", "department", "name", "legal_basis", "content", "method",
                                                  "valid_from"]


def test_a_required_field_left_unmapped_is_named(ctx):
    make_reference()
    rows = office_rows(3)
    report = import_file("enterprises", "e.csv", gbk_csv(rows), choices={2: "-"})  # 社会信用代码 not imported
    assert not report.ok and not report.committed and "统一社会信用代码" in report.mapping_errors[0]
    report = import_file("enterprises", "e.csv", gbk_csv(rows), choices={1: "name", 7: "name"})
    assert "企业名称" in report.mapping_errors[0] and "详细地址" in report.mapping_errors[0]
    assert count(Enterprise) == 0


def test_a_chosen_mapping_is_remembered_for_the_next_file(ctx):
    """The office heads its blacklist column 「失信惩戒对象」: mapped once, it is mapped the next time, for
    this file's headers and for another file that shares the header."""
    make_reference()
    headers = HEADERS[:6] + ["失信惩戒对象"]
    rows = office_rows(5)
    for r in rows:
        r.cells = r.cells[:7]
    data = gbk_csv(rows, headers)
    report = import_file("enterprises", "e.csv", data, commit=False)
    odd = report.columns[6]
    assert odd.target is None and odd in report.needs_choice  # headed like a flag (失信): needs a choice
    remember_columns("enterprises", report.headers, [c.target for c in report.columns[:6]] + ["blacklisted"])
    again = import_file("enterprises", "e.csv", data, commit=False)
    assert (again.columns[6].target, again.columns[6].how) == ("blacklisted", "remembered")
    other = csv_text([], ["单位名称", "社会信用代码", "失信惩戒对象", "所属街道", "行业类别"]).encode("gbk")
    assert import_file("enterprises", "e.csv", other, commit=False).columns[2].target == "blacklisted"
    assert count(ImportMapping) == 1
    # "Not imported" stays with its file: a column left out there (地址 beside 注册地址) is suggested from the
    # synonyms in another file, not carried over as a blank.
    twins = csv_text([], ["单位名称", "社会信用代码", "注册地址", "地址"]).encode("gbk")
    first = import_file("enterprises", "e.csv", twins, commit=False)
    remember_columns("enterprises", first.headers, ["name", "uscc", "address", None])
    again = import_file("enterprises", "e.csv", twins, commit=False)
    assert [c.target for c in again.columns] == ["name", "uscc", "address", None]
    alone = csv_text([], ["单位名称", "社会信用代码", "地址"]).encode("gbk")
    assert import_file("enterprises", "e.csv", alone, commit=False).columns[2].target == "address"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registry.import_mapping"))
    assert entry is not None and entry.object_type == "import_mapping"


# --- values -------------------------------------------------------------------------------------------

def test_unknown_values_are_grouped_by_column_and_value(ctx):
    make_reference()
    rows = office_rows(300)
    report = import_file("enterprises", "名录.csv", gbk_csv(rows))
    assert not report.ok and not report.committed and count(Enterprise) == 0
    groups = report.groups
    assert len(groups) == 1, [str(g) for g in groups]
    g = groups[0]
    assert (g.column, g.value, g.field, g.domain, len(g.rows)) == ("行业类别", "工贸-粉尘涉爆", "industry",
                                                                  "industry", 60)
    assert g.mappable and report.refused_rows == 60
    text = str(g)
    assert "「行业类别」" in text and "「工贸-粉尘涉爆」" in text and "60" in text and "industry" not in text


def test_a_mapped_value_is_remembered_and_every_row_then_matches(ctx):
    make_reference()
    rows = office_rows(300)
    remember_values("enterprises", [("industry", "工贸-粉尘涉爆", "machinery")])
    report = import_file("enterprises", "名录.csv", gbk_csv(rows))
    assert report.ok and report.committed, [str(g) for g in report.groups]
    assert (len(report.created), report.encoding) == (300, "GBK")
    assert mismatches(rows) == []
    # Flags as the office wrote them (是, √ / 否, ×, blank), R8 and R9 decide who is drawn.
    assert db.session.scalar(select(func.count()).where(Enterprise.key_supervision.is_(True))) == 100
    assert db.session.scalar(select(func.count()).where(Enterprise.blacklisted.is_(True))) == 9  # i % 37 == 1
    assert count(ImportValueMapping) == 1 and verify().ok


@pytest.mark.parametrize("word,expected", [
    ("是", True), ("否", False), ("√", True), ("×", False), ("Y", True), ("n", False), ("1", True), ("0", False),
    ("有", True), ("无", False), ("重点", True), ("", False), (" 是　", True), ("ｙｅｓ", True),
])
def test_yes_no_as_offices_write_it(ctx, word, expected):
    from webapp.registries.cells import yes_no
    assert yes_no(word) is expected


def test_an_unknown_yes_no_word_can_be_mapped(ctx):
    make_reference()
    rows = office_rows(6)
    rows[2].cells[5] = "一般"  # the office's word for "not key supervision"
    rows[2].expect["key_supervision"] = False
    report = import_file("enterprises", "e.csv", gbk_csv(rows), values=DUSTY)
    assert [(g.column, g.value, g.domain) for g in report.groups] == [("是否重点监管", "一般", "yes_no")]
    report = import_file("enterprises", "e.csv", gbk_csv(rows), values={**DUSTY, "key_supervision": {"一般": "no"}})
    assert report.committed and mismatches(rows) == []


def test_full_width_digits_and_stray_spaces_are_normalised(ctx):
    make_reference()
    rows = office_rows(12)  # rows 3 and 10: full-width credit code; 0, 7: 「城关镇　」; 0, 11: full-width phone
    assert "０" in rows[3].cells[2] or "１" in rows[3].cells[2]
    report = import_file("enterprises", "e.csv", gbk_csv(rows), values=DUSTY)
    assert report.committed and mismatches(rows) == []


# --- credit codes Excel stored as numbers ------------------------------------------------------------

def test_xlsx_credit_codes_excel_stored_as_numbers(ctx):
    """An 18-digit code typed into a General cell keeps 15 digits: refused naming the row and the value as
    Excel shows it; codes with letters stay text and import."""
    import random
    make_reference()
    rows = office_rows(5)
    code = numeric_uscc(random.Random(1))
    rows[2].cells[2] = code
    report = import_file("enterprises", "名录.xlsx", office_xlsx(rows, numeric_codes=True), values=DUSTY)
    assert not report.committed and count(Enterprise) == 0
    numeric = [i for i, r in enumerate(rows) if r.cells[2].isdigit()]  # the generator makes some too
    assert 2 in numeric
    # Title, blank row, header: data row i is row i + 4 in Excel.
    assert [(e.row, e.column) for e in report.errors] == [(i + 4, "社会信用代码") for i in numeric]
    error = next(e for e in report.errors if e.row == 6)
    assert "%.6G" % float(code) in error.message and "Excel" in error.message
    assert error.value == str(int(float(code)))  # the value as the file now holds it, digits lost
    rows[2].expect["uscc"] = code
    assert import_file("enterprises", "名录.xlsx", office_xlsx(rows), values=DUSTY).committed  # typed as text
    assert mismatches(rows) == []


def test_csv_credit_codes_in_scientific_notation_or_with_a_decimal_tail(ctx):
    import random
    make_reference()
    rows = office_rows(4)
    code = numeric_uscc(random.Random(2))
    rows[1].cells[2], rows[1].expect["uscc"] = code + ".0", code  # a program wrote the number with ".0"
    rows[3].cells[2] = "9.11405E+17"  # Excel's General format
    report = import_file("enterprises", "e.csv", gbk_csv(rows), values=DUSTY)
    assert [(e.row, e.column, e.value) for e in report.errors] == [(7, "社会信用代码", "9.11405E+17")]
    assert "scientific" in report.errors[0].message or "科学计数" in report.errors[0].message
    del rows[3]
    assert import_file("enterprises", "e.csv", gbk_csv(rows), values=DUSTY).committed and mismatches(rows) == []


# --- all or nothing, flags that need a choice ------------------------------------------------------------

def test_one_bad_row_commits_nothing_and_is_listed_with_its_value(ctx):
    make_reference()
    rows = office_rows(300)
    rows[150].cells[1] = ""
    rows[200].cells[3] = "不存在镇"
    report = import_file("enterprises", "e.csv", gbk_csv(rows), values=DUSTY)
    assert not report.committed and count(Enterprise) == 0 and report.refused_rows == 2
    assert len(report.created) == 298  # the rest is counted, as the preview shows
    got = sorted((e.row, e.column, e.value) for e in report.errors)
    assert got == [(154, "单位名称", None), (204, "所属街道", "不存在镇")]


def test_an_unmapped_flag_column_needs_an_explicit_choice(ctx):
    """The clerk's old mistake: 300 firms imported without their blacklist marks (R9). A column that looks
    like a flag and is mapped to nothing stops the import until someone chooses to go without it."""
    make_reference()
    headers = list(HEADERS)
    headers[6] = "列入名单"  # no synonym; its values are 是/否
    rows = office_rows(20)
    data = gbk_csv(rows, headers)
    report = import_file("enterprises", "e.csv", data, values=DUSTY)
    assert report.ok and report.blocked and not report.committed and count(Enterprise) == 0
    assert [c.header for c in report.needs_choice] == ["列入名单"]
    report = import_file("enterprises", "e.csv", data, values=DUSTY, allow_unmapped=True)
    assert report.committed and count(Enterprise) == 20
    assert db.session.scalar(select(func.count()).where(Enterprise.blacklisted.is_(True))) == 0
    report = import_file("enterprises", "e.csv", data, values=DUSTY, choices={6: "blacklisted"})
    assert report.committed and mismatches(rows) == []


def test_changes_are_shown_as_labels_and_names(ctx):
    make_reference()
    rows = office_rows(3)
    assert import_file("enterprises", "e.csv", gbk_csv(rows), values=DUSTY).committed
    rows[1].cells[5], rows[1].cells[4], rows[1].cells[3] = "是", "商贸", "城关镇"  # was 否, 冶金, 河西镇
    report = import_file("enterprises", "e.csv", gbk_csv(rows), commit=False, values=DUSTY)
    assert len(report.updated) == 1 and report.unchanged == 2
    [(name, diffs)] = report.changes
    assert name == rows[1].expect["name"]
    assert sorted(diffs) == sorted([("重点监管单位", "否", "是"), ("行业", "冶金", "商贸"),
                                    ("乡镇（街道）", "河西镇", "城关镇")])


# --- the browser flow without a browser ---------------------------------------------------------------

def _upload(client, data, name="名录.csv"):
    return client.post("/registries/import/enterprises", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _form(body: str) -> dict:
    import re
    token = re.search(r'name="token" value="([^"]+)"', body)[1]
    return {"token": token, "filename": "名录.csv"}


def test_preview_maps_values_creates_a_township_and_imports(client, ctx):
    make_user(R.ADMIN)
    login(client, "admin")
    rows = office_rows(30, towns=("城关镇", "河西镇", "新城街道"))
    resp = _upload(client, gbk_csv(rows))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and count(Enterprise) == 0
    assert "按 GBK 编码读取" in body and "表头在第 3 行" in body and TITLE in body
    assert "「行业类别」「工贸-粉尘涉爆」：不是已知的行业" in body and "「所属街道」「新城街道」" in body
    assert "/confirm" not in body
    form = _form(body)
    # Map the industry word, and register the unknown township from the preview.
    resp = client.post("/registries/import/enterprises/check", data={
        **form, "vm-1-field": "industry", "vm-1-source": "工贸-粉尘涉爆", "vm-1-target": "machinery"})
    body = resp.get_data(as_text=True)
    assert "「工贸-粉尘涉爆」：不是已知的行业" not in body and "「所属街道」「新城街道」" in body
    assert "/confirm" not in body and count(Enterprise) == 0  # one unknown township still refuses its rows
    resp = client.post("/registries/import/enterprises/township", data={
        **form, "source": "新城街道", "name": "新城街道", "code": "140525102"}, headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="preview"' in body
    assert db.session.scalar(select(Region.name).where(Region.code == "140525102")) == "新城街道"
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "region",
                                                             AuditEntry.action == "region.create")
                             .order_by(AuditEntry.id.desc()).limit(1)) == "region.create"
    assert "新增 30" in body and "拒绝 0" in body and "/confirm" in body
    assert "备注" in body and "以下各列有数据，但不会导入" in body  # nothing ignored silently
    resp = client.post("/registries/import/enterprises/confirm", data=_confirm_data(body))
    assert resp.status_code == 303 and count(Enterprise) == 30
    assert mismatches(rows) == []
    assert count(ImportMapping) == 1  # the mapping is remembered for the next file


def test_confirming_with_an_unmapped_flag_column_needs_the_box(client, ctx):
    make_user(R.ADMIN)
    login(client, "admin")
    remember_values("enterprises", [("industry", "工贸-粉尘涉爆", "machinery")])
    headers = list(HEADERS)
    headers[5] = "监管类别标记"  # 重点 … no: an office's own header for key supervision
    rows = office_rows(10)
    body = _upload(client, gbk_csv(rows, headers)).get_data(as_text=True)
    assert "像是“是/否”标记" in body and 'name="without_unmapped"' in body
    import re
    resp = client.post("/registries/import/enterprises/confirm", data=_confirm_data(body))
    assert resp.status_code == 422 and count(Enterprise) == 0
    body = resp.get_data(as_text=True)
    assert "请选择是否不导入下列各列" in body
    # The preview stays usable: map the column, check again and confirm.
    cols = dict(re.findall(r'name="(col-\d+)" value="([^"]*)"', body))
    cols["col-5"] = "key_supervision"
    body = client.post("/registries/import/enterprises/check", data={**_form(body), **cols}).get_data(as_text=True)
    resp = client.post("/registries/import/enterprises/confirm", data=_confirm_data(body))
    assert resp.status_code == 303 and mismatches(rows) == []


def test_preview_shows_changes_as_labels(client, ctx):
    make_user(R.ADMIN)
    login(client, "admin")
    remember_values("enterprises", [("industry", "工贸-粉尘涉爆", "machinery")])
    rows = office_rows(4)
    assert import_file("enterprises", "e.csv", gbk_csv(rows)).committed
    rows[1].cells[5] = "是"  # row 1 was 否
    rows[1].cells[3] = "城关镇"
    body = _upload(client, gbk_csv(rows)).get_data(as_text=True)
    import re
    text = re.sub(r"<[^>]+>", " ", body.split('id="preview"')[1])  # what a person reads
    assert "重点监管单位：否 → 是" in text and "乡镇（街道）：河西镇 → 城关镇" in text
    for raw in ("key_supervision", "region_id", "True", "False", "None"):
        assert raw not in text, raw


# --- the command line ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_cli_with_a_mapping_file(app, ctx, tmp_path, fmt):
    make_reference()
    rows = office_rows(50)
    path = tmp_path / "名录.csv"
    path.write_bytes(gbk_csv(rows))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "import", "enterprises", str(path)])
    assert result.exit_code == 1 and "「工贸-粉尘涉爆」" in result.output and count(Enterprise) == 0
    mapping = tmp_path / f"map.{fmt}"
    if fmt == "json":
        mapping.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    else:
        mapping.write_text('[columns]\n"序号" = ""\n"备注" = ""\n\n[values."行业"]\n"工贸-粉尘涉爆" = "机械"\n',
                           encoding="utf-8")
    result = runner.invoke(args=["registry", "import", "enterprises", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "GBK" in result.output and "单位名称 → 企业名称" in result.output
    assert mismatches(rows) == []


def test_cli_refuses_an_unmapped_flag_column_unless_the_mapping_says_null(app, ctx, tmp_path):
    make_reference()
    headers = list(HEADERS)
    headers[6] = "列入名单"
    rows = office_rows(10)
    path = tmp_path / "名录.csv"
    path.write_bytes(gbk_csv(rows, headers))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "import", "enterprises", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 1 and "列入名单" in result.output and count(Enterprise) == 0
    mapping.write_text(json.dumps({**MAPPING, "columns": {**MAPPING["columns"], "列入名单": "黑名单"}},
                                  ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["registry", "import", "enterprises", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert mismatches(rows) == []


def test_cli_mapping_file_errors_name_the_problem(app, ctx, tmp_path):
    make_reference()
    path = tmp_path / "名录.csv"
    path.write_bytes(gbk_csv(office_rows(3)))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"values": {"行业": {"工贸-粉尘涉爆": "航天"}}}, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["registry", "import", "enterprises", str(path), "--mapping",
                                                str(mapping)])
    assert result.exit_code == 2 and "航天" in result.output


# --- the other two registries -----------------------------------------------------------------------------

def test_an_office_inspector_list_imports_with_mapped_department_and_competence(ctx):
    make_reference()
    text = ("执法人员名录（2026年）\r\n\r\n序号,姓名,部门,执法证件号,有效期至,专业,手机\r\n"
            "1,王伟,执法大队,１４０５２５００１,2028年12月31日,危化、粉尘,13800000001\r\n"
            "2,李娜,执法大队,140525002,2028/1/31,煤矿,13800000002\r\n")
    report = import_file("inspectors", "i.csv", text.encode("gbk"))
    got = {(g.column, g.value, g.domain, len(g.rows)) for g in report.groups}
    assert got == {("部门", "执法大队", "department", 2), ("专业", "粉尘", "competence", 1)}
    from webapp.registries.models import Competence, Department
    dept = db.session.scalar(select(Department.id).where(Department.name == "综合行政执法大队"))
    comp = db.session.scalar(select(Competence.id).where(Competence.name == "工贸"))
    remember_values("inspectors", [("department", "执法大队", str(dept)), ("competences", "粉尘", str(comp))])
    report = import_file("inspectors", "i.csv", text.encode("gbk"))
    assert report.committed, [str(g) for g in report.groups]
    wang = db.session.scalar(select(Inspector).where(Inspector.cert_no == "140525001"))
    assert wang.department_id == dept and [c.name for c in wang.competences] == ["危化", "工贸"]
    assert wang.cert_expiry.isoformat() == "2028-12-31"


def test_an_office_item_list_imports(ctx):
    make_reference()
    text = ("事项编号,实施主体,检查事项,检查依据,检查内容,检查方式,是否随机抽查,生效时间\r\n"
            "GM-01,综合行政执法大队,工贸安全检查,《安全生产法》第六十五条,检查安全管理,现场,√,2023-05-15\r\n")
    report = import_file("items", "i.csv", text.encode("gbk"))
    assert report.committed, [str(g) for g in report.groups]
    item = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "GM-01"))
    assert item.current.method == "onsite" and item.current.is_random


def test_only_the_office_maps_or_registers_townships_from_a_preview(client, ctx):
    """The preview's steps are the office's (R1): another role is refused, and a token is its user's."""
    admin = make_user(R.ADMIN)
    make_user(R.BRIGADE_LEAD, "brigade")
    login(client, "admin")
    body = _upload(client, gbk_csv(office_rows(5, towns=("新城街道",)))).get_data(as_text=True)
    form = _form(body)
    assert form["token"].startswith(f"{admin.id}-enterprises-")
    client.post("/logout")
    login(client, "brigade")
    for path in ("check", "township", "confirm"):
        resp = client.post(f"/registries/import/enterprises/{path}", data={
            **form, "source": "新城街道", "name": "新城街道", "code": "140525102",
            "vm-1-field": "industry", "vm-1-source": "工贸-粉尘涉爆", "vm-1-target": "machinery"})
        assert resp.status_code == 403, path
    assert count(Region) == 2 and count(ImportValueMapping) == 0 and count(Enterprise) == 0


def test_a_township_differing_only_in_width_or_spaces_is_not_registered_twice(ctx):
    """Imports compare names full-width- and space-blind: registering 「城 关 镇」 beside 「城关镇」 would make two
    townships a file cannot tell apart."""
    from webapp.registries.services import save_region
    from webapp.services import ServiceError
    make_reference()
    existing = db.session.scalars(select(Region)).first()
    spaced = " ".join(existing.name)
    with pytest.raises(ServiceError):
        save_region("140525999", spaced)
    with pytest.raises(ServiceError):
        save_region(existing.code.translate(str.maketrans("0123456789", "０１２３４５６７８９")), "新设镇")
    assert save_region("１４０５２５９９８", "新设镇").code == "140525998"


# --- the preview is what gets written ---------------------------------------------------------------

def _confirm_data(body: str) -> dict:
    import re
    form = re.search(r'<form id="confirm-form".*?</form>', body, re.S)[0]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_a_value_mapping_changed_after_the_preview_is_not_written(client, ctx):
    """Another tab (or a preview never confirmed) remembers 「否」 of 是否重点监管 as yes after this preview:
    the confirmation is refused instead of marking every 否 firm as key-supervised (R8)."""
    make_user(R.ADMIN)
    login(client, "admin")
    remember_values("enterprises", [("industry", "工贸-粉尘涉爆", "machinery")])
    rows = office_rows(20)
    body = _upload(client, gbk_csv(rows)).get_data(as_text=True)
    data = _confirm_data(body)
    assert data.get("digest")
    remember_values("enterprises", [("key_supervision", "否", "yes")])  # the other tab
    resp = client.post("/registries/import/enterprises/confirm", data=data)
    assert resp.status_code == 409 and count(Enterprise) == 0
    body = resp.get_data(as_text=True)
    assert "导入设置在预览后已被更改，请重新校验" in body
    # The new preview shows the mapping now in force; confirming it writes exactly that.
    resp = client.post("/registries/import/enterprises/confirm", data=_confirm_data(body))
    assert resp.status_code == 303 and count(Enterprise) == 20
    no_rows = [r for r in rows if r.cells[5] == "否"]
    assert no_rows and all(db.session.scalar(select(Enterprise.key_supervision).where(
        Enterprise.name == r.cells[1].strip())) for r in no_rows)


def test_a_column_changed_but_not_checked_again_refuses_the_import(client, ctx):
    make_user(R.ADMIN)
    login(client, "admin")
    remember_values("enterprises", [("industry", "工贸-粉尘涉爆", "machinery")])
    rows = office_rows(10)
    body = _upload(client, gbk_csv(rows)).get_data(as_text=True)
    data = _confirm_data(body)
    assert data["col-5"] == "key_supervision"
    resp = client.post("/registries/import/enterprises/confirm", data={**data, "sel-5": "-"})
    assert resp.status_code == 409 and count(Enterprise) == 0
    assert "应用并重新校验" in resp.get_data(as_text=True)
    resp = client.post("/registries/import/enterprises/confirm", data={**data, "sel-5": "key_supervision"})
    assert resp.status_code == 303 and mismatches(rows) == []


# --- merged cells -----------------------------------------------------------------------------------

def test_a_value_merged_down_over_rows_applies_to_every_row(ctx):
    """是否重点监管 「是」 merged down over a block of firms, 所属街道 merged over a township's firms: each
    covered row takes the value (R8: a blank read as 否 would drop them from the yearly draw)."""
    from openpyxl import load_workbook
    make_reference()
    rows = office_rows(12, towns=("城关镇",))
    for r in rows[:9]:
        r.cells[5] = "是"
        r.expect["key_supervision"] = True
    wb = load_workbook(io.BytesIO(office_xlsx(rows)))
    ws = wb.active
    for r in range(5, 13):  # header in row 3: data rows 4..15; 是 typed in row 4, merged down to 12
        ws.cell(r, 6).value = None
        ws.cell(r, 4).value = None
    ws.merge_cells("F4:F12")
    ws.merge_cells("D4:D15")
    out = io.BytesIO()
    wb.save(out)
    report = import_file("enterprises", "名录.xlsx", out.getvalue(), values=DUSTY)
    assert report.ok and report.committed, report.errors
    assert mismatches(rows) == []
    assert count(Enterprise) == 12 and db.session.scalar(
        select(func.count()).where(Enterprise.key_supervision.is_(True))) == 9


# --- a column listing several marks -----------------------------------------------------------------

def _category_file(header="监管类别"):
    rows = office_rows(6)
    headers = list(HEADERS)
    headers[5], headers[6] = header, "其他"
    lists = ["重点监管、黑名单、粉尘涉爆", "黑名单/重点", "", "有限空间 液氨制冷", "重点监管，特别关注", "特别关注"]
    for r, words in zip(rows, lists):
        r.cells[5], r.cells[6] = words, ""
    return rows, gbk_csv(rows, headers)


def test_a_category_column_sets_each_named_flag(ctx):
    """「监管类别」 lists several marks: each sets its flag (R8 key supervision, R9 blacklist); a word no flag
    knows is refused as a value to map, grouped like other columns."""
    make_reference()
    rows, data = _category_file()
    report = import_file("enterprises", "名录.csv", data, values=DUSTY)
    assert not report.committed and count(Enterprise) == 0
    groups = [g for g in report.groups if g.value == "特别关注"]
    assert len(groups) == 1 and groups[0].rows == [8, 9] and groups[0].mappable and groups[0].domain == "category"
    report = import_file("enterprises", "名录.csv", data,
                         values={**DUSTY, "categories": {"特别关注": "many_complaints"}})
    assert report.committed, report.errors
    flags = {e.name: e for e in db.session.scalars(select(Enterprise))}
    e = [flags[r.cells[1]] for r in rows]
    assert (e[0].key_supervision, e[0].blacklisted, e[0].dust_explosion) == (True, True, True)
    assert (e[1].key_supervision, e[1].blacklisted, e[1].dust_explosion) == (True, True, False)
    assert not any((e[2].key_supervision, e[2].blacklisted, e[2].many_complaints))
    assert (e[3].confined_space, e[3].liquid_ammonia, e[3].key_supervision) == (True, True, False)
    assert (e[4].key_supervision, e[4].many_complaints) == (True, True)
    assert (e[5].key_supervision, e[5].many_complaints) == (False, True)


def test_an_unknown_column_naming_marks_needs_the_explicit_choice(app, ctx, tmp_path):
    """A column of marks under a header no synonym knows is flag-like: not dropped silently, and the
    command line exits non-zero without a mapping file's decision."""
    make_reference()
    rows, data = _category_file("企业备注信息")
    report = import_file("enterprises", "名录.csv", data, values=DUSTY)
    assert report.blocked and not report.committed and [c.label for c in report.needs_choice] == ["企业备注信息"]
    path = tmp_path / "名录.csv"
    path.write_bytes(data)
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"values": {"行业": {"工贸-粉尘涉爆": "机械"}}}), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["registry", "import", "enterprises", str(path),
                                                "--mapping", str(mapping)])
    assert result.exit_code != 0 and count(Enterprise) == 0


# --- small things offices do ------------------------------------------------------------------------

@pytest.mark.parametrize("sep", [";", "\t"])
def test_the_csv_separator_is_detected_from_the_header(ctx, sep):
    make_reference()
    rows = office_rows(5)
    text = csv_text(rows).replace(",", sep)
    report = import_file("enterprises", "名录.csv", text.encode("gbk"), values=DUSTY)
    assert report.committed and report.headers[:3] == ["序号", "单位名称", "社会信用代码"], report.errors
    assert mismatches(rows) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_leading_apostrophe_is_excels_text_mark(ctx, fmt):
    make_reference()
    rows = office_rows(4)
    shown = [list(r.cells) for r in rows]
    for cells in shown:
        cells[2], cells[9] = "'" + cells[2], "'" + cells[9]
    marked = [type(r)(c, r.expect) for r, c in zip(rows, shown)]
    data = gbk_csv(marked) if fmt == "csv" else office_xlsx(marked)
    report = import_file("enterprises", f"名录.{fmt}", data, values=DUSTY)
    assert report.committed, [str(g) for g in report.groups]
    assert mismatches(rows) == []


def test_an_item_without_an_end_date_written_as_a_word(ctx):
    make_reference()
    text = "事项编号,实施主体,检查事项,检查依据,检查内容,检查方式,是否随机抽查,生效时间,失效日期\r\n" + "".join(
        f"GM-0{i},综合行政执法大队,工贸安全检查{i},《安全生产法》第六十五条,检查安全管理,现场,√,2023-05-15,{w}\r\n"
        for i, w in enumerate(["长期", "长期有效", "/", "—", "无"]))
    report = import_file("items", "i.csv", text.encode("gbk"))
    assert report.committed, [str(g) for g in report.groups]
    assert all(i.current.valid_to is None for i in db.session.scalars(select(InspectionItem)))


@pytest.mark.parametrize("listed", ["危化/工贸", "危化 工贸", "危化／工贸"])
def test_competences_split_on_slashes_and_spaces(ctx, listed):
    make_reference()
    text = f"姓名,所属部门,执法证号,执法证有效期至,专业领域\r\n王伟,综合行政执法大队,140525001,2028-12-31,{listed}\r\n"
    report = import_file("inspectors", "i.csv", text.encode("gbk"))
    assert report.committed, [str(g) for g in report.groups]
    wang = db.session.scalar(select(Inspector).where(Inspector.cert_no == "140525001"))
    assert sorted(c.name for c in wang.competences) == ["危化", "工贸"]


def test_a_date_line_below_the_footer_and_subtotals_between_blocks_are_skipped(ctx):
    """合计 / 制表人 / 2026年11月20日 at the end are notes; 「城关镇小计」 27家 between the townships' blocks
    is a subtotal: skipped and listed, not refused (the rest of the file still imports)."""
    make_reference()
    rows = office_rows(6)
    pad = "," * (len(HEADERS) - 1)
    lines = csv_text(rows).split("\r\n")
    # title, blank, header, 3 rows, subtotal, 3 rows
    lines.insert(6, ",城关镇小计,,,,,,,,,27家")
    text = "\r\n".join(lines).rstrip("\r\n") + "\r\n" + "合计：6 家" + pad + "\r\n" + "制表人：张三" + pad + "\r\n" \
        + ",2026年11月20日" + pad[1:] + "\r\n"
    report = import_file("enterprises", "名录.csv", text.encode("gbk"), values=DUSTY)
    assert report.ok and report.committed, [str(g) for g in report.groups]
    assert report.rows == 6 and [n for n, _t in report.subtotal_rows] == [7]
    assert [n for n, _t in report.footer_rows] == [11, 12, 13]
    assert mismatches(rows) == []


def test_the_sheet_with_the_registrys_header_is_read(ctx):
    """A workbook whose first sheet is a cover note (填报说明) and whose list is on the second sheet."""
    from openpyxl import load_workbook
    make_reference()
    rows = office_rows(5)
    wb = load_workbook(io.BytesIO(office_xlsx(rows)))
    cover = wb.create_sheet("填报说明", 0)
    cover.append(["填报说明"])
    cover.append(["1. 单位名称填写营业执照上的全称", "2. 是否重点监管填是或否"])
    out = io.BytesIO()
    wb.save(out)
    report = import_file("enterprises", "名录.xlsx", out.getvalue(), values=DUSTY)
    assert report.committed and report.sheet_name == "企业名录" and report.rows == 5, report.errors
    assert mismatches(rows) == []
