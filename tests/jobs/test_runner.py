"""The job runner (issue #13 point 5): state in the database, claimed atomically, stale claims taken
over, failures recorded in words and retried a bounded number of times, double taps reused, files
written atomically and cleaned up after EXPORT_KEEP_DAYS."""
import json
import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.jobs import runner
from webapp.jobs.models import Job
from webapp.services import ServiceError

CALLS = []


@runner.job("_test_ok")
def _ok(job, params, progress):
    progress(0, 3, force=True)
    CALLS.append(("ok", job.id, params))
    with open(progress.path(".txt"), "w", encoding="utf-8") as f:
        for k in range(3):
            f.write(f"row {k}\n")
            progress(k + 1)
    return "结果.txt"


@runner.job("_test_boom")
def _boom(job, params, progress):
    CALLS.append(("boom", job.id))
    progress.path(".txt").write_text("half")
    raise RuntimeError("disk on fire")


@runner.job("_test_refuse")
def _refuse(job, params, progress):
    raise ServiceError("这个批次已不存在。")


@pytest.fixture(autouse=True)
def _folder(app, tmp_path):
    old = app.config.get("EXPORT_FOLDER")
    app.config["EXPORT_FOLDER"] = str(tmp_path / "exports")
    CALLS.clear()
    yield
    app.config["EXPORT_FOLDER"] = old


def test_queued_running_done(ctx, users):
    user = users[R.BRIGADE_LEAD]
    job = runner.enqueue("_test_ok", {"n": 1}, user)
    assert (job.state, job.done, job.total, job.attempts) == ("queued", 0, 0, 0)
    claimed = runner.claim("w1")
    assert claimed.id == job.id and claimed.state == "running" and claimed.worker == "w1" and claimed.attempts == 1
    assert claimed.heartbeat_at is not None
    assert runner.claim("w2") is None  # running with a fresh heartbeat: nobody else takes it
    done = runner.run_job(claimed)
    assert (done.state, done.done, done.total, done.error) == ("done", 3, 3, "")
    assert done.file_name == "结果.txt" and done.finished_at is not None
    path = runner.export_folder() / done.file_path
    assert path.read_text(encoding="utf-8") == "row 0\nrow 1\nrow 2\n"
    # Atomic: nothing half-written is left beside the result.
    assert [p.name for p in runner.export_folder().iterdir()] == [done.file_path]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.request"))
    assert entry.object_id == str(job.id) and entry.actor_id == user.id and json.loads(entry.after)["kind"] == "_test_ok"


def test_double_tap_reuses_the_job(ctx, users):
    user = users[R.BRIGADE_LEAD]
    first = runner.enqueue("_test_ok", {"n": 1}, user)
    assert runner.enqueue("_test_ok", {"n": 1}, user).id == first.id
    assert runner.enqueue("_test_ok", {"n": 2}, user).id != first.id  # another object: another job
    assert runner.enqueue("_test_ok", {"n": 1}, users[R.ADMIN]).id != first.id  # another person
    assert db.session.scalar(select(func.count(Job.id))) == 3
    runner.run_pending()
    # Finished: asking again makes a fresh file (the data may have changed).
    assert runner.enqueue("_test_ok", {"n": 1}, user).id != first.id


def test_double_tap_from_two_threads(app, ctx, users):
    """Two requests at the same moment: the per-user lock makes the second see the first's job."""
    user_id = users[R.BRIGADE_LEAD].id
    ids, errors = [], []

    def tap():
        with app.app_context():
            try:
                from webapp.auth.models import User
                ids.append(runner.enqueue("_test_ok", {"n": 7}, db.session.get(User, user_id)).id)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and len(set(ids)) == 1
    assert db.session.scalar(select(func.count(Job.id))) == 1


def test_failure_is_recorded_in_words_and_retried_a_bounded_number_of_times(app, ctx, users):
    job = runner.enqueue("_test_boom", {}, users[R.BRIGADE_LEAD])
    first = runner.run_job(runner.claim("w1"))
    assert first.state == "queued" and first.attempts == 1
    assert "RuntimeError" in first.error and "服务器" in first.error  # Chinese, the default locale
    ran = runner.run_pending()
    assert ran == 2  # attempts 2 and 3, then it stays failed
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "failed" and job.attempts == app.config.get("JOB_MAX_ATTEMPTS", 3)
    assert "RuntimeError" in job.error and job.finished_at is not None and not job.file_path
    assert not any(runner.export_folder().iterdir())  # the half-written file is gone
    assert runner.claim("w9") is None


def test_a_refusal_is_final(ctx, users):
    job = runner.enqueue("_test_refuse", {}, users[R.BRIGADE_LEAD])
    runner.run_pending()
    job = db.session.get(Job, job.id, populate_existing=True)
    assert (job.state, job.attempts, job.error) == ("failed", 1, "这个批次已不存在。")


def test_a_stale_running_job_is_taken_over(ctx, users):
    job = runner.enqueue("_test_ok", {}, users[R.BRIGADE_LEAD])
    claimed = runner.claim("dead-worker")
    assert runner.claim("w2") is None
    # The worker died: its heartbeat stops; 61 s later another worker takes the job over.
    db.session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    taken = runner.claim("w2")
    assert taken.id == job.id and taken.worker == "w2" and taken.attempts == 2
    # The old worker wakes up: its next progress write finds the claim gone and it stops.
    ghost = runner.Progress(claimed.id, "dead-worker", runner.export_folder() / ".ghost")
    with pytest.raises(runner.Lost):
        ghost(1, 3, force=True)
    assert runner.run_job(taken).state == "done"


def test_a_job_whose_worker_died_on_its_last_attempt_fails(ctx, users):
    job = runner.enqueue("_test_ok", {}, users[R.BRIGADE_LEAD])
    runner.claim("w1")
    db.session.execute(update(Job).where(Job.id == job.id).values(
        attempts=3, heartbeat_at=utcnow() - timedelta(seconds=300)))
    db.session.commit()
    assert runner.claim("w2") is None
    job = db.session.get(Job, job.id, populate_existing=True)
    assert job.state == "failed" and "没有完成" in job.error


def test_the_claim_is_one_conditional_update(app, ctx, users):
    """Many claimants at once (threads, each its own connection): each job goes to exactly one."""
    for n in range(6):
        runner.enqueue("_test_ok", {"n": n}, users[R.BRIGADE_LEAD])
    won, lock = [], threading.Lock()

    def worker(name):
        with app.app_context():
            try:
                while True:
                    got = runner.claim(name)
                    if got is None:
                        return
                    with lock:
                        won.append(got.id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{k}",)) for k in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(won) == sorted(set(won)) and len(won) == 6


def test_the_web_thread_runs_the_queue(app, ctx, users):
    """The path the demo uses: enqueue, kick; a daemon thread of the web process runs it and ends."""
    app.config["JOBS_IN_WEB"] = True
    try:
        job_id = runner.enqueue("_test_ok", {"thread": 1}, users[R.BRIGADE_LEAD]).id
        thread = runner.kick()
        assert thread is not None
        thread.join(20)
        assert not thread.is_alive()
    finally:
        app.config["JOBS_IN_WEB"] = None
    db.session.remove()
    assert db.session.get(Job, job_id).state == "done"
    assert runner.kick() is None  # under TESTING the thread is off unless asked for


def test_cleanup_removes_old_files_and_leftovers(app, ctx, users):
    job = runner.enqueue("_test_ok", {}, users[R.BRIGADE_LEAD])
    runner.run_pending()
    job = db.session.get(Job, job.id, populate_existing=True)
    path = runner.export_folder() / job.file_path
    leftover = runner.export_folder() / ".job99-dead.xlsx.part"
    leftover.write_text("x")
    os.utime(leftover, (time.time() - 2 * 86400,) * 2)
    assert runner.cleanup() == 1 and path.exists()  # only the leftover: the file is fresh
    assert runner.cleanup(now=utcnow() + timedelta(days=7, minutes=1)) == 1
    job = db.session.get(Job, job.id, populate_existing=True)
    assert not path.exists() and job.state == "expired" and job.file_path == ""


def test_flask_jobs_work_once(app, ctx, users):
    job_id = runner.enqueue("_test_ok", {"cli": 1}, users[R.BRIGADE_LEAD]).id
    db.session.remove()
    out = app.test_cli_runner().invoke(args=["jobs", "work", "--once"])
    assert out.exit_code == 0, out.output
    assert "queue empty" in out.output
    assert db.session.get(Job, job_id).state == "done"


def test_a_job_left_by_a_dead_web_process_is_finished_when_its_owner_looks(app, ctx, users):
    """Review finding: with the web thread as the only runner, a recycled gunicorn worker left its job
    'running' for ever. The owner's page polls the status; each poll makes this process run the queue,
    which takes over the silent job."""
    from tests.factories import PASSWORD

    lead = users[R.BRIGADE_LEAD]
    job_id = runner.enqueue("_test_ok", {"orphan": 1}, lead).id
    runner.claim("dead-process")
    db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    app.config["JOBS_IN_WEB"] = True
    try:
        c = app.test_client()
        assert c.post("/login", data={"username": lead.username, "password": PASSWORD}).status_code == 303
        assert c.get(f"/brigade/exports/status?job={job_id}").status_code == 200
        for _ in range(100):
            db.session.remove()
            if db.session.get(Job, job_id).state == "done":
                break
            time.sleep(0.1)
    finally:
        app.config["JOBS_IN_WEB"] = None
    db.session.remove()
    job = db.session.get(Job, job_id)
    assert job.state == "done" and job.worker != "dead-process" and job.attempts == 2
