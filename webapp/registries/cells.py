"""Parsers for one spreadsheet cell each; a bad cell raises ``CellError`` with the reason."""
import re
from datetime import date

from flask_babel import gettext as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength

from .tabular import NumericCell


class CellError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def text(maxlen: int):
    def parse(value: str) -> str:
        if len(value) > maxlen:
            raise CellError(_("longer than %(n)d characters", n=maxlen))
        return value
    return parse


def uscc(value: str) -> str:
    """统一社会信用代码, GB 32100-2015, check character verified by python-stdnum."""
    if isinstance(value, NumericCell) and len(value) > 15:
        raise CellError(_("Excel stored this credit code as a number and lost digits; "
                          "format the column as text and type it again"))
    code = value.strip().upper()
    try:
        return stdnum_uscc.validate(code)
    except InvalidLength:
        raise CellError(_("credit code must have 18 characters")) from None
    except InvalidChecksum:
        raise CellError(_("credit code check character is wrong")) from None
    except Exception:
        raise CellError(_("credit code contains characters that are not allowed")) from None


_YES = {"是", "y", "yes", "1", "true", "√", "✓"}
_NO = {"否", "n", "no", "0", "false", ""}


def yes_no(value: str) -> bool:
    v = value.strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise CellError(_("write 是 or 否"))


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def day(value: str) -> date | None:
    v = value.strip()
    if not v:
        return None
    m = _DATE.match(v)
    try:
        if not m:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError(_("not a date (write 2026-05-01)")) from None


def number_between(low: float, high: float):
    def parse(value: str) -> float | None:
        if not value.strip():
            return None
        try:
            x = float(value)
        except ValueError:
            raise CellError(_("not a number")) from None
        if not low <= x <= high:
            raise CellError(_("must be between %(a)s and %(b)s", a=low, b=high))
        return x
    return parse


def choice(file_words: dict):
    """A controlled word of the file format, e.g. 在营 → ``operating``."""
    reverse = {word: code for code, word in file_words.items()}

    def parse(value: str):
        v = value.strip()
        if v not in reverse:
            raise CellError(_("must be one of: %(words)s", words="、".join(w for w in file_words.values() if w)))
        return reverse[v]
    return parse
