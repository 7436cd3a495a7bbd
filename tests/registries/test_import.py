"""Importing the registries: all or nothing, every bad row named with its reason."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from webapp.audit.services import history, verify
from webapp.extensions import db
from webapp.registries.import_specs import headers
from webapp.registries.io import export_bytes, import_file
from webapp.registries.models import Enterprise, InspectionItem, InspectionItemVersion, Inspector
from webapp.registries.tabular import write_csv
from tests.factories import make_reference, new_uscc

H = headers("enterprises")


def ent_row(uscc=None, name="城关示例商贸有限公司", town="城关镇", industry="商贸", **cols):
    row = dict.fromkeys(H, "")
    row.update({"统一社会信用代码": uscc or new_uscc(), "企业名称": name, "乡镇街道": town, "行业": industry,
                "经营状态": "在营"})
    row.update(cols)
    return [row[h] for h in H]


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_good_file_imports_and_is_audited(ctx):
    make_reference()
    rows = [ent_row(name=f"企业{i}", 粉尘涉爆="是") for i in range(30)]
    report = import_file("enterprises", "e.csv", write_csv(H, rows))
    assert report.ok and report.committed and len(report.created) == 30
    assert count(Enterprise) == 30
    assert db.session.scalar(select(func.count()).where(Enterprise.dust_explosion.is_(True))) == 30
    assert verify().ok and verify().checked == 31 + 2 + 2 + 3  # rows, import summary; reference data


def test_one_bad_row_among_1000_writes_nothing(ctx):
    make_reference()
    rows = [ent_row(name=f"企业{i}") for i in range(1000)]
    bad = new_uscc()
    rows[636][0] = bad[:-1] + ("0" if bad[-1] != "0" else "1")  # wrong check character
    report = import_file("enterprises", "e.csv", write_csv(H, rows))
    assert not report.ok and not report.committed
    assert count(Enterprise) == 0
    assert [(e.row, e.column) for e in report.errors] == [(638, "统一社会信用代码")]  # header is row 1
    assert "校验" in str(report.errors[0]) or "check" in str(report.errors[0])


def test_every_bad_row_is_listed(ctx):
    make_reference()
    dup = new_uscc()
    rows = [ent_row(dup), ent_row(dup), ent_row(town="不存在镇"), ent_row(name=""), ent_row(industry="航天"),
            ent_row(经度="500")]
    report = import_file("enterprises", "e.csv", write_csv(H, rows))
    got = {(e.row, e.column) for e in report.errors}
    assert got == {(3, "统一社会信用代码"), (4, "乡镇街道"), (5, "企业名称"), (6, "行业"), (7, "经度")}
    assert count(Enterprise) == 0


def test_gbk_csv_is_read_and_the_encoding_named(ctx):
    """Issue #12: Excel on Chinese Windows saves CSV in GBK; it is read, and the report says so."""
    make_reference()
    data = ("\r\n".join([",".join(H), ",".join(ent_row(name="城关示例商贸有限公司"))])).encode("gbk")
    report = import_file("enterprises", "e.csv", data)
    assert report.ok and report.committed and report.encoding == "GBK"
    assert db.session.scalar(select(Enterprise.name)) == "城关示例商贸有限公司"


@pytest.mark.parametrize("name,data", [("e.xlsx", b"not a zip"), ("e.pdf", b"%PDF-1.4"), ("e.xls", b"\xd0\xcf")])
def test_wrong_file_type_is_refused(ctx, name, data):
    report = import_file("enterprises", name, data)
    assert not report.ok and report.errors[0].row == 0


def test_missing_required_column(ctx):
    make_reference()
    report = import_file("enterprises", "e.csv", "统一社会信用代码,企业名称\r\n".encode())
    assert not report.ok and "行业" in report.mapping_errors[0] and "乡镇街道" in report.mapping_errors[0]


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_import_and_numeric_credit_code(ctx):
    make_reference()
    good = ent_row()
    numeric = ent_row(uscc=914052510000000000)  # Excel kept it as a number: digits are gone
    report = import_file("enterprises", "e.xlsx", _xlsx([H, good, numeric]))
    assert [(e.row, e.column) for e in report.errors] == [(3, "统一社会信用代码")]
    assert "Excel" in report.errors[0].message
    report = import_file("enterprises", "e.xlsx", _xlsx([H, good]))
    assert report.ok and count(Enterprise) == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(ctx, fmt):
    make_reference()
    rows = [ent_row(name=f"企业{i}", 经度="112.8", 纬度="35.5", 黑名单="是" if i == 3 else "否") for i in range(20)]
    assert import_file("enterprises", "e.csv", write_csv(H, rows)).ok
    again = import_file("enterprises", f"x.{fmt}", export_bytes("enterprises", fmt))
    assert again.ok and not again.created and not again.updated and again.unchanged == 20


def test_reimport_updates_and_keeps_history(ctx):
    make_reference()
    code = new_uscc()
    import_file("enterprises", "e.csv", write_csv(H, [ent_row(code, name="旧名称")]))
    report = import_file("enterprises", "e.csv", write_csv(H, [ent_row(code, name="新名称", 经营状态="注销")]))
    assert report.ok and len(report.updated) == 1
    ent = db.session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    assert ent.name == "新名称" and ent.status == "deregistered"
    actions = [e.action for e in history("enterprise", ent.id)]
    assert actions == ["enterprise.import_create", "enterprise.import_update"]


def test_inspectors_import(ctx):
    make_reference()
    h = headers("inspectors")
    rows = [["王伟", "综合行政执法大队", "队员", "140525001", "2028-12-31", "危化;煤矿", "", "在岗", ""],
            ["李娜", "综合行政执法大队", "队员", "140525002", "2028/1/31", "工贸", "", "休假", "产假"],
            ["张三", "不存在的部门", "队员", "140525003", "2028-12-31", "危化", "", "在岗", ""],
            ["赵四", "综合行政执法大队", "队员", "140525004", "明年", "飞行", "", "在岗", ""]]
    report = import_file("inspectors", "i.csv", write_csv(h, rows))
    assert {(e.row, e.column) for e in report.errors} == {(4, "所属部门"), (5, "执法证有效期至")}
    report = import_file("inspectors", "i.csv", write_csv(h, rows[:2]))
    assert report.ok
    li = db.session.scalar(select(Inspector).where(Inspector.cert_no == "140525002"))
    assert not li.active and li.inactive_reason == "leave" and li.inactive_note == "产假"
    wang = db.session.scalar(select(Inspector).where(Inspector.cert_no == "140525001"))
    assert [c.name for c in wang.competences] == ["危化", "煤矿"]
    again = import_file("inspectors", "i.csv", export_bytes("inspectors", "csv"))
    assert again.ok and again.unchanged == 2


def test_item_change_is_a_new_version(ctx):
    make_reference()
    h = headers("items")
    row = ["GM-01", "综合行政执法大队", "工贸安全检查", "《安全生产法》第六十五条", "检查安全管理", "现场检查", "是", "2023-05-15", ""]
    assert import_file("items", "i.csv", write_csv(h, [row])).ok
    changed = row[:3] + ["《安全生产法》第六十五条；《新规定》第三条"] + row[4:]
    report = import_file("items", "i.csv", write_csv(h, [changed]))
    assert report.ok and len(report.updated) == 1
    item = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "GM-01"))
    texts = [v.legal_basis for v in db.session.scalars(
        select(InspectionItemVersion).where(InspectionItemVersion.item_id == item.id).order_by(InspectionItemVersion.version))]
    assert texts == ["《安全生产法》第六十五条", "《安全生产法》第六十五条；《新规定》第三条"]
    assert item.latest_version == 2


def test_item_without_legal_basis_is_refused_r16(ctx):
    make_reference()
    h = headers("items")
    row = ["GM-01", "综合行政执法大队", "工贸安全检查", "", "检查安全管理", "现场检查", "是", "2023-05-15", ""]
    report = import_file("items", "i.csv", write_csv(h, [row]))
    assert not report.ok and "只有有法律依据的事项才能列入抽查" in report.errors[0].message  # R16


def test_cli_import_exits_nonzero_and_writes_nothing(app, ctx, tmp_path):
    make_reference()
    rows = [ent_row(name=f"企业{i}") for i in range(10)] + [ent_row(uscc="123")]
    path = tmp_path / "企业.csv"
    path.write_bytes(write_csv(H, rows))
    result = app.test_cli_runner().invoke(args=["registry", "import", "enterprises", str(path)])
    assert result.exit_code == 1 and "12" in result.output  # row 12 named
    assert count(Enterprise) == 0
    ok = tmp_path / "ok.csv"
    ok.write_bytes(write_csv(H, rows[:10]))
    result = app.test_cli_runner().invoke(args=["registry", "import", "enterprises", str(ok)])
    assert result.exit_code == 0 and count(Enterprise) == 10


def test_columns_the_file_lacks_and_blank_status_change_nothing(ctx):
    """An office may send only some columns: the others keep their values (R3 status, R9 blacklist)."""
    make_reference()
    code = new_uscc()
    full = ent_row(code, name="旧名称", 联系电话="13800000001", 黑名单="是", 经营状态="注销")
    assert import_file("enterprises", "e.csv", write_csv(H, [full])).ok
    partial_h = ["统一社会信用代码", "企业名称", "乡镇街道", "行业", "经营状态"]
    report = import_file("enterprises", "e.csv", write_csv(partial_h, [[code, "新名称", "城关镇", "商贸", ""]]))
    assert report.ok and len(report.updated) == 1
    ent = db.session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    assert (ent.name, ent.phone, ent.blacklisted, ent.status) == ("新名称", "13800000001", True, "deregistered")


def test_inspector_file_without_status_keeps_inactive_people_inactive(ctx):
    make_reference()
    h = headers("inspectors")
    row = ["李娜", "综合行政执法大队", "队员", "140525002", "2028-01-31", "危化", "", "休假", "产假"]
    assert import_file("inspectors", "i.csv", write_csv(h, [row])).ok
    short = ["姓名", "所属部门", "执法证号", "执法证有效期至"]
    assert import_file("inspectors", "i.csv", write_csv(short, [["李娜", "综合行政执法大队", "140525002", "2029-01-31"]])).ok
    li = db.session.scalar(select(Inspector).where(Inspector.cert_no == "140525002"))
    assert not li.active and li.inactive_reason == "leave" and [c.name for c in li.competences] == ["危化"]
    assert li.cert_expiry.year == 2029


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_never_carries_a_formula_and_round_trips(ctx, fmt):
    make_reference()
    evil = '=HYPERLINK("http://evil.example","点我")'
    assert import_file("enterprises", "e.csv", write_csv(H, [ent_row(name=evil, 经营地址="-1号楼", 经度="-0.5")])).ok
    data = export_bytes("enterprises", fmt)
    if fmt == "xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(data)).active
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    else:
        import csv

        cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
        assert "'" + evil in cells and not any(c.startswith(("=", "@", "+")) for c in cells)
    again = import_file("enterprises", f"x.{fmt}", data)
    assert again.ok and again.unchanged == 1
