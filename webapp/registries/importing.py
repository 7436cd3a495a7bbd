"""All-or-nothing import of the three registries (一单两库) from XLSX or CSV.

A run reads the file as the office keeps it (header below title rows, GBK CSV, its own column names:
issue #12), maps each of its columns to a field of the registry and each word the registry does not
know to one it knows (``mapping``), reads every row, checks every cell, every duplicate and every
reference, and only if nothing is wrong writes all of it in one transaction with one audit entry per
changed row (their change history). Otherwise it returns every bad row with its reason and the value,
grouped where rows share a column, a value and a reason.

Nothing is ignored silently: a column of the file mapped to no field is reported with its values, and
when such a column looks like a yes/no flag (R8 key supervision and R9 blacklist decide who must be
drawn; R11 focus lists) the import is refused until someone chooses to import without it.
"""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from ..audit.services import record, record_many
from ..services import ServiceError, transaction
from .cells import CellError, UnknownValue, key, split_words
from .mapping import (FLAG_HINTS, IGNORE_HEADERS, domain_words, header_key, header_keys, remembered_columns,
                      remembered_values)
from .tabular import read_sheet


@dataclass
class Column:
    header: str  #: Chinese header as in our template
    field: str
    parse: object
    required: bool = False  #: a column must be mapped to it and the cell filled
    empty_message: str | None = None  #: why an empty required cell is refused, if not the default
    #: A blank cell means "no change" (a new record takes the default), not "empty".
    blank_keeps: bool = False
    #: Other headers offices give this column (「单位名称」 for 企业名称), matched as ``header_keys`` does.
    synonyms: tuple = ()
    #: The vocabulary of the column's words, if a word may be mapped to a known one (industry, township …).
    domain: str | None = None
    #: A yes/no flag that decides who is drawn (R2, R8, R9, R11).
    flag: bool = False
    #: A cell lists several words (专业领域: 危化;煤矿): each is mapped on its own.
    multi: bool = False
    #: A column an office's file may have but our template and export do not (监管类别).
    import_only: bool = False

    def __post_init__(self):
        self.domain = self.domain or getattr(self.parse, "domain", None)

    @property
    def keys(self) -> set[str]:
        return {k for h in (self.header, *self.synonyms) for k in header_keys(h)}


@dataclass
class RowError:
    row: int
    column: str | None  #: the file's column, as the office headed it
    message: str
    value: str | None = None  #: the bad value, as the file holds it
    field: str | None = None  #: the registry field whose word this is, when it may be mapped
    domain: str | None = None

    def __str__(self) -> str:
        where = _("row %(n)d", n=self.row) if self.row else ""
        col = f"「{self.column}」" if self.column else ""
        value = f"「{self.value}」" if self.value else ""
        return f"{where}{col}{value}：{self.message}" if where or col else self.message


@dataclass
class ErrorGroup:
    """Rows refused for one reason: the same column, value and message."""

    column: str | None
    message: str
    value: str | None
    field: str | None
    domain: str | None
    rows: list[int]

    @property
    def mappable(self) -> bool:
        return bool(self.domain and self.field and self.value)

    def __str__(self) -> str:
        first = RowError(self.rows[0], self.column, self.message, self.value)
        if len(self.rows) == 1:
            return str(first)
        shown = "、".join(str(n) for n in self.rows[:10]) + ("…" if len(self.rows) > 10 else "")
        col = f"「{self.column}」" if self.column else ""
        return _("%(where)s%(value)s: %(message)s (%(n)d rows: %(rows)s)", where=col,
                 value=f"「{self.value}」" if self.value else "", message=self.message, n=len(self.rows), rows=shown)


@dataclass
class FileColumn:
    """One column of the office's file and the field it is mapped to."""

    index: int
    header: str
    filled: int = 0  #: rows with a value in this column
    samples: list[str] = field(default_factory=list)  #: a few of its values
    target: str | None = None  #: the field it is imported into; None: not imported
    how: str = ""  #: "chosen", "remembered", "synonym" or ""
    ignored: bool = False  #: chosen on purpose not to be imported (序号, or a mapping file's null)
    flag_like: bool = False  #: headed or filled like a yes/no flag

    @property
    def letter(self) -> str:
        n, out = self.index + 1, ""
        while n:
            n, r = divmod(n - 1, 26)
            out = chr(65 + r) + out
        return out

    @property
    def label(self) -> str:
        return self.header or _("column %(c)s", c=self.letter)

    @property
    def key(self) -> str:
        return header_key(self.header)


@dataclass
class ImportReport:
    kind: str
    filename: str
    rows: int = 0
    created: list = field(default_factory=list)  #: new records (key, values)
    updated: list = field(default_factory=list)  #: (key, before, after)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    encoding: str | None = None  #: a CSV's encoding
    header_row: int = 1
    title_rows: list = field(default_factory=list)  #: (row number, text) above the header
    footer_rows: list = field(default_factory=list)  #: (row number, text) of notes below the data
    headers: list[str] = field(default_factory=list)
    columns: list[FileColumn] = field(default_factory=list)
    #: Why the mapping cannot be used (a required field unmapped, two columns on one field).
    mapping_errors: list[str] = field(default_factory=list)
    #: Unmapped columns that look like flags while the import was not told to go without them.
    needs_choice: list[FileColumn] = field(default_factory=list)
    refused_rows: int = 0
    #: Set when ``commit`` was asked but an unmapped flag-like column needs a choice first.
    blocked: bool = False
    #: The first changed records as people read them (``changes``) and the first new ones' names.
    changes: list = field(default_factory=list)
    new_names: list[str] = field(default_factory=list)
    #: A digest of the mapping the check used: each column's field and every word it translated. The
    #: preview carries it; a confirmation whose check comes out different is refused (``stale``), so what
    #: is written is exactly what the preview showed, whatever another tab remembered meanwhile.
    digest: str = ""
    stale: bool = False
    sheet_name: str | None = None  #: the worksheet read, when the workbook has several
    subtotal_rows: list = field(default_factory=list)  #: (row number, text) of subtotals between the data
    merged_cells: int = 0  #: cells of data rows that took a merged range's value (XLSX)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.mapping_errors

    @property
    def ignored_headers(self) -> list[str]:
        """Columns with data that are not imported."""
        return [c.label for c in self.columns if c.target is None and c.filled]

    @property
    def unmapped(self) -> list[FileColumn]:
        return [c for c in self.columns if c.target is None and c.filled and not c.ignored]

    @property
    def groups(self) -> list[ErrorGroup]:
        out: dict[tuple, ErrorGroup] = {}
        for e in self.errors:
            k = (e.column, e.message, e.value, e.field, e.domain)
            if k not in out:
                out[k] = ErrorGroup(e.column, e.message, e.value, e.field, e.domain, [])
            out[k].rows.append(e.row)
        return sorted(out.values(), key=lambda g: (not g.mappable, g.rows[0]))

    @property
    def mapping(self) -> dict[int, str]:
        return {c.index: (c.target or "") for c in self.columns}


#: A column chosen not to be imported (the preview's select). It still counts as unmapped: a flag-like
#: one needs the explicit choice. "" in ``choices`` (a mapping file's null) is that explicit choice.
NOT_IMPORTED = "-"


class Spec:
    """What one registry's file looks like and how its rows become records."""

    kind: str
    columns: list[Column]
    key: str
    #: Keys of words naming a flag (重点监管, 黑名单 …): a column whose cells name them is flag-like.
    flag_words: frozenset = frozenset()
    #: Every field of a record, and what a new record gets for a column the file lacks.
    fields: tuple[str, ...]
    defaults: dict

    def load_refs(self) -> None:
        """Load the reference tables a row may name (regions, departments …)."""

    def resolve(self, values: dict) -> dict:
        """Turn parsed cells into record values; raise RowRefError(column header …)."""
        return values

    def existing(self, keys: list) -> dict:
        """Current values of the records with these keys, as comparable dicts."""
        raise NotImplementedError

    def apply(self, created: list, updated: list) -> None:
        raise NotImplementedError

    def missing_fields(self, mapped: set) -> list[str]:
        """Headers of the required columns no column of the file is mapped to."""
        return [c.header for c in self.columns if c.required and c.field not in mapped]

    def header_score(self, cells: list[str]) -> int:
        """How many of a row's cells are headers this registry knows (to find the header row)."""
        known = set().union(*(c.keys for c in self.columns)) | set(IGNORE_HEADERS)
        return sum(1 for c in cells if c and set(header_keys(c)) & known)

    def describe(self, field: str, value) -> str:
        """A value as a person reads it: names, labels, 是/否 (issue #12 point 4)."""
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, list):
            return "、".join(str(v) for v in value) or "—"
        return str(value)

    def label(self, field: str) -> str:
        from .vocab import FIELD_LABELS
        return str(FIELD_LABELS.get(field, next((c.header for c in self.columns if c.field == field), field)))

    def record_name(self, values: dict) -> str:
        return str(values.get("name") or values.get(self.key))


class RowRefError(CellError):
    """A row names something the registry lacks, or names it inconsistently."""

    def __init__(self, column: str, message: str, domain: str | None = None, values: list | None = None):
        super().__init__(message)
        self.column, self.domain, self.values = column, domain, values


class RowRefErrors(Exception):
    """Several ``RowRefError`` of one row (an unknown department and an unknown competence)."""

    def __init__(self, errors: list[RowRefError]):
        super().__init__(errors)
        self.errors = errors


def run_import(spec: Spec, filename: str, data: bytes, commit: bool = True, choices: dict | None = None,
               values: dict | None = None, allow_unmapped: bool = False,
               expect_digest: str | None = None) -> ImportReport:
    """Check the whole file; write it only when ``commit``, no row is bad and no flag-like column is left
    unmapped without ``allow_unmapped``.

    ``choices`` maps a column (its index, or its header's key) to a field, or to "" for not imported;
    columns it does not name are mapped as last remembered, else by synonym. ``values`` maps, per field,
    a word's key to a code, on top of the words remembered for the registry. With ``expect_digest`` (the
    preview's ``digest``) nothing is written unless this check used the very same mapping (``stale``)."""
    report = ImportReport(spec.kind, filename)
    try:
        sheet = read_sheet(filename, data, score=spec.header_score)
    except ServiceError as exc:
        report.errors.append(RowError(0, None, exc.message))
        return report
    report.rows, report.encoding, report.header_row = len(sheet.rows), sheet.encoding, sheet.header_row
    report.title_rows, report.headers = sheet.title_rows, sheet.header
    report.footer_rows, report.merged_cells = sheet.footer_rows, sheet.merged_cells
    report.subtotal_rows, report.sheet_name = sheet.subtotal_rows, sheet.sheet_name
    _map_columns(spec, sheet, choices or {}, report)
    if report.mapping_errors:
        return report
    vmap = remembered_values(spec.kind)
    for f, words in (values or {}).items():
        vmap.setdefault(f, {}).update(words)
    spec.load_refs()
    used: dict = {}
    parsed = _parse_rows(spec, report, sheet.rows, vmap, used)
    report.digest = _digest(report, used)
    report.refused_rows = len({e.row for e in report.errors})
    _plan(spec, parsed, report)
    report.changes = changes(spec, report)
    report.new_names = [spec.record_name(v) for v in report.created[:10]]
    if commit and expect_digest is not None and expect_digest != report.digest:
        report.stale = True
        return report
    if report.needs_choice and not allow_unmapped:
        report.blocked = commit
        return report
    if report.errors or not commit or not (report.created or report.updated):
        return report
    with transaction():
        spec.apply(report.created, report.updated)
        record("registry.import", "registry", spec.kind, None, {
            "filename": filename, "file_sha256": hashlib.sha256(data).hexdigest(), "rows": report.rows,
            "created": len(report.created), "updated": len(report.updated), "unchanged": report.unchanged,
            "encoding": report.encoding, "header_row": report.header_row,
            "columns": {c.label: c.target for c in report.columns if c.target},
            "not_imported": report.ignored_headers})
    report.committed = True
    return report


def _map_columns(spec: Spec, sheet, choices: dict, report: ImportReport) -> None:
    width = max([len(sheet.header)] + [len(cells) for _n, cells in sheet.rows])
    cols = [FileColumn(i, sheet.header[i] if i < len(sheet.header) else "") for i in range(width)]
    for _n, cells in sheet.rows:
        for i, v in enumerate(cells):
            if v:
                cols[i].filled += 1
                if len(cols[i].samples) < 3 and v not in cols[i].samples:
                    cols[i].samples.append(v[:40])
    by_field = {c.field: c for c in spec.columns}
    remembered = remembered_columns(spec.kind, sheet.header)
    synonyms = {}
    for c in spec.columns:  # our own headers first, then the synonyms in the order given
        for h in (c.header, *c.synonyms):
            for k in header_keys(h):
                synonyms.setdefault(k, c.field)
    taken: dict[str, FileColumn] = {}
    # Chosen first (they win a field), then remembered, then synonyms: a weaker claim never takes a field.
    for how in ("chosen", "remembered", "synonym"):
        for col in cols:
            if col.how:
                continue
            ignored = False
            if how == "chosen":
                target = choices[col.index] if col.index in choices else choices.get(col.key) if col.key else None
                ignored = target == ""  # the mapping file's null: left out on purpose
            elif how == "remembered":
                target = remembered.get(col.key) if col.key else None
            else:
                found = [synonyms[k] for k in header_keys(col.header) if k in synonyms]
                ignored = not found and bool(set(header_keys(col.header)) & set(IGNORE_HEADERS))
                target = found[0] if found else ("" if ignored else None)
            if target is None:
                continue
            if target in (NOT_IMPORTED, ""):
                # A row-number column (序号) is no data, whoever chose to leave it out.
                col.how, col.ignored = how, ignored or bool(set(header_keys(col.header)) & set(IGNORE_HEADERS))
                continue
            if target not in by_field:
                continue  # a remembered field that no longer exists
            if target in taken:
                if how == "chosen":
                    report.mapping_errors.append(_("Columns %(a)s and %(b)s are both mapped to %(f)s: map one of "
                                                   "them to another field or to none.", a=taken[target].label,
                                                   b=col.label, f=by_field[target].header))
                continue
            col.target, col.how = target, how
            taken[target] = col
    for col in cols:
        col.flag_like = _flag_like(col, sheet.rows, spec.flag_words)
    report.columns = cols
    missing = spec.missing_fields(set(taken))
    if "region_name" in by_field and not ({"region_name", "region_code"} & set(taken)):
        missing.append(by_field["region_name"].header)
    if missing:
        report.mapping_errors.append(_("No column of the file is mapped to %(c)s: choose the column that holds it.",
                                       c="、".join(f"「{m}」" for m in missing)))
    if any(c.flag for c in spec.columns):
        report.needs_choice = [c for c in report.unmapped if c.flag_like]


def _flag_like(col: FileColumn, rows, flag_words=frozenset()) -> bool:
    """A column headed like a flag (重点, 黑名单, 是否, 类别 …), whose values are nearly all yes/no words, or
    whose cells often name flags (a 监管类别 column listing 「重点监管、黑名单」)."""
    if any(h in col.header for h in FLAG_HINTS):
        return True
    if not col.filled:
        return False
    from .cells import NO_WORDS, YES_WORDS
    words = YES_WORDS | NO_WORDS
    cells_ = [cells[col.index] for _n, cells in rows if col.index < len(cells) and cells[col.index]]
    values = [key(v) for v in cells_]
    yes_no = sum(1 for v in values if v in words and not v.isdigit())
    if yes_no >= 0.8 * len(values):
        return True
    naming = sum(1 for v in cells_ if any(key(w) in flag_words for w in split_words(v)))
    return bool(flag_words) and naming >= 0.3 * len(values)


def _digest(report: ImportReport, used: dict) -> str:
    """What the check's outcome depends on besides the file: each column's field, and for every word of
    the file looked up in the value mappings, what it was mapped to (or that it was not)."""
    state = {"columns": [[c.index, c.target or ""] for c in report.columns],
             "values": {f: sorted(words.items(), key=lambda kv: kv[0]) for f, words in sorted(used.items())}}
    return hashlib.sha256(json.dumps(state, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:32]


def _translate(col: Column, raw: str, words: dict, vmap: dict, used: dict | None = None) -> str:
    """The cell with a mapped word replaced by the registry's own (「工贸-粉尘涉爆」 → 轻工). Every word
    looked up is noted in ``used`` with its mapping (None: none), for the preview's digest."""
    if not raw or not col.domain:
        return raw
    chosen = vmap.get(col.field) or {}
    seen = used.setdefault(col.field, {}) if used is not None else {}
    if col.multi:
        parts = split_words(raw)
        for p in parts:
            if p:
                seen[key(p)] = chosen.get(key(p))
        if not chosen:
            return raw
        return ";".join(words.get(chosen.get(key(p), ""), p) for p in parts if p)
    target = seen[key(raw)] = chosen.get(key(raw))
    return words.get(target, raw) if target else raw



def _parse_rows(spec: Spec, report: ImportReport, rows, vmap: dict, used: dict) -> list[tuple[int, dict]]:
    index = {c.target: c for c in report.columns if c.target}
    by_header = {c.header: c for c in spec.columns}
    words = {c.field: domain_words(c.domain) for c in spec.columns if c.domain and c.field in vmap}
    parsed, seen = [], {}
    for rownum, cells in rows:
        values, ok = {}, True
        for col in spec.columns:
            fc = index.get(col.field)
            if fc is None:
                continue  # a column the file lacks changes nothing
            raw = cells[fc.index] if fc.index < len(cells) else ""
            if col.blank_keeps and not str(raw).strip():
                continue
            if col.required and not str(raw).strip():
                report.errors.append(RowError(rownum, fc.label, col.empty_message or _("required field is empty")))
                ok = False
                continue
            try:
                values[col.field] = col.parse(_translate(col, raw, words.get(col.field, {}), vmap, used))
            except UnknownValue as exc:
                report.errors.append(RowError(rownum, fc.label, exc.message, raw, col.field, exc.domain))
                ok = False
            except CellError as exc:
                report.errors.append(RowError(rownum, fc.label, exc.message, raw or None))
                ok = False
        if not ok:
            continue
        raw_of = {c.field: (cells[index[c.field].index] if index[c.field].index < len(cells) else "")
                  for c in spec.columns if c.field in index}
        try:
            values = spec.resolve(values)
        except (RowRefError, RowRefErrors) as exc:
            for ref in (exc.errors if isinstance(exc, RowRefErrors) else [exc]):
                col = by_header.get(ref.column)
                fc = index.get(col.field) if col else None
                label = fc.label if fc else ref.column
                if ref.domain and ref.values:
                    report.errors += [RowError(rownum, label, ref.message, v, col.field, ref.domain) for v in ref.values]
                else:
                    report.errors.append(RowError(rownum, label, ref.message, raw_of.get(col.field) if col else None))
            continue
        k = values[spec.key]
        if k in seen:
            fc = index[spec.key]
            report.errors.append(RowError(rownum, fc.label, _("duplicate of row %(n)d", n=seen[k]), k))
            continue
        seen[k] = rownum
        parsed.append((rownum, values))
    return parsed


def _plan(spec: Spec, parsed, report: ImportReport) -> None:
    keys = [values[spec.key] for _row, values in parsed]
    current = spec.existing(keys)
    for _row, values in parsed:
        before = current.get(values[spec.key])
        if before is None:
            report.created.append({**spec.defaults, **values})
        elif any(before.get(k) != v for k, v in values.items()):
            # Only what the file says changes; every other field keeps its value.
            report.updated.append((before, {f: values[f] if f in values else before[f] for f in spec.fields}))
        else:
            report.unchanged += 1


def changes(spec: Spec, report: ImportReport, limit: int = 20) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The first changed records as people read them: (record, [(field label, before, after)]), e.g.
    「重点监管单位：否 → 是」, an industry and a township by their names (issue #12 point 4)."""
    out = []
    for before, after in report.updated[:limit]:
        diffs = [(spec.label(k), spec.describe(k, before.get(k)), spec.describe(k, v))
                 for k, v in after.items() if before.get(k) != v and k != "id"]
        out.append((spec.record_name(after), diffs))
    return out


def chunks(seq, size=900):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def audit_rows(object_type: str, created: list, updated: list, ids: dict, key: str) -> None:
    """One trail entry per changed record: this is each record's change history."""
    changes = [(f"{object_type}.import_create", object_type, ids[v[key]], None, v) for v in created]
    changes += [(f"{object_type}.import_update", object_type, b["id"],
                 {k: b.get(k) for k in a}, a) for b, a in updated]
    record_many(changes)
