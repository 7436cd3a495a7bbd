"""Shared set-up for benchmarks: a fresh database built by the migrations, thrown away afterwards."""
import secrets
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from flask import g  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.config import normalise_db_url  # noqa: E402
from webapp.demo.seed import COUNTY_CODE, TOWNSHIPS  # noqa: E402
from webapp.extensions import db  # noqa: E402


@contextmanager
def bench_app(database_url: str | None):
    """An app on a temporary SQLite file, or on a throw-away schema of the PostgreSQL database named."""
    tmp = tempfile.mkdtemp()
    url, schema, base = f"sqlite:///{tmp}/bench.db", None, None
    if database_url:
        base = normalise_db_url(database_url)
        schema = f"bench_{secrets.token_hex(4)}"
        with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp,
                      "WTF_CSRF_ENABLED": False})
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
            g.audit_actor = "benchmark"
        yield app
    finally:
        if schema:
            with app.app_context():
                db.engine.dispose()
            with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def demo_townships() -> list[tuple[str, str]]:
    """Register the demo county's townships; return ``(name, code)`` pairs."""
    from webapp.registries.services import save_region

    towns = [(name, f"{COUNTY_CODE}{100 + i:03d}") for i, name in enumerate(TOWNSHIPS)]
    for name, code in towns:
        save_region(code, name)
    return towns


def analyse() -> None:
    """Autovacuum is off on the test server; production would have analysed after a bulk load."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def db_name(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]


def start_gunicorn(app, workers: int, threads: int, **env):
    """gunicorn on the benchmark's database at a free-ish port, once it answers ``/healthz``; (process, port)."""
    import http.client
    import os
    import random
    import subprocess
    import time

    port = 20000 + random.randrange(20000)
    environ = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "bench", **env}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread",
                               "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "--timeout", "300", "wsgi:app"], cwd=ROOT, env=environ)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
            break
        except OSError:
            time.sleep(0.2)
    return server, port
