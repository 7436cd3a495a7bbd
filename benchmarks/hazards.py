"""The hazard register at 100,000 hazards (issue #5 §2): list pages with filters, as the brigade lead
(everything) and as a team lead (their department's groups only).

    python benchmarks/hazards.py                     # 100,000 hazards on PostgreSQL
    python benchmarks/hazards.py --hazards 20000 --database-url ""     # smaller, on SQLite

Prints one JSON line last: hazards, requests, p50_ms, p95_ms, max_ms, and p95 per role.
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid as uuidlib
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import analyse, bench_app  # noqa: E402

TOWNS = ["城关镇", "东城街道", "西城街道", "河西乡", "北关镇", "南庄乡"]
INDUSTRIES = ["hazchem", "metallurgy", "machinery", "light_industry", "commerce"]


def load(app, n: int) -> None:
    from sqlalchemy import insert, select

    import sync as ingest
    from webapp.auth.services import create_user
    from webapp.db_types import utcnow
    from webapp.extensions import db
    from webapp.registries.models import Department
    from webapp.review.models import Hazard
    from webapp.sync.models import SyncRecord
    from webapp.tasks.models import Task

    ingest.setup(app, 200, 0)  # 200 inspectors of one department, 1,600 tasks with their groups
    with app.app_context():
        dept = db.session.scalar(select(Department))
        create_user("lead", "lead", "brigade_lead", "benchmark-pass")
        create_user("teamlead", "teamlead", "team_lead", "benchmark-pass", None, dept.id)
        tasks = db.session.scalars(select(Task)).all()
        from webapp.auth.models import User
        owner = db.session.scalar(select(User.id).where(User.inspector_id.is_not(None)).limit(1))
        rng, today, now = random.Random(5), utcnow().date(), utcnow()
        for start in range(0, n, 20000):
            records, hazards = [], []
            for k in range(start, min(n, start + 20000)):
                task = tasks[k % len(tasks)]
                uid = str(uuidlib.uuid4())
                records.append({"uuid": uid, "kind": "hazard", "task_id": task.id, "question": None, "revision": 1,
                                "data": {}, "content_hash": "0" * 64, "user_id": owner, "inspector_id": None,
                                "device_time": now, "received_at": now, "reassigned": False, "conflict": False,
                                "superseded": False})
                hazards.append({"record_uuid": uid, "task_id": task.id, "batch_id": task.batch_id,
                                "enterprise_id": task.enterprise_id, "enterprise_name": f"企业{k % 5000}",
                                "region": rng.choice(TOWNS), "industry": rng.choice(INDUSTRIES), "question": None,
                                "grade": "major" if rng.random() < 0.05 else "general", "description": "隐患描述",
                                "deadline": today + timedelta(days=rng.randrange(-120, 120)),
                                "status": rng.choice(["pending", "rectifying", "awaiting_review", "closed"]),
                                "note": "", "created_at": now, "supervised_by": ""})
            db.session.execute(insert(SyncRecord), records)
            db.session.execute(insert(Hazard), hazards)
            db.session.commit()
        analyse()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    urls = ["/hazards/", "/hazards/?status=pending", "/hazards/?overdue=1", "/hazards/?grade=major",
            "/hazards/?region=城关镇&industry=hazchem", "/hazards/?status=rectifying&overdue=1&region=河西乡",
            "/hazards/?q=企业123", "/hazards/?page=40"]
    timings = {}
    with bench_app(args.database_url or None) as app:
        load(app, args.hazards)
        for role in ("lead", "teamlead"):
            client = app.test_client()
            client.post("/login", data={"username": role, "password": "benchmark-pass"})
            for url in urls:  # warm-up
                client.get(url, headers={"HX-Request": "true"})
            for _ in range(5):
                for url in urls:
                    t0 = time.perf_counter()
                    resp = client.get(url, headers={"HX-Request": "true"})  # the list as the filters fetch it
                    timings.setdefault(role, []).append((time.perf_counter() - t0) * 1000)
                    assert resp.status_code == 200, (url, resp.status_code)
    every = sorted(v for vs in timings.values() for v in vs)

    def p95(values):
        values = sorted(values)
        return round(values[max(0, int(len(values) * 0.95) - 1)], 1)
    print(json.dumps({"hazards": args.hazards, "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
                      "requests": len(every), "p50_ms": round(statistics.median(every), 1), "p95_ms": p95(every),
                      "max_ms": round(every[-1], 1), "p95_ms_by_role": {k: p95(v) for k, v in timings.items()}}))


if __name__ == "__main__":
    main()
