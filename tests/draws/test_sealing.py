"""Draw sealing across batches (DRAW.md §1, issue #11 point 5).

A later batch's excluded.csv lists as R10 every unit already drawn twice this year, so publishing it
tells what earlier, still sealed batches drew. A draw's files and result are never public before
those of every draw whose tasks they counted, early publication included.
"""
import io
import zipfile
from datetime import date, datetime, timezone

import pytest
from werkzeug.datastructures import MultiDict

from webapp import roles as R
from webapp.db_types import today_shanghai
from webapp.draws import ceremony
from webapp.draws.plans import REASON_R10, approve_plan, publish_plan, save_batch
from webapp.extensions import db
from webapp.services import ServiceError
from tests.factories import BEACON, PASSWORD, make_inspector, make_plan, make_user, pass_beacon_time

YEAR = today_shanghai().year
#: Batches 1 and 2 run until the end of July; batch 3 closed at the end of April.
MID_MAY = date(YEAR, 5, 15)


def _batch(plan, title, sample, end):
    item = plan.batches[0].items[0]
    return save_batch(plan, MultiDict({"title": title, "window_start": f"{YEAR}-03-01", "window_end": end,
                                       "draw_type": "undirected", "sample_size": str(sample), "group_size": "2",
                                       "capacity": "10", "method": "onsite", "item": str(item.id)}))


def _draw(batch):
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    pass_beacon_time(draw)
    return ceremony.reveal(draw, BEACON)


@pytest.fixture
def three(ctx, monkeypatch):
    """Three drawn batches of one plan over six enterprises: the first draws all six, the second three of
    them (now checked twice: R10), the third's window has closed while the other two are still open."""
    for k in range(4):
        make_inspector(name=f"检查员{k}")
    plan, b1 = make_plan(n_enterprises=6, sample=6, approve=False, window_start=f"{YEAR}-03-01",
                         window_end=f"{YEAR}-07-31")
    b2 = _batch(plan, "第二批", 3, f"{YEAR}-07-31")
    b3 = _batch(plan, "第三批", 1, f"{YEAR}-04-30")
    approve_plan(plan)
    publish_plan(plan)
    d1, d2, d3 = _draw(b1), _draw(b2), _draw(b3)
    monkeypatch.setattr(ceremony, "today_shanghai", lambda: MID_MAY)  # the draws were made; now it is May
    monkeypatch.setattr(ceremony, "utcnow", lambda: datetime(YEAR, 5, 15, 2, tzinfo=timezone.utc))
    return d1, d2, d3


def _entries(draw) -> dict:
    with zipfile.ZipFile(io.BytesIO(ceremony.export_zip(draw))) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist()}


def test_a_draw_records_the_draws_whose_tasks_its_files_counted(three):
    d1, d2, d3 = three
    assert d1.counted == [] and d2.counted == [d1] and d3.counted == [d1, d2]
    # The leak this guards against: batch 3's excluded.csv names exactly what batch 2 drew.
    excluded = _entries(d3)["excluded.csv"]
    assert {line.split(",")[0] for line in excluded.splitlines()[1:] if line.endswith(REASON_R10)} \
        == set(d2.result["selected"])


def test_a_later_draw_stays_sealed_while_an_earlier_one_is(app, three):
    """issue #11 point 5: batch 3's window has closed, batches 1 and 2 are still sealed; nothing public
    tells what batch 2 drew."""
    d1, d2, d3 = three
    assert not ceremony.is_public(d1) and not ceremony.is_public(d2)
    assert not ceremony.is_public(d3)  # its own window is over, but its files count d1's and d2's tasks
    assert ceremony.opens_on(d3) == date(YEAR, 8, 1)
    client = app.test_client()
    seen = []
    for url in (f"/public/draws/{d3.draw_id}", f"/public/draws/{d3.draw_id}/export.zip",
                f"/public/draws/{d3.draw_id}/verify", f"/public/draws/{d2.draw_id}",
                f"/public/draws/{d2.draw_id}/export.zip", "/public/draws.json",
                f"/public/plans/{d3.batch.plan_id}", "/public/plans", "/public/results"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        seen.append(response.get_data(as_text=True))
    assert client.get(f"/public/draws/{d3.draw_id}/export.zip").status_code == 404
    public = "\n".join(seen)
    for uscc in d2.result["selected"] + d1.result["selected"]:
        assert uscc not in public  # a still-sealed draw's picks cannot be learnt
    assert "R10" not in public and d3.seed not in public
    page = client.get(f"/public/draws/{d3.draw_id}").get_data(as_text=True)
    assert 'id="sealed-by"' in page and d1.draw_id in page and d2.draw_id in page
    assert date(YEAR, 8, 1).isoformat() in page
    verify = client.get(f"/public/draws/{d3.draw_id}/verify").get_data(as_text=True)
    assert "data-export" not in verify


def test_early_publication_waits_for_the_draws_counted(app, three):
    d1, d2, d3 = three
    with pytest.raises(ServiceError) as refused:
        ceremony.publish_draw(d3)
    assert d2.draw_id in refused.value.message and f"{YEAR}-08-01" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        ceremony.publish_draw(d2)
    assert d1.draw_id in refused.value.message
    assert d2.published_at is None and d3.published_at is None
    # The brigade lead's page says why instead of offering the button.
    make_user(R.BRIGADE_LEAD, "lead")
    client = app.test_client()
    client.post("/login", data={"username": "lead", "password": PASSWORD})
    batch_page = client.get(f"/batches/{d3.batch_id}").get_data(as_text=True)
    assert d2.draw_id in batch_page and f"/draws/{d3.id}/publish" not in batch_page
    client.post(f"/draws/{d3.id}/publish")
    db.session.expire_all()
    assert d3.published_at is None  # the route goes through the same refusal
    # In order, each is published; then the third is public, its window having closed.
    ceremony.publish_draw(d1)
    assert ceremony.is_public(d1) and not ceremony.is_public(d3)
    ceremony.publish_draw(d2)
    assert ceremony.is_public(d3) and d3.published_at is None
    anon = app.test_client()
    export = anon.get(f"/public/draws/{d3.draw_id}/export.zip")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        assert REASON_R10 in zf.read("excluded.csv").decode("utf-8")  # now harmless: batch 2 is public


def test_every_draw_is_public_once_the_last_window_it_depends_on_closes(three):
    d1, d2, d3 = three
    assert not ceremony.is_public(d3, today=date(YEAR, 7, 31))
    assert all(ceremony.is_public(d, today=date(YEAR, 8, 1)) for d in (d1, d2, d3))
