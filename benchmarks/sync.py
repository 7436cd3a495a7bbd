"""Server ingest of a day's field work (issue #4).

    python benchmarks/sync.py            # 200 phones at once, each 8 inspections x 60 answers, 5 hazards,
                                         # 40 photos of ~400 KB; gunicorn (4 workers) on PostgreSQL;
                                         # 5 % of requests cut (half the body sent, or the reply never read)
    python benchmarks/sync.py --phones 20 --database-url ""     # smaller, on SQLite

Every phone uploads its photos, then sends its inspections (one request each: 60 answers, its
hazards, the outcome), all phones at once in each phase. Prints ``photos_per_s`` over the photo phase,
``inspections_per_s`` over the record phase, ``p95_ms`` of the record uploads (an inspection each), ``peak_rss_mb`` of the gunicorn master and
workers together, and ``lost`` / ``duplicated``: records or photos the phones sent that the server
does not hold, and records applied more than once. The last line is one JSON object.
"""
import argparse
import http.client
import io
import json
import os
import random
import signal
import socket
import statistics
import sys
import threading
import time
import uuid as uuidlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import bench_app, start_gunicorn  # noqa: E402

QUESTIONS, INSPECTIONS, HAZARDS, PHOTOS = 60, 8, 5, 40


def setup(app, phones: int, history_days: int) -> list[dict]:
    """Registries, one checklist of 60 questions, for each phone an inspector with 8 tasks and a token, and
    ``history_days`` earlier days of the same work already on the server (a server in service holds
    earlier inspections; its query plans and statistics are those of a full table, not an empty one)."""
    from PIL import Image  # noqa: F401  (Pillow must be there for the server)

    from webapp.auth.models import User
    from webapp.checklists.loader import load_documents
    from webapp.draws.models import Batch, Draw, Plan
    from webapp.extensions import db
    from webapp.registries.models import (Competence, Department, Enterprise, InspectionItem, InspectionItemVersion,
                                          Inspector, Region)
    from webapp.sync.auth import issue_token
    from webapp.tasks.models import Task, TaskMember
    from webapp.db_types import utcnow
    from _common import analyse

    with app.app_context():
        dept = Department(name="综合行政执法大队", kind="brigade")
        region = Region(code="140525100", name="城关镇")
        db.session.add_all([dept, region, Competence(name="工贸")])
        db.session.flush()
        item = InspectionItem(code="GM-GEN-01", latest_version=1)
        db.session.add(item)
        db.session.flush()
        db.session.add(InspectionItemVersion(item_id=item.id, version=1, department_id=dept.id, name="工贸检查",
                                             legal_basis="安全生产法第六十五条", content="检查", method="onsite",
                                             is_random=True, valid_from=date(2023, 5, 15)))
        db.session.commit()
        questions = "\n".join(f"  - {{id: B-{k:03d}, item: GM-GEN-01, text: 第{k}项, basis: 第{k}条, answer: choice, "
                              f"hazard_grade: general}}" for k in range(QUESTIONS))
        report = load_documents([("bench@1.yaml", (f"code: bench\nversion: \"1\"\ntitle: 基准\nsource: {{title: 基准, "
                                                   f"document_no: 1号, valid_from: 2023-05-15}}\ncompetences: [工贸]\n"
                                                   f"questions:\n{questions}\n").encode())])
        assert not report.errors, report.errors
        from webapp.checklists.models import ChecklistVersion
        checklist = db.session.scalar(db.select(ChecklistVersion))
        today = date.today()
        plan = Plan(year=today.year, title="基准", state="published", created_by="bench")
        batch = Batch(plan=plan, seq=1, title="基准", window_start=today, window_end=today + timedelta(days=30))
        db.session.add_all([plan, batch])
        db.session.flush()
        draw = Draw(batch_id=batch.id, seq=1, draw_id="BENCH", state="drawn", beacon_ref="bench", beacon_at=utcnow())
        db.session.add(draw)
        db.session.flush()
        inspectors = [Inspector(name=f"检查员{k}", department_id=dept.id, cert_no=f"B{k:06d}",
                                cert_expiry=today + timedelta(days=900)) for k in range(phones)]
        db.session.add_all(inspectors)
        enterprises = [Enterprise(uscc=f"9114052500{k:07d}X"[:18], name=f"企业{k}", region_id=region.id, industry="machinery")
                       for k in range(phones * INSPECTIONS)]
        db.session.add_all(enterprises)
        db.session.flush()
        users = [User(username=f"phone{k}", display_name=f"phone{k}", password_hash="!", role="inspector",
                      inspector_id=inspectors[k].id) for k in range(phones)]
        db.session.add_all(users)
        db.session.flush()
        frozen = [{"id": checklist.id, "code": "bench", "version": "1", "title": "基准"}]
        plans = []
        for k, user in enumerate(users):
            tasks = []
            for j in range(INSPECTIONS):
                e = enterprises[k * INSPECTIONS + j]
                task = Task(batch_id=batch.id, draw_pk=draw.id, enterprise_id=e.id, uscc=e.uscc, enterprise={"name": e.name},
                            items=[], checklists=frozen, method="onsite", start_date=today, due_date=today,
                            publication_days=20)
                task.members = [TaskMember(inspector_id=inspectors[k].id, position=0),
                                TaskMember(inspector_id=inspectors[(k + 1) % phones].id, position=1)]
                db.session.add(task)
                tasks.append(task)
            plans.append((user, tasks))
        db.session.commit()
        _history(plans, history_days, frozen, today)
        analyse()
        out = []
        for user, tasks in plans:
            raw, _row = issue_token(user, "bench")
            out.append({"token": raw, "tasks": [t.id for t in tasks]})
        return out


def _history(plans, days: int, frozen: list, today: date) -> None:
    """Earlier days' completed inspections: tasks of their own with 61 records each, bulk-inserted."""
    from sqlalchemy import insert

    from webapp.db_types import utcnow
    from webapp.extensions import db
    from webapp.sync.models import SyncRecord
    from webapp.tasks.models import Task

    now = utcnow()
    for day in range(days):
        tasks = [{"batch_id": t.batch_id, "draw_pk": t.draw_pk, "enterprise_id": t.enterprise_id, "uscc": t.uscc,
                  "enterprise": t.enterprise, "items": [], "checklists": frozen, "method": "onsite",
                  "start_date": today, "due_date": today, "publication_days": 20, "status": "dispatched"}
                 for _user, day_tasks in plans for t in day_tasks]
        ids = db.session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), tasks).all()
        owners = [user for user, day_tasks in plans for _t in day_tasks]
        rows = []
        for task_id, user in zip(ids, owners):
            for q in range(QUESTIONS + 1):
                data = ({"question": f"B-{q:03d}", "checklist": "bench@1", "result": "yes", "note": "", "photos": []}
                        if q < QUESTIONS else {"outcome": "completed"})
                rows.append({"uuid": str(uuidlib.uuid4()), "kind": "answer" if q < QUESTIONS else "outcome",
                             "task_id": task_id, "question": data.get("question"), "revision": 1, "data": data,
                             "content_hash": "0" * 64, "user_id": user.id, "inspector_id": user.inspector_id,
                             "device_time": now, "received_at": now, "reassigned": False, "conflict": False})
        for start in range(0, len(rows), 20000):
            db.session.execute(insert(SyncRecord), rows[start:start + 20000])
        db.session.commit()


def base_photo(seed: int) -> bytes:
    from PIL import Image
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (800, 600), rng.randbytes(800 * 600 * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def variant(jpeg: bytes, tag: str) -> bytes:
    """The same image with a different JPEG comment: another file, another hash, still a valid photo."""
    comment = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


class Phone:
    def __init__(self, port: int, token: str, cut: float, rng: random.Random, stats: dict):
        self.port, self.token, self.cut, self.rng, self.stats = port, token, cut, rng, stats

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
        """Send until a JSON reply arrives; some attempts are cut on purpose, as a bad network would."""
        headers = {**headers, "Authorization": "Bearer " + self.token, "Content-Length": str(len(body))}
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            try:
                conn.putrequest(method, path)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders()
                roll = self.rng.random()
                if roll < self.cut / 2:  # the connection drops halfway through the upload
                    conn.send(body[:len(body) // 2])
                    conn.sock.shutdown(socket.SHUT_RDWR)
                    self.stats["cuts"] += 1
                    continue
                conn.send(body)
                if roll < self.cut:  # the server got it all; the reply never reaches the phone
                    conn.sock.shutdown(socket.SHUT_RDWR)
                    self.stats["cuts"] += 1
                    time.sleep(0.05)
                    continue
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Content-Type", "").startswith("application/json"):
                    return response.status, json.loads(data)
            except OSError:
                time.sleep(0.2)
            finally:
                conn.close()

    def photo(self, data: bytes) -> None:
        sha = sha256(data).hexdigest()
        while True:
            status, body = self.request("GET", f"/api/v1/photos/{sha}", b"", {})
            if body.get("stored"):
                return
            offset = body.get("offset", 0)
            status, body = self.request("PUT", f"/api/v1/photos/{sha}", data[offset:],
                                        {"Content-Range": f"bytes {offset}-{len(data) - 1}/{len(data)}"})
            if status in (200, 201):
                return
            if status == 422:
                raise RuntimeError(body)

    def records(self, records: list) -> None:
        body = json.dumps({"records": records}, ensure_ascii=False).encode()
        t0 = time.perf_counter()
        status, reply = self.request("POST", "/api/v1/sync", body, {"Content-Type": "application/json"})
        self.stats["latencies"].append((time.perf_counter() - t0) * 1000)
        if status != 200 or reply.get("rejected") or reply.get("conflicts"):
            raise RuntimeError(f"sync refused: {status} {str(reply)[:300]}")


def upload_photos(phone: "Phone", seed: int, spec: dict, jpeg: bytes, expected: dict) -> list[list[str]]:
    """The day's 40 photos (distinct files made from the phone's base image), five per inspection;
    returns their hashes per inspection."""
    shas = []
    for task_id in spec["tasks"]:
        shas.append([])
        for p in range(PHOTOS // INSPECTIONS):
            data = variant(jpeg, f"phone{seed}-task{task_id}-photo{p}")
            phone.photo(data)
            shas[-1].append(sha256(data).hexdigest())
            expected["photos"].add(shas[-1][-1])
    return shas


def send_inspections(phone: "Phone", spec: dict, photos: list[list[str]], expected: dict) -> None:
    """Each inspection in one request: 60 answers (the first with its photos), its hazards, the outcome."""
    hazards = [j % INSPECTIONS for j in range(HAZARDS)]
    for j, task_id in enumerate(spec["tasks"]):
        shas = photos[j]
        recs = [{"uuid": str(uuidlib.uuid4()), "kind": "answer", "task_id": task_id, "base_revision": 0,
                 "device_time": "2026-11-23T10:00:00+08:00",
                 "data": {"question": f"B-{q:03d}", "checklist": "bench@1", "result": "yes" if q else "no",
                          "note": "", "photos": shas if q == 0 else []}} for q in range(QUESTIONS)]
        recs += [{"uuid": str(uuidlib.uuid4()), "kind": "hazard", "task_id": task_id, "base_revision": 0,
                  "data": {"question": "B-000", "grade": "general", "description": "除尘系统未设置锁气卸灰装置",
                           "photos": shas[:1]}} for _ in range(hazards.count(j))]
        recs.append({"uuid": str(uuidlib.uuid4()), "kind": "outcome", "task_id": task_id, "base_revision": 0,
                     "data": {"outcome": "completed"}})
        phone.records(recs)
        expected["records"].update(r["uuid"] for r in recs)


def rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of the gunicorn master and its workers, summed."""
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cut", type=float, default=0.05)
    parser.add_argument("--history-days", type=int, default=3,
                        help="earlier days of the same work already on the server (default 3)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    with bench_app(args.database_url or None) as app:
        specs = setup(app, args.phones, args.history_days)
        server, port = start_gunicorn(app, args.workers, 8, UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"])
        try:
            jpegs = [base_photo(k) for k in range(len(specs))]  # made before the clock starts
            stats = {"latencies": [], "cuts": 0}
            expected = {"records": set(), "photos": set()}
            peak = [0.0]
            done = threading.Event()

            def watch():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_mb(server.pid))
                    time.sleep(0.5)
            threading.Thread(target=watch, daemon=True).start()
            phones = [Phone(port, spec["token"], args.cut, random.Random(k), stats) for k, spec in enumerate(specs)]
            # Two phases, each with every phone at once: first the photos (the evening's uploads over
            # Wi-Fi), then the inspections' records, so that each rate is measured on its own traffic.
            with ThreadPoolExecutor(max_workers=args.phones) as pool:
                t0 = time.perf_counter()
                photos = [f.result() for f in [pool.submit(upload_photos, phones[k], k, spec, jpegs[k], expected)
                                               for k, spec in enumerate(specs)]]
                photo_s = time.perf_counter() - t0
                t1 = time.perf_counter()
                for f in [pool.submit(send_inspections, phones[k], spec, photos[k], expected)
                          for k, spec in enumerate(specs)]:
                    f.result()
                record_s = time.perf_counter() - t1
            wall = photo_s + record_s
            done.set()
            peak[0] = max(peak[0], rss_mb(server.pid))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        with app.app_context():
            from webapp.extensions import db
            from webapp.sync.models import Photo, SyncRecord
            held = set(db.session.scalars(db.select(SyncRecord.uuid))) & expected["records"]
            photos = set(db.session.scalars(db.select(Photo.sha256)))
            twice = db.session.scalar(db.select(db.func.count()).where(SyncRecord.revision > 1))
            stored = db.session.scalar(db.select(db.func.count()).select_from(SyncRecord))
        inspections = len(specs) * INSPECTIONS
        lat = sorted(stats["latencies"])
        print(json.dumps({
            "phones": len(specs), "inspections": inspections, "records": len(expected["records"]),
            "photos": len(expected["photos"]), "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
            "workers": args.workers, "wall_s": round(wall, 1), "photo_phase_s": round(photo_s, 1),
            "record_phase_s": round(record_s, 1), "inspections_per_s": round(inspections / record_s, 1),
            "photos_per_s": round(len(expected["photos"]) / photo_s, 1),
            "p95_ms": round(lat[int(len(lat) * 0.95) - 1]), "p50_ms": round(statistics.median(lat)),
            "peak_rss_mb": round(peak[0]), "cut_requests": stats["cuts"],
            "history_records": stored - len(held), "lost": len(expected["records"] - held) + len(expected["photos"] - photos), "duplicated": twice,
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
