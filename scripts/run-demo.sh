#!/usr/bin/env bash
# Install everything into .venv, build the SQLite database, fill it with the demo county, run the app.
# Usage: bash scripts/run-demo.sh   (then open http://127.0.0.1:5000; accounts in README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
export FLASK_APP=wsgi
# The demo is served over plain HTTP: cookies marked Secure would not come back (README, "Configuration").
export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-0}"
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo
exec .venv/bin/flask run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
