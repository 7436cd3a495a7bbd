"""The browser verifier checks a beacon's time as verify_draw.py does (DRAW.md §2, issue #11 point 6).

A lottery draw's export, and exports whose beacon_ref was typed with a time off the lottery's
schedule, an issue too far on, a drand round with the wrong time, a commitment made after the value
existed, or an issue the lottery had already drawn by the commitment (each made consistent in every
other way), get the same verdict and the same failing check from the stand-alone script and from the
page.
"""
import json
import re
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect

from tests.draws.test_beacons import _export, _issue, _lottery, _redraw, _slot
from tests.factories import make_inspector, make_plan, pass_beacon_time

VERIFIER = Path(__file__).resolve().parents[2] / "webapp" / "draws" / "verify_draw.py"


def test_beacon_time_checks_agree(page, live_server, ctx, tmp_path):
    from webapp.db_types import utcnow
    from webapp.draws import ceremony

    for k in range(4):
        make_inspector(name=f"检查员{k}")
    _plan, batch = make_plan(n_enterprises=8, sample=3)
    slot = _slot(utcnow() + timedelta(days=1))
    draw = ceremony.commit_draw(batch, _lottery(slot))
    pass_beacon_time(draw)
    ceremony.reveal(draw, "3 9 14 22 27 31 8")
    files, data = _export(draw)
    committed = datetime.fromisoformat(data["committed_at"])
    first = _slot(committed)
    wednesday = first + timedelta(days=1 if first.weekday() == 1 else 6 if first.weekday() == 3 else 3)
    cases = {
        "untouched": data,
        "off schedule": _redraw(files, data, f"福彩双色球 {_issue(first)}期 ({wednesday.isoformat()})"),
        "issue too far": _redraw(files, data, f"福彩双色球 {int(_issue(first)) + 1}期 ({first.isoformat()})"),
        "drand time": _redraw(files, data, f"drand quicknet round 34211472 ({datetime.fromtimestamp(1692803367 + 34211471 * 3 + 3, timezone.utc).isoformat()})"),
        "after the value": _redraw(files, data, f"福彩双色球 {_issue(first)}期 ({first.isoformat()})",
                                   committed_at=first + timedelta(seconds=1)),
        # Issue #11 point 6: an issue the lottery had already drawn by the commitment, with a later time typed.
        "issue already drawn": _redraw(files, data, "福彩双色球 2026001期 (2026-12-01T21:15:00+08:00)",
                                       committed_at=datetime.fromisoformat("2026-11-29T10:00:00+08:00")),
        "tonight's issue, before its draw": _redraw(files, data, f"福彩双色球 {_issue(first)}期 ({first.isoformat()})",
                                                    committed_at=first - timedelta(minutes=5)),
    }
    page.goto(f"{live_server}/public/verify")
    result = page.locator("#verify-result")
    for name, doc in cases.items():
        path = tmp_path / f"{re.sub(r'[^a-z]', '-', name)}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, content in files.items():
                zf.writestr(n, content)
            zf.writestr("draw.json", json.dumps(doc, ensure_ascii=False))
        cli = subprocess.run([sys.executable, "-I", str(VERIFIER), str(path)], capture_output=True, text=True)
        py_check = next((line[5:].split(":")[0] for line in cli.stdout.splitlines() if line.startswith("FAIL ")), "")
        passes = name in ("untouched", "tonight's issue, before its draw")
        assert (cli.returncode == 0) == passes, (name, cli.stdout)
        page.evaluate("document.getElementById('verify-result').dataset.status = 'idle'")
        page.set_input_files("#verify-file", str(path))
        expect(result).to_have_attribute("data-status", re.compile("^(pass|fail)$"), timeout=20000)
        assert result.get_attribute("data-failed-check") == py_check, (name, cli.stdout, result.inner_text())
        if passes:
            # the script's machine output keeps its words; the page says them in the reader's language
            assert "WARN 福彩双色球" in cli.stdout and "福彩官方开奖记录" in result.inner_text()
        else:
            assert py_check in ("beacon time", "beacon after commitment"), (name, cli.stdout)
        if name == "issue already drawn":
            assert py_check == "beacon after commitment" and "may already have been drawn" in cli.stdout
            assert "may already have been drawn" in result.inner_text()
