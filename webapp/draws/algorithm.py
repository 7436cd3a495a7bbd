"""SSJ-DRAW-v1, byte for byte (docs: shared/DRAW.md §1–§4). Standard library only, no I/O:
the server, the CLI export and the stand-alone verifier all run exactly this code.

Every number is an exact integer or Fraction; every choice comes from SHA-256 of the seed,
so anyone with the published files and the beacon value gets the same enterprises and groups.
"""
import hashlib
import math
from dataclasses import dataclass, field
from fractions import Fraction

SPEC = "SSJ-DRAW-v1"
INPUT_FILES = ("pool.csv", "mandatory.csv", "excluded.csv", "inspectors.csv", "recusals.csv", "rules.json")


def H(text: str) -> str:
    """SHA-256 of the UTF-8 bytes, as 64 lowercase hex characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def H_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commitment(draw_id: str, files: dict[str, bytes], beacon_ref: str) -> str:
    """§1: binds the draw id, the exact bytes of the six input files and the beacon reference."""
    parts = [SPEC, draw_id, *(H_bytes(files[name]) for name in INPUT_FILES), beacon_ref]
    return H("|".join(parts))


def seed_of(commitment_hex: str, beacon_value: str) -> str:
    """§2: the seed exists only once the public beacon value does."""
    return H(f"{SPEC}|{commitment_hex}|{beacon_value}")


class DrawError(ValueError):
    """The inputs cannot be drawn (e.g. n larger than the pool)."""


def quotas(strata: dict[str, int], n: int, seed: str) -> dict[str, int]:
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
    quotas: dict[str, int]
    selected: list[str]  #: mandatory ∪ quota picks, sorted
    picks: dict[str, list[str]]  #: per stratum, in key order
    reserve: dict[str, list[str]]  #: per stratum, the rest in key order


def select(pool: list[tuple[str, str]], mandatory: list[str], n: int, seed: str) -> Selection:
    """§3: within each stratum the ``quota`` lowest keys; the rest is that stratum's reserve."""
    by_stratum: dict[str, list[str]] = {}
    for uscc, stratum in pool:
        by_stratum.setdefault(stratum, []).append(uscc)
    q = quotas({s: len(v) for s, v in by_stratum.items()}, n, seed)
    picks, reserve = {}, {}
    for stratum, members in by_stratum.items():
        ordered = sorted(members, key=lambda u: ent_key(seed, u))
        picks[stratum], reserve[stratum] = ordered[:q[stratum]], ordered[q[stratum]:]
    selected = sorted(set(mandatory) | {u for p in picks.values() for u in p})
    return Selection(q, selected, picks, reserve)


@dataclass
class Inspector:
    id: str
    certified: bool
    capacity: int
    competences: frozenset[str]


@dataclass
class Staffing:
    groups: dict[str, list[str]] = field(default_factory=dict)
    unstaffed: dict[str, str] = field(default_factory=dict)
    #: tasks whose first pick had fewer than group_size + 1 eligible inspectors (§4: a warning)
    thin: list[str] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)  #: each task's next j, for substitutions


def task_order(seed: str, selected: list[str]) -> list[str]:
    return sorted(selected, key=lambda u: H(seed + "|task|" + u))


class _Picker:
    """``pick(S)`` of §4: uniform among the least-loaded, one hash per pick."""

    def __init__(self, seed: str, inspectors: dict[str, Inspector], loads: dict[str, int]):
        self.seed, self.inspectors, self.loads = seed, inspectors, loads

    def pick(self, candidates: list[str], uscc: str, j: int) -> str:
        ratio = {i: Fraction(self.loads[i] + 1, self.inspectors[i].capacity) for i in candidates}
        least = min(ratio.values())
        ordered = sorted(i for i in candidates if ratio[i] == least)
        x = int(H(f"{self.seed}|insp|{uscc}|{j}"), 16)
        return ordered[x % len(ordered)]


def staff(tasks: list[str], inspectors: list[Inspector], recusals: set[tuple[str, str]],
          required: dict[str, list[str]], group_size: int, seed: str) -> Staffing:
    """§4: competences first (sorted), then fill to ``group_size``; an unstaffable task changes no load."""
    if group_size < 2:
        raise DrawError("group_size must be at least 2 (R13)")
    by_id = {i.id: i for i in inspectors}
    out = Staffing(loads={i.id: 0 for i in inspectors})
    picker = _Picker(seed, by_id, out.loads)
    for uscc in task_order(seed, tasks):
        group, j, reason = [], 0, None
        needs = sorted(required.get(uscc, required.get("default", [])))

        def eligible(competence=None):
            return [i.id for i in inspectors
                    if i.certified and out.loads[i.id] < i.capacity and (i.id, uscc) not in recusals
                    and i.id not in group and (competence is None or competence in i.competences)]

        def add(candidates):
            nonlocal j
            if j == 0 and len(candidates) < group_size + 1:
                out.thin.append(uscc)  # the inputs, not chance, chose this group
            group.append(picker.pick(candidates, uscc, j))
            j += 1

        for competence in needs:
            if any(competence in by_id[m].competences for m in group):
                continue
            candidates = eligible(competence)
            if not candidates:
                reason = f"no eligible inspector with competence {competence}"
                break
            add(candidates)
        while reason is None and len(group) < group_size:
            candidates = eligible()
            if not candidates:
                reason = f"only {len(group)} eligible inspector(s), group size {group_size}"
                break
            add(candidates)
        out.counters[uscc] = j
        if reason:
            out.unstaffed[uscc] = reason
            continue
        out.groups[uscc] = group
        for member in group:
            out.loads[member] += 1
    return out
