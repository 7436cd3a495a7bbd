"""Serves the offline app in ``pwa/`` under ``/app/`` (its own scope, so the service worker caches
only the app shell and never the back office)."""
import functools
import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, send_from_directory

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


def shell_version() -> str:
    """The shell's version: a hash of every shell file and the worker itself. Any change to the app
    changes the worker's bytes, so browsers install the new worker (which waits for the inspector)."""
    files = [PWA_DIR / name for name in (*SHELL, "sw.js")]
    return _hash(tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))


@functools.lru_cache(maxsize=8)
def _hash(stamps: tuple) -> str:
    """Hashed once per set of files as they stand (browsers ask for the worker on every launch)."""
    digest = hashlib.sha256()
    for path, _mtime, _size in stamps:
        digest.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes())
    return "ssj-shell-" + digest.hexdigest()[:12]


def _send(name: str):
    if name == "sw.js":
        files = json.dumps(["/app/", *(f"/app/{n}" for n in SHELL)])
        body = ((PWA_DIR / name).read_text(encoding="utf-8").replace('"ssj-shell-dev"', f'"{shell_version()}"')
                .replace('["ssj-shell-files"]', files))
        return Response(body, mimetype="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app/"})
    response = send_from_directory(PWA_DIR, name, max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # the service worker decides what is cached
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
