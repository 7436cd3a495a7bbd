"""Issue #11 point 11: an import never trusts a file's own account of its size. A tiny XLSX declaring
``A1:XFD5000`` (or holding one far-away cell) must not make the worker pad millions of cells; rows and
columns are counted while streaming and the file is refused with the limit named."""
import io
import re
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from webapp.registries import tabular
from webapp.registries.import_specs import headers
from webapp.registries.io import import_file
from tests.factories import make_reference, new_uscc

H = headers("enterprises")
#: What reading one small workbook may allocate at the peak (the old reader took ~650 MB on these files).
PEAK_BYTES = 25 * 1024 * 1024


def _row(name: str) -> list[str]:
    row = dict.fromkeys(H, "")
    row.update({"统一社会信用代码": new_uscc(), "企业名称": name, "乡镇街道": "城关镇", "行业": "商贸", "经营状态": "在营"})
    return [row[h] for h in H]


def crafted_xlsx(dimension: str, extra_xml: str = "", rows: int = 3) -> bytes:
    """A real workbook from openpyxl, then its sheet1.xml edited: the declared <dimension> replaced and
    ``extra_xml`` (rows far away) added at the end of <sheetData>."""
    wb = Workbook()
    ws = wb.active
    ws.append(H)
    for i in range(rows):
        ws.append(_row(f"企业{i}"))
    out = io.BytesIO()
    wb.save(out)
    src, dst = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                xml, n = re.subn(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', xml)
                assert n == 1
                xml = xml.replace("</sheetData>", extra_xml + "</sheetData>")
                data = xml.encode()
            z.writestr(info.filename, data)
    return dst.getvalue()


def _far_cell(ref: str, row: int, value: str = "x") -> str:
    return f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c></row>'


def _read_measured(name: str, data: bytes):
    tracemalloc.start()
    try:
        try:
            result = tabular.read_table(name, data)
        except tabular.ServiceError as exc:
            result = exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_declared_huge_range_is_ignored_not_padded(ctx):
    data = crafted_xlsx("A1:XFD5000")
    assert len(data) < 12_000  # a few KB, as in the report
    result, peak = _read_measured("e.xlsx", data)
    assert peak < PEAK_BYTES, f"reading took {peak / 2**20:.0f} MB"
    header, body = result
    assert header == H and [n for n, _cells in body] == [2, 3, 4]
    assert all(len(cells) <= len(H) for _n, cells in body)
    make_reference()
    report = import_file("enterprises", "e.xlsx", data)
    assert report.ok and len(report.created) == 3


def test_a_far_away_cell_is_refused_naming_the_column_limit(ctx):
    data = crafted_xlsx("A1:XFD5000", _far_cell("XFD5000", 5000))
    result, peak = _read_measured("e.xlsx", data)
    assert peak < PEAK_BYTES, f"reading took {peak / 2**20:.0f} MB"
    assert isinstance(result, tabular.ServiceError)
    assert str(tabular.MAX_COLUMNS) in result.message
    report = import_file("enterprises", "e.xlsx", data)
    assert not report.ok and not report.committed and str(tabular.MAX_COLUMNS) in report.errors[0].message


def test_a_far_away_row_is_refused_naming_the_row_limit(ctx):
    last = tabular.MAX_ROWS + 2  # one data row too many (the header is row 1)
    data = crafted_xlsx(f"A1:A{last}", _far_cell(f"A{last}", last))
    result, peak = _read_measured("e.xlsx", data)
    assert peak < PEAK_BYTES, f"reading took {peak / 2**20:.0f} MB"
    assert isinstance(result, tabular.ServiceError) and f"{tabular.MAX_ROWS}" in result.message
    # A blank styled row down there is no content and costs nothing.
    header, body = tabular.read_table("e.xlsx", crafted_xlsx("A1:XFD1048576", f'<row r="{last}" s="0"/>'))
    assert len(body) == 3


def test_every_row_up_to_the_limit_is_read(ctx):
    """The limit is the limit: a file of exactly MAX_ROWS data rows is read whole."""
    data = ("a\r\n" + "b\r\n" * tabular.MAX_ROWS).encode()
    header, body = tabular.read_table("e.csv", data)
    assert header == ["a"] and len(body) == tabular.MAX_ROWS and body[-1][0] == tabular.MAX_ROWS + 1


def test_a_workbook_that_unpacks_huge_is_refused_before_opening(ctx):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 4_000_000 + "</sst>")  # 68 MB
    assert len(out.getvalue()) < 1_000_000
    result, peak = _read_measured("e.xlsx", out.getvalue())
    assert isinstance(result, tabular.ServiceError) and str(tabular.MAX_UNPACKED_BYTES // 2**20) in result.message
    assert peak < PEAK_BYTES


@pytest.mark.parametrize("kind", ["rows", "columns", "size"])
def test_csv_is_capped_with_the_limit_named(ctx, kind):
    if kind == "rows":
        data, limit = ("a\r\n" + "b\r\n" * (tabular.MAX_ROWS + 1)).encode(), tabular.MAX_ROWS
    elif kind == "columns":
        data, limit = ("a\r\n" + "," * tabular.MAX_COLUMNS + "x\r\n").encode(), tabular.MAX_COLUMNS
    else:
        data, limit = b"a\r\n" + b"b" * tabular.MAX_CSV_BYTES, tabular.MAX_CSV_BYTES // 2**20
    report = import_file("enterprises", "e.csv", data)
    assert not report.ok and report.errors[0].row == 0 and str(limit) in report.errors[0].message
    assert len(report.errors) == 1
