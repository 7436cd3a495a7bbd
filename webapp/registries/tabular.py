"""Reading and writing the registries' spreadsheets (XLSX and CSV, Chinese headers).

Reading never guesses: a file that is not what its name says, or a CSV that is not
UTF-8 (Excel on Chinese Windows saves GBK by default), is refused with the reason.
"""
import csv
import io
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from ..services import ServiceError

XLSX_MAGIC = b"PK\x03\x04"
#: A spreadsheet would run a cell starting with these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class NumericCell(str):
    """A cell Excel stored as a number: long digit strings have lost precision there."""


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return NumericCell(str(int(value)))
    if isinstance(value, (int, float)):
        return NumericCell(str(value))
    return str(value).strip()


def read_table(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return the header row and the data rows as ``(row number, cells)``.

    Row numbers are what the user sees in Excel: the header is row 1. Blank rows are skipped.
    """
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not data.startswith(XLSX_MAGIC):
            raise ServiceError(_("The file is named .xlsx but is not an Excel workbook."))
        rows = _read_xlsx(data)
    elif name.endswith(".csv"):
        rows = _read_csv(data)
    elif name.endswith(".xls"):
        raise ServiceError(_("Old .xls workbooks are not supported: save the file as .xlsx in Excel and upload it again."))
    else:
        raise ServiceError(_("Unsupported file type: upload an .xlsx or .csv file."))
    if not rows:
        raise ServiceError(_("The file is empty."))
    header = [h.strip() for h in rows[0]]
    body = [(i + 1, cells) for i, cells in enumerate(rows) if i > 0 and any(c for c in cells)]
    return header, body


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    try:
        ws = wb.worksheets[0]
        return [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            raise ServiceError(_("The CSV file is not UTF-8 text.")) from None
        raise ServiceError(_("The CSV file is encoded as GBK, not UTF-8. In Excel choose "
                             "\"Save as\" → \"CSV UTF-8\", or upload the .xlsx file.")) from None
    if "\x00" in text:
        raise ServiceError(_("The CSV file is not UTF-8 text."))
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ServiceError(_("The CSV file cannot be read (%(e)s).", e=str(exc))) from None
    return [[_unguard(c.strip()) for c in row] for row in rows]


def _guard(value):
    """Export: a text cell that a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _unguard(value: str) -> str:
    """Import: drop the apostrophe ``_guard`` added, so export → import is lossless."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def write_csv(header: list[str], rows) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese correctly."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_guard(v) for v in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _text_cell(ws, value):
    """A cell that holds text even when it starts with '=': it is never run as a formula."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def write_xlsx(header: list[str], rows, sheet_title: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title)
    ws.append(header)
    for row in rows:
        ws.append([_text_cell(ws, v) for v in row])  # all text: credit codes must not become numbers
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
