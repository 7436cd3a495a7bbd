"""The item list as the back office, the public page and the plans read it, and its R7 rule."""
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import InspectionItem, InspectionItemVersion

#: R7: random-check items are at least 70 % of all enforcement check items.
R7_MIN_RANDOM_SHARE = Fraction(7, 10)


def item_list() -> list[InspectionItem]:
    """Every item with its current version (and that version's department), by code."""
    stmt = (select(InspectionItem).order_by(InspectionItem.code)
            .options(joinedload(InspectionItem.current).joinedload(InspectionItemVersion.department)))
    return db.session.scalars(stmt).unique().all()


def random_share(items) -> tuple[int, int, bool]:
    """R7: how many current items are random-check items, of all, and whether that meets R7."""
    random_n, total = sum(1 for i in items if i.current.is_random), len(items)
    return random_n, total, total == 0 or Fraction(random_n, total) >= R7_MIN_RANDOM_SHARE
