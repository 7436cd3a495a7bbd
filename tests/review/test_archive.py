"""The archive (R21, R23): a batch's zip holds everything about each task, photos included; records
are kept five years and a purge before then is refused with the date."""
import io
import json
import zipfile
from datetime import date
from hashlib import sha256

import pytest
from PIL import Image
from sqlalchemy import select

from webapp import archive
from webapp.extensions import db
from webapp.publication import services as publication
from webapp.publication.models import PublishedResult
from webapp.review import enterprise, services as review
from webapp.services import ServiceError
from webapp.sync.models import SyncRecord
from webapp.sync.services import sync
from tests.factories import PASSWORD, login, make_hazard
from tests.review.test_review import answer, field, outcome  # noqa: F401  (field: fixture)


def test_the_batch_archive_holds_records_documents_and_photos(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a, description="配电箱未接地")
    sync(a, [answer(task, "G-01", "no"), outcome(task)])
    link = enterprise.issue_link(task, lead)
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 90, 160)).save(buf, "JPEG")
    enterprise.submit_evidence(link, str(hazard.id), "已整改", [("a.jpg", buf.getvalue())])
    client = app.test_client()
    login(client, "lead", PASSWORD)
    assert client.post(f"/review/{task.id}/documents/order/issue").status_code == 303  # issued: it goes in
    assert client.get(f"/review/{task.id}/documents/record.pdf").status_code == 200  # opened, not issued
    out = io.BytesIO()
    archive.write_batch_zip(task.batch, out)
    zf = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    index = json.loads(zf.read("index.json"))
    assert task.id in [t["task"] for t in index["tasks"]]
    data = json.loads(zf.read(f"tasks/{task.id:06d}/task.json"))
    assert {r["kind"] for r in data["records"]} >= {"answer", "outcome", "hazard"}
    assert data["hazards"][0]["description"] == "配电箱未接地" and data["evidence"][0]["text"] == "已整改"
    pdfs = [n for n in zf.namelist() if n.startswith(f"tasks/{task.id:06d}/order-") and n.endswith(".pdf")]
    assert len(pdfs) == 1 and zf.read(pdfs[0]).startswith(b"%PDF")
    photo = next(n for n in zf.namelist() if n.startswith("photos/"))
    assert sha256(zf.read(photo)).hexdigest() == photo.rsplit("/", 1)[1]  # the original, byte for byte
    assert not any(n.endswith("record.pdf") for n in zf.namelist())  # not issued, so not made up


def test_records_are_kept_five_years(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    sync(a, [outcome(task)])
    review.approve(task, lead)
    publication.publish(task, "no_problem", lead)
    with pytest.raises(ServiceError, match="保存至"):  # R21, said in words
        archive.purge_batch(task.batch)
    result = app.test_cli_runner().invoke(args=["archive", "purge", str(task.batch_id)])
    assert result.exit_code != 0 and "保存至" in result.output
    until = archive.retained_until(task)
    assert until.year == task.completed_at.year + 5
    assert archive.purge_batch(task.batch, today=until) >= 1
    assert db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)).all() == []
    assert db.session.scalar(select(PublishedResult).where(PublishedResult.task_id == task.id))  # still public
    assert date.today() < until
