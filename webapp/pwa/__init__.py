"""Serves the offline app in ``pwa/`` under ``/app/`` (its own scope, so the service worker caches
only the app shell and never the back office)."""
from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory

from ..access import public

PWA_DIR = Path(__file__).resolve().parents[2] / "pwa"
SHELL = ("index.html", "app.js", "db.js", "sync.js", "photo.js", "app.css", "manifest.webmanifest",
         "icons/icon-192.png", "icons/icon-512.png")
bp = Blueprint("pwa", __name__, url_prefix="/app")


@bp.get("/")
@public
def index():
    """The app shell; it holds no data (that comes from the sync API with the phone's token)."""
    return _send("index.html")


@bp.get("/<path:name>")
@public
def asset(name: str):
    if name not in SHELL and name != "sw.js":
        abort(404)
    return _send(name)


def _send(name: str):
    response = send_from_directory(PWA_DIR, name, max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # the service worker decides what is cached
    if name == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/app/"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
