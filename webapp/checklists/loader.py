"""Load checklist files into the database: validated, all or nothing, versions immutable."""
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from ..audit.services import record
from ..extensions import db
from ..registries.models import Competence, InspectionItem
from ..services import transaction
from .models import ChecklistVersion
from .schema import ChecklistSchema


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _plain(value):
    """YAML turns 2023-05-15 into a date; the schema and the JSON column want text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _flatten(messages, prefix="") -> list[str]:
    if isinstance(messages, dict):
        return [m for k, v in messages.items() for m in _flatten(v, f"{prefix}{k}.")]
    return [f"{prefix.rstrip('.')}: {m}" for m in messages]


def parse_file(name: str, data: bytes) -> tuple[dict | None, list[str]]:
    """Parse and validate one file; return the document (JSON-ready) or the problems."""
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [_("%(f)s: not valid UTF-8 YAML (%(e)s)", f=name, e=str(exc).splitlines()[0])]
    if not isinstance(raw, dict):
        return None, [_("%(f)s: not a checklist document", f=name)]
    raw = _plain(raw)
    try:
        ChecklistSchema().load(raw)
    except ValidationError as exc:
        return None, [f"{name}: {m}" for m in _flatten(exc.messages)]
    expected = f"{raw['code']}@{raw['version']}.yaml"
    if name != expected:
        return None, [_("%(f)s: the file must be named %(e)s", f=name, e=expected)]
    return raw, []


def load_folder(folder: str | Path) -> LoadReport:
    """Load every ``*.yaml`` in the folder; any problem anywhere loads nothing."""
    files = sorted(Path(folder).glob("*.yaml"))
    return load_documents([(p.name, p.read_bytes()) for p in files])


def load_documents(files: list[tuple[str, bytes]]) -> LoadReport:
    report = LoadReport()
    items = set(db.session.scalars(select(InspectionItem.code)))
    competences = set(db.session.scalars(select(Competence.name)))
    pending = []
    for name, data in files:
        doc, errors = parse_file(name, data)
        report.errors += errors
        if doc is None:
            continue
        label = f"{doc['code']}@{doc['version']}"
        unknown = sorted({q["item"] for q in doc["questions"]} - items)
        if unknown:
            report.errors.append(_("%(f)s: questions name items not in the item list: %(i)s",
                                   f=name, i=", ".join(unknown)))
        missing = sorted(set(doc["competences"]) - competences)
        if missing:
            report.errors.append(_("%(f)s: unknown competences: %(c)s", f=name, c=", ".join(missing)))
        sha = hashlib.sha256(data).hexdigest()
        existing = db.session.scalar(select(ChecklistVersion).where(
            ChecklistVersion.code == doc["code"], ChecklistVersion.version == doc["version"]))
        if existing is not None and existing.sha256 != sha:
            report.errors.append(_("%(f)s: version %(v)s is already loaded with other content; "
                                   "a changed checklist needs a new version", f=name, v=doc["version"]))
        elif existing is not None:
            report.unchanged.append(label)
        else:
            pending.append((label, doc, sha))
    if report.errors or not pending:
        return report
    with transaction():
        for label, doc, sha in pending:
            src = doc["source"]
            cv = ChecklistVersion(code=doc["code"], version=doc["version"], title=doc["title"],
                                  source_title=src["title"], document_no=src["document_no"],
                                  valid_from=date.fromisoformat(src["valid_from"]),
                                  valid_to=date.fromisoformat(src["valid_to"]) if src.get("valid_to") else None,
                                  content=doc, sha256=sha)
            db.session.add(cv)
            db.session.flush()
            record("checklist.load", "checklist_version", cv.id, None,
                   {"code": cv.code, "version": cv.version, "sha256": sha, "questions": len(doc["questions"])})
            report.added.append(label)
    return report
