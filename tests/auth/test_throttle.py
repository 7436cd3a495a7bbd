"""webapp.throttle.allow: a rate limit in the database, shared by every worker (issue #11 points 8, 12)."""
from datetime import timedelta

from sqlalchemy import func, select, update

from webapp import throttle
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.throttle import ThrottleHit, allow, hits


def test_allow_counts_hits_per_key_within_the_window(ctx):
    assert [allow("k:a", 3, 60) for _ in range(5)] == [True, True, True, False, False]
    assert allow("k:b", 3, 60)  # another key has its own count
    assert hits("k:a", 60) == 5


def test_hits_age_out_of_the_window(ctx):
    for _ in range(3):
        assert allow("k:old", 2, 60) in (True, False)
    assert not allow("k:old", 2, 60)
    # Everything happened two minutes ago: outside a one-minute window, and pruned on the next hit.
    db.session.execute(update(ThrottleHit).values(at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert allow("k:old", 2, 60)
    assert db.session.scalar(select(func.count()).select_from(ThrottleHit)) == 1


def test_the_hit_survives_the_callers_rollback_and_leaves_its_session_alone(ctx):
    """Its own transaction: a request that fails afterwards still counts, and allow() commits nothing of
    the caller's."""
    from tests.factories import make_reference
    from webapp.registries.models import Region

    make_reference()
    region = db.session.scalar(select(Region).order_by(Region.id))
    region.name = "未提交的名字"
    assert allow("k:tx", 5, 60)
    db.session.rollback()
    assert db.session.get(Region, region.id).name != "未提交的名字"
    assert hits("k:tx", 60) == 1


def test_long_keys_are_hashed(ctx):
    key = "x" * 500
    assert allow(key, 1, 60) and not allow(key, 1, 60)
    stored = db.session.scalar(select(ThrottleHit.key).limit(1))
    assert stored.startswith("sha256:") and len(stored) <= throttle.KEY_LENGTH
