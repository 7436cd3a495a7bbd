"""The signed-in devices page names a device as a person would, not by its raw User-Agent."""
import pytest

from webapp.auth import device_name


@pytest.mark.parametrize("agent, name", [
    ("Mozilla/5.0 (Linux; Android 12; HUAWEI) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0 Mobile "
     "Safari/537.36 MicroMessenger/8.0", "微信 8 · Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.0 Mobile/15E148 Safari/604.1", "Safari 17 · iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
     "Safari/537.36 Edg/120.0", "Edge 120 · Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128 · Linux"),
    ("curl/8.0", "curl/8.0"),
])
def test_device_names(agent, name):
    assert device_name(agent) == name


def test_the_devices_page_shows_the_name_and_keeps_the_agent_in_the_tooltip(app, users):
    from tests.factories import PASSWORD
    client = app.test_client()
    agent = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
    client.post("/login", data={"username": "inspector", "password": PASSWORD}, headers={"User-Agent": agent})
    page = client.get("/account/devices", headers={"User-Agent": agent}).get_data(as_text=True)
    assert "Chrome 131 · Android" in page and f'title="{agent}"' in page
