"""Security headers and cookies (issue #11 point 9): a CSP with no inline script, no eval and no inline style,
nosniff, no framing, a referrer policy, HSTS on HTTPS only (X-Forwarded-Proto believed only behind a
configured proxy), and Secure session cookies by default outside development and tests.

The pages themselves are checked in a real browser under this policy in tests/browser/test_csp.py."""
import re
from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import env_flag

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "webapp" / "templates"


def _csp(resp) -> dict:
    policy = resp.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


@pytest.mark.parametrize("path", ["/", "/login", "/public/plans", "/public/results", "/app/", "/app/app.js",
                                  "/static/app.css", "/healthz", "/no-such-page"])
def test_every_response_carries_the_headers(client, path):
    resp = client.get(path)
    resp.close()  # a file served (the app shell, a static file) must not leak its handle
    csp = _csp(resp)
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert "unsafe" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: HSTS means nothing there


def test_a_view_keeps_its_stricter_referrer_policy():
    """The enterprise's page holds its token in the address: it says no-referrer, and the default does not
    overwrite it (the route sets it; tests/review/test_enterprise.py reaches a real link)."""
    from flask import Flask

    from webapp import security
    small = Flask(__name__)
    small.config["SESSION_COOKIE_SECURE"] = False

    @small.get("/x")
    def x():
        return "x", 200, {"Referrer-Policy": "no-referrer"}
    security.init_app(small)
    resp = small.test_client().get("/x")
    assert resp.headers["Referrer-Policy"] == "no-referrer" and "Content-Security-Policy" in resp.headers


def test_a_pdf_opens_in_the_browsers_viewer():
    """Chromium's PDF viewer is an <embed> with inline styles: object-src 'none' or style-src 'self' on the PDF
    itself would leave it blank. A PDF keeps only the framing rule (and nosniff, X-Frame-Options)."""
    from flask import Flask

    from webapp import security
    small = Flask(__name__)
    small.config["SESSION_COOKIE_SECURE"] = False

    @small.get("/doc.pdf")
    def doc():
        return b"%PDF-1.4", 200, {"Content-Type": "application/pdf"}
    security.init_app(small)
    resp = small.test_client().get("/doc.pdf")
    assert resp.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_on_https_only(client):
    resp = client.get("/login", base_url="https://ssj.example.gov.cn")
    assert re.fullmatch(r"max-age=\d{7,}", resp.headers["Strict-Transport-Security"])
    # Without a configured proxy, X-Forwarded-Proto is anyone's to send: not believed.
    forged = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


@pytest.fixture
def make_app(database_url, tmp_path):
    """Apps configured otherwise than the test app; their database connections are closed afterwards."""
    from webapp.extensions import db
    made = []

    def make(**config):
        made.append(create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database_url,
                                "UPLOAD_FOLDER": str(tmp_path), "CHECKLIST_FOLDER": str(ROOT / "checklists"),
                                **config}))
        return made[-1]
    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def test_hsts_behind_a_configured_proxy(make_app):
    proxied = make_app(PROXY_FIX_HOPS=1, SESSION_COOKIE_SECURE=True)
    # create_app wraps the app in ProxyFix only when the hops are known at creation; PROXY_FIX_HOPS
    # comes from the environment in production, here from the test config.
    resp = proxied.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"})
    assert "max-age=" in resp.headers.get("Strict-Transport-Security", "")
    plain = proxied.test_client().get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


def test_session_cookie_is_secure_by_default_outside_development(app, make_app):
    production = make_app()  # no TESTING, no DEBUG, SESSION_COOKIE_SECURE unset
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax" and production.config["SESSION_COOKIE_HTTPONLY"]
    assert production.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    cookie = production.test_client().get("/login", base_url="https://ssj.example.gov.cn").headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    # Development and tests serve plain HTTP; the environment switch turns it off for a plain-HTTP server.
    assert make_app(DEBUG=True).config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is False  # the test app (TESTING)
    assert make_app(SESSION_COOKIE_SECURE=False).config["SESSION_COOKIE_SECURE"] is False


def test_the_environment_switch(monkeypatch):
    for value, meaning in (("1", True), ("true", True), ("0", False), ("off", False), ("", None)):
        monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
        assert env_flag("SESSION_COOKIE_SECURE") is meaning
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    assert env_flag("SESSION_COOKIE_SECURE") is None


# --- the markup: nothing the policy would block --------------------------------------------------------

INLINE = [
    # A data block (<script type="application/json">, the charts' figures) is never executed, so script-src
    # does not apply to it; any other <script> without src is inline code the policy blocks.
    (re.compile(r"""<script(?![^>]*\ssrc=)(?![^>]*\stype=["']?application/json)[^>]*>""", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* event handler attribute"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on (needs eval)"),
    (re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I), "javascript: URL"),
    (re.compile(r"""hx-(vals|vars|headers)\s*=\s*["']\s*(js|javascript):""", re.I), "js: value (needs eval)"),
    (re.compile(r"\sstyle\s*=", re.I), "inline style attribute"),
    (re.compile(r"<style", re.I), "inline <style>"),
]


def _markup():
    yield from sorted(TEMPLATES.rglob("*.html"))
    yield ROOT / "pwa" / "index.html"


@pytest.mark.parametrize("path", list(_markup()), ids=lambda p: str(p.relative_to(ROOT)))
def test_markup_has_nothing_the_policy_blocks(path):
    text = path.read_text(encoding="utf-8")
    found = [(what, text[:m.start()].count("\n") + 1) for pattern, what in INLINE for m in pattern.finditer(text)]
    # An event filter, click[ctrlKey], is evaluated as JavaScript; a selector after from: is not.
    for m in re.finditer(r'hx-trigger="([^"]*)"', text):
        if any("[" in part.split()[0] for part in m.group(1).split(",") if part.split()):
            found.append(("hx-trigger event filter (needs eval)", text[:m.start()].count("\n") + 1))
    assert found == [], f"{path.relative_to(ROOT)}: {found}"


def test_htmx_runs_without_eval_and_without_injected_styles(client):
    page = client.get("/login").get_data(as_text=True)
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    import json
    config = json.loads(meta.group(1))
    assert config == {"allowEval": False, "allowScriptTags": False, "includeIndicatorStyles": False}
    css = (ROOT / "webapp" / "static" / "app.css").read_text()
    assert ".htmx-request .htmx-indicator" in css  # the indicator styles htmx would have injected
