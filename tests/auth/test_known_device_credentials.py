"""A known device stops being known when the account's credentials change (issue #11 point 8, F5): a browser
cookie or app device key from a sign-in with a password that was since changed, from before a "sign out
everywhere" or before a deactivation no longer skips the account's growing delay, even copied elsewhere."""
import pytest
from itsdangerous import URLSafeTimedSerializer

from webapp import roles as R
from webapp.auth import services
from webapp.auth.known import COOKIE
from webapp.extensions import db
from tests.factories import PASSWORD, login

NEW_PASSWORD = "Gx7-lantern-orbit"


def _client(app, addr):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def _slow_down(app, username, start=0):
    """Strangers' failures until the account is slowed down (a new device is refused unheard)."""
    for k in range(app.config["LOGIN_FREE_FAILURES"] + 1):
        login(_client(app, f"203.0.113.{start + k}"), username, "guess-again")
    assert login(_client(app, "203.0.113.200"), username, "guess-again").status_code == 429


def _with_cookie(app, value, addr="198.51.100.77"):
    """Another browser holding a copy of a known-device cookie."""
    client = _client(app, addr)
    client.set_cookie(COOKIE, value)
    return client


def _attacker(app, username, password=PASSWORD):
    """Someone who once signed in with a stolen password: keeps the cookie and the app's device key."""
    browser = _client(app, "203.0.113.66")
    assert login(browser, username, password).status_code == 303
    browser.post("/logout")
    cookie = browser.get_cookie(COOKIE).value
    resp = _client(app, "203.0.113.67").post("/api/v1/token", json={"username": username, "password": password})
    assert resp.status_code == 200
    return cookie, resp.get_json()["device_key"]


def _guess(app, username, cookie, device_key):
    """A wrong guess carrying the cookie (web) and the device key (app): the status codes."""
    web = login(_with_cookie(app, cookie), username, "guess-again").status_code
    api = _client(app, "198.51.100.78").post("/api/v1/token", json={
        "username": username, "password": "guess-again", "device_key": device_key}).status_code
    return web, api


def test_before_any_change_the_device_is_known(app, ctx, users):
    """The control: the same cookie and key do skip the delay while the credentials stand."""
    cookie, key = _attacker(app, R.INSPECTOR)
    _slow_down(app, R.INSPECTOR)
    assert _guess(app, R.INSPECTOR, cookie, key) == (401, 401)


@pytest.mark.parametrize("change", ["password", "password_route", "revoke_all", "admin_revoke_all",
                                    "deactivate_reactivate"])
def test_old_cookie_and_device_key_stop_counting_after_a_credential_change(app, ctx, users, change):
    user = users[R.INSPECTOR]
    cookie, key = _attacker(app, R.INSPECTOR)
    if change == "password":
        services.set_password(user, NEW_PASSWORD)
    elif change == "password_route":
        owner = _client(app, "10.0.0.1")
        assert login(owner, R.INSPECTOR).status_code == 303
        assert owner.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD}).status_code == 303
    elif change == "revoke_all":
        services.revoke_all(user)
    elif change == "admin_revoke_all":
        admin = _client(app, "10.0.0.9")
        login(admin, R.ADMIN)
        assert admin.post(f"/users/{user.id}/devices/revoke", data={"what": "all"}).status_code == 303
    else:
        services.set_active(user, False)
        services.set_active(user, True)
    db.session.expire_all()
    _slow_down(app, R.INSPECTOR)
    # The copies are strangers now: refused unheard like any new device.
    assert _guess(app, R.INSPECTOR, cookie, key) == (429, 429)


def test_signing_in_again_with_the_new_password_makes_the_device_known_again(app, ctx, users):
    owner = _client(app, "10.0.0.1")
    assert login(owner, R.INSPECTOR).status_code == 303
    # The browser that changed the password stays known (re-stamped with the change).
    assert owner.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD}).status_code == 303
    owner.post("/logout")
    other = _client(app, "10.0.0.2")
    login(other, R.INSPECTOR, NEW_PASSWORD)
    other.post("/logout")
    _slow_down(app, R.INSPECTOR)
    assert login(owner, R.INSPECTOR, NEW_PASSWORD).status_code == 303
    assert login(other, R.INSPECTOR, NEW_PASSWORD).status_code == 303


def test_a_cookie_naming_several_accounts_loses_only_the_changed_one(app, ctx, users):
    desk = _client(app, "10.0.0.5")  # a shared office computer
    for role in (R.INSPECTOR, R.TEAM_LEAD):
        assert login(desk, role).status_code == 303
        desk.post("/logout")
    cookie = desk.get_cookie(COOKIE).value
    services.set_password(users[R.INSPECTOR], NEW_PASSWORD)
    _slow_down(app, R.INSPECTOR)
    _slow_down(app, R.TEAM_LEAD, start=50)
    assert login(_with_cookie(app, cookie), R.INSPECTOR, "guess-again").status_code == 429
    assert login(_with_cookie(app, cookie), R.TEAM_LEAD, "guess-again").status_code == 401


def test_a_cookie_signed_before_the_stamps_is_no_longer_known(app, ctx, users):
    """The old format (a signed bare list of ids) would have named the account for 180 days."""
    with app.test_request_context():
        old = URLSafeTimedSerializer(app.secret_key, salt="known-device").dumps([users[R.INSPECTOR].id])
    _slow_down(app, R.INSPECTOR)
    assert login(_with_cookie(app, old), R.INSPECTOR, "guess-again").status_code == 429
