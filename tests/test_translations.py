"""The zh_CN catalog is complete, compiled and in step with the source strings.

When a test here fails after you added or changed a UI string, run ``bash scripts/i18n.sh``,
translate the new entries in webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po, and run the
script again so that the committed .pot, .po and .mo agree.
"""
import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
#: Babel normalises the app's "zh_CN" to zh_Hans_CN, the folder Flask-Babel looks in.
CATALOG = TRANSLATIONS / str(Locale.parse("zh_CN")) / "LC_MESSAGES"
PO = CATALOG / "messages.po"
MO = CATALOG / "messages.mo"
#: The keywords scripts/i18n.sh passes to ``pybabel extract`` (on top of Babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
#: A printf-style placeholder as Python's ``%`` operator reads it, ``%%`` included.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
FIX = "run `bash scripts/i18n.sh`, translate the new entries in the zh_Hans_CN messages.po, then run it again"


def _key(message_id, context=None):
    """Catalog key of a message: its context and (for plurals) its singular msgid."""
    singular = message_id[0] if isinstance(message_id, (tuple, list)) else message_id
    return context, singular


def _read_po(path):
    with path.open("rb") as f:
        return read_po(f)


def _entries(catalog):
    """The real messages of a catalog (header and obsolete entries left out)."""
    return [m for m in catalog if m.id]


@pytest.fixture(scope="module")
def po():
    return _read_po(PO)


@pytest.fixture(scope="module")
def extracted():
    """Every msgid in the sources, extracted in-process with babel.cfg as scripts/i18n.sh does."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    webapp = ROOT / "webapp"

    def only_webapp(dirpath):
        # Like ``pybabel extract``: hidden folders are skipped; and only webapp/ holds strings.
        path = (ROOT / dirpath).resolve()
        return not path.name.startswith(".") and (path == webapp or webapp in path.parents)

    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=only_webapp):
        found.setdefault(_key(message, context), f"{filename}:{lineno}")
    assert found, "extraction found no strings: is babel.cfg right?"
    return found


def _describe(keys, where=None):
    lines = []
    for context, msgid in sorted(keys, key=lambda k: (k[1], k[0] or "")):
        text = repr(msgid) if context is None else f"{msgid!r} (context {context!r})"
        lines.append(f"  {text}" + (f"  [{where[(context, msgid)]}]" if where else ""))
    return "\n".join(lines)


def test_every_message_is_translated_and_none_is_fuzzy(po):
    assert not po.fuzzy, "the catalog header is marked fuzzy: remove the '#, fuzzy' flag"
    entries = _entries(po)
    assert entries, "the zh_CN catalog is empty"
    untranslated = [m.id for m in entries
                    if not (all(m.string) if isinstance(m.string, (tuple, list)) else m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not untranslated, f"msgids without a translation ({FIX}):\n" + "\n".join(
        f"  {i!r}" for i in untranslated)
    assert not fuzzy, "fuzzy entries (check the translation, then drop '#, fuzzy'):\n" + "\n".join(
        f"  {i!r}" for i in fuzzy)


def test_compiled_catalog_matches_the_po(po):
    with MO.open("rb") as f:
        mo = read_mo(f)
    # ``pybabel compile`` leaves out untranslated and fuzzy entries; the first test reports those.
    expected = {_key(m.id, m.context): m.string for m in _entries(po)
                if not m.fuzzy and (all(m.string) if isinstance(m.string, (tuple, list)) else m.string)}
    compiled = {_key(m.id, m.context): m.string for m in _entries(mo)}
    stale = {k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)}
    assert not stale, (
        "messages.mo is out of date with messages.po; run `bash scripts/i18n.sh` "
        "(or `pybabel compile -d webapp/translations`). Differing msgids:\n" + _describe(stale))


def test_catalog_has_every_string_in_the_sources(po, extracted):
    have = {_key(m.id, m.context) for m in _entries(po)}
    missing = set(extracted) - have
    assert not missing, f"strings in the code that the zh_CN catalog lacks ({FIX}):\n" + _describe(
        missing, extracted)


def test_template_is_up_to_date_with_the_sources(extracted):
    pot = {_key(m.id, m.context) for m in _entries(_read_po(POT))}
    missing, stale = set(extracted) - pot, pot - set(extracted)
    assert not (missing or stale), (
        f"messages.pot is out of date ({FIX}).\n"
        + (f"Not in messages.pot:\n{_describe(missing, extracted)}\n" if missing else "")
        + (f"No longer in the sources:\n{_describe(stale)}\n" if stale else ""))


def test_placeholders_are_kept(po):
    wrong = []
    for m in _entries(po):
        ids = m.id if isinstance(m.id, (tuple, list)) else (m.id,)
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        # Python only interprets %-sequences in strings that have placeholders (python-format);
        # Jinja's gettext applies ``%`` to every string, so compare all of them.
        want = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            got = sorted(PLACEHOLDER.findall(string))
            if got != want:
                wrong.append(f"  {m.id!r}: msgid has {want}, msgstr {string!r} has {got}")
    errors = [f"  {m.id!r}: {'; '.join(str(e) for e in errs)}" for m, errs in po.check()]
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)
    assert not errors, "Babel's catalog checks failed:\n" + "\n".join(errors)


def test_default_locale_shows_chinese(app):
    from flask_babel import get_locale, gettext

    with app.test_request_context():
        assert get_locale() == Locale.parse(app.config["BABEL_DEFAULT_LOCALE"]) == Locale.parse("zh_CN")
        assert gettext("Enterprise pool") == "检查对象名录库"
        assert gettext("Double-random, one-public") == "双随机、一公开"
        assert gettext("Version %(n)d", n=3) == "第 3 版"


def test_templates_and_lazy_strings_follow_the_locale(app):
    from flask import render_template_string, session

    from webapp.registries.vocab import METHOD_LABELS

    with app.test_request_context():
        # Jinja's gettext always applies %, so a literal "%%" in a msgid shows as one "%".
        assert render_template_string('{{ _("below the required 70 %%") }}') == "低于要求的 70 %"
        assert str(METHOD_LABELS["onsite"]) == "现场检查"
    with app.test_request_context():
        session["lang"] = "en"
        assert render_template_string('{{ _("Enterprise pool") }}') == "Enterprise pool"
        assert str(METHOD_LABELS["onsite"]) == "On-site"
