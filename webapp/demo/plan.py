"""The demo's annual plan: thematic batches, the current one drawn and published, so a first run shows
the ceremony. ``webapp/demo/finished.py`` puts a finished batch in front of them (issue #13 point 6)."""
import time
from datetime import date, timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..db_types import today_shanghai, utcnow
from ..draws import ceremony
from ..draws.models import Plan
from ..draws.plans import approve_plan, publish_plan, save_batch, save_plan
from ..draws.verify_draw import H
from ..extensions import db
from ..registries.models import InspectionItem

ORDINALS = "一二三四五六七八九十"


def _items(*codes) -> list[str]:
    return [str(i) for i in db.session.scalars(select(InspectionItem.id).where(InspectionItem.code.in_(codes)))]


def current_batches(today: date, first: int = 1) -> list[MultiDict]:
    """The three thematic batches whose windows open today and later; numbered from ``first``."""
    year_end = date(today.year, 12, 31)
    n = [f"第{ORDINALS[first - 1 + k]}批" for k in range(3)]
    one = MultiDict({"title": f"{n[0]}：工贸企业安全管理检查（定向）", "window_start": today.isoformat(),
                     "window_end": min(today + timedelta(days=20), year_end).isoformat(),
                     "draw_type": "directed", "sample_size": "80", "group_size": "2", "capacity": "10",
                     "method": "onsite"})
    one.setlist("item", _items("GM-GEN-01"))
    one.setlist("industry", ["metallurgy", "nonferrous", "building_materials", "machinery", "light_industry",
                             "textile", "tobacco", "commerce"])
    two = MultiDict({"title": f"{n[1]}：危险化学品企业专项检查（定向）",
                     "window_start": min(today + timedelta(days=7), year_end).isoformat(),
                     "window_end": year_end.isoformat(), "draw_type": "directed", "sample_percent": "10",
                     "group_size": "2", "capacity": "10", "method": "onsite", "include_focus": "1"})
    two.setlist("item", _items("HC-01", "HC-02", "HC-03"))
    two.setlist("industry", ["hazchem"])
    three = MultiDict({"title": f"{n[2]}：矿山企业检查（定向）",
                       "window_start": min(today + timedelta(days=14), year_end).isoformat(),
                       "window_end": year_end.isoformat(), "draw_type": "directed", "sample_size": "0",
                       "group_size": "2", "capacity": "10", "method": "onsite"})
    three.setlist("item", _items("COAL-01", "COAL-02", "COAL-03", "COAL-04"))
    three.setlist("industry", ["coal", "non_coal_mine"])
    return [one, two, three]


def create_plan(year: int, batches: list[MultiDict]) -> Plan:
    """The year's plan with its batches, approved and published (R5)."""
    plan = save_plan({"title": f"{year}年度安全生产“双随机、一公开”监管抽查工作计划", "year": str(year),
                      "publication_days": "20"})
    for form in batches:
        save_batch(plan, form)
    approve_plan(plan)
    publish_plan(plan)
    return plan


def draw_batch(batch, clock=None):
    """The ceremony with the stand-in beacon: commit, reveal once the beacon "exists" (two seconds after
    the commitment: waited for, or, under the demo clock, stepped over), publish."""
    draw = ceremony.commit_draw(batch, {"beacon_kind": "demo"}, allow_demo=True)
    if clock is not None:
        clock.set(draw.beacon_at + timedelta(seconds=1))
    while utcnow() < draw.beacon_at:
        time.sleep(0.2)
    ceremony.reveal(draw, H(f"demo beacon for {draw.commitment}"))
    ceremony.publish_draw(draw)
    return draw


def seed_plan(plan: Plan | None = None) -> dict:
    """Draw the plan's first batch not drawn yet; without a plan, this year's plan is made first."""
    if plan is None:
        today = today_shanghai()
        plan = create_plan(today.year, current_batches(today))
    batch = next(b for b in plan.batches if not b.draws)
    draw = draw_batch(batch)
    return {"plan": plan.id, "draw": draw.draw_id, "tasks": len(draw.result["selected"])}
