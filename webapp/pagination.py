"""Offset pagination for list pages (counts are cheap at registry sizes with indexes)."""
from dataclasses import dataclass

from flask import current_app, request
from sqlalchemy import func, literal, select

from .extensions import db
from .inputs import int_arg

#: A higher ``?page=`` is read as this one (issue #11 point 13: 20 digits made an OFFSET the database
#: cannot hold and answered 500); anything else that is not a whole number is page 1.
MAX_PAGE = 100_000


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    #: The count stopped at this many: "more than" rather than an exact total.
    cap: int | None = None

    @property
    def capped(self) -> bool:
        return self.cap is not None and self.total > self.cap

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, count_stmt=None, per_page: int | None = None, count_cap: int | None = None) -> Page:
    """Run ``stmt`` for the page named by ``?page=``; ``count_stmt`` counts all matches, or with
    ``count_cap`` the count stops there (a broad filter over a large table costs more to count than
    to show)."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    raw = request.args.get("page", "1").strip()
    page = int_arg(raw, 1, MAX_PAGE)
    if page is None:  # past the highest: the highest; not a whole number, zero or negative: the first
        page = MAX_PAGE if raw.isascii() and raw.isdigit() and raw.lstrip("0") else 1
    if count_stmt is None and count_cap:
        matches = stmt.order_by(None).with_only_columns(literal(1), maintain_column_froms=True).limit(count_cap + 1)
        count_stmt = select(func.count()).select_from(matches.subquery())
    elif count_stmt is None:
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(count_stmt)
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total, count_cap)
