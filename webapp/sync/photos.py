"""Photos on disk, content-addressed and written atomically; checked with Pillow before they count.

An upload may arrive in pieces (a cut connection resumes at the offset the server reports). Only
when the whole file is there, its SHA-256 matches its name and Pillow decodes it as a real image
within the size and pixel limits does it move into place; the database row comes after the file
is durable. The original keeps its EXIF (GPS is evidence); the thumbnail shown anywhere is
re-encoded without EXIF, with the orientation applied.
"""
import fcntl
import hashlib
import io
import os
import re
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..services import ServiceError, transaction
from .models import Photo

#: Decompression bombs: Pillow warns above this and refuses at twice it; we refuse at the warning.
Image.MAX_IMAGE_PIXELS = 40_000_000
MAX_PHOTO_BYTES = 20 * 1024 * 1024
THUMB_SIZE = (480, 480)
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class PhotoError(ServiceError):
    pass


class PhotoRetry(PhotoError):
    """The upload must go on from ``offset`` (bytes went missing or crossed in transit)."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


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
    path = partial_path(user_id, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as fh:
        # A retry may arrive while the cut request it replaces is still being read: the lock makes
        # "check the offset, then append" one step, so two pieces never interleave.
        fcntl.flock(fh, fcntl.LOCK_EX)
        have = fh.seek(0, os.SEEK_END)
        if start != have:
            raise PhotoError(_("The upload must continue at byte %(n)d.", n=have))
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    return have + len(body)


def inspect_image(data: bytes) -> dict:
    """Decode the bytes with Pillow; refuse anything that is not a whole, sane image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()  # structure
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                width, height = img.size
                if fmt == "JPEG":  # decode at thumbnail scale (DCT scaling): the whole stream, a fraction of the work
                    img.draft("RGB", THUMB_SIZE)
                img.load()  # every block decodes
                exif = img.getexif()
                upright = ImageOps.exif_transpose(img)
                upright.thumbnail(THUMB_SIZE)
                thumb = io.BytesIO()
                upright.convert("RGB").save(thumb, "JPEG", quality=80)  # no EXIF: nothing private leaks
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoError(_("The image has too many pixels (limit %(n)d million).",
                           n=Image.MAX_IMAGE_PIXELS // 1_000_000)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(_("The file is not a readable image.")) from None
    if fmt not in ALLOWED:
        raise PhotoError(_("Photos must be JPEG, PNG or WebP."))
    lat, lng = _gps(exif)
    return {"mime": ALLOWED[fmt], "width": width, "height": height, "lat": lat, "lng": lng,
            "thumbnail": thumb.getvalue()}


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


def finish(user_id: int, sha: str, total: int) -> Photo:
    """The last piece arrived: check and store the photo, then record it."""
    path = partial_path(user_id, sha)
    try:
        with open(path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            data = fh.read()
    except FileNotFoundError:
        data = b""
    existing = db.session.get(Photo, sha)
    if existing is not None:  # a crossing retry finished it first
        path.unlink(missing_ok=True)
        return existing
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


def store(sha: str, data: bytes, info: dict, user_id: int) -> Photo:
    """Files first (durable, atomic), then the row; a photo already held is simply returned."""
    existing = db.session.get(Photo, sha)
    if existing is not None:
        return existing
    _write_atomically(original_path(sha), data)
    _write_atomically(thumb_path(sha), info["thumbnail"])
    from ..audit.services import record
    try:
        with transaction():
            photo = Photo(sha256=sha, size=len(data), width=info["width"], height=info["height"],
                          mime=info["mime"], lat=info["lat"], lng=info["lng"], uploaded_by=user_id)
            db.session.add(photo)
            db.session.flush()
            record("photo.upload", "photo", sha, None, {"size": len(data), "width": info["width"],
                                                        "height": info["height"], "mime": info["mime"]})
    except IntegrityError:  # another worker stored the same photo a moment ago: the same bytes
        return db.session.get(Photo, sha)
    return photo
