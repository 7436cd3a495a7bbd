"""Adversarial checks of the batch summary and the 经验总结 (R23), found by driving them as strangers would
on a phone: two tabs on one draft, double taps, odd characters, the figures the charts and the text agree on."""
import re

from sqlalchemy import func, select

from webapp.audit.models import AuditEntry
from webapp.brigade import report as svc
from webapp.extensions import db
from tests.brigade.test_report import TEXT, _client, world  # noqa: F401 (the fixture)


def _base(html: str) -> str:
    return re.search(r'name="base" value="([^"]*)"', html).group(1)


def _audits(action):
    return db.session.scalar(select(func.count()).where(AuditEntry.action == action))


def test_a_second_tab_does_not_silently_overwrite_the_draft(app, world):  # noqa: F811
    """R23: tab A and tab B open the draft; B saves causes; A (opened before) saves its suggestions. A must
    be refused with its text kept and B's version shown, not wipe B's causes; a second save overwrites."""
    url = f"/brigade/batches/{world['batch'].id}/report"
    lead = _client(app, "brigade")
    assert lead.post(url, data={**TEXT, "base": ""}).status_code == 303
    tab_a = _base(lead.get(url).get_data(as_text=True))
    tab_b = _base(lead.get(url).get_data(as_text=True))
    assert tab_a == tab_b != ""
    assert lead.post(url, data={**TEXT, "causes": "B写的原因", "base": tab_b}).status_code == 303
    refused = lead.post(url, data={**TEXT, "suggestions": "A写的建议", "base": tab_a})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "另一个窗口" in page and "A写的建议" in page and "B写的原因" in page  # both versions on screen
    assert svc.report_of(world["batch"]).causes == "B写的原因"
    # Sending from the stale tab is refused the same way: nothing sent.
    sent = lead.post(f"{url}/send", data={**TEXT, "base": tab_a, "offices": [str(world["hazchem"].id)]})
    assert sent.status_code == 422 and svc.report_of(world["batch"]).state == "draft"
    # Having seen the other version, the writer saves again: the form now stands on it.
    again = lead.post(url, data={**TEXT, "suggestions": "A写的建议", "base": _base(page)})
    assert again.status_code == 303
    assert svc.report_of(world["batch"]).suggestions == "A写的建议"


def test_a_double_tap_on_save_is_no_conflict(app, world):  # noqa: F811
    url = f"/brigade/batches/{world['batch'].id}/report"
    lead = _client(app, "brigade")
    base = _base(lead.get(url).get_data(as_text=True))
    assert base == ""
    assert lead.post(url, data={**TEXT, "base": base}).status_code == 303
    assert lead.post(url, data={**TEXT, "base": base}).status_code == 303  # the second tap, same form
    assert _audits("batch_report.save") == 1


def test_a_refusal_for_another_reason_keeps_the_base_it_was_opened_on(app, world):  # noqa: F811
    """A send refused for a missing field must not quietly adopt a text saved elsewhere meanwhile."""
    url = f"/brigade/batches/{world['batch'].id}/report"
    lead = _client(app, "brigade")
    assert lead.post(url, data={**TEXT, "base": ""}).status_code == 303
    tab_a = _base(lead.get(url).get_data(as_text=True))
    assert lead.post(url, data={**TEXT, "causes": "B写的原因", "base": tab_a}).status_code == 303
    refused = lead.post(f"{url}/send", data={**TEXT, "suggestions": "", "base": tab_a,
                                             "offices": [str(world["hazchem"].id)]})
    assert refused.status_code == 422 and _base(refused.get_data(as_text=True)) == tab_a


def test_the_lead_sees_at_the_top_how_many_offices_acknowledged(app, world):  # noqa: F811
    """After sending, the offices' acknowledgements were listed only under the whole text (three screens
    down on a phone): the state line now says how many of them acknowledged, linking to the list."""
    batch = world["batch"]
    url = f"/brigade/batches/{batch.id}/report"
    lead = _client(app, "brigade")
    offices = [str(world["hazchem"].id), str(world["trade"].id)]
    assert lead.post(f"{url}/send", data={**TEXT, "offices": offices}).status_code == 303
    assert _client(app, "hazchem").post(f"{url}/acknowledge", data={"answer": ""}).status_code == 303
    page = lead.get(url).get_data(as_text=True)
    state = re.search(r'<p id="report-state">(.*?)</p>', page, re.S).group(1)
    assert 'href="#report-addressees"' in state and "1/2 个股室已确认" in state
    # An office sees its own acknowledgement, not the others' count.
    office_page = _client(app, "trade").get(url).get_data(as_text=True)
    assert "个股室已确认" not in office_page


def test_the_batch_summary_leads_to_its_summary_of_experience(app, world):  # noqa: F811
    """The lead reads the batch from its summary, then writes the 经验总结 (R23): the summary page had no
    way there (only through the batch's draw page)."""
    batch = world["batch"]
    page = _client(app, "brigade").get(f"/brigade/batches/{batch.id}").get_data(as_text=True)
    assert f'href="/brigade/batches/{batch.id}/report"' in page
    assert _client(app, "brigade").get(f"/brigade/batches/{batch.id}/report").status_code == 200


def test_the_workload_chart_says_when_it_shows_only_the_busiest(app, world, monkeypatch):  # noqa: F811
    """The chart draws 15 inspectors; with more (the demo batch has 18) it said nothing of the others."""
    from webapp.brigade import summary_routes
    real = summary_routes.batch_summary

    def many(batch, user=None):
        s = real(batch, user)
        row = s["workload"][0]
        s["workload"] = [{**row, "inspector_id": row["inspector_id"], "name": f"{row['name']}{k}"} for k in range(18)]
        return s

    url = f"/brigade/batches/{world['batch'].id}"
    lead = _client(app, "brigade")
    assert "workload-top" not in lead.get(url).get_data(as_text=True)
    monkeypatch.setattr(summary_routes, "batch_summary", many)
    page = lead.get(url).get_data(as_text=True)
    assert "图表只显示任务最多的 15 名检查人员，上方表格列出全部 18 名。" in page
