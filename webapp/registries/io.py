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


def import_file(kind: str, filename: str, data: bytes, commit: bool = True) -> ImportReport:
    return run_import(SPECS[kind](), filename, data, commit=commit)


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


def take_upload(user_id: int, kind: str, token: str) -> tuple[bytes, str] | None:
    """The stashed bytes and their extension, if this user stashed them for this registry.
    The file is removed: a token works once."""
    if not token.startswith(f"{user_id}-{kind}-") or "/" in token or "\\" in token or ".." in token:
        return None
    path = _pending_dir() / token
    if not path.is_file():
        return None
    data = path.read_bytes()
    path.unlink()
    return data, path.suffix


def _sweep() -> None:
    cutoff = time.time() - PENDING_MAX_AGE_S
    for path in _pending_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another worker swept it first
            pass
