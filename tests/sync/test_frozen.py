"""Submitted and approved inspections are frozen against phone edits (issue #11 point 1), and nobody
reviews an inspection they took part in (issue #11 point 2)."""
import pytest
from sqlalchemy import select

from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.publication import services as publication
from webapp.review import services
from webapp.review.models import Hazard
from webapp.services import ServiceError
from webapp.sync.models import SyncRecord
from webapp.sync.services import sync
from webapp.tasks.models import TaskMember
from tests.factories import login
from tests.review.test_review import answer, field, outcome, rec  # noqa: F401  (field: fixture)


def hazard_rec(task, **data):
    return rec(task, "hazard", {"question": "G-01", "grade": "major", "description": "液氨储罐未设置泄漏报警",
                                "deadline": "2026-12-10", "photos": [], **data})


def test_an_approved_inspection_cannot_be_rewritten_from_a_phone(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    first, major = answer(task, "G-01", "no"), hazard_rec(task)
    assert len(sync(a, [first, major])["accepted"]) == 2
    sync(a, [outcome(task)])
    services.approve(task, lead)
    # The attack from the security review: the answer flipped and the major hazard made general, later.
    flipped = {**first, "base_revision": 1, "data": {**first["data"], "result": "yes"}}
    softened = {**major, "base_revision": 1, "data": {**major["data"], "grade": "general", "deadline": "2027-06-30"}}
    fresh = answer(task, "G-02", "yes")
    reply = sync(a, [flipped, softened, fresh])
    assert reply["accepted"] == [] and {r["uuid"] for r in reply["rejected"]} == {first["uuid"], major["uuid"], fresh["uuid"]}
    assert {r["frozen"] for r in reply["rejected"]} == {"approved"}
    assert all("审核通过" in r["errors"]["task"][0] for r in reply["rejected"])  # a reason the phone shows
    db.session.expire_all()
    assert db.session.get(SyncRecord, first["uuid"]).data["result"] == "no"
    hazard = db.session.scalar(select(Hazard).where(Hazard.record_uuid == major["uuid"]))
    assert (hazard.grade, hazard.deadline.isoformat()) == ("major", "2026-12-10")
    assert db.session.get(SyncRecord, fresh["uuid"]) is None
    assert task.review_state == "approved"
    # A resend of what the server already holds (its reply was lost) is still acknowledged.
    assert sync(a, [first])["accepted"][0]["duplicate"] is True
    # The refusals are on the audit trail, with what was sent.
    refused = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sync.refused")).all()
    assert len(refused) == 3 and '"grade":"general"' in "".join(e.after for e in refused)


def test_a_former_member_cannot_change_an_approved_inspection_either(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    sync(a, [outcome(task)])
    services.approve(task, lead)
    member = db.session.scalar(select(TaskMember).where(TaskMember.task_id == task.id,
                                                        TaskMember.inspector_id == b.inspector_id))
    member.active = False
    db.session.commit()
    reply = sync(b, [answer(task, "G-03", "no")])
    assert reply["rejected"][0]["frozen"] == "approved"


def test_submitted_is_frozen_until_returned_then_the_phone_sends_again(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    sync(a, [answer(task, "G-01", "yes"), outcome(task)])
    late = answer(task, "G-02", "no")
    reply = sync(b, [late])
    assert reply["rejected"][0]["frozen"] == "submitted" and "退回" in reply["rejected"][0]["errors"]["task"][0]
    assert [c["uuid"] for c in services.refused_changes(task.id)] == [late["uuid"]]
    services.return_for_correction(task, lead, "补充G-02")
    assert sync(b, [late])["accepted"][0]["revision"] == 1
    assert services.refused_changes(task.id) == []


def test_the_request_that_submits_carries_its_own_records(field):
    task, a = field["task"], field["a"]
    # An app that sends everything at once, the outcome first: the rest of that request still lands.
    reply = sync(a, [outcome(task), answer(task, "G-01", "yes"), hazard_rec(task)])
    assert reply["rejected"] == [] and len(reply["accepted"]) == 3


def test_the_phone_is_told_over_the_api_and_keeps_its_copy(field, client, app):
    from webapp.sync.auth import issue_token
    task, a, lead = field["task"], field["a"], field["lead"]
    sync(a, [outcome(task)])
    services.approve(task, lead)
    raw, _row = issue_token(a, "test")
    db.session.commit()
    late = answer(task, "G-04", "no")
    reply = client.post("/api/v1/sync", json={"records": [late]}, headers={"Authorization": f"Bearer {raw}"})
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["accepted"] == [] and body["rejected"][0]["uuid"] == late["uuid"]
    assert body["rejected"][0]["frozen"] == "approved" and body["rejected"][0].get("retry") is not True


# --- point 2: nobody reviews their own work ----------------------------------------------------------

@pytest.fixture
def own(field):
    """The team lead is also an inspector, drawn into this task's group."""
    task, lead = field["task"], field["lead"]
    inspector_id, field["a"].inspector_id = field["a"].inspector_id, None  # the lead is phone A's inspector
    db.session.flush()
    lead.inspector_id = inspector_id
    db.session.commit()
    return field


def test_a_team_lead_cannot_approve_return_or_settle_an_inspection_they_took_part_in(own):
    task, b, lead = own["task"], own["b"], own["lead"]
    sync(b, [answer(task, "G-01", "yes"), outcome(task)])
    kept = db.session.scalar(select(SyncRecord.uuid).where(SyncRecord.task_id == task.id, SyncRecord.kind == "answer"))
    for step in (lambda: services.approve(task, lead),
                 lambda: services.return_for_correction(task, lead, "改"),
                 lambda: services.resolve_conflict(task, "G-01", kept, lead)):
        with pytest.raises(ServiceError, match="不审核自己参与的检查"):
            step()
    db.session.rollback()
    assert task.review_state == "submitted"


def test_a_team_lead_cannot_publish_their_own_inspection(own, ctx):
    task, b, lead = own["task"], own["b"], own["lead"]
    sync(b, [outcome(task)])
    task.review_state = "approved"  # approved by someone else
    db.session.commit()
    with pytest.raises(ServiceError, match="不审核自己参与的检查"):
        publication.publish(task, publication.suggest_category(task), lead)


def test_the_review_page_says_why_the_buttons_are_missing(own, client):
    task, b = own["task"], own["b"]
    sync(b, [outcome(task)])
    login(client, "lead")
    page = client.get(f"/review/{task.id}").get_data(as_text=True)
    assert 'id="own-work"' in page and "R13" in page
    assert f'action="/review/{task.id}/approve"' not in page
    assert client.post(f"/review/{task.id}/approve", follow_redirects=True).status_code == 200
    db.session.refresh(task)
    assert task.review_state == "submitted"


# --- point 4: a record cites only its own group's photos ---------------------------------------------

def test_a_record_may_cite_only_photos_its_group_sent(field):
    from webapp import roles as R
    from webapp.sync.models import Photo, PhotoUpload
    from tests.factories import make_inspector, make_user

    task, a = field["task"], field["a"]
    stranger = make_user(R.INSPECTOR, "stranger", inspector_id=make_inspector(name="别组检查员").id)
    theirs, ours = "b" * 64, "c" * 64
    for sha, who in ((theirs, stranger), (ours, a)):
        db.session.add(Photo(sha256=sha, size=1, width=1, height=1, mime="image/jpeg", uploaded_by=who.id))
        db.session.add(PhotoUpload(sha256=sha, user_id=who.id))
    db.session.commit()
    cites_theirs, cites_ours = answer(task, "G-01", "no"), answer(task, "G-02", "no")
    cites_theirs["data"]["photos"], cites_ours["data"]["photos"] = [theirs], [ours]
    reply = sync(field["b"], [cites_theirs, cites_ours])  # b: the other member of a's group
    assert [r["uuid"] for r in reply["accepted"]] == [cites_ours["uuid"]]
    # Another group's photo is, to this phone, not on the server: it must send the bytes itself.
    refused = reply["rejected"][0]
    assert refused["uuid"] == cites_theirs["uuid"] and refused["retry"] is True
    # Once this group has sent the same bytes, the record may cite them.
    db.session.add(PhotoUpload(sha256=theirs, user_id=field["b"].id))
    db.session.commit()
    assert sync(field["b"], [cites_theirs])["accepted"][0]["uuid"] == cites_theirs["uuid"]


# --- found by an adversarial review ------------------------------------------------------------------

def _reinspection_with_closure(field, rectified=True, submit=True):
    """The original approved by the lead, its re-inspection done by phone B: (hazard, re-inspection)."""
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    hazard_uuid = hazard_rec(task)
    sync(a, [hazard_uuid, outcome(task)])
    services.approve(task, lead)
    again = services.schedule_reinspection(task, lead)
    sync(b, [rec(again, "closure", {"hazard": hazard_uuid["uuid"], "rectified": rectified, "photos": []})]
         + ([outcome(again)] if submit else []))
    return db.session.scalar(select(Hazard).where(Hazard.record_uuid == hazard_uuid["uuid"])), again


def test_a_former_member_of_the_original_group_cannot_close_its_hazards_or_approve_its_reinspection(field):
    from webapp import roles as R
    from tests.factories import make_user
    hazard, again = _reinspection_with_closure(field)
    # The lead is phone A's inspector, who was in the original group only (not in the re-inspection's).
    inspector_id, field["a"].inspector_id = field["a"].inspector_id, None
    db.session.flush()
    own = make_user(R.TEAM_LEAD, "lead-a", department_id=field["lead"].department_id, inspector_id=inspector_id)
    db.session.query(TaskMember).filter_by(task_id=again.id, inspector_id=inspector_id).delete()
    db.session.commit()
    for step in (lambda: services.close_hazard(hazard, own), lambda: services.approve(again, own)):
        with pytest.raises(ServiceError, match="不审核自己参与的检查"):
            step()
    db.session.rollback()
    services.close_hazard(hazard, field["lead"])  # someone from outside may


def test_no_closing_before_the_reinspection_is_submitted(field):
    hazard, again = _reinspection_with_closure(field, submit=False)
    with pytest.raises(ServiceError, match="复查尚未提交"):
        services.close_hazard(hazard, field["lead"])
    with pytest.raises(ServiceError, match="复查尚未提交"):
        services.keep_open(hazard, field["lead"], "仍未整改")
    sync(field["b"], [outcome(again)])
    services.close_hazard(hazard, field["lead"])
    assert hazard.status == "closed"


def test_approval_does_not_pass_over_changes_refused_after_submission(field, client):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    sync(a, [outcome(task)])
    differing = rec(task, "outcome", {"outcome": "not_found", "submitted_at": "2026-11-23T11:10:00+08:00"})
    assert sync(b, [differing])["rejected"][0]["frozen"] == "submitted"
    with pytest.raises(ServiceError, match="未被接受"):
        services.approve(task, lead)
    login(client, "lead")
    page = client.get(f"/review/{task.id}").get_data(as_text=True)
    assert 'name="without_refused"' in page
    client.post(f"/review/{task.id}/approve", data={"without_refused": "1", "confirm_unanswered": "1"})
    db.session.refresh(task)
    assert task.review_state == "approved"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "task.approve"))
    assert differing["uuid"] in entry.after


def test_a_cancelled_task_is_not_approved(field):
    task, a, lead = field["task"], field["a"], field["lead"]
    sync(a, [outcome(task)])
    task.status = "cancelled"
    db.session.commit()
    with pytest.raises(ServiceError):
        services.approve(task, lead)


def test_a_former_member_learns_when_a_withdrawn_task_is_returned(field):
    from webapp.sync.services import tasks_for
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    sync(a, [outcome(task)])
    db.session.query(TaskMember).filter_by(task_id=task.id, inspector_id=b.inspector_id).update({"active": False})
    db.session.commit()
    assert tasks_for(b)["withdrawn_review"] == {str(task.id): "submitted"}
    services.return_for_correction(task, lead, "补充")
    assert tasks_for(b)["withdrawn_review"] == {str(task.id): "returned"}
