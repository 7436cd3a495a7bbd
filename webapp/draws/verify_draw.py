#!/usr/bin/env python3
"""SSJ-DRAW-v1, byte for byte (spec: shared/DRAW.md; our reading of its open points: docs/draw.md).

This one file is both the server's draw algorithm and the stand-alone verifier the public downloads:
the server, the CLI export and anyone checking a draw run exactly this code. It needs nothing beyond
Python's standard library (3.9 or newer) and does no I/O except in ``main``.

    python3 verify_draw.py draw-export.zip

prints every check it makes and exits 0 when all hold; otherwise it names the first failing check
and exits 1. Every number is an exact integer or Fraction; every choice comes from SHA-256 of the
seed, so anyone with the published files and the beacon value gets the same enterprises and groups.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import zipfile
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

SPEC = "SSJ-DRAW-v1"
INPUT_FILES = ("pool.csv", "mandatory.csv", "excluded.csv", "inspectors.csv", "recusals.csv", "rules.json")
HEADERS = {"pool.csv": "uscc,stratum", "mandatory.csv": "uscc,reason", "excluded.csv": "uscc,reason",
           "inspectors.csv": "id,certified,capacity,competences", "recusals.csv": "inspector_id,uscc"}


def H(text: str) -> str:
    """SHA-256 of the UTF-8 bytes, as 64 lowercase hex characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def H_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commitment(draw_id: str, files: dict, beacon_ref: str) -> str:
    """§1: binds the draw id, the exact bytes of the six input files and the beacon reference."""
    parts = [SPEC, draw_id, *(H_bytes(files[name]) for name in INPUT_FILES), beacon_ref]
    return H("|".join(parts))


def seed_of(commitment_hex: str, beacon_value: str) -> str:
    """§2: the seed exists only once the public beacon value does."""
    return H(f"{SPEC}|{commitment_hex}|{beacon_value}")


class DrawError(ValueError):
    """The inputs cannot be drawn (e.g. n larger than the pool)."""


# --- §2 the beacon's time (docs/draw.md: the form of beacon_ref; issue #11 point 6) ---------------

#: drand quicknet: round 1 at this Unix second, then one round every 3 seconds.
DRAND_QUICKNET_GENESIS, DRAND_QUICKNET_PERIOD = 1692803367, 3
#: 福彩双色球's official schedule: Tuesdays, Thursdays and Sundays (Monday = 0) at 21:15 Beijing time.
LOTTERY_WEEKDAYS, LOTTERY_HOUR, LOTTERY_MINUTE = (1, 3, 6), 21, 15
BEIJING = timezone(timedelta(hours=8))
BEACON_REF_RE = re.compile(r"(?P<label>.*) \((?P<at>[^()]+)\)", re.S)
DRAND_REF_RE = re.compile(r"drand quicknet round (?P<round>[1-9][0-9]*)")
LOTTERY_REF_RE = re.compile(r"福彩双色球 (?P<issue>[0-9]{7})期")
#: An instant as the server writes it (``isoformat``): seconds, maybe microseconds, and an offset.
INSTANT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def instant(text) -> datetime | None:
    """An aware datetime from ``text`` in exactly the form above, or None."""
    if not isinstance(text, str) or not INSTANT_RE.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13
        return None


def micros(at: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly."""
    return (at - EPOCH) // timedelta(microseconds=1)


def drand_quicknet_second(round_no: int) -> int:
    """When a drand quicknet round's value comes into existence (Unix seconds): it follows from the number."""
    return DRAND_QUICKNET_GENESIS + (round_no - 1) * DRAND_QUICKNET_PERIOD


def lottery_draw_days(until: date) -> int:
    """How many scheduled 双色球 draw days fall from 1 January of ``until``'s year through ``until``."""
    first = date(until.year, 1, 1)
    return sum(1 for k in range((until - first).days + 1)
               if (first + timedelta(days=k)).weekday() in LOTTERY_WEEKDAYS)


def lottery_problem(issue: int, at: datetime):
    """What the official schedule rules out for issue ``issue`` (e.g. 2026137) claimed to be drawn at
    ``at``, as ``(kind, details)``, or None. The schedule's weekday and hour; the issue's year (its first
    four digits) is the year of the draw; issue number k of a year cannot come before its k-th scheduled
    draw day (there are never extra draws, only days without one)."""
    local = at.astimezone(BEIJING)
    if (local.weekday() not in LOTTERY_WEEKDAYS
            or (local.hour, local.minute, local.second, local.microsecond) != (LOTTERY_HOUR, LOTTERY_MINUTE, 0, 0)):
        return "schedule", {"at": local.strftime("%Y-%m-%d %H:%M")}
    year, number = divmod(issue, 1000)
    if year != local.year:
        return "year", {"year": year, "at_year": local.year}
    days = lottery_draw_days(local.date())
    if not 1 <= number <= days:
        return "number", {"number": number, "days": days, "at": local.strftime("%Y-%m-%d")}
    return None


def lottery_draws_passed(moment: datetime) -> tuple[int, int]:
    """``(year, k)``: of the scheduled 双色球 draw times (Tue/Thu/Sun 21:15 Beijing) in ``moment``'s
    Beijing year, ``k`` are at or before ``moment``. The lottery never draws more often than its
    schedule (holidays only skip days), so no issue of that year above ``k`` can have been drawn yet."""
    local = moment.astimezone(BEIJING)
    passed = lottery_draw_days(local.date())
    if local.weekday() in LOTTERY_WEEKDAYS and (local.hour, local.minute) < (LOTTERY_HOUR, LOTTERY_MINUTE):
        passed -= 1  # today's draw is still to come
    return local.year, passed


def lottery_known(issue: int, committed: datetime):
    """Issue #11 point 6: None when issue ``issue`` cannot have been drawn by ``committed`` (the
    commitment's time), else ``{"year", "passed", "last", "at"}``: ``passed`` scheduled draw days of
    ``year`` had come by then, so issues up to ``last`` may already have been known. An issue of an
    earlier year: that whole year had passed."""
    year, number = divmod(issue, 1000)
    now_year, passed = lottery_draws_passed(committed)
    if year > now_year:
        return None
    if year < now_year:
        passed = lottery_draw_days(date(year, 12, 31))
    elif number > passed:
        return None
    return {"year": year, "passed": passed, "last": year * 1000 + passed,
            "at": committed.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")}


def lottery_known_text(issue: int, details: dict) -> str:
    return (f"福彩双色球 {issue}期 may already have been drawn when the commitment was made at {details['at']}: "
            f"{details['passed']} scheduled draw day(s) of {details['year']} had come by then, so issues up to "
            f"{details['last']} may have been known")


def lottery_problem_text(kind: str, details: dict) -> str:
    if kind == "schedule":
        return f"{details['at']} is not a draw time (Tuesdays, Thursdays and Sundays at 21:15 Beijing time)"
    if kind == "year":
        return f"the issue belongs to {details['year']} but the draw time is in {details['at_year']}"
    return (f"issue number {details['number']} of the year cannot be drawn by {details['at']}: only "
            f"{details['days']} scheduled draw day(s) fall before")


def beacon_time(beacon_ref: str):
    """``(kind, number, instant)`` read from a beacon_ref such as ``drand quicknet round 21345678
    (2026-11-23T20:43:00+08:00)`` or ``福彩双色球 2026137期 (2026-11-24T21:15:00+08:00)``; kind is
    ``drand``, ``lottery`` or ``other``; None when no time can be read."""
    match = BEACON_REF_RE.fullmatch(beacon_ref) if isinstance(beacon_ref, str) else None
    at = instant(match.group("at")) if match else None
    if at is None:
        return None
    drand = DRAND_REF_RE.fullmatch(match.group("label"))
    if drand:
        return "drand", int(drand.group("round")), at
    lottery = LOTTERY_REF_RE.fullmatch(match.group("label"))
    if lottery:
        return "lottery", int(lottery.group("issue")), at
    return "other", None, at


# --- §1 input files -------------------------------------------------------------------------

FORBIDDEN = (",", '"', "\n", "\r")


def csv_bytes(name: str, rows) -> bytes:
    """The canonical bytes of an input file: header, rows sorted by code point, every line ending in \\n."""
    lines = []
    for row in rows:
        for value in row:
            if any(ch in value for ch in FORBIDDEN) or value != value.strip(" "):
                raise DrawError(f"{name}: value {value!r} contains a comma, quote, line break or edge space")
        lines.append(",".join(row))
    lines.sort()
    return "".join(line + "\n" for line in [HEADERS[name], *lines]).encode("utf-8")


def canonical_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class VerifyError(Exception):
    """A check that failed: ``check`` names it, the message says what differs."""

    def __init__(self, check: str, message: str):
        super().__init__(f"{check}: {message}")
        self.check, self.message = check, message


def parse_csv(name: str, data: bytes) -> list:
    """Rows of one input file, after checking its exact form (§1)."""
    check = f"format of {name}"
    if data.startswith(b"\xef\xbb\xbf"):
        raise VerifyError(check, "starts with a byte-order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerifyError(check, f"not UTF-8 ({exc})") from None
    if not text.endswith("\n"):
        raise VerifyError(check, "the last line does not end in \\n")
    lines = text[:-1].split("\n")
    if lines[0] != HEADERS[name]:
        raise VerifyError(check, f"header is {lines[0]!r}, expected {HEADERS[name]!r}")
    width = HEADERS[name].count(",") + 1
    for number, line in enumerate(lines[1:], start=2):
        if "\r" in line or '"' in line or line != line.strip(" ") or line.count(",") != width - 1:
            raise VerifyError(check, f"line {number} is malformed: {line!r}")
    if lines[1:] != sorted(lines[1:]):
        raise VerifyError(check, "data lines are not sorted in code-point order")
    return [line.split(",") for line in lines[1:]]


@dataclass
class Inspector:
    id: str
    certified: bool
    capacity: int
    competences: frozenset


@dataclass
class Inputs:
    pool: list  #: (uscc, stratum)
    mandatory: list  #: (uscc, reason)
    excluded: list  #: (uscc, reason)
    inspectors: list  #: Inspector
    recusals: set  #: (inspector id, uscc)
    rules: dict


def parse_inputs(files: dict) -> Inputs:
    """Read and check the six files; a VerifyError names the first file and rule that fails."""
    for name in INPUT_FILES:
        if name not in files:
            raise VerifyError("files present", f"{name} is missing")
    pool = [tuple(r) for r in parse_csv("pool.csv", files["pool.csv"])]
    mandatory = [tuple(r) for r in parse_csv("mandatory.csv", files["mandatory.csv"])]
    excluded = [tuple(r) for r in parse_csv("excluded.csv", files["excluded.csv"])]
    seen = set()
    for name, rows in (("pool.csv", pool), ("mandatory.csv", mandatory), ("excluded.csv", excluded)):
        for uscc, _ in rows:
            if uscc in seen:
                raise VerifyError("each credit code once", f"{uscc} appears more than once ({name})")
            seen.add(uscc)
    inspectors, ids = [], set()
    for ident, certified, capacity, comps in parse_csv("inspectors.csv", files["inspectors.csv"]):
        if ident in ids:
            raise VerifyError("format of inspectors.csv", f"inspector id {ident} appears twice")
        ids.add(ident)
        if certified not in ("0", "1") or not capacity.isdigit() or int(capacity) < 1:
            raise VerifyError("format of inspectors.csv", f"inspector {ident}: certified must be 0/1, capacity ≥ 1")
        listed = comps.split(";") if comps else []
        if listed != sorted(set(listed)):
            raise VerifyError("format of inspectors.csv", f"inspector {ident}: competences not a sorted list")
        inspectors.append(Inspector(ident, certified == "1", int(capacity), frozenset(listed)))
    recusals = {(i, u) for i, u in parse_csv("recusals.csv", files["recusals.csv"])}
    raw = files["rules.json"]
    try:
        rules = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerifyError("format of rules.json", f"not JSON ({exc})") from None
    if canonical_json(rules).encode("utf-8") != raw:
        raise VerifyError("format of rules.json", "not in canonical form (sorted keys, no spaces)")
    if not isinstance(rules.get("sample_size"), int) or rules["sample_size"] < 0:
        raise VerifyError("format of rules.json", "sample_size must be a whole number ≥ 0")
    if not isinstance(rules.get("group_size"), int) or rules["group_size"] < 2:
        raise VerifyError("format of rules.json", "group_size must be a whole number ≥ 2")
    req = rules.get("required_competences")
    if not isinstance(req, dict) or not isinstance(req.get("default"), list):
        raise VerifyError("format of rules.json", "required_competences needs a default list")
    return Inputs(pool, mandatory, excluded, inspectors, recusals, rules)


# --- §3 enterprises -------------------------------------------------------------------------

def quotas(strata: dict, n: int, seed: str) -> dict:
    """§3: floor of each exact quota, remaining seats by systematic rounding from ``u0``."""
    total = sum(strata.values())
    if n > total:
        raise DrawError(f"sample size {n} exceeds the pool ({total})")
    if n == 0 or total == 0:
        return {s: 0 for s in strata}
    exact = {s: Fraction(n * count, total) for s, count in strata.items()}
    result = {s: q.numerator // q.denominator for s, q in exact.items()}
    u0 = Fraction(int(H(seed + "|alloc"), 16), 2 ** 256)
    running = Fraction(0)
    for s in sorted(strata):
        low, running = running, running + (exact[s] - result[s])
        k = max(0, math.ceil(low - u0))  # the smallest integer k >= 0 with u0 + k >= low
        if u0 + k < running:  # one more seat: some k >= 0 has low <= u0 + k < running
            result[s] += 1
    return result


def ent_key(seed: str, uscc: str) -> str:
    return H(seed + "|ent|" + uscc)


@dataclass
class Selection:
    quotas: dict
    selected: list  #: mandatory ∪ quota picks, sorted
    picks: dict  #: per stratum, in key order
    reserve: dict  #: per stratum, the rest in key order


def select(pool, mandatory, n: int, seed: str) -> Selection:
    """§3: within each stratum the ``quota`` lowest keys; the rest is that stratum's reserve."""
    by_stratum = {}
    for uscc, stratum in pool:
        by_stratum.setdefault(stratum, []).append(uscc)
    q = quotas({s: len(v) for s, v in by_stratum.items()}, n, seed)
    picks, reserve = {}, {}
    for stratum, members in by_stratum.items():
        ordered = sorted(members, key=lambda u: ent_key(seed, u))
        picks[stratum], reserve[stratum] = ordered[:q[stratum]], ordered[q[stratum]:]
    selected = sorted(set(mandatory) | {u for p in picks.values() for u in p})
    return Selection(q, selected, picks, reserve)


# --- §4 inspector groups --------------------------------------------------------------------

def task_order(seed: str, selected) -> list:
    return sorted(selected, key=lambda u: H(seed + "|task|" + u))


class _Index:
    """The inspectors who may still take a task, by load ratio, so one pick never scans the pool.

    ``levels[c][r]`` is the code-point-sorted list of inspectors holding competence ``c`` (``None``:
    everyone) whose ``Fraction(load + 1, capacity)`` is ``r``; an uncertified or full inspector is in
    no list. ``pick`` walks the ratios upwards and takes the first level with an eligible member,
    which is exactly §4's "keep only the members with the smallest ratio" over the eligible set.
    """

    def __init__(self, inspectors, loads):
        self.by_id = {i.id: i for i in inspectors}
        self.loads = loads
        self.levels = {None: {}}
        self.ratios = {}  #: competence → the ratios present in ``levels[c]``, ascending
        for i in inspectors:
            for c in i.competences:
                self.levels.setdefault(c, {})
            self._add(i)

    def _ratio(self, i):
        return Fraction(self.loads[i.id] + 1, i.capacity)

    def _add(self, i):
        if i.certified and self.loads[i.id] < i.capacity:
            r = self._ratio(i)
            for c in (None, *i.competences):
                levels = self.levels[c]
                if r not in levels:
                    levels[r] = []
                    insort(self.ratios.setdefault(c, []), r)
                insort(levels[r], i.id)

    def _remove(self, i):
        if i.certified and self.loads[i.id] < i.capacity:
            r = self._ratio(i)
            for c in (None, *i.competences):
                level = self.levels[c][r]
                del level[bisect_left(level, i.id)]
                if not level:
                    del self.levels[c][r]
                    ratios = self.ratios[c]
                    del ratios[bisect_left(ratios, r)]

    def change_load(self, ident: str, delta: int):
        i = self.by_id[ident]
        self._remove(i)
        self.loads[ident] += delta
        self._add(i)

    @staticmethod
    def _skipped(level, barred):
        """Positions in ``level`` of the barred inspectors, ascending."""
        out = []
        for b in barred:
            p = bisect_left(level, b)
            if p < len(level) and level[p] == b:
                out.append(p)
        return sorted(out)

    def count(self, competence, barred) -> int:
        return sum(len(level) - len(self._skipped(level, barred))
                   for level in self.levels.get(competence, {}).values())

    def pick(self, competence, barred, x_of) -> str | None:
        """``pick(S)``: S = holders of ``competence`` minus ``barred``; ``x_of()`` is the pick's hash."""
        levels = self.levels.get(competence, {})
        for r in self.ratios.get(competence, []):
            level = levels[r]
            skipped = self._skipped(level, barred)
            size = len(level) - len(skipped)
            if size == 0:
                continue
            pos = x_of() % size
            for p in skipped:  # map the index among the eligible back onto the level
                if p <= pos:
                    pos += 1
                else:
                    break
            return level[pos]
        return None


@dataclass
class Staffing:
    groups: dict = field(default_factory=dict)
    unstaffed: dict = field(default_factory=dict)
    #: tasks whose first pick had fewer than group_size + 1 eligible inspectors (§4: a warning)
    thin: list = field(default_factory=list)
    loads: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)  #: each task's next j, for substitutions


class Drawer:
    """§4 groups and §5 substitutions over one set of inspectors, recusals and rules."""

    def __init__(self, inspectors, recusals, required: dict, group_size: int, seed: str):
        if group_size < 2:
            raise DrawError("group_size must be at least 2 (R13)")
        self.inspectors = {i.id: i for i in inspectors}
        self.required, self.group_size, self.seed = required, group_size, seed
        self.recused = {}
        for ident, uscc in recusals:
            self.recused.setdefault(uscc, set()).add(ident)
        self.out = Staffing(loads={i.id: 0 for i in inspectors})
        self.index = _Index(inspectors, self.out.loads)
        self.left = {}  #: uscc → inspectors a substitution took off that task

    def needs(self, uscc: str) -> list:
        return sorted(self.required.get(uscc, self.required.get("default", [])))

    def _pick(self, uscc, competence, group, j, also_barred=frozenset()):
        barred = self.recused.get(uscc, set()) | set(group) | self.left.get(uscc, set()) | also_barred
        return self.index.pick(competence, barred, lambda: int(H(f"{self.seed}|insp|{uscc}|{j}"), 16))

    def staff_task(self, uscc: str) -> None:
        """§4 for one task, counter from 0; a staffed task raises its members' loads by one."""
        group, j, reason = [], 0, None

        def add(competence):
            nonlocal j
            if j == 0:
                barred = self.recused.get(uscc, set())
                if self.index.count(competence, barred) < self.group_size + 1:
                    self.out.thin.append(uscc)  # the inputs, not chance, chose this group
            member = self._pick(uscc, competence, group, j)
            if member is None:
                return False
            group.append(member)
            j += 1
            return True

        for competence in self.needs(uscc):
            if any(competence in self.inspectors[m].competences for m in group):
                continue
            if not add(competence):
                reason = f"no eligible inspector with competence {competence}"
                break
        while reason is None and len(group) < self.group_size:
            if not add(None):
                reason = f"only {len(group)} eligible inspector(s), group size {self.group_size}"
        self.out.counters[uscc] = j
        if reason:
            self.out.unstaffed[uscc] = reason
            return
        self.out.groups[uscc] = group
        for member in group:
            self.index.change_load(member, +1)

    def replace_inspector(self, uscc: str, leaving: str) -> str:
        """§5: ``leaving`` is unavailable for task ``uscc``; returns who takes the place (docs/draw.md)."""
        group = self.out.groups.get(uscc)
        if group is None or leaving not in group:
            raise DrawError(f"{leaving} is not in the group of {uscc}")
        group.remove(leaving)
        self.index.change_load(leaving, -1)
        self.left.setdefault(uscc, set()).add(leaving)
        uncovered = [c for c in self.needs(uscc)
                     if not any(c in self.inspectors[m].competences for m in group)]
        j = self.out.counters[uscc]
        # The newcomer must bring every competence the leaver took away.
        lacking = {i.id for i in self.inspectors.values() if not all(c in i.competences for c in uncovered)}
        member = self._pick(uscc, None, group, j, lacking)
        if member is None:
            group.append(leaving)  # undo: the substitution is refused, nothing changed
            self.left[uscc].discard(leaving)
            self.index.change_load(leaving, +1)
            raise DrawError(f"no eligible inspector can replace {leaving} in the group of {uscc}")
        self.out.counters[uscc] = j + 1
        group.append(member)
        self.index.change_load(member, +1)
        return member

    def drop_enterprise(self, uscc: str) -> None:
        """An ineligible enterprise's task goes; its group's loads drop by one each."""
        for member in self.out.groups.pop(uscc, []):
            self.index.change_load(member, -1)
        self.out.unstaffed.pop(uscc, None)


def staff(tasks, inspectors, recusals, required: dict, group_size: int, seed: str) -> Staffing:
    """§4: competences first (sorted), then fill to ``group_size``; an unstaffable task changes no load."""
    drawer = Drawer(inspectors, recusals, required, group_size, seed)
    for uscc in task_order(seed, tasks):
        drawer.staff_task(uscc)
    return drawer.out


# --- the whole draw, substitutions and verification ------------------------------------------

def run(inputs: Inputs, seed: str, substitutions=()) -> dict:
    """Everything §3–§5 derive from the inputs and the seed, as draw.json states it.

    ``groups``/``unstaffed``/``selected`` are the draw's own result; ``final`` is the state after
    replaying ``substitutions`` in order, whose computed ``in`` values are in ``replayed``.
    """
    rules = inputs.rules
    sel = select(inputs.pool, [u for u, _ in inputs.mandatory], rules["sample_size"], seed)
    drawer = Drawer(inputs.inspectors, inputs.recusals, rules["required_competences"], rules["group_size"], seed)
    for uscc in task_order(seed, sel.selected):
        drawer.staff_task(uscc)
    result = {"quotas": dict(sorted(sel.quotas.items())), "selected": sel.selected,
              "reserve": {s: list(v) for s, v in sorted(sel.reserve.items())},
              "groups": {u: list(g) for u, g in sorted(drawer.out.groups.items())},
              "unstaffed": dict(sorted(drawer.out.unstaffed.items())), "thin": sorted(drawer.out.thin)}
    stratum_of = dict(inputs.pool)
    used = set(sel.selected)
    selected = set(sel.selected)
    replayed = []
    for sub in substitutions:
        task = sub["task"]
        if task not in selected:
            raise DrawError(f"substitution names {task}, which is not a task of this draw")
        if sub["kind"] == "inspector":
            replayed.append(drawer.replace_inspector(task, sub["out"]))
        elif sub["kind"] == "enterprise":
            drawer.drop_enterprise(task)
            selected.discard(task)
            newcomer = next((u for u in sel.reserve.get(stratum_of.get(task), []) if u not in used), None)
            if newcomer is not None:
                used.add(newcomer)
                selected.add(newcomer)
                drawer.staff_task(newcomer)
            replayed.append(newcomer)
        else:
            raise DrawError(f"unknown substitution kind {sub['kind']!r}")
    result["final"] = {"selected": sorted(selected),
                       "groups": {u: list(g) for u, g in sorted(drawer.out.groups.items())},
                       "unstaffed": dict(sorted(drawer.out.unstaffed.items()))}
    result["replayed"] = replayed
    return result


@dataclass
class Report:
    ok: bool
    checks: list = field(default_factory=list)  #: names of the checks that held, in order
    failed: VerifyError | None = None
    warnings: list = field(default_factory=list)


def verify(files: dict, draw: dict) -> Report:
    """Recompute a draw from its published files alone; stop at the first check that fails."""
    report = Report(ok=False)

    def expect(check, published, computed):
        if published != computed:
            raise VerifyError(check, f"published {_short(published)} but the files give {_short(computed)}")
        report.checks.append(check)

    try:
        if draw.get("spec") != SPEC:
            raise VerifyError("spec", f"draw.json says {draw.get('spec')!r}, this verifier checks {SPEC}")
        inputs = parse_inputs(files)
        report.checks.append("input files well-formed")
        rules_draw = str(inputs.rules.get("draw_id", draw.get("draw_id")))
        expect("draw id in rules.json", rules_draw, str(draw.get("draw_id")))
        expect("commitment", draw.get("commitment"), commitment(draw["draw_id"], files, draw["beacon_ref"]))
        _check_beacon_time(draw, report)
        seed = seed_of(draw["commitment"], draw["beacon_value"])
        expect("seed", draw.get("seed"), seed)
        subs = draw.get("substitutions", [])
        try:
            result = run(inputs, seed, subs)
        except DrawError as exc:
            raise VerifyError("draw", str(exc)) from None
        for key in ("quotas", "selected", "reserve", "groups", "unstaffed"):
            expect(key, draw.get(key), result[key])
        for number, (sub, computed) in enumerate(zip(subs, result["replayed"]), start=1):
            expect(f"substitution {number} ({sub.get('kind')} {sub.get('task')})", sub.get("in"), computed)
        _check_invariants(inputs, result)
        report.checks.append("no recusal pair meets, no inspector over capacity, groups certified")
        report.warnings += [f"task {u}: fewer than group_size + 1 eligible inspectors at its first pick; "
                           "the inputs, not chance, chose this group" for u in result["thin"]]
        report.ok = True
    except VerifyError as exc:
        report.failed = exc
    except (KeyError, TypeError, AttributeError) as exc:
        report.failed = VerifyError("draw.json", f"missing or malformed field ({exc})")
    return report


def _check_beacon_time(draw: dict, report: Report) -> None:
    """§2: the value named by beacon_ref did not exist when the commitment was made. A drand round's time
    follows from its number; a lottery issue's claimed time must fit the official schedule, and the
    public must hold it against the lottery's own record."""
    read = beacon_time(draw["beacon_ref"])
    if read is None:
        report.warnings.append("beacon_ref names no time this verifier can read; check by hand that its "
                               "value did not exist before the commitment")
        return
    kind, number, at = read
    if kind == "drand":
        due = drand_quicknet_second(number)
        if micros(at) != due * 1_000_000:
            raise VerifyError("beacon time", f"drand quicknet round {number} comes at Unix second {due}, "
                                             f"not at {at.isoformat()}")
    elif kind == "lottery":
        try:
            problem = lottery_problem(number, at)
        except OverflowError:  # a time at the very end of the calendar
            problem = "schedule", {"at": at.isoformat()}
        if problem:
            raise VerifyError("beacon time", f"福彩双色球 {number}期: {lottery_problem_text(*problem)}")
        report.warnings.append(f"福彩双色球 {number}期 is claimed to be drawn at {at.astimezone(BEIJING).isoformat()}: "
                               "check that time against the lottery's own record")
    report.checks.append("beacon time")
    committed = instant(draw.get("committed_at"))
    if committed is None:
        raise VerifyError("beacon after commitment", f"committed_at {draw.get('committed_at')!r} is not a time")
    if not micros(at) > micros(committed):
        raise VerifyError("beacon after commitment", f"the beacon's value exists at {at.isoformat()}, "
                                                     f"not after the commitment at {draw.get('committed_at')}")
    if kind == "lottery":  # issue #11 point 6: an issue the lottery may already have drawn by the commitment
        try:
            known = lottery_known(number, committed)
        except OverflowError:  # committed before 0001-01-01 Beijing time: nothing had been drawn
            known = None
        if known:
            raise VerifyError("beacon after commitment", lottery_known_text(number, known))
    report.checks.append("beacon after commitment")


def _check_invariants(inputs: Inputs, result: dict) -> None:
    """What the spec promises of any result, checked on its own (a second line of defence)."""
    by_id = {i.id: i for i in inputs.inspectors}
    loads = {}
    for uscc, group in result["final"]["groups"].items():
        for member in group:
            if (member, uscc) in inputs.recusals:
                raise VerifyError("recusals", f"{member} is in the group of {uscc} despite a recusal")
            if member not in by_id or not by_id[member].certified:
                raise VerifyError("certified", f"{member} in the group of {uscc} is not a certified inspector")
            loads[member] = loads.get(member, 0) + 1
    for member, load in loads.items():
        if load > by_id[member].capacity:
            raise VerifyError("capacity", f"{member} has {load} tasks, capacity {by_id[member].capacity}")


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def read_export(path) -> tuple:
    """The six input files and draw.json from an export zip."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        files = {n: zf.read(n) for n in INPUT_FILES if n in names}
        if "draw.json" not in names:
            raise VerifyError("files present", "draw.json is missing")
        draw = json.loads(zf.read("draw.json").decode("utf-8"))
    return files, draw


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python3 verify_draw.py DRAW-EXPORT.zip", file=sys.stderr)
        return 2
    try:
        files, draw = read_export(args[0])
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        print(f"FAIL reading the export: {exc}")
        return 1
    except VerifyError as exc:
        print(f"FAIL {exc.check}: {exc.message}")
        return 1
    report = verify(files, draw)
    for check in report.checks:
        print(f"ok   {check}")
    for warning in report.warnings:
        print(f"WARN {warning}")
    if not report.ok:
        print(f"FAIL {report.failed.check}: {report.failed.message}")
        return 1
    print(f"PASS {draw.get('draw_id')}: {len(draw.get('selected', []))} enterprises, "
          f"{len(draw.get('groups', {}))} groups, {len(draw.get('substitutions', []))} substitution(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
