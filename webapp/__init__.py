"""The application factory."""
import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import Config
from .extensions import babel, csrf, db, htmx, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; no side effects beyond the instance folder."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)

    if app.config["PROXY_FIX_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    from . import i18n
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: "Asia/Shanghai")
    i18n.init_app(app)
    from . import rendering
    rendering.init_app(app)  # issue #12 point 1: no repr, None or True/False on a page

    from . import (access, archive, audit, auth, brigade, checklists, deadlines, demo, documents, draws, jobs, public,
                   publication, pwa, registries, review, sync, tasks)
    from . import inputs
    inputs.init_app(app)  # issue #11 point 13: before the routes (its int converter) and the access check
    access.init_app(app)
    from . import security
    security.init_app(app)  # issue #11 point 9: CSP and the other security headers, secure cookies
    for module in (auth, audit, registries, checklists, draws, tasks, review, documents, publication, deadlines, archive,
                   sync, pwa, public, demo, brigade, jobs):
        module.init_app(app)
    return app


def _instance_secret(app: Flask) -> str:
    """A development key kept in the instance folder, shared by every worker on the host.

    Production sets SECRET_KEY in the environment (README, "Configuration").
    """
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        os.replace(tmp, path)
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys on, WAL and a busy timeout so threads and workers wait rather than fail."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()
