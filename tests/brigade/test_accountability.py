"""Accountability (R24, issue #13 point 4): each failure the record shows, and nothing else, counted for the
people who held the task; the duty record of a task; the office and the brigade lead only; every view audited
once and nothing else written."""
import re
import uuid as uuidlib
from datetime import timedelta

import pytest
from flask import current_app
from flask_login import login_user
from sqlalchemy import event, func, select

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.brigade import accountability as A
from webapp.db_types import today_shanghai, utcnow
from webapp.extensions import db
from webapp.publication.services import publish
from webapp.review import services
from webapp.review.models import Hazard
from webapp.sync.services import sync
from webapp.tasks.models import Task, TaskMember
from tests.factories import login, make_drawn, make_hazard, make_inspector, make_user, member_user


def rec(task, kind, data, when=None):
    return {"uuid": str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": 0,
            "device_time": when or utcnow().isoformat(), "data": data}


def _as(user):
    """A request signed in as ``user`` (pop it when done)."""
    request = current_app.test_request_context()
    request.push()
    login_user(user)
    return request


@pytest.fixture
def world(ctx):
    """Three tasks of one batch: A overdue (one member replaced), B returned twice, published late, with
    hazards in every escalation situation; C done by the book."""
    for k in range(6):
        make_inspector(name=f"检查员{k}")
    plan, batch, draw = make_drawn(n_enterprises=6, sample=3)
    a, b, c = db.session.scalars(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched")
                                 .order_by(Task.id)).all()
    office = make_user(R.ADMIN, "office")
    brigade = make_user(R.BRIGADE_LEAD, "brigade")
    office.display_name, brigade.display_name = "王主任", "李队长"
    today = today_shanghai()

    # A: the window ended five days ago, nothing submitted. Its first member was replaced (not at fault).
    a.start_date, a.due_date = today - timedelta(days=35), today - timedelta(days=5)
    left = a.active_members[0]
    left.active, left.left_reason = False, "病假"
    newcomer = make_inspector(name="接替者")
    a.members.append(TaskMember(inspector_id=newcomer.id, position=9))
    db.session.commit()

    # B: submitted, returned twice, approved, published after its R20 deadline; hazards.
    phone_b = member_user(b, 0, "phone-b")
    h_overdue = make_hazard(b, phone_b, deadline=(today - timedelta(days=30)).isoformat(), description="逾期未升级")
    h_late = make_hazard(b, phone_b, deadline=(today - timedelta(days=30)).isoformat(), description="升级太晚")
    h_grace = make_hazard(b, phone_b, deadline=(today - timedelta(days=3)).isoformat(), description="宽限期内")
    h_case = make_hazard(b, phone_b, deadline=(today + timedelta(days=30)).isoformat(), description="复查未整改")
    h_filed = make_hazard(b, phone_b, deadline=(today + timedelta(days=30)).isoformat(), description="已立案")
    assert sync(phone_b, [rec(b, "outcome", {"outcome": "completed"})])["rejected"] == []
    db.session.refresh(b)
    # The brigade lead's steps run as a signed-in request does, so the trail names who took them.
    signed_in = _as(brigade)
    services.return_for_correction(b, brigade, "照片不清楚")
    b.review_state = "submitted"
    db.session.commit()
    services.return_for_correction(b, brigade, "缺签名")
    b.review_state = "submitted"
    db.session.commit()
    services.approve(b, brigade)
    b.completed_at = utcnow() - timedelta(days=60)  # ended two months ago: R20's 20 working days have passed
    db.session.commit()
    publish(b, "pending", brigade)
    services.escalate(h_late, "transfer", "市场监管局", "涉及其他部门", brigade)
    for h in (h_case, h_filed):
        h.status, h.rectified = "awaiting_review", False  # the re-inspection found it not rectified
    db.session.commit()
    services.escalate(h_filed, "case", "", "逾期未整改，立案", brigade)

    signed_in.pop()
    # C: checked in on site, signed, submitted in the window, approved and published at once.
    c.enterprise = {**c.enterprise, "lat": 39.80, "lng": 109.98}
    db.session.commit()
    phone_c = member_user(c, 0, "phone-c")
    assert sync(phone_c, [rec(c, "checkin", {"lat": 39.801, "lng": 109.98, "accuracy_m": 12}),
                          rec(c, "signature", {"role": "inspector", "inspector_id": c.active_members[0].inspector_id,
                                               "refused": True}),
                          rec(c, "outcome", {"outcome": "completed"})])["rejected"] == []
    db.session.refresh(c)
    signed_in = _as(brigade)
    services.approve(c, brigade)
    publish(c, "no_problem", brigade)
    signed_in.pop()
    return {"plan": plan, "batch": batch, "a": a, "b": b, "c": c, "left": left.inspector_id,
            "newcomer": newcomer.id, "office": office, "brigade": brigade,
            "hazards": {"overdue": h_overdue.id, "late": h_late.id, "grace": h_grace.id, "case": h_case.id,
                        "filed": h_filed.id}}


def test_each_failure_and_nothing_else(world):
    year = world["plan"].year
    found = A.facts(year, world["batch"].id)
    a, b, c, h = world["a"].id, world["b"].id, world["c"].id, world["hazards"]
    assert set(found.tasks["late"]) == {a}
    assert found.tasks["returned"] == {b: {"times": 2, "last": found.tasks["returned"][b]["last"]}}
    assert set(found.tasks["unpublished"]) == {b}
    assert set(found.hazards["escalation"]) == {h["overdue"], h["late"]}
    assert found.hazards["escalation"][h["late"]][1]["escalated"] is not None
    assert found.hazards["escalation"][h["overdue"]][1]["escalated"] is None
    assert set(found.hazards["case"]) == {h["case"]}
    assert c not in found.task_ids("late") | found.task_ids("returned") | found.task_ids("unpublished")

    data = A.overview(year, world["batch"].id)
    assert data["totals"] == {"late": 1, "returned": 2, "unpublished": 1, "escalation": 2, "case": 1}
    people = {r["id"]: r for r in data["inspectors"]}
    assert world["left"] not in people or people[world["left"]]["counts"]["late"] == 0  # replaced: not blamed
    assert people[world["newcomer"]]["counts"]["late"] == 1
    for m in world["b"].active_members:
        assert people[m.inspector_id]["counts"] == {"late": 0, "returned": 2, "unpublished": 1, "escalation": 2,
                                                    "case": 1}
    for m in world["c"].active_members:
        assert sum(people[m.inspector_id]["counts"].values()) == 0
    groups = {g["key"]: g for g in data["groups"]}
    key_a = A.group_key(m.inspector_id for m in world["a"].active_members)
    assert world["newcomer"] in [int(k) for k in key_a.split("-")] and str(world["left"]) not in key_a.split("-")
    assert groups[key_a]["counts"]["late"] == 1 and groups[key_a]["tasks"] == 1
    assert data["groups"][0]["counts"]["returned"] == 2  # most failures first

    # The list behind a count: one inspector's, one group's, everyone's.
    rows, total = A.details(year, world["batch"].id, "late", inspector_id=world["newcomer"])
    assert [r["task"].id for r in rows] == [a] and total == 1
    assert A.details(year, world["batch"].id, "late", inspector_id=world["left"]) == ([], 0)
    rows, total = A.details(year, None, "case", group=A.group_key(m.inspector_id for m in world["b"].active_members))
    assert [r["hazard"].id for r in rows] == [h["case"]] and total == 1
    rows, total = A.details(year, None, "escalation", limit=1)  # a long list shows its first rows and says so
    assert len(rows) == 1 and total == 2
    # Another year has none of it.
    assert sum(A.overview(year - 1)["totals"].values()) == 0


def test_the_duty_record_shows_evidence_and_what_is_missing(world, app):
    c = world["c"]
    steps = {s["key"]: s for s in A.duty(c)["steps"]}
    assert steps["checkin"]["done"] and 100 < steps["checkin"]["checkins"][0]["distance"] < 120
    assert steps["checkin"]["checkins"][0]["received_at"] is not None
    assert steps["submitted"]["done"] and steps["submitted"]["on_time"]
    assert [r["action"] for r in steps["reviewed"]["reviews"]] == ["approve"]
    assert steps["published"]["done"] and steps["published"]["on_time"]
    a_steps = {s["key"]: s for s in A.duty(world["a"])["steps"]}
    assert not a_steps["checkin"]["done"] and not a_steps["submitted"]["done"] and not a_steps["signed"]["done"]
    b_steps = {s["key"]: s for s in A.duty(world["b"])["steps"]}
    assert [r["action"] for r in b_steps["reviewed"]["reviews"]] == ["return", "return", "approve"]
    assert b_steps["published"]["on_time"] is False

    client = app.test_client()
    login(client, "brigade")
    page = client.get(f"/brigade/tasks/{c.id}/duty").get_data(as_text=True)
    assert 'data-step="checkin" data-done="yes"' in page and re.search(r"111 (米|m)", page)
    page = client.get(f"/brigade/tasks/{world['a'].id}/duty").get_data(as_text=True)
    assert 'data-step="checkin" data-done="no"' in page and "病假" in page
    assert "缺" in page or "Missing" in page


def _writes(app):
    seen = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"^\s*(INSERT|UPDATE|DELETE)\b", statement, re.I):
            seen.append(statement.split("\n")[0][:60])
    return seen, listen


@pytest.mark.parametrize("role", [R.ADMIN, R.BRIGADE_LEAD])
def test_each_view_leaves_one_audit_entry_and_nothing_else(world, app, role):
    user = world["office"] if role == R.ADMIN else world["brigade"]
    client = app.test_client()
    login(client, user.username)
    year, batch = world["plan"].year, world["batch"].id
    urls = [f"/brigade/accountability?year={year}", f"/brigade/accountability?year={year}&batch={batch}",
            f"/brigade/accountability?year={year}&metric=late&inspector={world['newcomer']}",
            f"/brigade/tasks/{world['b'].id}/duty"]
    engine = db.engine
    for url in urls:
        seen, listen = _writes(app)
        before = db.session.scalar(select(func.max(AuditEntry.id)))
        event.listen(engine, "before_cursor_execute", listen)
        try:
            resp = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        assert resp.status_code == 200, url
        db.session.expire_all()
        new = db.session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
        assert len(new) == 1, url
        assert new[0].actor_id == user.id and new[0].action.startswith("accountability.")
        assert [s.split()[0:3] for s in seen] == [["UPDATE", "audit_head", "SET"], ["INSERT", "INTO", "audit_entry"],
                                                 ["UPDATE", "audit_head", "SET"]], (url, seen)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("accountability.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_type, e.object_id) for e in entries] == [
        ("accountability.view", "accountability", str(year)),
        ("accountability.view", "accountability", f"{year}/{batch}"),
        ("accountability.view", "accountability", str(year)),
        ("accountability.duty_view", "task", str(world["b"].id))]
    assert f'"inspector_id":{world["newcomer"]}' in entries[2].after


@pytest.mark.parametrize("role", [R.TEAM_LEAD, R.INSPECTOR])
def test_team_leads_and_inspectors_are_refused_and_nothing_is_recorded(world, app, role):
    from webapp.registries.models import Department
    dept = db.session.scalar(select(Department.id).where(Department.name == "综合行政执法大队"))
    make_user(role, f"x-{role}", **({"department_id": dept} if role == R.TEAM_LEAD else {}))
    client = app.test_client()
    login(client, f"x-{role}")
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert client.get("/brigade/accountability").status_code == 403
    assert client.get(f"/brigade/tasks/{world['a'].id}/duty").status_code == 403
    task_page = client.get(f"/tasks/{world['a'].id}")
    assert task_page.status_code in (200, 403) and "data-duty-record" not in task_page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_pages_in_chinese_with_links_behind_each_count(world, app):
    client = app.test_client()
    login(client, "office")
    year, batch = world["plan"].year, world["batch"].id
    page = client.get(f"/brigade/accountability?year={year}&batch={batch}").get_data(as_text=True)
    assert "R24" not in page and "R18" not in page and "R20" not in page
    links = re.findall(r'href="(/brigade/accountability\?[^"]*metric=late[^"]*)"', page)
    assert any(f"inspector={world['newcomer']}" in u and f"batch={batch}" in u for u in links), links
    assert not any(f"inspector={world['left']}" in u for u in links)
    # Follow the escalation count: the two hazards, linked.
    page = client.get(f"/brigade/accountability?year={year}&batch={batch}&metric=escalation").get_data(as_text=True)
    for key in ("overdue", "late"):
        assert f'data-hazard="{world["hazards"][key]}"' in page
        assert f'/hazards/{world["hazards"][key]}' in page
    assert f'data-hazard="{world["hazards"]["grace"]}"' not in page
    # The task page links its duty record for the office (and the brigade lead).
    assert f'href="/brigade/tasks/{world["b"].id}/duty" data-duty-record' in client.get(
        f"/tasks/{world['b'].id}").get_data(as_text=True)
    page = client.get(f"/brigade/accountability?year={year}&metric=returned").get_data(as_text=True)
    assert f'data-task="{world["b"].id}"' in page and f"/brigade/tasks/{world['b'].id}/duty" in page
    assert f'data-task="{world["c"].id}"' not in page


@pytest.mark.parametrize("query", ["year=abc", "year=2026&batch=999999", "metric=bogus", "metric=late&inspector=x",
                                   "metric=late&group=1-x", "metric=case&group=999999-999998",
                                   "metric=case&group=99999999999999999999-1", "year=99999999999999"])
def test_bad_input_is_a_clear_message(world, app, query):
    client = app.test_client()
    login(client, "brigade")
    resp = client.get(f"/brigade/accountability?{query}")
    assert resp.status_code == 200
    assert 'class="flash error"' in resp.get_data(as_text=True)


def test_queries_do_not_grow_with_the_tasks(world, app):
    """Set-based: the overview's statement count does not depend on how many tasks and hazards there are."""
    engine, year = db.engine, world["plan"].year

    def statements():
        seen = []

        def listen(*args):
            seen.append(1)
        event.listen(engine, "before_cursor_execute", listen)
        try:
            A.overview(year)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen)
    first = statements()
    phone = member_user(world["a"], 1, "phone-a")
    for k in range(5):
        make_hazard(world["a"], phone, deadline=(today_shanghai() - timedelta(days=40)).isoformat())
    world["c"].due_date = today_shanghai() - timedelta(days=1)
    db.session.commit()
    assert statements() == first


def test_overview_lists_those_with_failures_and_names_the_cleared(world, app):
    """On a phone every inspector's card made the demo's overview ~35,000 px tall: by default the rows are
    those with a failure; those who followed the list are named (cleared, R24 照单免责) in one compact list;
    ``all=1`` shows everyone's row. The totals and the summary stay at the top either way."""
    client = app.test_client()
    login(client, "office")
    year, batch = world["plan"].year, world["batch"].id
    clean = {m.inspector_id for m in world["c"].active_members}
    failing = {m.inspector_id for m in world["b"].active_members} | {world["newcomer"]}
    assert clean and not clean & failing
    page = client.get(f"/brigade/accountability?year={year}&batch={batch}").get_data(as_text=True)
    rows = {int(i) for i in re.findall(r'data-inspector="(\d+)"', page)}
    assert failing <= rows and not rows & clean, (rows, clean)
    cleared = page[page.index("data-acc-clean"):]
    for iid in clean:
        assert A.inspector_name(iid) in cleared
    assert "data-acc-summary" in page and page.index("data-acc-summary") < page.index('id="inspectors"')
    assert f"/brigade/accountability?year={year}&amp;batch={batch}&amp;all=1" in page \
        or f"/brigade/accountability?all=1&amp;year={year}&amp;batch={batch}" in page
    everyone = client.get(f"/brigade/accountability?year={year}&batch={batch}&all=1").get_data(as_text=True)
    rows = {int(i) for i in re.findall(r'data-inspector="(\d+)"', everyone)}
    assert failing | clean <= rows
    assert "data-acc-clean" not in everyone
