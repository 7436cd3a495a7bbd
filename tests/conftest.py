"""Fixtures: one app and schema per session (built by the real migrations), rows wiped per test.

Set TEST_DATABASE_URL=postgresql://… to run the same suite on PostgreSQL; it works in a
schema of its own that is dropped afterwards, so the database's other contents are untouched.
"""
import os
import secrets
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine, delete, insert, text

from webapp import create_app
from webapp.audit.models import GENESIS, AuditHead
from webapp.config import normalise_db_url
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    base = normalise_db_url(pg)
    schema = f"t_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")), "WTF_CSRF_ENABLED": False,
        "CHECKLIST_FOLDER": str(ROOT / "checklists"),
    })
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts with empty tables and a fresh audit chain."""
    yield
    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.execute(insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly, as the CLI does."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


from tests.factories import *  # noqa: E402,F401,F403  (fixtures and factories)
