"""The draw as a brigade lead runs it on a phone, an inspector's tasks, and the public check.

A brigade lead drafts a plan, reads the rule it breaks, fixes it, approves, commits, enters the
beacon value, sees the groups and publishes; an inspector then sees their tasks; a citizen's
browser verifies the export and agrees with verify_draw.py on an untouched and a tampered one.
"""
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from webapp.draws.models import Draw
from webapp.extensions import db
from webapp.tasks.models import Task
from tests.factories import pass_beacon_time

VERIFIER = Path(__file__).resolve().parents[2] / "webapp" / "draws" / "verify_draw.py"


def fits_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_brigade_lead_runs_the_draw_and_the_inspector_gets_tasks(page, live_server, demo, shot):
    sign_in(page, live_server, "brigade")
    page.locator(".menu summary").click()
    page.locator(".menu nav").get_by_role("link", name="年度抽查计划").click()
    page.get_by_role("link", name="新建计划").click()
    page.get_by_label("标题").fill("年度双随机抽查计划（测试）")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".findings")).to_contain_text("计划尚无批次")
    page.get_by_role("link", name="添加批次").click()
    page.get_by_label("标题").fill("第一批")
    page.get_by_label("检查时段开始").fill(_today())
    page.get_by_label("检查时段结束").fill(_year_end())
    page.get_by_role("checkbox", name=re.compile("GM-GEN-01")).check()
    page.get_by_label("抽取数量", exact=True).fill("100000")  # more than the pool holds
    shot(page, "20-batch-form")
    fits_phone(page)
    page.get_by_role("button", name="保存").click()
    page.get_by_role("link", name=re.compile("年度双随机抽查计划")).click()
    broken = page.locator(".findings li.bad")
    expect(broken).to_have_count(1)
    expect(broken).to_contain_text("抽取数量（100000）大于待抽库")
    page.get_by_role("button", name="批准计划").click()
    expect(page.locator(".flash.error")).to_contain_text("只抽取辖区内正常经营的单位")
    shot(page, "21-plan-rule-broken")
    fits_phone(page)

    page.get_by_role("link", name="第一批").click()
    page.get_by_role("link", name="编辑批次").click()
    page.get_by_label("抽取数量", exact=True).fill("15")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("link", name=re.compile("年度双随机抽查计划")).click()
    page.get_by_role("button", name="批准计划").click()
    expect(page.locator(".flash.success")).to_contain_text("计划已批准")
    page.get_by_role("button", name="公布计划").click()
    expect(page.locator(".flash.success")).to_contain_text("计划已公布")

    page.get_by_role("link", name="第一批").click()
    page.get_by_role("button", name="冻结输入并作出承诺").click()
    expect(page.locator(".flash.success")).to_contain_text("承诺值已公布")
    shot(page, "22-committed")
    fits_phone(page)
    draw = db.session.scalar(select(Draw).order_by(Draw.id.desc()))
    page.get_by_label("信标值").fill("ab" * 32)
    page.get_by_role("button", name="计算抽取结果").click()
    expect(page.locator(".flash.error")).to_contain_text("尚未产生")  # before its time: refused
    pass_beacon_time(draw)
    page.get_by_label("信标值").fill("ab" * 32)
    page.get_by_role("button", name="计算抽取结果").click()
    expect(page.locator(".flash.success")).to_contain_text("已派发")
    db.session.expire_all()
    draw = db.session.get(Draw, draw.id)
    tasks = page.locator("#tasks tbody tr")
    expect(tasks).to_have_count(len(draw.result["selected"]))
    expect(tasks.first.locator("[data-phase]")).to_have_text("已派发，未开始")
    shot(page, "23-groups")
    fits_phone(page)
    page.get_by_role("button", name="公开输入文件和结果").click()
    expect(page.locator(".flash.success")).to_contain_text("已公开")

    # The demo inspector sees exactly the tasks whose group holds them.
    from webapp.auth.models import User
    insp = db.session.scalar(select(User).where(User.username == "inspector")).inspector_id
    mine = [t for t in db.session.scalars(select(Task).where(Task.draw_pk == draw.id))
            if any(m.inspector_id == insp for m in t.active_members)]
    page.locator(".menu summary").click()
    page.locator(".menu nav").get_by_role("button", name=re.compile("退出")).click()
    sign_in(page, live_server, "inspector")
    page.goto(f"{live_server}/tasks/")
    expect(page.locator("#results ul.rows > li")).to_have_count(max(1, len(mine)))
    for t in mine:
        expect(page.locator("#results ul.rows")).to_contain_text(t.enterprise["name"])
    shot(page, "24-inspector-tasks")
    fits_phone(page)
    if mine:
        page.locator("#results ul.rows a.rowlink").first.click()
        expect(page.locator("h2").first).to_have_text("检查事项")
        shot(page, "25-inspector-task")
        fits_phone(page)


def test_browser_verifier_agrees_with_verify_draw_py(page, live_server, ctx, shot, tmp_path):
    from tests.factories import make_drawn, make_inspector
    from webapp.draws import ceremony

    for k in range(5):
        make_inspector(name=f"检查员{k}")
    _plan, _batch, draw = make_drawn(n_enterprises=12, sample=4)
    ceremony.substitute(draw, "inspector", draw.result["selected"][0],
                        draw.result["groups"][draw.result["selected"][0]][0], "病假")
    ceremony.publish_draw(draw)
    page.goto(f"{live_server}/public/plans/{draw.batch.plan_id}")
    expect(page.locator("h1")).to_contain_text("双随机抽查计划")
    shot(page, "26a-public-plan")
    fits_phone(page)
    page.goto(f"{live_server}/public/draws/{draw.draw_id}")
    expect(page.locator("h1")).to_contain_text(draw.draw_id)
    shot(page, "26-public-draw")
    fits_phone(page)
    page.get_by_role("link", name="在浏览器中核验").click()
    page.get_by_role("button", name="核验本次公布的抽取包").click()
    result = page.locator("#verify-result")
    expect(result).to_have_attribute("data-status", "pass", timeout=20000)
    shot(page, "27-verify-pass")
    fits_phone(page)

    original = ceremony.export_zip(draw)
    cases = {"untouched": lambda e: None,
             "group": lambda e: _edit(e, lambda d: d["groups"][next(iter(d["groups"]))].reverse()),
             "input byte": lambda e: e.__setitem__("excluded.csv", e["excluded.csv"] + b"X,R3\n"),
             "substitution": lambda e: _edit(e, lambda d: d["substitutions"][0].__setitem__("in", "P99999"))}
    for name, tamper in cases.items():
        with zipfile.ZipFile(io.BytesIO(original)) as zf:
            entries = {n: zf.read(n) for n in zf.namelist()}
        tamper(entries)
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, data in entries.items():
                zf.writestr(n, data)
        cli = subprocess.run([sys.executable, "-I", str(VERIFIER), str(path)], capture_output=True, text=True)
        py_check = next((line[5:].split(":")[0] for line in cli.stdout.splitlines() if line.startswith("FAIL ")), "")
        page.evaluate("document.getElementById('verify-result').dataset.status = 'idle'")
        page.set_input_files("#verify-file", str(path))
        expect(result).to_have_attribute("data-status", re.compile("^(pass|fail)$"), timeout=20000)
        expect(result).to_have_attribute("data-status", "pass" if cli.returncode == 0 else "fail")
        assert result.get_attribute("data-failed-check") == py_check, (name, cli.stdout)
        if name != "untouched":
            assert cli.returncode == 1, name
    shot(page, "28-verify-fail")


def _edit(entries, change):
    data = json.loads(entries["draw.json"])
    change(data)
    entries["draw.json"] = json.dumps(data, ensure_ascii=False).encode()


def _today():
    from webapp.db_types import today_shanghai
    return today_shanghai().isoformat()


def _year_end():
    from webapp.db_types import today_shanghai
    return f"{today_shanghai().year}-12-31"
