"""Lottery beacons (DRAW.md §2, issue #11 point 6).

A lottery issue's time does not follow from its number: an operator could commit to an issue whose
result was already known by typing a later time. The server checks the official schedule's weekday and
hour and that the issue is above every issue already used, shows the claimed time publicly, and drand
stays the default. verify_draw.py checks the beacon's time too.
"""
import io
import json
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest

from webapp.db_types import SHANGHAI, utcnow
from webapp.draws import ceremony
from webapp.draws import verify_draw as V
from webapp.services import ServiceError
from tests.factories import BEACON, make_drawn, make_inspector, make_plan, pass_beacon_time


@pytest.fixture
def pool(ctx):
    return [make_inspector(name=f"检查员{k}") for k in range(4)]


def _slot(after: datetime, skip: int = 0) -> datetime:
    """The next 双色球 draw (Tue/Thu/Sun 21:15 Beijing time) after ``after``, ``skip`` more slots on."""
    day = after.astimezone(SHANGHAI).date()
    found = []
    while len(found) <= skip:
        at = datetime(day.year, day.month, day.day, 21, 15, tzinfo=SHANGHAI)
        if day.weekday() in (1, 3, 6) and at > after:
            found.append(at)
        day += timedelta(days=1)
    return found[-1]


def _draw_days(until: date) -> int:
    """Tuesdays, Thursdays and Sundays from 1 January through ``until`` (counted here, not by the code)."""
    return sum(1 for k in range(until.timetuple().tm_yday)
               if (date(until.year, 1, 1) + timedelta(days=k)).isoweekday() in (2, 4, 7))


def _issue(at: datetime) -> str:
    """The issue drawn at ``at`` in a year without a break: its place among the year's draw days."""
    return f"{at.year}{_draw_days(at.date()):03d}"


def _lottery(at: datetime, issue: str | None = None) -> dict:
    return {"beacon_kind": "lottery", "lottery_issue": issue or _issue(at),
            "lottery_at": at.strftime("%Y-%m-%dT%H:%M")}


def test_the_schedule_by_hand():
    # 2026-01-01 is a Thursday: a draw day; then Sunday the 4th and Tuesday the 6th.
    assert [V.lottery_draw_days(date(2026, 1, d)) for d in (1, 2, 3, 4, 5, 6)] == [1, 1, 1, 2, 2, 3]
    assert V.lottery_draw_days(date(2026, 12, 31)) == _draw_days(date(2026, 12, 31)) == 157
    tuesday = datetime(2026, 1, 6, 21, 15, tzinfo=SHANGHAI)
    assert V.lottery_problem(2026003, tuesday) is None
    assert V.lottery_problem(2026004, tuesday)[0] == "number"  # the 4th draw of 2026 comes later
    assert V.lottery_problem(2026003, tuesday + timedelta(days=1))[0] == "schedule"  # a Wednesday
    assert V.lottery_problem(2026003, tuesday.astimezone(timezone.utc)) is None  # any offset, same instant
    assert V.lottery_problem(2025003, tuesday)[0] == "year"


def test_a_lottery_time_off_the_official_schedule_is_refused(ctx, pool):
    _plan, batch = make_plan()
    slot = _slot(utcnow() + timedelta(days=1))
    for wrong in (slot + timedelta(days=1), slot + timedelta(minutes=45), slot - timedelta(hours=2)):
        with pytest.raises(ServiceError) as refused:
            ceremony.commit_draw(batch, _lottery(wrong, _issue(slot)))
        assert refused.value.field == "lottery_at" and "21:15" in refused.value.message
    assert batch.draws == []


def test_an_issue_of_another_year_or_too_far_on_is_refused(ctx, pool):
    _plan, batch = make_plan()
    slot = _slot(utcnow() + timedelta(days=1))
    with pytest.raises(ServiceError) as refused:
        ceremony.commit_draw(batch, _lottery(slot, f"{slot.year + 1}001"))
    assert refused.value.field == "lottery_issue" and str(slot.year + 1) in refused.value.message
    too_far = _draw_days(slot.date()) + 1
    with pytest.raises(ServiceError) as refused:
        ceremony.commit_draw(batch, _lottery(slot, f"{slot.year}{too_far:03d}"))
    assert refused.value.field == "lottery_issue"
    assert batch.draws == []


def _pinned_now(monkeypatch, now: datetime) -> datetime:
    """The server's clock as ceremony reads it (commit time, committed_at) pinned to ``now``."""
    monkeypatch.setattr(ceremony, "utcnow", lambda: now.astimezone(timezone.utc))
    return now


def test_known_issues_by_hand():
    """Issue #11 point 6: by a commitment's time, the year's scheduled draw days already come bound the
    issues that may have been drawn (2026-11-29 is a Sunday, a draw day)."""
    before = datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
    through_saturday = _draw_days(date(2026, 11, 28))
    assert V.lottery_draws_passed(before) == (2026, through_saturday)
    assert V.lottery_draws_passed(before.replace(hour=21, minute=15)) == (2026, through_saturday + 1)
    assert V.lottery_draws_passed(before.astimezone(timezone.utc)) == (2026, through_saturday)  # any offset
    assert V.lottery_known(2026000 + through_saturday + 1, before) is None  # tonight's issue
    assert V.lottery_known(2026000 + through_saturday, before)["last"] == 2026000 + through_saturday
    assert V.lottery_known(2026001, before) is not None
    assert V.lottery_known(2026000 + through_saturday + 1, before.replace(hour=21, minute=15)) is not None
    assert V.lottery_known(2027001, before) is None
    assert V.lottery_known(2025157, before)["last"] == 2025000 + _draw_days(date(2025, 12, 31))
    new_year = datetime(2026, 1, 1, 10, 0, tzinfo=SHANGHAI)  # a Thursday: no draw of 2026 has come yet
    assert V.lottery_known(2026001, new_year) is None and V.lottery_known(2025157, new_year) is not None


def test_the_first_lottery_draw_cannot_name_an_issue_already_drawn(ctx, pool, monkeypatch):
    """Issue #11 point 6: with no issue used yet, issue 001 of the year claimed for next Tuesday was
    accepted in late November. Now an issue up to the number of the year's draw days already come is
    refused, at commit time, by the server's clock."""
    _plan, batch = make_plan()
    year = utcnow().astimezone(SHANGHAI).year
    now = _pinned_now(monkeypatch, datetime(year, 11, 29, 10, 0, tzinfo=SHANGHAI))
    passed = _draw_days(date(year, 11, 28))  # draws through yesterday; today's (if any) is at 21:15
    upcoming = _slot(now)
    for issue in (f"{year}001", f"{year}{passed:03d}", f"{year}{passed - 40:03d}"):
        with pytest.raises(ServiceError) as refused:
            ceremony.commit_draw(batch, _lottery(upcoming, issue))
        assert refused.value.field == "lottery_issue", issue
        assert issue in refused.value.message and f"{year}{passed:03d}" in refused.value.message
    assert batch.draws == []
    draw = ceremony.commit_draw(batch, _lottery(upcoming))  # the next issue: still to come
    assert draw.lottery_issue == year * 1000 + passed + 1 == int(_issue(upcoming))
    assert draw.committed_at == now and draw.beacon_ref == f"福彩双色球 {_issue(upcoming)}期 ({upcoming.isoformat()})"
    report = V.Report(ok=False)  # the public verifier's beacon checks agree on what was committed
    V._check_beacon_time({"beacon_ref": draw.beacon_ref, "committed_at": draw.committed_at.isoformat()}, report)
    assert report.checks == ["beacon time", "beacon after commitment"]


def test_tonights_issue_until_its_draw_and_not_after(ctx, monkeypatch):
    """Issue #11 point 6: the claimed time must be after the commitment, and a draw day's issue counts as
    come from 21:15 Beijing time on."""
    tonight = _slot(datetime(utcnow().astimezone(SHANGHAI).year, 11, 1, tzinfo=SHANGHAI))
    issue = int(_issue(tonight))
    ceremony.check_lottery_issue(issue, tonight, now=tonight - timedelta(minutes=5))
    for now in (tonight, tonight + timedelta(minutes=1)):
        with pytest.raises(ServiceError) as refused:  # the time typed is not after now
            ceremony.check_lottery_issue(issue, tonight, now=now)
        assert refused.value.field == "lottery_at" and str(issue) in refused.value.message
        with pytest.raises(ServiceError) as refused:  # a later time typed for tonight's issue
            ceremony.check_lottery_issue(issue, _slot(tonight, skip=1), now=now)
        assert refused.value.field == "lottery_issue" and str(issue) in refused.value.message
    # The default "now" is the server's clock, as ceremony reads it.
    _pinned_now(monkeypatch, tonight + timedelta(seconds=1))
    with pytest.raises(ServiceError):
        ceremony.check_lottery_issue(issue, _slot(tonight, skip=1))
    _pinned_now(monkeypatch, tonight - timedelta(seconds=1))
    ceremony.check_lottery_issue(issue, _slot(tonight, skip=1))


def test_a_superseding_draw_is_held_against_the_time_it_is_approved(ctx, pool, monkeypatch):
    """Issue #11 point 6: the commitment is made at approval; an issue drawn meanwhile (with a later time
    typed for it) is refused then, and nothing changes."""
    from webapp import roles as R
    from tests.factories import make_user

    _plan, batch, old = make_drawn()
    lead, other = make_user(R.BRIGADE_LEAD, "lead1"), make_user(R.ADMIN, "office1")
    now = _pinned_now(monkeypatch, datetime(utcnow().astimezone(SHANGHAI).year, 11, 29, 10, 0, tzinfo=SHANGHAI))
    upcoming = _slot(now)
    proposed = ceremony.request_supersede(batch, {"reason": "企业库未更新注销企业",
                                                  **_lottery(_slot(upcoming, skip=3), _issue(upcoming))}, lead.id)
    _pinned_now(monkeypatch, upcoming + timedelta(hours=1))  # the issue has been drawn since
    with pytest.raises(ServiceError) as refused:
        ceremony.approve_supersede(proposed, other.id)
    assert refused.value.field == "lottery_issue" and _issue(upcoming) in refused.value.message
    assert proposed.state == "proposed" and old.state == "drawn" and proposed.committed_at is None


def test_an_issue_must_be_above_every_issue_already_used(ctx, pool):
    """The operator cannot go back to an issue whose result may be known, whatever time they type."""
    _p1, first_batch = make_plan()
    _p2, second_batch = make_plan()
    slot = _slot(utcnow() + timedelta(days=1))
    first = ceremony.commit_draw(first_batch, _lottery(slot))
    later = _slot(slot, skip=1)  # two draw days on
    for issue in (_issue(slot), str(int(_issue(slot)) - 1)):  # the same issue, a lower one, at a later time
        with pytest.raises(ServiceError) as refused:
            ceremony.commit_draw(second_batch, _lottery(later, issue))
        assert refused.value.field == "lottery_issue" and first.draw_id in refused.value.message
    with pytest.raises(ServiceError) as refused:  # a higher issue cannot be drawn before (or with) a lower one
        ceremony.commit_draw(second_batch, _lottery(slot, str(int(_issue(slot)) + 1)))
    assert refused.value.field in ("lottery_at", "lottery_issue")
    second = ceremony.commit_draw(second_batch, _lottery(later))
    assert first.lottery_issue == int(_issue(slot)) and second.lottery_issue == int(_issue(later))
    # A superseding draw may not go back either.
    with pytest.raises(ServiceError) as refused:
        ceremony.request_supersede(first_batch, {"reason": "企业库未更新注销企业", **_lottery(_slot(later, 3), _issue(later))},
                                   1)
    assert refused.value.field == "lottery_issue" and second.draw_id in refused.value.message


def test_the_claimed_time_is_public_beside_the_issue(app, ctx, pool):
    _plan, batch = make_plan()
    slot = _slot(utcnow() + timedelta(days=1))
    draw = ceremony.commit_draw(batch, _lottery(slot))
    client = app.test_client()
    page = client.get(f"/public/draws/{draw.draw_id}").get_data(as_text=True)
    shown = page.split('class="beacon-time"', 1)[1].split("</dd>", 1)[0]
    assert slot.strftime("%Y-%m-%d 21:15") in shown and str(draw.lottery_issue) in shown
    item = client.get("/public/draws.json").get_json()["items"][0]["_ssj"]
    assert item["beacon_at"] == slot.isoformat(timespec="seconds") and item["lottery_issue"] == draw.lottery_issue
    pass_beacon_time(draw)  # the value has come; the claimed time stays what was committed
    ceremony.reveal(draw, "27 3 31 09 14 22 8")
    ceremony.publish_draw(draw)
    page = client.get(f"/public/draws/{draw.draw_id}").get_data(as_text=True)
    assert slot.strftime("%Y-%m-%d 21:15") in page and "3.9.14.22.27.31.8" in page
    report = V.verify(*_export(draw))
    assert report.ok and "beacon time" in report.checks, report.failed


def test_drand_is_the_default_on_the_command_line(app, ctx, pool):
    _plan, batch = make_plan()
    result = app.test_cli_runner().invoke(args=["draw", "commit", str(batch.id)])
    assert result.exit_code == 0, result.output
    assert batch.live_draw.beacon_ref.startswith("drand quicknet round") and batch.live_draw.drand_round


# --- the public verifier ---------------------------------------------------------------------------

def _export(draw) -> tuple[dict, dict]:
    with zipfile.ZipFile(io.BytesIO(ceremony.export_zip(draw))) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    return {n: entries[n] for n in V.INPUT_FILES}, json.loads(entries["draw.json"])


def _redraw(files: dict, data: dict, beacon_ref: str, committed_at: datetime | None = None) -> dict:
    """draw.json as an operator who typed ``beacon_ref`` would publish it: consistent in every other way."""
    data = dict(data, beacon_ref=beacon_ref, substitutions=[])
    if committed_at:
        data["committed_at"] = committed_at.isoformat(timespec="seconds")
    data["commitment"] = V.commitment(data["draw_id"], files, beacon_ref)
    data["seed"] = V.seed_of(data["commitment"], data["beacon_value"])
    result = V.run(V.parse_inputs(files), data["seed"])
    data.update({k: result[k] for k in ("quotas", "selected", "reserve", "groups", "unstaffed")})
    return data


def test_the_verifier_checks_the_beacon_time(ctx, pool):
    _plan, _batch, draw = make_drawn()
    files, data = _export(draw)
    report = V.verify(files, data)
    assert report.ok and "beacon time" in report.checks and "beacon after commitment" in report.checks
    committed = datetime.fromisoformat(data["committed_at"])
    slot = _slot(committed)
    good = _redraw(files, data, f"福彩双色球 {_issue(slot)}期 ({slot.isoformat()})")
    report = V.verify(files, good)
    assert report.ok, report.failed
    assert any("lottery's own record" in w for w in report.warnings)  # the claim, for the public to check
    wednesday = slot + timedelta(days=(2 - slot.weekday()) % 7 or 7)
    for ref, check in [
        (f"福彩双色球 {_issue(slot)}期 ({wednesday.isoformat()})", "beacon time"),
        (f"福彩双色球 {_issue(slot)}期 ({(slot + timedelta(hours=1)).isoformat()})", "beacon time"),
        (f"福彩双色球 {slot.year + 1}001期 ({slot.isoformat()})", "beacon time"),
        (f"drand quicknet round {draw.drand_round} ({(draw.claimed_beacon_time + timedelta(seconds=3)).isoformat()})",
         "beacon time"),
    ]:
        report = V.verify(files, _redraw(files, data, ref))
        assert not report.ok and report.failed.check == check, ref
    # A beacon that existed before the commitment: the value was known.
    past = _redraw(files, data, f"福彩双色球 {_issue(slot)}期 ({slot.isoformat()})",
                   committed_at=slot + timedelta(days=1))
    report = V.verify(files, past)
    assert not report.ok and report.failed.check == "beacon after commitment"


def test_the_verifier_refuses_an_issue_drawn_before_the_commitment(ctx, pool):
    """Issue #11 point 6: verify_draw.py holds the issue against committed_at as the server does."""
    _plan, _batch, draw = make_drawn()
    files, data = _export(draw)
    committed = datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
    tuesday = datetime(2026, 12, 1, 21, 15, tzinfo=SHANGHAI)
    known = _redraw(files, data, f"福彩双色球 2026001期 ({tuesday.isoformat()})", committed_at=committed)
    report = V.verify(files, known)
    assert not report.ok and report.failed.check == "beacon after commitment"
    assert "2026001" in report.failed.message and "may already have been drawn" in report.failed.message
    fine = _redraw(files, data, f"福彩双色球 {_issue(tuesday)}期 ({tuesday.isoformat()})", committed_at=committed)
    report = V.verify(files, fine)
    assert report.ok and "beacon after commitment" in report.checks, report.failed


def test_odd_beacon_input_is_refused_not_a_server_error(app, ctx, pool):
    """"²" passes str.isdigit(), a round past 2³¹ overflows the column and the clock, a year-1 time
    overflows UTC: each is a refusal with the field named."""
    _plan, batch = make_plan()
    for form, field in [({"beacon_kind": "drand", "drand_round": "²"}, "drand_round"),
                        ({"beacon_kind": "drand", "drand_round": "9" * 20}, "drand_round"),
                        ({"beacon_kind": "drand", "drand_round": str(2**31)}, "drand_round"),
                        ({"beacon_kind": "lottery", "lottery_issue": "0001001", "lottery_at": "0001-01-01T00:00"},
                         "lottery_at"),
                        ({"beacon_kind": "lottery", "lottery_issue": "9999157", "lottery_at": "9999-12-31T23:59-10:00"},
                         "lottery_at")]:
        with pytest.raises(ServiceError) as refused:
            ceremony.commit_draw(batch, form)
        assert refused.value.field == field, form
    assert batch.draws == []
