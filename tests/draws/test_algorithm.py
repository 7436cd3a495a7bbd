"""SSJ-DRAW-v1 (shared/DRAW.md): a worked three-stratum example and properties that must always hold."""
import hashlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.draws.verify_draw import (DrawError, Inspector, commitment, quotas, seed_of, select, staff,
                                    task_order)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


FILES = {"pool.csv": b"uscc,stratum\nA1,s1\n", "mandatory.csv": b"uscc,reason\n", "excluded.csv": b"uscc,reason\n",
         "inspectors.csv": b"id,certified,capacity,competences\n", "recusals.csv": b"inspector_id,uscc\n",
         "rules.json": b'{"group_size":2,"sample_size":1}'}


def test_commitment_and_seed_follow_the_spec_to_the_byte():
    ref = "drand quicknet round 21345678"
    expected = sha("SSJ-DRAW-v1|D1|" + "|".join(hashlib.sha256(FILES[n]).hexdigest() for n in (
        "pool.csv", "mandatory.csv", "excluded.csv", "inspectors.csv", "recusals.csv", "rules.json")) + "|" + ref)
    assert commitment("D1", FILES, ref) == expected
    assert seed_of(expected, "3.9.14.22.27.31.8") == sha(f"SSJ-DRAW-v1|{expected}|3.9.14.22.27.31.8")
    changed = dict(FILES, **{"pool.csv": b"uscc,stratum\nA1,s2\n"})
    assert commitment("D1", changed, ref) != expected  # one changed input byte changes the commitment


def test_three_strata_worked_by_hand():
    """Pool 3 + 4 + 5 = 12, n = 5: exact quotas 5/4, 5/3, 25/12 → floors 1, 1, 2; r = 1 seat left,
    given by systematic rounding over the fractional parts 1/4, 2/3, 1/12 (running sums 1/4, 11/12, 1)."""
    seed = sha("worked example")
    u0 = Fraction(int(sha(seed + "|alloc"), 16), 2 ** 256)
    bounds = {"s1": (Fraction(0), Fraction(1, 4)), "s2": (Fraction(1, 4), Fraction(11, 12)),
              "s3": (Fraction(11, 12), Fraction(1))}
    winner = next(s for s, (lo, hi) in bounds.items() if lo <= u0 < hi)
    expected = {"s1": 1, "s2": 1, "s3": 2}
    expected[winner] += 1
    assert quotas({"s1": 3, "s2": 4, "s3": 5}, 5, seed) == expected
    pool = [(f"A{i}", "s1") for i in range(3)] + [(f"B{i}", "s2") for i in range(4)] + \
           [(f"C{i}", "s3") for i in range(5)]
    sel = select(pool, ["M1"], 5, seed)
    for stratum, prefix in (("s1", "A"), ("s2", "B"), ("s3", "C")):
        keyed = sorted((sha(seed + "|ent|" + u), u) for u, s in pool if s == stratum)
        assert sel.picks[stratum] == [u for _, u in keyed[:expected[stratum]]]
        assert sel.reserve[stratum] == [u for _, u in keyed[expected[stratum]:]]
    assert sel.selected == sorted(["M1", *[u for p in sel.picks.values() for u in p]])

    # Groups: two inspectors, capacity 2 each of three; task order by H(seed|task|u).
    insp = [Inspector("I1", True, 3, frozenset({"危化"})), Inspector("I2", True, 3, frozenset()),
            Inspector("I3", True, 3, frozenset()), Inspector("I4", False, 9, frozenset({"危化"}))]
    tasks = sel.selected
    result = staff(tasks, insp, {("I2", "M1")}, {"default": ["危化"]}, 2, seed)
    order = sorted(tasks, key=lambda u: sha(seed + "|task|" + u))
    assert task_order(seed, tasks) == order
    loads = {"I1": 0, "I2": 0, "I3": 0}
    for u in order:  # the first task by hand, the rest by the same rule
        if loads["I1"] >= 3:
            assert u in result.unstaffed  # only I1 (certified) has 危化; I4 is not certified
            continue
        members = ["I1"]  # j = 0: the only certified 危化 holder
        cands = [i for i in ("I2", "I3") if loads[i] < 3 and not (i == "I2" and u == "M1")]
        least = min(Fraction(loads[i] + 1, 3) for i in cands)
        pool_ = sorted(i for i in cands if Fraction(loads[i] + 1, 3) == least)
        members.append(pool_[int(sha(f"{seed}|insp|{u}|1"), 16) % len(pool_)])
        assert result.groups[u] == members
        for m in members:
            loads[m] += 1
    assert result.loads == {**loads, "I4": 0}


def test_n_larger_than_pool_is_refused_and_zero_selects_mandatory_only():
    with pytest.raises(DrawError):
        quotas({"s": 2}, 3, sha("x"))
    assert select([("A", "s")], ["M"], 0, sha("x")).selected == ["M"]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.integers(1, 40), min_size=1, max_size=8),
       st.data())
def test_quotas_sum_to_n_and_stay_within_floor_and_ceil(strata, data):
    total = sum(strata.values())
    n = data.draw(st.integers(0, total))
    seed = sha(repr(sorted(strata.items())) + str(n))
    q = quotas(strata, n, seed)
    assert sum(q.values()) == n
    for s, count in strata.items():
        exact = Fraction(n * count, total)
        assert exact.__floor__() <= q[s] <= exact.__ceil__()


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 25), st.integers(1, 12), st.integers(2, 3), st.integers(0, 10**6))
def test_groups_never_break_recusals_or_capacity(n_tasks, n_insp, group_size, salt):
    seed = sha(f"prop{salt}")
    tasks = [f"U{i}" for i in range(n_tasks)]
    inspectors = [Inspector(f"I{i}", i % 5 != 4, 1 + i % 3, frozenset({"危化"} if i % 2 else set()))
                  for i in range(n_insp)]
    recusals = {(f"I{i}", f"U{(i * 7 + salt) % n_tasks}") for i in range(n_insp)}
    result = staff(tasks, inspectors, recusals, {"default": ["危化"]}, group_size, seed)
    loads = {i.id: 0 for i in inspectors}
    for u, members in result.groups.items():
        assert len(members) == group_size == len(set(members))
        assert any("危化" in next(i for i in inspectors if i.id == m).competences for m in members)
        for m in members:
            assert (m, u) not in recusals
            assert next(i for i in inspectors if i.id == m).certified
            loads[m] += 1
    assert all(loads[i.id] <= i.capacity for i in inspectors)
    assert loads == result.loads
    assert set(result.groups) | set(result.unstaffed) == set(tasks)


def naive_staff(tasks, inspectors, recusals, required, group_size, seed):
    """§4 read literally: scan every inspector at every pick (the indexed version must agree)."""
    by_id = {i.id: i for i in inspectors}
    loads = {i.id: 0 for i in inspectors}
    groups, unstaffed = {}, {}
    for u in task_order(seed, tasks):
        group, j, failed = [], 0, False

        def eligible(comp=None):
            return [i.id for i in inspectors if i.certified and loads[i.id] < i.capacity
                    and (i.id, u) not in recusals and i.id not in group
                    and (comp is None or comp in i.competences)]

        def pick(cands):
            least = min(Fraction(loads[i] + 1, by_id[i].capacity) for i in cands)
            ordered = sorted(i for i in cands if Fraction(loads[i] + 1, by_id[i].capacity) == least)
            return ordered[int(sha(f"{seed}|insp|{u}|{j}"), 16) % len(ordered)]

        for comp in sorted(required.get(u, required.get("default", []))):
            if any(comp in by_id[m].competences for m in group):
                continue
            cands = eligible(comp)
            if not cands:
                failed = True
                break
            group.append(pick(cands))
            j += 1
        while not failed and len(group) < group_size:
            cands = eligible()
            if not cands:
                failed = True
                break
            group.append(pick(cands))
            j += 1
        if failed:
            unstaffed[u] = True
            continue
        groups[u] = group
        for m in group:
            loads[m] += 1
    return groups, set(unstaffed), loads


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(1, 15), st.integers(2, 3), st.integers(0, 10**6))
def test_indexed_staffing_equals_the_literal_reading(n_tasks, n_insp, group_size, salt):
    seed = sha(f"eq{salt}")
    tasks = [f"U{i:02d}" for i in range(n_tasks)]
    inspectors = [Inspector(f"I{i:02d}", (i + salt) % 6 != 5, 1 + (i * salt) % 4,
                            frozenset(c for k, c in enumerate(("危化", "粉尘", "煤矿")) if (i + k + salt) % 3 == 0))
                  for i in range(n_insp)]
    recusals = {(f"I{(i * 3 + salt) % n_insp:02d}", f"U{(i * 5 + salt) % n_tasks:02d}") for i in range(n_insp)}
    required = {"default": ["危化"], tasks[0]: ["煤矿", "粉尘"]}
    result = staff(tasks, inspectors, recusals, required, group_size, seed)
    groups, unstaffed, loads = naive_staff(tasks, inspectors, recusals, required, group_size, seed)
    assert result.groups == groups
    assert set(result.unstaffed) == unstaffed
    assert result.loads == loads


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(FILES)), st.data())
def test_any_changed_input_byte_changes_the_commitment(name, data):
    original = commitment("D1", FILES, "ref")
    content = bytearray(FILES[name])
    at = data.draw(st.integers(0, len(content) - 1))
    content[at] = data.draw(st.integers(0, 255).filter(lambda b: b != content[at]))
    assert commitment("D1", {**FILES, name: bytes(content)}, "ref") != original
