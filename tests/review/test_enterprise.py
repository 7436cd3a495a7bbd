"""The enterprise's link (issue #5 §3): its own order only, evidence checked like any photo, the team
lead's verdict."""
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.review import enterprise
from webapp.sync.models import Photo
from webapp.tasks.models import Task
from tests.factories import make_hazard
from tests.review.test_review import field  # noqa: F401  (field: fixture)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 90, 40)).save(out, "JPEG")
    return out.getvalue()


def test_the_link_reaches_its_own_order_and_nothing_else(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    make_hazard(task, a, description="配电箱未接地")
    other = db.session.scalar(select(Task).where(Task.id != task.id, Task.status == "dispatched"))
    make_hazard(other, _member(other), description="另一企业的隐患")
    link = enterprise.issue_link(task, lead)
    client = app.test_client()  # no account, no session
    resp = client.get(f"/e/{enterprise.token_of(link)}")
    assert resp.headers["Referrer-Policy"] == "no-referrer"  # the token never travels on
    page = resp.get_data(as_text=True)
    assert task.enterprise["name"] in page and "配电箱未接地" in page
    from webapp.review.models import Feedback
    assert db.session.scalar(select(Feedback)) is None  # not submitted yet: nothing to be told of
    assert other.enterprise["name"] not in page and "另一企业的隐患" not in page
    forged = f"{link.id}.{'A' * 32}"
    assert client.get(f"/e/{forged}").status_code == 404
    other_link = enterprise.issue_link(other, lead)
    assert client.get(f"/e/{link.id}.{enterprise.token_of(other_link).split('.')[1]}").status_code == 404
    again = enterprise.issue_link(task, lead)  # a new link retires the old one
    assert client.get(f"/e/{enterprise.token_of(link)}").status_code == 404
    again.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/e/{enterprise.token_of(again)}").status_code == 404


def _member(task):
    """A user account of one of the task's group (made if the group has none yet)."""
    from webapp import roles as R
    from webapp.auth.models import User
    from tests.factories import make_user
    inspector_id = task.active_members[0].inspector_id
    return (db.session.scalar(select(User).where(User.inspector_id == inspector_id))
            or make_user(R.INSPECTOR, f"m{task.id}", inspector_id=inspector_id))


def test_evidence_is_checked_then_reviewed(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a)
    link = enterprise.issue_link(task, lead)
    url = f"/e/{enterprise.token_of(link)}"
    client = app.test_client()
    bad = client.post(url, data={"hazard": str(hazard.id), "text": "已整改", "csrf_token": _token(client, url),
                                 "photos": [(io.BytesIO(b"not a picture"), "x.jpg"), (io.BytesIO(_jpeg()), "ok.jpg")]},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "x.jpg" in bad.get_data(as_text=True)
    assert db.session.scalars(select(enterprise.Evidence)).all() == []  # nothing half-sent is kept
    ok = client.post(url, data={"hazard": str(hazard.id), "text": "已重新接地", "csrf_token": _token(client, url),
                                "photos": [(io.BytesIO(_jpeg()), "ok.jpg")]}, content_type="multipart/form-data")
    assert ok.status_code == 303, ok.get_data(as_text=True)[:500]
    evidence = db.session.scalar(select(enterprise.Evidence))
    assert evidence.state == "pending" and len(evidence.photos) == 1
    assert db.session.get(Photo, evidence.photos[0]) is not None
    enterprise.review_evidence(evidence, True, "", lead)
    assert (evidence.state, hazard.status) == ("accepted", "rectifying")


def test_only_a_press_on_the_page_records_the_notice(field, app):  # noqa: F811
    """Issue #11 point 10 (R19 "by its link"): a GET or HEAD of the link (a chat app's link preview, a mail
    scanner) changes nothing — no feedback row, no audit entry; the enterprise's "I have read this order"
    button (a POST with the page's CSRF token) records it, once."""
    from webapp.audit.models import AuditEntry
    from webapp.review.models import Feedback
    from webapp.sync.services import sync
    from tests.review.test_review import outcome

    task, a, lead = field["task"], field["a"], field["lead"]
    make_hazard(task, a)
    sync(a, [outcome(task)])
    link = enterprise.issue_link(task, lead)
    url = f"/e/{enterprise.token_of(link)}"

    def counts():
        db.session.expire_all()
        return (db.session.scalar(select(db.func.count()).select_from(Feedback)),
                db.session.scalar(select(db.func.count()).select_from(AuditEntry)))

    before = counts()
    preview = app.test_client()
    for _ in range(2):
        assert preview.get(url, headers={"User-Agent": "WhatsApp/2.23 (link preview)"}).status_code == 200
        assert preview.head(url).status_code == 200
    page = preview.get(url).get_data(as_text=True)
    assert f'action="{url}/read"' in page
    assert counts() == before

    from flask import g
    g.pop("csrf_token", None)  # the test's app context is shared by its requests: forget the preview's token
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        person = app.test_client()
        assert person.post(f"{url}/read").status_code == 400  # no token: a forged cross-site post does nothing
        assert counts() == before
        assert person.get(f"{url}/read").status_code == 405
        resp = person.post(f"{url}/read", data={"csrf_token": _token(person, url)})
        assert resp.status_code == 303 and resp.location.endswith(url)
        person.post(f"{url}/read", data={"csrf_token": _token(person, url)})  # pressed twice: one record
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    rows = db.session.scalars(select(Feedback)).all()
    assert [(r.way, r.task_id) for r in rows] == [("link", task.id)]
    assert counts() == (before[0] + 1, before[1] + 1)
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert entry.action == "task.feedback" and task.uscc in entry.actor
    after = app.test_client().get(url).get_data(as_text=True)
    assert f'action="{url}/read"' not in after  # now it says when, instead of the button
    assert rows[0].given_on.isoformat() in after


def test_the_notice_button_needs_a_working_link(field, app):  # noqa: F811
    from webapp.review.models import Feedback
    from webapp.sync.services import sync
    from tests.review.test_review import outcome

    task, a, lead = field["task"], field["a"], field["lead"]
    make_hazard(task, a)
    sync(a, [outcome(task)])
    link = enterprise.issue_link(task, lead)
    token = enterprise.token_of(link)
    enterprise.revoke_link(link, lead)
    assert app.test_client().post(f"/e/{token}/read").status_code == 404
    assert app.test_client().post(f"/e/{link.id}.forged/read").status_code == 404
    assert db.session.scalar(select(db.func.count()).select_from(Feedback)) == 0


def _token(client, url) -> str:
    import re
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def test_accepted_completion_schedules_the_reinspection(field):  # noqa: F811
    from webapp.review import services as review
    from webapp.sync.services import sync
    from tests.review.test_review import outcome

    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a)
    sync(a, [outcome(task)])
    review.approve(task, lead)
    link = enterprise.issue_link(task, lead)
    partial = enterprise.submit_evidence(link, str(hazard.id), "正在整改", [])
    assert enterprise.review_evidence(partial, True, "", lead) is None  # not reported complete: no re-inspection
    done = enterprise.submit_evidence(link, str(hazard.id), "已全部整改", [], complete=True)
    again = enterprise.review_evidence(done, True, "", lead)
    assert again is not None and again.origin_task_id == task.id and hazard.reinspection_task_id == again.id
