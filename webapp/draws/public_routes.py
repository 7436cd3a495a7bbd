"""Public pages (no login): published plans, every commitment at once, inputs and results when public."""
from pathlib import Path

from flask import Response, abort, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..access import public
from ..extensions import db
from ..registries.vocab import METHOD_LABELS
from ..tasks.models import Task
from . import ceremony
from .models import Batch, Draw, Plan
from .plans import DRAW_TYPE_LABELS, stratum_names
from .routes import bp

VERIFIER = Path(__file__).with_name("verify_draw.py")


def _public_draw(draw_id: str) -> Draw:
    d = db.session.scalar(select(Draw).where(Draw.draw_id == draw_id))
    if d is None or d.commitment is None:
        abort(404)
    return d


@bp.get("/public/plans")
@public
def public_plans():
    rows = db.session.scalars(select(Plan).where(Plan.state == "published")
                              .order_by(Plan.year.desc(), Plan.id.desc())).all()
    return render_template("draws/public_plans.html", plans=rows)


@bp.get("/public/plans/<int:plan_id>")
@public
def public_plan(plan_id: int):
    p = db.session.get(Plan, plan_id)
    if p is None or p.state != "published":
        abort(404)
    return render_template("draws/public_plan.html", plan=p, draw_types=DRAW_TYPE_LABELS, methods=METHOD_LABELS,
                           supersessions={b.id: sum(1 for d in b.draws if d.state == "superseded")
                                          for b in p.batches})


@bp.get("/public/draws/<draw_id>")
@public
def public_draw(draw_id: str):
    """The commitment at once; inputs, beacon value, groups and substitutions once public (DRAW.md §1)."""
    d = _public_draw(draw_id)
    shown = ceremony.is_public(d)
    siblings = [x for x in d.batch.draws if x.commitment and x.id != d.id]
    names = {}
    if shown:  # names as frozen at dispatch: an enterprise's name and credit code are public
        names = dict(db.session.execute(select(Task.uscc, Task.enterprise["name"].as_string())
                                        .where(Task.draw_pk == d.id)).all())
    # DRAW.md §1 (issue #11 point 5): still sealed because a draw whose tasks its files counted is.
    waiting = [c for c in d.counted if not ceremony.is_public(c)] if d.seed and not shown else []
    data = ceremony.draw_json(d) if shown else None
    strata = stratum_names(set(data["quotas"]) | set(data["reserve"])) if data else {}
    return render_template("draws/public_draw.html", draw=d, shown=shown, siblings=siblings, names=names,
                           strata=strata,
                           supersessions=sum(1 for x in d.batch.draws if x.state == "superseded"),
                           data=data, waiting=waiting,
                           opens=ceremony.opens_on(d) if waiting else None)


@bp.get("/public/draws/<draw_id>/export.zip")
@public
def public_draw_export(draw_id: str):
    d = _public_draw(draw_id)
    if not ceremony.is_public(d):
        abort(404)
    return Response(ceremony.export_zip(d), mimetype="application/zip",
                    headers={"Content-Disposition": f"attachment; filename=draw-{d.draw_id}.zip"})


def verifier_labels() -> dict:
    """The browser verifier's checks in the reader's language (issue #12 point 5). The keys are the
    shared check names verify_draw.py prints and the page's data-failed-check carries; only the words
    shown change."""
    return {
        "checks": {
            "input files well-formed": _("The input files are well-formed"),
            "draw id in rules.json": _("The draw number in the rules matches"),
            "commitment": _("The commitment matches the input files and the beacon named"),
            "beacon time": _("The beacon's time is its scheduled time"),
            "beacon after commitment": _("The beacon's value came after the commitment"),
            "seed": _("The seed follows from the commitment and the beacon's value"),
            "quotas": _("Quotas per township"),
            "selected": _("The units drawn"),
            "reserve": _("The reserve list"),
            "groups": _("The inspection groups"),
            "unstaffed": _("The units left without a group"),
            "no recusal pair meets, no inspector over capacity, groups certified":
                _("No recused inspector in a group, nobody over capacity, every inspector certified"),
            "spec": _("The algorithm version"),
            "files present": _("Every file is present"),
            "each credit code once": _("Each credit code appears once"),
            "recusals": _("Recusals respected"),
            "certified": _("Every inspector certified"),
            "capacity": _("No inspector over capacity"),
            "draw": _("The draw's record"),
            "reading the export": _("Reading the export"),
            "draw.json": _("The draw's record (draw.json)"),
        },
        "format": _("The format of %(file)s", file="%(file)s"),
        "substitution": _("Substitution %(n)s (%(kind)s, %(task)s)", n="%(n)s", kind="%(kind)s", task="%(task)s"),
        "kinds": {"inspector": _("inspector replaced"), "enterprise": _("unit replaced")},
        "warnings": {
            "no time": _("The beacon reference names no time this page can read: check by hand that its value "
                         "did not exist before the commitment."),
            "lottery time": _("福彩双色球 issue %(n)s is said to be drawn at %(t)s: check that time against the "
                              "lottery's own record.", n="%(n)s", t="%(t)s"),
            "thin": _("Task %(u)s: fewer eligible inspectors than the group size plus one at its first pick.",
                      u="%(u)s"),
        },
    }


@bp.get("/public/draws/<draw_id>/verify")
@public
def public_draw_verify(draw_id: str):
    """The browser verifier (WebCrypto): checks this draw's export, or any export the visitor picks."""
    d = _public_draw(draw_id)
    export = url_for("draws.public_draw_export", draw_id=d.draw_id) if ceremony.is_public(d) else None
    return render_template("draws/public_verify.html", draw=d, export=export, labels=verifier_labels())


@bp.get("/public/verify")
@public
def public_verify():
    return render_template("draws/public_verify.html", draw=None, export=None, labels=verifier_labels())


@bp.get("/public/verify_draw.py")
@public
def public_verifier():
    """The stand-alone verifier: the very module the server draws with."""
    return Response(VERIFIER.read_bytes(), mimetype="text/x-python",
                    headers={"Content-Disposition": "attachment; filename=verify_draw.py"})


@bp.get("/public/draws.json")
@public
def public_feed():
    """Every commitment as soon as it is made (JSON Feed 1.1), with the audit chain's head at that moment."""
    rows = db.session.scalars(select(Draw).where(Draw.commitment.is_not(None))
                              .order_by(Draw.committed_at.desc()).limit(200)
                              .options(joinedload(Draw.batch).joinedload(Batch.plan),
                                       joinedload(Draw.supersedes))).all()
    items = [{"id": d.draw_id, "url": url_for("draws.public_draw", draw_id=d.draw_id, _external=True),
              "title": f"{d.batch.plan.title} · {d.batch.title} · {d.draw_id}",
              "date_published": d.committed_at.isoformat(timespec="seconds"),
              "content_text": f"commitment {d.commitment}; beacon {d.beacon_ref}; audit head {d.audit_head}",
              "_ssj": {"commitment": d.commitment, "beacon_ref": d.beacon_ref, "audit_head": d.audit_head,
                       # DRAW.md §2: the claimed time of the beacon's value, beside the issue or round.
                       "beacon_at": d.claimed_beacon_time.isoformat(timespec="seconds"),
                       "lottery_issue": d.lottery_issue, "drand_round": d.drand_round,
                       "state": d.state, "supersedes": d.supersedes.draw_id if d.supersedes else None,
                       "reason": d.reason or None}} for d in rows]
    return {"version": "https://jsonfeed.org/version/1.1", "title": "双随机抽查 · 抽取承诺",
            "home_page_url": url_for("draws.public_plans", _external=True), "items": items}
