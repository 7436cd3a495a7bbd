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
    hazard = make_hazard(task, a, description="配电箱未接地", deadline="2026-12-20")
    sync(a, [answer(task, "G-01", "no"), answer(task, "G-02", "yes"),
             rec(task, "signature", {"role": "enterprise", "refused": True}), outcome(task)])
    client = app.test_client()
    login(client, "lead", PASSWORD)
    for kind in ("record", "order"):  # issued explicitly (issue #11 point 10)
        assert client.post(f"/review/{task.id}/documents/{kind}/issue").status_code == 303
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
    client.post(f"/review/{reinspection.id}/documents/review/issue")
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
    assert client.post(f"/review/{task.id}/documents/order/issue").status_code == 303  # refused, flashed
    assert db.session.scalar(select(db.func.count()).select_from(IssuedDocument)) == 0


def _counts():
    from webapp.audit.models import AuditEntry
    from webapp.documents.models import DocumentCounter
    db.session.expire_all()
    return tuple(db.session.scalar(select(db.func.count()).select_from(m)) for m in
                 (IssuedDocument, DocumentCounter, AuditEntry))


def test_opening_a_document_issues_nothing_and_issuing_is_a_post(field, app):  # noqa: F811
    """Issue #11 point 10: GET (and HEAD) of an unissued document is a draft that writes nothing — no number,
    no counter, no audit entry; the POST issues it once, audited, and a second POST keeps the number."""
    from webapp.audit.models import AuditEntry

    task = field["task"]
    make_hazard(task, field["a"], description="消防通道堵塞", deadline="2026-12-20")
    sync(field["a"], [answer(task, "G-01", "no"), outcome(task)])
    client = app.test_client()
    login(client, "lead", PASSWORD)
    before = _counts()
    draft = _text(client.get(f"/review/{task.id}/documents/order.pdf"), "order-draft")
    client.head(f"/review/{task.id}/documents/order.pdf")
    assert "草稿" in draft and "责改" not in draft  # no 文号 on the draft, a watermark instead
    headers = client.get(f"/review/{task.id}/documents/order.pdf").headers
    assert "%E8%8D%89%E7%A8%BF" in headers["Content-Disposition"]  # 草稿 in the file name
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"  # the browser's PDF viewer works (point 9)
    assert _counts() == before
    page = client.get(f"/review/{task.id}").get_data(as_text=True)
    assert f"/review/{task.id}/documents/order/issue" in page and _counts() == before

    assert client.get(f"/review/{task.id}/documents/order/issue").status_code == 405  # never by a link
    resp = client.post(f"/review/{task.id}/documents/order/issue")
    assert resp.status_code == 303
    doc = db.session.scalar(select(IssuedDocument))
    assert doc.kind == "order" and doc.number.endswith("1号")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "document.issue"))
    assert doc.number in entry.after and "lead" in entry.actor
    client.post(f"/review/{task.id}/documents/order/issue")  # a double tap: the same number, no new entry
    assert _counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    issued_pdf = _text(client.get(f"/review/{task.id}/documents/order.pdf"), "order-issued")
    assert doc.number in issued_pdf and "草稿" not in issued_pdf
    assert doc.number in client.get(f"/review/{task.id}").get_data(as_text=True)


def test_issuing_needs_csrf(field, app):  # noqa: F811
    task = field["task"]
    sync(field["a"], [outcome(task)])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        login(client, "lead", PASSWORD)
        assert client.post(f"/review/{task.id}/documents/record/issue").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _counts()[0] == 0
