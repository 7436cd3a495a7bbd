#!/usr/bin/env bash
# Refresh the translation catalogs: extract every gettext string from webapp/ (babel.cfg) into
# webapp/translations/messages.pot, merge it into the Simplified Chinese catalog (created on the
# first run) and compile the .mo that is committed alongside the .po. Safe to run any number of
# times; an unchanged source tree leaves all three files byte-for-byte unchanged.
# After running it, fill the new empty msgstrs in
# webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po and run it again to compile them;
# tests/test_translations.py fails until the catalog is complete and compiled.
# Usage: bash scripts/i18n.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
[ -x "$PYBABEL" ] || PYBABEL=pybabel
DIR=webapp/translations
POT=$DIR/messages.pot
# Babel reads the app's "zh_CN" as zh_Hans_CN (CLDR likely subtags) and Flask-Babel looks the
# catalog up under that name, so the Simplified Chinese catalog must live in zh_Hans_CN/: a
# zh_CN/ folder is never found and the UI silently stays in English.
LOCALES=(zh_Hans_CN)

mkdir -p "$DIR"
"$PYBABEL" extract -F babel.cfg -o "$POT" \
  -k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k _l \
  --no-location --sort-output \
  --project ssj-inspect --version 0.1.0 --copyright-holder "ssj-inspect contributors" \
  .   # babel.cfg's patterns are relative to the repository root; hidden folders are skipped
# The POT header carries the extraction time; keep it stable so an unchanged source tree
# leaves the file untouched.
sed -i -E 's/^"POT-Creation-Date: .*\\n"$/"POT-Creation-Date: 2025-01-01 00:00+0000\\n"/' "$POT"

for locale in "${LOCALES[@]}"; do
  po=$DIR/$locale/LC_MESSAGES/messages.po
  if [ -f "$po" ]; then
    "$PYBABEL" update -i "$POT" -d "$DIR" -l "$locale" --no-fuzzy-matching --ignore-pot-creation-date
  else
    "$PYBABEL" init -i "$POT" -d "$DIR" -l "$locale"
  fi
done

"$PYBABEL" compile -d "$DIR" --statistics
