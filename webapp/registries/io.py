"""Import and export entry points shared by the UI and the command line."""
import os
import secrets
import time
from pathlib import Path

from flask import current_app

from .import_specs import EXPORTS, SHEET_TITLES, SPECS, headers
from .importing import ImportReport, run_import
from .tabular import write_csv, write_xlsx

KINDS = tuple(SPECS)


def import_file(kind: str, filename: str, data: bytes, commit: bool = True, choices: dict | None = None,
                values: dict | None = None, allow_unmapped: bool = False,
                expect_digest: str | None = None) -> ImportReport:
    """Check (and with ``commit`` write) a registry file; see ``run_import`` for the mapping arguments."""
    return run_import(SPECS[kind](), filename, data, commit=commit, choices=choices, values=values,
                      allow_unmapped=allow_unmapped, expect_digest=expect_digest)


def export_bytes(kind: str, fmt: str) -> bytes:
    rows = EXPORTS[kind]()
    if fmt == "csv":
        return write_csv(headers(kind), rows)
    return write_xlsx(headers(kind), rows, SHEET_TITLES[kind])


def template_bytes(kind: str, fmt: str) -> bytes:
    """An empty file with the right headers, for an office starting from scratch."""
    return write_csv(headers(kind), []) if fmt == "csv" else write_xlsx(headers(kind), [], SHEET_TITLES[kind])


def _pending_dir() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


#: A preview not confirmed within this time is deleted (it may hold personal data).
PENDING_MAX_AGE_S = 24 * 3600


def stash_upload(user_id: int, kind: str, filename: str, data: bytes) -> str:
    """Keep an uploaded file between preview and confirmation (on the shared volume,
    not in process memory, so any worker can confirm it). Old unconfirmed ones are swept."""
    _sweep()
    ext = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    token = f"{user_id}-{kind}-{secrets.token_urlsafe(16)}{ext}"
    tmp = _pending_dir() / (token + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, _pending_dir() / token)
    return token


def _stashed(user_id: int, kind: str, token: str) -> Path | None:
    if not token.startswith(f"{user_id}-{kind}-") or "/" in token or "\\" in token or ".." in token:
        return None
    path = _pending_dir() / token
    return path if path.is_file() else None


def peek_upload(user_id: int, kind: str, token: str) -> tuple[bytes, str] | None:
    """The stashed bytes and their extension, kept for the next step (a mapping changed in the preview)."""
    path = _stashed(user_id, kind, token)
    if path is None:
        return None
    try:
        return path.read_bytes(), path.suffix
    except FileNotFoundError:  # swept or confirmed meanwhile
        return None


class Claimed:
    """A stashed upload taken for confirmation: renamed away atomically, so two confirmations of one
    preview never both import; ``release`` puts it back when the import was refused (the user may fix
    the mapping and confirm again), ``done`` deletes it."""

    def __init__(self, path: Path, token: str, data: bytes):
        self.path, self.token, self.data, self.suffix = path, token, data, Path(token).suffix

    def release(self) -> None:
        os.replace(self.path, _pending_dir() / self.token)

    def done(self) -> None:
        self.path.unlink(missing_ok=True)


def claim_upload(user_id: int, kind: str, token: str) -> Claimed | None:
    """The stashed upload, if this user stashed it for this registry and nobody claimed it meanwhile."""
    path = _stashed(user_id, kind, token)
    if path is None:
        return None
    claimed = path.with_name(f"{token}.{secrets.token_hex(6)}.claimed")
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return None
    return Claimed(claimed, token, claimed.read_bytes())


def take_upload(user_id: int, kind: str, token: str) -> tuple[bytes, str] | None:
    """The stashed bytes and their extension; the file is removed: a token works once."""
    claimed = claim_upload(user_id, kind, token)
    if claimed is None:
        return None
    claimed.done()
    return claimed.data, claimed.suffix


def _sweep() -> None:
    cutoff = time.time() - PENDING_MAX_AGE_S
    for path in _pending_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another worker swept it first
            pass
