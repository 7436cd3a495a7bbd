"""GET and HEAD change nothing (issue #11 point 10, the class of fault): every GET route in the access
matrix, as every role and as the public, runs without a single INSERT, UPDATE or DELETE reaching the
database. A link preview, a prefetch, a crawler or a reload must never issue a number, record a notice
or write an audit entry; those are POSTs behind a button."""
import re

import pytest
from sqlalchemy import event

from webapp import roles as R
from webapp.extensions import db
from tests.factories import PASSWORD
from tests.test_access_matrix import EXPECTED, _url, objects  # noqa: F401  (objects: fixture)

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|UPSERT|REPLACE)\b", re.I)

#: Issue #13 (accountability, R24): the one exemption. Looking at who failed their duty is itself
#: recorded: each GET (and HEAD) of these pages, by a role that may see them, writes exactly one audit entry
#: (``audit.services.record``: lock the chain's head, insert the entry, move the head) and nothing else;
#: tests/brigade/test_accountability.py checks the entry itself. A refused request writes nothing.
AUDITED_VIEWS = {"brigade.accountability", "brigade.duty_record"}
AUDIT_WRITES = [re.compile(r"^\s*UPDATE audit_head\b", re.I), re.compile(r"^\s*INSERT INTO audit_entry\b", re.I),
                re.compile(r"^\s*UPDATE audit_head\b", re.I)]


def _only_the_audit_entry(seen: list[str]) -> bool:
    return len(seen) == len(AUDIT_WRITES) and all(p.match(s) for p, s in zip(AUDIT_WRITES, seen))


class _Writes:
    def __init__(self):
        self.seen = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if WRITE.match(statement):
            self.seen.append(statement.split("\n")[0][:120])


@pytest.mark.parametrize("role", [None, *R.ALL])
def test_no_get_route_writes(app, objects, role):  # noqa: F811
    gets = sorted(endpoint for endpoint, (method, _allowed) in EXPECTED.items() if method == "GET")
    client = app.test_client()
    if role:
        assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 303
    writes = _Writes()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", writes)
    found = {}
    try:
        for endpoint in gets:
            url = _url(app, endpoint, objects)
            for method in ("GET", "HEAD"):
                writes.seen.clear()
                resp = client.open(url, method=method)
                resp.close()
                assert resp.status_code < 500, (role, endpoint, method, resp.status_code)
                if endpoint in AUDITED_VIEWS and resp.status_code == 200 and _only_the_audit_entry(writes.seen):
                    continue  # the audited view (see AUDITED_VIEWS): one audit entry, nothing else
                if writes.seen:
                    found[f"{method} {endpoint}"] = list(writes.seen)
    finally:
        event.remove(engine, "before_cursor_execute", writes)
    assert found == {}, found


def test_the_archive_is_a_button_and_audited_once(app, objects, users):  # noqa: F811
    """The batch archive's export is audited: a GET (a prefetch of a link) is refused and writes nothing; the
    batch page's button POSTs, gets the zip, and leaves one trail entry."""
    import io
    import zipfile

    from sqlalchemy import func, select

    from webapp.audit.models import AuditEntry

    def exports():
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "archive.export"))
    client = app.test_client()
    assert client.post("/login", data={"username": R.BRIGADE_LEAD, "password": PASSWORD}).status_code == 303
    url = f"/batches/{objects['batch']}/archive.zip"
    assert client.get(url).status_code == 405 and exports() == 0
    page = client.get(f"/batches/{objects['batch']}").get_data(as_text=True)
    assert f'<form method="post" action="{url}"' in page
    resp = client.post(url)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert "index.json" in zipfile.ZipFile(io.BytesIO(resp.data)).namelist()
    resp.close()
    assert exports() == 1
