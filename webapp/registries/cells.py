"""Parsers for one spreadsheet cell each; a bad cell raises ``CellError`` with the reason.

The reason never repeats the value: the import report names the row, the column and the value beside
it, and groups rows that share a column, a value and a reason (issue #12). A word the registry does not
know (an industry, a township, a yes/no) raises ``UnknownValue``, which the preview offers to map.
"""
import re
import unicodedata
from datetime import date

from flask_babel import gettext as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength

from .tabular import NumericCell


class CellError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownValue(CellError):
    """A word of a controlled vocabulary (``domain``) the registry does not know; ``values`` are the
    unknown words (a list cell may hold several)."""

    def __init__(self, domain: str, values: list[str] | None = None):
        super().__init__(unknown_message(domain))
        self.domain, self.values = domain, values


def unknown_message(domain: str) -> str:
    return {
        "industry": _("not a known industry"), "status": _("not a known business status"),
        "yes_no": _("not a yes/no value"), "region": _("not a known township"),
        "region_code": _("not a known township code"), "department": _("not a known department"),
        "competence": _("not a known competence"), "method": _("not a known check method"),
        "active": _("not a known status"), "category": _("not a known supervision category"),
    }.get(domain, _("not a known value"))


_SPACE = re.compile(r"\s+")
#: What separates the words of a cell listing several (危化、工贸; 危化/工贸; 重点监管，黑名单; 危化 工贸).
LIST_SEPARATORS = re.compile(r"[、，,;；/／|\s]+")


def split_words(value: str) -> list[str]:
    """The words of a cell listing several, in order."""
    return [p for p in LIST_SEPARATORS.split(value or "") if p]


def key(value: str) -> str:
    """How a word is compared with the registry's words: full-width letters, digits and brackets made
    half-width (NFKC), every space dropped (「城 关 镇」, 「是　」), case ignored."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", value)).casefold()


def code_text(maxlen: int):
    """A code or phone number: full-width digits made half-width and spaces dropped (NFKC)."""
    def parse(value: str) -> str:
        v = _SPACE.sub("", unicodedata.normalize("NFKC", value))
        if len(v) > maxlen:
            raise CellError(_("longer than %(n)d characters", n=maxlen))
        return v
    return parse


def text(maxlen: int):
    def parse(value: str) -> str:
        if len(value) > maxlen:
            raise CellError(_("longer than %(n)d characters", n=maxlen))
        return value
    return parse


_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?E[+-]?\d+$", re.IGNORECASE)


def uscc(value: str) -> str:
    """统一社会信用代码, GB 32100-2015, check character verified by python-stdnum.

    Full-width characters and spaces are normalised. A code Excel turned into a number is refused when
    digits were lost: a cell holding more than 15 significant digits as a number, or a CSV showing it in
    scientific notation (9.11405E+17). An exact number (a file written by a program) and a ``.0`` tail
    are read as the digits they are; the check character then decides."""
    if isinstance(value, NumericCell) and value.lost:
        raise CellError(_("Excel stored this credit code as a number and lost its last digits "
                          "(it shows %(v)s): format the column as text and type the code again", v=value.shown))
    code = _SPACE.sub("", unicodedata.normalize("NFKC", value)).upper()
    if _SCIENTIFIC.match(code):
        raise CellError(_("Excel saved this credit code as a number in scientific notation and lost its last "
                          "digits: format the column as text and type the code again"))
    if re.fullmatch(r"\d{15,18}\.0+", code):
        code = code.split(".")[0]
    try:
        return stdnum_uscc.validate(code)
    except InvalidLength:
        raise CellError(_("credit code must have 18 characters")) from None
    except InvalidChecksum:
        if isinstance(value, NumericCell) or code.isdigit():
            raise CellError(_("credit code check character is wrong; if Excel stored the codes as numbers, "
                              "format the column as text and type them again")) from None
        raise CellError(_("credit code check character is wrong")) from None
    except Exception:
        raise CellError(_("credit code contains characters that are not allowed")) from None


#: Yes and no as offices write them (a flag column of 是/否, ticks and crosses, Y/N, 1/0, 有/无 …).
YES_WORDS = {"是", "y", "yes", "1", "true", "√", "✓", "✔", "☑", "有", "是的", "对", "列入", "已列入", "重点",
             "属于", "涉及", "t"}
NO_WORDS = {"否", "n", "no", "0", "false", "", "×", "✗", "✘", "☐", "无", "不是", "非", "未列入", "不属于",
            "不涉及", "没有", "f", "-", "/", "—"}


def yes_no(value: str) -> bool:
    v = key(value)
    if v in YES_WORDS:
        return True
    if v in NO_WORDS:
        return False
    raise UnknownValue("yes_no")


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def day(value: str) -> date | None:
    v = key(value)
    if not v:
        return None
    m = _DATE.match(v) or re.match(r"^(\d{4})(\d{2})(\d{2})$", v)
    try:
        if not m:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError(_("not a date (write 2026-05-01)")) from None


#: An end date that says there is none: 长期, 长期有效, 无, /, — (an item valid until repealed).
NO_END_WORDS = {"长期", "长期有效", "永久", "永久有效", "无", "无期限", "/", "—", "——", "-", "--", "至今"}


def end_day(value: str) -> date | None:
    """A 失效日期: a date, or a word saying the item does not lapse (None)."""
    if key(value) in NO_END_WORDS:
        return None
    return day(value)


def number_between(low: float, high: float):
    def parse(value: str) -> float | None:
        if not value.strip():
            return None
        try:
            x = float(key(value))
        except ValueError:
            raise CellError(_("not a number")) from None
        if not low <= x <= high:
            raise CellError(_("must be between %(a)s and %(b)s", a=low, b=high))
        return x
    return parse


def choice(file_words: dict, domain: str, synonyms: dict | None = None):
    """A controlled word of the file format, e.g. 在营 → ``operating``; compared as ``key`` compares, so
    「在营 」 and 「在营」 are one word. ``synonyms`` are other words offices use for a code."""
    reverse = {key(word): code for code, word in file_words.items()}
    for code, words in (synonyms or {}).items():
        reverse.update({key(w): code for w in words})

    def parse(value: str):
        v = key(value)
        if v not in reverse:
            raise UnknownValue(domain)
        return reverse[v]
    parse.domain = domain
    return parse
