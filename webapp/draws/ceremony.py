"""The draw ceremony (DRAW.md §1–§5, R13, R14, R18): freeze and commit, reveal, draw, dispatch,
substitute, supersede, publish, export. Every step is a service function in one transaction with
its audit entry; the computing itself is ``verify_draw.run``, the code the public verifier runs.
"""
import io
import json
import re
import urllib.request
import zipfile
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..audit.models import AuditHead
from ..audit.services import current_actor, record, record_many
from ..db_types import SHANGHAI, today_shanghai, utcnow
from ..extensions import db
from ..checklists.models import ChecklistVersion
from ..registries.models import Enterprise, InspectionItem, InspectionItemVersion, Inspector, Recusal
from ..registries.vocab import FLAG_FILE, INDUSTRY_FILE
from ..services import ServiceError, lock_row, transaction
from ..tasks.models import Task, TaskMember
from . import verify_draw as V
from .models import Batch, Draw, DrawFile, Substitution
from .plans import Scope, Universe, active_inspectors, batch_findings, required_competences, sample_size, scope

LOTTERY_RE = re.compile(r"^\s*(\d{1,2}(?:[\s.,，、]+\d{1,2}){6})\s*$")


def inspector_code(inspector_id: int) -> str:
    """The id an inspector has in the draw files: stable, and no personal data."""
    return f"P{inspector_id:05d}"


def _filter_text(batch: Batch) -> str:
    """The human-readable filter of a directed draw, for rules.json (fixed Chinese words)."""
    if batch.draw_type == "undirected":
        return "不定向抽取：全辖区，按乡镇（街道）均衡"
    parts = []
    if batch.filter_industries:
        parts.append("行业=" + "、".join(INDUSTRY_FILE[i] for i in batch.filter_industries))
    if batch.filter_flags:
        parts.append("类别=" + "、".join(FLAG_FILE[f] for f in batch.filter_flags))
    if batch.filter_regions:
        parts.append("乡镇（街道）代码=" + "、".join(batch.filter_regions))
    return "定向抽取：" + "；".join(parts)


def freeze_inputs(batch: Batch, draw_id: str, universe: Universe | None = None, sc: Scope | None = None,
                  inspectors: list | None = None) -> tuple[dict, dict]:
    """The six input files (exact bytes) and the roster (file id → name, certificate). ``sc`` and
    ``inspectors``, when the caller has just checked the batch on them, are not computed again."""
    sc = sc or scope(batch, universe or Universe(batch.plan.year))
    n = sample_size(batch, len(sc.pool))
    if n > len(sc.pool):
        raise ServiceError(_("The sample (%(n)d) is larger than the eligible pool (%(pool)d).", n=n,
                             pool=len(sc.pool)))
    comps, checklists = required_competences(batch, batch.window_start)
    inspectors = inspectors if inspectors is not None else active_inspectors()
    roster = {inspector_code(i.id): {"pk": i.id, "name": i.name, "cert_no": i.cert_no} for i in inspectors}
    drawn_usccs = {u.uscc for u, _r in sc.pool} | {u.uscc for u, _r in sc.mandatory}
    recusal_rows = db.session.execute(
        select(Recusal.inspector_id, Enterprise.uscc).join(Enterprise, Enterprise.id == Recusal.enterprise_id)
        .join(Inspector, Inspector.id == Recusal.inspector_id).where(Inspector.active.is_(True)))
    try:
        files = {
            "pool.csv": V.csv_bytes("pool.csv", [(u.uscc, s) for u, s in sc.pool]),
            "mandatory.csv": V.csv_bytes("mandatory.csv", [(u.uscc, r) for u, r in sc.mandatory]),
            "excluded.csv": V.csv_bytes("excluded.csv", [(u.uscc, r) for u, r in sc.excluded]),
            "inspectors.csv": V.csv_bytes("inspectors.csv", [
                (inspector_code(i.id), "1" if i.certified_on(batch.window_end) else "0", str(batch.capacity),
                 ";".join(sorted(c.name for c in i.competences))) for i in inspectors]),
            "recusals.csv": V.csv_bytes("recusals.csv", sorted({
                (inspector_code(pk), uscc) for pk, uscc in recusal_rows if uscc in drawn_usccs})),
        }
    except V.DrawError as exc:  # a comma or quote in a value: the registry must be fixed first
        raise ServiceError(_("An input value cannot be written into the draw files: %(e)s", e=str(exc))) from None
    plan = batch.plan
    rules = {
        "spec": V.SPEC, "draw_id": draw_id, "plan_id": plan.id, "plan_year": plan.year, "plan_title": plan.title,
        "batch_id": batch.id, "batch_seq": batch.seq, "batch_title": batch.title,
        "window": [batch.window_start.isoformat(), batch.window_end.isoformat()],
        "draw_type": batch.draw_type, "filter": _filter_text(batch),
        "sample_size": n, "sample_rule": (f"固定{batch.sample_size}家" if batch.sample_size is not None
                                          else f"抽查比例{batch.sample_bp / 100:g}%（向上取整）"),
        "group_size": batch.group_size, "capacity": batch.capacity,
        "required_competences": {"default": comps},
        "items": sorted(f"{i.code}@{i.latest_version}" for i in batch.items),
        "checklists": sorted(f"{c.code}@{c.version}" for c in checklists),
    }
    files["rules.json"] = V.canonical_json(rules).encode("utf-8")
    return files, roster


# --- beacons ---------------------------------------------------------------------------------

def drand_round_time(round_no: int) -> datetime:
    cfg = current_app.config
    return datetime.fromtimestamp(cfg["DRAND_GENESIS"] + (round_no - 1) * cfg["DRAND_PERIOD"], timezone.utc)


def drand_round_at(moment: datetime) -> int:
    """The first drand round whose value appears at or after ``moment``."""
    cfg = current_app.config
    seconds = (moment - datetime.fromtimestamp(cfg["DRAND_GENESIS"], timezone.utc)).total_seconds()
    return max(1, int(seconds // cfg["DRAND_PERIOD"]) + 2)


#: The demo data's draw uses this stand-in instead of a public value (the demo may run offline).
DEMO_BEACON = "演示信标（非公共随机数，仅用于演示数据）"


def make_beacon(form, allow_demo: bool = False) -> tuple[str, datetime, int | None, int | None]:
    """(beacon_ref, the instant its value exists, drand round or None, lottery issue or None) from the
    commit form. drand is the default (the form and the CLI offer it first)."""
    kind = form.get("beacon_kind")
    if kind == "demo" and allow_demo:
        # Whole seconds: the reference is read by people as well as by the verifiers.
        at = (utcnow() + timedelta(seconds=2)).replace(microsecond=0)
        return f"{DEMO_BEACON} ({at.astimezone(SHANGHAI).isoformat(timespec='seconds')})", at, None, None
    if kind == "drand":
        text = (form.get("drand_round") or "").strip()
        # ASCII digits only ("²".isdigit() is true) and within the column's 32 bits: never a 500.
        if not re.fullmatch(r"[0-9]{1,10}", text) or not 1 <= int(text) <= 2**31 - 1:
            raise ServiceError(_("Enter the drand round number."), "drand_round")
        round_no = int(text)
        at = drand_round_time(round_no)
        return f"drand quicknet round {round_no} ({at.astimezone(SHANGHAI).isoformat(timespec='seconds')})", at, round_no, None
    if kind == "lottery":
        issue = (form.get("lottery_issue") or "").strip()
        if not re.fullmatch(r"\d{7}", issue):
            raise ServiceError(_("Enter the 福彩双色球 issue as seven digits, e.g. 2026137."), "lottery_issue")
        try:
            local = datetime.fromisoformat((form.get("lottery_at") or "").strip())
            at = (local if local.tzinfo else local.replace(tzinfo=SHANGHAI)).astimezone(timezone.utc)
            at.astimezone(SHANGHAI)
        except (ValueError, OverflowError):  # not a time, or one at the calendar's very edge
            raise ServiceError(_("Enter when the lottery is drawn."), "lottery_at") from None
        check_lottery_issue(int(issue), at)
        return f"福彩双色球 {issue}期 ({at.astimezone(SHANGHAI).isoformat(timespec='seconds')})", at, None, int(issue)
    raise ServiceError(_("Choose the public beacon."), "beacon_kind")


def check_lottery_issue(issue: int, at: datetime, draw: Draw | None = None, now: datetime | None = None) -> None:
    """DRAW.md §2 (issue #11 point 6): a lottery issue's time does not follow from its number, so check
    what can be checked: the official schedule's weekday and hour, the issue's year and place in it
    (``verify_draw.lottery_problem``, which the public verifier applies too); a claimed time after
    ``now`` (the commitment's time: the server's clock) and an issue the lottery cannot yet have drawn by
    then (``verify_draw.lottery_known``: above the number of the year's scheduled draw days already
    come; the public verifier holds it against ``committed_at``); and an issue above every issue any
    draw of this installation has used, claimed after it. ``draw``: the draw being committed, when
    called again inside its transaction."""
    now = utcnow() if now is None else now
    problem = V.lottery_problem(issue, at)
    if problem:
        kind, d = problem
        if kind == "schedule":
            raise ServiceError(_("福彩双色球 is drawn on Tuesdays, Thursdays and Sundays at 21:15 Beijing time; "
                                 "%(t)s is not a draw time.", t=d["at"]), "lottery_at")
        if kind == "year":
            raise ServiceError(_("Issue %(i)d belongs to %(y)d, but the draw time given is in %(ty)d.",
                                 i=issue, y=d["year"], ty=d["at_year"]), "lottery_issue")
        raise ServiceError(_("Issue %(i)d cannot be drawn by %(t)s: only %(k)d scheduled draw day(s) of the "
                             "lottery fall in that year up to then.", i=issue, t=d["at"], k=d["days"]),
                           "lottery_issue")
    # Issue #11 point 6: a claimed time still to come, and (below) an issue the lottery cannot yet have
    # drawn by now, whatever time is typed: this holds for the first lottery draw too, with no issue used yet.
    if at <= now:
        raise ServiceError(_("Issue %(i)d is given as drawn at %(t)s, which is not after now (%(n)s): its result "
                             "may already be known. Choose a draw still to come.", i=issue, t=_beijing(at),
                             n=_beijing(now)), "lottery_at")
    used = db.session.scalar(select(Draw).where(Draw.lottery_issue.is_not(None),
                                                Draw.id != (draw.id if draw is not None and draw.id else -1))
                             .order_by(Draw.lottery_issue.desc()).limit(1))
    if used is not None and issue <= used.lottery_issue:
        raise ServiceError(_("Issue %(i)d is not above issue %(u)d, which draw %(d)s already used: its result may "
                             "already be known. Choose a later issue.", i=issue, u=used.lottery_issue,
                             d=used.draw_id), "lottery_issue")
    if used is not None and at <= used.beacon_at:
        raise ServiceError(_("Issue %(i)d is given as drawn at %(t)s, not after issue %(u)d (%(ut)s, draw %(d)s); "
                             "a later issue is drawn later.", i=issue, t=_beijing(at), u=used.lottery_issue,
                             ut=_beijing(used.beacon_at), d=used.draw_id), "lottery_at")
    known = V.lottery_known(issue, now)
    if known:
        raise ServiceError(_("Issue %(i)d may already have been drawn: %(k)d scheduled draw day(s) of %(y)d have "
                             "come by now (%(n)s), so any issue up to %(last)d may be known. Choose an issue "
                             "above %(last)d.", i=issue, k=known["passed"], y=known["year"], n=known["at"],
                             last=known["last"]), "lottery_issue")


def last_lottery_issue() -> int | None:
    """The highest 福彩双色球 issue any draw has used (the next one must be above it)."""
    return db.session.scalar(select(func.max(Draw.lottery_issue)))


def _beijing(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def normalise_beacon(draw: Draw, value: str) -> str:
    """DRAW.md §2: drand randomness as lowercase hex; 双色球 red balls ascending, then blue, '.'-joined."""
    value = (value or "").strip()
    if draw.drand_round is not None or draw.beacon_ref.startswith(DEMO_BEACON):
        if not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise ServiceError(_("A drand value is 64 hexadecimal characters."), "beacon_value")
        return value.lower()
    match = LOTTERY_RE.match(value)
    if not match:
        raise ServiceError(_("Enter the seven numbers of the draw: six red balls, then the blue ball."),
                           "beacon_value")
    numbers = [int(x) for x in re.split(r"[\s.,，、]+", match.group(1))]
    red, blue = numbers[:6], numbers[6]
    if len(set(red)) != 6 or not all(1 <= r <= 33 for r in red) or not 1 <= blue <= 16:
        raise ServiceError(_("Red balls are six different numbers 1–33; the blue ball is 1–16."), "beacon_value")
    return ".".join(str(x) for x in [*sorted(red), blue])


def fetch_drand(draw: Draw) -> str:
    """Fetch the committed round from the configured drand server; its randomness is H(signature)."""
    base = current_app.config.get("DRAND_URL") or ""
    if draw.drand_round is None or not base:
        raise ServiceError(_("This server is not set up to fetch the beacon; enter the value."))
    url = f"{base.rstrip('/')}/{current_app.config['DRAND_CHAIN']}/public/{draw.drand_round}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            data = json.loads(response.read(65536).decode("utf-8"))
        randomness, signature = str(data["randomness"]).lower(), bytes.fromhex(data["signature"])
    except Exception as exc:  # network, JSON or field errors all mean: type the value in
        raise ServiceError(_("Could not fetch drand round %(r)d: %(e)s", r=draw.drand_round, e=str(exc))) from None
    if int(data.get("round", -1)) != draw.drand_round or randomness != V.H_bytes(signature):
        raise ServiceError(_("The drand server answered with a different round or an inconsistent value."))
    return randomness


# --- commit, reveal, dispatch -----------------------------------------------------------------

def _require_drawable(batch: Batch) -> dict:
    """The plan is approved and the batch meets its rules; returns what was checked (the registry, the
    batch's scope, the inspectors) for freezing, so the draw is made from exactly that."""
    if batch.plan.state not in ("approved", "published"):
        raise ServiceError(_("Approve the plan before drawing."))
    checked = {"universe": Universe(batch.plan.year), "inspectors": active_inspectors()}
    checked["sc"] = scope(batch, checked["universe"])
    broken = [f for f in batch_findings(batch, checked["universe"], checked["sc"], checked["inspectors"]) if not f.ok]
    if broken:
        raise ServiceError(_("The batch breaks these rules: %(rules)s. %(why)s", rules="、".join(f.name for f in broken),
                             why=" ".join(f.message for f in broken)))
    return checked


def _commit(draw: Draw, batch: Batch, checked: dict | None = None) -> None:
    """Freeze the inputs, compute the commitment and log it with the audit chain's head."""
    now = utcnow()
    if draw.beacon_at <= now:
        raise ServiceError(_("The beacon must be a value that does not exist yet: its time %(t)s is not "
                             "after the commitment.", t=draw.beacon_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")),
                           "beacon_kind")
    checked = dict(checked or {})
    if "universe" not in checked:  # a superseding draw: counted after the old draw's tasks were cancelled
        checked["universe"] = Universe(batch.plan.year)
    universe = checked["universe"]
    files, roster = freeze_inputs(batch, draw.draw_id, **checked)
    draw.files = [DrawFile(name=name, content=data.decode("utf-8"), sha256=V.H_bytes(data))
                  for name, data in files.items()]
    # DRAW.md §1 (issue #11 point 5): the files may reveal the picks of every draw whose tasks they counted.
    draw.counted = list(db.session.scalars(select(Draw).where(Draw.id.in_(universe.counted_draws))))
    draw.commitment = V.commitment(draw.draw_id, files, draw.beacon_ref)
    draw.committed_at, draw.committed_by, draw.roster, draw.state = now, current_actor()[1], roster, "committed"
    db.session.flush()
    record("draw.commit", "draw", draw.id, None, {
        "draw_id": draw.draw_id, "commitment": draw.commitment, "beacon_ref": draw.beacon_ref,
        "files": {f.name: f.sha256 for f in draw.files}, "supersedes": draw.supersedes.draw_id if draw.supersedes else None,
        "reason": draw.reason, "counted": [d.draw_id for d in draw.counted]})
    draw.audit_head = db.session.get(AuditHead, 1).last_hash
    _recheck_issue(draw)


def _recheck_issue(draw: Draw) -> None:
    """Inside the transaction, after the audit entry took the audit chain's lock: a draw another worker
    committed meanwhile is seen now, so two draws never share an issue or go below each other."""
    if draw.lottery_issue is not None:
        check_lottery_issue(draw.lottery_issue, draw.beacon_at, draw, now=draw.committed_at)


def _next_draw(batch: Batch, beacon) -> Draw:
    ref, at, round_no, issue = beacon
    seq = max((d.seq for d in batch.draws), default=0) + 1
    return Draw(batch=batch, seq=seq, draw_id=f"{batch.plan.year}-{batch.plan.id}-{batch.seq}-{seq}",
                beacon_ref=ref, beacon_at=at, drand_round=round_no, lottery_issue=issue)


def _no_draw_yet(batch: Batch) -> None:
    if any(d.state in ("committed", "drawn", "proposed") for d in batch.draws):
        raise ServiceError(_("This batch already has a draw; a new one must supersede it, with a reason "
                             "and a second person's approval."))


def commit_draw(batch: Batch, form, allow_demo: bool = False) -> Draw:
    """§1: one live draw per batch; the beacon must lie in the future."""
    _no_draw_yet(batch)
    checked = _require_drawable(batch)
    beacon = make_beacon(form, allow_demo)
    with transaction():
        lock_row(batch)
        _no_draw_yet(batch)
        draw = _next_draw(batch, beacon)
        db.session.add(draw)
        _commit(draw, batch, checked)
    return draw


def reveal(draw: Draw, value: str | None = None, fetch: bool = False) -> Draw:
    """§2–§4: enter (or fetch) the beacon value, compute the draw and dispatch the tasks (R18)."""
    if draw.state != "committed":
        raise ServiceError(_("Only a committed draw can be revealed."))
    if utcnow() < draw.beacon_at:
        raise ServiceError(_("The beacon value does not exist before %(t)s; it cannot be entered yet.",
                             t=draw.beacon_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")), "beacon_value")
    beacon_value = fetch_drand(draw) if fetch else normalise_beacon(draw, value)
    inputs = V.parse_inputs(draw.file_bytes())
    seed = V.seed_of(draw.commitment, beacon_value)
    try:
        result = V.run(inputs, seed)
    except V.DrawError as exc:
        raise ServiceError(str(exc)) from None
    with transaction():
        lock_row(draw)
        if draw.state != "committed":  # another worker revealed it meanwhile
            raise ServiceError(_("Only a committed draw can be revealed."))
        draw.beacon_value, draw.seed, draw.state = beacon_value, seed, "drawn"
        draw.revealed_at, draw.revealed_by = utcnow(), current_actor()[1]
        draw.result = {k: result[k] for k in ("quotas", "selected", "reserve", "groups", "unstaffed", "thin", "final")}
        record("draw.reveal", "draw", draw.id, {"state": "committed"},
               {"beacon_value": beacon_value, "seed": seed, "selected": len(result["selected"]),
                "groups": len(result["groups"]), "unstaffed": len(result["unstaffed"])})
        basis = dict(inputs.mandatory)
        _dispatch(draw, result["selected"], result["groups"], result["unstaffed"], basis)
    return draw


def _dispatch(draw: Draw, usccs, groups: dict, unstaffed: dict, basis: dict) -> list[Task]:
    """Each selected enterprise becomes a task for its group at once (R18), with its inputs frozen."""
    batch = draw.batch
    items, frozen_checklists = _committed_versions(draw)
    enterprises = {}
    usccs = list(usccs)
    for start in range(0, len(usccs), 1000):
        for e in db.session.scalars(select(Enterprise).options(selectinload(Enterprise.region))
                                    .where(Enterprise.uscc.in_(usccs[start:start + 1000]))):
            enterprises[e.uscc] = e
    tasks, entries = [], []
    for uscc in usccs:
        e = enterprises[uscc]
        task = Task(batch_id=batch.id, draw_pk=draw.id, enterprise_id=e.id, uscc=uscc, kind="random",
                    basis=basis.get(uscc, "pool"), enterprise=_snapshot(e), items=items,
                    checklists=frozen_checklists, method=batch.method, start_date=batch.window_start,
                    due_date=batch.window_end, publication_days=batch.plan.publication_days)
        if uscc in groups:
            task.status = "dispatched"
            task.members = [TaskMember(inspector_id=draw.roster[code]["pk"], position=k)
                            for k, code in enumerate(groups[uscc])]
        else:
            task.status, task.unstaffed_reason = "unstaffed", unstaffed.get(uscc, "")
        db.session.add(task)
        tasks.append(task)
    db.session.flush()
    for task in tasks:
        entries.append(("task.dispatch" if task.status == "dispatched" else "task.unstaffed", "task", task.id,
                        None, task.audit_view()))
    record_many(entries)
    return tasks


def _committed_versions(draw: Draw) -> tuple[list, list]:
    """The item and checklist versions named in the committed rules.json, not today's: a revision
    loaded between commitment and reveal does not change what the tasks check."""
    rules = json.loads(draw.file_bytes()["rules.json"])
    items = []
    for ref in rules["items"]:
        code, version = ref.rsplit("@", 1)
        v = db.session.scalar(select(InspectionItemVersion).join(InspectionItem)
                              .where(InspectionItem.code == code, InspectionItemVersion.version == int(version)))
        items.append({"item_id": v.item_id, "version_id": v.id, "code": code, "version": v.version,
                      "name": v.name, "legal_basis": v.legal_basis})
    checklists = []
    for ref in rules["checklists"]:
        code, version = ref.split("@", 1)
        c = db.session.scalar(select(ChecklistVersion).where(ChecklistVersion.code == code,
                                                             ChecklistVersion.version == version))
        checklists.append({"id": c.id, "code": c.code, "version": c.version, "title": c.title})
    return items, checklists


def _snapshot(e: Enterprise) -> dict:
    return {"name": e.name, "uscc": e.uscc, "address": e.address, "region_code": e.region.code,
            "region": e.region.name, "industry": e.industry, "legal_rep": e.legal_rep, "phone": e.phone,
            "lat": e.lat, "lng": e.lng,
            "flags": [f for f in FLAG_FILE if getattr(e, f)]}


# --- substitutions ---------------------------------------------------------------------------

def substitute(draw: Draw, kind: str, task_uscc: str, out: str, reason: str) -> Substitution:
    """§5: replace an unavailable inspector or an ineligible enterprise by the published order."""
    reason = (reason or "").strip()
    if draw.state != "drawn":
        raise ServiceError(_("Substitutions apply to a drawn draw only."))
    if not reason:
        raise ServiceError(_("Give the reason for the substitution."), "reason")
    # The reason goes into draw.json and the public page: no ASCII comma, quote or line break.
    reason = reason.replace(",", "，").replace('"', "＂").replace("\r", " ").replace("\n", " ")
    if kind not in ("inspector", "enterprise"):
        raise ServiceError(_("Choose what is substituted."), "kind")
    actor = current_actor()[1]
    now = utcnow().replace(microsecond=0)
    new = {"kind": kind, "task": task_uscc, "out": out if kind == "inspector" else task_uscc, "in": None,
           "reason": reason, "by": actor, "at": now.isoformat(timespec='seconds')}
    subs = [s.as_json() for s in draw.substitutions] + [new]
    try:
        result = V.run(V.parse_inputs(draw.file_bytes()), draw.seed, subs)
    except V.DrawError as exc:
        raise ServiceError(_("The substitution is not possible: %(e)s", e=str(exc))) from None
    incoming = result["replayed"][-1]
    with transaction():
        lock_row(draw)
        if len(draw.substitutions) != len(subs) - 1:  # another substitution landed meanwhile
            raise ServiceError(_("Another substitution was recorded meanwhile; please try again."))
        sub = Substitution(draw_pk=draw.id, seq=len(draw.substitutions) + 1, kind=kind, task=task_uscc,
                           out=new["out"], in_=incoming, reason=reason, by=actor, at=now)
        db.session.add(sub)
        task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.uscc == task_uscc,
                                                    Task.status != "cancelled"))
        before = task.audit_view()
        if kind == "inspector":
            leaving = draw.roster[out]["pk"]
            for m in task.members:
                if m.inspector_id == leaving and m.active:
                    m.active, m.left_reason = False, reason
            task.members.append(TaskMember(inspector_id=draw.roster[incoming]["pk"],
                                           position=max(m.position for m in task.members) + 1))
            db.session.flush()
            record("task.substitute_inspector", "task", task.id, before, task.audit_view())
        else:
            task.status, task.cancelled_at, task.cancel_reason = "cancelled", utcnow(), reason
            db.session.flush()
            record("task.cancel", "task", task.id, before, task.audit_view())
            if incoming is not None:
                final = result["final"]
                _dispatch(draw, [incoming], final["groups"], final["unstaffed"], {})
        draw.result = {**draw.result, "final": result["final"]}  # the state after every substitution
        db.session.flush()
        record("draw.substitute", "draw", draw.id, None, sub.as_json())
    return sub


# --- supersession ------------------------------------------------------------------------------

def request_supersede(batch: Batch, form, user_id: int) -> Draw:
    """A new draw for a batch that has one: the reason and a later beacon now, a second person approves."""
    live = batch.live_draw
    if live is None:
        raise ServiceError(_("There is no live draw to supersede."))
    if any(d.state == "proposed" for d in batch.draws):
        raise ServiceError(_("A superseding draw is already waiting for approval."))
    reason = (form.get("reason") or "").strip()
    if len(reason) < 5:
        raise ServiceError(_("Say why the draw must be superseded."), "reason")
    beacon = make_beacon(form)
    if beacon[1] <= live.beacon_at:
        raise ServiceError(_("The new beacon must come after the one of the draw it supersedes."), "beacon_kind")
    with transaction():
        lock_row(batch)
        if any(d.state == "proposed" for d in batch.draws):
            raise ServiceError(_("A superseding draw is already waiting for approval."))
        draw = _next_draw(batch, beacon)
        draw.state, draw.reason, draw.supersedes = "proposed", reason, live
        draw.requested_by, draw.requested_by_id = current_actor()[1], user_id
        db.session.add(draw)
        db.session.flush()
        record("draw.supersede_request", "draw", draw.id, None, {"supersedes": live.draw_id, "reason": reason,
                                                                  "beacon_ref": draw.beacon_ref})
        _recheck_issue(draw)
    return draw


def approve_supersede(draw: Draw, user_id: int) -> Draw:
    """The second person: the old draw is superseded (its tasks cancelled), the new one committed."""
    if draw.state != "proposed":
        raise ServiceError(_("This draw is not waiting for approval."))
    if draw.requested_by_id == user_id:
        raise ServiceError(_("A second person must approve a superseding draw."))
    old, batch = draw.supersedes, draw.batch
    _require_drawable(batch)
    with transaction():
        lock_row(draw)
        if draw.state != "proposed":
            raise ServiceError(_("This draw is not waiting for approval."))
        old_state = old.state
        old.state = "superseded"
        entries = []
        for task in db.session.scalars(select(Task).where(Task.draw_pk == old.id, Task.status != "cancelled")
                                       .options(selectinload(Task.members))):
            before = task.audit_view()
            task.status, task.cancelled_at = "cancelled", utcnow()
            task.cancel_reason = _("Draw %(d)s superseded: %(r)s", d=old.draw_id, r=draw.reason)
            entries.append(("task.cancel", "task", task.id, before, task.audit_view()))
        entries.append(("draw.supersede", "draw", old.id, {"state": old_state},
                        {"state": "superseded", "by_draw": draw.draw_id}))
        record_many(entries)
        db.session.flush()
        draw.approved_by = current_actor()[1]
        _commit(draw, batch)
    return draw


def withdraw_proposal(draw: Draw) -> None:
    if draw.state != "proposed":
        raise ServiceError(_("This draw is not waiting for approval."))
    with transaction():
        draw.state = "withdrawn"
        record("draw.supersede_withdraw", "draw", draw.id, {"state": "proposed"}, {"state": "withdrawn"})


# --- publication and export -----------------------------------------------------------------------

def publish_draw(draw: Draw) -> None:
    """Make the inputs and the result public before the window closes (they are at its end anyway);
    refused while a draw whose tasks its files counted is still sealed (DRAW.md §1, issue #11 point 5)."""
    if draw.state not in ("drawn", "superseded") or draw.seed is None:
        raise ServiceError(_("Only a drawn draw can be published."))
    if draw.published_at:
        return
    _refuse_if_sealed(draw)
    with transaction():
        lock_row(draw)
        if draw.published_at:
            return
        _refuse_if_sealed(draw)
        draw.published_at = utcnow()
        record("draw.publish", "draw", draw.id, None, {"published_at": draw.published_at})


def _refuse_if_sealed(draw: Draw) -> None:
    blocker = sealed_by(draw)
    if blocker is not None:
        opens = opens_on(blocker)
        raise ServiceError(_(
            "Draw %(d)s cannot be published yet: its input files count the tasks of draw %(b)s and would tell "
            "what that draw picked, and draw %(b)s stays sealed until %(t)s. Publish draw %(b)s first, or wait.",
            d=draw.draw_id, b=blocker.draw_id, t=opens.isoformat() if opens else "—"))


def _own_opening(draw: Draw):
    """The day a drawn draw's own inputs and result become public: the day it was published early,
    or the day after its batch's window closes (四不两直). None before the draw is drawn."""
    if draw.seed is None:
        return None
    if draw.published_at is not None:
        return draw.published_at.astimezone(SHANGHAI).date()
    return draw.batch.window_end + timedelta(days=1)


def opens_on(draw: Draw, _seen: dict | None = None):
    """DRAW.md §1: a draw's publication day is the latest of its own and that of every draw whose tasks
    its files counted (theirs in turn include the draws they counted). None: not drawn, never yet."""
    seen = {} if _seen is None else _seen
    if draw.id in seen:
        return seen[draw.id]
    seen[draw.id] = None  # a cycle cannot happen (a draw counts only earlier ones); stay sealed if it did
    days = [_own_opening(draw), *(opens_on(c, seen) for c in draw.counted)]
    seen[draw.id] = None if None in days else max(days)
    return seen[draw.id]


def sealed_by(draw: Draw) -> Draw | None:
    """The draw whose tasks this one's files counted and which is still sealed today (the one sealed the
    longest), or None."""
    today = today_shanghai()
    blocked = [(opens_on(c) or date.max, c.id, c) for c in draw.counted if not is_public(c, today)]
    return max(blocked)[2] if blocked else None


def is_public(draw: Draw, today=None) -> bool:
    """Inputs and result are public once published, or once the batch's window has closed (四不两直),
    and never before those of every draw whose tasks the files counted (DRAW.md §1, issue #11 point 5)."""
    opens = opens_on(draw)
    return opens is not None and (today or today_shanghai()) >= opens


def draw_json(draw: Draw) -> dict:
    result = draw.result or {}
    return {"spec": V.SPEC, "draw_id": draw.draw_id, "beacon_ref": draw.beacon_ref,
            "beacon_value": draw.beacon_value, "commitment": draw.commitment,
            "committed_at": draw.committed_at.isoformat(timespec='seconds') if draw.committed_at else None,
            "seed": draw.seed, "quotas": result.get("quotas", {}), "selected": result.get("selected", []),
            "reserve": result.get("reserve", {}), "groups": result.get("groups", {}),
            "unstaffed": result.get("unstaffed", {}),
            "substitutions": [s.as_json() for s in draw.substitutions]}


def export_zip(draw: Draw) -> bytes:
    """The export of DRAW.md §5: the six input files and draw.json."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in draw.file_bytes().items():
            zf.writestr(name, data)
        zf.writestr("draw.json", json.dumps(draw_json(draw), ensure_ascii=False, indent=1, sort_keys=True))
    return buffer.getvalue()


def latest_drawn() -> Draw | None:
    return db.session.scalar(select(Draw).where(Draw.seed.is_not(None)).order_by(Draw.revealed_at.desc(),
                                                                               Draw.id.desc()).limit(1))


def suggest_drand_round(minutes: int = 10) -> int:
    return drand_round_at(utcnow() + timedelta(minutes=minutes))


def beacon_name(beacon_ref: str) -> str:
    """The beacon as people read it (issue #12 point 4): the committed text names its time as an ISO
    instant for the verifiers; the page shows that time separately, in Beijing time, so the name drops it
    and a drand round is said in words. The exact text stays on the page for anyone checking by hand."""
    m = re.fullmatch(r"(.*) \(([^()]+)\)", beacon_ref or "", re.S)
    name = m.group(1) if m else (beacon_ref or "")
    k = re.fullmatch(r"drand quicknet round ([1-9][0-9]*)", name)
    if k:
        return _("drand public randomness, round %(n)s", n=k.group(1))
    return name
