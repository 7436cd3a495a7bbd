"""Sign-in throttling that cannot be turned into a lock-out (issue #11 point 8): by address, a growing delay
per account that a known device skips, the trail of attempts, no timing tell for unknown names, the
current-password check throttled, common passwords refused."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from webapp import roles as R
from webapp.auth import services
from webapp.auth.models import LoginAttempt
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.services import ServiceError
from tests.factories import PASSWORD, login, make_user


def _client(app, addr):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def _age_attempts(seconds: int) -> None:
    """Every attempt so far happened ``seconds`` ago (instead of sleeping)."""
    db.session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


def test_ten_addresses_five_failures_each_do_not_lock_the_owner_out_of_a_known_device(app, ctx, users):
    desk = _client(app, "192.168.1.20")
    assert login(desk, R.INSPECTOR).status_code == 303
    desk.post("/logout")  # the browser stays a known device for this account
    phone = _client(app, "10.20.0.7")
    first = phone.post("/api/v1/token", json={"username": R.INSPECTOR, "password": PASSWORD, "device": "手机"})
    device_key = first.get_json()["device_key"]

    for k in range(10):
        attacker = _client(app, f"203.0.113.{k}")
        for _ in range(5):
            assert login(attacker, R.INSPECTOR, "guess-again").status_code in (401, 429)
    assert db.session.scalar(select(func.count()).where(LoginAttempt.username == R.INSPECTOR,
                                                        LoginAttempt.success.is_(False))) == 50  # the trail

    # The owner's known browser and known phone get straight in, at once.
    assert login(desk, R.INSPECTOR).status_code == 303
    resp = _client(app, "10.20.0.8").post("/api/v1/token", json={"username": R.INSPECTOR, "password": PASSWORD,
                                                                 "device_key": device_key})
    assert resp.status_code == 200, resp.get_json()
    # A new device is slowed down, not locked out: it is heard once the delay has passed.
    stranger_desk = _client(app, "192.168.1.30")
    resp = login(stranger_desk, R.INSPECTOR, "guess-again")
    # (the owner's success reset the count: a few more failures bring the delay back)
    for _ in range(6):
        resp = login(stranger_desk, R.INSPECTOR, "guess-again")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert login(stranger_desk, R.INSPECTOR).status_code == 429  # refused unheard, right password or not
    _age_attempts(app.config["LOGIN_DELAY_MAX_SECONDS"] + 1)
    assert login(stranger_desk, R.INSPECTOR).status_code == 303


def test_a_forged_known_device_cookie_is_ignored(app, ctx, users):
    for k in range(8):
        login(_client(app, f"203.0.113.{k}"), R.INSPECTOR, "guess-again")
    forged = _client(app, "192.168.1.20")
    forged.set_cookie("ssj_known_device", "WzRd.forged.value")
    assert login(forged, R.INSPECTOR).status_code == 429


def test_the_delay_grows_and_hammering_while_refused_does_not_extend_it(app, ctx, users):
    base, free = app.config["LOGIN_DELAY_BASE_SECONDS"], app.config["LOGIN_FREE_FAILURES"]
    assert [services.account_delay(n) for n in range(free, free + 4)] == [base, 2 * base, 4 * base, 8 * base]
    assert services.account_delay(1000) == app.config["LOGIN_DELAY_MAX_SECONDS"]
    attacker = _client(app, "203.0.113.1")
    codes = [login(attacker, R.BRIGADE_LEAD, "nope").status_code for _ in range(free + 1)]
    assert codes == [401] * free + [429]
    for _ in range(20):  # hammering while refused: each refusal is recorded, none counts as a failure
        assert login(attacker, R.BRIGADE_LEAD, "nope").status_code == 429
    refused = db.session.scalar(select(func.count()).where(LoginAttempt.refused == "account"))
    assert refused == 21
    _age_attempts(base + 1)
    assert login(_client(app, "198.51.100.4"), R.BRIGADE_LEAD).status_code == 303


def test_per_address_throttle_holds_even_for_a_known_device(app, ctx, users):
    office = _client(app, "198.51.100.10")
    login(office, R.ADMIN)
    office.post("/logout")
    # One address guessing many names: no single account is slowed down, the address is.
    for k in range(app.config["LOGIN_MAX_FAILURES_PER_IP"]):
        assert login(office, f"nobody{k}", "x").status_code == 401
    resp = login(office, R.ADMIN)  # right password, known device: the address waits all the same
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    api = office.post("/api/v1/token", json={"username": R.INSPECTOR, "password": PASSWORD})
    assert api.status_code == 429 and api.is_json and api.headers["Retry-After"]
    assert login(_client(app, "198.51.100.11"), R.ADMIN).status_code == 303  # another address is heard
    assert db.session.scalar(select(func.count()).where(LoginAttempt.refused == "address")) == 2
    _age_attempts(app.config["LOGIN_WINDOW_MINUTES"] * 60 + 1)
    assert login(office, R.ADMIN).status_code == 303


def test_unknown_or_deactivated_names_still_cost_one_password_hash(app, ctx, users, monkeypatch):
    calls = []
    real = services.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    client = _client(app, "198.51.100.20")
    assert login(client, "no-such-person", "whatever").status_code == 401
    assert len(calls) == 1 and calls[0] == services._dummy_hash()
    users[R.BRIGADE_LEAD].active = False
    db.session.commit()
    assert login(client, R.BRIGADE_LEAD).status_code == 401
    assert len(calls) == 2
    unknown = client.post("/api/v1/token", json={"username": "no-such-person", "password": "x"})
    assert unknown.status_code == 401 and len(calls) == 3
    # Same words whether the name exists or not.
    assert (login(client, "no-such-person", "x").get_data(as_text=True).count("alert")
            == login(client, R.ADMIN, "x").get_data(as_text=True).count("alert"))


@pytest.mark.parametrize("password", ["woaini1314", "qq12345678", "1qaz2wsx", "password", "88888888",
                                      "Password123", "a12345678", "woaini5201314", "zzzzzzzzzz"])
def test_common_passwords_are_refused(app, ctx, password):
    with pytest.raises(ServiceError) as exc:
        services.create_user("someone", "某人", R.ADMIN, password)
    assert exc.value.field == "password"
    with pytest.raises(ServiceError):
        services.create_user("zhangwei2026", "张伟", R.ADMIN, "Zhangwei2026")  # the username itself


def test_common_password_refused_on_change(app, ctx, users):
    client = _client(app, "198.51.100.30")
    login(client, R.ADMIN)
    resp = client.post("/account/password", data={"current": PASSWORD, "new": "1qaz2wsx3edc"})
    assert resp.status_code == 422
    assert services.check_password_hash(users[R.ADMIN].password_hash, PASSWORD)


def test_the_current_password_check_is_throttled(app, ctx, users):
    client = _client(app, "198.51.100.40")
    login(client, R.ADMIN)
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        assert client.post("/account/password", data={"current": "guess", "new": "Gx7-lantern-orbit"}).status_code == 422
    resp = client.post("/account/password", data={"current": PASSWORD, "new": "Gx7-lantern-orbit"})
    assert resp.status_code == 429  # even the right one waits: the guesses are slowed down
    assert db.session.scalar(select(func.count()).where(LoginAttempt.kind == "reauth")) == free + 1
    # Strangers' failed sign-ins do not hold up the owner's change, nor the reverse.
    assert login(_client(app, "203.0.113.9"), R.ADMIN).status_code == 303
    _age_attempts(app.config["LOGIN_DELAY_BASE_SECONDS"] + 1)
    assert client.post("/account/password", data={"current": PASSWORD, "new": "Gx7-lantern-orbit"}).status_code == 303


def test_token_route_survives_odd_bodies(app, ctx, users):
    """Issue #11 point 13 on the token route: a JSON array was a 500."""
    client = _client(app, "198.51.100.50")
    for body in ([1, 2], "text", 7):
        resp = client.post("/api/v1/token", json=body)
        assert resp.status_code == 401 and resp.is_json
    for body in ({"username": "a\u0000b", "password": "x"}, {"username": "\ud800", "password": "x"}):
        resp = client.post("/api/v1/token", json=body)
        assert resp.status_code in (400, 401) and resp.is_json


def test_names_postgresql_cannot_store_are_kept_replaced_in_the_trail(app, ctx):
    """Defence in depth below the request filter (the CLI, other callers)."""
    with pytest.raises(ServiceError):
        services.authenticate("a\x00b\ud800", "x", "10.0.0.1")
    assert db.session.scalar(select(LoginAttempt.username)) == "a\ufffdb?"
