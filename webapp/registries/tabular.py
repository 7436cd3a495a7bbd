"""Reading and writing the registries' spreadsheets (XLSX and CSV, Chinese headers).

A county office's own file is read as the office keeps it (issue #12): a CSV saved by Excel on Chinese
Windows is GBK, so a CSV is read as UTF-8 when it has a byte-order mark or decodes as UTF-8, else as
GB18030 (a superset of GBK), and the encoding used is reported; a UTF-16 "Unicode text" file (tabs) is
read too. The header need not be row 1: ``read_sheet`` looks for it below title rows (a merged
「XX县2026年安全生产监管企业名录」, blank rows). A file that is not what its name says, or a CSV in no
encoding we know, is refused with the reason.

Reading never trusts a file's own account of its size either (issue #11 point 11): a 4.9 KB workbook
declaring ``A1:XFD5000`` once made openpyxl pad every row to 16,384 cells and took a worker from 226 to
867 MB. The workbook's parts are checked against ``MAX_UNPACKED_BYTES`` before openpyxl opens it, the
sheet's declared dimension is ignored, and rows and columns are counted while streaming; past
``MAX_ROWS`` data rows or ``MAX_COLUMNS`` columns the file is refused with the limit named.

Blank rows cost work too, so every row counts toward ``MAX_RAW_ROWS`` (an XLSX's ``<row>`` elements, a
CSV's records) and every cell toward ``MAX_CELLS``; the sheet's XML is streamed cell by cell, so a blank
cell at column XFD is looked at once, never padded to 16,384 (issue #11 point 11: 20,000 such rows took
9 s). Shared strings are counted before openpyxl builds them (``MAX_SHARED_STRINGS``), and a CSV record is
cut off past ``MAX_CSV_COMMAS`` commas before it is split into fields (a 20 MB line of commas is 20
million fields).
"""
import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.cell import range_boundaries
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

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
#: Row numbers an XLSX may reach at all (Excel's own limit; a gap between rows costs nothing).
XLSX_LAST_ROW = 1_048_576
#: Rows a file may hold counting blank ones: XLSX ``<row>`` elements, CSV records (issue #11 point 11).
MAX_RAW_ROWS = 2 * MAX_ROWS + 10_000
#: Cell elements an XLSX sheet may hold, blank ones included: what a full file of MAX_ROWS × MAX_COLUMNS has.
MAX_CELLS = (MAX_ROWS + 1) * MAX_COLUMNS
#: Shared strings (``<si>``) a workbook may hold: openpyxl builds every one when it opens the file
#: (3.7 million empty ones in a 95 KB file took 33 s and 414 MB). Ten distinct texts a data row.
MAX_SHARED_STRINGS = 10 * MAX_ROWS
#: Commas one CSV record may hold (quoted ones included): as many columns as Excel has. Counted on each
#: line before the csv module splits it, so a line of 20 million commas never becomes 20 million fields.
MAX_CSV_COMMAS = 16_384
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_SI_TAG = re.compile(rb"<(?:[^\s/>:<]{0,200}:)?si[\s/>]")
_ROW_TAG, _CELL_TAG = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}c"
_MERGE_TAG = f"{{{SHEET_MAIN_NS}}}mergeCell"
#: Merged ranges a sheet may declare (``<mergeCells>``; openpyxl's read-only mode does not expose them).
MAX_MERGES = MAX_ROWS * 5
#: A spreadsheet would run a cell starting with these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class NumericCell(str):
    """A cell Excel stored as a number. Excel keeps 15 significant digits: a longer number (an 18-digit
    credit code typed into a General cell) has lost its last digits, and ``lost`` says so; ``shown`` is
    the value as Excel shows it (9.11405E+17)."""

    lost = False
    shown = ""


def _numeric(text: str, lost: bool = False, shown: str = "") -> NumericCell:
    cell = NumericCell(text)
    cell.lost, cell.shown = lost, shown or text
    return cell


#: Characters a copy from a web page or Word leaves around a value: zero-width spaces and joiners, BOMs.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(value: str) -> str:
    """A text cell without invisible characters and without spaces (full-width ones too) at its ends."""
    return value.translate(_INVISIBLE).strip()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, NumericCell):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        # Past 15 significant digits Excel has replaced the rest with zeros (issue #12).
        return _numeric(str(int(value)), lost=abs(value) >= 1e15, shown="%.6G" % value)
    if isinstance(value, (int, float)):
        return _numeric(str(value))
    return _unguard(clean_text(str(value)))


@dataclass
class Sheet:
    """What a file holds, as the office laid it out."""

    header: list[str]  #: the header row's cells, cleaned (blank for a column without a header)
    header_row: int  #: the header's row number as Excel shows it
    rows: list[tuple[int, list[str]]]  #: the data rows below the header, ``(row number, cells)``
    title_rows: list[tuple[int, str]] = field(default_factory=list)  #: rows above the header, their text
    encoding: str | None = None  #: a CSV's encoding as people name it ("UTF-8", "GBK"); None for XLSX
    footer_rows: list[tuple[int, str]] = field(default_factory=list)  #: notes below the data, their text
    #: Cells of data rows that took the value of a merged range covering them (「是」 merged down 109 rows).
    merged_cells: int = 0
    #: Subtotal rows between the data (「城关镇小计」), skipped: ``(row number, text)``.
    subtotal_rows: list[tuple[int, str]] = field(default_factory=list)
    #: The worksheet read, when the workbook has several (the one whose header the registry knows best).
    sheet_name: str | None = None


#: How far down a header may sit: title rows, a date line, a blank row or two.
HEADER_SEARCH_ROWS = 15
#: How an office's sheet ends below its data: a total, who filled it in and who checked it, a note.
#: Only rows at the very end whose first filled cell starts so are footers; one in the middle is data.
FOOTER = re.compile(r"^(合计|总计|小计|共计|制表|填表|填报|审核|审批|负责人|单位负责人|联系人|备注|说明|注[:：]|注\s)")
#: A date line below a list, alone on its row (at most one more cell): 2026年11月20日, 2026-11-20.
DATE_LINE = re.compile(r"^(日期[:：]?\s*)?\d{4}\s*(年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?|[-/.]\d{1,2}[-/.]\d{1,2})$")
#: A subtotal row between blocks (城关镇小计, 合计：27家); skipped wherever it is, when it holds no credit code.
SUBTOTAL = re.compile(r"^(\S{0,20}(小计|合计|总计|共计))([:：]?\s*\d*\s*(家|户|个)?)?$")
CREDIT_CODE = re.compile(r"^[0-9A-Z]{18}$")


def read_rows(filename: str, data: bytes, merges: list | None = None, score=None, meta: dict | None = None
              ) -> tuple[list[tuple[int, list[str]]], str | None]:
    """Every non-blank row as ``(row number, cells)`` and, for a CSV, the encoding it was read in. An
    XLSX sheet's merged ranges are added to ``merges`` as ``(first column, first row, last column, last
    row)``, 1-based."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        if not data.startswith(XLSX_MAGIC):
            raise ServiceError(_("The file is named .xlsx but is not an Excel workbook."))
        rows, encoding = _read_xlsx(data, merges if merges is not None else [], score,
                                    meta if meta is not None else {}), None
    elif name.endswith(".csv"):
        rows, encoding = _read_csv(data)
    elif name.endswith(".xls"):
        raise ServiceError(_("Old .xls workbooks are not supported: save the file as .xlsx in Excel and upload it again."))
    else:
        raise ServiceError(_("Unsupported file type: upload an .xlsx or .csv file."))
    if not rows:
        raise ServiceError(_("The file is empty."))
    return rows, encoding


def read_sheet(filename: str, data: bytes, score=None) -> Sheet:
    """Read a file and find its header row among the first ``HEADER_SEARCH_ROWS`` non-blank rows.

    ``score(cells)`` says how many of a row's cells are headers the registry knows: the row that scores
    most is the header (the first of equals). Without a known header, the first row with two or more
    filled cells is (a title merged across the columns fills one cell), else the first row.
    """
    merges: list = []
    meta: dict = {}
    rows, encoding = read_rows(filename, data, merges, score, meta)
    head = rows[:HEADER_SEARCH_ROWS]
    pick = 0
    scores = [score(cells) if score else 0 for _n, cells in head]
    if max(scores) > 0:
        pick = scores.index(max(scores))
    else:
        pick = next((i for i, (_n, cells) in enumerate(head) if sum(1 for c in cells if c) >= 2), 0)
    number, header = rows[pick]
    titles = [(n, " ".join(c for c in cells if c)) for n, cells in rows[:pick]]
    data = rows[pick + 1:]
    footers = []
    while data and _is_footer(data[-1][1]):
        n, cells = data.pop()
        footers.insert(0, (n, " ".join(c for c in cells if c)))
    subtotals = [(n, " ".join(c for c in cells if c)) for n, cells in data if _is_subtotal(cells)]
    if subtotals:
        data = [(n, cells) for n, cells in data if not _is_subtotal(cells)]
    filled = _fill_merged(rows, data, merges, number)
    return Sheet([clean_text(h) for h in header], number, data, titles, encoding, footers, filled, subtotals,
                 meta.get("sheet"))


def _is_footer(cells: list[str]) -> bool:
    """A note below the data: a total, who filled it in, or a date line (「2026年11月20日」) alone."""
    filled = [clean_text(c) for c in cells if c and c.strip()]
    if not filled:
        return False
    return bool(FOOTER.match(filled[0]) or (len(filled) <= 2 and DATE_LINE.match(filled[0])))


def _is_subtotal(cells: list[str]) -> bool:
    """A subtotal between blocks of data (「城关镇小计」 27家): one of its first filled cells is a total and
    no cell holds a credit code."""
    filled = [clean_text(c) for c in cells if c and c.strip()]
    return (any(SUBTOTAL.search(c) for c in filled[:2])
            and not any(CREDIT_CODE.match(c.upper()) for c in filled))


def _fill_merged(rows: list, data: list, merges: list, header_number: int) -> int:
    """Give every cell of a data row that a merged range covers the range's value (its top-left cell's):
    a 「是」 merged down over 109 rows of 是否重点监管 is 「是」 in each of them, not 108 blanks read as 否.
    Ranges starting at or above the header are left alone (a title merged across the top). Returns how
    many cells were filled; the work is bounded by MAX_CELLS."""
    if not merges or not data:
        return 0
    from bisect import bisect_left, bisect_right
    by_number = dict(rows)
    numbers = [n for n, _cells in data]
    filled = work = 0
    for c1, r1, c2, r2 in merges:
        if r1 <= header_number or c1 > MAX_COLUMNS or r2 < numbers[0] or r1 > numbers[-1]:
            continue
        top = by_number.get(r1, [])
        value = top[c1 - 1] if c1 - 1 < len(top) else ""
        if not value:
            continue
        for i in range(bisect_left(numbers, r1), bisect_right(numbers, r2)):
            cells = data[i][1]
            for c in range(c1 - 1, min(c2, MAX_COLUMNS)):
                work += 1
                if work > MAX_CELLS:
                    raise ServiceError(_("The sheet has more than %(n)d cells counting blank ones, the most one "
                                         "import reads: delete the blank cells or split the file.", n=MAX_CELLS))
                if c >= len(cells):
                    cells.extend([""] * (c + 1 - len(cells)))
                if not cells[c]:
                    cells[c] = value
                    filled += 1
    return filled


def read_table(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return the header row and the data rows as ``(row number, cells)`` (row numbers as Excel shows
    them). Blank rows are skipped; the header is found as ``read_sheet`` finds it."""
    sheet = read_sheet(filename, data)
    return sheet.header, sheet.rows


def _too_many_rows():
    return ServiceError(_("The file has more than %(n)d data rows, the most one import takes: split it into "
                          "several files.", n=MAX_ROWS))


def _too_many_columns():
    return ServiceError(_("The file has cells beyond column %(n)d, the most one import reads: delete the "
                          "columns not in the template.", n=MAX_COLUMNS))


def _too_many_raw_rows():
    return ServiceError(_("The file has more than %(n)d rows counting blank ones, the most one import reads: "
                          "delete the blank rows or split the file.", n=MAX_RAW_ROWS))


def _keep(number: int, values, rows: list) -> None:
    """Add a row unless it is blank; refuse it past the row or column limit. ``values`` may run on with
    empty cells (a styled blank far to the right): only a filled cell past the limit counts."""
    head = values[:MAX_COLUMNS]
    if any(v is not None and str(v).strip() for v in values[MAX_COLUMNS:]):
        raise _too_many_columns()
    if head.count(None) + head.count("") == len(head):
        return  # blank (the common case of a file padded with styled rows): counted in C, not cell by cell
    cells = [_cell_text(v) for v in head]
    while cells and not cells[-1]:
        cells.pop()
    if not cells:
        return
    if number > MAX_ROWS + 1:  # the header is row 1
        raise _too_many_rows()
    rows.append((number, cells))


#: Worksheets of a workbook looked at for the registry's header (the data may be on a later sheet).
MAX_SHEETS = 20


def _read_xlsx(data: bytes, merges: list, score=None, meta: dict | None = None) -> list[tuple[int, list[str]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    # zipfile never inflates a part past its declared size, so the declared sizes bound the work.
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise ServiceError(_("The Excel file is larger than %(mb)d MB once unpacked, more than one import takes.",
                             mb=MAX_UNPACKED_BYTES // (1024 * 1024)))
    if _shared_strings(data) > MAX_SHARED_STRINGS:
        raise ServiceError(_("The Excel file holds more than %(n)d different texts, more than one import takes: "
                             "split it into several files.", n=MAX_SHARED_STRINGS))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    try:
        sheets = wb.worksheets[:MAX_SHEETS]
        ws = sheets[0]
        if len(sheets) > 1:
            # The sheet whose first rows hold most headers the registry knows (the first of equals); without
            # a score, the first sheet with any data. Only the head of each is read to choose.
            best = -1
            for candidate in sheets:
                head = _sheet_rows(wb, candidate, [], limit=HEADER_SEARCH_ROWS)
                points = max([score(cells) if score else 0 for _n, cells in head], default=-1)
                if points > best:
                    best, ws = points, candidate
            if meta is not None:
                meta["sheet"] = ws.title
        return _sheet_rows(wb, ws, merges)
    except ServiceError:
        raise
    except Exception as exc:  # a damaged sheet found while streaming
        raise ServiceError(_("The Excel file cannot be read (%(e)s).", e=type(exc).__name__)) from exc
    finally:
        wb.close()


def _shared_strings(data: bytes) -> int:
    """How many ``<si>`` elements the workbook's parts hold, counted in the raw XML without building them
    (all parts: the shared strings may live under any name; no other part has an element named si)."""
    count = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            carry = b""
            with archive.open(info) as part:
                while chunk := part.read(1 << 20):
                    buf = carry + chunk
                    cut = buf.rfind(b"<")
                    cut = len(buf) if cut < 0 or len(buf) - cut > 256 else cut  # a longer tag is no <si
                    count += len(_SI_TAG.findall(buf, 0, cut))
                    carry = buf[cut:]
            count += len(_SI_TAG.findall(carry + b" "))
    return count


def _sheet_rows(wb, ws, merges: list, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """Stream the sheet's XML cell by cell (issue #11 point 11). openpyxl's own row reader pads every row
    to its last cell (a blank ``<c r="XFD7"/>`` made 16,384 values) and fills gaps between row numbers
    with empty rows; here a cell past MAX_COLUMNS is looked at once and dropped if blank, refused if
    filled, each ``<row>`` counts toward MAX_RAW_ROWS and each ``<c>`` toward MAX_CELLS, and every element
    is freed once read. Values are typed by openpyxl's own cell parser (shared strings, dates, booleans)."""
    from openpyxl.worksheet._reader import WorkSheetParser  # openpyxl's cell typing (pinned <4)
    parser = WorkSheetParser(None, wb.shared_strings, data_only=True, epoch=wb.epoch,
                             date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
    rows: list = []
    raw = cells = number = 0
    values = None
    path: list = []  # the open elements
    cell_depth = None  # len(path) while inside a <c>: its children stay until the cell is read
    with ws._get_source() as src:
        for event, element in iterparse(src, events=("start", "end")):
            if event == "start":
                path.append(element)
                if element.tag == _ROW_TAG:
                    raw += 1
                    if raw > MAX_RAW_ROWS:
                        raise _too_many_raw_rows()
                    number = _row_number(element.get("r"), number)
                    if number > XLSX_LAST_ROW:
                        raise _too_many_rows()
                    parser.row_counter, parser.col_counter = number, 0
                    values = [None] * MAX_COLUMNS
                elif element.tag == _CELL_TAG and cell_depth is None:
                    cells += 1
                    if cells > MAX_CELLS:
                        raise ServiceError(_("The sheet has more than %(n)d cells counting blank ones, the most "
                                             "one import reads: delete the blank cells or split the file.",
                                             n=MAX_CELLS))
                    cell_depth = len(path)
                continue
            depth = len(path)
            path.pop()
            if cell_depth is not None and depth > cell_depth:
                continue  # inside a cell: parse_cell reads it with the cell
            if element.tag == _CELL_TAG:
                cell_depth = None
                if values is not None and len(element) == 0 and element.get("r") is None:
                    parser.col_counter += 1  # a blank cell without a reference: only its position counts
                elif values is not None:
                    cell = parser.parse_cell(element)
                    column, value = cell["column"], cell["value"]
                    if column > MAX_COLUMNS:
                        if value is not None and str(value).strip():
                            raise _too_many_columns()
                    elif column >= 1:
                        values[column - 1] = value
            elif element.tag == _ROW_TAG and values is not None:
                _keep(number, values, rows)
                values = None
                if limit is not None and len(rows) >= limit:
                    break  # enough to see its header
            elif element.tag == _MERGE_TAG:
                if len(merges) >= MAX_MERGES:
                    raise ServiceError(_("The sheet has more than %(n)d merged ranges, more than one import "
                                         "reads.", n=MAX_MERGES))
                try:
                    bounds = range_boundaries(element.get("ref") or "")
                except (ValueError, TypeError):
                    bounds = (None,)  # a damaged range merges nothing
                if None not in bounds:
                    merges.append(bounds)
            element.clear()
            if path:
                path[-1].remove(element)  # its only child by now: nothing read stays in memory
    return rows


def _row_number(r, previous: int) -> int:
    if r is None:
        return previous + 1
    try:
        return int(r)
    except ValueError:
        value = float(r)  # openpyxl accepts "7.0"; anything else is a damaged file
        if not value.is_integer():
            raise
        return int(value)


def _decode(data: bytes) -> tuple[str, str, str]:
    """The text of a CSV file, the encoding's name as people say it, and the field separator.

    A byte-order mark decides; else UTF-8 if the bytes are UTF-8 (a GBK file of Chinese text never is),
    else GB18030, the superset of GBK that Excel on Chinese Windows writes. Excel's "Unicode text" is
    UTF-16 with tabs between the fields."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ServiceError(_("The CSV file is neither UTF-8 nor GBK text.")) from None
        return text, "UTF-16", _separator(text)
    for codec, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GBK")):
        try:
            text = data.decode(codec)
            return text, label, _separator(text)
        except UnicodeDecodeError:
            if data.startswith(codecs.BOM_UTF8):
                break  # it says it is UTF-8 and is not: a damaged file
    raise ServiceError(_("The CSV file is neither UTF-8 nor GBK text.")) from None


def _separator(text: str) -> str:
    """The field separator, from the first lines (the header is among them): comma, semicolon (Excel where
    the decimal mark is a comma) or tab, whichever one line holds most of."""
    best, sep = 0, ","
    for line in text[:64 * 1024].splitlines()[:HEADER_SEARCH_ROWS + 5]:
        for candidate in (",", ";", "\t"):
            n = line.count(candidate)
            if n > best:
                best, sep = n, candidate
    return sep


def _read_csv(data: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    if len(data) > MAX_CSV_BYTES:
        raise ServiceError(_("The CSV file is larger than %(mb)d MB, more than one import takes: split it into "
                             "several files.", mb=MAX_CSV_BYTES // (1024 * 1024)))
    text, encoding, sep = _decode(data)
    if "\x00" in text:
        raise ServiceError(_("The CSV file is neither UTF-8 nor GBK text."))
    rows = []
    commas = [0]  # in the record being read

    def lines():
        """The text's lines, each counted before the csv module splits it (issue #11 point 11)."""
        for match in _LINE.finditer(text):  # as io.StringIO(newline="") splits, without its 4-byte copy
            line = match.group()
            commas[0] += line.count(sep)
            if commas[0] > MAX_CSV_COMMAS:
                raise ServiceError(_("A row of the CSV file has more than %(n)d commas, more columns than a "
                                     "spreadsheet has: the file is damaged.", n=MAX_CSV_COMMAS))
            yield line
    try:
        # Streamed: a row past the limits stops the reading. A row is a record (a quoted cell may hold
        # line breaks), numbered as Excel shows it; blank records count toward MAX_RAW_ROWS.
        for number, values in enumerate(csv.reader(lines(), delimiter=sep), start=1):
            commas[0] = 0
            if number > MAX_RAW_ROWS:
                raise _too_many_raw_rows()
            _keep(number, [_unguard(clean_text(c)) for c in values], rows)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ServiceError(_("A cell of the CSV file holds more than %(n)d characters, more than one "
                                 "import takes.", n=csv.field_size_limit())) from None
        raise ServiceError(_("The CSV file cannot be read (%(e)s).", e=str(exc))) from None
    return rows, encoding


def _guard(value):
    """Export: a text cell that a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _unguard(value: str) -> str:
    """Import: drop a leading apostrophe, Excel's mark for "this is text" ('911405…, typed so a credit code
    stays text) and the one ``_guard`` adds on export, so export → import is lossless."""
    return value[1:].strip() if value.startswith("'") else value


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
