"""All-or-nothing import of the three registries (一单两库) from XLSX or CSV.

A run reads every row, checks every cell, every duplicate and every reference, and only
if nothing is wrong writes all of it in one transaction with one audit entry per changed
row (their change history). Otherwise it returns every bad row with its reason.
"""
import hashlib
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..audit.services import record, record_many
from ..services import ServiceError, transaction
from .cells import CellError
from .tabular import read_table


@dataclass
class Column:
    header: str  #: Chinese header as in the office's spreadsheet
    field: str
    parse: object
    required: bool = False  #: the header must be present and the cell filled
    empty_message: str | None = None  #: why an empty required cell is refused, if not the default
    #: A blank cell means "no change" (a new record takes the default), not "empty".
    blank_keeps: bool = False


@dataclass
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = _("row %(n)d", n=self.row)
        return f"{where}{('「' + self.column + '」') if self.column else ''}：{self.message}"


@dataclass
class ImportReport:
    kind: str
    filename: str
    rows: int = 0
    created: list = field(default_factory=list)  #: new records (key, values)
    updated: list = field(default_factory=list)  #: (key, before, after)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class Spec:
    """What one registry's file looks like and how its rows become records."""

    kind: str
    columns: list[Column]
    key: str
    #: Every field of a record, and what a new record gets for a column the file lacks.
    fields: tuple[str, ...]
    defaults: dict

    def load_refs(self) -> None:
        """Load the reference tables a row may name (regions, departments …)."""

    def resolve(self, values: dict) -> dict:
        """Turn parsed cells into record values; raise CellError(column header …)."""
        return values

    def existing(self, keys: list) -> dict:
        """Current values of the records with these keys, as comparable dicts."""
        raise NotImplementedError

    def apply(self, created: list, updated: list) -> None:
        raise NotImplementedError

    def missing_headers(self, present: set) -> list[str]:
        return [c.header for c in self.columns if c.required and c.header not in present]


class RowRefError(CellError):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


def run_import(spec: Spec, filename: str, data: bytes, commit: bool = True) -> ImportReport:
    """Check the whole file; write it only when ``commit`` and no row is bad."""
    report = ImportReport(spec.kind, filename)
    try:
        header, rows = read_table(filename, data)
    except ServiceError as exc:
        report.errors.append(RowError(0, None, exc.message))
        return report
    report.rows = len(rows)
    missing = spec.missing_headers(set(header))
    if missing:
        report.errors.append(RowError(1, None, _("required columns missing: %(c)s", c="、".join(missing))))
        return report
    known = {c.header for c in spec.columns}
    report.ignored_headers = [h for h in header if h and h not in known]
    index = {h: i for i, h in enumerate(header) if h in known}
    spec.load_refs()
    parsed = _parse_rows(spec, index, rows, report)
    if report.errors:
        return report
    _plan(spec, parsed, report)
    if commit and (report.created or report.updated):
        with transaction():
            spec.apply(report.created, report.updated)
            record("registry.import", "registry", spec.kind, None, {
                "filename": filename, "file_sha256": hashlib.sha256(data).hexdigest(), "rows": report.rows,
                "created": len(report.created), "updated": len(report.updated),
                "unchanged": report.unchanged})
        report.committed = True
    return report


def _parse_rows(spec: Spec, index: dict, rows, report: ImportReport) -> list[tuple[int, dict]]:
    parsed, seen = [], {}
    for rownum, cells in rows:
        values, ok = {}, True
        for col in spec.columns:
            pos = index.get(col.header)
            if pos is None:
                continue  # a column the file lacks changes nothing
            raw = cells[pos] if pos < len(cells) else ""
            if col.blank_keeps and not str(raw).strip():
                continue
            if col.required and not str(raw).strip():
                report.errors.append(RowError(rownum, col.header, col.empty_message or _("required field is empty")))
                ok = False
                continue
            try:
                values[col.field] = col.parse(raw)
            except CellError as exc:
                report.errors.append(RowError(rownum, col.header, exc.message))
                ok = False
        if not ok:
            continue
        try:
            values = spec.resolve(values)
        except RowRefError as exc:
            report.errors.append(RowError(rownum, exc.column, exc.message))
            continue
        key = values[spec.key]
        if key in seen:
            header = next(c.header for c in spec.columns if c.field == spec.key)
            report.errors.append(RowError(rownum, header, _("duplicate of row %(n)d", n=seen[key])))
            continue
        seen[key] = rownum
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


def chunks(seq, size=900):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def audit_rows(object_type: str, created: list, updated: list, ids: dict, key: str) -> None:
    """One trail entry per changed record: this is each record's change history."""
    changes = [(f"{object_type}.import_create", object_type, ids[v[key]], None, v) for v in created]
    changes += [(f"{object_type}.import_update", object_type, b["id"],
                 {k: b.get(k) for k in a}, a) for b, a in updated]
    record_many(changes)

