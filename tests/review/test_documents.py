"""Documents (issue #5 §5): numbered per bureau and year, the facts in the standard layout, Chinese text
that extracts from the PDF (the font is embedded)."""
import io

from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from webapp.documents.models import IssuedDocument
from webapp.extensions import db
from webapp.review import services as review
from webapp.sync.services import sync
from tests.factories import PASSWORD, login, make_hazard
from tests.review.test_review import answer, field, outcome, rec  # noqa: F401  (field: fixture)

OUT = Path(__file__).resolve().parents[2] / "test-results" / "documents"


def _text(resp, name: str) -> str:
    assert resp.status_code == 200 and resp.mimetype == "application/pdf", resp.status_code
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.pdf").write_bytes(resp.data)  # kept to look at, like the screenshots
    reader = PdfReader(io.BytesIO(resp.data))
    fonts = {f["/BaseFont"] for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert any("NotoSansSC" in str(name) for name in fonts)  # embedded, not left to the reader's fonts
    return "".join(page.extract_text() for page in reader.pages)


def test_record_order_and_review_come_out_right(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    sync(a, [answer(task, "G-01", "no"), answer(task, "G-02", "yes"),
             rec(task, "signature", {"role": "enterprise", "refused": True}), outcome(task)])
    hazard = make_hazard(task, a, description="配电箱未接地", deadline="2026-12-20")
    client = app.test_client()
    login(client, "lead", PASSWORD)
    record = _text(client.get(f"/review/{task.id}/documents/record.pdf"), "record")
    assert "现场检查记录" in record and task.enterprise["name"] in record and "不符合" in record
    for m in task.active_members:  # both inspectors with their certificate numbers
        assert m.inspector.name in record and m.inspector.cert_no in record
    assert "拒绝签名" in record and "配电箱未接地" in record
    order = _text(client.get(f"/review/{task.id}/documents/order.pdf"), "order")
    assert "责令限期整改指令书" in order and "第1项问题于2026年12月20日前整改完毕" in order
    assert "六十日内" in order and "六个月内" in order  # the appeal notice
    again = _text(client.get(f"/review/{task.id}/documents/order.pdf"), "order-again")
    numbers = db.session.scalars(select(IssuedDocument.number).order_by(IssuedDocument.id)).all()
    assert numbers[0].endswith("〔%s〕1号" % numbers[0].split("〔")[1][:4]) and len(numbers) == 2  # kept, not renumbered
    assert numbers[1] in order and numbers[1] in again
    # The re-inspection opinion cites the order by its number.
    review.approve(task, lead)
    reinspection = review.schedule_reinspection(task, lead)
    sync(a, [rec(reinspection, "closure", {"hazard": hazard.record_uuid, "rectified": True, "note": "已接地",
                                           "photos": []}), outcome(reinspection)])
    opinion = _text(client.get(f"/review/{reinspection.id}/documents/review.pdf"), "review")
    assert "整改复查意见书" in opinion and numbers[1] in opinion and "已整改" in opinion
    assert "所列问题均已整改" in opinion


def test_no_document_before_submission_and_no_order_without_hazards(field, app):  # noqa: F811
    task = field["task"]
    client = app.test_client()
    login(client, "lead", PASSWORD)
    assert client.get(f"/review/{task.id}/documents/record.pdf").status_code == 303
    sync(field["a"], [outcome(task)])
    assert client.get(f"/review/{task.id}/documents/order.pdf").status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(IssuedDocument)) == 0
