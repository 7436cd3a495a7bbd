"""Back-office list benchmark: the enterprise list with search, filters and paging at 100,000 enterprises.

Usage: python benchmarks/lists.py [--enterprises N] [--database-url URL]
Loads N enterprises through the import path, then requests typical list pages (first page, a name
search, a credit-code prefix, township + industry filter, a flag, a deep page, a search with no hit)
through the WSGI app as a signed-in brigade lead, 5 rounds. Prints one JSON line last:
enterprises, requests, p50_ms, p95_ms, max_ms.
"""
import argparse
import json
import random
import statistics
import time

from _common import analyse, bench_app, db_name, demo_townships

from webapp.demo.seed import enterprise_rows
from webapp.registries.import_specs import headers
from webapp.registries.io import import_file
from webapp.registries.tabular import write_csv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with bench_app(args.database_url) as app:
        print(json.dumps(run(app, args.enterprises)))


def load(n: int) -> tuple[str, int]:
    from flask import g

    from webapp.auth.services import create_user
    from webapp.extensions import db
    from webapp.registries.models import Region

    g.audit_actor = "benchmark"
    rows = list(enterprise_rows(n, demo_townships(), random.Random(3)))
    for start in range(0, n, 20000):
        report = import_file("enterprises", "e.csv", write_csv(headers("enterprises"), rows[start:start + 20000]))
        assert report.ok, report.errors[:3]
    create_user("lead", "lead", "brigade_lead", "benchmark-pass")
    analyse()
    return rows[n // 2][0][:12], db.session.scalars(db.select(Region.id).order_by(Region.id).offset(3).limit(1)).one()


def run(app, n: int) -> dict:
    with app.app_context():
        prefix, region = load(n)
    client = app.test_client()
    client.post("/login", data={"username": "lead", "password": "benchmark-pass"})
    urls = ["/enterprises", "/enterprises?q=化工", f"/enterprises?q={prefix}",
            f"/enterprises?region={region}&industry=machinery", "/enterprises?flag=blacklisted",
            f"/enterprises?page={n // 100}", "/enterprises?q=不存在的名字"]
    timings = []
    for _ in range(5):
        for url in urls:
            t0 = time.perf_counter()
            resp = client.get(url, headers={"HX-Request": "true"})
            timings.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200
    timings.sort()
    return {"enterprises": n, "requests": len(timings), "database": db_name(app),
            "p50_ms": round(statistics.median(timings), 1), "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
            "max_ms": round(timings[-1], 1)}


if __name__ == "__main__":
    main()
