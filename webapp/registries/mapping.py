"""Column and value mapping for an office's own registry file (issue #12).

An office keeps its list the way it always has: 单位名称 for our 企业名称, 所属街道 for 乡镇街道, 是否重点监管
for 重点监管, its own industry names. Each column of the file is mapped to a field of the registry,
suggested from the synonyms below (or from the office's last import of a file with the same headers),
and each word the registry does not know may be mapped to one it knows. Both are remembered per registry
(``ImportMapping``, ``ImportValueMapping``) and can be given to the command line as a mapping file
(``load_mapping_file``, documented in docs/import.md).
"""
import hashlib
import json
import re
import tomllib
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..extensions import db
from ..services import ServiceError, transaction
from .cells import NO_WORDS, YES_WORDS, key
from .models import Competence, Department, ImportMapping, ImportValueMapping, Region
from .vocab import (ACTIVE_FILE, FLAG_FILE, INACTIVE_LABELS, INDUSTRY_FILE, INDUSTRY_LABELS, METHOD_FILE,
                    METHOD_LABELS, STATUS_FILE, STATUS_LABELS)

#: Characters a header may carry that say nothing about the column: required-markers, colons, brackets.
_HEADER_NOISE = re.compile(r"[*:()\[\]【】<>《》/\\、.,·_-]")
_BRACKETED = re.compile(r"[(\[【<《][^)\]】>》]*[)\]】>》]")


def header_keys(header: str) -> tuple[str, ...]:
    """The keys a header is matched by: NFKC, spaces dropped, decoration dropped; and the same without a
    bracketed note (「所属乡镇（街道）」 is 所属乡镇街道 and 所属乡镇; 「是否重点监管(是/否)」 is 是否重点监管)."""
    whole = key(header)
    keys = [_HEADER_NOISE.sub("", whole), _HEADER_NOISE.sub("", _BRACKETED.sub("", whole))]
    return tuple(dict.fromkeys(k for k in keys if k))


def header_key(header: str) -> str:
    keys = header_keys(header)
    return keys[0] if keys else ""


#: Columns an office adds that are no field: row numbers. Suggested as "not imported".
IGNORE_HEADERS = ("序号", "编号", "序", "行号", "no", "number")


def flag_synonyms(word: str, *more: str) -> tuple[str, ...]:
    """How offices head a yes/no column: 重点监管, 是否重点监管, 是否为重点监管单位, 列入黑名单 …"""
    out = []
    for w in (word, *more):
        out += [w, f"是否{w}", f"是否为{w}", f"是否列入{w}", f"列入{w}", f"是否属于{w}", f"{w}企业", f"{w}单位",
                f"是否{w}企业", f"是否{w}单位", f"是否为{w}企业", f"是否为{w}单位", f"是否涉及{w}", f"涉及{w}"]
    return tuple(out)


#: Words in a header that mark a yes/no flag column (R2 categories, R8 key supervision, R9 blacklist,
#: R11 focus lists): an unmapped column so headed needs an explicit choice before importing.
FLAG_HINTS = ("重点", "黑名单", "失信", "粉尘", "涉爆", "有限空间", "液氨", "涉氨", "危险源", "信用", "投诉",
              "异常", "违法", "是否", "类别", "标签")


def signature(headers: list[str]) -> str:
    """The file's header signature: its headers, normalised, in order."""
    return hashlib.sha256("\x1f".join(header_key(h) for h in headers).encode("utf-8")).hexdigest()


# --- value domains: what a word of a column may be mapped to -----------------------------------------

def domain_options(domain: str) -> list[tuple[str, str]]:
    """``(code, label)`` of every value a word of this domain may be mapped to, as the select shows them."""
    if domain == "industry":
        return [(c, str(INDUSTRY_LABELS[c])) for c in INDUSTRY_FILE]
    if domain == "status":
        return [(c, str(STATUS_LABELS[c])) for c in STATUS_FILE]
    if domain == "yes_no":
        return [("yes", _("Yes")), ("no", _("No"))]
    if domain == "method":
        return [(c, str(METHOD_LABELS[c])) for c in METHOD_FILE]
    if domain == "active":
        return [("active", _("Active"))] + [(c, str(INACTIVE_LABELS[c])) for c in ACTIVE_FILE if c]
    if domain in ("region", "region_code"):
        return [(r.code, f"{r.name}（{r.code}）") for r in db.session.scalars(select(Region).order_by(Region.code))]
    if domain == "category":
        return list(FLAG_FILE.items())
    if domain == "department":
        return [(str(d.id), d.name) for d in db.session.scalars(select(Department).order_by(Department.name))]
    if domain == "competence":
        return [(str(c.id), c.name) for c in db.session.scalars(select(Competence).order_by(Competence.name))]
    return []


def domain_words(domain: str) -> dict[str, str]:
    """code → the word the file format (and the column's parser) uses for it."""
    if domain == "industry":
        return dict(INDUSTRY_FILE)
    if domain == "status":
        return dict(STATUS_FILE)
    if domain == "yes_no":
        return {"yes": "是", "no": "否"}
    if domain == "method":
        return dict(METHOD_FILE)
    if domain == "active":
        return {("active" if c is None else c): w for c, w in ACTIVE_FILE.items()}
    if domain == "region":
        return dict(db.session.execute(select(Region.code, Region.name)).all())
    if domain == "region_code":
        return {c: c for c in db.session.scalars(select(Region.code))}
    if domain == "category":
        return dict(FLAG_FILE)
    if domain == "department":
        return {str(i): n for i, n in db.session.execute(select(Department.id, Department.name))}
    if domain == "competence":
        return {str(i): n for i, n in db.session.execute(select(Competence.id, Competence.name))}
    return {}


def domain_code(domain: str, text) -> str | None:
    """The code a mapping file's target names: a code, the file word, or the label (TOML/JSON true and
    false for yes/no)."""
    if domain == "yes_no" and isinstance(text, bool):
        return "yes" if text else "no"
    text = str(text)
    if domain == "yes_no":
        k = key(text)
        return "yes" if k in YES_WORDS or k == "yes" else "no" if k in NO_WORDS or k == "no" else None
    words = domain_words(domain)
    if text in words:
        return text
    by_word = {key(w): c for c, w in words.items()}
    by_label = {key(label): c for c, label in domain_options(domain)}
    if domain in ("region", "region_code"):
        by_word.update({key(c): c for c in words})
        by_label.update({key(n): c for c, n in db.session.execute(select(Region.code, Region.name))})
    return by_word.get(key(text)) or by_label.get(key(text))


# --- remembered mappings ------------------------------------------------------------------------------

def remembered_columns(kind: str, headers: list[str]) -> dict[str, str]:
    """header key → field ("" for not imported) as the office last chose: the file with these very headers
    first, then any earlier file of the registry for a header it shared and imported."""
    rows = db.session.scalars(select(ImportMapping).where(ImportMapping.kind == kind)
                              .order_by(ImportMapping.updated_at.desc(), ImportMapping.id.desc())).all()
    sig = signature(headers)
    out: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.signature != sig):  # stable: the exact file first, then newest
        for k, target in (row.columns or {}).items():
            # "Not imported" is a choice about that file (often a column that lost to its twin, 地址 beside
            # 注册地址): another file's column of that name gets the synonyms' suggestion, not a blank.
            if target or row.signature == sig:
                out.setdefault(k, target)
    return out


def remember_columns(kind: str, headers: list[str], targets: list[str | None]) -> None:
    """Remember the mapping chosen for a file with these headers (audited: it decides the next import)."""
    columns = {header_key(h): (t or "") for h, t in zip(headers, targets) if header_key(h)}
    sig = signature(headers)
    with transaction():
        row = db.session.scalar(select(ImportMapping).where(ImportMapping.kind == kind,
                                                            ImportMapping.signature == sig))
        if row is not None and row.columns == columns:
            return
        before = row.audit_view() if row else None
        if row is None:
            row = ImportMapping(kind=kind, signature=sig, columns=columns)
            db.session.add(row)
        else:
            row.columns = columns
        db.session.flush()
        record("registry.import_mapping", "import_mapping", row.id, before, row.audit_view())


def remembered_values(kind: str) -> dict[str, dict[str, str]]:
    """field → {word key → target code}."""
    out: dict[str, dict[str, str]] = {}
    for row in db.session.scalars(select(ImportValueMapping).where(ImportValueMapping.kind == kind)):
        out.setdefault(row.field, {})[row.source] = row.target
    return out


def remember_values(kind: str, choices: list[tuple[str, str, str]]) -> int:
    """Remember ``(field, word, target code)`` choices; a blank target forgets the word's mapping.
    Returns how many changed."""
    changed = 0
    with transaction():
        for field, word, target in choices:
            source = key(word)[:200]
            row = db.session.scalar(select(ImportValueMapping).where(
                ImportValueMapping.kind == kind, ImportValueMapping.field == field,
                ImportValueMapping.source == source))
            if (row.target if row else "") == (target or ""):
                continue
            before = row.audit_view() if row else None
            if not target:
                record("registry.import_value_mapping", "import_value_mapping", row.id, before, None)
                db.session.delete(row)
            else:
                if row is None:
                    row = ImportValueMapping(kind=kind, field=field, source=source, target=target[:60])
                    db.session.add(row)
                else:
                    row.target = target[:60]
                db.session.flush()
                record("registry.import_value_mapping", "import_value_mapping", row.id, before, row.audit_view())
            changed += 1
    return changed


# --- the command line's mapping file ----------------------------------------------------------------

def load_mapping_file(path: Path, spec) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Read a mapping file (JSON, or TOML by its .toml suffix) for ``spec``'s registry::

        {"columns": {"单位名称": "企业名称", "序号": null},
         "values": {"行业": {"工贸-粉尘涉爆": "轻工"}, "重点监管": {"重点": "是"}}}

    ``columns`` maps the file's headers to the registry's (our template's header, or the field name);
    null or "" imports the column not at all, on purpose. ``values`` maps, per registry column, a word
    of the file to one the registry knows (its file word, label or code). Returns ``({header key:
    field or ""}, {field: {word key: code}})``; a name or word not known is refused with the reason."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ServiceError(_("The mapping file cannot be read (%(e)s).", e=str(exc))) from None
    if not isinstance(data, dict) or not set(data) <= {"columns", "values"}:
        raise ServiceError(_("A mapping file holds \"columns\" and \"values\" only."))
    by_name = {}
    for col in spec.columns:
        by_name.update({col.field: col, key(col.header): col})
    columns = {}
    for header, target in (data.get("columns") or {}).items():
        if target in (None, "", False):
            columns[header_key(header)] = ""
            continue
        col = by_name.get(key(str(target))) or by_name.get(str(target))
        if col is None:
            raise ServiceError(_("Mapping file: column %(h)s is mapped to %(t)s, which is no column of this "
                                 "registry.", h=header, t=target))
        columns[header_key(header)] = col.field
    values: dict[str, dict[str, str]] = {}
    for name, words in (data.get("values") or {}).items():
        col = by_name.get(key(str(name))) or by_name.get(str(name))
        if col is None or not col.domain or not isinstance(words, dict):
            raise ServiceError(_("Mapping file: %(c)s names no column whose words can be mapped.", c=name))
        for word, target in words.items():
            code = domain_code(col.domain, target)
            if code is None:
                raise ServiceError(_("Mapping file: %(w)s in %(c)s is mapped to %(t)s, which the registry does "
                                     "not know.", w=word, c=name, t=target))
            values.setdefault(col.field, {})[key(word)] = code
    return columns, values
