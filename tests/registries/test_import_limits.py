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


# --- blank rows and cells, shared strings and CSV records count too (issue #11 point 11) ----------------

def _timed(name: str, data: bytes):
    import time
    started = time.monotonic()
    result, peak = _read_measured(name, data)
    return result, peak, time.monotonic() - started


def _blank_xfd_rows(first: int, count: int) -> str:
    return "".join(f'<row r="{i}"><c r="XFD{i}"/></row>' for i in range(first, first + count))


def test_blank_rows_reaching_column_xfd_are_not_padded(ctx):
    """20,000 rows each holding one blank cell at column 16,384 (100 KB) took 9 s padded to full width."""
    data = crafted_xlsx("A1:B4", _blank_xfd_rows(5, tabular.MAX_ROWS))
    assert len(data) < 150_000
    result, peak, took = _timed("e.xlsx", data)
    assert took < 4.0 and peak < PEAK_BYTES, (took, peak)
    header, body = result
    assert header == H and [n for n, _cells in body] == [2, 3, 4]


def test_blank_rows_count_toward_a_limit(ctx):
    data = crafted_xlsx("A1:B4", _blank_xfd_rows(5, tabular.MAX_RAW_ROWS))  # one <row> past the limit
    result, peak, took = _timed("e.xlsx", data)
    assert isinstance(result, tabular.ServiceError) and str(tabular.MAX_RAW_ROWS) in result.message
    assert took < 4.0 and peak < PEAK_BYTES, (took, peak)
    report = import_file("enterprises", "e.xlsx", data)
    assert not report.ok and not report.committed and str(tabular.MAX_RAW_ROWS) in report.errors[0].message


def test_blank_cells_count_toward_a_limit(ctx, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_CELLS", 500)
    data = crafted_xlsx("A1:B4", '<row r="9">' + "<c/>" * 501 + "</row>")
    result, _peak = _read_measured("e.xlsx", data)
    assert isinstance(result, tabular.ServiceError) and "500" in result.message


def _with_shared_strings(count: int) -> bytes:
    """A workbook whose shared-strings part holds ``count`` empty strings (3.7 million took 33 s, 414 MB)."""
    src, dst = zipfile.ZipFile(io.BytesIO(crafted_xlsx("A1:B4"))), io.BytesIO()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            z.writestr(info.filename, data)
        z.writestr("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   + b"<si><t/></si>" * count + b"</sst>")
    return dst.getvalue()


def test_shared_strings_are_counted_before_openpyxl_builds_them(ctx):
    data = _with_shared_strings(tabular.MAX_SHARED_STRINGS + 1)
    assert len(data) < 50_000
    result, peak, took = _timed("e.xlsx", data)
    assert isinstance(result, tabular.ServiceError) and str(tabular.MAX_SHARED_STRINGS) in result.message
    assert took < 4.0 and peak < PEAK_BYTES, (took, peak)
    header, body = tabular.read_table("e.xlsx", _with_shared_strings(1000))  # a few unused ones are fine
    assert header == H and len(body) == 3


def test_a_csv_line_of_commas_is_refused_before_it_is_split(ctx):
    data = b"a\r\n" + b"," * (tabular.MAX_CSV_BYTES - 10)  # one record of 20 million empty fields: ~1 GB
    result, peak, took = _timed("e.csv", data)
    assert isinstance(result, tabular.ServiceError) and str(tabular.MAX_CSV_COMMAS) in result.message
    assert took < 4.0 and peak < 3 * tabular.MAX_CSV_BYTES, (took, peak)
    # Empty cells trailing a short row (Excel pads a CSV to its used range) stay harmless.
    header, body = tabular.read_table("e.csv", ("a\r\nb" + "," * 200 + "\r\n").encode())
    assert header == ["a"] and body == [(2, ["b"])]


def test_blank_csv_records_count_toward_a_limit(ctx):
    data = b"a\r\n" + b",\r\n" * tabular.MAX_RAW_ROWS  # 10 million of these took 18 s
    result, peak, took = _timed("e.csv", data)
    assert isinstance(result, tabular.ServiceError) and str(tabular.MAX_RAW_ROWS) in result.message
    assert took < 4.0 and peak < PEAK_BYTES, (took, peak)


def test_a_giant_csv_cell_is_refused_with_a_translated_reason(ctx, app):
    import csv
    from flask_babel import gettext as _
    report = import_file("enterprises", "e.csv", b"a\r\n" + b"x" * (csv.field_size_limit() + 1) + b"\r\n")
    message = report.errors[0].message
    assert not report.ok and str(csv.field_size_limit()) in message and "field larger" not in message
    with app.test_request_context():
        assert message == _("A cell of the CSV file holds more than %(n)d characters, more than one import takes.",
                            n=csv.field_size_limit())
