"""Public search of published results (R20) at 1,000,000 results, 50 concurrent clients (issue #5).

    python benchmarks/public.py                      # 1,000,000 results on PostgreSQL, gunicorn 4 workers
    python benchmarks/public.py --results 50000 --database-url ""      # smaller, on SQLite

Bulk-loads the results with SQL (names of 2-character trade names, industry words and suffixes, 12
townships, 7 categories, 20 batches), ANALYZEs, starts gunicorn, then 50 client threads each send
requests drawn from a fixed mix, pausing about ``--think-ms`` (default 1 s) between requests as a person
reading the page would (``--think-ms 0`` hammers the server instead, which measures throughput): a trade name and industry word (e.g. 福康矿业), a trade name alone (福康),
a credit-code prefix, township + result, a batch (pages 1–5), and a search with no hit. Prints one JSON
line last: results, clients, requests, p50_ms, p95_ms, max_ms (per kind too).
"""
import argparse
import http.client
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import analyse, bench_app, start_gunicorn  # noqa: E402

TRADE = "福康泰安鑫隆华盛兴达丰源宏昌永顺金瑞恒通德润广和天成嘉禾远明新宇晨光"
INDUSTRY = ["矿业", "化工", "机械", "商贸", "建材", "纺织", "食品", "冶金", "电力", "物流"]
SUFFIX = ["有限公司", "有限责任公司", "股份有限公司"]
TOWNS = ["城关镇", "东城街道", "西城街道", "河西乡", "北关镇", "南庄乡", "李家庄镇", "王村镇", "柳林乡", "青石镇",
         "大河镇", "石门乡"]
CATEGORIES = ["no_problem", "corrected", "pending", "non_cooperation", "no_activity", "closed", "unreachable"]
BATCHES = 20


def load(app, n: int) -> None:
    """Plan, batches and one task per result (the foreign keys), then the results, all in SQL."""
    from webapp.db_types import utcnow
    from webapp.draws.models import Batch, Draw, Plan
    from webapp.extensions import db
    from webapp.registries.models import Enterprise, Region

    with app.app_context():
        region = Region(code="140525100", name="城关镇")
        db.session.add(region)
        db.session.flush()
        ent = Enterprise(uscc="91140525000000000X", name="基准企业", region_id=region.id, industry="other")
        plan = Plan(year=2026, title="基准", state="published", created_by="bench")
        db.session.add_all([ent, plan])
        db.session.flush()
        batches = [Batch(plan=plan, seq=k + 1, title=f"第{k + 1}批") for k in range(BATCHES)]
        for b in batches:
            b.window_start = b.window_end = utcnow().date()
        db.session.add_all(batches)
        db.session.flush()
        draw = Draw(batch_id=batches[0].id, seq=1, draw_id="BENCH", state="drawn", beacon_ref="b", beacon_at=utcnow())
        db.session.add(draw)
        db.session.commit()
        from sqlalchemy import insert

        from webapp.publication.models import PublishedResult
        from webapp.tasks.models import Task
        rng = random.Random(7)
        step = 50_000
        today = utcnow().date()
        for start in range(0, n, step):
            count = min(step, n - start)
            tasks = [{"batch_id": batches[(start + k) % BATCHES].id, "draw_pk": draw.id, "enterprise_id": ent.id,
                      "uscc": "", "enterprise": {}, "items": [], "checklists": [], "method": "onsite",
                      "start_date": today, "due_date": today, "publication_days": 20, "review_state": "approved"}
                     for k in range(count)]
            ids = db.session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), tasks).all()
            rows = []
            for k, task_id in enumerate(ids):
                i = start + k
                name = (rng.choice(TRADE) + rng.choice(TRADE) + rng.choice(INDUSTRY) + rng.choice(SUFFIX))
                rows.append({"task_id": task_id, "version": 1, "current": True, "category": rng.choice(CATEGORIES),
                             "enterprise_name": rng.choice(TOWNS)[:2] + name, "uscc": f"91140525{i:09d}X",
                             "region": rng.choice(TOWNS), "batch_id": batches[i % BATCHES].id,
                             "batch_title": f"第{i % BATCHES + 1}批", "year": 2026, "inspected_on": utcnow().date(),
                             "hazards_found": rng.randrange(4), "hazards_closed": 0, "reason": "",
                             "published_at": utcnow(), "published_by": None})
            db.session.execute(insert(PublishedResult), rows)
            db.session.commit()
        analyse()


def query_mix(rng: random.Random) -> tuple[str, dict]:
    kind = rng.choice(["name", "name", "trade", "code", "region_result", "batch", "miss"])
    trade = rng.choice(TRADE) + rng.choice(TRADE)
    if kind == "name":
        return kind, {"q": trade + rng.choice(INDUSTRY)}
    if kind == "trade":
        return kind, {"q": trade}
    if kind == "code":
        return kind, {"q": f"91140525{rng.randrange(10 ** 6):06d}"}
    if kind == "region_result":
        return kind, {"region": rng.choice(TOWNS), "result": rng.choice(CATEGORIES)}
    if kind == "batch":
        return kind, {"batch": str(rng.randrange(1, BATCHES + 1)), "page": str(rng.randrange(1, 6))}
    return kind, {"q": "不存在的企业名称"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="per client")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="mean pause between one client's requests, as a person reads a page (0: none)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    with bench_app(args.database_url or None) as app:
        t0 = time.perf_counter()
        load(app, args.results)
        load_s = time.perf_counter() - t0
        server, port = start_gunicorn(app, args.workers, 4)
        timings: dict[str, list[float]] = {}
        lock = threading.Lock()
        try:

            def client(seed: int):
                rng = random.Random(seed)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                for _ in range(args.requests):
                    kind, params = query_mix(rng)
                    t = time.perf_counter()
                    conn.request("GET", "/public/results?" + urllib.parse.urlencode(params),
                                 headers={"Accept-Language": "zh-CN"})
                    resp = conn.getresponse()
                    body = resp.read()
                    elapsed = (time.perf_counter() - t) * 1000
                    assert resp.status == 200 and b"<html" in body, resp.status
                    with lock:
                        timings.setdefault(kind, []).append(elapsed)
                    if args.think_ms:
                        time.sleep(rng.uniform(0.5, 1.5) * args.think_ms / 1000)

            # Warm up each worker's connections and caches, as a server in service would be.
            think, args.think_ms = args.think_ms, 0
            warm = [threading.Thread(target=client, args=(1000 + k,)) for k in range(args.workers * 2)]
            for t in warm:
                t.start()
            for t in warm:
                t.join()
            timings.clear()
            args.think_ms = think
            threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
            t1 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t1
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    every = sorted(v for vs in timings.values() for v in vs)

    def p95(values):
        values = sorted(values)
        return round(values[max(0, int(len(values) * 0.95) - 1)], 1)

    print(json.dumps({
        "results": args.results, "clients": args.clients, "think_ms": args.think_ms, "requests": len(every),
        "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0], "load_s": round(load_s, 1),
        "requests_per_s": round(len(every) / wall, 1), "p50_ms": round(statistics.median(every), 1),
        "p95_ms": p95(every), "max_ms": round(every[-1], 1),
        "p95_ms_by_kind": {k: p95(v) for k, v in sorted(timings.items())},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
