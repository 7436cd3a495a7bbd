"""The passwords guessed first are refused however they are dressed up (issue #11 point 8, F6): a listed
word or number with digits and punctuation around it, leetspeak, vendors' defaults, keyboard walks with the
shift key, dates, phone numbers, 520/1314 numbers, the published demo password, the current password again;
reasonable passphrases and random passwords still pass."""
import pytest

from webapp import roles as R
from webapp.auth import services
from webapp.demo.seed import DEMO_PASSWORD
from webapp.services import ServiceError
from tests.factories import PASSWORD, login

REFUSED = [
    # the tester's list
    "woaini1314!", "qq123456!", "12345678.", "Passw0rd!", "Aa123456!", "Abc@1234", "1qaz@WSX", "Qwer1234!",
    "Huawei@123", "huawei123", "baobao123", "5201314520", "19491001", "20080808", "13800138000", DEMO_PASSWORD,
    # the same classes
    "Admin@123", "Sangfor@2024", "H3C@123", "Hikvision12345", "P@ssw0rd123", "4dmin@2024", "!QAZ2wsx",
    "zaq1@WSX", "qazwsxedc", "1q2w3e4r", "xixi520!", "SSJ-Demo-2027", "abcabc123", "19870312", "03121987",
    "18612345678", "12121212", "5211314!", "Woaini@520", "  password1  ",
]
ACCEPTED = ["青山绿水2026巡查", "correct horse battery", "Ssj#Hz7q!m2", "Gx7-lantern-orbit", "tiger-lake-88",
            "Mk8#vLq2!", "plum7wind-north", "应急管理局2026巡查", "qq83920174", "xiaolan-2019-hz"]


@pytest.mark.parametrize("password", REFUSED)
def test_guessable_passwords_are_refused(app, ctx, password):
    with pytest.raises(ServiceError) as exc:
        services.create_user("someone", "某人", R.ADMIN, password)
    assert exc.value.field == "password"


@pytest.mark.parametrize("password", ACCEPTED)
def test_reasonable_passwords_are_accepted(app, ctx, password):
    assert services.create_user("someone", "某人", R.ADMIN, password).id


def test_the_username_dressed_up_is_refused(app, ctx):
    for password in ("Zhangsan@1990", "zh4ngs4n2026!", "ZHANGSAN_88"):
        with pytest.raises(ServiceError):
            services.create_user("zhangsan", "张三", R.ADMIN, password)


def test_only_the_demo_seeding_may_set_the_demo_password(app, ctx, users):
    user = services.create_user("demo-admin", "演示", R.ADMIN, DEMO_PASSWORD, demo=True)
    assert services.check_password_hash(user.password_hash, DEMO_PASSWORD)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.60"
    login(client, R.ADMIN)
    resp = client.post("/account/password", data={"current": PASSWORD, "new": DEMO_PASSWORD})
    assert resp.status_code == 422
    assert services.check_password_hash(users[R.ADMIN].password_hash, PASSWORD)


def test_the_new_password_must_differ_from_the_current_one(app, ctx, users):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.61"
    assert login(client, R.ADMIN).status_code == 303
    resp = client.post("/account/password", data={"current": PASSWORD, "new": PASSWORD})
    assert resp.status_code == 422
    with pytest.raises(ServiceError) as exc:
        services.set_password(users[R.ADMIN], PASSWORD)
    assert exc.value.field == "password"
    assert client.post("/account/password", data={"current": PASSWORD, "new": "Gx7-lantern-orbit"}).status_code == 303
