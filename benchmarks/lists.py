"""Back-office list benchmark: the enterprise list with search, filters and paging at 100,000 enterprises.

Usage: python benchmarks/lists.py [--enterprises N] [--database-url URL]
Loads N enterprises through the import path, then requests typical list pages (first page, a name
search, a credit-code prefix, township + industry filter, a deep page) through the WSGI app as a
signed-in team lead. Prints one JSON line last: enterprises, requests, p50_ms, p95_ms, max_ms.
"""
import argparse
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.config import normalise_db_url  # noqa: E402
from webapp.demo.seed import COUNTY_CODE, TOWNSHIPS, enterprise_rows  # noqa: E402
from webapp.registries.import_specs import headers  # noqa: E402
from webapp.registries.io import import_file  # noqa: E402
from webapp.registries.tabular import write_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url, schema, base = f"sqlite:///{tmp}/bench.db", None, None
    if args.database_url:
        base = normalise_db_url(args.database_url)
        schema = f"bench_{secrets.token_hex(4)}"
        with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp,
                      "WTF_CSRF_ENABLED": False})
    try:
        result = run(app, args.enterprises)
    finally:
        if schema:
            with app.app_context():
                from webapp.extensions import db
                db.engine.dispose()
            with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    print(json.dumps(result))


def run(app, n: int) -> dict:
    from flask import g

    from webapp.auth.services import create_user
    from webapp.extensions import db
    from webapp.registries.services import save_region

    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        g.audit_actor = "benchmark"
        towns = [(name, f"{COUNTY_CODE}{100 + i:03d}") for i, name in enumerate(TOWNSHIPS)]
        regions = [save_region(code, name).id for name, code in towns]
        rows = list(enterprise_rows(n, towns, random.Random(3)))
        for start in range(0, n, 20000):
            assert import_file("enterprises", "e.csv", write_csv(headers("enterprises"), rows[start:start + 20000])).ok
        create_user("lead", "lead", "team_lead", "benchmark-pass")
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        prefix = rows[n // 2][0][:12]
    client = app.test_client()
    client.post("/login", data={"username": "lead", "password": "benchmark-pass"})
    pages = n // 50
    urls = ["/enterprises", "/enterprises?q=化工", "/enterprises?q=" + prefix,
            f"/enterprises?region={regions[3]}&industry=machinery", "/enterprises?flag=blacklisted",
            f"/enterprises?page={pages // 2}", "/enterprises?q=不存在的名字"]
    timings = []
    for _ in range(5):
        for url in urls:
            t0 = time.perf_counter()
            resp = client.get(url, headers={"HX-Request": "true"})
            timings.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200
    timings.sort()
    return {"enterprises": n, "requests": len(timings), "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1), "max_ms": round(timings[-1], 1),
            "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]}


if __name__ == "__main__":
    main()
