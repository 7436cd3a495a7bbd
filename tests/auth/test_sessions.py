"""Server-side sessions, the devices page, revoking and the password change (issue #11 point 7)."""
from datetime import timedelta

from sqlalchemy import select, update

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.auth.models import User, UserSession
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.sync.models import ApiToken
from tests.factories import PASSWORD, login, make_user

NEW_PASSWORD = "Gx7-lantern-orbit"


def _client(app, addr="10.0.0.1", agent="TestBrowser/1.0"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    client.environ_base["HTTP_USER_AGENT"] = agent
    return client


def _copy(app, client, addr="10.9.9.9"):
    """Another browser holding a copy of ``client``'s session cookie (a stolen or shared cookie)."""
    thief = _client(app, addr, "Thief/1.0")
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_in(client) -> bool:
    resp = client.get("/account/password")  # any page for signed-in users (it exists before and after)
    assert resp.status_code in (200, 302), resp.status_code
    return resp.status_code == 200


def _token(app, username, device="华为 Mate 60"):
    resp = _client(app, "10.0.0.50").post("/api/v1/token", json={"username": username, "password": PASSWORD,
                                                                    "device": device})
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": "Bearer " + resp.get_json()["token"]}


def _api_ok(app, headers) -> bool:
    resp = _client(app, "10.0.0.51").get("/api/v1/tasks", headers=headers)
    assert resp.status_code in (200, 401) and resp.is_json
    if resp.status_code == 401:
        assert resp.get_json()["error"] == "token"  # the app's 重新登录 prompt
    return resp.status_code == 200


def _actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_copied_cookie_is_refused_after_logout(app):
    # No app context around the requests: each request gets its own, as in production, so nothing of the
    # owner's request (Flask-Login's user in ``g``) can leak into the thief's.
    with app.app_context():
        make_user(R.ADMIN)
    owner = _client(app)
    assert login(owner, "admin").status_code == 303
    thief = _copy(app, owner)
    assert thief.get("/audit/").status_code == 200  # a copy works while the session lives
    assert owner.post("/logout").status_code == 303
    resp = thief.get("/audit/")
    assert resp.status_code == 302 and "/login" in resp.location
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert row.revoked_at is not None and row.revoked_reason == "logout"
        assert "user.logout" in _actions()


def test_password_change_ends_other_sessions_and_tokens_but_keeps_this_one(app, ctx, users):
    here, there = _client(app, "10.0.0.1"), _client(app, "10.0.0.2")
    assert login(here, R.INSPECTOR).status_code == 303
    assert login(there, R.INSPECTOR).status_code == 303
    phone = _token(app, R.INSPECTOR)
    other_user = _client(app, "10.0.0.3")
    assert login(other_user, R.TEAM_LEAD).status_code == 303
    lead_phone = _token(app, R.TEAM_LEAD)
    assert _signed_in(there) and _api_ok(app, phone)

    resp = here.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD})
    assert resp.status_code == 303
    assert _signed_in(here)  # the session that changed it goes on
    assert not _signed_in(there)
    assert not _api_ok(app, phone)
    assert _signed_in(other_user) and _api_ok(app, lead_phone)  # nobody else's
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password"))
    assert '"sessions_ended":1' in entry.after and '"tokens_revoked":1' in entry.after
    # The new password works, the old one no longer.
    assert login(_client(app, "10.0.0.4"), R.INSPECTOR).status_code == 401
    assert login(_client(app, "10.0.0.4"), R.INSPECTOR, NEW_PASSWORD).status_code == 303


def test_devices_page_lists_sessions_and_tokens_and_revokes_them(app, ctx, users):
    here = _client(app, "10.0.0.1", "Firefox on the office PC")
    there = _client(app, "10.0.0.2", "Chrome at home")
    login(here, R.INSPECTOR)
    login(there, R.INSPECTOR)
    phone = _token(app, R.INSPECTOR, "红米 Note 12")
    assert _api_ok(app, phone)
    page = here.get("/account/devices").get_data(as_text=True)
    for text in ("Firefox on the office PC", "Chrome at home", "10.0.0.2", "红米 Note 12", "10.0.0.51"):
        assert text in page
    mine = db.session.scalar(select(UserSession).where(UserSession.device == "Firefox on the office PC"))
    theirs = db.session.scalar(select(UserSession).where(UserSession.device == "Chrome at home"))
    token = db.session.scalar(select(ApiToken))

    # Someone else's session cannot be ended from my page.
    login(_client(app, "10.0.0.3"), R.TEAM_LEAD)
    lead_session = db.session.scalar(select(UserSession).join(User).where(User.username == R.TEAM_LEAD))
    here.post("/account/devices/revoke", data={"what": "session", "id": lead_session.id})
    db.session.expire_all()
    assert db.session.get(UserSession, lead_session.id).revoked_at is None

    assert here.post("/account/devices/revoke", data={"what": "session", "id": theirs.id}).status_code == 303
    assert not _signed_in(there) and _signed_in(here)
    assert here.post("/account/devices/revoke", data={"what": "token", "id": token.id}).status_code == 303
    assert not _api_ok(app, phone)
    # One's own current session ends by signing out, not from this list.
    here.post("/account/devices/revoke", data={"what": "session", "id": mine.id})
    assert _signed_in(here)
    assert {"session.revoke", "api_token.revoke"} <= set(_actions())


def test_an_administrator_revokes_any_users_sessions_and_tokens(app, ctx, users):
    admin = _client(app, "10.0.0.9")
    login(admin, R.ADMIN)
    desk = _client(app, "10.0.0.1")
    login(desk, R.INSPECTOR)
    phone = _token(app, R.INSPECTOR, "丢失的手机")
    inspector = users[R.INSPECTOR]
    assert f"/users/{inspector.id}/devices" in admin.get("/users").get_data(as_text=True)
    assert "丢失的手机" in admin.get(f"/users/{inspector.id}/devices").get_data(as_text=True)
    token = db.session.scalar(select(ApiToken))
    assert admin.post(f"/users/{inspector.id}/devices/revoke", data={"what": "token", "id": token.id}).status_code == 303
    assert not _api_ok(app, phone) and _signed_in(desk)
    phone2 = _token(app, R.INSPECTOR)
    assert admin.post(f"/users/{inspector.id}/devices/revoke", data={"what": "all"}).status_code == 303
    assert not _signed_in(desk) and not _api_ok(app, phone2)
    assert _signed_in(admin)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.revoke_all"))
    assert entry.actor == R.ADMIN and entry.object_id == str(inspector.id)
    # Only an administrator may.
    assert desk.get(f"/users/{inspector.id}/devices").status_code == 302
    lead = _client(app, "10.0.0.5")
    login(lead, R.TEAM_LEAD)
    assert lead.post(f"/users/{inspector.id}/devices/revoke", data={"what": "all"}).status_code == 403


def test_deactivation_ends_a_live_session_and_reactivation_does_not_revive_it(app, ctx, users):
    admin, desk = _client(app, "10.0.0.9"), _client(app, "10.0.0.1")
    login(admin, R.ADMIN)
    login(desk, R.BRIGADE_LEAD)
    target = users[R.BRIGADE_LEAD]
    assert _signed_in(desk)
    admin.post(f"/users/{target.id}/active", data={"active": "0"})
    assert not _signed_in(desk)
    admin.post(f"/users/{target.id}/active", data={"active": "1"})
    assert not _signed_in(desk)


def test_an_idle_session_ends(app, ctx):
    make_user(R.ADMIN)
    client = _client(app)
    login(client, "admin")
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(days=15)))
    db.session.commit()
    assert not _signed_in(client)
