"""Checklists as data (R16): the shipped files validate, load, and versions are immutable."""
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp.checklists.loader import load_documents, load_folder, parse_file
from webapp.checklists.models import ChecklistVersion
from webapp.extensions import db
from webapp.registries.import_specs import ItemSpec
from webapp.registries.importing import run_import
from tests.factories import CHECKLIST_YAML, make_checklist, make_item, make_reference

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "checklists").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_checklist_is_valid(path):
    doc, errors = parse_file(path.name, path.read_bytes())
    assert errors == []
    assert all(q["basis"].strip() for q in doc["questions"])  # R16: every question has its article


def test_shipped_set_loads_against_the_demo_item_list(ctx):
    from webapp.demo.seed import COMPETENCES, DEPARTMENTS
    from webapp.registries.services import save_competence, save_department

    make_reference()
    for name in set(COMPETENCES) - {"危化", "工贸", "煤矿"}:
        save_competence(name)
    for name, kind in DEPARTMENTS:
        if name not in ("综合行政执法大队", "危险化学品安全监督管理股"):
            save_department(name, kind)
    assert run_import(ItemSpec(), "items.csv", (ROOT / "webapp/demo/items.csv").read_bytes()).ok
    report = load_folder(ROOT / "checklists")
    assert report.errors == [] and len(report.added) == len(SHIPPED)
    counts = {c.code: len(c.questions) for c in db.session.scalars(select(ChecklistVersion))}
    assert counts["hazchem"] == 20  # 化工和危险化学品 重大隐患判定标准: items (一)–(二十)
    assert counts["coal-std4"] == 15  # 令第4号: 15 areas
    old = db.session.scalar(select(ChecklistVersion).where(ChecklistVersion.code == "coal-std4"))
    from datetime import date

    assert not old.valid_on(date(2026, 11, 23)) and old.valid_on(date(2026, 6, 30))
    assert load_folder(ROOT / "checklists").unchanged  # loading again changes nothing


def test_same_version_with_other_content_is_refused(ctx):
    make_item("GM-GEN-01")
    make_checklist("GM-GEN-01", "1")
    changed = CHECKLIST_YAML.format(item="GM-GEN-01").replace("是否符合？", "改过的问题？")
    report = load_documents([("test-list@1.yaml", changed.encode())])
    assert report.errors and "new version" in report.errors[0] or "新版本" in report.errors[0]
    assert make_checklist("GM-GEN-01", "2").version == "2"  # a new version is fine, the old one stays
    assert len(db.session.scalars(select(ChecklistVersion)).all()) == 2


def test_unknown_item_and_bad_schema_load_nothing(ctx):
    make_item("GM-GEN-01")
    bad_item = CHECKLIST_YAML.format(item="NOPE-1")
    bad_schema = CHECKLIST_YAML.format(item="GM-GEN-01").replace("answer: choice", "answer: maybe")
    report = load_documents([("test-list@1.yaml", bad_item.encode()),
                             ("other@1.yaml", bad_schema.replace("test-list", "other").encode())])
    assert any("NOPE-1" in e for e in report.errors) and any("answer" in e for e in report.errors)
    assert db.session.scalars(select(ChecklistVersion)).all() == []


def test_file_name_must_match_code_and_version():
    _, errors = parse_file("wrong.yaml", CHECKLIST_YAML.format(item="X").encode())
    assert errors and "test-list@1.yaml" in errors[0]
