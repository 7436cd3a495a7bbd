"""Running jobs (issue #13 point 5): the state lives in the ``job`` table, never in a process.

Any number of processes (gunicorn workers, hosts, the `flask jobs work` loop) share one database:

- a job is claimed with one conditional UPDATE (``… WHERE id = :id AND (state = 'queued' OR (state =
  'running' AND heartbeat_at < :stale))``): exactly one claimant sees rowcount 1, on SQLite and PostgreSQL;
- the runner writes progress and a heartbeat every few seconds through a connection of its own (the job's
  reading session may hold a server-side cursor open, which a commit would close);
- a running job whose heartbeat is older than ``JOB_STALE_SECONDS`` (60 s) lost its worker (killed,
  host gone): the next claimant takes it over; its old worker, should it wake up, finds its claim gone at
  its next progress write and stops;
- a failure is recorded with a message in words; the job is queued again until ``JOB_MAX_ATTEMPTS`` (3)
  attempts were made, then it stays failed;
- the result is written to a temporary file and moved into place with ``os.replace`` (a reader never sees
  half a file), under ``EXPORT_FOLDER`` (a volume every host shares when scaled out); files are removed
  ``EXPORT_KEEP_DAYS`` (7) days after the job finished, by ``cleanup()`` (the worker loop runs it hourly).

Two ways to run: ``flask jobs work`` (production: one or more loops beside gunicorn), and a short-lived
daemon thread the web process starts after enqueueing (``kick``), so the demo needs no second command.
Under TESTING the thread is off unless ``JOBS_IN_WEB`` is set; tests call ``run_pending()``.
"""
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from ..db_types import utcnow
from ..extensions import db
from ..services import ServiceError, lock_row, transaction
from .models import Job

log = logging.getLogger(__name__)

#: kind → function(job, params, progress) returning the file's download name.
REGISTRY: dict = {}
ACTIVE = ("queued", "running")


def job(kind: str):
    """Register ``fn(job, params, progress) -> download name`` as the runner of jobs of ``kind``."""
    def register(fn):
        REGISTRY[kind] = fn
        return fn
    return register


class Lost(Exception):
    """This worker's claim was taken over (its heartbeat went stale): stop without touching the row."""


#: Settings read from the app's config, else the environment (README "Configuration"), else these.
ENV_SETTINGS = {"EXPORT_FOLDER": str, "EXPORT_KEEP_DAYS": float, "JOB_STALE_SECONDS": float,
                "JOB_MAX_ATTEMPTS": int}


def _cfg(name: str, default):
    value = current_app.config.get(name)
    if value is None and name in ENV_SETTINGS and os.environ.get(name, "").strip():
        try:
            value = ENV_SETTINGS[name](os.environ[name].strip())
        except ValueError:
            value = None
    return default if value is None else value


def export_folder() -> Path:
    folder = Path(_cfg("EXPORT_FOLDER", None) or Path(current_app.instance_path) / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


# --- enqueueing -----------------------------------------------------------------------------------

def enqueue(kind: str, params: dict, user, audit: bool = True) -> Job:
    """Queue a job for ``user``; an identical one of theirs still queued or running is returned instead
    (a double tap starts nothing twice). Audited: who asked for what."""
    from ..audit.services import record
    from ..auth.models import User
    if kind not in REGISTRY:
        raise ServiceError(_("This kind of export does not exist."))
    with transaction():
        # One user's requests take turns (row lock on PostgreSQL, write lock on SQLite), so two taps
        # arriving together cannot both miss the other's job.
        lock_row(db.session.get(User, user.id))
        for existing in db.session.scalars(select(Job).where(Job.user_id == user.id, Job.kind == kind,
                                                             Job.state.in_(ACTIVE)).order_by(Job.id)):
            if existing.params == params:
                return existing
        new = Job(kind=kind, params=params, user_id=user.id, state="queued", done=0, total=0, worker="",
                  attempts=0, error="", file_path="", file_name="")
        db.session.add(new)
        db.session.flush()
        if audit:
            record("export.request", "job", new.id, after={"kind": kind, "params": params},
                   actor=(user.id, user.username))
    return new


# --- claiming -------------------------------------------------------------------------------------

def _claimable(now):
    stale = now - timedelta(seconds=_cfg("JOB_STALE_SECONDS", 60))
    return or_(Job.state == "queued",
               and_(Job.state == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)))


def claim(worker: str | None = None) -> Job | None:
    """Take the oldest queued job, or a running one whose worker went silent. One UPDATE decides."""
    worker = worker or worker_name()
    _fail_exhausted()
    for _attempt in range(5):
        now = utcnow()
        job_id = db.session.scalar(select(Job.id).where(_claimable(now), Job.attempts < _max_attempts())
                                   .order_by(Job.id).limit(1))
        db.session.commit()
        if job_id is None:
            return None
        with db.engine.begin() as conn:
            won = conn.execute(update(Job).where(Job.id == job_id, _claimable(now), Job.attempts < _max_attempts())
                               .values(state="running", worker=worker, heartbeat_at=now, started_at=now,
                                       attempts=Job.attempts + 1, done=0)).rowcount
        if won == 1:
            return db.session.get(Job, job_id, populate_existing=True)
    return None


def _max_attempts() -> int:
    return int(_cfg("JOB_MAX_ATTEMPTS", 3))


def _fail_exhausted() -> None:
    """A job whose worker died on its last allowed attempt is failed, not retried for ever."""
    now = utcnow()
    stale = now - timedelta(seconds=_cfg("JOB_STALE_SECONDS", 60))
    with force_locale(_cfg("BABEL_DEFAULT_LOCALE", "zh_CN")):
        message = _("The export stopped without finishing (its worker went silent) and was not retried again.")
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.state == "running", Job.attempts >= _max_attempts(),
                                       or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale))
                     .values(state="failed", error=message, finished_at=now))


# --- running --------------------------------------------------------------------------------------

@dataclass
class Progress:
    """What a job function gets to report how far it is; every write checks the claim is still ours."""
    job_id: int
    worker: str
    tmp: Path
    every: float = 0.5
    _last: float = 0.0
    done: int = 0
    total: int = 0

    def __call__(self, done: int, total: int | None = None, force: bool = False) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if force or time.monotonic() - self._last >= self.every:
            self.beat()

    def beat(self) -> None:
        self._last = time.monotonic()
        with db.engine.begin() as conn:
            n = conn.execute(update(Job).where(Job.id == self.job_id, Job.state == "running",
                                               Job.worker == self.worker)
                             .values(done=self.done, total=self.total, heartbeat_at=utcnow())).rowcount
        if n != 1:
            raise Lost()

    def path(self, suffix: str) -> Path:
        """The temporary file the job writes its result to; the runner moves it into place."""
        base = self.tmp.name.split(".part")[0].rsplit(".", 1)[0] if self.tmp.name.endswith(".part") else self.tmp.name
        self.tmp = self.tmp.parent / f"{base}{suffix}.part"
        return self.tmp


class _Heart(threading.Thread):
    """Keeps the heartbeat fresh while a job computes without reporting (a chart, a PDF page)."""

    def __init__(self, app, progress: Progress, period: float):
        super().__init__(daemon=True)
        self.app, self.progress, self.period, self.stop = app, progress, period, threading.Event()

    def run(self):
        with self.app.app_context():
            while not self.stop.wait(self.period):
                try:
                    self.progress.beat()
                except Lost:
                    return
                except Exception:  # noqa: BLE001  (a missed beat is retried next period)
                    log.exception("job %s heartbeat", self.progress.job_id)


def run_job(claimed: Job) -> Job:
    """Run a claimed job to its end: done with its file, queued again after a failure, or failed."""
    app = current_app._get_current_object()
    job_id, worker, kind, params = claimed.id, claimed.worker, claimed.kind, dict(claimed.params or {})
    folder = export_folder()
    progress = Progress(job_id, worker, folder / f".job{job_id}-{secrets.token_hex(8)}")
    heart = _Heart(app, progress, max(1.0, _cfg("JOB_STALE_SECONDS", 60) / 4))
    heart.start()
    try:
        with force_locale(_cfg("BABEL_DEFAULT_LOCALE", "zh_CN")):
            name = REGISTRY[kind](claimed, params, progress)
        heart.stop.set()
        heart.join()
        final = folder / f"{job_id}-{secrets.token_hex(12)}{Path(name).suffix}"
        os.replace(progress.tmp, final)
        with db.engine.begin() as conn:
            won = conn.execute(update(Job).where(Job.id == job_id, Job.state == "running", Job.worker == worker)
                               .values(state="done", done=progress.total or progress.done,
                                       total=progress.total or progress.done, heartbeat_at=utcnow(),
                                       finished_at=utcnow(), error="", file_path=final.name,
                                       file_name=name)).rowcount
        if won != 1:  # taken over meanwhile: the other worker's file is the one kept
            final.unlink(missing_ok=True)
    except Lost:
        log.warning("job %s was taken over by another worker", job_id)
    except Exception as exc:  # noqa: BLE001  (recorded on the job; the loop goes on)
        db.session.rollback()
        if not isinstance(exc, ServiceError):
            log.exception("job %s (%s) failed", job_id, kind)
        with force_locale(_cfg("BABEL_DEFAULT_LOCALE", "zh_CN")):
            message = exc.message if isinstance(exc, ServiceError) else \
                _("The export failed because of an error in the server (%(error)s); it is tried again.",
                  error=type(exc).__name__)
            final_message = message if isinstance(exc, ServiceError) else \
                _("The export failed because of an error in the server (%(error)s).", error=type(exc).__name__)
        # A refusal in words (no access, nothing to export) is final; an error is retried.
        again = not isinstance(exc, ServiceError) and claimed.attempts < _max_attempts()
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id, Job.worker == worker)
                         .values(state="queued" if again else "failed", error=message if again else final_message,
                                 worker="", finished_at=None if again else utcnow()))
    finally:
        heart.stop.set()
        progress.tmp.unlink(missing_ok=True)
        db.session.rollback()
    return db.session.get(Job, job_id, populate_existing=True)


def run_pending(limit: int | None = None, worker: str | None = None) -> int:
    """Run queued jobs in this process until none is left (or ``limit`` ran); returns how many ran."""
    ran = 0
    while limit is None or ran < limit:
        claimed = claim(worker)
        if claimed is None:
            break
        run_job(claimed)
        ran += 1
    return ran


# --- the web process's short-lived thread ---------------------------------------------------------

_thread_lock = threading.Lock()
_thread: threading.Thread | None = None
_wanted = threading.Event()


def thread_enabled(app) -> bool:
    """The web process runs the queue in a thread of its own unless JOBS_IN_WEB=0 (a production with
    `flask jobs work` beside it may prefer that); under TESTING only when a test asks for it."""
    setting = app.config.get("JOBS_IN_WEB")
    if setting is None and not app.testing and os.environ.get("JOBS_IN_WEB", "").strip():
        return os.environ["JOBS_IN_WEB"].strip().lower() in ("1", "true", "yes", "on")
    return (not app.testing) if setting is None else bool(setting)


def kick() -> threading.Thread | None:
    """After enqueueing: make sure a thread of this process runs the queue until it is empty. It ends
    by itself; a job it leaves (process killed) is taken over by any other worker after 60 s."""
    global _thread
    app = current_app._get_current_object()
    if not thread_enabled(app):
        return None
    with _thread_lock:
        _wanted.set()
        if _thread is not None and _thread.is_alive():
            return _thread
        _thread = threading.Thread(target=_thread_main, args=(app,), name="jobs", daemon=True)
        _thread.start()
        return _thread


def _thread_main(app) -> None:
    global _thread
    with app.app_context():
        try:
            while True:
                _wanted.clear()
                try:
                    run_pending()
                    cleanup()
                except Exception:  # noqa: BLE001
                    log.exception("job thread")
                finally:
                    db.session.remove()
                with _thread_lock:
                    if not _wanted.is_set():
                        _thread = None
                        return
        finally:
            db.session.remove()


# --- cleaning up ----------------------------------------------------------------------------------

def cleanup(now=None) -> int:
    """Delete result files older than EXPORT_KEEP_DAYS (the job row stays, as the record that it ran) and
    temporary files a crash left behind (older than a day). Returns the number of files removed."""
    now = now or utcnow()
    folder = export_folder()
    cutoff = now - timedelta(days=float(_cfg("EXPORT_KEEP_DAYS", 7)))
    removed = 0
    old = db.session.scalars(select(Job).where(Job.state == "done", Job.file_path != "",
                                               Job.finished_at < cutoff)).all()
    for row in old:
        (folder / row.file_path).unlink(missing_ok=True)
        removed += 1
    if old:
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id.in_([r.id for r in old]))
                         .values(state="expired", file_path=""))
    db.session.rollback()
    for part in folder.glob(".job*.part"):
        try:
            if time.time() - part.stat().st_mtime > 86400:
                part.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def work(poll: float = 2.0, once: bool = False, cleanup_every: float = 3600.0) -> None:
    """The `flask jobs work` loop: run what is queued, sleep ``poll`` seconds when idle, clean up hourly."""
    last_cleanup = 0.0
    while True:
        ran = run_pending()
        if time.monotonic() - last_cleanup >= cleanup_every:
            cleanup()
            last_cleanup = time.monotonic()
        db.session.remove()
        if once:
            return
        if not ran:
            time.sleep(poll)
