"""Issue #11 point 14, through a real gunicorn: a photo PUT answered before its body was read (already
held, a bad hash, a bad token) must leave the keep-alive connection usable for the phone's next request.

gunicorn (gthread, the worker that keeps connections alive) drains at most 64 KB of a body the app left
unread and otherwise closes the connection after answering it, so the body here is larger than that.
"""
import hashlib
import http.client
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from webapp import roles as R
from webapp.auth.models import User
from webapp.extensions import db
from webapp.sync.auth import issue_token
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app, ctx, tmp_path):
    """gunicorn on the test database (SQLite file or the PostgreSQL schema) and an upload folder of its own."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "SESSION_COOKIE_SECURE": "0"}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "2",
                                 "--keep-alive", "30", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                                 "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                probe.close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _noise_jpeg() -> bytes:
    """A real photo of about 300 KB: far above gunicorn's own 64 KB drain."""
    img = Image.frombytes("RGB", (500, 500), os.urandom(500 * 500 * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 200_000
    return out.getvalue()


def _exchange(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read(), resp


def test_early_answers_to_a_photo_put_keep_the_connection_usable(server, ctx):
    user = make_user(R.INSPECTOR, "phone")
    raw, _row = issue_token(db.session.get(User, user.id), "keep-alive test")
    db.session.commit()
    auth = {"Authorization": f"Bearer {raw}", "Content-Type": "application/octet-stream"}
    data = _noise_jpeg()
    sha = hashlib.sha256(data).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    status, body, _resp = _exchange(conn, "PUT", f"/api/v1/photos/{sha}", data, auth)
    assert status == 201, body
    sock = conn.sock
    early = [
        ("already held", f"/api/v1/photos/{sha}", auth, 200),
        ("bad hash", "/api/v1/photos/not-a-hash", auth, 400),
        ("bad token", f"/api/v1/photos/{sha}", {"Authorization": "Bearer forged"}, 401),
        ("no such route", "/api/v1/nowhere", auth, 404),
    ]
    for what, path, headers, expected in early:
        status, body, resp = _exchange(conn, "PUT", path, data, headers)
        assert status == expected, (what, body)
        assert resp.getheader("Connection", "").lower() != "close", what
        # The next request on the same connection: with the body left unread it failed (connection reset).
        status, body, _resp = _exchange(conn, "GET", f"/api/v1/photos/{sha}", headers=auth)
        assert status == 200 and b'"stored":true' in body.replace(b" ", b""), (what, body)
        assert conn.sock is sock, f"{what}: the connection was reopened"
    conn.close()
