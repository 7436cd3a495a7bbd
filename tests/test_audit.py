"""R14/R24 全程留痕: the hash chain detects any edit or deletion of an earlier entry."""
from sqlalchemy import delete, text, update

from webapp.audit.models import AuditEntry
from webapp.audit.services import history, record, verify
from webapp.extensions import db
from webapp.services import transaction
from tests.factories import make_enterprise


def _write(n):
    with transaction():
        for i in range(n):
            record("thing.update", "thing", i, {"v": i}, {"v": i + 1})


def test_intact_chain_verifies(ctx):
    _write(5)
    result = verify()
    assert result.ok and result.checked == 5


def test_edited_entry_is_found(ctx):
    _write(5)
    db.session.execute(update(AuditEntry).where(AuditEntry.id == 3).values(after='{"v":99}'))
    db.session.commit()
    result = verify()
    assert not result.ok and result.broken_id == 3 and result.reason == "content"


def test_rehashed_edit_breaks_the_next_link(ctx):
    _write(5)
    entry = db.session.get(AuditEntry, 2)
    entry.hash = "f" * 64
    db.session.commit()
    result = verify()
    assert not result.ok and result.broken_id == 2


def test_deleted_middle_entry_is_found(ctx):
    _write(5)
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == 4))
    db.session.commit()
    result = verify()
    assert not result.ok and result.broken_id == 4 and result.reason == "missing"


def test_deleted_last_entry_is_found(ctx):
    _write(5)
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == 5))
    db.session.commit()
    result = verify()
    assert not result.ok and result.reason == "tail"


def test_service_write_leaves_before_and_after(ctx):
    ent = make_enterprise(name="甲公司")
    from webapp.registries.services import save_enterprise

    data = ent.audit_view() | {"name": "乙公司", "region_id": str(ent.region_id)}
    save_enterprise({k: ("" if v is None else v) for k, v in data.items()}, ent)
    entries = history("enterprise", ent.id)
    assert [e.action for e in entries] == ["enterprise.create", "enterprise.update"]
    assert '"name":"甲公司"' in entries[1].before and '"name":"乙公司"' in entries[1].after


def test_cli_verify_exit_codes(app, ctx):
    _write(3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "3" in ok.output
    db.session.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE id = 2"))
    db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "2" in bad.output


def test_concurrent_writers_never_fork_the_chain(app, ctx):
    """Several workers appending at once (threads here, processes in production) keep one chain."""
    import threading

    errors = []

    def writer(n):
        try:
            with app.app_context():
                for i in range(20):
                    with transaction():
                        record("thing.update", "thing", f"{n}-{i}", None, {"i": i})
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify()
    assert result.ok and result.checked == 80
