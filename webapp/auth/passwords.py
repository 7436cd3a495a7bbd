"""Refusing the passwords guessed first (issue #11 point 8).

A plain list misses the variants people actually pick when told "too easy": a common word or number with
``!`` or ``@123`` around it, ``Passw0rd``, ``Aa123456!``, keyboard walks with the shift key held half the
time (``1qaz@WSX``), vendors' default passwords (``Huawei@123``, ``Admin@123``), birthdays and national
days (``19491001``), phone numbers, ``5201314520``. So the candidate is normalised first: lower-cased,
stripped of the digits and punctuation around it (the whole and the stripped form are both looked up),
leetspeak undone (``@``→a, ``0``→o, ``1``→i/l, ``$``→s…); digit runs are judged as patterns (sequences,
repeats, dates, years, phone numbers, 520/1314), and the whole is tried as a chain of keyboard or alphabet
runs. The published demo password and the username are refused too. A passphrase or a random password
(``青山绿水2026巡查``, ``correct horse battery``, ``Ssj#Hz7q!m2``) is none of these and is accepted.
"""
import re
import string
from functools import lru_cache
from pathlib import Path

COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")

#: Stripped from around a password, and dropped from inside it when looking for runs.
PUNCT = string.punctuation + string.whitespace + "！＠＃￥％…＆＊（）—＋－＝，。？、；：“”‘’《》【】·～　"
DIGITS = string.digits
_SHIFTED = str.maketrans("!@#$%^&*()_+{}|:\"<>?~", "1234567890-=[]\\;',./`")
_LEET = {"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t", "+": "t", "!": "i", "|": "i",
         "8": "b"}
_LEET_I = str.maketrans({**_LEET, "1": "i"})
_LEET_L = str.maketrans({**_LEET, "1": "l"})
#: Keyboard rows, columns and the numeric keypad, and the alphabet: any 3+ characters of one of these (either
#: way) is a run.
_RUNS = ["01234567890", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./", "abcdefghijklmnopqrstuvwxyz",
         "1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/", "qaz", "wsx", "edc",
         "rfv", "tgb", "yhn", "ujm", "zaq1", "xsw2", "cde3", "vfr4", "bgt5", "nhy6", "mju7",
         "7894561230", "1472583690", "7418529630", "159357", "147258369", "963852741"]
_RUNS = _RUNS + [r[::-1] for r in _RUNS]
#: Numbers people pick for what they mean: 520 "I love you", 1314 "for ever", 168/518/888 "fortune".
_NUMBER_WORDS = {"520", "521", "1314", "5201314", "1314520", "1314521", "5211314", "168", "518", "888", "666",
                 "999", "886", "365", "147", "258", "369", "159", "357", "753", "951", "246", "135", "2468",
                 "1357", "110", "119", "120", "007", "001", "911", "0000"}
_MAX_CHECKED = 64


@lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _year(d: str) -> bool:
    return len(d) == 4 and d.isdigit() and 1900 <= int(d) <= 2099


def _month_day(d: str) -> bool:
    return len(d) == 4 and d.isdigit() and 1 <= int(d[:2]) <= 12 and 1 <= int(d[2:]) <= 31


def _date(d: str) -> bool:
    """YYYYMMDD between 1900 and 2099, or MMDDYYYY / DDMMYYYY."""
    if len(d) != 8 or not d.isdigit():
        return False
    return ((_year(d[:4]) and _month_day(d[4:])) or
            (_year(d[4:]) and (_month_day(d[:4]) or _month_day(d[2:4] + d[:2]))))


def _repeated(s: str, longest_unit: int) -> bool:
    """``s`` is one piece of at most ``longest_unit`` characters said two or more times."""
    return any(len(s) % n == 0 and s == s[:n] * (len(s) // n) for n in range(1, min(longest_unit, len(s) // 2) + 1))


def _piece(p: str) -> bool:
    if len(set(p)) == 1:
        return True
    if p.isdigit() and (p in _NUMBER_WORDS or _year(p)):
        return True
    return any(p in run for run in _RUNS)


def _chain_of_runs(s: str) -> bool:
    """``s`` is made only of keyboard/alphabet/digit runs, repeats, years and number words, 3+ characters
    each (``qwer1234``, ``1qaz2wsx``, ``abc1234``, ``5201314520``)."""
    if len(s) < 3 or len(s) > _MAX_CHECKED:
        return False
    ok = [True] + [False] * len(s)
    for i in range(3, len(s) + 1):
        ok[i] = any(ok[j] and _piece(s[j:i]) for j in range(0, i - 2))
    return ok[-1]


def weak_digits(d: str) -> bool:
    """A run of digits guessed early: empty, listed, two different digits at most, a repeated group, a date,
    a mobile number (11 digits from 13x to 19x), or a chain of sequences, repeats, years and number words."""
    return (not d or d in common_passwords() or len(set(d)) <= 2 or _repeated(d, len(d) // 2) or _date(d)
            or re.fullmatch(r"1[3-9]\d{9}", d) is not None or _chain_of_runs(d))


def _forms(s: str) -> set[str]:
    """``s`` as typed and with leetspeak undone."""
    return {s, s.translate(_LEET_I), s.translate(_LEET_L)}


def _core(s: str) -> str:
    return s.strip(PUNCT + DIGITS)


def too_easy(password: str, username: str = "", demo_password: str | None = None) -> bool:
    """Whether ``password`` is among the first guesses: see the module's docstring."""
    low = password.lower()
    if len(set(low)) < 3:
        return True
    bare = "".join(c for c in low if c not in PUNCT)           # woaini1314!  -> woaini1314
    ends = low.strip(PUNCT)                                    # 12345678.    -> 12345678
    core = _core(low)                                          # Huawei@123   -> huawei
    candidates = {low, bare, ends, core, _core(bare), low.rstrip(PUNCT + DIGITS), low.lstrip(PUNCT + DIGITS)}
    # Leetspeak undone, and the digits and punctuation then left around it stripped (P@ssw0rd123, 4dmin!).
    for c in list(candidates):
        for form in _forms(c):
            candidates |= {form, _core(form), form.strip(PUNCT)}
    candidates.discard("")
    if candidates & common_passwords():
        return True
    # The username, however dressed up (zhangwei -> Zhangwei2026!).
    name = username.lower()
    name_core = _core(name)
    if low == name or (len(name_core) >= 3 and name_core in candidates):
        return True
    # The published demo password (and ssj-demo-2027, SSJ-DEMO!).
    if demo_password:
        demo = demo_password.lower()
        if {demo, _core(demo), _core("".join(c for c in demo if c not in PUNCT))} & candidates:
            return True
    # Nothing but digits (and punctuation): 19491001, 13800138000, 5201314520, 12345678.
    if bare.isdigit():
        return weak_digits(bare)
    # Keyboard walks and runs, the shift key held or not (1qaz@WSX, Qwer1234!, Abc@1234), or a short group
    # said over and over (abab1212 is not, but xixixixi is).
    if (_chain_of_runs(bare) or _chain_of_runs(ends.translate(_SHIFTED))
            or _repeated(bare, 4)):
        return True
    # A short or patterned word with a guessable number around it (Aa123456!, qq123456!, xixi520!).
    stem = _core(bare)
    if stem and (len(stem) <= 3 or _repeated(stem, 4) or _chain_of_runs(stem)):
        around = "".join(c for c in bare if c.isdigit()) if stem.isalpha() else None
        if around is not None and weak_digits(around):
            return True
    return False
