#!/usr/bin/env bash
# Refresh the translation catalogs: extract every gettext string from webapp/ into
# webapp/translations/messages.pot, merge it into the zh_CN catalog (created on the first run)
# and compile the .mo that is committed alongside the .po. Safe to run any number of times.
# After running it, translate the new (empty or "#, fuzzy") entries in
# webapp/translations/zh_CN/LC_MESSAGES/messages.po and run it again to compile them.
# Usage: bash scripts/i18n.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
[ -x "$PYBABEL" ] || PYBABEL=pybabel
DIR=webapp/translations
POT=$DIR/messages.pot
LOCALES=(zh_CN)

mkdir -p "$DIR"
"$PYBABEL" extract -F babel.cfg -o "$POT" \
  -k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k _l \
  --no-location --sort-output \
  --project ssj-inspect --version 0.1.0 --copyright-holder "ssj-inspect contributors" \
  .
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
