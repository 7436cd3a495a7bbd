"""Photos, issue #11 points 4 and 12: the existence probe answers only for the caller's groups, ownership is
recorded per uploader (what a record may cite), abandoned partial uploads are cleaned up; only the JPEG,
PNG and WebP decoders see an upload, decoding is bounded before it starts, the enterprise's link is
rate-limited."""
import hashlib
import io
import os
import struct
import time
import zlib

import pytest
from PIL import Image, ImageFile
from sqlalchemy import select

from webapp import roles as R
from webapp.extensions import db
from webapp.review import enterprise
from webapp.sync import photos as photo_store
from webapp.sync.models import Photo, PhotoUpload
from webapp.tasks.models import Task
from tests.factories import PASSWORD, make_hazard, make_inspector, make_user
from tests.sync.test_api import _jpeg, field  # noqa: F401  (field: fixture)


@pytest.fixture(autouse=True)
def _own_uploads(app, tmp_path, monkeypatch):
    """A photo store of this test's own: files (partials above all) never leak between tests."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def _token(client, user) -> dict:
    resp = client.post("/api/v1/token", json={"username": user.username, "password": PASSWORD, "device": "t"})
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": "Bearer " + resp.get_json()["token"]}


@pytest.fixture
def stranger(field):
    """An inspector's phone that shares no task group with anyone in ``field``."""
    user = make_user(R.INSPECTOR, "stranger", inspector_id=make_inspector(name="外人").id)
    return {"user": user, "headers": _token(field["client"], user)}


def _put(field, headers, data, sha=None, start=0, total=None):
    sha = sha or hashlib.sha256(data).hexdigest()
    headers = dict(headers)
    if total is not None:
        headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{total}"
    return field["client"].put(f"/api/v1/photos/{sha}", data=data, headers=headers)


def _probe(field, headers, sha):
    return field["client"].get(f"/api/v1/photos/{sha}", headers=headers).get_json()


def _lead():
    from webapp.registries.models import Department
    brigade = db.session.scalar(select(Department).where(Department.name == "综合行政执法大队"))
    return make_user(R.TEAM_LEAD, "lead", department_id=brigade.id)


def _owners(sha):
    return sorted((u.user_id, u.link_id) for u in db.session.scalars(select(PhotoUpload).where(PhotoUpload.sha256 == sha)))


# --- point 4: the probe, ownership, citation ------------------------------------------------------------

def test_the_probe_answers_only_for_the_callers_groups(field, stranger):
    a, b = field["tokens"]["a"], field["tokens"]["b"]
    data = _jpeg(gps=False)
    sha = hashlib.sha256(data).hexdigest()
    assert _put(field, a, data).status_code == 201
    assert _probe(field, a, sha) == {"stored": True}
    assert _probe(field, b, sha) == {"stored": True}  # a member of the same task group
    # Anyone else: exactly what a hash nobody ever sent gets, on GET and on PUT.
    assert _probe(field, stranger["headers"], sha) == {"stored": False, "offset": 0}
    assert _probe(field, stranger["headers"], "1" * 64) == {"stored": False, "offset": 0}
    wrong = b"not these bytes" * 10
    held, unknown = _put(field, stranger["headers"], wrong, sha), _put(field, stranger["headers"], wrong, "1" * 64)
    assert held.status_code == unknown.status_code == 409
    assert held.get_json() == unknown.get_json()


def test_a_second_uploader_gets_a_record_of_their_own(field, stranger):
    a = field["tokens"]["a"]
    data = _jpeg(gps=False)
    sha = hashlib.sha256(data).hexdigest()
    assert _put(field, a, data).status_code == 201
    half = len(data) // 2
    assert _put(field, stranger["headers"], data[:half], sha, 0, len(data)).status_code == 202
    assert _probe(field, stranger["headers"], sha) == {"stored": False, "offset": half}
    assert _put(field, stranger["headers"], data[half:], sha, half, len(data)).status_code == 201  # not 200
    assert _probe(field, stranger["headers"], sha) == {"stored": True}
    assert _owners(sha) == [(field["users"]["a"].id, None), (stranger["user"].id, None)]
    assert db.session.scalar(select(db.func.count()).select_from(Photo)) == 1  # one file, two owners
    assert photo_store.original_path(sha).read_bytes() == data


def test_a_record_may_cite_only_its_groups_photos(field, stranger, app):
    task = field["task"]
    mine, theirs = _jpeg(size=(64, 48), gps=False), _jpeg(size=(48, 64), gps=False)
    assert _put(field, field["tokens"]["b"], mine).status_code == 201
    assert _put(field, stranger["headers"], theirs).status_code == 201
    mine_sha, theirs_sha = (hashlib.sha256(x).hexdigest() for x in (mine, theirs))
    assert photo_store.photo_citable(mine_sha, task)
    assert not photo_store.photo_citable(theirs_sha, task)
    assert not photo_store.photo_citable("2" * 64, task)
    assert photo_store.citable_photos([mine_sha, theirs_sha, mine_sha], task) == {mine_sha}
    other = db.session.scalar(select(Task).where(Task.id != task.id, Task.draw_pk == task.draw_pk,
                                                 Task.status == "dispatched").order_by(Task.id))
    members = {m.inspector_id for m in other.members}
    assert photo_store.photo_citable(mine_sha, other) == (field["users"]["b"].inspector_id in members)


def test_the_enterprises_photos_belong_to_its_link(field, app):
    from webapp.auth.models import User
    task = field["task"]
    lead = _lead()
    hazard = make_hazard(task, field["users"]["a"])
    link = enterprise.issue_link(task, lead)
    data = _jpeg(size=(80, 60), gps=False)
    evidence = enterprise.submit_evidence(link, str(hazard.id), "已整改", [("a.jpg", data)], address="192.0.2.1")
    sha = evidence.photos[0]
    assert _owners(sha) == [(None, link.id)]  # the enterprise's link, not the team lead who issued it
    assert photo_store.photo_citable(sha, task)
    other = db.session.scalar(select(Task).where(Task.id != task.id, Task.status == "dispatched"))
    assert not photo_store.photo_citable(sha, other)
    assert photo_store.visible_to(field["users"]["a"], sha)  # a member of the order's group
    lead_user = db.session.get(User, lead.id)
    assert not photo_store.visible_to(lead_user, sha)


# --- point 4: abandoned partial uploads ---------------------------------------------------------------

def _age(path, hours):
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_abandoned_partials_are_cleaned_by_the_command(field, app):
    a = field["tokens"]["a"]
    old, fresh = _jpeg(size=(64, 48), gps=False), _jpeg(size=(40, 30), gps=False)
    old_sha, fresh_sha = hashlib.sha256(old).hexdigest(), hashlib.sha256(fresh).hexdigest()
    assert _put(field, a, old[:100], old_sha, 0, len(old)).status_code == 202
    assert _put(field, a, fresh[:100], fresh_sha, 0, len(fresh)).status_code == 202
    user_id = field["users"]["a"].id
    _age(photo_store.partial_path(user_id, old_sha), 25)
    _age(photo_store.partial_path(user_id, fresh_sha), 23)
    result = app.test_cli_runner().invoke(args=["photos", "clean"])
    assert result.exit_code == 0, result.output
    assert not photo_store.partial_path(user_id, old_sha).exists()
    assert photo_store.partial_path(user_id, fresh_sha).exists()
    assert _probe(field, a, old_sha) == {"stored": False, "offset": 0}  # the phone starts that one again
    assert _probe(field, a, fresh_sha) == {"stored": False, "offset": 100}
    result = app.test_cli_runner().invoke(args=["photos", "clean", "--hours", "1"])
    assert result.exit_code == 0 and not photo_store.partial_path(user_id, fresh_sha).exists()


def test_uploads_clean_abandoned_partials_now_and_then(field):
    a, b = field["tokens"]["a"], field["tokens"]["b"]
    old, new = _jpeg(size=(64, 48), gps=False), _jpeg(size=(40, 30), gps=False)
    old_sha = hashlib.sha256(old).hexdigest()
    assert _put(field, a, old[:100], old_sha, 0, len(old)).status_code == 202
    path = photo_store.partial_path(field["users"]["a"].id, old_sha)
    _age(path, 25)
    _age(path.parent / ".swept", 2)  # the last sweep was two hours ago
    assert _put(field, b, new).status_code == 201  # someone else's upload sweeps
    assert not path.exists()


# --- point 12: decoders and decoding cost ---------------------------------------------------------------

def _png(width, height, color_type, bit_depth) -> bytes:
    """A valid PNG of zeros, built by hand (compresses to almost nothing)."""
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    raw = (b"\x00" + b"\x00" * (width * channels * bit_depth // 8)) * height

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


@pytest.fixture
def other_decoders(monkeypatch):
    """Record every call into the decoders a photo must never reach."""
    from PIL import (BmpImagePlugin, EpsImagePlugin, GifImagePlugin, IcoImagePlugin, PcxImagePlugin,
                     TgaImagePlugin, TiffImagePlugin)
    calls = []
    for cls in (BmpImagePlugin.BmpImageFile, TiffImagePlugin.TiffImageFile, IcoImagePlugin.IcoImageFile,
                PcxImagePlugin.PcxImageFile, TgaImagePlugin.TgaImageFile, EpsImagePlugin.EpsImageFile,
                GifImagePlugin.GifImageFile):
        def spy(self, _cls=cls, _open=cls._open):
            calls.append(_cls.format)
            return _open(self)
        monkeypatch.setattr(cls, "_open", spy)
    return calls


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PCX", "TGA", "GIF"])
def test_only_jpeg_png_and_webp_decoders_see_a_photo(field, other_decoders, fmt):
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(out, fmt)
    resp = _put(field, field["tokens"]["a"], out.getvalue())
    assert resp.status_code == 422 and "JPEG" in resp.get_json()["message"]
    assert other_decoders == []  # refused without any other plugin parsing a byte of it
    for ok in (_jpeg(gps=False), _png(40, 30, 2, 8)):
        assert _put(field, field["tokens"]["a"], ok).status_code == 201


def test_decoding_cost_is_bounded_before_decoding(field, monkeypatch):
    loads = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self.size) or real_load(self))
    bomb = _png(6300, 6300, 6, 16)  # 300 KB, 39.7 megapixels of 16-bit RGBA: under the pixel limit
    assert len(bomb) < 400_000
    started = time.monotonic()
    resp = _put(field, field["tokens"]["a"], bomb)
    assert resp.status_code == 422, resp.get_json()
    message = resp.get_json()["message"]
    assert str(photo_store.MAX_DECODE_BYTES // 2**20) in message and "MB" in message
    assert loads == [] and time.monotonic() - started < 1.0  # never decoded
    assert db.session.scalar(select(db.func.count()).select_from(Photo)) == 0
    # A screenshot-sized PNG and a grey 16-bit one of the same pixels as the bomb's budget allows are fine.
    assert _put(field, field["tokens"]["a"], _png(1080, 2400, 2, 8)).status_code == 201
    huge_jpeg = io.BytesIO()
    Image.new("RGB", (6000, 4000), (90, 90, 90)).save(huge_jpeg, "JPEG")  # decoded at thumbnail scale
    assert _put(field, field["tokens"]["a"], huge_jpeg.getvalue()).status_code == 201


def test_decompression_bombs_stay_refused(field):
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, "PNG")  # 48 Mpx at one bit: tiny file, cheap per pixel
    resp = _put(field, field["tokens"]["a"], bomb.getvalue())
    assert resp.status_code == 422 and str(Image.MAX_IMAGE_PIXELS // 1_000_000) in resp.get_json()["message"]


def test_the_enterprises_photos_have_the_phones_size_limit(field):
    hazard = make_hazard(field["task"], field["users"]["a"])
    link = enterprise.issue_link(field["task"], _lead())
    huge = _jpeg(gps=False) + b"\0" * photo_store.MAX_PHOTO_BYTES  # a JPEG with 20 MB of trailing junk
    with pytest.raises(enterprise.ServiceError) as refused:
        enterprise.submit_evidence(link, str(hazard.id), "", [("big.jpg", huge)], address="192.0.2.2")
    assert str(photo_store.MAX_PHOTO_BYTES // 2**20) in refused.value.message
    assert db.session.scalars(select(enterprise.Evidence)).all() == []


# --- point 12: the enterprise's link is rate-limited ----------------------------------------------------

def test_the_enterprises_link_is_rate_limited_per_link_and_address(field, app, monkeypatch):
    task = field["task"]
    hazard = make_hazard(task, field["users"]["a"])
    link = enterprise.issue_link(task, _lead())
    url = f"/e/{enterprise.token_of(link)}"
    decoded = []
    real_inspect = photo_store.inspect_image
    monkeypatch.setattr(photo_store, "inspect_image", lambda data: decoded.append(1) or real_inspect(data))
    monkeypatch.setattr(enterprise, "ADDRESS_SUBMISSIONS_PER_HOUR", 2)
    client = app.test_client()

    def send(address):
        return client.post(url, data={"hazard": str(hazard.id), "text": "已整改",
                                      "photos": [(io.BytesIO(_jpeg(gps=False)), "a.jpg")]},
                           content_type="multipart/form-data", environ_base={"REMOTE_ADDR": address})
    def refusal():
        from flask_babel import gettext as _
        from markupsafe import escape
        with app.test_request_context():
            return str(escape(_("Too many submissions in the last hour (at most %(n)d through one link, %(m)d from "
                                "one address): please try again later.", n=enterprise.LINK_SUBMISSIONS_PER_HOUR,
                                m=enterprise.ADDRESS_SUBMISSIONS_PER_HOUR)))
    assert [send("198.51.100.7").status_code for _ in range(2)] == [303, 303]
    refused = send("198.51.100.7")
    assert refused.status_code == 422 and refusal() in refused.get_data(as_text=True)
    assert len(decoded) == 2  # the refused submission's photo was never decoded
    assert send("198.51.100.8").status_code == 303  # another address
    # Four attempts through this link so far (the refused one counts too).
    monkeypatch.setattr(enterprise, "LINK_SUBMISSIONS_PER_HOUR", 5)
    assert send("198.51.100.9").status_code == 303
    refused = send("198.51.100.10")  # the sixth through the link, from a fresh address
    assert refused.status_code == 422 and refusal() in refused.get_data(as_text=True)
    assert len(db.session.scalars(select(enterprise.Evidence)).all()) == 4


# --- point 12: progressive and truncated JPEGs ----------------------------------------------------------

#: Measured in a fresh process: how much a photo's check may raise the peak resident memory.
_PEAK_PROBE = r"""
import io, resource, sys
from flask import Flask
from flask_babel import Babel
from PIL import Image
from webapp.sync import photos
out = io.BytesIO()
Image.new("RGB", (3500, 3500), (120, 80, 40)).save(out, "JPEG", progressive=True, subsampling=0)
whole = out.getvalue()
del out
app = Flask("probe")
Babel(app)
peaks = []
with app.app_context():
    for data in (whole, whole[:3000] + b"\xff\xd9"):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            photos.inspect_image(data)
            verdict = "stored"
        except photos.PhotoError:
            verdict = "refused"
        peaks.append((verdict, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024))
print(peaks)
"""


def test_a_progressive_jpeg_is_charged_its_full_size_coefficient_buffer(field, monkeypatch):
    """libjpeg decodes a progressive JPEG through a full-size buffer of coefficients (w × h × components
    × 2 bytes) whatever the draft scale: a 145 KB 3,500 × 3,500 progressive 4:4:4 image costs 74 MB."""
    import subprocess
    import sys
    loads = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self.size) or real_load(self))
    out = io.BytesIO()
    Image.new("RGB", (3500, 3500), (120, 80, 40)).save(out, "JPEG", progressive=True, subsampling=0)
    bomb = out.getvalue()
    assert len(bomb) < 200_000
    resp = _put(field, field["tokens"]["a"], bomb)
    assert resp.status_code == 422, resp.get_json()
    message = resp.get_json()["message"]
    assert str(photo_store.MAX_DECODE_BYTES // 2**20) in message and "74 MB" in message
    assert loads == []  # refused before decoding
    assert db.session.scalar(select(db.func.count()).select_from(Photo)) == 0
    # The process's peak memory hardly moves for the bomb and for its first 3,000 bytes with an end marker.
    probe = subprocess.run([sys.executable, "-c", _PEAK_PROBE], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    peaks = eval(probe.stdout)  # noqa: S307  (our own subprocess's repr of a list of tuples)
    assert [verdict for verdict, _mb in peaks] == ["refused", "refused"]
    assert all(mb < 30 for _verdict, mb in peaks), peaks  # was ~75 MB each (~230 MB at 6,320 × 6,320)
    # A phone's 12-megapixel progressive JPEG (4:2:0, 36 MB of coefficients) and a small 4:4:4 one are fine.
    for size, subsampling in (((4000, 3000), 2), ((800, 600), 0)):
        ok = io.BytesIO()
        Image.new("RGB", size, (60, 90, 120)).save(ok, "JPEG", progressive=True, subsampling=subsampling)
        assert _put(field, field["tokens"]["a"], ok.getvalue()).status_code == 201


@pytest.mark.parametrize("cut", ["scans_then_end_marker", "end_missing", "baseline_end_missing"])
def test_a_truncated_jpeg_is_refused_as_incomplete(field, app, cut):
    from flask_babel import gettext as _
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    out = io.BytesIO()
    progressive = cut != "baseline_end_missing"
    Image.radial_gradient("L").resize((900, 700)).convert("RGB").save(out, "JPEG", progressive=progressive)
    whole = out.getvalue()
    data = {"scans_then_end_marker": whole[:len(whole) // 3] + b"\xff\xd9",  # decoded grey before the fix
            "end_missing": whole[:len(whole) // 3],
            "baseline_end_missing": whole[:-200]}[cut]
    resp = _put(field, field["tokens"]["a"], data)
    assert resp.status_code == 422, resp.get_json()
    with app.test_request_context():
        assert resp.get_json()["message"] == _("The image is incomplete: its end is missing. Send the photo again.")
    assert db.session.scalar(select(db.func.count()).select_from(Photo)) == 0
    assert _put(field, field["tokens"]["a"], whole).status_code == 201
