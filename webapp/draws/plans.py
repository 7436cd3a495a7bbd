"""Annual plans and batches: editing, the coverage rules (R3–R13) and the scope of each draw.

``scope()`` decides, for one batch, which enterprises go to pool.csv, mandatory.csv and excluded.csv;
the coverage checks and the draw's frozen inputs both come from it, so what the plan page promises
is what the draw does.
"""
import math
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.services import current_actor, record
from ..db_types import today_shanghai, utcnow
from ..extensions import db
from ..inputs import int_args
from ..registries.models import (ENTERPRISE_FLAGS, INDUSTRIES, Enterprise, InspectionItem, Inspector,
                                 Region)
from ..registries.items import item_list, random_share
from ..registries.vocab import FLAG_LABELS, FOCUS_FLAGS, INDUSTRY_LABELS, METHOD_LABELS
from ..services import ServiceError, transaction
from ..tasks.models import Task
from ..workdays import add_working_days
from .models import DRAW_TYPES, Batch, Plan, PlanChange
from .verify_draw import H

#: R6: enterprises drawn in a year are at least 5 % of the jurisdiction's enterprises.
R6_MIN_SHARE_BP = 500
#: R10: an ordinary unit is randomly checked at most twice a year.
R10_CAP = 2
#: R5: a change to an approved plan is published within 10 working days.
R5_CHANGE_DAYS = 10

DRAW_TYPE_LABELS = {"undirected": _l("Undirected (balanced across townships)"),
                    "directed": _l("Directed (filtered)")}
# Reasons written into mandatory.csv / excluded.csv: data, fixed Chinese (no commas, DRAW.md §1).
REASON_R8 = "R8 重点监管单位"
REASON_R9 = "R9 黑名单单位"
REASON_R11 = "R11 重点关注单位"
REASON_R3 = {"suspended": "R3 停业", "deregistered": "R3 注销"}
REASON_R10 = "R10 本年度已随机抽查2次"


#: Why the draw left a unit without a group: verify_draw.py writes these reasons in English into
#: draw.json (machine output, unchanged); the pages say them in the reader's language.
_UNSTAFFED = (
    (re.compile(r"^no eligible inspector with competence (.+)$"),
     lambda m: _("No eligible inspector holds the competence %(c)s", c=m.group(1))),
    (re.compile(r"^only (\d+) eligible inspector\(s\), group size (\d+)$"),
     lambda m: _("Only %(n)s eligible inspector(s) for a group of %(g)s", n=m.group(1), g=m.group(2))),
)


def unstaffed_reason(reason: str | None) -> str:
    for pattern, words in _UNSTAFFED:
        m = pattern.match(reason or "")
        if m:
            return words(m)
    return reason or ""


def stratum_names(codes) -> dict[str, str]:
    """A draw's strata as people read them: a township's name for its code; ``*`` is the whole pool."""
    codes = [c for c in codes if c != "*"]
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())
    return {"*": _("All eligible units"), **{c: names.get(c, c) for c in codes}}


# --- editing ------------------------------------------------------------------------------

def _actor() -> str:
    return current_actor()[1]


def _int(value, field_name: str, low: int, high: int, message: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ServiceError(message, field_name) from None
    if not low <= number <= high:
        raise ServiceError(message, field_name)
    return number


def _note_change(plan: Plan, summary: str) -> None:
    """R5: a change to an approved plan gets a publication deadline of 10 working days."""
    if plan.state == "draft":
        return
    due, provisional = add_working_days(today_shanghai(), R5_CHANGE_DAYS)
    change = PlanChange(plan=plan, by=_actor(), summary=summary, publish_due=due, provisional=provisional)
    db.session.add(change)


def save_plan(data: dict, plan: Plan | None = None) -> Plan:
    title = (data.get("title") or "").strip()[:200]
    if not title:
        raise ServiceError(_("required field is empty"), "title")
    year = _int(data.get("year"), "year", 2000, 2100, _("Enter a year between 2000 and 2100."))
    days = _int(data.get("publication_days") or 20, "publication_days", 1, 60,
                _("Enter a number of working days between 1 and 60."))
    with transaction():
        before = plan.audit_view() if plan else None
        if plan is None:
            plan = Plan(created_by=_actor())
            db.session.add(plan)
        elif plan.year != year and plan.batches:
            raise ServiceError(_("The year cannot change once the plan has batches."), "year")
        plan.title, plan.year, plan.publication_days = title, year, days
        db.session.flush()
        if before and before != plan.audit_view():
            _note_change(plan, _("Plan changed: %(fields)s", fields=", ".join(
                k for k in before if before[k] != plan.audit_view()[k])))
        record("plan.create" if before is None else "plan.update", "plan", plan.id, before, plan.audit_view())
    return plan


def save_batch(plan: Plan, data: dict, batch: Batch | None = None) -> Batch:
    """Create or edit a batch; a batch with a live draw can no longer change."""
    if batch is not None and batch.live_draw is not None:
        raise ServiceError(_("This batch has been drawn; its settings are frozen."))
    title = (data.get("title") or "").strip()[:200]
    if not title:
        raise ServiceError(_("required field is empty"), "title")
    try:
        start = date.fromisoformat(data.get("window_start") or "")
        end = date.fromisoformat(data.get("window_end") or "")
    except ValueError:
        raise ServiceError(_("Enter the window as two dates."), "window_start") from None
    if end < start:
        raise ServiceError(_("The window ends before it starts."), "window_end")
    if start.year != plan.year or end.year != plan.year:
        raise ServiceError(_("The window must lie within the plan's year %(y)d.", y=plan.year), "window_start")
    draw_type = data.get("draw_type")
    if draw_type not in DRAW_TYPES:
        raise ServiceError(_("Choose the draw type."), "draw_type")
    size_text, percent_text = (data.get("sample_size") or "").strip(), (data.get("sample_percent") or "").strip()
    if bool(size_text) == bool(percent_text):
        raise ServiceError(_("Give either a sample size or a proportion, not both."), "sample_size")
    size = _int(size_text, "sample_size", 0, 10**7, _("Enter a whole number ≥ 0.")) if size_text else None
    bp = None
    if percent_text:
        try:
            bp = round(float(percent_text) * 100)
        except ValueError:
            raise ServiceError(_("Enter a percentage such as 5 or 2.5."), "sample_percent") from None
        if not 1 <= bp <= 10000:
            raise ServiceError(_("Enter a percentage between 0.01 and 100."), "sample_percent")
    group_size = _int(data.get("group_size") or 2, "group_size", 2, 10,
                      _("A group has at least two law-enforcement officers."))
    capacity = _int(data.get("capacity") or 10, "capacity", 1, 10000, _("Enter a whole number ≥ 1."))
    method = data.get("method") or "onsite"
    if method not in METHOD_LABELS:
        raise ServiceError(_("Choose an inspection method."), "method")
    getlist = data.getlist  # a form (or a MultiDict): several values per key
    industries = [v for v in getlist("industry") if v in INDUSTRIES]
    flags = [v for v in getlist("flag") if v in ENTERPRISE_FLAGS]
    region_codes = set(db.session.scalars(select(Region.code)))
    regions = [v for v in getlist("region") if v in region_codes]
    item_ids = int_args(getlist("item"))  # issue #11 point 13: "²" or 20 digits are no item, not a 500
    items = list(db.session.scalars(select(InspectionItem).where(InspectionItem.id.in_(item_ids))))
    if not items:
        raise ServiceError(_("Choose at least one inspection item."), "item")
    if draw_type == "directed" and not (industries or flags or regions):
        raise ServiceError(_("A directed draw needs at least one filter."), "draw_type")
    with transaction():
        before = batch.audit_view() if batch else None
        if batch is None:
            seq = (max((b.seq for b in plan.batches), default=0)) + 1
            batch = Batch(plan=plan, seq=seq)
            db.session.add(batch)
        batch.title, batch.window_start, batch.window_end = title, start, end
        batch.draw_type = draw_type
        batch.filter_industries = sorted(industries) if draw_type == "directed" else []
        batch.filter_flags = sorted(flags) if draw_type == "directed" else []
        batch.filter_regions = sorted(regions) if draw_type == "directed" else []
        batch.sample_size, batch.sample_bp = size, bp
        batch.group_size, batch.capacity, batch.method = group_size, capacity, method
        batch.include_focus = data.get("include_focus") in ("1", "on", "true")
        batch.items = items
        db.session.flush()
        after = batch.audit_view()
        if before != after:
            _note_change(plan, _("Batch %(n)d changed", n=batch.seq) if before else
                         _("Batch %(n)d added", n=batch.seq))
        record("batch.create" if before is None else "batch.update", "batch", batch.id, before, after)
    return batch


def approve_plan(plan: Plan) -> None:
    """draft → approved, only when every coverage rule holds."""
    if plan.state != "draft":
        raise ServiceError(_("Only a draft plan can be approved."))
    broken = [f for f in plan_findings(plan) if not f.ok]
    if broken:
        raise ServiceError(_("The plan breaks these rules: %(rules)s; see the checks below.",
                             rules="、".join(f.name for f in broken)))
    with transaction():
        plan.state, plan.approved_by, plan.approved_at = "approved", _actor(), utcnow()
        record("plan.approve", "plan", plan.id, {"state": "draft"}, plan.audit_view())


def publish_plan(plan: Plan) -> None:
    """approved → published; pending change notes (R5) are published with it."""
    if plan.state == "draft":
        raise ServiceError(_("Approve the plan before publishing it."))
    with transaction():
        now = utcnow()
        before = plan.state
        plan.state = "published"
        plan.published_at = plan.published_at or now
        for change in plan.changes:
            if change.published_at is None:
                change.published_at = now
        record("plan.publish", "plan", plan.id, {"state": before}, plan.audit_view())


# --- the scope of a draw ------------------------------------------------------------------

@dataclass
class Unit:
    id: int
    uscc: str
    region: str
    industry: str
    status: str
    flags: frozenset


class Universe:
    """The enterprise registry as the draws of one plan see it, loaded once per request."""

    def __init__(self, year: int):
        self.year = year
        rows = db.session.execute(
            select(Enterprise.id, Enterprise.uscc, Region.code, Enterprise.industry, Enterprise.status,
                   *[getattr(Enterprise, f) for f in ENTERPRISE_FLAGS]).join(Region))
        self.units = [Unit(r[0], r[1], r[2], r[3], r[4],
                           frozenset(f for f, v in zip(ENTERPRISE_FLAGS, r[5:]) if v)) for r in rows]
        self.units.sort(key=lambda u: u.uscc)
        counted = (select(Task.enterprise_id).join(Batch, Batch.id == Task.batch_id)
                   .join(Plan, Plan.id == Batch.plan_id)
                   .where(Plan.year == year, Task.kind == "random", Task.status != "cancelled"))
        counts = db.session.execute(counted.with_only_columns(Task.enterprise_id, func.count())
                                    .group_by(Task.enterprise_id))
        self.checked = dict(counts.all())  # R4: only random tasks count
        #: DRAW.md §1 (issue #11 point 5): the draws whose tasks these counts include. A draw frozen
        #: from this universe may reveal their picks (R10 lines, R8/R9 units no longer mandatory),
        #: so its files are never public before theirs.
        self.counted_draws = set(db.session.scalars(counted.with_only_columns(Task.draw_pk).distinct()))

    @property
    def operating(self) -> int:
        return sum(1 for u in self.units if u.status == "operating")


@dataclass
class Scope:
    pool: list = field(default_factory=list)  #: (Unit, stratum)
    mandatory: list = field(default_factory=list)  #: (Unit, reason)
    excluded: list = field(default_factory=list)  #: (Unit, reason)


def _matches(batch: Batch, unit: Unit) -> bool:
    if batch.draw_type != "directed":
        return True
    return ((not batch.filter_industries or unit.industry in batch.filter_industries)
            and (not batch.filter_flags or any(f in unit.flags for f in batch.filter_flags))
            and (not batch.filter_regions or unit.region in batch.filter_regions))


def mandatory_batches(plan: Plan, unit: Unit) -> list[int]:
    """Indexes of the batches whose scope takes this unit (all batches when none does)."""
    fits = [k for k, b in enumerate(plan.batches) if _matches(b, unit)]
    return fits or list(range(len(plan.batches)))


def mandatory_slot(plan: Plan, unit: Unit, fits: list[int] | None = None) -> int:
    """R8/R9 units are spread over the batches that fit them by hash order (H mod their number)."""
    fits = fits or mandatory_batches(plan, unit)
    return fits[int(H(f"SSJ-PLAN|{plan.year}|{plan.id}|{unit.uscc}"), 16) % len(fits)]


def _due_in(plan: Plan, unit: Unit, index: int) -> bool:
    """A unit falls due in its slot batch; one missed there (e.g. registered later) in the next
    batch that fits it."""
    fits = mandatory_batches(plan, unit)
    return index in fits and mandatory_slot(plan, unit, fits) <= index


def scope(batch: Batch, universe: Universe) -> Scope:
    """Which enterprises go to which input file for this batch (DRAW.md §1, R3, R8–R12).

    Units already drawn in this batch's own earlier draws are not counted against R10 when a
    superseding draw recomputes the scope (their tasks are cancelled first).
    """
    plan = batch.plan
    index = [b.id for b in plan.batches].index(batch.id)
    out = Scope()
    for unit in universe.units:
        key_reason = (REASON_R8 if "key_supervision" in unit.flags else
                      REASON_R9 if "blacklisted" in unit.flags else None)
        due_here = key_reason is not None and universe.checked.get(unit.id, 0) == 0 and _due_in(plan, unit, index)
        in_scope = _matches(batch, unit)
        if not (in_scope or due_here):
            continue
        if unit.status != "operating":
            out.excluded.append((unit, REASON_R3.get(unit.status, "R3 " + unit.status)))
        elif due_here:
            out.mandatory.append((unit, key_reason))
        elif batch.include_focus and in_scope and any(f in unit.flags for f in FOCUS_FLAGS):
            out.mandatory.append((unit, REASON_R11))
        elif (universe.checked.get(unit.id, 0) >= R10_CAP and key_reason is None
              and not any(f in unit.flags for f in FOCUS_FLAGS)):
            out.excluded.append((unit, REASON_R10))
        else:
            out.pool.append((unit, unit.region if batch.draw_type == "undirected" else "*"))
    return out


def sample_size(batch: Batch, pool_size: int) -> int:
    """n of the random part: fixed, or the proportion of the pool rounded up."""
    if batch.sample_size is not None:
        return batch.sample_size
    return math.ceil(pool_size * (batch.sample_bp or 0) / 10000)


# --- coverage findings --------------------------------------------------------------------

#: What each coverage rule asks, in words for the screen (issue #12 point 4: rule ids are for code, tests
#: and docs), and the article it comes from, for a tooltip.
RULES = {
    "R3": (_l("Only operating units of the jurisdiction are drawn"), "《实施细则》第十三条"),
    "R4": (_l("Only random-check items are drawn"), "《实施细则》第二条"),
    "R5": (_l("An annual plan with batches"), "《抽查工作计划》二（二）3"),
    "R6": (_l("At least 5 per cent of enterprises inspected each year"), "《抽查工作计划》二（二）1"),
    "R7": (_l("At least 70 per cent of enforcement items are random-check items"), "《实施细则》第十六条"),
    "R8/R9": (_l("Key-supervision and blacklisted units inspected every year"), "《实施细则》第十六条"),
    "R10": (_l("Other units checked at most twice a year"), "《实施细则》第十六条"),
    "R12": (_l("Balanced or filtered draw"), "《实施细则》第八条"),
    "R13": (_l("Groups of at least two certified inspectors who cover the items"), "《实施细则》第十五条"),
    "R16": (_l("Only items with a legal basis and a checklist"), "《实施细则》第九条"),
}


@dataclass
class Finding:
    rule: str
    ok: bool
    message: str

    @property
    def name(self) -> str:
        """The rule in words."""
        return str(RULES[self.rule][0]) if self.rule in RULES else _("Coverage rule")

    @property
    def cite(self) -> str:
        """Where the rule comes from, for a tooltip."""
        return f"{RULES[self.rule][1]}（{self.rule}）" if self.rule in RULES else self.rule


def required_competences(batch: Batch, on: date) -> tuple[list[str], list]:
    """The checklists the batch's items use (valid on ``on``) and the competences they require."""
    from ..checklists.models import ChecklistVersion
    codes = {i.code for i in batch.items}
    chosen = {}
    for cv in db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.code,
                                                                   ChecklistVersion.valid_from)):
        if cv.valid_on(on) and any(q.get("item") in codes for q in cv.questions):
            chosen[cv.code] = cv  # the latest version valid that day wins
    comps = sorted({c for cv in chosen.values() for c in cv.content.get("competences", [])})
    return comps, list(chosen.values())


def active_inspectors() -> list[Inspector]:
    """Active inspectors with their competences loaded (one query each, not one per inspector)."""
    return db.session.scalars(select(Inspector).where(Inspector.active.is_(True)).order_by(Inspector.id)
                              .options(selectinload(Inspector.competences))).all()


def batch_findings(batch: Batch, universe: Universe, sc: Scope | None = None,
                   inspectors: list[Inspector] | None = None) -> list[Finding]:
    """The rules one batch must meet before its draw (R3, R4, R12, R13, R16)."""
    found = []
    sc = sc or scope(batch, universe)
    n = sample_size(batch, len(sc.pool))
    if batch.draw_type == "undirected":
        found.append(Finding("R12", True, _("Batch %(b)d: undirected, balanced across townships.", b=batch.seq)))
    else:
        has_filter = bool(batch.filter_industries or batch.filter_flags or batch.filter_regions)
        found.append(Finding("R12", has_filter, _("Batch %(b)d: directed, %(f)s.", b=batch.seq,
                                                  f=_filter_summary(batch)) if has_filter else
                             _("Batch %(b)d: a directed draw needs at least one filter.", b=batch.seq)))
    found.append(Finding("R3", n <= len(sc.pool), _(
        "Batch %(b)d: %(pool)d eligible units in the pool, %(m)d drawn with certainty, %(x)d excluded; "
        "sample %(n)d.", b=batch.seq, pool=len(sc.pool), m=len(sc.mandatory), x=len(sc.excluded), n=n)
        if n <= len(sc.pool) else _("Batch %(b)d: the sample (%(n)d) is larger than the eligible pool (%(pool)d).",
                                    b=batch.seq, n=n, pool=len(sc.pool))))
    not_random = [i.code for i in batch.items if not i.current.is_random]
    found.append(Finding("R4", not not_random, _(
        "Batch %(b)d: every item is a random-check item.", b=batch.seq) if not not_random else _(
        "Batch %(b)d: items %(codes)s are not random-check items and cannot be drawn.",
        b=batch.seq, codes="、".join(not_random))))
    comps, checklists = required_competences(batch, batch.window_start)
    inspectors = [i for i in (inspectors or active_inspectors()) if i.certified_on(batch.window_end)]
    missing = [c for c in comps if not any(c in {x.name for x in i.competences} for i in inspectors)]
    enough = len(inspectors) >= batch.group_size and not missing
    found.append(Finding("R13", enough, _(
        "Batch %(b)d: %(k)d certified inspectors; groups of %(g)d must cover %(c)s.", b=batch.seq,
        k=len(inspectors), g=batch.group_size, c="、".join(comps) or _("no particular competence"))
        if enough else _(
        "Batch %(b)d: not enough certified inspectors for groups of %(g)d, or nobody holds %(c)s.",
        b=batch.seq, g=batch.group_size, c="、".join(missing) or "—")))
    if not checklists:
        found.append(Finding("R16", False, _("Batch %(b)d: no checklist covers the chosen items.", b=batch.seq)))
    return found


def _filter_summary(batch: Batch) -> str:
    parts = [str(INDUSTRY_LABELS[i]) for i in batch.filter_industries]
    parts += [str(FLAG_LABELS[f]) for f in batch.filter_flags]
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(batch.filter_regions))).all()
                 ) if batch.filter_regions else {}
    parts += [names.get(code, code) for code in batch.filter_regions]
    return "、".join(parts)


def plan_findings(plan: Plan, universe: Universe | None = None) -> list[Finding]:
    """Every coverage rule, each with whether it holds and why, in the user's language."""
    universe = universe or Universe(plan.year)
    found = []
    if not plan.batches:
        found.append(Finding("R5", False, _("The plan has no batches yet.")))
        return found
    items = item_list()
    random_n, total, r7_ok = random_share(items)
    found.append(Finding("R7", r7_ok, _(
        "%(r)d of %(t)d enforcement items are random-check items (at least 70 %% needed).", r=random_n, t=total)))
    key = [u for u in universe.units if u.status == "operating" and {"key_supervision", "blacklisted"} & u.flags]
    unchecked = [u for u in key if not universe.checked.get(u.id)]
    per_batch = [0] * len(plan.batches)
    for unit in unchecked:
        per_batch[mandatory_slot(plan, unit)] += 1
    planned = len(unchecked)
    scopes = {batch.id: scope(batch, universe) for batch in plan.batches}
    for batch in plan.batches:
        sc = scopes[batch.id]
        planned += sample_size(batch, len(sc.pool)) + sum(1 for _u, r in sc.mandatory if r == REASON_R11)
    operating = universe.operating
    need = math.ceil(operating * R6_MIN_SHARE_BP / 10000)
    found.append(Finding("R6", planned >= need, _(
        "The batches plan %(p)d inspections; 5 %% of %(e)d operating enterprises is %(n)d.",
        p=planned, e=operating, n=need)))
    found.append(Finding("R8/R9", True, _(
        "%(k)d key-supervision or blacklisted units (%(u)d not yet checked this year) are drawn with "
        "certainty, spread over the batches by hash order: %(spread)s.", k=len(key), u=len(unchecked),
        spread=" / ".join(str(n) for n in per_batch))))
    found.append(Finding("R10", True, _("Units already checked twice this year are left out: %(n)d so far.",
                                        n=sum(1 for c in universe.checked.values() if c >= R10_CAP))))
    inspectors = active_inspectors()
    for batch in plan.batches:
        found.extend(batch_findings(batch, universe, scopes[batch.id], inspectors))
    return found


def sample_text(batch) -> str:
    """A batch's sample as people read it (issue #12): a count or a share of the pool (「10 %」, not
    「10.0 %」), drawn at random; the units that must be inspected (key-supervision, blacklisted, focus)
    come on top wherever the plan slots them, which is why a batch may list more tasks than its sample."""
    if batch.sample_size is not None:
        if batch.sample_size == 0:
            return _("none at random: only the units that must be inspected")
        return _("%(n)d at random, plus the units that must be inspected", n=batch.sample_size)
    share = f"{(batch.sample_bp or 0) / 100:g}"
    return _("%(p)s %% of the pool at random, plus the units that must be inspected", p=share)
