"""The fault harness (tests/browser/fault_harness.py), long: random inspections on one or two phones
through a proxy that loses responses, answers 5xx and cuts uploads, until enough sequences and faults.

    python benchmarks/soak.py [--sequences 50] [--faults 100] [--database-url URL]
    python benchmarks/soak.py --seed 17          # replay one seed (its actions and fault decisions)

Seeds run 1, 2, 3 … (even seeds: two phones on the task) until at least ``--sequences`` sequences and
``--faults`` injected faults. Progress and every difference go to stderr; the last line printed is one
JSON object with ``sequences``, ``faults`` and ``differences`` (how many), ``failing_sequences``,
``first_failing_seeds``, ``fault_kinds`` and ``seconds``.
"""
import argparse
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections import Counter

from _common import bench_app, db_name  # also puts the project on sys.path

from flask import g  # noqa: E402
from sqlalchemy import select  # noqa: E402

from webapp.extensions import db  # noqa: E402
from webapp.tasks.models import Task  # noqa: E402
from tests.browser.fault_harness import (LAUNCH_ARGS, PHONE, TaskRef, accounts_for,  # noqa: E402
                                         phones_for, run_sequence)


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


class TaskPool:
    """Fresh dispatched tasks, one per sequence (a batch is drawn whenever the pool runs dry), each with
    an account per phone for members of its group."""

    def __init__(self):
        self.free: list[Task] = []

    def take(self, phones: int) -> tuple[Task, list]:
        from tests.factories import make_drawn
        while True:
            while not self.free:
                _plan, _batch, draw = make_drawn(n_enterprises=0, sample=30)
                self.free = list(db.session.scalars(select(Task).where(
                    Task.draw_pk == draw.id, Task.status == "dispatched").order_by(Task.id)))
            task = self.free.pop(0)
            accounts = accounts_for(task, phones)
            if accounts:
                db.session.commit()
                return task, accounts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=50, help="at least this many sequences (default 50)")
    ap.add_argument("--faults", type=int, default=100, help="and at least this many injected faults (default 100)")
    ap.add_argument("--seed", type=int, action="append", help="run only this seed (repeatable)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--actions", type=int, help="actions per sequence (default: 15–30, from the seed)")
    ap.add_argument("--rate", type=float, default=0.3, help="fault probability per sync request (default 0.3)")
    ap.add_argument("--database-url", help="a PostgreSQL URL (a throw-away schema is used); default SQLite")
    ap.add_argument("--quiet", action="store_true", help="no per-action lines")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    started = time.monotonic()
    totals, kinds, failing = Counter(), Counter(), []
    with bench_app(args.database_url) as app, app.app_context():
        g.audit_actor = "soak"
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
        from webapp.demo.seed import seed as seed_demo
        seed_demo(app.config["CHECKLIST_FOLDER"], n_enterprises=300)
        pool = TaskPool()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        upstream = f"http://127.0.0.1:{server.server_port}"
        seeds = iter(args.seed) if args.seed else iter(range(args.first_seed, 1 << 30))
        limit = 20 * max(args.sequences, 1)  # never forever, should faults stay rare
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            for seed in seeds:
                if not args.seed and ((totals["sequences"] >= args.sequences and totals["faults"] >= args.faults)
                                      or totals["sequences"] >= limit):
                    break
                task, accounts = pool.take(phones_for(seed))
                outcome = run_sequence(seed, browser, upstream, app, TaskRef.of(task), accounts, actions=args.actions,
                                       rate=args.rate, context_args=PHONE,
                                       echo=None if args.quiet else (lambda line: say("   ", line)))
                totals.update(sequences=1, faults=outcome.faults, differences=len(outcome.differences),
                              actions=outcome.actions)
                kinds.update(outcome.fault_kinds)
                if outcome.differences:
                    failing.append(seed)
                    say(outcome.report())
                else:
                    say(outcome.report().splitlines()[0])
                say(f"== {totals['sequences']} sequences, {totals['faults']} faults, "
                    f"{totals['differences']} differences, {time.monotonic() - started:.0f} s")
            browser.close()
        server.shutdown()
    print(json.dumps({"sequences": totals["sequences"], "faults": totals["faults"],
                      "differences": totals["differences"], "failing_sequences": len(failing),
                      "first_failing_seeds": failing[:10], "actions": totals["actions"],
                      "fault_kinds": dict(sorted(kinds.items())), "database": db_name(app),
                      "seconds": round(time.monotonic() - started)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
