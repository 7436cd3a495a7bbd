"""Reading and writing the registries' spreadsheets (XLSX and CSV, Chinese headers).

Reading never guesses: a file that is not what its name says, or a CSV that is not
UTF-8 (Excel on Chinese Windows saves GBK by default), is refused with the reason.

Reading never trusts a file's own account of its size either (issue #11 point 11): a 4.9 KB workbook
declaring ``A1:XFD5000`` once made openpyxl pad every row to 16,384 cells and took a worker from 226 to
867 MB. The workbook's parts are checked against ``MAX_UNPACKED_BYTES`` before openpyxl opens it, the
sheet's declared dimension is ignored, and rows and columns are counted while streaming; past
``MAX_ROWS`` data rows or ``MAX_COLUMNS`` columns the file is refused with the limit named.
"""
import csv
import io
import zipfile
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from ..services import ServiceError

XLSX_MAGIC = b"PK\x03\x04"
#: Data rows below the header (a county's enterprise pool is a few thousand) and columns a sheet may use.
MAX_ROWS = 20_000
MAX_COLUMNS = 60
#: What a workbook's parts may add up to once unpacked (openpyxl reads shared strings and styles whole).
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_PARTS = 500
#: A CSV file's size.
MAX_CSV_BYTES = 20 * 1024 * 1024
#: Row numbers an XLSX may reach at all (Excel's own limit; blank rows on the way cost a step each).
XLSX_LAST_ROW = 1_048_576
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
    header = [h.strip() for h in rows[0][1]] if rows[0][0] == 1 else []
    body = [(number, cells) for number, cells in rows if number > 1]
    return header, body


def _too_many_rows():
    return ServiceError(_("The file has more than %(n)d data rows, the most one import takes: split it into "
                          "several files.", n=MAX_ROWS))


def _too_many_columns():
    return ServiceError(_("The file has cells beyond column %(n)d, the most one import reads: delete the "
                          "columns not in the template.", n=MAX_COLUMNS))


def _keep(number: int, values, rows: list) -> None:
    """Add a row unless it is blank; refuse it past the row or column limit. ``values`` may run on with
    empty cells (a styled blank far to the right): only a filled cell past the limit counts."""
    cells = [_cell_text(v) for v in values[:MAX_COLUMNS]]
    if any(v is not None and str(v).strip() for v in values[MAX_COLUMNS:]):
        raise _too_many_columns()
    while cells and not cells[-1]:
        cells.pop()
    if not cells:
        return
    if number > MAX_ROWS + 1:  # the header is row 1
        raise _too_many_rows()
    rows.append((number, cells))


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    # zipfile never inflates a part past its declared size, so the declared sizes bound the work.
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise ServiceError(_("The Excel file is larger than %(mb)d MB once unpacked, more than one import takes.",
                             mb=MAX_UNPACKED_BYTES // (1024 * 1024)))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    try:
        ws = wb.worksheets[0]
        # The declared dimension (<dimension ref="A1:XFD5000"/>) is the file's claim, not its content:
        # without it openpyxl pads each row only to its own last cell, and rows are counted as they come.
        ws.reset_dimensions()
        rows = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if number > XLSX_LAST_ROW:
                raise _too_many_rows()
            _keep(number, values, rows)
        return rows
    except ServiceError:
        raise
    except Exception as exc:  # a damaged sheet found while streaming
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    finally:
        wb.close()


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    if len(data) > MAX_CSV_BYTES:
        raise ServiceError(_("The CSV file is larger than %(mb)d MB, more than one import takes: split it into "
                             "several files.", mb=MAX_CSV_BYTES // (1024 * 1024)))
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
    rows = []
    try:
        # Streamed: a row past the limits stops the reading. A row is a record (a quoted cell may hold
        # line breaks), numbered as Excel shows it.
        for number, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            _keep(number, [_unguard(c.strip()) for c in values], rows)
    except csv.Error as exc:
        raise ServiceError(_("The CSV file cannot be read (%(e)s).", e=str(exc))) from None
    return rows


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
