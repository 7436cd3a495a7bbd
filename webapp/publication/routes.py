"""The public search of published results (no sign-in, only what may be public), and publishing from
the review page."""
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from .. import roles as R
from ..access import public, require, roles
from ..draws.models import Batch, Plan
from ..extensions import db, htmx
from ..flashing import flash_step
from ..pagination import paginate
from ..inputs import int_arg
from ..registries.models import Region
from ..tasks.models import Task
from ..tasks.policy import can_view_task
from . import services
from .models import CATEGORIES, PublishedResult

bp = Blueprint("publication", __name__)
#: Counting every match of a broad search over a million results costs more than the page itself:
#: above this, the page says "more than".
COUNT_CAP = 1_000
#: A citizen on a phone reads a short page; the next is one tap away.
PUBLIC_PAGE_SIZE = 20


@bp.post("/review/<int:task_id>/publish")
@roles(R.TEAM_LEAD, R.BRIGADE_LEAD)
def publish(task_id: int):
    task = db.session.get(Task, task_id) or abort(404)
    require(can_view_task(current_user, task))
    return flash_step(lambda: services.publish(task, request.form.get("category", ""), current_user,
                                               request.form.get("reason", "")),
                      lambda r: _("Published (version %(v)d).", v=r.version), url_for("review.task", task_id=task_id))


def bigrams(text: str) -> list[str]:
    """The character pairs of a query, as the PostgreSQL index holds them for each name."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


def search_query(args):
    # ``current = true``, not ``IS true``: PostgreSQL proves the partial indexes' ``WHERE current`` from it.
    stmt = select(PublishedResult).where(PublishedResult.current == True)  # noqa: E712
    q = args.get("q", "").strip()[:50]
    if q:
        if q.isascii() and q.isalnum():  # a credit code, or its beginning
            stmt = stmt.where(PublishedResult.uscc.startswith(q.upper(), autoescape=True))
        else:
            if len(q) >= 2 and db.engine.dialect.name == "postgresql":
                # Candidates from the character-pair index (migration 7174b21c1e48); LIKE confirms them.
                stmt = stmt.where(func.name_bigrams(PublishedResult.enterprise_name)
                                  .op("@>")(cast(bigrams(q), ARRAY(Text))))
            stmt = stmt.where(PublishedResult.enterprise_name.contains(q, autoescape=True))
    if args.get("region"):
        stmt = stmt.where(PublishedResult.region == args["region"])
    if (batch_id := int_arg(args.get("batch"))) is not None:  # issue #11 point 13: never past the column
        stmt = stmt.where(PublishedResult.batch_id == batch_id)
    if args.get("result") in CATEGORIES:
        stmt = stmt.where(PublishedResult.category == args["result"])
    return stmt


@bp.get("/public/results")
@public
def results():
    """抽查结果公示: search by enterprise name, credit code, township, batch and result."""
    args = {k: request.args.get(k, "") for k in ("q", "region", "batch", "result")}
    stmt = search_query(args)
    newest = PublishedResult.published_at
    q = args["q"].strip()
    if q and not (q.isascii() and q.isalnum()):
        # A name matches few results: find them by the name index, then sort them. Ordered by the bare
        # column, the planner may walk the publication-time index hoping to meet 20 matches early, and
        # for a name nobody has that walk reads every result.
        newest = func.coalesce(PublishedResult.published_at, PublishedResult.published_at)
    page = paginate(stmt.order_by(newest.desc(), PublishedResult.id.desc()), per_page=PUBLIC_PAGE_SIZE,
                    count_cap=COUNT_CAP)
    ctx = {"page": page, "args": args, "categories": CATEGORIES}
    if htmx and not htmx.boosted:
        return render_block("publication/results.html", "results", **ctx)
    # The choices come from the registers (townships; batches of published plans), not from scanning results.
    ctx["regions"] = db.session.scalars(select(Region.name).order_by(Region.code)).all()
    ctx["batches"] = db.session.execute(select(Batch.id, Batch.title).join(Plan, Plan.id == Batch.plan_id)
                                        .where(Plan.state == "published").order_by(Batch.id)).all()
    return render_template("publication/results.html", **ctx)


@bp.get("/public/results/<int:task_id>")
@public
def result(task_id: int):
    """Every published version of one result, the corrections with their reasons."""
    rows = services.versions(task_id)
    if not rows:
        abort(404)
    return render_template("publication/result.html", versions=rows)
