"""The demo's annual plan: two batches, the first drawn and published, so a first run shows the ceremony."""
import time
from datetime import date, timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..db_types import today_shanghai, utcnow
from ..draws import ceremony
from ..draws.plans import approve_plan, publish_plan, save_batch, save_plan
from ..draws.verify_draw import H
from ..extensions import db
from ..registries.models import InspectionItem


def _items(*codes) -> list[str]:
    return [str(i) for i in db.session.scalars(select(InspectionItem.id).where(InspectionItem.code.in_(codes)))]


def seed_plan() -> dict:
    today = today_shanghai()
    year_end = date(today.year, 12, 31)
    plan = save_plan({"title": f"{today.year}年度安全生产“双随机、一公开”监管抽查工作计划", "year": str(today.year),
                      "publication_days": "20"})
    first = MultiDict({"title": "第一批：工贸企业安全管理检查（定向）", "window_start": today.isoformat(),
                       "window_end": min(today + timedelta(days=20), year_end).isoformat(),
                       "draw_type": "directed", "sample_size": "80", "group_size": "2", "capacity": "10",
                       "method": "onsite"})
    first.setlist("item", _items("GM-GEN-01"))
    first.setlist("industry", ["metallurgy", "nonferrous", "building_materials", "machinery", "light_industry",
                               "textile", "tobacco", "commerce"])
    batch = save_batch(plan, first)
    second = MultiDict({"title": "第二批：危险化学品企业专项检查（定向）",
                        "window_start": min(today + timedelta(days=7), year_end).isoformat(),
                        "window_end": year_end.isoformat(), "draw_type": "directed", "sample_percent": "10",
                        "group_size": "2", "capacity": "10", "method": "onsite", "include_focus": "1"})
    second.setlist("item", _items("HC-01", "HC-02", "HC-03"))
    second.setlist("industry", ["hazchem"])
    save_batch(plan, second)
    third = MultiDict({"title": "第三批：矿山企业检查（定向）", "window_start": min(today + timedelta(days=14), year_end).isoformat(),
                       "window_end": year_end.isoformat(), "draw_type": "directed", "sample_size": "0",
                       "group_size": "2", "capacity": "10", "method": "onsite"})
    third.setlist("item", _items("COAL-01", "COAL-02", "COAL-03", "COAL-04"))
    third.setlist("industry", ["coal", "non_coal_mine"])
    save_batch(plan, third)
    approve_plan(plan)
    publish_plan(plan)
    draw = ceremony.commit_draw(batch, {"beacon_kind": "demo"}, allow_demo=True)
    while utcnow() < draw.beacon_at:  # the stand-in beacon "exists" two seconds after the commitment
        time.sleep(0.2)
    ceremony.reveal(draw, H(f"demo beacon for {draw.commitment}"))
    ceremony.publish_draw(draw)
    return {"plan": plan.id, "draw": draw.draw_id, "tasks": len(draw.result["selected"])}
