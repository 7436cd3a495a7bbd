"""Document PDFs (issue #5 §5): time to make a 现场检查记录 and a 责令限期整改指令书 for a full inspection.

    python benchmarks/documents.py       # 60 answers, 10 hazards, 20 photos; SQLite

Prints one JSON line last: first_ms (the process's first PDF, font loading included), record_ms and
order_ms (median of 5 after it), their pages and size.
"""
import hashlib
import io
import json
import statistics
import sys
import time
import uuid as uuidlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import bench_app  # noqa: E402


def main() -> None:
    from PIL import Image
    from pypdf import PdfReader

    import sync as ingest
    from webapp.auth.models import User
    from webapp.documents import pdf
    from webapp.documents.services import gather
    from webapp.extensions import db
    from webapp.sync import photos as photo_store
    from webapp.sync.services import sync
    from webapp.tasks.models import Task

    with bench_app(None) as app, app.test_request_context():
        specs = ingest.setup(app, 1, 0)
        task = db.session.get(Task, specs[0]["tasks"][0])
        user = db.session.scalar(db.select(User).where(User.username == "phone0"))
        shas = []
        for k in range(20):
            buf = io.BytesIO()
            Image.new("RGB", (1600, 1200), (20 * k % 255, 90, 140)).save(buf, "JPEG", quality=80)
            data = buf.getvalue()
            sha = hashlib.sha256(data).hexdigest()
            photo_store.store(sha, data, photo_store.inspect_image(data), user.id)
            shas.append(sha)
        recs = [{"uuid": str(uuidlib.uuid4()), "kind": "answer", "task_id": task.id, "base_revision": 0,
                 "data": {"question": f"B-{q:03d}", "checklist": "bench@1", "result": "no" if q < 10 else "yes",
                          "note": "现场发现" if q < 10 else "", "photos": shas[2 * q:2 * q + 2] if q < 10 else []}}
                for q in range(ingest.QUESTIONS)]
        recs += [{"uuid": str(uuidlib.uuid4()), "kind": "hazard", "task_id": task.id, "base_revision": 0,
                  "data": {"question": f"B-{q:03d}", "grade": "general", "description": f"第{q + 1}项：除尘系统未设置锁气卸灰装置",
                           "deadline": "2026-12-31", "photos": []}} for q in range(10)]
        recs.append({"uuid": str(uuidlib.uuid4()), "kind": "outcome", "task_id": task.id, "base_revision": 0,
                     "data": {"outcome": "completed"}})
        out = sync(user, recs)
        assert not out["rejected"], out["rejected"][:2]
        result = {}
        for kind in ("record", "order"):
            t0 = time.perf_counter()
            body = pdf.render(gather(task), kind, "示应急〔2026〕1号")  # the first loads the font (once per process)
            result.setdefault("first_ms", round((time.perf_counter() - t0) * 1000, 1))
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                body = pdf.render(gather(task), kind, "示应急〔2026〕1号")
                times.append((time.perf_counter() - t0) * 1000)
            result[f"{kind}_ms"] = round(statistics.median(times), 1)
            result[f"{kind}_pages"] = len(PdfReader(io.BytesIO(body)).pages)
            result[f"{kind}_kb"] = round(len(body) / 1024, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
