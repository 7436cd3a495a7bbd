"""Import benchmark: a 20,000-row enterprise file (XLSX, as offices keep it) into an empty pool.

Usage: python benchmarks/import.py [--rows N] [--database-url URL]
Builds a fresh database by the migrations (a temporary SQLite file unless --database-url names
a PostgreSQL database, where a throw-away schema is used), seeds the reference data, then times
the full import path (read, validate every cell, plan, write, audit). Prints one JSON line last.
"""
import argparse
import json
import random
import secrets
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
from webapp.registries.services import save_region  # noqa: E402
from webapp.registries.tabular import write_csv, write_xlsx  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url, schema = f"sqlite:///{tmp}/bench.db", None
    if args.database_url:
        base = normalise_db_url(args.database_url)
        schema = f"bench_{secrets.token_hex(4)}"
        with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp})
    try:
        result = run(app, args.rows)
    finally:
        if schema:
            with app.app_context():
                from webapp.extensions import db
                db.engine.dispose()
            with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    print(json.dumps(result))


def run(app, n: int) -> dict:
    with app.app_context():
        from flask import g

        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        g.audit_actor = "benchmark"
        towns = [(name, f"{COUNTY_CODE}{100 + i:03d}") for i, name in enumerate(TOWNSHIPS)]
        for name, code in towns:
            save_region(code, name)
        rows = list(enterprise_rows(n, towns, random.Random(1)))
        xlsx = write_xlsx(headers("enterprises"), rows, "检查对象名录库")
        csv_bytes = write_csv(headers("enterprises"), rows)

        t0 = time.perf_counter()
        report = import_file("enterprises", "enterprises.xlsx", xlsx)
        import_s = time.perf_counter() - t0
        assert report.ok and len(report.created) == n, report.errors[:3]
        from webapp.extensions import db

        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))  # autovacuum is off here; production would have analysed
            db.session.commit()

        t0 = time.perf_counter()
        again = import_file("enterprises", "enterprises.csv", csv_bytes)
        unchanged_s = time.perf_counter() - t0
        assert again.ok and again.unchanged == n

        t0 = time.perf_counter()
        check = import_file("enterprises", "enterprises.xlsx", xlsx, commit=False)
        check_s = time.perf_counter() - t0
        return {"rows": n, "format": "xlsx", "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
                "import_s": round(import_s, 2), "check_only_s": round(check_s, 2),
                "reimport_unchanged_csv_s": round(unchanged_s, 2), "xlsx_bytes": len(xlsx)}


if __name__ == "__main__":
    main()
