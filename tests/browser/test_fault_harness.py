"""The model-based fault harness, short: a few fixed seeds, each a random sequence of an inspector's
actions on one or two phones (even seeds: two) through a proxy that loses responses, answers 5xx and
cuts uploads. After the network settles the server must hold exactly what each phone holds, and each
phone what its inspector did. `python benchmarks/soak.py` runs the same harness long; a failing seed
replays with `python benchmarks/soak.py --seed N`."""
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.tasks.models import Task
from tests.browser.fault_harness import FaultProxy, TaskRef, accounts_for, phones_for, run_sequence
from tests.factories import make_drawn

SEEDS = (1, 2, 3, 4)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_inspection_under_network_faults_leaves_phones_and_server_equal(
        seed, browser, browser_context_args, live_server, app, demo):
    _plan, _batch, draw = make_drawn(n_enterprises=0, sample=2)
    tasks = db.session.scalars(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched")
                               .order_by(Task.id))
    task, accounts = next((t, a) for t in tasks if (a := accounts_for(t, phones_for(seed))))
    outcome = run_sequence(seed, browser, live_server, app, TaskRef.of(task), accounts,
                           context_args=browser_context_args)
    print(outcome.report())
    assert outcome.faults > 0, outcome.report()
    assert not outcome.differences, outcome.report()


# --- the proxy itself: each fault does what the harness claims ---------------------------------------

@pytest.fixture
def upstream():
    """A server that records how many body bytes each request brought, and answers JSON."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(len(body))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "16")
            self.end_headers()
            self.wfile.write(b'{"stored": true}')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def _put(url, body):
    """(status, content type) of a PUT through the proxy, or the exception's name if there was no answer."""
    conn = http.client.HTTPConnection(url.split("//")[1], timeout=10)
    try:
        conn.request("PUT", "/api/v1/photos/" + "a" * 64, body=body, headers={"Content-Range": f"bytes 0-{len(body) - 1}/{len(body)}"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Content-Type")
    except (ConnectionError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        conn.close()


@pytest.mark.parametrize("fault, answer, reached", [
    (None, (201, "application/json"), "all"),
    ("lost-response", None, "all"),
    ("dropped", None, "nothing"),
    ("503", (503, "text/html"), "nothing"),
    ("502-after", (502, "text/html"), "all"),
    ("cut-upload", None, "part"),
    ("cut-client", None, "nothing"),
])
def test_each_fault_of_the_proxy(upstream, fault, answer, reached):
    url, seen = upstream
    proxy = FaultProxy(url, seed=0).start()
    proxy.decide = lambda method, path: (fault, 0.0)
    try:
        body = bytes(300_000)
        got = _put(proxy.url, body)
        if answer:
            assert got == answer
        else:
            assert isinstance(got, str), f"{fault}: the phone got an answer {got}"
        assert proxy.wait_idle(quiet=0.3, timeout=5)
        time.sleep(0.2)  # the upstream may still be reading what a cut upload sent it
        assert {"all": seen == [len(body)], "nothing": seen == [],
                "part": len(seen) == 1 and 0 < seen[0] < len(body)}[reached], (fault, seen)
    finally:
        proxy.stop()


def test_faults_come_from_the_seed_and_only_on_the_sync_api():
    def decisions(seed):
        proxy = FaultProxy("http://127.0.0.1:9", seed, rate=0.5)
        proxy.clean = False
        try:
            return [proxy.decide(m, p)[0] for m, p in [("POST", "/api/v1/sync"), ("PUT", "/api/v1/photos/ab"),
                                                       ("GET", "/api/v1/photos/ab"), ("GET", "/app/app.js"),
                                                       ("POST", "/api/v1/token")] * 20]
        finally:
            proxy.server.server_close()
    assert decisions(7) == decisions(7) != decisions(8)
    assert all(d is None for d in decisions(7)[3::5] + decisions(7)[4::5])  # the shell and sign-in: never
    assert any(decisions(7))
