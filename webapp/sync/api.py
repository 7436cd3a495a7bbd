"""The sync API (``/api/v1``): JSON only, a bearer token, no cookie, no CSRF (docs/sync-api.md).

Every answer is JSON with the status that means it, so a phone behind a captive portal or a login
redirect (a 200 HTML page) never mistakes it for an acknowledgement.
"""
import re

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..access import public, token
from ..auth import known
from ..auth.services import Throttled, authenticate, user_id_of
from ..extensions import csrf
from ..services import ServiceError
from . import photos
from .auth import FIELD_ROLES, issue_token, json_error
from .openapi import SPEC
from .services import sync, tasks_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
#: ``bytes */total`` with no body: every byte is here, finish the upload (the server failed after the last piece).
FINISH_RE = re.compile(r"^bytes \*/(\d+)$")


@bp.post("/token")
@public
def issue():
    """Sign in from the app: username and password for a 30-day token, throttled like the login page
    (issue #11 point 8: 429 with Retry-After when refused unheard). The answer's ``device_key``, sent with
    the next sign-in, marks the phone as a device the account used before (it skips the account's delay)."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}  # a JSON array or scalar is no sign-in (issue #11 point 13)
    username, ip = str(body.get("username", "")), request.remote_addr or ""
    try:
        user = authenticate(username, str(body.get("password", "")), ip, kind="token",
                            known_device=known.is_known(user_id_of(username), body.get("device_key")))
    except Throttled as exc:
        response = json_error(429, "throttled", exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except ServiceError as exc:
        return json_error(401, "login", exc.message)
    try:
        raw, row = issue_token(user, str(body.get("device", "")), ip)
    except ServiceError as exc:
        return json_error(403, "role", exc.message)
    return jsonify({"token": raw, "expires_at": row.expires_at.isoformat(),
                    "device_key": known.device_key(user.id, body.get("device_key")),
                    "user": {"id": user.id, "name": user.display_name, "role": user.role,
                             "inspector_id": user.inspector_id}})


@bp.get("/tasks")
@token(*FIELD_ROLES)
def tasks():
    """The caller's dispatched tasks with enterprise, items, checklists and records synced so far."""
    return jsonify(tasks_for(g.api_user))


@bp.post("/sync")
@token(*FIELD_ROLES)
def upload():
    """Apply a batch of records; the reply names every uuid accepted, in conflict or rejected."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        return json_error(400, "body", _("Send JSON with a list of records."))
    return jsonify(sync(g.api_user, body["records"]))


@bp.get("/photos/<sha>")
@token(*FIELD_ROLES)
def photo_status(sha: str):
    """Whether the server holds this photo, else how many bytes of it (to resume a cut upload)."""
    if not photos.SHA_RE.match(sha):
        return _bad_sha()
    # Only for the caller's groups: anyone else is never told whether a hash exists (issue #11 point 4).
    if photos.visible_to(g.api_user, sha):
        return jsonify({"stored": True})
    return jsonify({"stored": False, "offset": photos.offset(g.api_user.id, sha)})


@bp.put("/photos/<sha>")
@token(*FIELD_ROLES)
def photo_put(sha: str):
    """A photo, whole or a piece (``Content-Range: bytes start-end/total``); stored once complete."""
    if not photos.SHA_RE.match(sha):
        return _bad_sha()
    if photos.visible_to(g.api_user, sha):  # held for the caller's group; for anyone else it is uploaded anew
        return jsonify({"stored": True}), 200
    body = request.get_data(cache=False)
    user_id = g.api_user.id
    finishing = FINISH_RE.match(request.headers.get("Content-Range", ""))
    if finishing:
        total = int(finishing.group(1))
    else:
        match = RANGE_RE.match(request.headers.get("Content-Range", ""))
        start, total = (int(match.group(1)), int(match.group(3))) if match else (0, len(body))
        try:
            received = photos.append(user_id, sha, start, total, body)
        except photos.PhotoBusy as exc:
            return json_error(429, "photo", exc.message)
        except photos.PhotoError as exc:
            return jsonify({"error": "offset", "message": exc.message, "offset": photos.offset(user_id, sha)}), 409
        if received < total:
            return jsonify({"stored": False, "offset": received}), 202
    try:
        photos.finish(user_id, sha, total)
    except photos.PhotoRetry as exc:
        return jsonify({"error": "offset", "message": exc.message, "offset": exc.offset}), 409
    except photos.PhotoError as exc:
        return json_error(422, "photo", exc.message)
    return jsonify({"stored": True}), 201


#: The most of a body nobody read that is read and dropped before answering: a whole photo piece.
DRAIN_MAX_BYTES = photos.MAX_PHOTO_BYTES + 1024 * 1024


@bp.after_app_request
def drain_unread_body(response):
    """Read and drop what is left of the request's body before answering (issue #11 point 14).

    A route that answers early (a photo already held, a bad hash, a bad token, a 404, bad JSON) leaves
    the body on the socket; gunicorn then closes the keep-alive connection after the answer (it drains
    at most 64 KB itself) and the phone's next request on it fails. The app cannot ask gunicorn to say
    ``Connection: close`` (it drops that header), so the body is read here, up to ``DRAIN_MAX_BYTES``;
    a larger one (no phone sends one) is left and its connection closes."""
    length = request.content_length
    if not length and not request.environ.get("wsgi.input_terminated"):
        return response  # no body (or one whose end only the server knows, and it did not say so)
    if length is not None and length > DRAIN_MAX_BYTES:
        return response
    try:
        stream, left = request.stream, DRAIN_MAX_BYTES
        while left > 0:
            chunk = stream.read(min(64 * 1024, left))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError, HTTPException):  # cut by the client, or over MAX_CONTENT_LENGTH
        pass
    return response


@bp.errorhandler(Exception)
def _failure(exc):
    """Any failure inside the API answers in JSON: the phone must see a server error as one, never as an
    HTML page it could mistake for a portal, and knows that nothing of the request was kept (the
    request's transaction rolled back), so it keeps everything and sends it again."""
    if isinstance(exc, HTTPException):
        return json_error(exc.code or 500, "http", exc.description or exc.name)
    current_app.logger.exception("sync API failure")
    return json_error(500, "server", _("The server failed; nothing from this request was stored. "
                                       "The phone keeps everything and sends it again."))


def _bad_sha():
    return json_error(400, "photo", _("A photo is named by the SHA-256 of its bytes (64 lowercase hex characters)."))


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(SPEC)
