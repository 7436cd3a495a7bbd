"""The draw ceremony as a brigade lead runs it, and what the public can check afterwards."""
import io
import json
import re
import subprocess
import sys
import threading
import zipfile
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp import roles as R
from webapp.audit.services import verify as audit_verify
from webapp.db_types import utcnow
from webapp.draws import ceremony
from webapp.draws import verify_draw as V
from webapp.draws.models import Draw
from webapp.draws.plans import (REASON_R3, REASON_R8, REASON_R10, REASON_R11, Universe, approve_plan,
                                plan_findings, save_batch, save_plan, scope)
from webapp.extensions import db
from webapp.registries.models import Enterprise, Inspector
from webapp.services import ServiceError
from webapp.tasks.models import Task
from tests.factories import (BEACON, PASSWORD, make_drawn, make_enterprise, make_inspector, make_item, make_plan,
                             make_user, pass_beacon_time)

VERIFIER = Path(ceremony.__file__).with_name("verify_draw.py")


@pytest.fixture
def pool(ctx):
    """Four certified inspectors with the checklist's competence."""
    return [make_inspector(name=f"检查员{k}") for k in range(4)]


def _zip(draw) -> dict:
    with zipfile.ZipFile(io.BytesIO(ceremony.export_zip(draw))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _verify(entries: dict) -> V.Report:
    files = {n: entries[n] for n in V.INPUT_FILES if n in entries}
    return V.verify(files, json.loads(entries["draw.json"]))


# --- plans and coverage -----------------------------------------------------------------

def test_a_plan_that_breaks_a_rule_says_which_and_is_not_approved(ctx, pool):
    make_item("GM-X-01", is_random="0", name="非随机事项")
    plan, batch = make_plan(n_enterprises=40, sample=1, approve=False)
    findings = {f.rule: f for f in plan_findings(plan)}
    assert not findings["R6"].ok  # 1 of 40 is under 5 %
    assert "40" in findings["R6"].message and "5%" in findings["R6"].message  # the numbers, in Chinese
    assert findings["R7"].ok is False  # 1 random item of 2: under 70 %
    with pytest.raises(ServiceError) as refused:
        approve_plan(plan)
    # the rules in words, not their ids (issue #12 point 4)
    assert "每年抽查企业不少于5%" in refused.value.message and "随机抽查事项" in refused.value.message
    assert not re.search(r"\bR\d{1,2}\b", refused.value.message)
    assert plan.state == "draft"


def test_groups_need_two_officers_and_enough_certified_inspectors(ctx):
    make_inspector(name="唯一")
    plan, batch = make_plan(approve=False)
    r13 = next(f for f in plan_findings(plan) if f.rule == "R13")
    assert not r13.ok  # one certified inspector cannot make a group of two
    with pytest.raises(ServiceError) as refused:
        save_batch(plan, MultiDict({"title": "x", "window_start": batch.window_start.isoformat(),
                                    "window_end": batch.window_end.isoformat(), "draw_type": "undirected",
                                    "sample_size": "1", "group_size": "1", "item": str(batch.items[0].id)}))
    assert refused.value.field == "group_size" and "至少两名执法人员" in refused.value.message


def test_scope_applies_r3_r8_r10_r11(ctx, pool):
    plan, batch = make_plan(n_enterprises=3, sample=1, approve=False, include_focus="1")
    gone = make_enterprise(name="已注销", status="deregistered")
    key = make_enterprise(name="重点", key_supervision="1")
    focus = make_enterprise(name="信用风险高", high_credit_risk="1")
    twice = make_enterprise(name="两次")
    for _ in range(2):  # two random tasks this year already
        db.session.add(Task(batch_id=batch.id, draw_pk=_dummy_draw(batch).id, enterprise_id=twice.id, uscc=twice.uscc,
                            enterprise={}, items=[], checklists=[], method="onsite", start_date=batch.window_start,
                            due_date=batch.window_end, publication_days=20))
    db.session.commit()
    sc = scope(batch, Universe(plan.year))
    mandatory = {u.uscc: r for u, r in sc.mandatory}
    excluded = {u.uscc: r for u, r in sc.excluded}
    assert excluded[gone.uscc] == REASON_R3["deregistered"]
    assert excluded[twice.uscc] == REASON_R10
    assert mandatory[key.uscc] == REASON_R8  # one batch: every key unit falls in it
    assert mandatory[focus.uscc] == REASON_R11
    pooled = {u.uscc for u, _s in sc.pool}
    assert not pooled & (set(mandatory) | set(excluded))


def _dummy_draw(batch):
    d = db.session.scalar(select(Draw).where(Draw.draw_id == "dummy"))
    if d is None:
        d = Draw(batch=batch, seq=99, draw_id="dummy", state="withdrawn", beacon_ref="x", beacon_at=utcnow())
        db.session.add(d)
        db.session.flush()
    return d


def test_a_change_to_an_approved_plan_is_recorded_with_its_deadline(ctx, pool):
    plan, _batch = make_plan()
    save_plan({"title": plan.title + "（调整）", "year": str(plan.year), "publication_days": "10"}, plan)
    change = plan.changes[-1]
    assert change.summary and change.publish_due > change.at.date()
    assert plan.publication_days == 10


# --- commit and reveal ---------------------------------------------------------------------

def test_commitment_binds_the_stored_files_and_is_logged_with_the_audit_head(ctx, pool):
    _plan, batch = make_plan()
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    assert draw.commitment == V.commitment(draw.draw_id, draw.file_bytes(), draw.beacon_ref)
    assert draw.audit_head and audit_verify().ok
    rules = json.loads(draw.file_bytes()["rules.json"])
    assert rules["sample_size"] == 3 and rules["group_size"] == 2 and rules["required_competences"] == {"default": ["危化"]}
    with pytest.raises(ServiceError):  # one live draw per batch
        ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})


def test_a_beacon_that_already_exists_is_refused(ctx, pool):
    _plan, batch = make_plan()
    past_round = ceremony.drand_round_at(utcnow() - timedelta(minutes=1))
    with pytest.raises(ServiceError) as refused:
        ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(past_round)})
    assert refused.value.field == "beacon_kind"
    assert batch.draws == []


def test_a_beacon_value_before_its_time_is_refused(ctx, pool):
    _plan, batch = make_plan()
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    with pytest.raises(ServiceError) as refused:
        ceremony.reveal(draw, BEACON)
    assert refused.value.field == "beacon_value" and draw.state == "committed"


def test_lottery_numbers_are_normalised_as_the_spec_says():
    draw = Draw(drand_round=None, beacon_ref="福彩双色球 2026137期")
    assert ceremony.normalise_beacon(draw, "27 3 31 09 14 22 8") == "3.9.14.22.27.31.8"
    with pytest.raises(ServiceError):
        ceremony.normalise_beacon(draw, "1 1 2 3 4 5 6")  # red balls repeat
    assert ceremony.normalise_beacon(Draw(drand_round=5, beacon_ref="drand"), "AB" * 32) == "ab" * 32


def test_reveal_dispatches_tasks_with_everything_frozen(ctx, pool):
    _plan, batch, draw = make_drawn()
    tasks = db.session.scalars(select(Task).where(Task.draw_pk == draw.id)).all()
    assert sorted(t.uscc for t in tasks) == draw.result["selected"]
    task = tasks[0]
    assert task.status == "dispatched" and len(task.active_members) == 2
    assert task.items[0]["code"] == "GM-GEN-01" and task.items[0]["version"] == 1
    assert task.checklists[0]["code"] == "test-list" and task.checklists[0]["version"] == "1"
    assert task.enterprise["name"].startswith("示例企业") and task.due_date == batch.window_end
    # Frozen: renaming the enterprise later leaves the task's copy alone.
    e = db.session.get(Enterprise, task.enterprise_id)
    e.name = "改名"
    db.session.commit()
    assert db.session.get(Task, task.id).enterprise["name"] != "改名"


def test_an_inspector_sees_only_their_own_tasks(app, ctx, pool):
    _plan, _batch, draw = make_drawn()
    member = db.session.scalar(select(Task).where(Task.draw_pk == draw.id).order_by(Task.id))
    mine = member.active_members[0].inspector
    others = [i for i in pool if i.id not in {m.inspector_id for m in member.active_members}]
    make_user(R.INSPECTOR, "mine", inspector_id=mine.id)
    make_user(R.INSPECTOR, "other", inspector_id=others[0].id)
    client = app.test_client()
    client.post("/login", data={"username": "mine", "password": PASSWORD})
    assert client.get(f"/tasks/{member.id}").status_code == 200
    listing = client.get("/tasks/").get_data(as_text=True)
    visible = {t.enterprise["name"] for t in db.session.scalars(select(Task)) if
               any(m.inspector_id == mine.id for m in t.active_members)}
    assert all(name in listing for name in visible)
    partial = client.get("/tasks/?page=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and all(name in partial for name in visible)  # the pager swaps the list only
    client.post("/logout")
    client.post("/login", data={"username": "other", "password": PASSWORD})
    assert client.get(f"/tasks/{member.id}").status_code == 403  # not in that group


# --- substitutions and supersession ------------------------------------------------------------

def test_substitutions_follow_the_published_order_and_stay_verifiable(ctx, pool):
    _plan, _batch, draw = make_drawn(n_enterprises=8, sample=3)
    task_uscc = draw.result["selected"][0]
    leaving = draw.result["groups"][task_uscc][0]
    sub = ceremony.substitute(draw, "inspector", task_uscc, leaving, "病假")
    assert sub.in_ and sub.in_ != leaving
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.uscc == task_uscc))
    active = [m.inspector_id for m in task.active_members]
    assert draw.roster[leaving]["pk"] not in active and draw.roster[sub.in_]["pk"] in active
    gone = draw.result["selected"][1]
    stratum = next(s for s, lst in draw.result["reserve"].items() if lst)
    ent_sub = ceremony.substitute(draw, "enterprise", gone, "", "已搬离辖区")
    assert ent_sub.in_ == draw.result["reserve"][stratum][0]
    assert db.session.scalar(select(Task.status).where(Task.draw_pk == draw.id, Task.uscc == gone)) == "cancelled"
    assert db.session.scalar(select(Task.status).where(Task.uscc == ent_sub.in_)) == "dispatched"
    report = _verify(_zip(draw))
    assert report.ok, report.failed
    assert "substitution 2 (enterprise " + gone + ")" in report.checks


def test_supersession_needs_a_second_person_and_keeps_the_old_draw_public(app, ctx, pool):
    _plan, batch, old = make_drawn()
    lead = make_user(R.BRIGADE_LEAD, "lead1")
    other = make_user(R.ADMIN, "office1")
    later = str(ceremony.drand_round_at(old.beacon_at + timedelta(minutes=30)))
    with pytest.raises(ServiceError):
        ceremony.request_supersede(batch, {"reason": "x", "beacon_kind": "drand", "drand_round": later}, lead.id)
    proposed = ceremony.request_supersede(batch, {"reason": "抽取时企业库未更新注销企业", "beacon_kind": "drand",
                                                  "drand_round": later}, lead.id)
    with pytest.raises(ServiceError):
        ceremony.approve_supersede(proposed, lead.id)  # the same person cannot approve
    new = ceremony.approve_supersede(proposed, other.id)
    assert new.state == "committed" and old.state == "superseded" and new.supersedes_id == old.id
    assert all(t.status == "cancelled" for t in db.session.scalars(select(Task).where(Task.draw_pk == old.id)))
    client = app.test_client()
    page = client.get(f"/public/draws/{new.draw_id}").get_data(as_text=True)
    assert new.commitment in page and old.draw_id in page and "抽取时企业库未更新注销企业" in page
    assert client.get(f"/public/draws/{old.draw_id}").status_code == 200


# --- export and verification -----------------------------------------------------------------

TAMPERS = {
    "selected": lambda e: _edit_draw(e, lambda d: d["selected"].__setitem__(0, d["reserve"][next(iter(d["reserve"]))][0])),
    "groups": lambda e: _edit_draw(e, lambda d: d["groups"][next(iter(d["groups"]))].reverse()),
    "seed": lambda e: _edit_draw(e, lambda d: d.__setitem__("seed", "0" * 64)),
    "commitment": lambda e: e.__setitem__("pool.csv", e["pool.csv"].replace(b"140525100", b"140525101", 1)),
    "format of inspectors.csv": lambda e: e.__setitem__("inspectors.csv", e["inspectors.csv"] + b"P00000,1,1,\n"),
}


def _edit_draw(entries, change):
    data = json.loads(entries["draw.json"])
    change(data)
    entries["draw.json"] = json.dumps(data, ensure_ascii=False).encode()


@pytest.mark.parametrize("check", sorted(TAMPERS))
def test_verifier_names_the_first_failing_check(ctx, pool, check):
    _plan, _batch, draw = make_drawn(n_enterprises=8, sample=3)
    entries = _zip(draw)
    assert _verify(entries).ok
    TAMPERS[check](entries)
    report = _verify(entries)
    assert not report.ok and report.failed.check == check


def test_cli_export_and_the_standalone_script(app, ctx, pool, tmp_path):
    make_drawn(n_enterprises=8, sample=3)
    out = tmp_path / "latest.zip"
    result = app.test_cli_runner().invoke(args=["draw", "export", "latest", str(out)])
    assert result.exit_code == 0, result.output
    ok = subprocess.run([sys.executable, "-I", str(VERIFIER), str(out)], capture_output=True, text=True)
    assert ok.returncode == 0 and "PASS" in ok.stdout
    with zipfile.ZipFile(out) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["recusals.csv"] = entries["recusals.csv"] + b"P00001,X\n"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    failed = subprocess.run([sys.executable, "-I", str(VERIFIER), str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1 and "FAIL commitment" in failed.stdout


# --- drand fetch, against a local stand-in ---------------------------------------------------------

class _Drand(BaseHTTPRequestHandler):
    signature = bytes(range(48))
    lie = False

    def do_GET(self):  # noqa: N802
        round_no = int(self.path.rsplit("/", 1)[-1])
        randomness = "00" * 32 if self.lie else V.H_bytes(self.signature)
        body = json.dumps({"round": round_no, "randomness": randomness, "signature": self.signature.hex()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def drand_server(app):
    server = HTTPServer(("127.0.0.1", 0), _Drand)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = app.config["DRAND_URL"]
    app.config["DRAND_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield _Drand
    app.config["DRAND_URL"] = old
    _Drand.lie = False
    server.shutdown()
    server.server_close()


def test_reveal_fetches_the_committed_drand_round(ctx, pool, drand_server):
    _plan, batch = make_plan()
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    pass_beacon_time(draw)
    drand_server.lie = True
    with pytest.raises(ServiceError):  # randomness must be H(signature)
        ceremony.reveal(draw, fetch=True)
    drand_server.lie = False
    ceremony.reveal(draw, fetch=True)
    assert draw.beacon_value == V.H_bytes(_Drand.signature) and draw.state == "drawn"


# --- public pages --------------------------------------------------------------------------------

def test_public_sees_the_commitment_at_once_and_the_rest_when_published(app, ctx, pool):
    _plan, _batch, draw = make_drawn()
    client = app.test_client()
    page = client.get(f"/public/draws/{draw.draw_id}").get_data(as_text=True)
    assert draw.commitment in page and draw.beacon_value not in page
    assert client.get(f"/public/draws/{draw.draw_id}/export.zip").status_code == 404
    feed = client.get("/public/draws.json").get_json()
    assert feed["items"][0]["_ssj"]["commitment"] == draw.commitment
    ceremony.publish_draw(draw)
    member = db.session.get(Inspector, next(iter(draw.roster.values()))["pk"])
    member.phone = "13912345678"
    db.session.commit()
    page = client.get(f"/public/draws/{draw.draw_id}").get_data(as_text=True)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id))
    assert draw.beacon_value in page and task.uscc in page and task.enterprise["name"] in page
    names_shown = [p["name"] for p in draw.roster.values() if p["name"] in page]
    assert names_shown and member.phone not in page and task.enterprise["phone"] not in page
    assert client.get(f"/public/draws/{draw.draw_id}/export.zip").status_code == 200
    assert client.get("/public/verify_draw.py").data == VERIFIER.read_bytes()


def test_the_ceremony_on_the_command_line(app, ctx, pool, tmp_path):
    _plan, batch = make_plan(n_enterprises=8, sample=3)
    cli = app.test_cli_runner()
    past = ceremony.drand_round_at(utcnow() - timedelta(minutes=5))
    refused = cli.invoke(args=["draw", "commit", str(batch.id), "--drand-round", str(past)])
    assert refused.exit_code == 1
    done = cli.invoke(args=["draw", "commit", str(batch.id), "--drand-round", str(ceremony.suggest_drand_round())])
    assert done.exit_code == 0 and batch.live_draw.commitment in done.output
    early = cli.invoke(args=["draw", "reveal", str(batch.id), "--value", BEACON])
    assert early.exit_code == 1 and batch.live_draw.state == "committed"
    pass_beacon_time(batch.live_draw)
    assert cli.invoke(args=["draw", "reveal", str(batch.id), "--value", BEACON]).exit_code == 0
    draw = batch.live_draw
    task = draw.result["selected"][0]
    sub = cli.invoke(args=["draw", "substitute", str(batch.id), "inspector", task, "--out",
                           draw.result["groups"][task][0], "--reason", "出差"])
    assert sub.exit_code == 0, sub.output
    assert cli.invoke(args=["draw", "publish", str(batch.id)]).exit_code == 0
    out = tmp_path / "b.zip"
    assert cli.invoke(args=["draw", "export", str(batch.id), str(out)]).exit_code == 0
    checked = cli.invoke(args=["draw", "verify", str(out)])
    assert checked.exit_code == 0 and "PASS" in checked.output


def test_tasks_check_the_item_versions_that_were_committed(ctx, pool):
    from webapp.registries.models import Department, InspectionItem
    from webapp.registries.services import save_item_version

    _plan, batch = make_plan()
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    item = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "GM-GEN-01"))
    dept = db.session.scalar(select(Department).order_by(Department.id))
    save_item_version({"name": "修订后的名称", "department_id": str(dept.id), "legal_basis": "第一条",
                       "content": "修订", "method": "onsite", "is_random": "1", "valid_from": "2026-01-01"}, item)
    assert item.latest_version == 2
    pass_beacon_time(draw)
    ceremony.reveal(draw, BEACON)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id))
    assert task.items[0]["version"] == 1 and task.items[0]["name"] != "修订后的名称"
