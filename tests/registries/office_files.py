"""Registry files as a county office makes them (issue #12), NOT from our own export: a title merged across
the top, a blank row, the office's own headers (序号, 单位名称, 社会信用代码, 所属街道 …), its own industry
words (工贸-粉尘涉爆), yes/no written as 是/否/√/×/blank, full-width digits and stray spaces, a CSV saved
by Excel in GBK, an XLSX whose all-digit credit codes Excel stored as numbers.

Each row carries what the registry must hold afterwards (``expect``), so a test can compare every
imported enterprise with its source row, flags included."""
import csv
import io
import random
from dataclasses import dataclass, field

from openpyxl import Workbook
from stdnum.cn import uscc as stdnum_uscc

from webapp.demo.seed import make_uscc

TITLE = "XX县2026年安全生产监管企业名录"
HEADERS = ["序号", "单位名称", "社会信用代码", "所属街道", "行业类别", "是否重点监管", "是否列入黑名单", "详细地址",
           "法定代表人", "联系电话", "备注"]
#: The office's industry words and the registry industry a clerk maps each to (工贸-粉尘涉爆 is its own).
INDUSTRY = {"工贸-粉尘涉爆": "machinery", "危险化学品": "hazchem", "冶金": "metallurgy", "商贸": "commerce"}
YES = {"是": True, "√": True, "否": False, "×": False, "": False}
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class OfficeRow:
    cells: list[str]  #: as the office typed them
    expect: dict = field(default_factory=dict)  #: what the enterprise must hold after the import


def numeric_uscc(rng: random.Random) -> str:
    """An all-digit credit code (check character a digit), the kind Excel turns into a number."""
    while True:
        body = "91140525" + "".join(rng.choice("0123456789") for _ in range(9))
        check = stdnum_uscc.calc_check_digit(body)
        if check.isdigit():
            return body + check


def office_rows(n: int = 300, seed: int = 12, towns=("城关镇", "河西镇"), dusty_every: int = 5) -> list[OfficeRow]:
    """``n`` enterprises; one in ``dusty_every`` has the office's own industry 工贸-粉尘涉爆 (300 rows: 60)."""
    rng = random.Random(seed)
    others = ["危险化学品", "冶金", "商贸"]
    rows = []
    for i in range(n):
        code = make_uscc(rng)
        industry = "工贸-粉尘涉爆" if i % dusty_every == 0 else others[i % 3]
        key_word = ["是", "否", "√", "", "否", "×"][i % 6]
        black_word = "是" if i % 37 == 1 else ["否", "", "×"][i % 3]
        town = towns[i % len(towns)]
        name = f"{town[:2]}第{i + 1}号示例有限公司"
        phone = f"1380000{i:04d}"
        address = f"{town}建设路{i + 1}号"
        rep = ["王伟", "李娜", "张强", "刘洋"][i % 4]
        shown_code, shown_town, shown_key, shown_phone = code, town, key_word, phone
        if i % 10 == 3:
            shown_code = code.translate(_FULL)  # typed with a Chinese input method: full-width digits
        if i % 7 == 0:
            shown_town = town + "\u3000"  # a trailing full-width space
        if i % 9 == 4 and key_word:
            shown_key = f" {key_word} "
        if i % 11 == 0:
            shown_phone = phone.translate(_FULL)
        cells = [str(i + 1), name, shown_code, shown_town, industry, shown_key, black_word, address, rep,
                 shown_phone, "新增" if i % 50 == 0 else ""]
        rows.append(OfficeRow(cells, {
            "uscc": code, "name": name, "town": town, "industry": INDUSTRY[industry],
            "key_supervision": YES[key_word], "blacklisted": YES[black_word], "address": address,
            "legal_rep": rep, "phone": phone}))
    return rows


def csv_text(rows: list[OfficeRow], headers=HEADERS, title: str | None = TITLE) -> str:
    """As Excel writes a CSV: the merged title in the first cell with the row padded by commas, a blank
    row of commas, CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    if title:
        writer.writerow([title] + [""] * (len(headers) - 1))
        writer.writerow([""] * len(headers))
    writer.writerow(headers)
    writer.writerows(r.cells for r in rows)
    return out.getvalue()


def gbk_csv(rows: list[OfficeRow], headers=HEADERS, title: str | None = TITLE) -> bytes:
    """Saved by Excel on Chinese Windows as 「CSV (逗号分隔)」: GBK, no byte-order mark."""
    return csv_text(rows, headers, title).encode("gbk")


def office_xlsx(rows: list[OfficeRow], headers=HEADERS, title: str = TITLE, numeric_codes: bool = False) -> bytes:
    """A workbook with the title merged across the columns, a blank row, the header in row 3. With
    ``numeric_codes`` an all-digit credit code is a number cell, as Excel stores one typed into a
    General cell (and, past 15 digits, loses the rest)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "企业名录"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append([])
    ws.append(headers)
    for r in rows:
        cells = list(r.cells)
        if numeric_codes and cells[2].isdigit():
            cells[2] = int(cells[2])
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


#: The mapping a clerk gives the command line for this office's file (docs/import.md).
MAPPING = {
    "columns": {"序号": None, "备注": None},
    "values": {"行业": {"工贸-粉尘涉爆": "机械"}},
}


def mismatches(rows: list[OfficeRow]) -> list[str]:
    """Every difference between the source rows and the enterprises registered (empty when all match)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.registries.models import Enterprise, Region

    db.session.expire_all()
    names = dict(db.session.execute(select(Region.id, Region.name)).all())
    found = {e.uscc: e for e in db.session.scalars(select(Enterprise))}
    out = []
    for r in rows:
        e = found.get(r.expect["uscc"])
        if e is None:
            out.append(f"{r.expect['uscc']} missing")
            continue
        got = {"uscc": e.uscc, "name": e.name, "town": names[e.region_id], "industry": e.industry,
               "key_supervision": e.key_supervision, "blacklisted": e.blacklisted, "address": e.address,
               "legal_rep": e.legal_rep, "phone": e.phone}
        out += [f"{e.uscc} {k}: {got[k]!r} != {v!r}" for k, v in r.expect.items() if got[k] != v]
    return out
