"""Photos on disk, content-addressed and written atomically; checked with Pillow before they count.

An upload may arrive in pieces (a cut connection resumes at the offset the server reports). Only
when the whole file is there, its SHA-256 matches its name and Pillow decodes it as a real image
within the size and pixel limits does it move into place; the database row comes after the file
is durable. The original keeps its EXIF (GPS is evidence); the thumbnail shown anywhere is
re-encoded without EXIF, with the orientation applied.

Issue #11: only the JPEG, PNG and WebP decoders ever see the bytes, and an image whose decoding would
take more memory than ``MAX_DECODE_BYTES`` is refused before it is decoded (point 12). The file is
stored once, but who sent it is recorded per uploader (``PhotoUpload``): whether a photo is "there"
is answered only for the caller's own task groups, and a record may cite only its group's photos
(point 4). Partial uploads nobody continued for ``PHOTO_PARTIAL_MAX_AGE_HOURS`` are deleted, now and
then during uploads and by ``flask photos clean`` (point 4).
"""
import fcntl
import hashlib
import io
import os
import re
import time
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..services import ServiceError, transaction
from .models import Photo, PhotoUpload

#: Decompression bombs: Pillow warns above this and refuses at twice it; we refuse at the warning.
Image.MAX_IMAGE_PIXELS = 40_000_000
MAX_PHOTO_BYTES = 20 * 1024 * 1024
THUMB_SIZE = (480, 480)
SHA_RE = re.compile(r"^[0-9a-f]{64}\Z")  # \Z: "$" also matched before a final newline (issue #11 point 13)
ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: The only Pillow decoders a photo is given to: TIFF, BMP, ICO, PCX, TGA, EPS (Ghostscript) … never
#: see an upload (issue #11 point 12).
FORMATS = tuple(ALLOWED)
#: Memory the decoded image may take (width × height × bytes per pixel of its mode), checked before
#: decoding: a 300 KB 6,300 × 6,300 RGBA PNG would take 159 MB (and three times that at the peak).
#: 64 MiB lets through a 16-megapixel RGB image; a phone's JPEG decodes at thumbnail scale anyway.
MAX_DECODE_BYTES = 64 * 1024 * 1024
#: Bytes per pixel Pillow keeps for each mode (RGB is stored as four bytes).
PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
#: A partial upload no piece reached for this long is abandoned (app config PHOTO_PARTIAL_MAX_AGE_HOURS).
PARTIAL_MAX_AGE_HOURS = 24
#: Uploads sweep abandoned partials at most this often (a marker file's age on the shared volume).
SWEEP_EVERY_S = 3600
#: Unfinished uploads one account may hold at once (each up to MAX_PHOTO_BYTES on disk).
MAX_PARTIALS_PER_USER = 50


class PhotoError(ServiceError):
    pass


class PhotoRetry(PhotoError):
    """The upload must go on from ``offset`` (bytes went missing or crossed in transit)."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


class PhotoBusy(PhotoError):
    """Too many unfinished uploads: try again later (answered 429)."""


def _root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def original_path(sha: str) -> Path:
    return _root() / "photos" / sha[:2] / sha


def thumb_path(sha: str) -> Path:
    return _root() / "thumbs" / sha[:2] / f"{sha}.jpg"


def partial_path(user_id: int, sha: str) -> Path:
    return _root() / "partial" / f"{user_id}-{sha}.part"


def offset(user_id: int, sha: str) -> int:
    path = partial_path(user_id, sha)
    return path.stat().st_size if path.exists() else 0


def append(user_id: int, sha: str, start: int, total: int, body: bytes) -> int:
    """Add bytes ``start``… of a ``total``-byte photo; a piece that does not start where the last ended
    is refused (the phone asks for the offset and resumes there)."""
    if total > MAX_PHOTO_BYTES:
        raise PhotoError(_("The photo is larger than %(mb)d MB.", mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    if start + len(body) > total:
        raise PhotoError(_("More bytes than the photo's stated size."))
    maybe_clean_partials()
    path = partial_path(user_id, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and len(list(path.parent.glob(f"{user_id}-*.part"))) >= MAX_PARTIALS_PER_USER:
        raise PhotoBusy(_("Too many unfinished photo uploads (at most %(n)d at a time): try again later.",
                          n=MAX_PARTIALS_PER_USER))
    while True:
        with open(path, "ab") as fh:
            # A retry may arrive while the cut request it replaces is still being read: the lock makes
            # "check the offset, then append" one step, so two pieces never interleave.
            fcntl.flock(fh, fcntl.LOCK_EX)
            if not _same_file(fh, path):
                continue  # the sweep deleted it while we waited for the lock: start a file of our own
            have = fh.seek(0, os.SEEK_END)
            if start != have:
                raise PhotoError(_("The upload must continue at byte %(n)d.", n=have))
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        return have + len(body)


def _same_file(fh, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
    except FileNotFoundError:
        return False


def clean_partials(max_age_hours: float | None = None) -> int:
    """Delete partial uploads that no piece has reached for ``max_age_hours`` (default: the app's
    ``PHOTO_PARTIAL_MAX_AGE_HOURS``, else 24) and temporary files a crash left behind; how many went.
    A partial being appended to right now (locked) is left alone (issue #11 point 4)."""
    hours = max_age_hours if max_age_hours is not None else float(
        current_app.config.get("PHOTO_PARTIAL_MAX_AGE_HOURS", PARTIAL_MAX_AGE_HOURS))
    cutoff = time.time() - hours * 3600
    removed = 0
    for path in (_root() / "partial").glob("*.part"):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            with open(path, "rb") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                if not _same_file(fh, path) or os.fstat(fh.fileno()).st_mtime >= cutoff:
                    continue  # replaced or continued meanwhile
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another worker's sweep took it
            continue
    for folder in ("photos", "thumbs"):  # _write_atomically's temporaries, from a crash between write and rename
        for path in (_root() / folder).glob("*/.*.tmp"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    if removed:
        current_app.logger.info("photos: removed %d abandoned partial upload(s)", removed)
    return removed


def maybe_clean_partials() -> int:
    """Run ``clean_partials`` if no worker did within ``SWEEP_EVERY_S`` (a marker file on the shared
    volume says when, so the workers need nothing in memory)."""
    marker = _root() / "partial" / ".swept"
    try:
        if time.time() - marker.stat().st_mtime < SWEEP_EVERY_S:
            return 0
    except FileNotFoundError:
        marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return clean_partials()


def inspect_image(data: bytes) -> dict:
    """Decode the bytes with Pillow; refuse anything that is not a whole, sane image."""
    if len(data) > MAX_PHOTO_BYTES:  # the API refuses such a photo at its first piece; the link's form lands here
        raise PhotoError(_("The photo is larger than %(mb)d MB.", mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only our three decoders: any other plugin (TIFF, BMP, ICO, PCX, TGA, EPS …) never parses it.
            with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
                probe.verify()  # structure
            with Image.open(io.BytesIO(data), formats=FORMATS) as img:
                fmt = img.format
                width, height = img.size
                if fmt == "JPEG":  # decode at thumbnail scale (DCT scaling): the whole stream, a fraction of the work
                    img.draft("RGB", THUMB_SIZE)
                cost = decode_bytes(img)  # after draft: what the decoder will really allocate
                if fmt == "JPEG":
                    cost += jpeg_buffer_bytes(data, width, height)
                if cost > MAX_DECODE_BYTES:
                    raise PhotoError(_("Decoding this image would take %(mb)d MB of memory (limit %(limit)d MB): "
                                       "send a smaller image.", mb=-(-cost // 2**20), limit=MAX_DECODE_BYTES // 2**20))
                img.load()  # every block decodes
                exif = img.getexif()
                upright = ImageOps.exif_transpose(img)
                upright.thumbnail(THUMB_SIZE)
                thumb = io.BytesIO()
                upright.convert("RGB").save(thumb, "JPEG", quality=80)  # no EXIF: nothing private leaks
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoError(_("The image has too many pixels (limit %(n)d million).",
                           n=Image.MAX_IMAGE_PIXELS // 1_000_000)) from None
    except UnidentifiedImageError:  # not JPEG, PNG or WebP (no other decoder was tried): say which are
        raise PhotoError(_("The file is not a readable image.") + " "
                         + _("Photos must be JPEG, PNG or WebP.")) from None
    except JpegTruncated:
        raise PhotoError(_("The image is incomplete: its end is missing. Send the photo again.")) from None
    except (OSError, SyntaxError, ValueError) as exc:
        if "truncated" in str(exc):  # Pillow ran out of data (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
            raise PhotoError(_("The image is incomplete: its end is missing. Send the photo again.")) from None
        raise PhotoError(_("The file is not a readable image.")) from None
    if fmt not in ALLOWED:
        raise PhotoError(_("Photos must be JPEG, PNG or WebP."))
    lat, lng = _gps(exif)
    return {"mime": ALLOWED[fmt], "width": width, "height": height, "lat": lat, "lng": lng,
            "thumbnail": thumb.getvalue()}


def decode_bytes(img: Image.Image) -> int:
    """Memory the decoded image takes: width × height × the bytes per pixel of its mode."""
    width, height = img.size
    return width * height * PIXEL_BYTES.get(img.mode, 4)


class JpegTruncated(ValueError):
    """The JPEG ends before its image does (a scan, or the end-of-image marker, is missing)."""


#: Start-of-frame markers of DCT images: progressive ones are C2, C6, CA, CE.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


def jpeg_buffer_bytes(data: bytes, width: int, height: int) -> int:
    """Memory libjpeg keeps besides the output for this JPEG: a progressive or multi-scan image is decoded
    through a full-size buffer of DCT coefficients (2 bytes each, 64 per 8×8 block of every component at
    its own sampling) whatever the ``draft`` scale, so a 469 KB progressive 6,320 × 6,320 image took
    ~230 MB although ``draft`` made its output 2.5 MB (issue #11 point 12). Single-scan baseline images
    stream and cost nothing here.

    Raises ``JpegTruncated`` when the file ends before the image does: no end-of-image marker, or scans
    that leave some coefficient of some component unfinished (a progressive file cut after its first
    scans with an end marker appended would otherwise decode as a grey image and be stored)."""
    components, scans, progressive = _jpeg_layout(data)
    for cid in components:
        needed = set(range(64))
        for ids, first, last, low in scans:
            if cid in ids and low == 0:  # the last refinement of these coefficients (successive approximation)
                needed -= set(range(0, 64) if not progressive else range(first, last + 1))
        if needed:
            raise JpegTruncated()
    if not progressive and len(scans) <= 1:
        return 0
    hmax = max(h for h, _v in components.values())
    vmax = max(v for _h, v in components.values())
    mcus_x, mcus_y = -(-width // (8 * hmax)), -(-height // (8 * vmax))
    return sum(mcus_x * h * mcus_y * v * 64 * 2 for h, v in components.values())


def _jpeg_layout(data: bytes) -> tuple[dict, list, bool]:
    """The frame's components ``{id: (h, v)}``, its scans ``[(component ids, Ss, Se, Al)]`` up to the
    first end-of-image marker (a phone's MPF images appended after it are not this image), and whether
    it is progressive. Reads marker segments only; the entropy-coded data is skipped, not decoded."""
    components: dict = {}
    scans: list = []
    progressive = False
    pos, end = 2, len(data)  # after SOI (Pillow identified the JPEG)
    while True:
        if pos + 2 > end:
            raise JpegTruncated()
        if data[pos] != 0xFF:
            raise ValueError("not a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            return components, scans, progressive
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if pos + 4 > end:
            raise JpegTruncated()
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        segment = data[pos + 4:pos + 2 + length]
        if len(segment) < length - 2:
            raise JpegTruncated()
        pos += 2 + length
        if marker in _SOF and len(segment) >= 6:
            progressive = marker in _PROGRESSIVE
            for i in range(segment[5]):
                entry = segment[6 + 3 * i:9 + 3 * i]
                if len(entry) < 2 or not entry[1] >> 4 or not entry[1] & 15:
                    raise ValueError("bad frame header")
                components[entry[0]] = (entry[1] >> 4, entry[1] & 15)
        elif marker == 0xDA:  # start of scan: its header, then entropy-coded data up to the next marker
            count = segment[0] if segment else 0
            if len(segment) < 4 + 2 * count:
                raise ValueError("bad scan header")
            ids = set(segment[1:1 + 2 * count:2])
            scans.append((ids, segment[1 + 2 * count], segment[2 + 2 * count], segment[3 + 2 * count] & 15))
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= end:
                    raise JpegTruncated()
                following = data[pos + 1]
                if following == 0 or 0xD0 <= following <= 0xD7:  # a stuffed 0xFF, or a restart marker
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break


def _gps(exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(0x8825)
        if not gps or 2 not in gps or 4 not in gps:
            return None, None

        def degrees(value, ref):
            d, m, s = (float(x) for x in value)
            out = d + m / 60 + s / 3600
            return -out if ref in ("S", "W") else out
        return degrees(gps[2], gps.get(1, "N")), degrees(gps[4], gps.get(3, "E"))
    except Exception:  # malformed EXIF is not a reason to refuse the photo itself
        return None, None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def thumbnail(sha: str) -> Path | None:
    """The thumbnail file of a stored photo, made on upload (``store``). A photo whose thumbnail is not on
    disk (restored from an archive that kept the originals only, or lost) gets it made again from the
    original, once: through ``inspect_image`` with every check of an upload (the three decoders, the pixel
    and memory limits), written atomically under the same content address. None when there is no
    original, or it no longer passes those checks (issue #12 point 8)."""
    if not SHA_RE.match(sha or ""):
        return None
    path = thumb_path(sha)
    if path.exists():
        return path
    try:
        data = original_path(sha).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if hashlib.sha256(data).hexdigest() != sha:
        return None  # not the file its name promises: shown nowhere
    try:
        info = inspect_image(data)
    except PhotoError:
        current_app.logger.warning("photos: %s no longer passes the upload checks; no thumbnail", sha)
        return None
    _write_atomically(path, info["thumbnail"])
    return path


def finish(user_id: int, sha: str, total: int) -> Photo:
    """The last piece arrived: check and store the photo, then record this user as one of its uploaders.

    A photo someone else (outside the caller's groups) already sent goes through every check all the
    same: the caller proves they hold the bytes, and the answer does not tell them it was there."""
    path = partial_path(user_id, sha)
    try:
        with open(path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            data = fh.read()
    except FileNotFoundError:
        data = b""
    if uploaded_by_user(sha, user_id):  # a crossing retry finished it first
        path.unlink(missing_ok=True)
        return db.session.get(Photo, sha)
    if len(data) < total:
        raise PhotoRetry(_("The upload must continue at byte %(n)d.", n=len(data)), len(data))
    if hashlib.sha256(data).hexdigest() != sha:
        path.unlink(missing_ok=True)
        raise PhotoRetry(_("The photo's bytes do not match its SHA-256; send it again."))
    try:
        info = inspect_image(data)
    except PhotoError:
        path.unlink(missing_ok=True)
        raise
    photo = store(sha, data, info, user_id)
    path.unlink(missing_ok=True)
    return photo


def store(sha: str, data: bytes, info: dict, user_id: int, link=None) -> Photo:
    """Files first (durable, atomic; once per content), then the rows: the photo if new, and this
    uploader's ``PhotoUpload`` with its audit entry. The uploader is the user ``user_id``, or the
    enterprise's ``link`` (then ``user_id`` is the team lead who issued it, kept as the photo's
    ``uploaded_by`` only when the photo is new)."""
    for path, content in ((original_path(sha), data), (thumb_path(sha), info["thumbnail"])):
        if not path.exists():
            _write_atomically(path, content)
    from ..audit.services import record
    owner = {"link_id": link.id} if link is not None else {"user_id": user_id}
    actor = (None, f"enterprise:{link.task.uscc}") if link is not None else None
    for attempt in range(3):
        try:
            with transaction():
                photo = db.session.get(Photo, sha)
                if photo is None:
                    photo = Photo(sha256=sha, size=len(data), width=info["width"], height=info["height"],
                                  mime=info["mime"], lat=info["lat"], lng=info["lng"], uploaded_by=user_id)
                    db.session.add(photo)
                    db.session.flush()
                if db.session.scalar(select(PhotoUpload.id).filter_by(sha256=sha, **owner)) is None:
                    db.session.add(PhotoUpload(sha256=sha, **owner))
                    db.session.flush()
                    record("photo.upload", "photo", sha, None,
                           {"size": len(data), "width": info["width"], "height": info["height"],
                            "mime": info["mime"], **owner}, actor=actor)
            return photo
        except IntegrityError:  # another worker stored the photo, or this uploader's row, a moment ago
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- Who may see a photo (issue #11 point 4) -------------------------------------------------------

def uploaded_by_user(sha: str, user_id: int) -> bool:
    return db.session.scalar(select(PhotoUpload.id).where(PhotoUpload.sha256 == sha,
                                                          PhotoUpload.user_id == user_id)) is not None


def _member_users(task_ids):
    """Accounts of every inspector who is or was in the groups of these tasks (a select of user ids)."""
    from ..auth.models import User
    from ..tasks.models import TaskMember
    return select(User.id).where(User.inspector_id.in_(
        select(TaskMember.inspector_id).where(TaskMember.task_id.in_(task_ids))))


def _order_links(task_ids):
    """The enterprise's links of these tasks' orders, and of the orders a re-inspection among them checks."""
    from ..review.enterprise import EnterpriseLink
    from ..tasks.models import Task
    origins = select(Task.origin_task_id).where(Task.id.in_(task_ids), Task.origin_task_id.is_not(None))
    return select(EnterpriseLink.id).where(or_(EnterpriseLink.task_id.in_(task_ids),
                                               EnterpriseLink.task_id.in_(origins)))


def visible_to(user, sha: str) -> bool:
    """Whether the existence probe may tell ``user`` that the server holds this photo: they sent it, or a
    member of a task group they are (or were) in did, or the enterprise's link of such a task's order.
    For anyone else the photo is as good as absent, and they upload it like a new one."""
    owners = [PhotoUpload.user_id == user.id]
    if user.inspector_id is not None:
        from ..tasks.models import TaskMember
        mine = select(TaskMember.task_id).where(TaskMember.inspector_id == user.inspector_id)
        owners += [PhotoUpload.user_id.in_(_member_users(mine)), PhotoUpload.link_id.in_(_order_links(mine))]
    return db.session.scalar(select(PhotoUpload.id).where(PhotoUpload.sha256 == sha, or_(*owners)).limit(1)) \
        is not None


def citable_photos(shas, task) -> set[str]:
    """Which of ``shas`` a record of ``task`` may cite: photos sent by a member (present or former) of
    its group, or by the enterprise's link for its own order (a re-inspection's: its original task's)."""
    shas = sorted(set(shas))
    if not shas:
        return set()
    ids = [task.id]
    return set(db.session.scalars(select(PhotoUpload.sha256).distinct().where(
        PhotoUpload.sha256.in_(shas),
        or_(PhotoUpload.user_id.in_(_member_users(ids)), PhotoUpload.link_id.in_(_order_links(ids))))))


def photo_citable(sha: str, task) -> bool:
    """Whether a record of ``task`` may cite the photo ``sha`` (see ``citable_photos``)."""
    return sha in citable_photos([sha], task)
