"""Two phones on one task (issue #10): what is per person, what is per task, what conflicts; and the
edit id that tells a phone's own lost revision from a real conflict. The rules are in docs/sync-api.md."""
import uuid as uuidlib

from sqlalchemy import select

from webapp.extensions import db
from webapp.review import services
from webapp.sync.models import SyncRecord
from webapp.sync.services import sync, tasks_for
from tests.review.test_review import answer, field, outcome, rec  # noqa: F401  (field: fixture)


def outcome_as(task, what, reason=None):
    r = outcome(task)
    r["data"] = {"outcome": what, "reason": reason, "submitted_at": "2026-11-23T11:00:00+08:00"}
    return r


def test_differing_outcomes_are_flagged_and_the_task_is_not_submitted_until_they_agree(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    mine = outcome_as(task, "completed")
    assert sync(a, [mine])["accepted"][0]["conflict"] is False
    db.session.refresh(task)
    assert task.review_state == "submitted"
    theirs = outcome_as(task, "non_cooperation", "refused_entry")
    # Submitted: the records are frozen for the review (issue #11 point 1); the team lead sees the
    # differing outcome on the review page and returns the inspection so that it can land.
    assert sync(b, [theirs])["rejected"][0]["frozen"] == "submitted"
    assert [c["data"]["outcome"] for c in services.refused_changes(task.id)] == ["non_cooperation"]
    services.return_for_correction(task, lead, "两部手机的检查结论不一致")
    reply = sync(b, [theirs])
    assert reply["accepted"][0]["conflict"] is True
    assert services.refused_changes(task.id) == []  # it landed
    db.session.refresh(task)
    assert task.review_state == "returned"  # never submitted while the phones disagree
    assert set(services.conflicts_of(task.id)) == {"outcome"}
    # The other phone sees the difference on its next download.
    flags = {r["uuid"]: r["conflict"] for t in tasks_for(a)["tasks"] if t["id"] == task.id for r in t["records"]}
    assert flags[mine["uuid"]] is True and flags[theirs["uuid"]] is True
    # Phone B corrects its outcome on the current revision: they agree, the task is submitted.
    theirs["data"] = {"outcome": "completed", "reason": None, "submitted_at": "2026-11-23T11:05:00+08:00"}
    theirs["base_revision"] = 1
    assert sync(b, [theirs])["accepted"][0]["conflict"] is False
    db.session.refresh(task)
    assert task.review_state == "submitted" and services.conflicts_of(task.id) == {}
    services.approve(task, lead)


def test_the_team_lead_may_settle_differing_outcomes(field):
    task, a, b, lead = field["task"], field["a"], field["b"], field["lead"]
    sync(a, [outcome_as(task, "completed")])
    services.return_for_correction(task, lead, "请核对检查结论")
    theirs = outcome_as(task, "not_found")
    assert sync(b, [theirs])["accepted"][0]["conflict"] is True
    services.resolve_conflict(task, "outcome", theirs["uuid"], lead)
    assert services.conflicts_of(task.id) == {}
    db.session.refresh(task)
    assert task.review_state == "returned"  # settled; the group submits again after correcting


def test_enterprise_signatures_conflict_on_signed_versus_refused_but_inspectors_sign_for_themselves(field):
    task, a, b = field["task"], field["a"], field["b"]
    refused = rec(task, "signature", {"role": "enterprise", "refused": True})
    assert sync(a, [refused])["accepted"][0]["conflict"] is False
    other_refusal = rec(task, "signature", {"role": "enterprise", "refused": True})
    assert sync(b, [other_refusal])["accepted"][0]["conflict"] is False  # the same verdict merges
    # Inspectors' own signatures never conflict with each other.
    for user in (a, b):
        r = rec(task, "signature", {"role": "inspector", "inspector_id": user.inspector_id, "refused": True})
        assert sync(user, [r])["accepted"][0]["conflict"] is False
    checkins = [rec(task, "checkin", {"lat": 30.0, "lng": 120.0}), rec(task, "checkin", {"lat": 31.0, "lng": 121.0})]
    assert [x["conflict"] for x in sync(a, checkins[:1])["accepted"] + sync(b, checkins[1:])["accepted"]] == [False, False]
    # Signed on one phone, refused on the other: kept both, flagged, and approval waits for it.
    from webapp.sync.models import Photo, PhotoUpload
    db.session.add(Photo(sha256="a" * 64, size=1, width=1, height=1, mime="image/png", uploaded_by=b.id))
    db.session.add(PhotoUpload(sha256="a" * 64, user_id=b.id))
    db.session.commit()
    signed = rec(task, "signature", {"role": "enterprise", "image": "a" * 64})
    assert sync(b, [signed])["accepted"][0]["conflict"] is True
    assert set(services.conflicts_of(task.id)) == {"signature:enterprise"}


def test_same_answer_with_different_notes_merges_and_both_notes_reach_both_phones(field):
    task, a, b = field["task"], field["a"], field["b"]
    mine, theirs = answer(task, "G-01", "no"), answer(task, "G-01", "no")
    mine["data"]["note"], theirs["data"]["note"] = "消防通道堵塞", "东侧通道堆放货物"
    sync(a, [mine])
    assert sync(b, [theirs])["accepted"][0]["conflict"] is False
    for user in (a, b):
        notes = {r["data"].get("note") for t in tasks_for(user)["tasks"] if t["id"] == task.id for r in t["records"]}
        assert {"消防通道堵塞", "东侧通道堆放货物"} <= notes


def test_hazards_from_both_phones_are_shared_with_the_whole_group(field):
    task, a, b = field["task"], field["a"], field["b"]
    sync(a, [rec(task, "hazard", {"grade": "general", "description": "灭火器过期"})])
    sync(b, [rec(task, "hazard", {"grade": "major", "description": "粉尘涉爆除尘系统未接地"})])
    for user in (a, b):
        hazards = {r["data"]["description"] for t in tasks_for(user)["tasks"] if t["id"] == task.id
                   for r in t["records"] if r["kind"] == "hazard"}
        assert hazards == {"灭火器过期", "粉尘涉爆除尘系统未接地"}


def test_a_stale_base_returns_the_edit_id_of_the_servers_revision(field):
    task, a = field["task"], field["a"]
    first = answer(task, "G-01", "yes")
    first["edit"] = edit = str(uuidlib.uuid4())
    sync(a, [first])  # the reply is lost: the phone still thinks base 0
    row = db.session.scalar(select(SyncRecord).where(SyncRecord.uuid == first["uuid"]))
    assert row.edit_id == edit
    again = {**first, "edit": str(uuidlib.uuid4()), "data": {**first["data"], "result": "no"}}
    conflict = sync(a, [again])["conflicts"][0]
    assert conflict["server"]["edit_id"] == edit and conflict["server"]["revision"] == 1
    # The phone recognises its own edit and builds on it: the next revision, nothing lost.
    accepted = sync(a, [{**again, "base_revision": 1}])["accepted"][0]
    assert accepted["revision"] == 2
    db.session.refresh(row)
    assert row.data["result"] == "no" and row.edit_id == again["edit"]


def test_a_retry_of_a_conflicting_answer_still_says_it_conflicts(field):
    task, a, b = field["task"], field["a"], field["b"]
    sync(a, [answer(task, "G-01", "yes")])
    theirs = answer(task, "G-01", "no")
    assert sync(b, [theirs])["accepted"][0]["conflict"] is True
    retry = sync(b, [theirs])["accepted"][0]  # the first reply was lost
    assert retry["duplicate"] is True and retry["conflict"] is True


def test_the_review_page_shows_differing_outcomes_and_signatures_and_settles_them(field, client):
    from tests.factories import login

    task, a, b = field["task"], field["a"], field["b"]
    sync(a, [outcome_as(task, "completed"), rec(task, "signature", {"role": "enterprise", "refused": True})])
    theirs = outcome_as(task, "not_found")
    assert sync(b, [theirs])["rejected"][0]["frozen"] == "submitted"
    login(client, "lead")
    page = client.get(f"/review/{task.id}").get_data(as_text=True)
    # Frozen for the review: the lead sees, in words, what the other phone sent and was not taken.
    assert 'id="refused-changes"' in page and "通过登记的住所（经营场所）无法联系" in page
    client.post(f"/review/{task.id}/return", data={"comment": "两部手机结论不一致"})
    sync(b, [theirs])
    page = client.get(f"/review/{task.id}").get_data(as_text=True)
    assert 'id="refused-changes"' not in page  # it landed
    assert "检查组记录不一致的事项" in page and 'id="conflict-outcome"' in page
    assert "通过登记的住所（经营场所）无法联系" in page and "完成检查" in page  # both outcomes, in words
    reply = client.post(f"/review/{task.id}/resolve", data={"question": "outcome", "uuid": theirs["uuid"]},
                        follow_redirects=True)
    assert reply.status_code == 200
    db.session.refresh(task)
    assert task.review_state == "returned" and services.conflicts_of(task.id) == {}
