"""One role-by-route matrix: every route is listed here with who may reach it.

A new route that is not in EXPECTED fails ``test_every_route_is_in_the_matrix``; a route
without an access declaration fails ``test_every_route_declares_access`` (and is refused
at run time). Then each role is tried against each route.
"""
import pytest

from webapp import roles as R
from webapp.access import access_rule
from webapp.registries.services import add_recusal
from tests.factories import PASSWORD, make_enterprise, make_inspector, make_world

PUBLIC = "public"
ADMIN_ONLY = {R.ADMIN}
STAFF = {R.ADMIN, R.BRIGADE_LEAD, R.TEAM_LEAD}
EVERYONE = {R.ADMIN, R.BRIGADE_LEAD, R.TEAM_LEAD, R.INSPECTOR}
MANAGERS = {R.ADMIN, R.BRIGADE_LEAD}
TOKEN = "token"
REVIEWERS = {R.TEAM_LEAD, R.BRIGADE_LEAD}

#: endpoint → (method, roles allowed or PUBLIC)
EXPECTED = {
    "public.home": ("GET", PUBLIC),
    "public.items": ("GET", PUBLIC),
    "public.health": ("GET", PUBLIC),
    "checklists.index": ("GET", PUBLIC),
    "checklists.show": ("GET", PUBLIC),
    "auth.login": ("GET", PUBLIC),
    "auth.set_language": ("POST", PUBLIC),
    "auth.logout": ("POST", EVERYONE),
    "auth.password": ("GET", EVERYONE),
    "auth.users": ("GET", ADMIN_ONLY),
    "auth.user_new": ("GET", ADMIN_ONLY),
    "auth.user_active": ("POST", ADMIN_ONLY),
    # Issue #11 point 7: one's own signed-in devices; an administrator's view and revoke of anyone's.
    "auth.devices": ("GET", EVERYONE),
    "auth.devices_revoke": ("POST", EVERYONE),
    "auth.user_devices": ("GET", ADMIN_ONLY),
    "auth.user_devices_revoke": ("POST", ADMIN_ONLY),
    "audit.index": ("GET", ADMIN_ONLY),
    "audit.check": ("GET", ADMIN_ONLY),
    "registries.enterprises": ("GET", STAFF),
    "registries.enterprise": ("GET", STAFF),
    "registries.enterprise_new": ("GET", ADMIN_ONLY),
    "registries.enterprise_edit": ("GET", ADMIN_ONLY),
    "registries.check_uscc": ("POST", ADMIN_ONLY),
    "registries.inspectors": ("GET", STAFF),
    # Any signed-in user reaches the route; the object check decides (see test below).
    "registries.inspector": ("GET", EVERYONE),
    "registries.me": ("GET", {R.INSPECTOR, R.TEAM_LEAD}),
    "registries.inspector_new": ("GET", ADMIN_ONLY),
    "registries.inspector_edit": ("GET", ADMIN_ONLY),
    "registries.recusal_add": ("POST", ADMIN_ONLY),
    "registries.recusal_delete": ("POST", ADMIN_ONLY),
    "registries.items": ("GET", STAFF),
    "registries.item": ("GET", STAFF),
    "registries.item_new": ("GET", ADMIN_ONLY),
    "registries.item_version": ("GET", ADMIN_ONLY),
    "registries.reference": ("GET", STAFF),
    "registries.reference_add": ("POST", ADMIN_ONLY),
    "registries.import_form": ("GET", ADMIN_ONLY),
    "registries.import_preview": ("POST", ADMIN_ONLY),
    "registries.import_confirm": ("POST", ADMIN_ONLY),
    "registries.import_check": ("POST", ADMIN_ONLY),
    "registries.import_township": ("POST", ADMIN_ONLY),
    "registries.export": ("GET", {R.ADMIN, R.BRIGADE_LEAD}),
    "draws.plans": ("GET", STAFF),
    "draws.plan": ("GET", STAFF),
    "draws.plan_new": ("GET", MANAGERS),
    "draws.plan_edit": ("GET", MANAGERS),
    "draws.plan_approve": ("POST", MANAGERS),
    "draws.plan_publish": ("POST", MANAGERS),
    "draws.batch_new": ("GET", MANAGERS),
    "draws.batch_edit": ("GET", MANAGERS),
    "draws.batch": ("GET", STAFF),
    "draws.batch_commit": ("POST", MANAGERS),
    "draws.batch_supersede": ("POST", MANAGERS),
    "draws.draw_reveal": ("POST", MANAGERS),
    "draws.draw_publish": ("POST", MANAGERS),
    "draws.draw_substitute": ("POST", MANAGERS),
    "draws.draw_approve": ("POST", MANAGERS),
    "draws.draw_withdraw": ("POST", MANAGERS),
    "draws.public_plans": ("GET", PUBLIC),
    "draws.public_plan": ("GET", PUBLIC),
    "draws.public_draw": ("GET", PUBLIC),
    "draws.public_draw_export": ("GET", PUBLIC),
    "draws.public_draw_verify": ("GET", PUBLIC),
    "draws.public_verify": ("GET", PUBLIC),
    "draws.public_verifier": ("GET", PUBLIC),
    "draws.public_feed": ("GET", PUBLIC),
    # Any signed-in user reaches the task routes; the object check decides (tests/tasks/).
    # The sync API takes a bearer token only: a session cookie of any role gets a JSON 401
    # (tests/sync/ try the tokens).
    "api.issue": ("POST", PUBLIC),
    "api.openapi": ("GET", PUBLIC),
    "api.tasks": ("GET", TOKEN),
    "api.upload": ("POST", TOKEN),
    "api.photo_status": ("GET", TOKEN),
    "api.photo_put": ("PUT", TOKEN),
    "pwa.index": ("GET", PUBLIC),
    "pwa.asset": ("GET", PUBLIC),
    "tasks.index": ("GET", EVERYONE),
    # Review and the hazard register: staff see (their own groups' for a team lead); reviewers act.
    "review.queue": ("GET", STAFF),
    "review.task": ("GET", STAFF),
    "review.approve": ("POST", REVIEWERS),
    "review.send_back": ("POST", REVIEWERS),
    "review.resolve": ("POST", REVIEWERS),
    "review.reinspect": ("POST", REVIEWERS),
    "review.hazards": ("GET", STAFF),
    "review.hazard": ("GET", STAFF),
    "review.photo": ("GET", STAFF),
    "review.photo_full": ("GET", STAFF),
    "review.hazard_plan": ("POST", REVIEWERS),
    "review.hazard_supervise": ("POST", REVIEWERS),
    "review.hazard_extend": ("POST", REVIEWERS),
    "review.hazard_escalate": ("POST", REVIEWERS),
    "review.hazard_close": ("POST", REVIEWERS),
    "review.hazard_keep_open": ("POST", REVIEWERS),
    "publication.publish": ("POST", REVIEWERS),
    "review.feedback": ("POST", REVIEWERS),
    "documents.download": ("GET", STAFF),
    "documents.issue_document": ("POST", STAFF),  # issue #11 point 10: issuing is a POST
    "archive.batch_zip": ("POST", MANAGERS),  # audited: a button, not a link (issue #11 point 10)
    # The token is the key (tests/review/test_enterprise.py); listed before link_issue, which retires it.
    "review.enterprise_order": ("GET", PUBLIC),
    "review.enterprise_read": ("POST", PUBLIC),  # issue #11 point 10: R19's notice, by a press
    "review.link_issue": ("POST", REVIEWERS),
    "review.link_revoke": ("POST", REVIEWERS),
    "review.evidence_review": ("POST", REVIEWERS),
    "review.evidence_photo": ("GET", STAFF),
    "deadlines.due": ("GET", EVERYONE),
    "deadlines.calendar": ("GET", ADMIN_ONLY),
    "deadlines.calendar_day": ("POST", ADMIN_ONLY),
    "deadlines.calendar_day_remove": ("POST", ADMIN_ONLY),
    "deadlines.calendar_confirm": ("POST", ADMIN_ONLY),
    "publication.results": ("GET", PUBLIC),
    "publication.result": ("GET", PUBLIC),
    "tasks.show": ("GET", EVERYONE),
    # Issue #13 (batch summary): the office, the brigade lead, a team lead (their groups' batches only).
    "brigade.batches": ("GET", STAFF),
    "brigade.summary": ("GET", STAFF),
    # Issue #13 (accountability, R24): the office and the brigade lead only; each view is audited.
    "brigade.accountability": ("GET", MANAGERS),
    "brigade.duty_record": ("GET", MANAGERS),
    # Issue #13 (summary of experience, R23): the route lets staff in, the object decides. The office and
    # the brigade lead see every report; a staff user of an addressee office sees (and acknowledges, answers)
    # a sent report addressed to it, which the world has not: its team lead (of the brigade) is refused here,
    # and acknowledging/answering is refused to everyone (tests/brigade/test_report.py tries the offices).
    "brigade.report": ("GET", MANAGERS),
    "brigade.reports": ("GET", STAFF),
    "brigade.report_save": ("POST", {R.BRIGADE_LEAD}),
    "brigade.report_send": ("POST", {R.BRIGADE_LEAD}),
    "brigade.report_ack": ("POST", set()),
    "brigade.report_answer": ("POST", set()),
    # Issue #13 (compliance dashboard): the office and the brigade lead.
    "brigade.dashboard": ("GET", MANAGERS),
    "brigade.dashboard_list": ("GET", MANAGERS),
    # Issue #13 (exports): the office, the brigade lead and a team lead (a batch's files, narrowed to their
    # groups); only the owner sees or downloads a job (anyone else: 404, tests/brigade/test_exports.py).
    # Without a job named, the status is one's own list and the download a 422.
    "brigade.exports": ("GET", STAFF),
    "brigade.export_status": ("GET", STAFF),
    "brigade.export_new": ("POST", STAFF),
    "brigade.export_download": ("POST", STAFF),
}


def _endpoints(app):
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


def test_every_route_is_in_the_matrix(app):
    assert _endpoints(app) == set(EXPECTED)


def test_every_route_declares_access(app):
    missing = [e for e in _endpoints(app) if access_rule(app.view_functions[e]) is None]
    assert missing == []


def _url(app, endpoint, objects):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {"enterprise_id": objects["enterprise"], "inspector_id": objects["inspector"],
              "item_id": objects["item"], "checklist_id": objects["checklist"], "user_id": objects["user"],
              "recusal_id": objects["recusal"],
              "kind": {"registries.reference_add": "competence", "documents.download": "record",
                       "documents.issue_document": "record", "brigade.dashboard_list": "key"}.get(endpoint, "enterprises"),
              "fmt": "csv", "code": "en", "plan_id": objects["plan"], "batch_id": objects["batch"],
              "pk": objects["draw"], "draw_id": objects["draw_id"], "task_id": objects["task"],
              # The review's photo routes serve only a photo the task cites: the world's evidence photo.
              "sha": objects["photo"] if endpoint.startswith("review.photo") else "0" * 64, "name": "app.js", "hazard_id": objects["hazard"],
              "day": "2027-01-01", "year": 2027, "token": objects["token"], "evidence_id": objects["evidence"],
              "k": 0}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: values[k] for k in rule.arguments})


@pytest.fixture
def objects(ctx, users):
    return make_world(users)


@pytest.mark.parametrize("role", [None, *R.ALL])
def test_role_by_route(app, objects, role):
    client = app.test_client()
    # Sign-out last, so one sign-in serves the whole row.
    for endpoint, (method, allowed) in sorted(EXPECTED.items(), key=lambda kv: kv[0] == "auth.logout"):
        if role and client.get_cookie("session") is None:
            assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 303
        url = _url(app, endpoint, objects)
        resp = client.open(url, method=method)
        resp.close()  # a streamed file (the app shell) must not leak its handle
        if allowed == TOKEN or endpoint.startswith("api."):
            # JSON, never a login redirect or an HTML page; without a token, 401.
            assert resp.is_json, (role, endpoint, resp.status_code)
            if allowed == TOKEN:
                assert resp.status_code == 401, (role, endpoint, resp.status_code)
            continue
        ok_codes = {200, 302, 303, 422}
        permitted = allowed == PUBLIC or (role is not None and role in allowed)
        if permitted:
            assert resp.status_code in ok_codes, (role, endpoint, resp.status_code)
        elif role is None:
            assert resp.status_code == 302 and "/login" in resp.location, (role, endpoint, resp.status_code)
        else:
            assert resp.status_code == 403, (role, endpoint, resp.status_code)


def test_inspector_sees_only_own_pool_entry(app, ctx, users):
    other = make_inspector(name="别人")
    client = app.test_client()
    client.post("/login", data={"username": R.INSPECTOR, "password": PASSWORD})
    assert client.get(f"/inspectors/{users[R.INSPECTOR].inspector_id}").status_code == 200
    assert client.get(f"/inspectors/{other.id}").status_code == 403


def test_team_lead_sees_only_own_department(app, ctx, users):
    same = make_inspector(name="同队")
    elsewhere = make_inspector(department="危险化学品安全监督管理股", name="别股")
    client = app.test_client()
    client.post("/login", data={"username": R.TEAM_LEAD, "password": PASSWORD})
    assert client.get(f"/inspectors/{same.id}").status_code == 200
    assert client.get(f"/inspectors/{elsewhere.id}").status_code == 403
    listing = client.get("/inspectors").get_data(as_text=True)
    assert "同队" in listing and "别股" not in listing


def test_recusals_hidden_from_team_lead(app, ctx, users):
    ent = make_enterprise(name="回避企业")
    insp = make_inspector(name="回避人")
    add_recusal(insp, ent.uscc, "近亲属任职")
    client = app.test_client()
    client.post("/login", data={"username": R.TEAM_LEAD, "password": PASSWORD})
    assert "近亲属任职" not in client.get(f"/inspectors/{insp.id}").get_data(as_text=True)
    client = app.test_client()
    client.post("/login", data={"username": R.BRIGADE_LEAD, "password": PASSWORD})
    assert "近亲属任职" in client.get(f"/inspectors/{insp.id}").get_data(as_text=True)
