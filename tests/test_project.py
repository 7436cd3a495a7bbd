"""Project-level guarantees: migrations match the models; the demo is realistic and audited."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from stdnum.cn import uscc

from webapp.audit.services import verify
from webapp.extensions import db
from webapp.registries.models import Enterprise, Inspector


def test_migrations_match_models(ctx):
    from webapp.publication.models import POSTGRESQL_ONLY_INDEXES

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    # A PostgreSQL-only index (pg_trgm) lives in the migration alone; nothing else may differ.
    diff = [d for d in diff if not (d[0] == "remove_index" and d[1].name in POSTGRESQL_ONLY_INDEXES)]
    assert diff == []


def test_seed_demo_builds_a_living_county(app, ctx):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "400"])
    assert result.exit_code == 0, result.output
    codes = db.session.scalars(select(Enterprise.uscc)).all()
    assert len(codes) == 400 and all(uscc.is_valid(c) for c in codes)
    assert db.session.scalar(select(func.count()).where(Enterprise.key_supervision.is_(True))) > 20
    assert db.session.scalar(select(func.count()).where(Enterprise.status != "operating")) > 0
    assert db.session.scalar(select(func.count()).select_from(Inspector)) == 60
    assert db.session.scalar(select(func.count(func.distinct(Enterprise.region_id)))) == 12
    # Issue #13 point 6: a finished batch in the past, its results published (tests/test_demo_finished.py).
    from webapp.db_types import today_shanghai
    from webapp.demo.finished import FINISHED_TITLE
    from webapp.draws.models import Batch
    from webapp.publication.models import PublishedResult
    finished = db.session.scalar(select(Batch).where(Batch.title == FINISHED_TITLE))
    assert finished.window_end < today_shanghai()
    assert db.session.scalar(select(func.count()).where(PublishedResult.batch_id == finished.id)) > 5
    assert all(name in result.output for name in ("hazchem", "gongmao", "coal"))
    assert verify().ok
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "already" in again.output


def test_timestamps_are_aware_utc(ctx):
    from tests.factories import make_enterprise

    ent = make_enterprise()
    db.session.expire_all()
    ent = db.session.get(Enterprise, ent.id)
    assert ent.created_at.tzinfo is not None and ent.created_at.utcoffset().total_seconds() == 0
