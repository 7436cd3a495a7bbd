"""The phone side of the offline app (issue #4).

    python benchmarks/pwa.py

``shell_kb_compressed``: the app shell the service worker caches, gzip -9, in KB (target ≤ 150).
``offline_start_ms``: with the network cut after one sync, a cold page load of ``/app/`` until the task
list is on screen, in Chromium on a 360-px phone viewport (median of 5; target < 1,500 ms).
``checklist_click_ms``: with 6× CPU throttling, tapping an answer of a 150-question checklist until
the next frame shows it; ``checklist_saved_ms``: until it is in IndexedDB and its card re-rendered
(medians of 5, measured in the page). The last line printed is one JSON object.
"""
import gzip
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def shell_kb() -> float:
    from webapp.pwa import PWA_DIR, SHELL
    total = sum(len(gzip.compress((PWA_DIR / name).read_bytes(), 9)) for name in (*SHELL, "sw.js"))
    return round(total / 1024, 1)


def setup(tmp: str):
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/pwa.db"
    os.environ["UPLOAD_FOLDER"] = f"{tmp}/uploads"
    from flask import g
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.checklists.loader import load_documents
    app = create_app()
    app.config["SECRET_KEY"] = "bench"
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        g.audit_actor = "benchmark"
        sys.path.insert(0, str(ROOT))
        from tests import factories as f
        for k in range(3):
            f.make_inspector(name=f"检查员{k}")
        f.make_item("GM-GEN-01")
        questions = "\n".join(f"  - {{id: B-{k:03d}, item: GM-GEN-01, text: 第{k}项检查内容是否符合要求？, "
                              f"basis: 第{k}条, answer: choice, hazard_grade: general, hint: 查看现场和台账。}}"
                              for k in range(150))
        doc = (f"code: bench\nversion: \"1\"\ntitle: 基准检查表\nsource: {{title: 基准, document_no: 基准1号, "
               f"valid_from: 2023-05-15}}\ncompetences: [危化]\nquestions:\n{questions}\n")
        report = load_documents([("bench@1.yaml", doc.encode())])
        assert not report.errors, report.errors
        _plan, _batch, draw = f.make_drawn(n_enterprises=4, sample=1)
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.tasks.models import Task
        task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched"))
        f.make_user("inspector", "bench", inspector_id=task.active_members[0].inspector_id)
    return app


def measure() -> dict:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    tmp = tempfile.mkdtemp()
    try:
        app = setup(tmp)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        from tests.factories import PASSWORD
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                                          locale="zh-CN")
            page = context.new_page()
            page.goto(f"{base}/app/")
            page.get_by_label("用户名").fill("bench")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.locator("ul.tasks li").first.wait_for()
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            context.set_offline(True)
            starts = []
            for _ in range(5):
                page.close()
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(f"{base}/app/#/tasks")
                page.locator("ul.tasks li").first.wait_for()
                starts.append((time.perf_counter() - t0) * 1000)
            page.locator("ul.tasks a").first.click()
            page.locator("article.question").nth(149).wait_for()
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 6})
            clicks, saves = [], []
            for k in range(5):
                timing = page.evaluate("""async (i) => {
                    const card = () => document.querySelectorAll("article.question")[i];
                    const t0 = performance.now();
                    card().querySelector("button.choice[data-v=yes]").click();
                    await new Promise(r => requestAnimationFrame(() => setTimeout(r)));
                    const painted = performance.now() - t0;
                    while (!card().querySelector(".qtext .tag")) await new Promise(r => setTimeout(r, 5));
                    return [painted, performance.now() - t0];
                }""", k * 30)
                clicks.append(timing[0])
                saves.append(timing[1])
            browser.close()
        server.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"shell_kb_compressed": shell_kb(), "offline_start_ms": round(statistics.median(starts)),
            "offline_start_max_ms": round(max(starts)), "checklist_questions": 150,
            "checklist_click_ms": round(statistics.median(clicks)), "checklist_saved_ms": round(statistics.median(saves)),
            "cpu_throttle": 6}


if __name__ == "__main__":
    print(json.dumps(measure(), ensure_ascii=False))
