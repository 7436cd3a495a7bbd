"""Import benchmark: a 20,000-row enterprise file (XLSX, as offices keep it) into an empty pool.

Usage: python benchmarks/import.py [--rows N] [--database-url URL]
Builds a fresh database by the migrations (a temporary SQLite file unless --database-url names
a PostgreSQL database, where a throw-away schema is used), registers the townships, then times
the full import path (read, validate every cell, plan, write, audit). Prints one JSON line last.
"""
import argparse
import json
import random
import time

from _common import analyse, bench_app, db_name, demo_townships

from webapp.demo.seed import enterprise_rows
from webapp.registries.import_specs import headers
from webapp.registries.io import import_file
from webapp.registries.tabular import write_csv, write_xlsx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with bench_app(args.database_url) as app, app.app_context():
        print(json.dumps(run(app, args.rows)))


def run(app, n: int) -> dict:
    from flask import g

    g.audit_actor = "benchmark"
    rows = list(enterprise_rows(n, demo_townships(), random.Random(1)))
    xlsx = write_xlsx(headers("enterprises"), rows, "检查对象名录库")
    csv_bytes = write_csv(headers("enterprises"), rows)

    t0 = time.perf_counter()
    report = import_file("enterprises", "enterprises.xlsx", xlsx)
    import_s = time.perf_counter() - t0
    assert report.ok and len(report.created) == n, report.errors[:3]
    analyse()

    t0 = time.perf_counter()
    again = import_file("enterprises", "enterprises.csv", csv_bytes)
    unchanged_s = time.perf_counter() - t0
    assert again.ok and again.unchanged == n

    t0 = time.perf_counter()
    check = import_file("enterprises", "enterprises.xlsx", xlsx, commit=False)
    check_s = time.perf_counter() - t0
    assert check.ok
    return {"rows": n, "format": "xlsx", "database": db_name(app), "import_s": round(import_s, 2),
            "check_only_s": round(check_s, 2), "reimport_unchanged_csv_s": round(unchanged_s, 2),
            "xlsx_bytes": len(xlsx)}


if __name__ == "__main__":
    main()
