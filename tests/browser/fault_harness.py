"""A model-based fault harness for the offline inspector app (issue #10).

A browser drives the real app (`/app/`) through a random sequence of an inspector's actions on one
or two phones (two browser contexts signed in as two members of the task's group), while a loopback
proxy between the phones and the server loses responses, answers 5xx pages and cuts photo uploads.
Then the network settles (proxy clean, phones online, 立即同步 until nothing is pending) and the
harness compares:

- each phone's records (IndexedDB) with the server's: present, same data, same revision, same
  group-conflict flag, nothing pending; no server record from that phone's user that the phone lacks;
- every photo a phone refers to or holds as uploaded: a Photo row and a file whose SHA-256 matches;
- one intent, one record: one check-in, one outcome, one signature per role, one answer per question;
- the model: what the inspector was shown as done (an answer chosen, a note typed, a photo taken,
  a hazard saved, an outcome submitted, a signature saved) is what the phone holds.

Everything random comes from the seed: the actions, the photos, and the proxy's fault decisions.
Thread and network timing do not: which request meets the n-th fault decision depends on the order
requests reach the proxy (the page's own syncs, Background Sync), so a seed replays the same actions
and the same sequence of fault decisions, not always the same interleaving.

Used by tests/browser/test_fault_harness.py (short, fixed seeds) and benchmarks/soak.py (long).
Nothing here depends on pytest.
"""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PASSWORD = "fault-harness-2026"
#: The phone of tests/browser/conftest.py, with a position (check-ins and photos carry coordinates).
PHONE = {"viewport": {"width": 360, "height": 780}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN", "service_workers": "allow"}
GEO = {"geolocation": {"latitude": 36.12345, "longitude": 112.87654, "accuracy": 12},
       "permissions": ["geolocation"]}
LAUNCH_ARGS = ["--disable-gpu", "--no-sandbox", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

OUTCOMES = ("completed", "non_cooperation", "closed", "not_found")
R17 = ("refused_entry", "refused_materials", "false_materials", "obstruction")
#: (action, weight); "double_*" are the same intent tapped twice (a double tap, or two quick taps).
ACTIONS = (("answer", 6), ("note", 2), ("photo", 1.5), ("hazard", 1.2), ("double_answer", 1),
           ("checkin", 0.8), ("double_checkin", 0.8), ("submit", 1), ("double_submit", 0.7),
           ("double_hazard", 0.6), ("sign", 0.9), ("reload", 1), ("reopen", 0.7), ("network", 1.2),
           ("sync_now", 1.6), ("pause", 1.2))
MAX_PHOTOS = 3  # per phone and sequence: photos are the slow part
#: Actions that change the inspection: a phone showing it under review (#frozen: submitted on this phone,
#: issue #12 point 6, or on the server, issue #11) offers none.
EDITS = {"answer", "note", "photo", "hazard", "double_answer", "checkin", "double_checkin", "submit",
         "double_submit", "double_hazard", "sign"}


def phones_for(seed: int) -> int:
    """Even seeds put a second phone on the task."""
    return 2 if seed % 2 == 0 else 1


# --- the proxy ------------------------------------------------------------------------------------

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
       "content-length"}
NGINX = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n" \
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"


def fault_kinds(method: str, path: str) -> tuple[str, ...]:
    """The faults a request may meet; () for requests the proxy never touches (the app shell, sign-in).

    lost-response: forwarded and answered, the answer never reaches the phone; dropped: the connection
    closes before anything is forwarded; 503: an HTML page, nothing forwarded; 502-after: forwarded,
    then an HTML 502 (the gateway gave up while the server worked); cut-upload: part of a photo
    piece reaches the server, then both connections close; cut-client: the phone's connection dies
    mid-upload, nothing forwarded."""
    if path.startswith("/api/v1/sync"):
        return ("lost-response", "lost-response", "dropped", "503", "502-after")
    if path.startswith("/api/v1/photos/"):
        if method == "PUT":
            return ("lost-response", "503", "502-after", "cut-upload", "cut-upload", "cut-client")
        return ("lost-response", "503")
    if path.startswith("/api/v1/tasks"):
        return ("503",)
    return ()


class FaultProxy:
    """A threaded loopback reverse proxy with seeded fault injection on the sync API.

    Every request is answered with ``Connection: close`` (one request per connection, so the browser
    never retries a lost answer on its own). ``clean`` switches faults off; ``slow`` holds some
    answers for up to 1.5 s (not a fault: it lets the inspector act while a request is on its way).
    If ``force_after`` eligible requests passed without a fault, the next one gets one.
    """

    def __init__(self, upstream: str, seed, rate: float = 0.3, slow: float = 0.15, force_after: int = 3):
        target = urlsplit(upstream)
        self.upstream = (target.hostname, target.port)
        self.rng = random.Random(f"proxy/{seed}")
        self.rate, self.slow, self.force_after = rate, slow, force_after
        self.clean = True
        self.kinds: Counter = Counter()
        self.eligible = 0
        self.journal: list[str] = []
        self._lock = threading.Lock()
        self._inflight = 0
        self._last_seen = time.monotonic()
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def faults(self) -> int:
        return sum(self.kinds.values())

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def decide(self, method: str, path: str) -> tuple[str | None, float]:
        """(the fault for this request or None, seconds to hold its answer)."""
        kinds = fault_kinds(method, path)
        with self._lock:
            if self.clean or not kinds:
                return None, 0.0
            self.eligible += 1
            delay = self.rng.uniform(0.3, 1.5) if self.rng.random() < self.slow else 0.0
            rate = self.rate / 3 if kinds == ("503",) else self.rate  # the task list: now and then
            forced = self.faults == 0 and self.eligible > self.force_after
            fault = self.rng.choice(kinds) if forced or self.rng.random() < rate else None
            if fault:
                self.kinds[fault] += 1
            self.journal.append(f"{method} {path.split('?')[0][:40]}{' → ' + fault if fault else ''}"
                                f"{f' (+{delay:.1f}s)' if delay else ''}")
            return fault, delay

    def busy(self, delta: int) -> None:
        with self._lock:
            self._inflight += delta
            self._last_seen = time.monotonic()

    def wait_idle(self, quiet: float = 0.7, timeout: float = 20) -> bool:
        """Until no request has been in flight for ``quiet`` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._inflight == 0 and time.monotonic() - self._last_seen >= quiet:
                    return True
            time.sleep(0.1)
        return False


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a phone that hung up, or a connection the proxy cut on purpose


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.0"  # one request per connection

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._proxy()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_GET

    def _proxy(self):
        proxy = self.owner
        proxy.busy(+1)
        try:
            fault, delay = proxy.decide(self.command, self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if fault == "cut-client":  # the phone's connection dies mid-upload
                self.rfile.read(length // 2)
                return self._reset()
            body = self.rfile.read(length) if length else b""
            if fault == "dropped":
                return self._reset()
            if fault == "503":
                return self._page(503, "Service Temporarily Unavailable")
            if fault == "cut-upload":
                return self._forward_part(body)
            try:
                status, reason, headers, data = self._forward(body)
            except OSError:
                return self._page(502, "Bad Gateway")
            time.sleep(delay)
            if fault == "lost-response":
                return self._reset()
            if fault == "502-after":
                return self._page(502, "Bad Gateway")
            self._answer(status, reason, headers, data)
        finally:
            proxy.busy(-1)

    def _forward(self, body: bytes):
        conn = http.client.HTTPConnection(*self.owner.upstream, timeout=120)
        try:
            self._send_head(conn, len(body))
            conn.send(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            conn.close()

    def _forward_part(self, body: bytes) -> None:
        """Part of the body reaches the server, then the upstream connection closes; the phone gets nothing."""
        conn = http.client.HTTPConnection(*self.owner.upstream, timeout=120)
        try:
            self._send_head(conn, len(body))
            conn.send(body[: len(body) // 2])
            time.sleep(0.2)  # let the server read what came
        except OSError:
            pass
        finally:
            conn.close()
        self._reset()

    def _send_head(self, conn, length: int) -> None:
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for key, value in self.headers.items():
            if key.lower() not in HOP:
                conn.putheader(key, value)
        conn.putheader("Content-Length", str(length))
        conn.putheader("Connection", "close")
        conn.endheaders()

    def _answer(self, status: int, reason: str, headers, data) -> None:
        data = data.encode() if isinstance(data, str) else data
        self.send_response_only(status, reason)
        for key, value in headers:
            if key.lower() not in HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _page(self, status: int, reason: str) -> None:
        """An HTML error page, as nginx in front of the app would answer."""
        self._answer(status, reason, [("Content-Type", "text/html")], NGINX.format(f"{status} {reason}"))

    def _reset(self) -> None:
        """Close the phone's connection without a word (RST, like a dead mobile link)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


# --- accounts and tasks (need an app context) -----------------------------------------------------

@dataclass(frozen=True)
class Account:
    username: str
    user_id: int
    inspector_id: int


@dataclass(frozen=True)
class TaskRef:
    id: int
    name: str

    @classmethod
    def of(cls, task) -> "TaskRef":
        return cls(task.id, task.enterprise["name"])


def accounts_for(task, phones: int) -> list[Account] | None:
    """An app account (password ``PASSWORD``) for each of the first ``phones`` members of the task's
    group: made here, or the one this harness made for that inspector before. None if the group is
    too small or a member already has an account of someone else's (its password is unknown here)."""
    from sqlalchemy import select

    from webapp import roles as R
    from webapp.auth.models import User
    from webapp.auth.services import create_user
    from webapp.extensions import db

    members = task.active_members[:phones]
    users = [db.session.scalar(select(User).where(User.inspector_id == m.inspector_id)) for m in members]
    if len(members) < phones or any(u is not None and not u.username.startswith("fh") for u in users):
        return None
    users = [u or create_user(f"fh{m.inspector_id}", m.inspector.name, R.INSPECTOR, PASSWORD, m.inspector_id)
             for m, u in zip(members, users)]
    return [Account(u.username, u.id, m.inspector_id) for m, u in zip(members, users)]


# --- a phone --------------------------------------------------------------------------------------

@dataclass
class Intent:
    """What the inspector was shown as done on one phone; the phone must still hold it at the end."""
    answers: dict = field(default_factory=dict)    # question → yes/no/na
    notes: dict = field(default_factory=dict)      # question → text
    photos: Counter = field(default_factory=Counter)  # question → photos taken
    hazards: int = 0
    checkin: bool = False
    outcome: tuple | None = None                   # (outcome, reason or None)
    signatures: dict = field(default_factory=dict)  # role → "signed" | "refused"


RECORDS_JS = "t => ssjStore.all('records', 'task_id', t)"
PENDING_JS = """async () => {
  const recs = await ssjStore.all('records', 'dirty', 1), photos = await ssjStore.all('photos', 'uploaded', 0);
  return recs.map(r => ({uuid: r.uuid, kind: r.kind, data: r.data, error: r.error || null, held: r.held || null,
                         waiting: r.waiting || null, frozen: r.frozen || null}))
    .concat(photos.map(p => ({photo: p.sha, error: p.error || null})));
}"""
PHOTOS_JS = "() => ssjStore.all('photos').then(ps => ps.map(p => ({sha: p.sha, uploaded: p.uploaded, error: p.error || null})))"
LAST_SYNC_JS = "() => ssjStore.get('kv', 'lastSync').then(x => x ? x.at : 0)"


def _answer_of(recs, q):
    return next((r for r in recs if r["kind"] == "answer" and r["data"].get("question") == q), None)


def _answer_data(recs, q) -> dict:
    rec = _answer_of(recs, q)
    return rec["data"] if rec else {}


def _of_kind(recs, kind):
    return [r for r in recs if r["kind"] == kind]


class Phone:
    def __init__(self, name: str, browser, base: str, account: Account, task: TaskRef, context_args: dict):
        from playwright.sync_api import Error as PlaywrightError
        self.Error = PlaywrightError
        self.name, self.base, self.account, self.task = name, base, account, task
        self.context = browser.new_context(**{**context_args, **GEO})
        self.page = None
        self.offline = False
        self.photos_taken = 0
        self.errors: list[str] = []
        self.intent = Intent()

    def new_page(self):
        self.page = self.context.new_page()
        self.page.set_default_timeout(8000)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return self.page

    def sign_in(self) -> None:
        from playwright.sync_api import expect
        page = self.new_page()
        page.goto(f"{self.base}/app/")
        page.get_by_label("用户名").fill(self.account.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.locator("ul.tasks")).to_contain_text(self.task.name, timeout=30000)
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.get_by_role("link", name=self.task.name).click()
        self.wait_task()

    def wait_task(self) -> None:
        self.page.locator("article.question").first.wait_for(timeout=15000)

    def open_task(self) -> None:
        if self.page is None or self.page.is_closed():
            self.new_page()
        self.page.goto(f"{self.base}/app/#/task/{self.task.id}")
        self.wait_task()

    def on_task(self) -> None:
        """Back on the task page if the phone shows something else."""
        if self.page is None or self.page.is_closed() or not self.page.locator("article.question").first.is_visible():
            self.open_task()

    def frozen(self) -> bool:
        """The task page says the inspection is under review: its controls are disabled (issue #11)."""
        return self.page.locator("#frozen").count() > 0

    def set_offline(self, offline: bool) -> None:
        self.context.set_offline(offline)
        self.offline = offline

    def records(self) -> list[dict]:
        return self.page.evaluate(RECORDS_JS, self.task.id)

    def until(self, test, timeout: float = 4.0) -> bool:
        """Poll the phone's records until ``test(records)`` holds."""
        end = time.monotonic() + timeout
        while True:
            try:
                if test(self.records()):
                    return True
            except self.Error:
                pass  # the page is navigating
            if time.monotonic() > end:
                return False
            time.sleep(0.1)

    def tap(self, locator, style: str = "click") -> None:
        if style == "dblclick":
            locator.dblclick()
        else:
            locator.click()
            if style == "twice":
                try:
                    locator.click(timeout=1500)
                except self.Error:
                    pass  # the first tap already replaced or hid it

    def close(self) -> None:
        try:
            self.context.close()
        except self.Error:
            pass


def _photo_bytes(rng: random.Random, big: bool) -> bytes:
    from PIL import Image, ImageDraw
    if big:  # noise compresses badly: several 256 KB pieces, so a cut upload resumes at an offset
        w, h = 1400, 1050
        img = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
    else:
        img = Image.new("RGB", (800, 600), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(img)
        for _ in range(6):
            x, y = rng.randrange(700), rng.randrange(500)
            draw.rectangle((x, y, x + rng.randrange(20, 100), y + rng.randrange(20, 100)),
                           fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


# --- a sequence -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    seed: int
    phones: int
    actions: int
    faults: int
    fault_kinds: dict
    requests: int
    differences: list[str]
    notes: list[str]
    steps: list[str]
    proxy_journal: list[str]
    seconds: float

    def report(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.fault_kinds.items())) or "none"
        lines = [f"seed {self.seed}: {self.phones} phone(s), {self.actions} actions, {self.faults} faults "
                 f"({kinds}) over {self.requests} sync requests, {self.seconds:.0f} s: "
                 f"{len(self.differences)} difference(s)"]
        lines += [f"  ✗ {d}" for d in self.differences]
        lines += [f"  · {n}" for n in self.notes]
        if self.differences:
            lines.append(f"  replay: python benchmarks/soak.py --seed {self.seed}")
            lines.append("  actions:")
            lines += [f"    {s}" for s in self.steps]
            lines.append("  sync requests through the proxy:")
            lines += [f"    {s}" for s in self.proxy_journal]
        return "\n".join(lines)


class Sequence:
    """One seeded sequence of actions on one task, then settle and compare."""

    def __init__(self, seed: int, browser, upstream: str, app, task: TaskRef, accounts: list[Account], *,
                 actions: int | None = None, rate: float = 0.3, context_args: dict | None = None, echo=None):
        self.seed, self.browser, self.app, self.task, self.accounts = seed, browser, app, task, accounts
        self.rng = random.Random(seed)
        self.n_actions = actions or self.rng.randint(15, 30)
        self.proxy = FaultProxy(upstream, seed, rate)
        self.context_args = context_args if context_args is not None else PHONE
        self.echo = echo or (lambda line: None)
        self.phones: list[Phone] = []
        self.questions: list[str] = []
        self.steps: list[str] = []
        self.notes: list[str] = []

    def run(self) -> Outcome:
        from playwright.sync_api import Error as PlaywrightError
        t0 = time.monotonic()
        self.proxy.start()
        differences = []
        try:
            for k, account in enumerate(self.accounts):
                phone = Phone("AB"[k], self.browser, self.proxy.url, account, self.task, self.context_args)
                self.phones.append(phone)
                phone.sign_in()
            self.questions = [i[2:] for i in self.phones[0].page.locator("article.question").evaluate_all(
                "cards => cards.map(c => c.id)")]
            for phone in self.phones:
                if self.rng.random() < 0.3:
                    phone.set_offline(True)
            self.proxy.clean = False
            names, weights = zip(*ACTIONS)
            for step in range(self.n_actions):
                phone = self.rng.choice(self.phones)
                action = self.rng.choices(names, weights)[0]
                t = time.monotonic()
                try:
                    if action in EDITS:
                        phone.on_task()
                    if action in EDITS and phone.frozen():
                        detail = "(not offered: the inspection is under review)"
                    else:
                        detail = getattr(self, "_" + action)(phone)
                except PlaywrightError as exc:
                    detail = f"failed: {str(exc).splitlines()[0][:120]}"
                self.steps.append(f"{step:02d} {phone.name}{' (offline)' if phone.offline else ''} {action} "
                                  f"{detail or ''} [{time.monotonic() - t:.1f}s]")
                self.echo(self.steps[-1])
                time.sleep(self.rng.uniform(0.1, 1.2))  # an inspector's pace: scheduled syncs get to run
            try:
                differences += self._settle()
                differences += self._compare()
            except PlaywrightError as exc:
                differences.append(f"the phones could not be brought to the task and synced: {str(exc).splitlines()[0]}")
        finally:
            for phone in self.phones:
                phone.close()
            self.proxy.stop()
        return Outcome(self.seed, len(self.accounts), self.n_actions, self.proxy.faults, dict(self.proxy.kinds),
                       self.proxy.eligible, differences, self.notes, self.steps, self.proxy.journal,
                       time.monotonic() - t0)

    # --- actions: each returns a short description for the step log -------------------------------

    def _card(self, phone, q):
        return phone.page.locator(f'[id="q-{q}"]')

    def _choose(self, phone, q, v, style="click") -> str:
        phone.on_task()
        card = self._card(phone, q)
        phone.tap(card.locator(f"button.choice[data-v={v}]"), style)
        stored = phone.until(lambda recs: _answer_data(recs, q).get("result") == v)
        shown = card.locator(f".choice.on.{v}").count() > 0 and not phone.frozen()
        if stored or shown:
            phone.intent.answers[q] = v
            return f"{q}={v}"
        self._adopt_answer(phone, q)
        return f"{q}={v} (not taken: the phone shows {phone.intent.answers.get(q)})"

    def _adopt_answer(self, phone, q):
        """The phone visibly did not take the action: the inspector sees what it holds and goes on from there."""
        result = _answer_data(phone.records(), q).get("result")
        if result:
            phone.intent.answers[q] = result
        else:
            phone.intent.answers.pop(q, None)

    def _answer(self, phone):
        q = self.rng.choice(self.questions)
        current = phone.intent.answers.get(q)
        v = self.rng.choice([x for x in ("yes", "no", "na") if x != current])  # a new answer, or a change
        return self._choose(phone, q, v)

    def _double_answer(self, phone):
        q, v = self.rng.choice(self.questions), self.rng.choice(("yes", "no", "na"))
        return self._choose(phone, q, v, self.rng.choice(("dblclick", "twice")))

    def _note(self, phone):
        phone.on_task()
        q = self.rng.choice(self.questions)
        text = self.rng.choice(("灭火器压力不足", "台账不全", "已现场整改", "see photo", "通道畅通")) + f" {self.rng.randrange(1000)}"
        box = self._card(phone, q).locator("input.note")
        box.fill(text)
        box.press("Tab")
        stored = phone.until(lambda recs: (_answer_data(recs, q).get("note") or "") == text)
        if stored or (box.input_value() == text and not phone.frozen()):
            phone.intent.notes[q] = text
            return f"{q} note {text!r}"
        phone.intent.notes[q] = _answer_data(phone.records(), q).get("note") or ""
        return f"{q} note {text!r} (not taken)"

    def _photo(self, phone):
        if phone.photos_taken >= MAX_PHOTOS:
            return self._answer(phone)
        phone.on_task()
        q = self.rng.choice(self.questions)
        big = self.rng.random() < 0.25
        data = _photo_bytes(self.rng, big)
        phone.photos_taken += 1
        before = len(_answer_data(phone.records(), q).get("photos") or [])
        self._card(phone, q).locator("input.photo-input").set_input_files(
            files=[{"name": f"IMG_{self.seed}_{phone.photos_taken}.jpg", "mimeType": "image/jpeg", "buffer": data}])
        if phone.until(lambda recs: len(_answer_data(recs, q).get("photos") or []) > before, 15):
            phone.intent.photos[q] += 1
            return f"{q} photo {len(data) // 1024} KB"
        return f"{q} photo {len(data) // 1024} KB (not taken)"

    def _hazard(self, phone, style="click"):
        phone.on_task()
        q = self.rng.choice(self.questions)
        if phone.intent.answers.get(q) != "no" or not self._card(phone, q).locator("button.add-hazard").count():
            self._choose(phone, q, "no")
        before = len(_of_kind(phone.records(), "hazard"))
        page = phone.page
        self._card(phone, q).locator("button.add-hazard").click()
        page.locator("#hazard-form").wait_for(state="visible", timeout=3000)
        grade = self.rng.choice(("general", "major"))
        page.select_option("#hz-grade", grade)
        page.locator("#hz-desc").fill(self.rng.choice(("消防通道堵塞", "配电箱未接地", "安全出口上锁", "有限空间无警示")))
        if self.rng.random() < 0.5:
            page.locator("#hz-deadline").fill((date.today() + timedelta(days=self.rng.randrange(3, 60))).isoformat())
        phone.tap(page.locator("#hazard-form button[type=submit]"), style)
        if phone.until(lambda recs: len(_of_kind(recs, "hazard")) > before):
            phone.intent.hazards += 1
            return f"{q} {grade}"
        return f"{q} {grade} (not taken)"

    def _double_hazard(self, phone):
        return self._hazard(phone, self.rng.choice(("dblclick", "twice")))

    def _checkin(self, phone, style="click"):
        phone.on_task()
        phone.tap(phone.page.locator("#checkin"), style)
        if phone.until(lambda recs: bool(_of_kind(recs, "checkin"))):
            phone.intent.checkin = True
            return ""
        return "(not taken)"

    def _double_checkin(self, phone):
        return self._checkin(phone, self.rng.choice(("dblclick", "twice")))

    def _submit(self, phone, style="click"):
        phone.on_task()
        outcome = self.rng.choices(OUTCOMES, (6, 2, 1, 1))[0]
        reason = self.rng.choice(R17) if outcome == "non_cooperation" else ""
        page = phone.page
        page.select_option("#outcome", outcome)
        page.select_option("#reason", reason)
        phone.tap(page.locator("#submit"), style)
        # The app asks first, in the page, saying what is not done (issue #12 point 6); the inspector
        # confirms with the same kind of tap (a double tap on the confirmation submits once too).
        dialog = page.locator("#submit-dialog")
        dialog.wait_for(state="visible", timeout=3000)
        phone.tap(dialog.locator("#submit-confirm"), style)
        want = (outcome, reason or None)

        def held(recs):
            return any((r["data"].get("outcome"), r["data"].get("reason") or None) == want
                       for r in _of_kind(recs, "outcome"))
        if phone.until(held):
            phone.intent.outcome = want
            return f"{outcome} {reason}"
        if dialog.is_visible():  # the confirmation did not go through: the inspector goes back to the page
            dialog.locator("#submit-cancel").click()
        first = next(iter(_of_kind(phone.records(), "outcome")), None)
        phone.intent.outcome = first and (first["data"].get("outcome"), first["data"].get("reason") or None)
        return f"{outcome} {reason} (not taken: the phone holds {phone.intent.outcome})"

    def _double_submit(self, phone):
        return self._submit(phone, self.rng.choice(("dblclick", "twice")))

    def _sign(self, phone):
        phone.on_task()
        role = self.rng.choice(("inspector", "enterprise"))
        box = phone.page.locator(f".signature[data-role={role}]")
        refuse = role == "enterprise" and self.rng.random() < 0.5
        if refuse:
            box.locator(".refuse-sig").click()
        else:
            pad = box.locator("canvas.pad")
            pad.scroll_into_view_if_needed()
            area = pad.bounding_box()
            mouse = phone.page.mouse
            x, y = area["x"] + 15, area["y"] + area["height"] / 2
            mouse.move(x, y)
            mouse.down()
            for _ in range(10):
                x = min(area["x"] + area["width"] - 5, x + self.rng.uniform(10, 30))
                mouse.move(x, area["y"] + self.rng.uniform(10, area["height"] - 10))
            mouse.up()
            box.locator(".save-sig").click()
        want = "refused" if refuse else "signed"

        def state(recs):
            sig = next((r for r in _of_kind(recs, "signature") if r["data"].get("role") == role), None)
            return sig and ("refused" if sig["data"].get("refused") else "signed" if sig["data"].get("image") else None)
        if phone.until(lambda recs: state(recs) == want):
            phone.intent.signatures[role] = want
            return f"{role} {want}"
        got = state(phone.records())
        if got:
            phone.intent.signatures[role] = got
        return f"{role} {want} (not taken: the phone holds {got})"

    def _reload(self, phone):
        phone.on_task()
        phone.page.reload()
        phone.wait_task()

    def _reopen(self, phone):
        if phone.page and not phone.page.is_closed():
            phone.page.close()
        phone.open_task()

    def _network(self, phone):
        phone.set_offline(not phone.offline)
        return "offline" if phone.offline else "online"

    def _sync_now(self, phone):
        phone.on_task()
        phone.page.locator("#sync-now").click()
        time.sleep(self.rng.uniform(0.1, 1.0))

    def _pause(self, phone):
        seconds = self.rng.uniform(0.3, 2.5)
        time.sleep(seconds)
        return f"{seconds:.1f}s"

    # --- settle and compare -------------------------------------------------------------------------

    def _settle(self) -> list[str]:
        """Proxy clean, phones online, 立即同步 until nothing is pending; then one more round on every phone
        so each takes the server's group-conflict flags. A phone that cannot empty its queue is a difference."""
        self.proxy.clean = True
        differences = []
        for phone in self.phones:
            if phone.offline:
                phone.set_offline(False)
            phone.on_task()
        returned = False
        for phone in self.phones * 2:  # twice: what a return released goes on the second round
            pending = None
            for _attempt in range(3):
                phone.page.locator("#sync-now").click()
                end = time.monotonic() + 20
                while time.monotonic() < end:
                    pending = phone.page.evaluate(PENDING_JS)
                    if not pending or all(item.get("frozen") for item in pending):
                        break
                    time.sleep(0.25)
                if not pending:
                    break
                if all(item.get("frozen") for item in pending) and not returned:
                    # Work the freeze refused (the phone did not know yet that the inspection was submitted):
                    # kept on the phone; the team lead returns the inspection so that it lands (issue #11).
                    returned = self._return_for_correction()
                    self.notes.append(f"phone {phone.name}: {len(pending)} change(s) refused as under review, "
                                      "kept on the phone; the team lead returned the inspection")
        for phone in self.phones:
            pending = phone.page.evaluate(PENDING_JS)
            for item in pending or []:
                what = f"photo {item['photo'][:12]}" if "photo" in item else f"{item['kind']} {_label(item)}"
                extra = "".join(f" {k}={json.dumps(item[k], ensure_ascii=False)}" for k in ("error", "held", "waiting")
                                if item.get(k))
                differences.append(f"phone {phone.name}: {what} still pending after the network settled{extra}")
        for phone in self.phones:
            before = phone.page.evaluate(LAST_SYNC_JS)
            phone.page.locator("#sync-now").click()
            end = time.monotonic() + 15
            while time.monotonic() < end and phone.page.evaluate(LAST_SYNC_JS) == before:
                time.sleep(0.2)
        if not self.proxy.wait_idle():
            self.notes.append("the proxy never went quiet")
        for phone in self.phones:  # the status line follows the store (a note, not a difference: no data is at stake)
            status = phone.page.locator("#sync-status")
            end = time.monotonic() + 3
            while status.get_attribute("data-pending") != "0" and time.monotonic() < end:
                time.sleep(0.2)
            if status.get_attribute("data-pending") != "0" and not any(d.startswith(f"phone {phone.name}:") for d in differences):
                self.notes.append(f"phone {phone.name}: #sync-status shows data-pending="
                                  f"{status.get_attribute('data-pending')} with nothing pending")
        return differences

    def _return_for_correction(self) -> bool:
        """The team lead (from outside the group) returns the submitted inspection."""
        from sqlalchemy import select

        from webapp import roles as R
        from webapp.auth.models import User
        from webapp.extensions import db
        from webapp.review import services
        from webapp.tasks.models import Task
        with self.app.app_context():
            task = db.session.get(Task, self.task.id)
            if task.review_state != "submitted":
                return False
            lead = db.session.scalar(select(User).where(User.username == "harness-lead"))
            if lead is None:
                lead = User(username="harness-lead", display_name="组长", role=R.TEAM_LEAD, password_hash="!")
                db.session.add(lead)
                db.session.commit()
            services.return_for_correction(task, lead, "fault harness: let the refused changes land")
            db.session.remove()
        return True

    def _compare(self) -> list[str]:
        states = []
        for phone in self.phones:
            states.append((phone, phone.records(), phone.page.evaluate(PHOTOS_JS)))
        shas = {sha for _p, recs, photos in states for sha in _photo_refs(recs) | {p["sha"] for p in photos if p["uploaded"]}}
        rows, stored = server_state(self.app, self.task.id, shas)
        differences = []
        for phone, recs, photos in states:
            differences += [f"phone {phone.name}: {d}" for d in
                            compare_phone(recs, photos, rows, stored, phone.account.user_id)]
            differences += [f"phone {phone.name}: {d}" for d in intent_differences(recs, phone.intent)]
            differences += [f"phone {phone.name}: uncaught error in the page: {e[:200]}" for e in phone.errors]
        return differences


def _label(rec: dict) -> str:
    data, uuid = rec.get("data") or {}, rec.get("uuid", "")[:8]
    extra = {"answer": data.get("question"), "signature": data.get("role"), "outcome": data.get("outcome")}.get(rec["kind"])
    return f"{uuid}{f' ({extra})' if extra else ''}"


def _photo_refs(recs) -> set[str]:
    return {sha for r in recs for sha in [*(r["data"].get("photos") or []), r["data"].get("image")] if sha}


def server_state(app, task_id: int, shas) -> tuple[dict, dict]:
    """The server's records of the task by uuid, and for each photo hash what is wrong with it (None: fine)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.sync import photos as store
    from webapp.sync.models import Photo, SyncRecord

    with app.app_context():
        rows = {r.uuid: {"kind": r.kind, "user_id": r.user_id, "revision": r.revision, "data": r.data,
                         "conflict": bool(r.conflict)}
                for r in db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task_id))}
        photos = {}
        for sha in shas:
            path = store.original_path(sha)
            photos[sha] = ("no Photo row" if db.session.get(Photo, sha) is None else
                           "no file" if not path.exists() else
                           "a file whose SHA-256 differs" if hashlib.sha256(path.read_bytes()).hexdigest() != sha else None)
    return rows, photos


def _normalised(rec: dict) -> tuple[dict | None, dict]:
    """The phone's data as the server stores it (the server's own schema: defaults, dates as ISO strings)."""
    from webapp.sync.schemas import load_record
    loaded, errors = load_record({"uuid": rec["uuid"], "kind": rec["kind"], "task_id": rec["task_id"],
                                  "base_revision": rec.get("base_revision") or 0, "data": rec["data"]})
    return (_jsonable(loaded["data"]) if loaded else None), errors


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _changed(phone: dict, server: dict) -> str:
    keys = sorted(set(phone) | set(server), key=str)
    return "; ".join(f"{k}: phone {json.dumps(phone.get(k), ensure_ascii=False)[:60]} ≠ server "
                     f"{json.dumps(server.get(k), ensure_ascii=False)[:60]}" for k in keys if phone.get(k) != server.get(k))


def compare_phone(recs: list[dict], photos: list[dict], rows: dict, stored: dict, user_id: int) -> list[str]:
    """Differences between one phone's final state and the server's."""
    out = []
    for rec in recs:
        what = f"{rec['kind']} {_label(rec)}"
        row = rows.get(rec["uuid"])
        if row is None:
            if not rec.get("dirty"):  # a pending one is reported by the settle
                out.append(f"{what} is on the phone as sent but missing on the server")
            continue
        data, errors = _normalised(rec)
        if errors:
            out.append(f"{what} would be refused by the server: {errors}")
        elif data != row["data"]:
            out.append(f"{what} differs: {_changed(data, row['data'])}"
                       + (" (the phone holds it as a revision conflict)" if rec.get("conflict") == "revision" else ""))
        elif bool(rec.get("conflict")) != row["conflict"] and not rec.get("dirty"):
            out.append(f"{what}: group-conflict flag phone {rec.get('conflict')!r} ≠ server {row['conflict']}")
        if rec.get("revision") != row["revision"]:
            out.append(f"{what} revision: phone {rec.get('revision')} ≠ server {row['revision']}")
    mine = {r["uuid"] for r in recs}
    for uuid, row in rows.items():
        if row["user_id"] == user_id and uuid not in mine:
            out.append(f"the server holds {row['kind']} {_label({'uuid': uuid, **row})} revision {row['revision']} "
                       f"from this phone's user that the phone does not have")
    for rec in recs:
        for sha in _photo_refs([rec]):
            if stored.get(sha):
                out.append(f"photo {sha[:12]} of {rec['kind']} {_label(rec)}: the server has {stored[sha]}")
    refs = _photo_refs(recs)
    for p in photos:
        if p["uploaded"] and p["sha"] not in refs and stored.get(p["sha"]):
            out.append(f"photo {p['sha'][:12]} marked uploaded: the server has {stored[p['sha']]}")
    return out


def intent_differences(recs: list[dict], intent: Intent) -> list[str]:
    """One intent, one record; and what the inspector was shown as done is what the phone holds."""
    out = []
    by_q: dict[str, list] = {}
    for r in _of_kind(recs, "answer"):
        by_q.setdefault(r["data"].get("question"), []).append(r)
    for q, rs in sorted(by_q.items()):
        if len(rs) > 1:
            out.append(f"{len(rs)} answer records for question {q} (one intended)")
    for q in sorted(set(intent.answers) | set(intent.notes) | set(intent.photos)):
        data = by_q[q][0]["data"] if q in by_q else {}
        if q in intent.answers and data.get("result") != intent.answers[q]:
            out.append(f"question {q}: the phone holds {data.get('result')!r}, the inspector chose {intent.answers[q]!r}")
        if q in intent.notes and (data.get("note") or "") != intent.notes[q]:
            out.append(f"question {q}: the phone holds note {data.get('note')!r}, the inspector typed {intent.notes[q]!r}")
        if intent.photos[q] and len(data.get("photos") or []) != intent.photos[q]:
            out.append(f"question {q}: the phone holds {len(data.get('photos') or [])} photo(s), "
                       f"the inspector took {intent.photos[q]}")
    hazards = len(_of_kind(recs, "hazard"))
    if hazards != intent.hazards:
        out.append(f"{hazards} hazard records, the inspector saved {intent.hazards}")
    checkins = len(_of_kind(recs, "checkin"))
    if checkins > 1 or (intent.checkin and not checkins):
        out.append(f"{checkins} check-in records ({int(intent.checkin)} intended)")
    outcomes = _of_kind(recs, "outcome")
    if len(outcomes) > 1:
        out.append(f"{len(outcomes)} outcome records (one intended)")
    if intent.outcome and (not outcomes or (outcomes[0]["data"].get("outcome"),
                                            outcomes[0]["data"].get("reason") or None) != intent.outcome):
        got = (outcomes[0]["data"].get("outcome"), outcomes[0]["data"].get("reason")) if outcomes else None
        out.append(f"the phone holds outcome {got}, the inspector submitted {intent.outcome}")
    sigs: dict[tuple, list] = {}
    for r in _of_kind(recs, "signature"):
        sigs.setdefault((r["data"].get("role"), r["data"].get("inspector_id")), []).append(r)
    for (role, _insp), rs in sorted(sigs.items(), key=str):
        if len(rs) > 1:
            out.append(f"{len(rs)} {role} signature records (one intended)")
    for role, want in sorted(intent.signatures.items()):
        rs = [r for (k, _i), v in sigs.items() if k == role for r in v]
        got = rs and ("refused" if rs[0]["data"].get("refused") else "signed")
        if got != want:
            out.append(f"the {role} signature is {got or 'missing'} on the phone, the inspector {want}")
    return out


def run_sequence(seed: int, browser, upstream: str, app, task: TaskRef, accounts: list[Account], **kw) -> Outcome:
    """Run one seeded sequence on ``task`` with one phone per account; see ``Sequence`` for the options."""
    return Sequence(seed, browser, upstream, app, task, accounts, **kw).run()
