"""After the sync: the team lead's review, the hazard register and re-inspection (issue #5 §1, §2, §4)."""
import uuid as uuidlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.db_types import today_shanghai
from webapp.extensions import db
from webapp.registries.models import Department
from webapp.review import services
from webapp.review.models import Hazard
from webapp.services import ServiceError
from webapp.sync.services import sync, tasks_for
from webapp.tasks.models import Task
from tests.factories import PASSWORD, login, make_drawn, make_hazard, make_inspector, make_user


@pytest.fixture
def field(ctx):
    for k in range(4):
        make_inspector(name=f"检查员{k}")
    _plan, _batch, draw = make_drawn(n_enterprises=6, sample=3)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched").order_by(Task.id))
    a, b = [m.inspector_id for m in task.active_members]
    brigade = db.session.scalar(select(Department).where(Department.name == "综合行政执法大队"))
    return {"task": task, "a": make_user(R.INSPECTOR, "phone-a", inspector_id=a),
            "b": make_user(R.INSPECTOR, "phone-b", inspector_id=b),
            "lead": make_user(R.TEAM_LEAD, "lead", department_id=brigade.id)}


def rec(task, kind, data, uid=None, base=0):
    return {"uuid": uid or str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": base,
            "device_time": "2026-11-23T10:00:00+08:00", "data": data}


def answer(task, question, result):
    checklist = task.checklists[0]
    return rec(task, "answer", {"question": question, "checklist": f"{checklist['code']}@{checklist['version']}",
                                "result": result, "photos": []})


def outcome(task, when="2026-11-23T11:00:00+08:00"):
    return rec(task, "outcome", {"outcome": "completed", "submitted_at": when})


def test_submit_settle_the_difference_then_approve(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    assert sync(b, [answer(task, "G-01", "no")])["rejected"] == []
    assert sync(a, [answer(task, "G-01", "yes"), outcome(task)])["rejected"] == []
    db.session.refresh(task)
    assert task.review_state == "submitted"
    with pytest.raises(ServiceError, match="不一致"):
        services.approve(task, lead)  # the two answers to G-01 must be settled first
    rows = services.conflicts_of(task.id)["G-01"]
    chosen = next(r for r in rows if r.data["result"] == "no")
    services.resolve_conflict(task, "G-01", chosen.uuid, lead)
    assert services.conflicts_of(task.id) == {}
    kept = [r for r in rows if r is not chosen][0]
    assert kept.superseded and not kept.conflict  # set aside, still on record
    services.approve(task, lead)
    assert task.review_state == "approved" and task.reviewed_by == lead.id
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "task",
                                                                 AuditEntry.object_id == str(task.id))).all()
    assert {"task.submit", "answer.resolve", "task.approve"} <= set(actions)


def test_a_settled_question_stays_settled_until_a_phone_changes_it(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    first = answer(task, "G-02", "yes")
    sync(a, [first])
    sync(b, [answer(task, "G-02", "na")])
    services.resolve_conflict(task, "G-02", first["uuid"], lead)
    sync(a, [answer(task, "G-03", "yes")])  # more work on the task does not reopen it
    assert services.conflicts_of(task.id) == {}


def test_returned_for_correction_reaches_the_phone_and_resubmission_submits_again(field):
    task, a, lead = field["task"], field["a"], field["lead"]
    first = outcome(task)
    sync(a, [answer(task, "G-01", "yes"), first])
    with pytest.raises(ServiceError):
        services.return_for_correction(task, lead, "  ")  # a return needs its reason
    services.return_for_correction(task, lead, "G-01 缺少现场照片")
    phone = next(t for t in tasks_for(a)["tasks"] if t["id"] == task.id)
    assert phone["review"] == {"state": "returned", "comment": "G-01 缺少现场照片", "published": False}
    again = {**first, "base_revision": 1, "data": {**first["data"], "submitted_at": "2026-11-24T09:00:00+08:00"}}
    assert sync(a, [again])["accepted"][0]["revision"] == 2
    db.session.refresh(task)
    assert task.review_state == "submitted"


def test_hazard_register_reinspection_and_closure(field):
    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a, grade="major", description="液氨储罐未设置泄漏报警")
    assert (hazard.status, hazard.grade, hazard.enterprise_name) == ("pending", "major", task.enterprise["name"])
    other = make_hazard(task, a, description="疏散指示标志损坏")
    sync(a, [outcome(task)])
    with pytest.raises(ServiceError):
        services.schedule_reinspection(task, lead)  # not approved yet
    services.approve(task, lead)
    again = services.schedule_reinspection(task, lead)
    assert again.kind == "reinspection" and again.origin_task_id == task.id
    assert [m.inspector_id for m in again.active_members] == [m.inspector_id for m in task.active_members]
    assert again.due_date == today_shanghai() + timedelta(days=10)
    assert {hazard.status, other.status} == {"awaiting_review"}
    # The phone downloads the re-inspection with the hazards it covers.
    phone = next(t for t in tasks_for(a)["tasks"] if t["id"] == again.id)
    assert {h["uuid"] for h in phone["hazards"]} == {hazard.record_uuid, other.record_uuid}
    # A closure for a hazard the re-inspection does not cover is refused; the covered ones are taken.
    from webapp.auth.models import User
    elsewhere = db.session.scalar(select(Task).where(Task.draw_pk == task.draw_pk, Task.id != task.id,
                                                     Task.status == "dispatched").order_by(Task.id))
    someone = elsewhere.active_members[0].inspector_id
    stray = make_hazard(elsewhere, db.session.scalar(select(User).where(User.inspector_id == someone))
                        or make_user(R.INSPECTOR, "phone-c", inspector_id=someone), description="另一隐患")
    out = sync(a, [rec(again, "closure", {"hazard": stray.record_uuid, "rectified": True, "photos": []}),
                   rec(again, "closure", {"hazard": hazard.record_uuid, "rectified": True, "note": "已安装", "photos": []}),
                   rec(again, "closure", {"hazard": other.record_uuid, "rectified": False, "photos": []})])
    assert len(out["accepted"]) == 2 and "复查" in str(out["rejected"][0]["errors"])
    assert hazard.rectified is True and other.rectified is False
    with pytest.raises(ServiceError):
        services.close_hazard(hazard, lead)  # not before the re-inspection is submitted (issue #11)
    sync(a, [outcome(again)])
    # 销号 needs the team lead; an unrectified hazard cannot be closed, it is kept open with a reason.
    services.close_hazard(hazard, lead)
    assert hazard.status == "closed" and hazard.closed_by == lead.id
    with pytest.raises(ServiceError):
        services.close_hazard(other, lead)
    services.keep_open(other, lead, "现场仍未整改")
    assert other.status == "rectifying" and other.closure_uuid is None
    history = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == hazard.record_uuid)).all()
    assert {"hazard.create", "hazard.closure", "hazard.close"} <= set(history)


def test_a_team_lead_reviews_only_their_own_departments_groups(field, app):
    task, a = field["task"], field["a"]
    make_hazard(task, a)
    other = Department(name="市场监管局", kind="other_bureau")
    db.session.add(other)
    db.session.commit()
    make_user(R.TEAM_LEAD, "elsewhere", department_id=other.id)
    client = app.test_client()
    login(client, "elsewhere", PASSWORD)
    assert client.get(f"/review/{task.id}").status_code == 403
    assert client.post(f"/review/{task.id}/approve").status_code == 403
    assert task.enterprise["name"] not in client.get("/hazards/").get_data(as_text=True)
    hazard = db.session.scalar(select(Hazard))
    assert client.post(f"/hazards/{hazard.id}/close").status_code == 403
    own = app.test_client()
    login(own, "lead", PASSWORD)
    page = own.get("/hazards/").get_data(as_text=True)
    assert task.enterprise["name"] in page and "待整改" in page


def test_a_major_hazard_gets_a_plan_supervision_an_extension_and_escalation(field):
    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a, grade="major", deadline="2026-12-20", description="液氨储罐无泄漏报警")
    general = make_hazard(task, a)
    plan = {"goal": "消除泄漏风险", "measures": "安装报警与联锁", "funds": "12万元", "people": "设备科 张工",
            "deadline": "2026-12-15", "safety": "停用2号罐，专人值守"}
    with pytest.raises(ServiceError):
        services.save_plan(hazard, {**plan, "funds": ""}, lead)  # every part of the plan
    with pytest.raises(ServiceError):
        services.save_plan(general, plan, lead)  # a plan is for a major hazard
    services.save_plan(hazard, plan, lead)
    services.supervise(hazard, "市应急管理局", lead)
    with pytest.raises(ServiceError):
        services.extend_deadline(hazard, "2026-12-10", "设备到货延迟", lead)  # not later
    with pytest.raises(ServiceError):
        services.extend_deadline(hazard, "2027-01-20", "", lead)  # a reason
    services.extend_deadline(hazard, "2027-01-20", "设备到货延迟", lead)
    services.escalate(hazard, "transfer", "县市场监管局", "涉及特种设备", lead)
    assert hazard.plan == plan and hazard.supervised_by == "市应急管理局" and hazard.escalation == "transfer"
    assert str(hazard.deadline) == "2027-01-20"
    from webapp.review.models import HazardEvent
    kinds = db.session.scalars(select(HazardEvent.kind).where(HazardEvent.hazard_id == hazard.id)
                               .order_by(HazardEvent.id)).all()
    assert kinds == ["plan", "supervise", "extend", "escalate"]
    audited = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == hazard.record_uuid)).all()
    assert {"hazard.plan", "hazard.supervise", "hazard.extend", "hazard.escalate"} <= set(audited)


def test_a_passed_deadline_schedules_the_reinspection_once(field, app):
    from datetime import date

    task, a, lead = field["task"], field["a"], field["lead"]
    make_hazard(task, a, deadline="2026-11-30")
    sync(a, [outcome(task)])
    services.approve(task, lead)
    assert services.schedule_due_reinspections(None, today=date(2026, 11, 30)) == []  # not passed yet
    made = services.schedule_due_reinspections(None, today=date(2026, 12, 1))
    assert [t.origin_task_id for t in made] == [task.id]
    assert services.schedule_due_reinspections(None, today=date(2026, 12, 2)) == []  # once
    result = app.test_cli_runner().invoke(args=["hazards", "due"])  # the daily run
    assert result.exit_code == 0 and "0 re-inspection(s) scheduled" in result.output


def test_the_phone_gets_the_enterprises_previous_findings(field):
    task, a = field["task"], field["a"]
    make_hazard(task, a, description="上次发现：消防通道堵塞")
    # A later inspection of the same enterprise (a re-inspection here) carries the earlier finding.
    sync(a, [outcome(task)])
    services.approve(task, field["lead"])
    again = services.schedule_reinspection(task, field["lead"])
    phone = next(t for t in tasks_for(a)["tasks"] if t["id"] == again.id)
    assert [p["description"] for p in phone["previous"]] == ["上次发现：消防通道堵塞"]
    first = next(t for t in tasks_for(a)["tasks"] if t["id"] == task.id)
    assert first["previous"] == []  # its own hazards are not "previous"


def test_overdue_means_open_and_past_its_deadline(field):
    from datetime import date

    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a, deadline="2026-12-20")
    assert not hazard.overdue_on(date(2026, 12, 20)) and hazard.overdue_on(date(2026, 12, 21))
    assert db.session.scalar(select(Hazard.id).where(Hazard.overdue_on(date(2026, 12, 21)))) == hazard.id
    assert task.overdue_on(task.due_date.replace(year=task.due_date.year + 1))  # window over, nothing sent
    sync(a, [outcome(task)])
    services.approve(task, lead)
    services.schedule_reinspection(task, lead)  # 待复查: the enterprise's part is done
    assert not hazard.overdue_on(date(2027, 6, 1)) and not hazard.is_open
    assert not task.overdue_on(task.due_date.replace(year=task.due_date.year + 1))  # submitted in time or not, done
